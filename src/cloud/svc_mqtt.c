/* See svc.h: the service's MQTT client, libmosquitto driven by the libevent loop. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/svc_priv.h"

#include "base/err.h"
#include "cloud/svc_log.h"
#include "cloud/svc_ota.h"

#include <fcntl.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define KEEPALIVE_S    30
#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000

static const char *const subs[] = {"imago/v1/prov/+/req",    "imago/v1/d/+/rot/req",
                                   IMAGO_SVC_SEEN_TOPIC,     "imago/v1/d/+/reg/req",
                                   "imago/v1/d/+/state/rep", "imago/v1/d/+/cmd/res",
                                   "imago/v1/d/+/blk/req",   "imago/v1/d/+/ota/report"};
#define NSUBS ((int)(sizeof(subs) / sizeof(subs[0])))

static void on_sock(evutil_socket_t fd, short what, void *arg);

/* Watch the socket for writing only while libmosquitto has bytes queued. */
static void watch(struct imago_svc *s)
{
        int want = s->mosq != NULL && s->sock >= 0 && mosquitto_want_write(s->mosq);

        if (s->sock < 0 || (s->ev_sock != NULL && want == s->writing))
                return;
        if (s->ev_sock != NULL)
                event_free(s->ev_sock);
        s->ev_sock =
            event_new(s->base, s->sock, EV_READ | EV_PERSIST | (want ? EV_WRITE : 0), on_sock, s);
        s->writing = want;
        if (s->ev_sock != NULL)
                event_add(s->ev_sock, NULL);
}

static void schedule_retry(struct imago_svc *s)
{
        unsigned jitter = 0;
        struct timeval tv;

        if (s->ev_sock != NULL) {
                event_free(s->ev_sock);
                s->ev_sock = NULL;
        }
        s->sock = -1;
        s->connected = 0;
        (void)RAND_bytes((unsigned char *)&jitter, sizeof(jitter));
        tv.tv_sec = (s->backoff_ms + jitter % (s->backoff_ms / 2 + 1)) / 1000;
        tv.tv_usec = ((s->backoff_ms + jitter % (s->backoff_ms / 2 + 1)) % 1000) * 1000;
        evtimer_add(s->ev_retry, &tv);
        s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
}

static void lost(struct imago_svc *s, int rc)
{
        if (s->sock < 0)
                return;
        imago_svc_log(IMAGO_LOG_WARN, "mqtt_lost", "rc=%d reason=\"%s\" retry_ms=%u", rc,
                      mosquitto_strerror(rc), s->backoff_ms);
        schedule_retry(s);
}

static void on_sock(evutil_socket_t fd, short what, void *arg)
{
        struct imago_svc *s = arg;
        int rc = MOSQ_ERR_SUCCESS;

        (void)fd;
        if (what & EV_READ)
                rc = mosquitto_loop_read(s->mosq, 1);
        if (rc == MOSQ_ERR_SUCCESS && (what & EV_WRITE))
                rc = mosquitto_loop_write(s->mosq, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
                lost(s, rc);
                return;
        }
        watch(s);
}

static void on_misc(evutil_socket_t fd, short what, void *arg)
{
        struct imago_svc *s = arg;
        int rc;

        (void)fd;
        (void)what;
        if (s->sock < 0)
                return;
        if ((rc = mosquitto_loop_misc(s->mosq)) != MOSQ_ERR_SUCCESS) {
                lost(s, rc);
                return;
        }
        watch(s);
}

