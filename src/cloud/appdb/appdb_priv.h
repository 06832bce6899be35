/*
 * Private to imago_appdb: the handle, SQL helpers, argument checks and the
 * schema migrations.  Nothing here leaves the module.
 */
#ifndef IMAGO_CLOUD_APPDB_PRIV_H
#define IMAGO_CLOUD_APPDB_PRIV_H

#include "cloud/appdb/appdb.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define IMAGO_APPDB_BUSY_MS  5000
#define IMAGO_APPDB_HASH_MAX 191 /* struct imago_appdb_user.pw_hash - 1 */

struct imago_appdb {
        sqlite3 *db;
};

/* SQLite result code -> IMAGO_EEXIST (constraint), IMAGO_ENOMEM or IMAGO_EREG_DB (also busy). */
int imago_appdb_sqlite_err(sqlite3 *db, int rc);
int imago_appdb_exec(sqlite3 *db, const char *sql);
int imago_appdb_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st);
/* Step a statement that returns no row. */
int imago_appdb_step_done(sqlite3 *db, sqlite3_stmt *st);
/* Step a statement that returns one row: 0 with the row, IMAGO_ENOTFOUND without. */
int imago_appdb_step_row(sqlite3 *db, sqlite3_stmt *st);

/* One transaction per call: begin (write: BEGIN IMMEDIATE); end commits if r == 0, else rolls
 * back, and returns r (or the commit's error). */
int imago_appdb_begin(struct imago_appdb *db, int write);
int imago_appdb_end(struct imago_appdb *db, int r);

/* Copy column col (text, NULL as "") into dst[cap]; IMAGO_EREG_DB if it does not fit. */
int imago_appdb_col_copy(sqlite3_stmt *st, int col, char *dst, size_t cap);
/* malloc'd copy of column col; NULL column -> *out NULL. */
int imago_appdb_col_dup(sqlite3_stmt *st, int col, char **out);

/* 0 if the user id exists, IMAGO_ENOTFOUND if not (inside the caller's transaction). */
int imago_appdb_user_exists_tx(struct imago_appdb *db, uint64_t id);

/* Argument checks: 0 if well formed, IMAGO_EINVAL otherwise. */
int imago_appdb_check_user(const char *name);
int imago_appdb_check_device(const char *id);
int imago_appdb_check_hex32(const char *nonce);
int imago_appdb_check_hash(const char *pw_hash);
int imago_appdb_check_text(const char *s);
int imago_appdb_check_cmd_name(const char *s);
int imago_appdb_check_id(uint64_t id);

int imago_appdb_schema_latest(void);
/* Apply every missing migration (inside the caller's write transaction). */
int imago_appdb_schema_migrate(sqlite3 *db, int64_t now);

#endif
