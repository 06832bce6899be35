/* Shared by the rollout unit tests: a temporary rollout.db, device ids, a recording ops. */
#ifndef TEST_ROLLOUT_UTIL_H
#define TEST_ROLLOUT_UTIL_H

#include "base/err.h"
#include "cloud/rollout/rollout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RT_MAXDEV 256
#define RT_TARGET "firmware-2.0.0.bin"

struct rt_ops {
        struct imago_rollout_ops ops;
        int assigned[RT_MAXDEV]; /* assign calls per device index */
        int cleared[RT_MAXDEV];  /* clear calls per device index */
        char order[RT_MAXDEV][IMAGO_DEVICE_ID_LEN + 1];
        size_t norder;   /* successful assigns, in order */
        int fail_assign; /* the next so many assigns fail */
        char audit[32][24];
        char detail[32][512];
        size_t naudit;
        uint64_t last_rollout;
};

struct rt {
        char dir[64];
        char path[96];
        struct imago_rollout *ro;
        struct rt_ops f;
        char dev[RT_MAXDEV][IMAGO_DEVICE_ID_LEN + 1];
        const char *devp[RT_MAXDEV];
};

static inline int rt_index(const char *device)
{
        /* ids are "%032x" of the index + 0xa0000 */
        unsigned long v = strtoul(device + 16, NULL, 16);

        return (int)(v - 0xa0000UL);
}

static inline int rt_assign(void *arg, const char *device, uint64_t rollout, const char *target)
{
        struct rt_ops *f = arg;
        int i = rt_index(device);

        if (strcmp(target, RT_TARGET) != 0 || i < 0 || i >= RT_MAXDEV)
                return IMAGO_EINVAL;
        if (f->fail_assign > 0) {
                f->fail_assign--;
                return IMAGO_EIO;
        }
        f->assigned[i]++;
        f->last_rollout = rollout;
        if (f->norder < RT_MAXDEV)
                memcpy(f->order[f->norder++], device, IMAGO_DEVICE_ID_LEN + 1);
        return 0;
}

static inline int rt_clear(void *arg, const char *device, uint64_t rollout)
{
        struct rt_ops *f = arg;
        int i = rt_index(device);

        (void)rollout;
        if (i < 0 || i >= RT_MAXDEV)
                return IMAGO_EINVAL;
        f->cleared[i]++;
        return 0;
}

static inline void rt_audit(void *arg, const char *action, uint64_t rollout, uint64_t actor,
                            const char *detail)
{
        struct rt_ops *f = arg;

        (void)rollout;
        (void)actor;
        if (f->naudit < 32) {
                snprintf(f->audit[f->naudit], sizeof(f->audit[0]), "%s", action);
                snprintf(f->detail[f->naudit], sizeof(f->detail[0]), "%s", detail);
                f->naudit++;
        }
}

static inline void rt_ops_reset(struct rt_ops *f)
{
        memset(f, 0, sizeof(*f));
        f->ops.assign = rt_assign;
        f->ops.clear = rt_clear;
        f->ops.audit = rt_audit;
        f->ops.arg = f;
}

static inline int rt_open(struct rt *t)
{
        int i;

        memset(t, 0, sizeof(*t));
        snprintf(t->dir, sizeof(t->dir), "/tmp/imago-rollout-XXXXXX");
        if (mkdtemp(t->dir) == NULL)
                return -1;
        snprintf(t->path, sizeof(t->path), "%s/rollout.db", t->dir);
        for (i = 0; i < RT_MAXDEV; i++) {
                snprintf(t->dev[i], sizeof(t->dev[i]), "%032x", 0xa0000 + i);
                t->devp[i] = t->dev[i];
        }
        rt_ops_reset(&t->f);
        return imago_rollout_open(t->path, &t->ro);
}

static inline void rt_close(struct rt *t)
{
        char p[128];

        imago_rollout_close(t->ro);
        t->ro = NULL;
        unlink(t->path);
        snprintf(p, sizeof(p), "%s-wal", t->path);
        unlink(p);
        snprintf(p, sizeof(p), "%s-shm", t->path);
        unlink(p);
        rmdir(t->dir);
}

static inline void rt_spec(struct imago_rollout_spec *s, const unsigned *stages, size_t nstages,
                           unsigned max_concurrent, unsigned abort_percent, unsigned abort_min)
{
        memset(s, 0, sizeof(*s));
        snprintf(s->name, sizeof(s->name), "test rollout (1)");
        snprintf(s->target, sizeof(s->target), "%s", RT_TARGET);
        snprintf(s->group, sizeof(s->group), "batch-2026.11");
        memcpy(s->stages, stages, nstages * sizeof(*stages));
        s->nstages = nstages;
        s->max_concurrent = max_concurrent;
        s->abort_percent = abort_percent;
        s->abort_min = abort_min;
        s->device_timeout_s = 0;
}

/* Device rows of a rollout, by device index. */
struct rt_rows {
        struct imago_rollout_device d[RT_MAXDEV];
        int present[RT_MAXDEV];
        size_t n;
};

static inline int rt_rows_cb(const struct imago_rollout_device *d, void *arg)
{
        struct rt_rows *rows = arg;
        int i = rt_index(d->device);

        if (i < 0 || i >= RT_MAXDEV)
                return IMAGO_EINVAL;
        rows->d[i] = *d;
        rows->present[i] = 1;
        rows->n++;
        return 0;
}

static inline int rt_rows(struct rt *t, uint64_t id, struct rt_rows *rows)
{
        memset(rows, 0, sizeof(*rows));
        return imago_rollout_devices(t->ro, id, rt_rows_cb, rows);
}

#endif
