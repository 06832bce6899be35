/*
 * imago_rollout: staged rollouts of an image repository target to a group
 * (factory batch) and/or a tag of devices, with a limit of devices updating
 * at once and an automatic abort on a failure rate; device tags.  No MQTT,
 * no HTTP, no director here: the engine acts through ops (assign/clear a
 * device's target, audit).  docs/rollouts.md is the user's guide.
 *
 * Storage: one SQLite file (imago-cloud: DIR/rollout.db, WAL, 0600):
 * rollouts, rollout_devices, device_tags.
 *
 * A rollout is created over a fixed list of devices (the caller selects
 * them: enrolled devices of the group and/or tag); their order is a stable
 * shuffle (SHA-256 of rollout id and device id), every device starts queued.
 * Stages are cumulative percentages (strictly increasing, 1..100, the last
 * 100, at most IMAGO_ROLLOUT_STAGES_MAX).  Stage k lets at most
 * ceil(stages[k] * n / 100) devices be admitted in total; the next stage
 * opens when every device admitted so far has finished (succeeded, failed or
 * reverted).  Admitting = ops->assign; at most max_concurrent admitted
 * devices are unfinished at any time.
 *
 * Device states: queued (not admitted, or admitted but not yet reported),
 * downloading, installing, rebooting (as the device reports), succeeded
 * (reported with the rollout's target installed), failed (reported failed,
 * or silent for device_timeout_s after admission or after its last report),
 * reverted.  A failed or reverted device gets ops->clear.
 * Abort: once at least abort_min devices have finished, when
 * failed + reverted > abort_percent % of the finished ones: status ABORTED,
 * every admitted unfinished device and nothing else gets ops->clear, no more
 * admissions.  Pause: no admissions until resume (devices already updating
 * continue).  Cancel: like abort, by a user.  Completed: every device
 * finished (or the rollout has no devices).  A device is in at most one
 * rollout that is running or paused (create refuses the overlap).
 *
 * Audit (ops->audit): rollout.create, rollout.pause, rollout.resume,
 * rollout.cancel, rollout.abort, rollout.complete, with the actor (0 =
 * service) and a JSON detail.
 *
 * Ownership: open() allocates, close() frees (NULL fine).  Strings in
 * results are copies.  One thread.
 * Errors: IMAGO_EINVAL (spec out of limits: names, stages, percentages,
 * max_concurrent 1..100000, abort_min, timeout 60..30 days), IMAGO_ENOMEM,
 * IMAGO_ENOTFOUND (no such rollout), IMAGO_EEXIST (a device already in an
 * active rollout), IMAGO_EROLLOUT_STATE (pause a rollout that is not
 * running, resume one not paused, cancel one finished), IMAGO_EREG_DB.
 */
#ifndef IMAGO_CLOUD_ROLLOUT_ROLLOUT_H
#define IMAGO_CLOUD_ROLLOUT_ROLLOUT_H

#include "base/hex.h"
#include "ota/vreport.h"

#include <stddef.h>
#include <stdint.h>

#define IMAGO_ROLLOUT_STAGES_MAX  10
#define IMAGO_ROLLOUT_TAG_MAX     64 /* tags and groups: [A-Za-z0-9._-]{1,64} */
#define IMAGO_ROLLOUT_TAGS_MAX    32 /* tags of one device */
#define IMAGO_ROLLOUT_DEVICES_MAX 100000

enum imago_rollout_status {
        IMAGO_ROLLOUT_RUNNING = 1,
        IMAGO_ROLLOUT_PAUSED = 2,
        IMAGO_ROLLOUT_CANCELLED = 3,
        IMAGO_ROLLOUT_ABORTED = 4,
        IMAGO_ROLLOUT_COMPLETED = 5,
};
/* "running", "paused", "cancelled", "aborted", "completed" */
const char *imago_rollout_status_name(enum imago_rollout_status s);

struct imago_rollout_spec {
        char name[65];                             /* label, may be "" */
        char target[IMAGO_VREPORT_TARGET_MAX + 1]; /* image repository target */
        char group[IMAGO_ROLLOUT_TAG_MAX + 1];     /* "" when tag only */
        char tag[IMAGO_ROLLOUT_TAG_MAX + 1];       /* "" when group only; both: and */
        unsigned stages[IMAGO_ROLLOUT_STAGES_MAX]; /* cumulative %, e.g. 10, 50, 100 */
        size_t nstages;                            /* 1..IMAGO_ROLLOUT_STAGES_MAX */
        unsigned max_concurrent;                   /* 1..100000 */
        unsigned abort_percent;                    /* 0..100 */
        unsigned abort_min;                        /* 1..100000 */
        uint32_t device_timeout_s;                 /* 60..2592000; 0 = 3600 */
};

