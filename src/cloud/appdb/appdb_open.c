/* See appdb.h: opening and closing DIR/app.db. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/appdb/appdb_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int create_private(const char *path)
{
        int fd;

        /* sqlite would create the file with the umask's mode; app.db is 0600 */
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                IMAGO_ERR("app.db %s: %s", path, strerror(errno));
                return errno == ENOENT ? IMAGO_ENOTFOUND : IMAGO_EIO;
        }
        close(fd);
        return 0;
}

static int setup(struct imago_appdb *db)
{
        sqlite3_stmt *st = NULL;
        int r, rc;

        sqlite3_busy_timeout(db->db, IMAGO_APPDB_BUSY_MS);
        if ((r = imago_appdb_exec(db->db, "PRAGMA foreign_keys = ON")) != 0)
                goto out;
        if ((r = imago_appdb_exec(db->db, "PRAGMA synchronous = FULL")) != 0)
                goto out;
        /* once per handle: these settings hold for the connection's life */
        if ((rc = sqlite3_prepare_v2(db->db, "PRAGMA journal_mode = WAL", -1, &st, NULL)) !=
            SQLITE_OK) {
                r = imago_appdb_sqlite_err(db->db, rc);
                goto out;
        }
        if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_text(st, 0) == NULL ||
            strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
                IMAGO_ERR("app.db: cannot switch to WAL mode");
                r = IMAGO_EREG_DB;
                goto out;
        }
        sqlite3_finalize(st);
        st = NULL;
        if ((r = imago_appdb_begin(db, 1)) != 0)
                goto out;
        r = imago_appdb_end(db, imago_appdb_schema_migrate(db->db, (int64_t)time(NULL)));
out:
        sqlite3_finalize(st);
        return r;
}

int imago_appdb_open(const char *path, struct imago_appdb **out)
{
        struct imago_appdb *db = NULL;
        int r, rc;

        if (path == NULL || path[0] == '\0' || out == NULL)
                return IMAGO_EINVAL;
        *out = NULL;
        if ((r = create_private(path)) != 0)
                goto out;
        if ((db = calloc(1, sizeof(*db))) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        rc = sqlite3_open_v2(path, &db->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                             NULL);
        if (rc != SQLITE_OK) {
                r = imago_appdb_sqlite_err(db->db, rc);
                goto out;
        }
        if ((r = setup(db)) != 0)
                goto out;
        *out = db;
        db = NULL;
out:
        imago_appdb_close(db);
        return r;
}

void imago_appdb_close(struct imago_appdb *db)
{
        if (db == NULL)
                return;
        /* every statement is finalized first, so the connection really closes */
        imago_appdb_stmt_free_all(db);
        if (sqlite3_close(db->db) != SQLITE_OK)
                IMAGO_ERR("app.db: close: %s", sqlite3_errmsg(db->db));
        free(db);
}