static void try_connect(struct imago_svc *s)
{
        int rc, fd, fl;

        /*
         * A blocking TCP connect and TLS handshake to the broker on loopback
         * (libmosquitto 2.0's async connect cannot take a user SSL_CTX
         * handshake through loop_write reliably); bounded by the kernel's
         * connect refusal when the broker is down.
         */
        if (!s->tried)
                rc = mosquitto_connect(s->mosq, s->cfg.mqtt_host, s->cfg.mqtt_port, KEEPALIVE_S);
        else
                rc = mosquitto_reconnect(s->mosq);
        s->tried = 1;
        if (rc != MOSQ_ERR_SUCCESS || (fd = mosquitto_socket(s->mosq)) < 0) {
                imago_svc_log(IMAGO_LOG_WARN, "mqtt_connect",
                              "result=fail rc=%d reason=\"%s\" retry_ms=%u", rc,
                              mosquitto_strerror(rc), s->backoff_ms);
                s->sock = -1;
                schedule_retry(s);
                return;
        }
        if ((fl = fcntl(fd, F_GETFL)) >= 0)
                (void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        s->sock = fd;
        s->writing = 0;
        watch(s);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
        (void)fd;
        (void)what;
        try_connect(arg);
}

static void on_connect(struct mosquitto *m, void *arg, int rc)
{
        struct imago_svc *s = arg;

        if (rc != 0) {
                imago_svc_log(IMAGO_LOG_WARN, "mqtt_connack", "result=refused rc=%d", rc);
                return;
        }
        s->connected = 1;
        s->backoff_ms = BACKOFF_MIN_MS;
        rc = mosquitto_subscribe_multiple(m, NULL, NSUBS, (char *const *const)subs, 1, 0, NULL);
        imago_svc_log(IMAGO_LOG_INFO, "mqtt_connected", "client_id=%s subscribe_rc=%d",
                      s->cfg.service_cn, rc);
        /* pending rotation requests survive restarts: send them on every connection */
        imago_svc_rotate_send(s, "connect");
        watch(s);
}

static void on_disconnect(struct mosquitto *m, void *arg, int rc)
{
        struct imago_svc *s = arg;

        (void)m;
        s->connected = 0;
        if (rc != 0)
                lost(s, rc);
}

static void deny_refresh(struct imago_svc *s)
{
        char path[IMAGO_CLOUD_PATH_MAX + 32];
        int r;

        if ((r = imago_svc_path(s, IMAGO_CLOUD_F_DENY, path, sizeof(path))) == IMAGO_OK &&
            (r = imago_cloud_datadir_write_deny(s->reg, path)) == IMAGO_OK)
                r = imago_svc_deny_reload(s);
        imago_svc_log(r == IMAGO_OK ? IMAGO_LOG_INFO : IMAGO_LOG_ERROR, "deny_refresh", "result=%s",
                      r == IMAGO_OK ? "ok" : imago_errname(r));
}

static void on_seen(struct imago_svc *s, const struct mosquitto_message *msg)
{
        struct imago_svc_seen seen;
        int r, retired = 0;

        if ((r = imago_svc_seen_parse(msg->payload, (size_t)msg->payloadlen, &seen)) != 0) {
                imago_svc_log(IMAGO_LOG_WARN, "seen", "result=%s", imago_errname(r));
                return;
        }
        r = imago_svc_handle_seen(s->reg, &seen, &retired);
        imago_svc_log(r == IMAGO_OK ? IMAGO_LOG_DEBUG : IMAGO_LOG_WARN, "seen",
                      "id=%s role=%s serial=%s retired=%d result=%s", seen.id,
                      seen.role == 2 ? "device" : "birth", seen.serial, retired,
                      r == IMAGO_OK ? "ok" : imago_errname(r));
        if (r == IMAGO_OK && retired > 0)
                deny_refresh(s);
        /* a device back online with a rotation still pending gets rotate-now again */
        if (seen.role == 2)
                imago_svc_rotate_seen(s, seen.id);
}

static void on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
        struct imago_svc *s = arg;
        char topic[128], serial[41] = "";
        char *reply = NULL;
        size_t len = 0;
        int r, result = 0;

        (void)m;
        if (msg->payloadlen < 0)
                return;
        if (strcmp(msg->topic, IMAGO_SVC_SEEN_TOPIC) == 0) {
                on_seen(s, msg);
                return;
        }
        /* registration, state and command results: the devsvc (svc_app.c) */
        if (imago_svc_app_topic(msg->topic)) {
                imago_svc_app_message(s, msg->topic, msg->payload, (size_t)msg->payloadlen);
                return;
        }
        /* block requests and version reports: svc_ota.c */
        if (imago_svc_ota_topic(msg->topic)) {
                imago_svc_ota_message(s->ota, msg->topic, msg->payload, (size_t)msg->payloadlen);
                return;
        }
        r = imago_svc_handle_request(&s->iss, s->reg, msg->topic, msg->payload,
                                     (size_t)msg->payloadlen, &reply, &len, topic, sizeof(topic),
                                     &result, serial);
        if (r != IMAGO_OK) {
                imago_svc_log(IMAGO_LOG_WARN, "request", "result=dropped reason=%s bytes=%d",
                              imago_errname(r), msg->payloadlen);
                return;
        }
        r = imago_svc_publish(s, topic, reply, len);
        imago_svc_log(result == IMAGO_OK ? IMAGO_LOG_INFO : IMAGO_LOG_WARN, "request",
                      "topic=%s result=%s serial=%s publish=%s", msg->topic,
                      result == IMAGO_OK ? "cert" : imago_errname(result),
                      serial[0] != '\0' ? serial : "-", r == IMAGO_OK ? "ok" : imago_errname(r));
        free(reply);
}