struct imago_rollout_info {
        uint64_t id;
        struct imago_rollout_spec spec;
        enum imago_rollout_status status;
        unsigned stage; /* index of the open stage */
        uint64_t created_by;
        int64_t created_at, updated_at;
        char reason[128]; /* why it aborted/was cancelled, "" otherwise */
        /* devices per state, indexed by enum imago_vreport_state (IDLE unused) */
        uint64_t count[8];
        uint64_t total, admitted;
};

struct imago_rollout_device {
        char device[IMAGO_DEVICE_ID_LEN + 1];
        enum imago_vreport_state state; /* QUEUED..REVERTED */
        int admitted;
        char error[48];
        unsigned progress;
        int64_t updated_at;
};

struct imago_rollout_ops {
        /* give device the rollout's target (director) and nudge it */
        int (*assign)(void *arg, const char *device, uint64_t rollout, const char *target);
        /* take the rollout's target away from device */
        int (*clear)(void *arg, const char *device, uint64_t rollout);
        /* audit record; detail is compact JSON text */
        void (*audit)(void *arg, const char *action, uint64_t rollout, uint64_t actor,
                      const char *detail);
        void *arg;
};

struct imago_rollout;

int imago_rollout_open(const char *path, struct imago_rollout **out);
void imago_rollout_close(struct imago_rollout *ro);

/* Validate a spec (the limits above). */
int imago_rollout_spec_check(const struct imago_rollout_spec *spec);

/* Create (status running) over devices[0..n) and admit the first ones at once. */
int imago_rollout_create(struct imago_rollout *ro, const struct imago_rollout_ops *ops,
                         const struct imago_rollout_spec *spec, const char *const *devices,
                         size_t n, uint64_t actor, int64_t now, uint64_t *id);

int imago_rollout_pause(struct imago_rollout *ro, const struct imago_rollout_ops *ops, uint64_t id,
                        uint64_t actor, int64_t now);
int imago_rollout_resume(struct imago_rollout *ro, const struct imago_rollout_ops *ops, uint64_t id,
                         uint64_t actor, int64_t now);
int imago_rollout_cancel(struct imago_rollout *ro, const struct imago_rollout_ops *ops, uint64_t id,
                         uint64_t actor, int64_t now);

/* A verified version report of device naming rollout (0: none): update its row if the device
 * is in that rollout, then run the engine for it.  Reports of other rollouts are ignored. */
int imago_rollout_on_report(struct imago_rollout *ro, const struct imago_rollout_ops *ops,
                            const char *device, uint64_t rollout, enum imago_vreport_state st,
                            const char *target, const char *error, unsigned progress, int64_t now);

/* Run the engine for every running rollout: timeouts, abort, stages, admissions, completion. */
int imago_rollout_tick(struct imago_rollout *ro, const struct imago_rollout_ops *ops, int64_t now);

int imago_rollout_get(struct imago_rollout *ro, uint64_t id, struct imago_rollout_info *out);
/* Newest first. */
int imago_rollout_list(struct imago_rollout *ro,
                       int (*cb)(const struct imago_rollout_info *i, void *arg), void *arg);
int imago_rollout_devices(struct imago_rollout *ro, uint64_t id,
                          int (*cb)(const struct imago_rollout_device *d, void *arg), void *arg);
/* The running or paused rollout device is in (*id 0 if none). */
int imago_rollout_active_of(struct imago_rollout *ro, const char *device, uint64_t *id);

/* Tags: replace the tags of device (n 0 clears); list a device's tags; devices with a tag. */
int imago_rollout_tags_set(struct imago_rollout *ro, const char *device, const char *const *tags,
                           size_t n);
int imago_rollout_tags(struct imago_rollout *ro, const char *device,
                       int (*cb)(const char *tag, void *arg), void *arg);
int imago_rollout_tagged(struct imago_rollout *ro, const char *tag,
                         int (*cb)(const char *device, void *arg), void *arg);

#endif
