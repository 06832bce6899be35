/* imago_director: DIR/director.db, opening and closing (see director.h). */
#define _POSIX_C_SOURCE 200809L
#include "cloud/director/director_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char dir_schema[] =
    "CREATE TABLE IF NOT EXISTS devices ("
    " id TEXT PRIMARY KEY,"
    " assigned INTEGER NOT NULL DEFAULT 0,"
    " t_name TEXT NOT NULL DEFAULT '', t_length INTEGER NOT NULL DEFAULT 0,"
    " t_sha256 BLOB, t_hwid TEXT NOT NULL DEFAULT '', t_version TEXT NOT NULL DEFAULT '',"
    " t_sc INTEGER NOT NULL DEFAULT 0, t_rollout INTEGER NOT NULL DEFAULT 0,"
    " targets_version INTEGER NOT NULL DEFAULT 0, targets_expires INTEGER NOT NULL DEFAULT 0,"
    " targets BLOB,"
    " snapshot_version INTEGER NOT NULL DEFAULT 0, snapshot_expires INTEGER NOT NULL DEFAULT 0,"
    " snapshot BLOB,"
    " timestamp_version INTEGER NOT NULL DEFAULT 0, timestamp_expires INTEGER NOT NULL DEFAULT 0,"
    " timestamp BLOB,"
    " reported INTEGER NOT NULL DEFAULT 0, reported_at INTEGER NOT NULL DEFAULT 0,"
    " r_report BLOB, r_nonce TEXT, r_counter INTEGER, r_time INTEGER, r_sha256 BLOB,"
    " r_length INTEGER, r_version TEXT, r_sc INTEGER, r_hwid TEXT, r_state INTEGER,"
    " r_target TEXT, r_rollout INTEGER, r_error TEXT, r_progress INTEGER);"
    "CREATE TABLE IF NOT EXISTS nonces ("
    " device TEXT NOT NULL, nonce TEXT NOT NULL, counter INTEGER NOT NULL, at INTEGER NOT NULL,"
    " PRIMARY KEY (device, nonce));";

int dir_sqlite_err(sqlite3 *db, int rc)
{
        IMAGO_ERR("director.db: %s (%d)", db != NULL ? sqlite3_errmsg(db) : "?", rc);
        return rc == SQLITE_NOMEM ? IMAGO_ENOMEM : IMAGO_EREG_DB;
}

int dir_exec(sqlite3 *db, const char *sql)
{
        int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

        return rc == SQLITE_OK ? 0 : dir_sqlite_err(db, rc);
}

static int create_private(const char *path)
{
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

        if (fd < 0) {
                IMAGO_ERR("director.db %s: %s", path, strerror(errno));
                return errno == ENOENT ? IMAGO_ENOTFOUND : IMAGO_EIO;
        }
        close(fd);
        return 0;
}

int dir_db_open(struct imago_director *d)
{
        char path[PATH_MAX];
        sqlite3_stmt *st = NULL;
        int r, rc;

        if ((r = dir_path(path, sizeof(path), d->dir, DIR_F_DB)) != 0 ||
            (r = create_private(path)) != 0)
                return r;
        rc = sqlite3_open_v2(
            path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
        if (rc != SQLITE_OK)
                return dir_sqlite_err(d->db, rc);
        sqlite3_busy_timeout(d->db, DIR_BUSY_MS);
        if ((r = dir_exec(d->db, "PRAGMA synchronous = FULL")) != 0)
                goto out;
        if ((rc = sqlite3_prepare_v2(d->db, "PRAGMA journal_mode = WAL", -1, &st, NULL)) !=
            SQLITE_OK) {
                r = dir_sqlite_err(d->db, rc);
                goto out;
        }
        r = IMAGO_EREG_DB;
        if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_text(st, 0) == NULL ||
            strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0)
                goto out;
        r = dir_exec(d->db, dir_schema);
out:
        sqlite3_finalize(st);
        return r;
}

static int open_common(const char *dir, const char *passphrase, int keys,
                       struct imago_director **out)
{
        struct imago_director *d = NULL;
        char path[PATH_MAX];
        int r = IMAGO_EINVAL;

        if (out != NULL)
                *out = NULL;
        if (dir == NULL || out == NULL || (keys && passphrase == NULL))
                goto out;
        r = IMAGO_ENOMEM;
        if ((d = calloc(1, sizeof(*d))) == NULL)
                goto out;
        if ((r = dir_path(d->dir, sizeof(d->dir), dir, "")) != 0)
                goto out;
        d->dir[strlen(d->dir) - 1] = '\0'; /* no trailing '/' */
        if (keys && ((r = dir_path(path, sizeof(path), dir, DIR_F_KEY)) != 0 ||
                     (r = imago_privkey_load(path, passphrase, &d->key)) != 0))
                goto out;
        if ((r = dir_db_open(d)) != 0)
                goto out;
        *out = d;
        d = NULL;
out:
        imago_director_close(d);
        return r;
}

int imago_director_open(const char *dir, const char *passphrase, struct imago_director **out)
{
        return open_common(dir, passphrase, 1, out);
}

int imago_director_open_ro(const char *dir, struct imago_director **out)
{
        return open_common(dir, NULL, 0, out);
}

void imago_director_close(struct imago_director *d)
{
        if (d == NULL)
                return;
        if (d->db != NULL && sqlite3_close(d->db) != SQLITE_OK)
                IMAGO_ERR("director.db: close: %s", sqlite3_errmsg(d->db));
        imago_privkey_free(&d->key); /* the backend wipes the key material */
        free(d);
}
