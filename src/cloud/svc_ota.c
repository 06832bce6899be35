/* See svc_ota.h: the OTA side of imago-cloud (director, rollouts, reports, nudges). */
#define _GNU_SOURCE
#include "cloud/svc_ota_priv.h"

#include "base/err.h"
#include "base/num.h"
#include "cloud/audit/audit.h"
#include "cloud/director/director.h"
#include "cloud/svc_log.h"
#include "cloud/svc_priv.h"
#include "net/https.h"
#include "ota/vreport.h"

#include <fcntl.h>
#include <inttypes.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEV_PREFIX      "imago/v1/d/"
#define TICK_MS_DEFAULT 2000u
#define BLK_RATE        1024u /* block requests per second and device */
#define BLK_DEVICES     4096u /* devices the limiter remembers */

uint64_t imago_svc_ota_mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int imago_svc_ota_topic_id(const char *topic, const char *suffix, char id[33])
{
        size_t pl = strlen(DEV_PREFIX);

        if (topic == NULL || strncmp(topic, DEV_PREFIX, pl) != 0 ||
            strlen(topic) < pl + IMAGO_DEVICE_ID_LEN + 1 ||
            topic[pl + IMAGO_DEVICE_ID_LEN] != '/' ||
            strcmp(topic + pl + IMAGO_DEVICE_ID_LEN + 1, suffix) != 0)
                return 0;
        memcpy(id, topic + pl, IMAGO_DEVICE_ID_LEN);
        id[IMAGO_DEVICE_ID_LEN] = '\0';
        return imago_device_id_valid(id);
}

int imago_svc_ota_topic(const char *topic)
{
        char id[33];

        if (imago_svc_ota_topic_id(topic, "blk/req", id))
                return 1;
        if (imago_svc_ota_topic_id(topic, "ota/report", id))
                return 2;
        return 0;
}

static int publish_dev(struct imago_svc_ota *o, const char *id, const char *suffix, const void *buf,
                       size_t len)
{
        char topic[96];
        int n = snprintf(topic, sizeof(topic), DEV_PREFIX "%s/%s", id, suffix);

        if (n < 0 || (size_t)n >= sizeof(topic))
                return IMAGO_EINVAL;
        return imago_svc_publish(o->s, topic, buf, len);
}

static int nudge(struct imago_svc_ota *o, const char *id)
{
        static const char msg[] = "{\"v\":1}";

        return publish_dev(o, id, "ota/check", msg, sizeof(msg) - 1);
}

/* ---- rollout ops ---- */

static int op_assign(void *arg, const char *device, uint64_t rollout, const char *target)
{
        struct imago_svc_ota *o = arg;
        struct imago_director_target t;
        int r, pr = IMAGO_OK;

        memset(&t, 0, sizeof(t));
        if ((r = imago_director_target_from_repo(o->s->dir, target, &t)) == IMAGO_OK) {
                t.rollout = rollout;
                if ((r = imago_director_assign(o->dir, device, &t, time(NULL))) == IMAGO_OK)
                        pr = nudge(o, device);
        }
        imago_svc_log(r == IMAGO_OK ? IMAGO_LOG_INFO : IMAGO_LOG_ERROR, "ota_assign",
                      "device=%s rollout=%" PRIu64 " target=%s result=%s nudge=%s", device, rollout,
                      target, r == IMAGO_OK ? "ok" : imago_errname(r),
                      pr == IMAGO_OK ? "ok" : imago_errname(pr));
        return r;
}

static int op_clear(void *arg, const char *device, uint64_t rollout)
{
        struct imago_svc_ota *o = arg;
        int r, pr = IMAGO_OK;

        if ((r = imago_director_clear(o->dir, device, time(NULL))) == IMAGO_OK)
                pr = nudge(o, device);
        imago_svc_log(r == IMAGO_OK ? IMAGO_LOG_INFO : IMAGO_LOG_ERROR, "ota_clear",
                      "device=%s rollout=%" PRIu64 " result=%s nudge=%s", device, rollout,
                      r == IMAGO_OK ? "ok" : imago_errname(r),
                      pr == IMAGO_OK ? "ok" : imago_errname(pr));
        return r;
}

