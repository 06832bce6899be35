/*
 * See rollout.h: the engine.  Given the database and now, every decision is
 * deterministic: timeouts, then abort, then completion, then (running only)
 * stage opening and admissions in the stable shuffle order.
 */
#define _POSIX_C_SOURCE 200809L
#include "cloud/rollout/rollout_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct devlist {
        char (*id)[IMAGO_DEVICE_ID_LEN + 1];
        size_t n, cap;
};

static void devlist_free(struct devlist *l)
{
        free(l->id);
        memset(l, 0, sizeof(*l));
}

/* Every device column 0 of the bound statement st yields (st is put back). */
static int devlist_fill(struct imago_rollout *ro, sqlite3_stmt *st, struct devlist *l)
{
        const unsigned char *t;
        int rc, r = 0;

        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                t = sqlite3_column_text(st, 0);
                if (t == NULL || strlen((const char *)t) != IMAGO_DEVICE_ID_LEN) {
                        r = IMAGO_EREG_DB;
                        break;
                }
                if (l->n == l->cap) {
                        size_t cap = l->cap ? l->cap * 2 : 16;
                        void *p = realloc(l->id, cap * sizeof(*l->id));

                        if (p == NULL) {
                                r = IMAGO_ENOMEM;
                                break;
                        }
                        l->id = p;
                        l->cap = cap;
                }
                memcpy(l->id[l->n], t, IMAGO_DEVICE_ID_LEN + 1);
                l->n++;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = imago_rollout_sqlite_err(ro->db, rc);
        imago_rollout_stmt_put(st);
        return r;
}

void imago_rollout_audit(const struct imago_rollout_ops *ops, const char *action, uint64_t id,
                         uint64_t actor, const char *detail)
{
        if (ops != NULL && ops->audit != NULL)
                ops->audit(ops->arg, action, id, actor, detail);
}

static void clear_one(const struct imago_rollout_ops *ops, const char *device, uint64_t id)
{
        int r;

        if (ops == NULL || ops->clear == NULL)
                return;
        if ((r = ops->clear(ops->arg, device, id)) != 0)
                IMAGO_ERR_R(r, "rollout %" PRIu64 ": clear %s failed", id, device);
}

int imago_rollout_set_status(struct imago_rollout *ro, uint64_t id,
                             enum imago_rollout_status status, const char *reason, int64_t now)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_rollout_stmt(ro, IMAGO_ROLLOUT_SQL_SET_STATUS, &st)) != 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        sqlite3_bind_int(st, 2, (int)status);
        sqlite3_bind_text(st, 3, reason != NULL ? reason : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now);
        r = imago_rollout_step_done(ro, st);
        imago_rollout_stmt_put(st);
        return r;
}

int imago_rollout_clear_unfinished(struct imago_rollout *ro, const struct imago_rollout_ops *ops,
                                   uint64_t id, uint64_t *cleared)
{
        struct devlist l = {0};
        sqlite3_stmt *st = NULL;
        size_t i;
        int r;

        *cleared = 0;
        if ((r = imago_rollout_stmt(ro, IMAGO_ROLLOUT_SQL_UNFINISHED, &st)) != 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        if ((r = devlist_fill(ro, st, &l)) == 0) {
                for (i = 0; i < l.n; i++)
                        clear_one(ops, l.id[i], id);
                *cleared = l.n;
        }
        devlist_free(&l);
        return r;
}

static int device_set(struct imago_rollout *ro, uint64_t id, const char *device,
                      enum imago_vreport_state s, const char *error, unsigned progress, int64_t now)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_rollout_stmt(ro, IMAGO_ROLLOUT_SQL_DEVICE_SET, &st)) != 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, (int)s);
        sqlite3_bind_text(st, 4, error, (int)strnlen(error, 47), SQLITE_STATIC);
        sqlite3_bind_int(st, 5, (int)progress);
        sqlite3_bind_int64(st, 6, now);
        r = imago_rollout_step_done(ro, st);
        imago_rollout_stmt_put(st);
        return r;
}

