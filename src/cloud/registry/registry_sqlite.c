/* See registry.h: opening the SQLite backend, import, lookups. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/registry/registry_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define URI_SQLITE   "sqlite:"
#define URI_POSTGRES "postgres:"

/* Columns read by read_device(), in this order. */
#define DEVICE_COLUMNS                                                                             \
        "d.id, d.state, d.batch, d.birth_serial, d.key_hash, d.cert_serial, d.enrolled_at,"        \
        " d.reason, c.pem, d.rotate_requested FROM devices d LEFT JOIN certs c ON c.serial = "     \
        "d.cert_serial"

static int create_private(const char *path)
{
        int fd;

        /* sqlite would create the file with the umask's mode; the registry is 0600 */
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                IMAGO_ERR("registry %s: %s", path, strerror(errno));
                return errno == ENOENT ? IMAGO_ENOTFOUND : IMAGO_EIO;
        }
        close(fd);
        return 0;
}

static int setup(struct imago_registry *reg)
{
        sqlite3_stmt *st = NULL;
        int r;

        sqlite3_busy_timeout(reg->db, IMAGO_REG_BUSY_MS);
        if ((r = imago_reg_exec(reg->db, "PRAGMA foreign_keys = ON")) != 0)
                goto out;
        if ((r = imago_reg_exec(reg->db, "PRAGMA synchronous = FULL")) != 0)
                goto out;
        if ((r = imago_reg_prepare(reg->db, "PRAGMA journal_mode = WAL", &st)) != 0)
                goto out;
        if (sqlite3_step(st) != SQLITE_ROW ||
            strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
                IMAGO_ERR("registry: cannot switch to WAL mode");
                r = IMAGO_EREG_DB;
                goto out;
        }
        sqlite3_finalize(st);
        st = NULL;
        if ((r = imago_reg_begin(reg, 1)) != 0)
                goto out;
        r = imago_reg_end(reg, imago_reg_schema_migrate(reg->db, imago_reg_now()));
out:
        sqlite3_finalize(st);
        return r;
}

/* An existing registry has the migrations table (a 0-byte or foreign file does not). */
static int check_existing(struct imago_registry *reg)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_reg_prepare(reg->db,
                                   "SELECT count(*) FROM sqlite_master"
                                   " WHERE type = 'table' AND name = 'schema_migrations'",
                                   &st)) != 0)
                goto out;
        if (sqlite3_step(st) != SQLITE_ROW) {
                r = imago_reg_sqlite_err(reg->db, sqlite3_errcode(reg->db));
                goto out;
        }
        r = sqlite3_column_int(st, 0) == 1 ? 0 : IMAGO_ENOTFOUND;
out:
        sqlite3_finalize(st);
        return r;
}