static void op_audit(void *arg, const char *action, uint64_t rollout, uint64_t actor,
                     const char *detail)
{
        struct imago_svc_ota *o = arg;
        char who[32], obj[40];
        int r;

        if (o->audit == NULL)
                return;
        if (actor == 0)
                snprintf(who, sizeof(who), "service");
        else
                snprintf(who, sizeof(who), "user:%" PRIu64, actor);
        snprintf(obj, sizeof(obj), "rollout/%" PRIu64, rollout);
        if ((r = imago_audit_append(o->audit, time(NULL), who, action, obj,
                                    detail != NULL ? detail : "", NULL, NULL)) != IMAGO_OK)
                imago_svc_log(IMAGO_LOG_ERROR, "audit", "action=%s result=%s", action,
                              imago_errname(r));
}

/* ---- version reports ---- */

/* The P-256 key of the certificate the device enrolled with (registry). */
static int device_key(struct imago_svc *s, const char *id, struct imago_pubkey *key)
{
        struct imago_reg_device d;
        X509 *x = NULL;
        BIO *bio = NULL;
        uint8_t *der = NULL;
        int n, r = IMAGO_EREG_STATE;

        memset(&d, 0, sizeof(d));
        if ((r = imago_registry_get(s->reg, id, &d)) != IMAGO_OK)
                goto out;
        r = IMAGO_EREG_STATE;
        if (d.state != IMAGO_REG_ENROLLED || d.cert_pem == NULL)
                goto out;
        r = IMAGO_EMALFORMED;
        if ((bio = BIO_new_mem_buf(d.cert_pem, -1)) == NULL ||
            (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL)
                goto out;
        if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der)) <= 0)
                goto out;
        if ((r = imago_pubkey_from_spki(key, der, (size_t)n)) != IMAGO_OK)
                goto out;
        r = key->type == IMAGO_KEY_P256 ? IMAGO_OK : IMAGO_EKEY_TYPE;
out:
        OPENSSL_free(der);
        X509_free(x);
        BIO_free(bio);
        imago_registry_device_free(&d);
        return r;
}

static void ota_report(struct imago_svc_ota *o, const char *id, const void *buf, size_t len)
{
        struct imago_pubkey key;
        struct imago_vreport r, rr;
        char *ack = NULL;
        size_t ack_len = 0;
        int rc, dup = 0, pr = IMAGO_OK, ro = IMAGO_OK;
        int64_t now = time(NULL);

        memset(&key, 0, sizeof(key));
        memset(&r, 0, sizeof(r));
        if ((rc = device_key(o->s, id, &key)) != IMAGO_OK ||
            (rc = imago_vreport_verify(buf, len, &key, id, &r)) != IMAGO_OK) {
                /* not verified: no answer (like commands) */
                imago_svc_log(IMAGO_LOG_WARN, "ota_report", "device=%s result=%s answer=none", id,
                              imago_errname(rc));
                return;
        }
        memset(&rr, 0, sizeof(rr));
        rc = imago_director_report(o->dir, id, buf, len, &key, now, &rr, &dup);
        if (rc == IMAGO_OK && !dup)
                ro = imago_rollout_on_report(o->ro, &o->ops, id, r.rollout, r.state, r.target,
                                             r.error, r.progress, now);
        if (imago_vreport_ack_build(r.nonce, rc, &ack, &ack_len) == IMAGO_OK)
                pr = publish_dev(o, id, "ota/ack", ack, ack_len);
        else
                pr = IMAGO_ENOMEM;
        imago_svc_log(
            rc == IMAGO_OK && ro == IMAGO_OK ? IMAGO_LOG_INFO : IMAGO_LOG_WARN, "ota_report",
            "device=%s state=%s target=%s rollout=%" PRIu64 " counter=%" PRIu64
            " result=%s dup=%d rollout_result=%s ack=%s",
            id, imago_vreport_state_name(r.state) ? imago_vreport_state_name(r.state) : "?",
            r.target[0] != '\0' ? r.target : "-", r.rollout, r.counter,
            rc == IMAGO_OK ? "ok" : imago_errname(rc), dup,
            ro == IMAGO_OK ? "ok" : imago_errname(ro), pr == IMAGO_OK ? "ok" : imago_errname(pr));
        free(ack);
}

/* ---- lifecycle ---- */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
        struct imago_svc_ota *o = arg;
        int r;

        (void)fd;
        (void)what;
        if ((r = imago_rollout_tick(o->ro, &o->ops, time(NULL))) != IMAGO_OK)
                imago_svc_log(IMAGO_LOG_ERROR, "ota_tick", "result=%s", imago_errname(r));
}