/* Admitted unfinished devices silent for the timeout fail (and are cleared). */
static int timeouts(struct imago_rollout *ro, const struct imago_rollout_ops *ops,
                    const struct imago_rollout_info *info, int64_t now)
{
        struct devlist l = {0};
        sqlite3_stmt *st = NULL;
        size_t i;
        int r;

        if ((r = imago_rollout_stmt(ro, IMAGO_ROLLOUT_SQL_TIMED_OUT, &st)) != 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)info->id);
        sqlite3_bind_int64(st, 2, now - (int64_t)info->spec.device_timeout_s);
        r = devlist_fill(ro, st, &l);
        for (i = 0; r == 0 && i < l.n; i++) {
                IMAGO_INFO("rollout %" PRIu64 ": device %s timed out", info->id, l.id[i]);
                r = device_set(ro, info->id, l.id[i], IMAGO_OTA_FAILED, "timeout", 0, now);
                if (r == 0)
                        clear_one(ops, l.id[i], info->id);
        }
        devlist_free(&l);
        return r;
}

static int do_abort(struct imago_rollout *ro, const struct imago_rollout_ops *ops,
                    const struct imago_rollout_info *info, const struct imago_rollout_counts *c,
                    uint64_t finished, int64_t now)
{
        uint64_t bad = c->state[IMAGO_OTA_FAILED] + c->state[IMAGO_OTA_REVERTED], cleared;
        char reason[128], detail[256];
        int r;

        snprintf(reason, sizeof(reason),
                 "%" PRIu64 " of %" PRIu64 " finished devices failed or reverted (more than %u%%)",
                 bad, finished, info->spec.abort_percent);
        if ((r = imago_rollout_set_status(ro, info->id, IMAGO_ROLLOUT_ABORTED, reason, now)) != 0)
                return r;
        if ((r = imago_rollout_clear_unfinished(ro, ops, info->id, &cleared)) != 0)
                return r;
        snprintf(detail, sizeof(detail),
                 "{\"failed\":%" PRIu64 ",\"reverted\":%" PRIu64 ",\"finished\":%" PRIu64
                 ",\"abort_percent\":%u,\"abort_min\":%u,\"cleared\":%" PRIu64 "}",
                 c->state[IMAGO_OTA_FAILED], c->state[IMAGO_OTA_REVERTED], finished,
                 info->spec.abort_percent, info->spec.abort_min, cleared);
        IMAGO_WARN("rollout %" PRIu64 " aborted: %s", info->id, reason);
        imago_rollout_audit(ops, "rollout.abort", info->id, 0, detail);
        return 0;
}

static int do_complete(struct imago_rollout *ro, const struct imago_rollout_ops *ops,
                       const struct imago_rollout_info *info, const struct imago_rollout_counts *c,
                       int64_t now)
{
        char detail[192];
        int r;

        if ((r = imago_rollout_set_status(ro, info->id, IMAGO_ROLLOUT_COMPLETED, "", now)) != 0)
                return r;
        snprintf(detail, sizeof(detail),
                 "{\"total\":%" PRIu64 ",\"succeeded\":%" PRIu64 ",\"failed\":%" PRIu64
                 ",\"reverted\":%" PRIu64 "}",
                 c->total, c->state[IMAGO_OTA_SUCCEEDED], c->state[IMAGO_OTA_FAILED],
                 c->state[IMAGO_OTA_REVERTED]);
        IMAGO_INFO("rollout %" PRIu64 " completed", info->id);
        imago_rollout_audit(ops, "rollout.complete", info->id, 0, detail);
        return 0;
}

/* Admit in order while the stage cap and max_concurrent allow; stop at the first failed
 * assign (the device stays queued and is tried again on the next run). */
