/* svc_ota internals shared by svc_ota.c (lifecycle, reports, rollout ops) and svc_ota_blk.c. */
#ifndef IMAGO_CLOUD_SVC_OTA_PRIV_H
#define IMAGO_CLOUD_SVC_OTA_PRIV_H

#include "cloud/rollout/rollout.h"
#include "cloud/svc_ota.h"

#include <stdint.h>

struct imago_director;
struct imago_ratelimit;
struct event;

#define IMAGO_SVC_OTA_ECACHE    64   /* devices whose registry state is remembered */
#define IMAGO_SVC_OTA_ECACHE_MS 1000 /* ... for this long */

struct imago_svc_ota_ecache {
        char id[33];
        int enrolled;
        uint64_t until_ms;
};

struct imago_svc_ota {
        struct imago_svc *s; /* borrowed */
        struct imago_audit *audit;
        struct imago_director *dir;
        struct imago_rollout *ro;
        struct imago_rollout_ops ops;
        struct imago_ratelimit *rl;
        struct event *ev_tick;
        uint32_t tick_ms;
        int data_fd; /* the data directory */
        /* registry state of recent requesters: one lookup per device and second, not per block */
        struct imago_svc_ota_ecache ecache[IMAGO_SVC_OTA_ECACHE];
};

/* Copy the 32-character device id out of imago/v1/d/<id>/<suffix>; 0 if topic is not that. */
int imago_svc_ota_topic_id(const char *topic, const char *suffix, char id[33]);
/*
 * Open base/rel beneath dirfd one component at a time, never following a
 * symbolic link (O_NOFOLLOW on every component), directories on the way,
 * a regular file at the end (read-only); empty, "." and ".." components
 * refused.  The fd, or -1 when any of it fails (all: "not found").
 */
int imago_svc_ota_open_beneath(int dirfd, const char *base, const char *rel);
/* blk/req of device id (svc_ota_blk.c). */
void imago_svc_ota_blk(struct imago_svc_ota *o, const char *id, const void *buf, size_t len);
/* Monotonic milliseconds. */
uint64_t imago_svc_ota_mono_ms(void);

#endif
