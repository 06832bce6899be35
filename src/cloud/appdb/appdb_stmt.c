/* See appdb_priv.h: the per-handle cache of prepared statements. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/appdb/appdb_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <stddef.h>

int imago_appdb_stmt(struct imago_appdb *db, enum imago_appdb_sql id, sqlite3_stmt **st)
{
        const char *text = imago_appdb_sql_text(id);
        int rc;

        *st = NULL;
        if (text == NULL) {
                IMAGO_ERR("appdb: no statement %d", (int)id);
                return IMAGO_EREG_DB;
        }
        if (db->stmt[id] == NULL) {
                /* persistent: kept for the handle's life, allocated outside the lookaside */
                rc = sqlite3_prepare_v3(db->db, text, -1, SQLITE_PREPARE_PERSISTENT, &db->stmt[id],
                                        NULL);
                if (rc != SQLITE_OK) {
                        sqlite3_finalize(db->stmt[id]);
                        db->stmt[id] = NULL;
                        return imago_appdb_sqlite_err(db->db, rc);
                }
        }
        *st = db->stmt[id];
        return 0;
}

void imago_appdb_stmt_put(sqlite3_stmt *st)
{
        if (st == NULL)
                return;
        /* the step's error was already seen by the caller; reset repeats it */
        (void)sqlite3_reset(st);
        (void)sqlite3_clear_bindings(st);
}

void imago_appdb_stmt_free_all(struct imago_appdb *db)
{
        size_t i;

        for (i = 0; i < IMAGO_APPDB_SQL_COUNT; i++) {
                sqlite3_finalize(db->stmt[i]);
                db->stmt[i] = NULL;
        }
}