static int admit(struct imago_rollout *ro, const struct imago_rollout_ops *ops,
                 const struct imago_rollout_info *info, struct imago_rollout_counts *c,
                 uint64_t cap, int64_t now)
{
        char device[IMAGO_DEVICE_ID_LEN + 1];
        sqlite3_stmt *st = NULL;
        const unsigned char *t;
        int r, a;

        while (c->admitted < cap && c->unfinished < info->spec.max_concurrent) {
                if ((r = imago_rollout_stmt(ro, IMAGO_ROLLOUT_SQL_NEXT_QUEUED, &st)) != 0)
                        return r;
                sqlite3_bind_int64(st, 1, (sqlite3_int64)info->id);
                r = imago_rollout_step_row(ro, st);
                if (r == 0) {
                        t = sqlite3_column_text(st, 0);
                        if (t == NULL || strlen((const char *)t) != IMAGO_DEVICE_ID_LEN)
                                r = IMAGO_EREG_DB;
                        else
                                memcpy(device, t, sizeof(device));
                }
                imago_rollout_stmt_put(st);
                if (r == IMAGO_ENOTFOUND)
                        return 0;
                if (r != 0)
                        return r;
                a = ops != NULL && ops->assign != NULL
                        ? ops->assign(ops->arg, device, info->id, info->spec.target)
                        : 0;
                if (a != 0) {
                        IMAGO_ERR_R(a, "rollout %" PRIu64 ": assign %s failed (retried later)",
                                    info->id, device);
                        return 0;
                }
                if ((r = imago_rollout_stmt(ro, IMAGO_ROLLOUT_SQL_ADMIT, &st)) != 0)
                        return r;
                sqlite3_bind_int64(st, 1, (sqlite3_int64)info->id);
                sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 3, now);
                r = imago_rollout_step_done(ro, st);
                imago_rollout_stmt_put(st);
                if (r != 0)
                        return r;
                c->admitted++;
                c->unfinished++;
        }
        return 0;
}

int imago_rollout_run(struct imago_rollout *ro, const struct imago_rollout_ops *ops, uint64_t id,
                      int64_t now)
{
        struct imago_rollout_info info;
        struct imago_rollout_counts c;
        uint64_t finished, bad, cap;
        unsigned stage;
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_rollout_load(ro, id, &info)) != 0)
                return r;
        if (info.status != IMAGO_ROLLOUT_RUNNING && info.status != IMAGO_ROLLOUT_PAUSED)
                return 0;
        if ((r = timeouts(ro, ops, &info, now)) != 0)
                return r;
        if ((r = imago_rollout_counts(ro, id, &c)) != 0)
                return r;
        bad = c.state[IMAGO_OTA_FAILED] + c.state[IMAGO_OTA_REVERTED];
        finished = c.state[IMAGO_OTA_SUCCEEDED] + bad;
        if (finished >= info.spec.abort_min &&
            bad * 100 > (uint64_t)info.spec.abort_percent * finished)
                return do_abort(ro, ops, &info, &c, finished, now);
        if (finished == c.total)
                return do_complete(ro, ops, &info, &c, now);
        if (info.status != IMAGO_ROLLOUT_RUNNING)
                return 0;
        stage = info.stage;
        while (stage + 1 < info.spec.nstages && c.unfinished == 0 &&
               c.admitted >= imago_rollout_stage_cap(&info.spec, stage, c.total))
                stage++;
        if (stage != info.stage) {
                IMAGO_INFO("rollout %" PRIu64 ": stage %u (%u%%) opens", id, stage + 1,
                           info.spec.stages[stage]);
                if ((r = imago_rollout_stmt(ro, IMAGO_ROLLOUT_SQL_SET_STAGE, &st)) != 0)
                        return r;
                sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
                sqlite3_bind_int(st, 2, (int)stage);
                sqlite3_bind_int64(st, 3, now);
                r = imago_rollout_step_done(ro, st);
                imago_rollout_stmt_put(st);
                if (r != 0)
                        return r;
        }
        cap = imago_rollout_stage_cap(&info.spec, stage, c.total);
        return admit(ro, ops, &info, &c, cap, now);
}

