/* See rollout_priv.h: the text of every cached statement. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/rollout/rollout_priv.h"

#include <stddef.h>

static const char *const sql[IMAGO_ROLLOUT_SQL_COUNT] = {
    [IMAGO_ROLLOUT_SQL_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [IMAGO_ROLLOUT_SQL_COMMIT] = "COMMIT",
    [IMAGO_ROLLOUT_SQL_ROLLBACK] = "ROLLBACK",
    [IMAGO_ROLLOUT_SQL_INSERT] =
        "INSERT INTO rollouts (name, target, grp, tag, stages, max_concurrent, abort_percent,"
        " abort_min, device_timeout_s, status, stage, created_by, created_at, updated_at, reason)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, 0, ?10, ?11, ?11, '')",
    [IMAGO_ROLLOUT_SQL_INSERT_DEVICE] =
        "INSERT INTO rollout_devices (rollout, device, ord, state, admitted, error, progress,"
        " updated_at) VALUES (?1, ?2, ?3, 1, 0, '', 0, ?4)",
    [IMAGO_ROLLOUT_SQL_GET] =
        "SELECT id, name, target, grp, tag, stages, max_concurrent, abort_percent, abort_min,"
        " device_timeout_s, status, stage, created_by, created_at, updated_at, reason"
        " FROM rollouts WHERE id = ?1",
    [IMAGO_ROLLOUT_SQL_COUNTS] =
        "SELECT state, count(*), total(admitted) FROM rollout_devices WHERE rollout = ?1"
        " GROUP BY state",
    [IMAGO_ROLLOUT_SQL_ACTIVE_OF] =
        "SELECT d.rollout FROM rollout_devices d JOIN rollouts r ON r.id = d.rollout"
        " WHERE d.device = ?1 AND r.status IN (1, 2) ORDER BY d.rollout LIMIT 1",
    [IMAGO_ROLLOUT_SQL_SET_STATUS] =
        "UPDATE rollouts SET status = ?2, reason = ?3, updated_at = ?4 WHERE id = ?1",
    [IMAGO_ROLLOUT_SQL_SET_STAGE] = "UPDATE rollouts SET stage = ?2, updated_at = ?3 WHERE id = ?1",
    [IMAGO_ROLLOUT_SQL_NEXT_QUEUED] = "SELECT device FROM rollout_devices WHERE rollout = ?1 AND"
                                      " admitted = 0 ORDER BY ord, device LIMIT 1",
    [IMAGO_ROLLOUT_SQL_ADMIT] =
        "UPDATE rollout_devices SET admitted = 1, state = 1, updated_at = ?3"
        " WHERE rollout = ?1 AND device = ?2",
    [IMAGO_ROLLOUT_SQL_TIMED_OUT] =
        "SELECT device FROM rollout_devices WHERE rollout = ?1 AND admitted = 1 AND state < 5"
        " AND updated_at <= ?2 ORDER BY ord, device",
    [IMAGO_ROLLOUT_SQL_UNFINISHED] = "SELECT device FROM rollout_devices WHERE rollout = ?1 AND"
                                     " admitted = 1 AND state < 5 ORDER BY ord, device",
    [IMAGO_ROLLOUT_SQL_DEVICE_GET] =
        "SELECT state, admitted FROM rollout_devices WHERE rollout = ?1 AND device = ?2",
    [IMAGO_ROLLOUT_SQL_DEVICE_SET] =
        "UPDATE rollout_devices SET state = ?3, error = ?4, progress = ?5, updated_at = ?6"
        " WHERE rollout = ?1 AND device = ?2",
    [IMAGO_ROLLOUT_SQL_ACTIVE_IDS] = "SELECT id FROM rollouts WHERE status IN (1, 2) AND id > ?1"
                                     " ORDER BY id LIMIT 1",
    [IMAGO_ROLLOUT_SQL_TAGS_DELETE] = "DELETE FROM device_tags WHERE device = ?1",
    [IMAGO_ROLLOUT_SQL_TAG_INSERT] = "INSERT INTO device_tags (device, tag) VALUES (?1, ?2)",
};

const char *imago_rollout_sql_text(enum imago_rollout_sql id)
{
        if ((int)id < 0 || id >= IMAGO_ROLLOUT_SQL_COUNT)
                return NULL;
        return sql[id];
}
