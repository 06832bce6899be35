/* See appdb_priv.h: schema migrations of DIR/app.db (docs/appdb.md). */
#define _POSIX_C_SOURCE 200809L
#include "cloud/appdb/appdb_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <stddef.h>

/*
 * Migration N takes the schema from version N-1 to N.  Append only: a
 * released migration is never edited (databases in the field ran it).
 */
static const char *const migrations[] = {
    /* 1: users, tokens, grants, ownership, nonces, state documents, commands */
    "CREATE TABLE users ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL UNIQUE,"
    " pw_hash TEXT NOT NULL,"
    " created INTEGER NOT NULL);"
    "CREATE TABLE refresh_tokens ("
    " hash BLOB PRIMARY KEY NOT NULL CHECK (length(hash) = 32),"
    " user INTEGER NOT NULL REFERENCES users(id),"
    " expires INTEGER NOT NULL);"
    "CREATE INDEX refresh_tokens_user ON refresh_tokens(user);"
    "CREATE TABLE revoked_tokens ("
    " token_id BLOB PRIMARY KEY NOT NULL CHECK (length(token_id) = 16),"
    " expires INTEGER NOT NULL);"
    "CREATE TABLE grants ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " user INTEGER NOT NULL REFERENCES users(id),"
    " role INTEGER NOT NULL CHECK (role BETWEEN 1 AND 4),"
    " grp TEXT NOT NULL,"
    " not_before INTEGER NOT NULL,"
    " expires INTEGER NOT NULL,"
    " granted_by INTEGER NOT NULL,"
    " CHECK (not_before < expires));"
    "CREATE INDEX grants_user ON grants(user);"
    "CREATE TABLE owners ("
    " device TEXT PRIMARY KEY NOT NULL CHECK (length(device) = 32),"
    " user INTEGER NOT NULL REFERENCES users(id),"
    " bound_at INTEGER NOT NULL);"
    "CREATE INDEX owners_user ON owners(user);"
    "CREATE TABLE nonces ("
    " nonce TEXT PRIMARY KEY NOT NULL CHECK (length(nonce) = 32),"
    " expiry INTEGER NOT NULL);"
    "CREATE TABLE device_state ("
    " device TEXT PRIMARY KEY NOT NULL CHECK (length(device) = 32),"
    " reported TEXT NOT NULL DEFAULT '{}',"
    " reported_version INTEGER NOT NULL DEFAULT 0,"
    " reported_at INTEGER NOT NULL DEFAULT 0,"
    " desired TEXT NOT NULL DEFAULT '{}',"
    " desired_version INTEGER NOT NULL DEFAULT 0,"
    " desired_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE device_seq ("
    " device TEXT PRIMARY KEY NOT NULL CHECK (length(device) = 32),"
    " last INTEGER NOT NULL CHECK (last >= 1));"
    "CREATE TABLE commands ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " device TEXT NOT NULL CHECK (length(device) = 32),"
    " seq INTEGER NOT NULL CHECK (seq >= 1),"
    " user INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " args TEXT NOT NULL,"
    " iat INTEGER NOT NULL,"
    " exp INTEGER NOT NULL,"
    " status INTEGER NOT NULL DEFAULT 0 CHECK (status BETWEEN 0 AND 5),"
    " result TEXT,"
    " done_at INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE (device, seq));",
    /* 2: which device redeemed a registration token (a device's retry is not a replay) */
    "ALTER TABLE nonces ADD COLUMN device TEXT CHECK (device IS NULL OR length(device) = 32);",
};

int imago_appdb_schema_latest(void)
{
        return (int)(sizeof(migrations) / sizeof(migrations[0]));
}

int imago_appdb_schema_migrate(sqlite3 *db, int64_t now)
{
        sqlite3_stmt *st = NULL;
        int r, have, v;
        int latest = imago_appdb_schema_latest();

        if ((r = imago_appdb_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                      " version INTEGER PRIMARY KEY NOT NULL,"
                                      " applied_at INTEGER NOT NULL)")) != 0)
                goto out;
        if ((r = imago_appdb_prepare(db, "SELECT coalesce(max(version), 0) FROM schema_migrations",
                                     &st)) != 0)
                goto out;
        if ((r = imago_appdb_step_row(db, st)) != 0)
                goto out;
        have = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        st = NULL;
        if (have > latest) {
                IMAGO_ERR("app.db schema version %d is newer than this program (%d)", have, latest);
                r = IMAGO_EREG_SCHEMA;
                goto out;
        }
        for (v = have + 1; v <= latest; v++) {
                if ((r = imago_appdb_exec(db, migrations[v - 1])) != 0)
                        goto out;
                if ((r = imago_appdb_prepare(db,
                                             "INSERT INTO schema_migrations(version, applied_at)"
                                             " VALUES (?1, ?2)",
                                             &st)) != 0)
                        goto out;
                sqlite3_bind_int(st, 1, v);
                sqlite3_bind_int64(st, 2, now);
                if ((r = imago_appdb_step_done(db, st)) != 0)
                        goto out;
                sqlite3_finalize(st);
                st = NULL;
                IMAGO_INFO("app.db schema migrated to version %d", v);
        }
        r = 0;
out:
        sqlite3_finalize(st);
        return r;
}