int imago_rollout_tick(struct imago_rollout *ro, const struct imago_rollout_ops *ops, int64_t now)
{
        sqlite3_stmt *st = NULL;
        uint64_t last = 0;
        int r, first = 0;

        if (ro == NULL)
                return IMAGO_EINVAL;
        for (;;) {
                if ((r = imago_rollout_stmt(ro, IMAGO_ROLLOUT_SQL_ACTIVE_IDS, &st)) != 0)
                        return r;
                sqlite3_bind_int64(st, 1, (sqlite3_int64)last);
                r = imago_rollout_step_row(ro, st);
                if (r == 0)
                        last = (uint64_t)sqlite3_column_int64(st, 0);
                imago_rollout_stmt_put(st);
                if (r == IMAGO_ENOTFOUND)
                        break;
                if (r != 0)
                        return r;
                if ((r = imago_rollout_begin(ro)) == 0)
                        r = imago_rollout_end(ro, imago_rollout_run(ro, ops, last, now));
                if (r != 0) {
                        /* one rollout's failure does not stop the others */
                        IMAGO_ERR_R(r, "rollout %" PRIu64 ": engine", last);
                        if (first == 0)
                                first = r;
                }
        }
        return first;
}

int imago_rollout_on_report(struct imago_rollout *ro, const struct imago_rollout_ops *ops,
                            const char *device, uint64_t rollout, enum imago_vreport_state s,
                            const char *target, const char *error, unsigned progress, int64_t now)
{
        struct imago_rollout_info info;
        sqlite3_stmt *st = NULL;
        int r, cur = 0, admitted = 0;

        if (ro == NULL || !imago_device_id_valid(device) || s < IMAGO_OTA_IDLE ||
            s > IMAGO_OTA_REVERTED || s == IMAGO_OTA_QUEUED)
                return IMAGO_EINVAL;
        if (rollout == 0 || rollout > INT64_MAX || s == IMAGO_OTA_IDLE)
                return 0;
        if (target == NULL)
                target = "";
        if (error == NULL)
                error = "";
        if (progress > 100)
                progress = 100;
        if ((r = imago_rollout_begin(ro)) != 0)
                return r;
        r = imago_rollout_load(ro, rollout, &info);
        if (r == 0 && info.status != IMAGO_ROLLOUT_RUNNING && info.status != IMAGO_ROLLOUT_PAUSED)
                r = IMAGO_ENOTFOUND;
        if (r == 0 && (r = imago_rollout_stmt(ro, IMAGO_ROLLOUT_SQL_DEVICE_GET, &st)) == 0) {
                sqlite3_bind_int64(st, 1, (sqlite3_int64)rollout);
                sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
                if ((r = imago_rollout_step_row(ro, st)) == 0) {
                        cur = sqlite3_column_int(st, 0);
                        admitted = sqlite3_column_int(st, 1);
                }
                imago_rollout_stmt_put(st);
        }
        if (r == IMAGO_ENOTFOUND) {
                /* another rollout's device, or a rollout no longer active: ignored */
                return imago_rollout_end(ro, 0);
        }
        if (r != 0)
                return imago_rollout_end(ro, r);
        /* not admitted, already finished, or success with another target: ignored */
        if (!admitted || cur >= IMAGO_OTA_SUCCEEDED ||
            (s == IMAGO_OTA_SUCCEEDED && strcmp(target, info.spec.target) != 0))
                return imago_rollout_end(ro, 0);
        r = device_set(ro, rollout, device, s, error, progress, now);
        if (r == 0 && (s == IMAGO_OTA_FAILED || s == IMAGO_OTA_REVERTED))
                clear_one(ops, device, rollout);
        if (r == 0)
                r = imago_rollout_run(ro, ops, rollout, now);
        return imago_rollout_end(ro, r);
}
