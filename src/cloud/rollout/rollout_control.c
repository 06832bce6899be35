/* See rollout.h: pause, resume and cancel by a user. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/rollout/rollout_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <inttypes.h>
#include <stdio.h>

/* Load id in a write transaction and check its status is one of want_a, want_b. */
static int begin_with(struct imago_rollout *ro, uint64_t id, enum imago_rollout_status want_a,
                      enum imago_rollout_status want_b, struct imago_rollout_info *info)
{
        int r;

        if (ro == NULL || id == 0 || id > INT64_MAX)
                return IMAGO_EINVAL;
        if ((r = imago_rollout_begin(ro)) != 0)
                return r;
        r = imago_rollout_load(ro, id, info);
        if (r == 0 && info->status != want_a && info->status != want_b)
                r = IMAGO_EROLLOUT_STATE;
        if (r != 0)
                return imago_rollout_end(ro, r);
        return 0;
}

/* Pause and resume: from -> to, audited as action with the stage and the admitted count. */
static int switch_status(struct imago_rollout *ro, const struct imago_rollout_ops *ops, uint64_t id,
                         uint64_t actor, int64_t now, enum imago_rollout_status from,
                         enum imago_rollout_status to, const char *action)
{
        struct imago_rollout_info info;
        char detail[64];
        int r;

        if ((r = begin_with(ro, id, from, from, &info)) != 0)
                return r;
        r = imago_rollout_set_status(ro, id, to, "", now);
        if ((r = imago_rollout_end(ro, r)) != 0)
                return r;
        snprintf(detail, sizeof(detail), "{\"stage\":%u,\"admitted\":%" PRIu64 "}", info.stage,
                 info.admitted);
        imago_rollout_audit(ops, action, id, actor, detail);
        return 0;
}

int imago_rollout_pause(struct imago_rollout *ro, const struct imago_rollout_ops *ops, uint64_t id,
                        uint64_t actor, int64_t now)
{
        return switch_status(ro, ops, id, actor, now, IMAGO_ROLLOUT_RUNNING, IMAGO_ROLLOUT_PAUSED,
                             "rollout.pause");
}

int imago_rollout_resume(struct imago_rollout *ro, const struct imago_rollout_ops *ops, uint64_t id,
                         uint64_t actor, int64_t now)
{
        int r;

        if ((r = switch_status(ro, ops, id, actor, now, IMAGO_ROLLOUT_PAUSED, IMAGO_ROLLOUT_RUNNING,
                               "rollout.resume")) != 0)
                return r;
        /* admissions restart at once (a failed run is logged; the next tick runs it again) */
        if ((r = imago_rollout_begin(ro)) == 0)
                r = imago_rollout_end(ro, imago_rollout_run(ro, ops, id, now));
        if (r != 0)
                IMAGO_ERR_R(r, "rollout %" PRIu64 ": admissions after resume", id);
        return 0;
}

int imago_rollout_cancel(struct imago_rollout *ro, const struct imago_rollout_ops *ops, uint64_t id,
                         uint64_t actor, int64_t now)
{
        struct imago_rollout_info info;
        char reason[64], detail[96];
        uint64_t cleared = 0;
        int r;

        if ((r = begin_with(ro, id, IMAGO_ROLLOUT_RUNNING, IMAGO_ROLLOUT_PAUSED, &info)) != 0)
                return r;
        snprintf(reason, sizeof(reason), "cancelled by user %" PRIu64, actor);
        r = imago_rollout_set_status(ro, id, IMAGO_ROLLOUT_CANCELLED, reason, now);
        if (r == 0)
                r = imago_rollout_clear_unfinished(ro, ops, id, &cleared);
        if ((r = imago_rollout_end(ro, r)) != 0)
                return r;
        snprintf(detail, sizeof(detail),
                 "{\"stage\":%u,\"admitted\":%" PRIu64 ",\"cleared\":%" PRIu64 "}", info.stage,
                 info.admitted, cleared);
        imago_rollout_audit(ops, "rollout.cancel", id, actor, detail);
        return 0;
}
