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

/* Every SQL statement of the module (text in appdb_sql.c). */
enum imago_appdb_sql {
        IMAGO_APPDB_SQL_BEGIN,
        IMAGO_APPDB_SQL_BEGIN_WRITE,
        IMAGO_APPDB_SQL_COMMIT,
        IMAGO_APPDB_SQL_ROLLBACK,
        IMAGO_APPDB_SQL_USER_EXISTS,
        IMAGO_APPDB_SQL_USER_ADD,
        IMAGO_APPDB_SQL_USER_BY_NAME,
        IMAGO_APPDB_SQL_USER_BY_ID,
        IMAGO_APPDB_SQL_USER_SET_HASH,
        IMAGO_APPDB_SQL_USER_LIST,
        IMAGO_APPDB_SQL_REFRESH_PUT,
        IMAGO_APPDB_SQL_REFRESH_CONSUME,
        IMAGO_APPDB_SQL_REFRESH_DROP_USER,
        IMAGO_APPDB_SQL_REFRESH_PRUNE,
        IMAGO_APPDB_SQL_TOKEN_REVOKE,
        IMAGO_APPDB_SQL_TOKEN_REVOKED,
        IMAGO_APPDB_SQL_TOKEN_PRUNE,
        IMAGO_APPDB_SQL_GRANT_ADD,
        IMAGO_APPDB_SQL_GRANT_DELETE,
        IMAGO_APPDB_SQL_GRANT_GET,
        IMAGO_APPDB_SQL_GRANT_LIST_ALL,
        IMAGO_APPDB_SQL_GRANT_LIST_USER,
        IMAGO_APPDB_SQL_OWNER_BIND,
        IMAGO_APPDB_SQL_OWNER_GET,
        IMAGO_APPDB_SQL_OWNER_UNBIND,
        IMAGO_APPDB_SQL_OWNED,
        IMAGO_APPDB_SQL_NONCE_CLAIM,
        IMAGO_APPDB_SQL_NONCE_SAME_DEVICE,
        IMAGO_APPDB_SQL_NONCE_PRUNE,
        IMAGO_APPDB_SQL_STATE_GET,
        IMAGO_APPDB_SQL_STATE_ROW,
        IMAGO_APPDB_SQL_STATE_PUT_REPORTED,
        IMAGO_APPDB_SQL_STATE_PUT_DESIRED,
        IMAGO_APPDB_SQL_STATE_VERSION_REPORTED,
        IMAGO_APPDB_SQL_STATE_VERSION_DESIRED,
        IMAGO_APPDB_SQL_STATE_CLEAR,
        IMAGO_APPDB_SQL_CMD_SEQ,
        IMAGO_APPDB_SQL_CMD_INSERT,
        IMAGO_APPDB_SQL_CMD_RESULT,
        IMAGO_APPDB_SQL_CMD_ID,
        IMAGO_APPDB_SQL_CMD_EXPIRE,
        IMAGO_APPDB_SQL_CMD_GET,
        IMAGO_APPDB_SQL_COUNT
};

/* The SQL text of id (a constant; NULL for an id out of range). */
const char *imago_appdb_sql_text(enum imago_appdb_sql id);

/* stmt[id]: prepared on first use, kept (reset, bindings cleared) until imago_appdb_close. */
struct imago_appdb {
        sqlite3 *db;
        sqlite3_stmt *stmt[IMAGO_APPDB_SQL_COUNT];
};

/* The cached statement id of db, prepared on its first use with SQLITE_PREPARE_PERSISTENT.  *st is
 * borrowed from the handle: give it back with imago_appdb_stmt_put before the transaction ends (a
 * statement that is not reset would keep its transaction busy and its bound strings referenced). */
int imago_appdb_stmt(struct imago_appdb *db, enum imago_appdb_sql id, sqlite3_stmt **st);
/* Reset st and clear its bindings (NULL fine); it stays cached. */
void imago_appdb_stmt_put(sqlite3_stmt *st);
/* Finalize every cached statement (at close). */
void imago_appdb_stmt_free_all(struct imago_appdb *db);

/* SQLite result code -> IMAGO_EEXIST (constraint), IMAGO_ENOMEM or IMAGO_EREG_DB (also busy). */
int imago_appdb_sqlite_err(sqlite3 *db, int rc);
int imago_appdb_exec(sqlite3 *db, const char *sql);
/* A one-off statement (schema, open), finalized by the caller; everything else is cached. */
int imago_appdb_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st);
/* Step a statement that returns no row. */
int imago_appdb_step_done(sqlite3 *db, sqlite3_stmt *st);
/* Step a statement that returns one row: 0 with the row, IMAGO_ENOTFOUND without. */
int imago_appdb_step_row(sqlite3 *db, sqlite3_stmt *st);

/* One transaction per call: begin (write: BEGIN IMMEDIATE, else a deferred BEGIN: a read
 * transaction that takes no write lock); end commits if r == 0, else rolls back, and returns r (or
 * the commit's error).  Both run cached statements. */
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
