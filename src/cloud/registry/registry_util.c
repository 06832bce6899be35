/* See registry_priv.h: SQL helpers and argument checks of the SQLite backend. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/registry/registry_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <string.h>
#include <time.h>

int imago_reg_sqlite_err(sqlite3 *db, int rc)
{
        switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return IMAGO_EREG_BUSY;
        case SQLITE_CONSTRAINT:
                return IMAGO_EEXIST;
        case SQLITE_NOMEM:
                return IMAGO_ENOMEM;
        default:
                IMAGO_ERR("sqlite: %s", db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
                return IMAGO_EREG_DB;
        }
}

int imago_reg_exec(sqlite3 *db, const char *sql)
{
        int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

        return rc == SQLITE_OK ? 0 : imago_reg_sqlite_err(db, rc);
}

int imago_reg_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
        int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);

        return rc == SQLITE_OK ? 0 : imago_reg_sqlite_err(db, rc);
}

int imago_reg_step_done(sqlite3 *db, sqlite3_stmt *st)
{
        int rc = sqlite3_step(st);

        return rc == SQLITE_DONE ? 0 : imago_reg_sqlite_err(db, rc);
}

int imago_reg_begin(struct imago_registry *reg, int write)
{
        return imago_reg_exec(reg->db, write ? "BEGIN IMMEDIATE" : "BEGIN");
}

int imago_reg_end(struct imago_registry *reg, int r)
{
        int r2;

        if (r == 0) {
                if ((r2 = imago_reg_exec(reg->db, "COMMIT")) == 0)
                        return 0;
                r = r2;
        }
        if (sqlite3_get_autocommit(reg->db) == 0)
                (void)sqlite3_exec(reg->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
}

int imago_reg_state_of(struct imago_registry *reg, const char *id, enum imago_reg_state *state)
{
        sqlite3_stmt *st = NULL;
        int r, rc;

        if ((r = imago_reg_prepare(reg->db, "SELECT state FROM devices WHERE id = ?1", &st)) != 0)
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
        *state = (enum imago_reg_state)sqlite3_column_int(st, 0);
        r = 0;
out:
        sqlite3_finalize(st);
        return r;
}

int64_t imago_reg_now(void)
{
        return (int64_t)time(NULL);
}

static int all_of(const char *s, size_t min, size_t max, const char *set)
{
        size_t n;

        if (s == NULL)
                return IMAGO_EINVAL;
        n = strnlen(s, max + 1);
        if (n < min || n > max || strspn(s, set) != n)
                return IMAGO_EINVAL;
        return 0;
}

int imago_reg_check_id(const char *id)
{
        return all_of(id, IMAGO_REG_ID_LEN, IMAGO_REG_ID_LEN, "0123456789abcdef");
}

int imago_reg_check_batch(const char *batch)
{
        return all_of(batch, 1, IMAGO_REG_BATCH_MAX,
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
}

int imago_reg_check_serial(const char *serial)
{
        return all_of(serial, 1, IMAGO_REG_SERIAL_MAX, "0123456789abcdef");
}

int imago_reg_check_reason(const char *reason)
{
        size_t i, n;

        if (reason == NULL)
                return IMAGO_EINVAL;
        n = strnlen(reason, IMAGO_REG_REASON_MAX + 1);
        if (n == 0 || n > IMAGO_REG_REASON_MAX)
                return IMAGO_EINVAL;
        for (i = 0; i < n; i++)
                if ((unsigned char)reason[i] < 0x20 || (unsigned char)reason[i] > 0x7e)
                        return IMAGO_EINVAL;
        return 0;
}

int imago_reg_check_pem(const char *pem)
{
        static const char begin[] = "-----BEGIN CERTIFICATE-----";
        size_t n;

        if (pem == NULL)
                return IMAGO_EINVAL;
        n = strnlen(pem, IMAGO_REG_PEM_MAX + 1);
        if (n > IMAGO_REG_PEM_MAX || strncmp(pem, begin, sizeof(begin) - 1) != 0)
                return IMAGO_EINVAL;
        return 0;
}
