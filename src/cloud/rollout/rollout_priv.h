/*
 * Private to imago_rollout: the handle, cached statements, SQL helpers and
 * the engine's internal entry points.  Nothing here leaves the module.
 */
#ifndef IMAGO_CLOUD_ROLLOUT_ROLLOUT_PRIV_H
#define IMAGO_CLOUD_ROLLOUT_ROLLOUT_PRIV_H

#include "cloud/rollout/rollout.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define IMAGO_ROLLOUT_BUSY_MS         5000
#define IMAGO_ROLLOUT_TIMEOUT_DEFAULT 3600
#define IMAGO_ROLLOUT_TIMEOUT_MIN     60
#define IMAGO_ROLLOUT_TIMEOUT_MAX     2592000
#define IMAGO_ROLLOUT_LIMIT_MAX       100000

/* Every cached SQL statement (text in rollout_sql.c). */
enum imago_rollout_sql {
        IMAGO_ROLLOUT_SQL_BEGIN_WRITE,
        IMAGO_ROLLOUT_SQL_COMMIT,
        IMAGO_ROLLOUT_SQL_ROLLBACK,
        IMAGO_ROLLOUT_SQL_INSERT,
        IMAGO_ROLLOUT_SQL_INSERT_DEVICE,
        IMAGO_ROLLOUT_SQL_GET,
        IMAGO_ROLLOUT_SQL_COUNTS,
        IMAGO_ROLLOUT_SQL_ACTIVE_OF,
        IMAGO_ROLLOUT_SQL_SET_STATUS,
        IMAGO_ROLLOUT_SQL_SET_STAGE,
        IMAGO_ROLLOUT_SQL_NEXT_QUEUED,
        IMAGO_ROLLOUT_SQL_ADMIT,
        IMAGO_ROLLOUT_SQL_TIMED_OUT,
        IMAGO_ROLLOUT_SQL_UNFINISHED,
        IMAGO_ROLLOUT_SQL_DEVICE_GET,
        IMAGO_ROLLOUT_SQL_DEVICE_SET,
        IMAGO_ROLLOUT_SQL_ACTIVE_IDS,
        IMAGO_ROLLOUT_SQL_TAGS_DELETE,
        IMAGO_ROLLOUT_SQL_TAG_INSERT,
        IMAGO_ROLLOUT_SQL_COUNT
};

struct imago_rollout {
        sqlite3 *db;
        sqlite3_stmt *stmt[IMAGO_ROLLOUT_SQL_COUNT];
};

/* Device counters of one rollout. */
struct imago_rollout_counts {
        uint64_t total, admitted, unfinished; /* unfinished: admitted, not finished */
        uint64_t state[8];                    /* per enum imago_vreport_state */
};

/* rollout_sql.c */
const char *imago_rollout_sql_text(enum imago_rollout_sql id);

/* rollout_db.c: SQL helpers (errors mapped to IMAGO_E*: constraint -> IMAGO_EEXIST) */
int imago_rollout_sqlite_err(sqlite3 *db, int rc);
int imago_rollout_stmt(struct imago_rollout *ro, enum imago_rollout_sql id, sqlite3_stmt **st);
void imago_rollout_stmt_put(sqlite3_stmt *st);
int imago_rollout_step_done(struct imago_rollout *ro, sqlite3_stmt *st);
int imago_rollout_step_row(struct imago_rollout *ro, sqlite3_stmt *st); /* ENOTFOUND if none */
int imago_rollout_begin(struct imago_rollout *ro);
/* Commit when r is 0, else roll back; returns r or the commit's error. */
int imago_rollout_end(struct imago_rollout *ro, int r);

/* rollout_schema.c: bring the schema to the current user_version (in a transaction). */
int imago_rollout_schema_migrate(sqlite3 *db);

/* rollout_spec.c */
int imago_rollout_tag_valid(const char *s);
int imago_rollout_stages_encode(const struct imago_rollout_spec *spec, char *out, size_t len);
int imago_rollout_stages_decode(const char *s, struct imago_rollout_spec *spec);
/* ceil(stages[stage] * total / 100) */
uint64_t imago_rollout_stage_cap(const struct imago_rollout_spec *spec, unsigned stage,
                                 uint64_t total);
/* JSON string body of s (printable ASCII) with '"' and '\\' escaped; IMAGO_ETOOBIG if short. */
int imago_rollout_json_str(const char *s, char *out, size_t len);

/* rollout_query.c: the row of id (within the caller's transaction or not) */
int imago_rollout_load(struct imago_rollout *ro, uint64_t id, struct imago_rollout_info *out);
int imago_rollout_counts(struct imago_rollout *ro, uint64_t id, struct imago_rollout_counts *c);

/* rollout_engine.c: run the engine for id inside the caller's write transaction. */
int imago_rollout_run(struct imago_rollout *ro, const struct imago_rollout_ops *ops, uint64_t id,
                      int64_t now);
/* Set the status (and reason), audit nothing. */
int imago_rollout_set_status(struct imago_rollout *ro, uint64_t id,
                             enum imago_rollout_status status, const char *reason, int64_t now);
/* ops->clear every admitted unfinished device of id (failures logged). */
int imago_rollout_clear_unfinished(struct imago_rollout *ro, const struct imago_rollout_ops *ops,
                                   uint64_t id, uint64_t *cleared);
void imago_rollout_audit(const struct imago_rollout_ops *ops, const char *action, uint64_t id,
                         uint64_t actor, const char *detail);

#endif
