/* See rollout_priv.h: schema migrations of rollout.db (docs/rollouts.md). */
#define _POSIX_C_SOURCE 200809L
#include "cloud/rollout/rollout_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <stdio.h>

/*
 * Migration N takes the schema from user_version N-1 to N.  Append only: a
 * released migration is never edited.
 */
static const char *const migrations[] = {
    /* 1: rollouts, their devices, device tags */
    "CREATE TABLE rollouts ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL,"
    " target TEXT NOT NULL,"
    " grp TEXT NOT NULL,"
    " tag TEXT NOT NULL,"
    " stages TEXT NOT NULL,"
    " max_concurrent INTEGER NOT NULL,"
    " abort_percent INTEGER NOT NULL,"
    " abort_min INTEGER NOT NULL,"
    " device_timeout_s INTEGER NOT NULL,"
    " status INTEGER NOT NULL CHECK (status BETWEEN 1 AND 5),"
    " stage INTEGER NOT NULL,"
    " created_by INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " reason TEXT NOT NULL);"
    "CREATE INDEX rollouts_status ON rollouts(status);"
    "CREATE TABLE rollout_devices ("
    " rollout INTEGER NOT NULL REFERENCES rollouts(id),"
    " device TEXT NOT NULL CHECK (length(device) = 32),"
    " ord BLOB NOT NULL CHECK (length(ord) = 32),"
    " state INTEGER NOT NULL CHECK (state BETWEEN 1 AND 7),"
    " admitted INTEGER NOT NULL CHECK (admitted IN (0, 1)),"
    " error TEXT NOT NULL,"
    " progress INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " PRIMARY KEY (rollout, device));"
    "CREATE INDEX rollout_devices_order ON rollout_devices(rollout, admitted, ord);"
    "CREATE INDEX rollout_devices_device ON rollout_devices(device);"
    "CREATE TABLE device_tags ("
    " device TEXT NOT NULL CHECK (length(device) = 32),"
    " tag TEXT NOT NULL,"
    " PRIMARY KEY (device, tag));"
    "CREATE INDEX device_tags_tag ON device_tags(tag, device);",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int imago_rollout_schema_migrate(sqlite3 *db)
{
        sqlite3_stmt *st = NULL;
        char pragma[48];
        int version, rc, i;

        rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return imago_rollout_sqlite_err(db, rc);
        if (sqlite3_step(st) != SQLITE_ROW) {
                sqlite3_finalize(st);
                return imago_rollout_sqlite_err(db, sqlite3_errcode(db));
        }
        version = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        if (version > NMIGRATIONS || version < 0) {
                IMAGO_ERR("rollout.db: schema version %d is newer than this program's %d", version,
                          NMIGRATIONS);
                return IMAGO_EREG_DB;
        }
        for (i = version; i < NMIGRATIONS; i++) {
                if ((rc = sqlite3_exec(db, migrations[i], NULL, NULL, NULL)) != SQLITE_OK)
                        return imago_rollout_sqlite_err(db, rc);
                snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", i + 1);
                if ((rc = sqlite3_exec(db, pragma, NULL, NULL, NULL)) != SQLITE_OK)
                        return imago_rollout_sqlite_err(db, rc);
        }
        return 0;
}
