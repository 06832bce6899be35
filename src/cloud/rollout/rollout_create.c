/* See rollout.h: creating a rollout over a fixed list of devices. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/rollout/rollout_priv.h"

#include "base/err.h"
#include "base/log.h"
#include "crypto/crypto.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* every id valid, none twice */
static int devices_check(const char *const *devices, size_t n)
{
        const char **sorted;
        size_t i;
        int r = 0;

        if (n > IMAGO_ROLLOUT_DEVICES_MAX || (n > 0 && devices == NULL))
                return IMAGO_EINVAL;
        for (i = 0; i < n; i++)
                if (!imago_device_id_valid(devices[i]))
                        return IMAGO_EINVAL;
        if (n < 2)
                return 0;
        if ((sorted = malloc(n * sizeof(*sorted))) == NULL)
                return IMAGO_ENOMEM;
        memcpy(sorted, devices, n * sizeof(*sorted));
        qsort(sorted, n, sizeof(*sorted), cmp_str);
        for (i = 1; i < n && r == 0; i++)
                if (strcmp(sorted[i - 1], sorted[i]) == 0)
                        r = IMAGO_EINVAL;
        free(sorted);
        return r;
}

/* ord = SHA-256(rollout id as 8 bytes big-endian || the 32 characters of the device id) */
static int order_key(uint64_t id, const char *device, uint8_t out[IMAGO_SHA256_LEN])
{
        uint8_t buf[8 + IMAGO_DEVICE_ID_LEN];
        int i;

        for (i = 0; i < 8; i++)
                buf[i] = (uint8_t)(id >> (56 - 8 * i));
        memcpy(buf + 8, device, IMAGO_DEVICE_ID_LEN);
        return imago_sha256(buf, sizeof(buf), out);
}

static int insert(struct imago_rollout *ro, const struct imago_rollout_spec *spec,
                  const char *const *devices, size_t n, uint64_t actor, int64_t now, uint64_t *id)
{
        uint8_t ord[IMAGO_SHA256_LEN];
        char stages[64];
        sqlite3_stmt *st = NULL;
        uint64_t other;
        size_t i;
        int r;

        for (i = 0; i < n; i++) {
                if ((r = imago_rollout_active_of(ro, devices[i], &other)) != 0)
                        return r;
                if (other != 0) {
                        IMAGO_WARN("rollout: device %s is already in rollout %" PRIu64, devices[i],
                                   other);
                        return IMAGO_EEXIST;
                }
        }
        if ((r = imago_rollout_stages_encode(spec, stages, sizeof(stages))) != 0)
                return r;
        if ((r = imago_rollout_stmt(ro, IMAGO_ROLLOUT_SQL_INSERT, &st)) != 0)
                return r;
        sqlite3_bind_text(st, 1, spec->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, spec->target, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, spec->group, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, spec->tag, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, stages, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, spec->max_concurrent);
        sqlite3_bind_int64(st, 7, spec->abort_percent);
        sqlite3_bind_int64(st, 8, spec->abort_min);
        sqlite3_bind_int64(
            st, 9, spec->device_timeout_s ? spec->device_timeout_s : IMAGO_ROLLOUT_TIMEOUT_DEFAULT);
        sqlite3_bind_int64(st, 10, (sqlite3_int64)actor);
        sqlite3_bind_int64(st, 11, now);
        r = imago_rollout_step_done(ro, st);
        imago_rollout_stmt_put(st);
        if (r != 0)
                return r;
        *id = (uint64_t)sqlite3_last_insert_rowid(ro->db);
        for (i = 0; i < n; i++) {
                if ((r = order_key(*id, devices[i], ord)) != 0)
                        return r;
                if ((r = imago_rollout_stmt(ro, IMAGO_ROLLOUT_SQL_INSERT_DEVICE, &st)) != 0)
                        return r;
                sqlite3_bind_int64(st, 1, (sqlite3_int64)*id);
                sqlite3_bind_text(st, 2, devices[i], -1, SQLITE_STATIC);
                sqlite3_bind_blob(st, 3, ord, sizeof(ord), SQLITE_STATIC);
                sqlite3_bind_int64(st, 4, now);
                r = imago_rollout_step_done(ro, st);
                imago_rollout_stmt_put(st);
                if (r != 0)
                        return r;
        }
        return 0;
}

static void audit_create(const struct imago_rollout_ops *ops, const struct imago_rollout_spec *spec,
                         size_t n, uint64_t actor, uint64_t id)
{
        char name[2 * sizeof(spec->name)], target[2 * sizeof(spec->target)], stages[64];
        char detail[1024];

        if (imago_rollout_json_str(spec->name, name, sizeof(name)) != 0 ||
            imago_rollout_json_str(spec->target, target, sizeof(target)) != 0 ||
            imago_rollout_stages_encode(spec, stages, sizeof(stages)) != 0)
                return; /* cannot happen: the spec was checked */
        snprintf(detail, sizeof(detail),
                 "{\"name\":\"%s\",\"target\":\"%s\",\"group\":\"%s\",\"tag\":\"%s\","
                 "\"stages\":[%s],\"max_concurrent\":%u,\"abort_percent\":%u,\"abort_min\":%u,"
                 "\"device_timeout_s\":%u,\"devices\":%zu}",
                 name, target, spec->group, spec->tag, stages, spec->max_concurrent,
                 spec->abort_percent, spec->abort_min,
                 (unsigned)(spec->device_timeout_s ? spec->device_timeout_s
                                                   : IMAGO_ROLLOUT_TIMEOUT_DEFAULT),
                 n);
        imago_rollout_audit(ops, "rollout.create", id, actor, detail);
}

int imago_rollout_create(struct imago_rollout *ro, const struct imago_rollout_ops *ops,
                         const struct imago_rollout_spec *spec, const char *const *devices,
                         size_t n, uint64_t actor, int64_t now, uint64_t *id)
{
        uint64_t nid = 0;
        int r;

        if (ro == NULL || id == NULL)
                return IMAGO_EINVAL;
        *id = 0;
        if ((r = imago_rollout_spec_check(spec)) != 0)
                return r;
        if ((r = devices_check(devices, n)) != 0)
                return r;
        if ((r = imago_rollout_begin(ro)) != 0)
                return r;
        if ((r = imago_rollout_end(ro, insert(ro, spec, devices, n, actor, now, &nid))) != 0)
                return r;
        *id = nid;
        audit_create(ops, spec, n, actor, nid);
        /* the first admissions at once; the rollout exists whatever happens here (a failed run
         * is logged and the next tick runs it again) */
        if ((r = imago_rollout_begin(ro)) == 0)
                r = imago_rollout_end(ro, imago_rollout_run(ro, ops, nid, now));
        if (r != 0)
                IMAGO_ERR_R(r, "rollout %" PRIu64 ": first admissions", nid);
        return 0;
}
