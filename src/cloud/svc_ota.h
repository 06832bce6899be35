/*
 * imago-cloud service: updates over the device channel (docs/blk.md "Serving
 * (imago-cloud)", docs/cloud.md "Updates (OTA)").
 *
 * start opens the director (DIR/keys/director*.key, decrypted with the cloud
 * passphrase) and the rollout engine (DIR/rollout.db), and arms the engine's
 * tick (every 2 s; IMAGO_OTA_TICK_MS overrides, 50..600000).  A data
 * directory without director keys runs without OTA: one warning naming
 * `imago-cloud director keys`, *out NULL and 0 returned.  audit is borrowed
 * (rollout.* records) and must outlive the OTA side.
 *
 * message handles a device's MQTT message on a topic for which topic()
 * returned nonzero:
 *   imago/v1/d/<id>/blk/req     a block request of an ENROLLED device (per-device
 *                               token bucket; IMAGO_OTA_BLK_RATE requests/s, default
 *                               1024, burst a quarter of it, at least 32) answered on
 *                               imago/v1/d/<id>/blk/data from the director
 *                               (director/<file>) or DIR/repo (image/metadata/<file>,
 *                               image/targets/<path>: opened beneath those
 *                               directories, no symbolic link followed, regular
 *                               files only) or with a not-found frame;
 *   imago/v1/d/<id>/ota/report  a version report: verified with the key of the
 *                               device's enrolled certificate, recorded by the
 *                               director, acked on imago/v1/d/<id>/ota/ack (also with
 *                               the refusal's error name), passed to the rollout
 *                               engine; a report that does not verify gets no answer.
 * ops() are the rollout engine's operations for the API (assign: director target
 * from DIR/repo + assignment + nudge on ota/check; clear: + nudge; audit).
 *
 * Everything runs on the service's loop thread.  stop frees all (NULL fine).
 * Errors of start: IMAGO_ENOMEM, the director's and rollout engine's open errors.
 */
#ifndef IMAGO_CLOUD_SVC_OTA_H
#define IMAGO_CLOUD_SVC_OTA_H

#include <stddef.h>

struct imago_svc;
struct imago_audit;
struct imago_rollout;
struct imago_rollout_ops;
struct imago_svc_ota;

int imago_svc_ota_start(struct imago_svc *s, const char *passphrase, struct imago_audit *audit,
                        struct imago_svc_ota **out);
void imago_svc_ota_stop(struct imago_svc_ota *o);

struct imago_rollout *imago_svc_ota_rollout(struct imago_svc_ota *o);
const struct imago_rollout_ops *imago_svc_ota_ops(struct imago_svc_ota *o);

/* 1: a device's blk/req, 2: a device's ota/report, 0: not ours. */
int imago_svc_ota_topic(const char *topic);
void imago_svc_ota_message(struct imago_svc_ota *o, const char *topic, const void *buf, size_t len);

#endif