int imago_svc_publish(struct imago_svc *s, const char *topic, const void *payload, size_t len)
{
        int rc;

        if (s->mosq == NULL || len > IMAGO_PROTO_MAX_PUBLISH)
                return IMAGO_EINVAL;
        rc = mosquitto_publish(s->mosq, NULL, topic, (int)len, payload, 1, false);
        if (rc != MOSQ_ERR_SUCCESS)
                return IMAGO_EIO;
        watch(s);
        return IMAGO_OK;
}

static int publish_json(struct imago_svc *s, json_t *obj)
{
        char *text = NULL;
        int r = IMAGO_ENOMEM;

        if (obj != NULL && (text = json_dumps(obj, JSON_COMPACT)) != NULL)
                r = imago_svc_publish(s, IMAGO_SVC_CONTROL_TOPIC, text, strlen(text));
        free(text);
        json_decref(obj);
        return r;
}

int imago_svc_deny_id(struct imago_svc *s, const char *id, const char *reason)
{
        if (s == NULL || id == NULL || reason == NULL ||
            (strcmp(reason, "revoked") != 0 && strcmp(reason, "suspended") != 0))
                return IMAGO_EINVAL;
        return publish_json(s,
                            json_pack("{s:s, s:s, s:s}", "op", "deny", "id", id, "reason", reason));
}

int imago_svc_deny_reload(struct imago_svc *s)
{
        if (s == NULL)
                return IMAGO_EINVAL;
        return publish_json(s, json_pack("{s:s}", "op", "reload"));
}

int imago_svc_mqtt_start(struct imago_svc *s, const char *passphrase)
{
        char cert[IMAGO_CLOUD_PATH_MAX + 32], key[IMAGO_CLOUD_PATH_MAX + 32];
        char ca[IMAGO_CLOUD_PATH_MAX + 32];
        struct timeval misc = {0, 250000};
        int r;

        s->sock = -1;
        s->backoff_ms = BACKOFF_MIN_MS;
        if ((r = imago_svc_path(s, IMAGO_CLOUD_F_SERVICE_CRT, cert, sizeof(cert))) != 0 ||
            (r = imago_svc_path(s, IMAGO_CLOUD_F_SERVICE_KEY, key, sizeof(key))) != 0 ||
            (r = imago_svc_path(s, IMAGO_CLOUD_F_SERVER_CA_CRT, ca, sizeof(ca))) != 0)
                return r;
        if ((r = imago_svc_tls_ctx(cert, key, passphrase, ca, s->cfg.mqtt_host, &s->ssl)) != 0) {
                imago_svc_log(IMAGO_LOG_ERROR, "tls_setup", "result=%s cert=%s", imago_errname(r),
                              cert);
                return r;
        }
        mosquitto_lib_init();
        r = IMAGO_ENOMEM;
        if ((s->mosq = mosquitto_new(s->cfg.service_cn, false, s)) == NULL)
                return r;
        if (mosquitto_int_option(s->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311) != 0 ||
            mosquitto_int_option(s->mosq, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0) != 0 ||
            /* commands and answers are small messages: no Nagle delay on them */
            mosquitto_int_option(s->mosq, MOSQ_OPT_TCP_NODELAY, 1) != 0 ||
            mosquitto_void_option(s->mosq, MOSQ_OPT_SSL_CTX, s->ssl) != 0)
                return IMAGO_EIO;
        mosquitto_connect_callback_set(s->mosq, on_connect);
        mosquitto_disconnect_callback_set(s->mosq, on_disconnect);
        mosquitto_message_callback_set(s->mosq, on_message);
        if ((s->ev_misc = event_new(s->base, -1, EV_PERSIST, on_misc, s)) == NULL ||
            (s->ev_retry = evtimer_new(s->base, on_retry, s)) == NULL)
                return IMAGO_ENOMEM;
        event_add(s->ev_misc, &misc);
        try_connect(s);
        return IMAGO_OK;
}

void imago_svc_mqtt_stop(struct imago_svc *s)
{
        if (s->mosq != NULL && s->sock >= 0) {
                /* A clean DISCONNECT; the persistent session stays in the broker. */
                if (mosquitto_disconnect(s->mosq) == MOSQ_ERR_SUCCESS)
                        (void)mosquitto_loop_write(s->mosq, 1);
        }
        if (s->ev_sock != NULL)
                event_free(s->ev_sock);
        if (s->ev_misc != NULL)
                event_free(s->ev_misc);
        if (s->ev_retry != NULL)
                event_free(s->ev_retry);
        s->ev_sock = s->ev_misc = s->ev_retry = NULL;
        s->sock = -1;
        if (s->mosq != NULL) {
                mosquitto_destroy(s->mosq);
                mosquitto_lib_cleanup();
        }
        s->mosq = NULL;
        SSL_CTX_free(s->ssl);
        s->ssl = NULL;
}
