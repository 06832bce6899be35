/* See audit.h: opening the database and the audit schema. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/audit/audit_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * Migration N takes the audit schema from version N-1 to N.  Append only: a
 * released migration is never edited.
 */
static const char *const migrations[] = {
    /* 1: the log and the triggers that make it append-only */
    "CREATE TABLE audit_log ("
    " seq INTEGER PRIMARY KEY NOT NULL CHECK (seq >= 1),"
    " time INTEGER NOT NULL,"
    " actor TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " object TEXT NOT NULL,"
    " detail TEXT NOT NULL,"
    " prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),"
    " hash BLOB NOT NULL CHECK (length(hash) = 32));"
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
    " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
    " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;",
};

#define LATEST ((int)(sizeof(migrations) / sizeof(migrations[0])))

int imago_audit_db_err(sqlite3 *db, const char *what)
{
        IMAGO_ERR("audit: %s: %s", what, db != NULL ? sqlite3_errmsg(db) : "no database");
        return IMAGO_EAUDIT_DB;
}

int imago_audit_exec(sqlite3 *db, const char *sql)
{
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
                return imago_audit_db_err(db, "exec");
        return 0;
}

int imago_audit_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
        if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
                return imago_audit_db_err(db, "prepare");
        return 0;
}

static int migrate(sqlite3 *db)
{
        sqlite3_stmt *st = NULL;
        int r, have, v;

        if ((r = imago_audit_exec(db, "CREATE TABLE IF NOT EXISTS audit_schema ("
                                      " version INTEGER PRIMARY KEY NOT NULL,"
                                      " applied_at INTEGER NOT NULL)")) != 0)
                goto out;
        if ((r = imago_audit_prepare(db, "SELECT coalesce(max(version), 0) FROM audit_schema",
                                     &st)) != 0)
                goto out;
        if (sqlite3_step(st) != SQLITE_ROW) {
                r = imago_audit_db_err(db, "schema version");
                goto out;
        }
        have = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        st = NULL;
        if (have > LATEST) {
                IMAGO_ERR("audit schema version %d is newer than this program (%d)", have, LATEST);
                r = IMAGO_EAUDIT_SCHEMA;
                goto out;
        }
        for (v = have + 1; v <= LATEST; v++) {
                if ((r = imago_audit_exec(db, migrations[v - 1])) != 0)
                        goto out;
                if ((r = imago_audit_prepare(db,
                                             "INSERT INTO audit_schema(version, applied_at)"
                                             " VALUES (?1, ?2)",
                                             &st)) != 0)
                        goto out;
                sqlite3_bind_int(st, 1, v);
                sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
                if (sqlite3_step(st) != SQLITE_DONE) {
                        r = imago_audit_db_err(db, "schema version");
                        goto out;
                }
                sqlite3_finalize(st);
                st = NULL;
        }
        r = 0;
out:
        sqlite3_finalize(st);
        return r;
}

static int setup(sqlite3 *db)
{
        sqlite3_stmt *st = NULL;
        int r;

        sqlite3_busy_timeout(db, IMAGO_AUDIT_BUSY_MS);
        if ((r = imago_audit_exec(db, "PRAGMA synchronous = FULL")) != 0)
                goto out;
        if ((r = imago_audit_prepare(db, "PRAGMA journal_mode = WAL", &st)) != 0)
                goto out;
        if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_text(st, 0) == NULL ||
            strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
                r = imago_audit_db_err(db, "cannot switch to WAL mode");
                goto out;
        }
        sqlite3_finalize(st);
        st = NULL;
        if ((r = imago_audit_exec(db, "BEGIN IMMEDIATE")) != 0)
                goto out;
        if ((r = migrate(db)) != 0) {
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                goto out;
        }
        r = imago_audit_exec(db, "COMMIT");
out:
        sqlite3_finalize(st);
        return r;
}

int imago_audit_open(const char *path, struct imago_audit **out)
{
        struct imago_audit *a = NULL;
        int r, fd;

        if (path == NULL || *path == '\0' || out == NULL)
                return IMAGO_EINVAL;
        *out = NULL;
        /* sqlite would create the file with the umask's mode; the log is 0600 */
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                IMAGO_ERR("audit %s: %s", path, strerror(errno));
                r = errno == ENOENT ? IMAGO_ENOTFOUND : IMAGO_EIO;
                goto out;
        }
        close(fd);
        if ((a = calloc(1, sizeof(*a))) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        if (sqlite3_open_v2(path, &a->db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                            NULL) != SQLITE_OK) {
                r = imago_audit_db_err(a->db, path);
                goto out;
        }
        if ((r = setup(a->db)) != 0)
                goto out;
        *out = a;
        a = NULL;
out:
        imago_audit_close(a);
        return r;
}

void imago_audit_close(struct imago_audit *a)
{
        if (a == NULL)
                return;
        sqlite3_close(a->db);
        free(a);
}
