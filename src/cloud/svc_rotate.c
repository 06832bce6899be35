/*
 * See svc.h: operator rotation requests.  Every pending request (registry)
 * gets `rotate-now` on imago/v1/d/<id>/rot/now, QoS 1: when the MQTT client
 * connects (service start, broker reconnect), on SIGHUP (`imago-cloud
 * devices rotate` signals it), one second after a device with a pending
 * request is seen connecting (it has subscribed by then), and every
 * IMAGO_SVC_ROTATE_RETRY_S while requests remain.  The registry clears a
 * request when the device's new certificate is recorded.
 */
#define _POSIX_C_SOURCE 200809L
#include "cloud/svc_priv.h"

#include "base/err.h"
#include "base/hex.h"
#include "cloud/svc_log.h"
#include "proto/proto.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define IMAGO_SVC_ROTATE_RETRY_S 60
#define IMAGO_SVC_ROTATE_SEEN_MS 1000

struct sent {
        struct imago_svc *s;
        const char *why;
        int n, failed;
};

static int send_one(const char *id, int64_t requested_at, void *arg)
{
        struct sent *c = arg;
        struct imago_proto_msg m;
        unsigned char rnd[IMAGO_PROTO_NONCE_LEN / 2];
        char topic[128], *body = NULL;
        size_t len = 0;
        int r;

        memset(&m, 0, sizeof(m));
        m.type = IMAGO_PROTO_ROTATE_NOW;
        memcpy(m.id, id, IMAGO_PROTO_ID_LEN + 1);
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        imago_hex_encode(rnd, sizeof(rnd), m.nonce);
        if ((r = imago_proto_topic(IMAGO_PROTO_ROTATE_NOW, id, topic, sizeof(topic))) != IMAGO_OK ||
            (r = imago_proto_build(&m, &body, &len)) != IMAGO_OK)
                goto out;
        r = imago_svc_publish(c->s, topic, body, len);
out:
        imago_svc_log(r == IMAGO_OK ? IMAGO_LOG_INFO : IMAGO_LOG_WARN, "rotate_now",
                      "id=%s requested_at=%lld trigger=%s publish=%s", id, (long long)requested_at,
                      c->why, r == IMAGO_OK ? "ok" : imago_errname(r));
        if (r == IMAGO_OK)
                c->n++;
        else
                c->failed++;
        free(body);
        return 0; /* one failure does not stop the others */
}

static void schedule(struct imago_svc *s, long ms)
{
        struct timeval tv;

        if (s->ev_rot == NULL)
                return;
        tv.tv_sec = ms / 1000;
        tv.tv_usec = (ms % 1000) * 1000;
        evtimer_add(s->ev_rot, &tv); /* re-adding replaces the previous timeout */
}

void imago_svc_rotate_send(struct imago_svc *s, const char *why)
{
        struct sent c = {s, why, 0, 0};
        int r;

        if (!s->connected) {
                /* on_connect sends them */
                imago_svc_log(IMAGO_LOG_DEBUG, "rotate_now", "trigger=%s result=not_connected",
                              why);
                return;
        }
        if ((r = imago_registry_rotate_pending(s->reg, send_one, &c)) != IMAGO_OK)
                imago_svc_log(IMAGO_LOG_ERROR, "rotate_pending", "result=%s", imago_errname(r));
        if (c.n + c.failed > 0 || r != IMAGO_OK)
                schedule(s, IMAGO_SVC_ROTATE_RETRY_S * 1000L);
        else if (s->ev_rot != NULL)
                evtimer_del(s->ev_rot);
}

void imago_svc_rotate_seen(struct imago_svc *s, const char *id)
{
        struct imago_reg_device dev;

        memset(&dev, 0, sizeof(dev));
        if (imago_registry_get(s->reg, id, &dev) == IMAGO_OK && dev.state == IMAGO_REG_ENROLLED &&
            dev.rotate_requested != 0) {
                imago_svc_log(IMAGO_LOG_INFO, "rotate_now", "id=%s trigger=seen send_in_ms=%d", id,
                              IMAGO_SVC_ROTATE_SEEN_MS);
                schedule(s, IMAGO_SVC_ROTATE_SEEN_MS);
        }
        imago_registry_device_free(&dev);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
        (void)fd;
        (void)what;
        imago_svc_rotate_send(arg, "timer");
}

int imago_svc_rotate_start(struct imago_svc *s)
{
        if ((s->ev_rot = evtimer_new(s->base, on_timer, s)) == NULL)
                return IMAGO_ENOMEM;
        return IMAGO_OK;
}

void imago_svc_rotate_stop(struct imago_svc *s)
{
        if (s->ev_rot != NULL)
                event_free(s->ev_rot);
        s->ev_rot = NULL;
}
