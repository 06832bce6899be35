/*
 * Private to imago_registry (SQLite backend): the handle, SQL helpers,
 * argument checks and schema migrations.  Nothing here leaves the module.
 */
#ifndef IMAGO_CLOUD_REGISTRY_PRIV_H
#define IMAGO_CLOUD_REGISTRY_PRIV_H

#include "cloud/registry/registry.h"

#include <sqlite3.h>
#include <stdint.h>

#define IMAGO_REG_BUSY_MS   5000
#define IMAGO_REG_PEM_MAX   16384
#define IMAGO_REG_BATCH_MAX 64

struct imago_registry {
        sqlite3 *db;
};

/* Map an SQLite result code to IMAGO_EREG_BUSY, IMAGO_EEXIST (constraint) or IMAGO_EREG_DB. */
int imago_reg_sqlite_err(sqlite3 *db, int rc);
int imago_reg_exec(sqlite3 *db, const char *sql);
int imago_reg_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st);
/* Step a statement that returns no row. */
int imago_reg_step_done(sqlite3 *db, sqlite3_stmt *st);

/* One transaction per call: begin (write: BEGIN IMMEDIATE), end commits if r == 0, else rolls back.
 */
int imago_reg_begin(struct imago_registry *reg, int write);
int imago_reg_end(struct imago_registry *reg, int r);

/* State of id (0 and IMAGO_EREG_UNKNOWN when absent). */
int imago_reg_state_of(struct imago_registry *reg, const char *id, enum imago_reg_state *state);

int64_t imago_reg_now(void);

/* Clear id's rotation request inside the caller's write transaction (registry_rotreq.c). */
int imago_reg_rotate_clear_tx(struct imago_registry *reg, const char *id);

/* Argument checks: IMAGO_EINVAL unless well formed. */
int imago_reg_check_id(const char *id);
int imago_reg_check_batch(const char *batch);
int imago_reg_check_serial(const char *serial);
int imago_reg_check_reason(const char *reason);
int imago_reg_check_pem(const char *pem);

int imago_reg_schema_latest(void);
/* Apply every missing migration (inside the caller's transaction). */
int imago_reg_schema_migrate(sqlite3 *db, int64_t now);

#endif