static uint64_t env_u64(const char *name, uint64_t def, uint64_t min, uint64_t max)
{
        const char *v = getenv(name);
        uint64_t x;

        if (v == NULL || v[0] == '\0')
                return def;
        if (imago_parse_u64(v, max, &x) != IMAGO_OK || x < min || x > max) {
                imago_svc_log(IMAGO_LOG_WARN, "config", "env=%s result=ignored range=%llu..%llu",
                              name, (unsigned long long)min, (unsigned long long)max);
                return def;
        }
        return x;
}

int imago_svc_ota_start(struct imago_svc *s, const char *passphrase, struct imago_audit *audit,
                        struct imago_svc_ota **out)
{
        struct imago_svc_ota *o = NULL;
        char path[IMAGO_CLOUD_PATH_MAX + 32];
        struct timeval tv;
        uint64_t rate;
        int r;

        *out = NULL;
        if (!imago_director_keys_exist(s->dir)) {
                imago_svc_log(IMAGO_LOG_WARN, "ota",
                              "result=off reason=\"no director keys\" hint=\"imago-cloud director "
                              "keys (docs/director.md)\"");
                return IMAGO_OK;
        }
        if ((o = calloc(1, sizeof(*o))) == NULL)
                return IMAGO_ENOMEM;
        o->s = s;
        o->audit = audit;
        o->data_fd = -1;
        o->ops.assign = op_assign;
        o->ops.clear = op_clear;
        o->ops.audit = op_audit;
        o->ops.arg = o;
        if ((r = imago_director_open(s->dir, passphrase, &o->dir)) != IMAGO_OK) {
                imago_svc_log(IMAGO_LOG_ERROR, "director_open", "result=%s", imago_errname(r));
                goto out;
        }
        if ((r = imago_svc_path(s, "rollout.db", path, sizeof(path))) != IMAGO_OK)
                goto out;
        if ((r = imago_rollout_open(path, &o->ro)) != IMAGO_OK) {
                imago_svc_log(IMAGO_LOG_ERROR, "rollout_open", "result=%s", imago_errname(r));
                goto out;
        }
        rate = env_u64("IMAGO_OTA_BLK_RATE", BLK_RATE, 1, 1000000);
        if ((r = imago_ratelimit_new((double)rate, rate / 4 < 32 ? 32.0 : (double)(rate / 4),
                                     BLK_DEVICES, &o->rl)) != IMAGO_OK)
                goto out;
        r = IMAGO_EIO;
        if ((o->data_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                goto out;
        o->tick_ms = (uint32_t)env_u64("IMAGO_OTA_TICK_MS", TICK_MS_DEFAULT, 50, 600000);
        r = IMAGO_ENOMEM;
        if ((o->ev_tick = event_new(s->base, -1, EV_PERSIST, on_tick, o)) == NULL)
                goto out;
        tv.tv_sec = o->tick_ms / 1000;
        tv.tv_usec = (suseconds_t)(o->tick_ms % 1000) * 1000;
        event_add(o->ev_tick, &tv);
        imago_svc_log(IMAGO_LOG_INFO, "ota", "result=on tick_ms=%u blk_rate=%llu",
                      (unsigned)o->tick_ms, (unsigned long long)rate);
        *out = o;
        o = NULL;
        r = IMAGO_OK;
out:
        imago_svc_ota_stop(o);
        return r;
}

void imago_svc_ota_stop(struct imago_svc_ota *o)
{
        if (o == NULL)
                return;
        if (o->ev_tick != NULL)
                event_free(o->ev_tick);
        imago_ratelimit_free(o->rl);
        imago_rollout_close(o->ro);
        imago_director_close(o->dir);
        if (o->data_fd >= 0)
                close(o->data_fd);
        free(o);
}

struct imago_rollout *imago_svc_ota_rollout(struct imago_svc_ota *o)
{
        return o != NULL ? o->ro : NULL;
}

const struct imago_rollout_ops *imago_svc_ota_ops(struct imago_svc_ota *o)
{
        return o != NULL ? &o->ops : NULL;
}

void imago_svc_ota_message(struct imago_svc_ota *o, const char *topic, const void *buf, size_t len)
{
        char id[33];

        if (o == NULL)
                return;
        if (imago_svc_ota_topic_id(topic, "blk/req", id))
                imago_svc_ota_blk(o, id, buf, len);
        else if (imago_svc_ota_topic_id(topic, "ota/report", id))
                ota_report(o, id, buf, len);
}
