/* imago_devsvc: what the files of the module share (see devsvc.h). */
#ifndef IMAGO_CLOUD_DEVSVC_PRIV_H
#define IMAGO_CLOUD_DEVSVC_PRIV_H

#include "cloud/devsvc/devsvc.h"

#include <jansson.h>

struct imago_devsvc {
        struct imago_devsvc_config c;
        struct imago_devsvc_ops ops;
};

int64_t imago_devsvc_now(const struct imago_devsvc *ds);
/* 0 if device is ENROLLED; IMAGO_EREG_UNKNOWN, IMAGO_EREG_STATE or a registry error. */
int imago_devsvc_enrolled(struct imago_devsvc *ds, const char *device);
/* Publish text on imago/v1/d/<device>/<suffix>. */
int imago_devsvc_publish(struct imago_devsvc *ds, const char *device, const char *suffix,
                         const char *text, size_t len);
/* Append an audit record; detail (may be NULL) is consumed. */
int imago_devsvc_audit(struct imago_devsvc *ds, const char *actor, const char *action,
                       const char *device, json_t *detail);
/* "user:<id>" into buf (cap >= 32). */
void imago_devsvc_user_actor(uint64_t user, char *buf, size_t cap);
/* Publish state/delta if desired differs from reported (0 also when nothing was sent). */
int imago_devsvc_publish_delta(struct imago_devsvc *ds, const char *device, const json_t *desired,
                               uint64_t desired_version, const json_t *reported);

/* Handlers of the incoming topics; the device is ENROLLED. */
void imago_devsvc_on_register(struct imago_devsvc *ds, const char *device, const uint8_t *buf,
                              size_t len);
void imago_devsvc_on_report(struct imago_devsvc *ds, const char *device, const uint8_t *buf,
                            size_t len);
void imago_devsvc_on_result(struct imago_devsvc *ds, const char *device, const uint8_t *buf,
                            size_t len);

#endif
