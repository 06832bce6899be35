/* See registry.h; schema migrations of the SQLite backend (registry_priv.h). */
#define _POSIX_C_SOURCE 200809L
#include "cloud/registry/registry_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <stddef.h>

/*
 * Migration N takes the schema from version N-1 to N.  Append only: a
 * released migration is never edited (databases in the field ran it).
 */
static const char *const migrations[] = {
    /* 1: devices and their certificates */
    "CREATE TABLE devices ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " state INTEGER NOT NULL CHECK (state BETWEEN 1 AND 4),"
    " batch TEXT NOT NULL,"
    " birth_serial TEXT NOT NULL,"
    " key_hash BLOB CHECK (key_hash IS NULL OR length(key_hash) = 32),"
    " cert_serial TEXT NOT NULL DEFAULT '',"
    " enrolled_at INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT NOT NULL DEFAULT '',"
    " imported_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "CREATE INDEX devices_state ON devices(state);"
    "CREATE TABLE certs ("
    " serial TEXT PRIMARY KEY NOT NULL,"
    " device_id TEXT NOT NULL REFERENCES devices(id),"
    " kind INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 2),"
    " key_hash BLOB NOT NULL CHECK (length(key_hash) = 32),"
    " pem TEXT NOT NULL,"
    " not_after INTEGER NOT NULL,"
    " issued_at INTEGER NOT NULL,"
    " revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),"
    " revoked_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX certs_device ON certs(device_id);",
    /* 2: operator rotation requests (unix seconds of the request, 0 = none) */
    "ALTER TABLE devices ADD COLUMN rotate_requested INTEGER NOT NULL DEFAULT 0;",
};

int imago_reg_schema_latest(void)
{
        return (int)(sizeof(migrations) / sizeof(migrations[0]));
}

int imago_reg_schema_migrate(sqlite3 *db, int64_t now)
{
        sqlite3_stmt *st = NULL;
        int r = IMAGO_EREG_DB, have = 0, v;
        int latest = imago_reg_schema_latest();

        if ((r = imago_reg_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                    " version INTEGER PRIMARY KEY NOT NULL,"
                                    " applied_at INTEGER NOT NULL)")) != 0)
                goto out;
        if ((r = imago_reg_prepare(db, "SELECT coalesce(max(version), 0) FROM schema_migrations",
                                   &st)) != 0)
                goto out;
        if (sqlite3_step(st) != SQLITE_ROW) {
                r = imago_reg_sqlite_err(db, sqlite3_errcode(db));
                goto out;
        }
        have = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        st = NULL;
        if (have > latest) {
                IMAGO_ERR("registry schema version %d is newer than this program (%d)", have,
                          latest);
                r = IMAGO_EREG_SCHEMA;
                goto out;
        }
        for (v = have + 1; v <= latest; v++) {
                if ((r = imago_reg_exec(db, migrations[v - 1])) != 0)
                        goto out;
                if ((r = imago_reg_prepare(db,
                                           "INSERT INTO schema_migrations(version, applied_at)"
                                           " VALUES (?1, ?2)",
                                           &st)) != 0)
                        goto out;
                sqlite3_bind_int(st, 1, v);
                sqlite3_bind_int64(st, 2, now);
                if (sqlite3_step(st) != SQLITE_DONE) {
                        r = imago_reg_sqlite_err(db, sqlite3_errcode(db));
                        goto out;
                }
                sqlite3_finalize(st);
                st = NULL;
                IMAGO_INFO("registry schema migrated to version %d", v);
        }
        r = 0;
out:
        sqlite3_finalize(st);
        return r;
}
