/* See rollout.h: opening and closing rollout.db, SQL helpers, the statement cache. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/rollout/rollout_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int imago_rollout_sqlite_err(sqlite3 *db, int rc)
{
        switch (rc & 0xff) {
        case SQLITE_CONSTRAINT:
                return IMAGO_EEXIST;
        case SQLITE_NOMEM:
                return IMAGO_ENOMEM;
        default:
                IMAGO_ERR("rollout.db: %s", db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
                return IMAGO_EREG_DB;
        }
}

int imago_rollout_stmt(struct imago_rollout *ro, enum imago_rollout_sql id, sqlite3_stmt **st)
{
        const char *text = imago_rollout_sql_text(id);
        int rc;

        *st = NULL;
        if (text == NULL)
                return IMAGO_EREG_DB;
        if (ro->stmt[id] == NULL) {
                rc = sqlite3_prepare_v3(ro->db, text, -1, SQLITE_PREPARE_PERSISTENT, &ro->stmt[id],
                                        NULL);
                if (rc != SQLITE_OK) {
                        sqlite3_finalize(ro->stmt[id]);
                        ro->stmt[id] = NULL;
                        return imago_rollout_sqlite_err(ro->db, rc);
                }
        }
        *st = ro->stmt[id];
        return 0;
}

void imago_rollout_stmt_put(sqlite3_stmt *st)
{
        if (st == NULL)
                return;
        (void)sqlite3_reset(st);
        (void)sqlite3_clear_bindings(st);
}

int imago_rollout_step_done(struct imago_rollout *ro, sqlite3_stmt *st)
{
        int rc = sqlite3_step(st);

        return rc == SQLITE_DONE ? 0 : imago_rollout_sqlite_err(ro->db, rc);
}

int imago_rollout_step_row(struct imago_rollout *ro, sqlite3_stmt *st)
{
        int rc = sqlite3_step(st);

        if (rc == SQLITE_ROW)
                return 0;
        if (rc == SQLITE_DONE)
                return IMAGO_ENOTFOUND;
        return imago_rollout_sqlite_err(ro->db, rc);
}

static int run(struct imago_rollout *ro, enum imago_rollout_sql id)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_rollout_stmt(ro, id, &st)) == 0)
                r = imago_rollout_step_done(ro, st);
        imago_rollout_stmt_put(st);
        return r;
}

int imago_rollout_begin(struct imago_rollout *ro)
{
        return run(ro, IMAGO_ROLLOUT_SQL_BEGIN_WRITE);
}

int imago_rollout_end(struct imago_rollout *ro, int r)
{
        int r2;

        if (r == 0) {
                if ((r2 = run(ro, IMAGO_ROLLOUT_SQL_COMMIT)) == 0)
                        return 0;
                r = r2;
        }
        if (sqlite3_get_autocommit(ro->db) == 0)
                (void)run(ro, IMAGO_ROLLOUT_SQL_ROLLBACK);
        return r;
}

static int create_private(const char *path)
{
        int fd;

        /* sqlite would create the file with the umask's mode; rollout.db is 0600 */
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                IMAGO_ERR("rollout.db %s: %s", path, strerror(errno));
                return errno == ENOENT ? IMAGO_ENOTFOUND : IMAGO_EIO;
        }
        close(fd);
        return 0;
}

static int exec(sqlite3 *db, const char *sql)
{
        int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

        return rc == SQLITE_OK ? 0 : imago_rollout_sqlite_err(db, rc);
}

static int setup(struct imago_rollout *ro)
{
        sqlite3_stmt *st = NULL;
        int r, rc;

        sqlite3_busy_timeout(ro->db, IMAGO_ROLLOUT_BUSY_MS);
        if ((r = exec(ro->db, "PRAGMA foreign_keys = ON")) != 0)
                return r;
        if ((r = exec(ro->db, "PRAGMA synchronous = FULL")) != 0)
                return r;
        rc = sqlite3_prepare_v2(ro->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return imago_rollout_sqlite_err(ro->db, rc);
        if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_text(st, 0) == NULL ||
            strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
                sqlite3_finalize(st);
                IMAGO_ERR("rollout.db: cannot switch to WAL mode");
                return IMAGO_EREG_DB;
        }
        sqlite3_finalize(st);
        if ((r = imago_rollout_begin(ro)) != 0)
                return r;
        return imago_rollout_end(ro, imago_rollout_schema_migrate(ro->db));
}

int imago_rollout_open(const char *path, struct imago_rollout **out)
{
        struct imago_rollout *ro = NULL;
        int r, rc;

        if (path == NULL || path[0] == '\0' || out == NULL)
                return IMAGO_EINVAL;
        *out = NULL;
        if ((r = create_private(path)) != 0)
                return r;
        if ((ro = calloc(1, sizeof(*ro))) == NULL)
                return IMAGO_ENOMEM;
        rc = sqlite3_open_v2(path, &ro->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                             NULL);
        if (rc != SQLITE_OK) {
                r = imago_rollout_sqlite_err(ro->db, rc);
                goto out;
        }
        if ((r = setup(ro)) != 0)
                goto out;
        *out = ro;
        ro = NULL;
out:
        imago_rollout_close(ro);
        return r;
}

void imago_rollout_close(struct imago_rollout *ro)
{
        size_t i;

        if (ro == NULL)
                return;
        for (i = 0; i < IMAGO_ROLLOUT_SQL_COUNT; i++)
                sqlite3_finalize(ro->stmt[i]);
        if (ro->db != NULL && sqlite3_close(ro->db) != SQLITE_OK)
                IMAGO_ERR("rollout.db: close: %s", sqlite3_errmsg(ro->db));
        free(ro);
}