static int open_uri(const char *uri, int create, struct imago_registry **out)
{
        struct imago_registry *reg = NULL;
        const char *path;
        int r, rc;

        if (uri == NULL || out == NULL)
                return IMAGO_EINVAL;
        *out = NULL;
        if (strncmp(uri, URI_POSTGRES, sizeof(URI_POSTGRES) - 1) == 0) {
                r = IMAGO_EUNSUPPORTED;
                goto out;
        }
        if (strncmp(uri, URI_SQLITE, sizeof(URI_SQLITE) - 1) != 0 ||
            uri[sizeof(URI_SQLITE) - 1] == '\0') {
                r = IMAGO_EINVAL;
                goto out;
        }
        path = uri + sizeof(URI_SQLITE) - 1;
        if (create && (r = create_private(path)) != 0)
                goto out;
        if (!create && access(path, F_OK) != 0) {
                r = IMAGO_ENOTFOUND;
                goto out;
        }
        if ((reg = calloc(1, sizeof(*reg))) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        rc = sqlite3_open_v2(path, &reg->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                             NULL);
        if (rc != SQLITE_OK) {
                r = imago_reg_sqlite_err(reg->db, rc);
                goto out;
        }
        if (!create && (r = check_existing(reg)) != 0)
                goto out;
        if ((r = setup(reg)) != 0)
                goto out;
        *out = reg;
        reg = NULL;
out:
        imago_registry_close(reg);
        return r;
}

int imago_registry_open(const char *uri, struct imago_registry **out)
{
        return open_uri(uri, 1, out);
}

int imago_registry_open_existing(const char *uri, struct imago_registry **out)
{
        return open_uri(uri, 0, out);
}

void imago_registry_close(struct imago_registry *reg)
{
        if (reg == NULL)
                return;
        sqlite3_close(reg->db);
        free(reg);
}

int imago_registry_schema_version(struct imago_registry *reg, int *version)
{
        sqlite3_stmt *st = NULL;
        int r;

        if (reg == NULL || version == NULL)
                return IMAGO_EINVAL;
        if ((r = imago_reg_prepare(
                 reg->db, "SELECT coalesce(max(version), 0) FROM schema_migrations", &st)) != 0)
                goto out;
        if (sqlite3_step(st) != SQLITE_ROW) {
                r = imago_reg_sqlite_err(reg->db, sqlite3_errcode(reg->db));
                goto out;
        }
        *version = sqlite3_column_int(st, 0);
        r = 0;
out:
        sqlite3_finalize(st);
        return r;
}

static int import_tx(struct imago_registry *reg, const char *batch, const char *id,
                     const char *birth_serial)
{
        sqlite3_stmt *st = NULL;
        int64_t now = imago_reg_now();
        int r;

        if ((r = imago_reg_prepare(reg->db,
                                   "INSERT INTO devices(id, state, batch, birth_serial,"
                                   " imported_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                                   &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, IMAGO_REG_IMPORTED);
        sqlite3_bind_text(st, 3, batch, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, birth_serial, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, now);
        r = imago_reg_step_done(reg->db, st);
out:
        sqlite3_finalize(st);
        return r;
}

int imago_registry_import(struct imago_registry *reg, const char *batch, const char *id,
                          const char *birth_serial)
{
        int r;

        if (reg == NULL || imago_reg_check_batch(batch) != 0 || imago_reg_check_id(id) != 0 ||
            imago_reg_check_serial(birth_serial) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_reg_begin(reg, 1)) != 0)
                return r;
        return imago_reg_end(reg, import_tx(reg, batch, id, birth_serial));
}

static int copy_text(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
        const unsigned char *s = sqlite3_column_text(st, col);
        size_t n = (size_t)sqlite3_column_bytes(st, col);

        if (s == NULL) {
                dst[0] = '\0';
                return 0;
        }
        if (n >= cap)
                return IMAGO_EREG_DB;
        memcpy(dst, s, n);
        dst[n] = '\0';
        return 0;
}

static int read_device(sqlite3_stmt *st, struct imago_reg_device *d)
{
        const void *hash;
        const unsigned char *pem;
        int r;

        memset(d, 0, sizeof(*d));
        if ((r = copy_text(st, 0, d->id, sizeof(d->id))) != 0 ||
            (r = copy_text(st, 2, d->batch, sizeof(d->batch))) != 0 ||
            (r = copy_text(st, 3, d->birth_serial, sizeof(d->birth_serial))) != 0 ||
            (r = copy_text(st, 5, d->cert_serial, sizeof(d->cert_serial))) != 0 ||
            (r = copy_text(st, 7, d->reason, sizeof(d->reason))) != 0)
                goto out;
        d->state = (enum imago_reg_state)sqlite3_column_int(st, 1);
        hash = sqlite3_column_blob(st, 4);
        if (hash != NULL && sqlite3_column_bytes(st, 4) == (int)sizeof(d->key_hash))
                memcpy(d->key_hash, hash, sizeof(d->key_hash));
        d->enrolled_at = sqlite3_column_int64(st, 6);
        d->rotate_requested = sqlite3_column_int64(st, 9);
        pem = sqlite3_column_text(st, 8);
        if (pem != NULL && d->cert_serial[0] != '\0') {
                if ((d->cert_pem = strdup((const char *)pem)) == NULL) {
                        r = IMAGO_ENOMEM;
                        goto out;
                }
        }
        r = 0;
out:
        if (r != 0)
                imago_registry_device_free(d);
        return r;
}

static int get_tx(struct imago_registry *reg, const char *id, struct imago_reg_device *out)
{
        sqlite3_stmt *st = NULL;
        int r, rc;

        if ((r = imago_reg_prepare(reg->db, "SELECT " DEVICE_COLUMNS " WHERE d.id = ?1", &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
                r = IMAGO_EREG_UNKNOWN;
                goto out;
        }
        if (rc != SQLITE_ROW) {
                r = imago_reg_sqlite_err(reg->db, rc);
                goto out;
        }
        r = read_device(st, out);
out:
        sqlite3_finalize(st);
        return r;
}

int imago_registry_get(struct imago_registry *reg, const char *id, struct imago_reg_device *out)
{
        int r;

        if (reg == NULL || out == NULL)
                return IMAGO_EINVAL;
        memset(out, 0, sizeof(*out));
        if (imago_reg_check_id(id) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_reg_begin(reg, 0)) != 0)
                return r;
        return imago_reg_end(reg, get_tx(reg, id, out));
}

void imago_registry_device_free(struct imago_reg_device *d)
{
        if (d == NULL)
                return;
        free(d->cert_pem);
        d->cert_pem = NULL;
}

static int list_tx(struct imago_registry *reg, imago_reg_device_cb cb, void *arg)
{
        struct imago_reg_device d;
        sqlite3_stmt *st = NULL;
        int r, rc;

        if ((r = imago_reg_prepare(reg->db, "SELECT " DEVICE_COLUMNS " ORDER BY d.id", &st)) != 0)
                goto out;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if ((r = read_device(st, &d)) != 0)
                        goto out;
                r = cb(&d, arg);
                imago_registry_device_free(&d);
                if (r != 0)
                        goto out;
        }
        r = rc == SQLITE_DONE ? 0 : imago_reg_sqlite_err(reg->db, rc);
out:
        sqlite3_finalize(st);
        return r;
}

int imago_registry_list(struct imago_registry *reg, imago_reg_device_cb cb, void *arg)
{
        int r, r2;

        if (reg == NULL || cb == NULL)
                return IMAGO_EINVAL;
        if ((r = imago_reg_begin(reg, 0)) != 0)
                return r;
        r = list_tx(reg, cb, arg);
        /* a callback's stop value is returned as is; the read transaction just ends */
        r2 = imago_reg_end(reg, 0);
        return r != 0 ? r : r2;
}

const char *imago_reg_state_name(enum imago_reg_state s)
{
        switch (s) {
        case IMAGO_REG_IMPORTED:
                return "imported";
        case IMAGO_REG_ENROLLED:
                return "enrolled";
        case IMAGO_REG_SUSPENDED:
                return "suspended";
        case IMAGO_REG_REVOKED:
                return "revoked";
        }
        return "unknown";
}
