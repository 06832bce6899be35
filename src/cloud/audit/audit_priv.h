/* Internal to imago_audit (audit.h): the handle and SQLite helpers. */
#ifndef IMAGO_CLOUD_AUDIT_PRIV_H
#define IMAGO_CLOUD_AUDIT_PRIV_H

#include "cloud/audit/audit.h"

#include <sqlite3.h>

struct imago_audit {
        sqlite3 *db;
};

/* IMAGO_EAUDIT_DB, after logging SQLite's message. */
int imago_audit_db_err(sqlite3 *db, const char *what);
int imago_audit_exec(sqlite3 *db, const char *sql);
int imago_audit_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st);

#endif
