/* imago-cloud service internals shared by svc*.c; see svc.h. */
#ifndef IMAGO_CLOUD_SVC_PRIV_H
#define IMAGO_CLOUD_SVC_PRIV_H

#include "cloud/config.h"
#include "cloud/datadir.h"
#include "cloud/registry/registry.h"
#include "cloud/svc.h"
#include "cloud/svc_enrol.h"

#include <event2/event.h>
#include <event2/http.h>
#include <mosquitto.h>
#include <openssl/ssl.h>
#include <sys/types.h>

#define IMAGO_SVC_CONTROL_TOPIC "$CONTROL/imago/v1"
#define IMAGO_SVC_SEEN_TOPIC    "imago/v1/svc/seen"
#define IMAGO_PROTO_MAX_PUBLISH 65536

struct imago_svc {
        struct imago_cloud_config cfg;
        char dir[IMAGO_CLOUD_PATH_MAX];
        struct event_base *base;
        struct imago_registry *reg;
        struct imago_svc_issuer iss;
        SSL_CTX *ssl;
        struct mosquitto *mosq;
        struct event *ev_sock, *ev_misc, *ev_retry;
        struct event *ev_term, *ev_int, *ev_hup, *ev_chld;
        struct event *ev_rot; /* next rotate-now round (svc_rotate.c) */
        int sock;             /* fd the socket event watches, -1 if none */
        int writing;          /* the socket event includes EV_WRITE */
        int connected;
        int tried; /* mosquitto_connect() called once; later mosquitto_reconnect() */
        unsigned backoff_ms;
        struct evhttp *http;
        pid_t broker;
        struct imago_svc_app *app; /* svc_app.c */
        struct imago_svc_ota *ota; /* svc_ota.c (started by svc_app.c), NULL without OTA */
};

/* Path under the data dir ("ca/server-ca.crt"); IMAGO_EINVAL if too long. */
int imago_svc_path(const struct imago_svc *s, const char *rel, char *buf, size_t size);

/* svc_mqtt.c */
int imago_svc_mqtt_start(struct imago_svc *s, const char *passphrase);
void imago_svc_mqtt_stop(struct imago_svc *s);
int imago_svc_publish(struct imago_svc *s, const char *topic, const void *payload, size_t len);

/* svc_tls.c: the client SSL_CTX (service cert and key, pinned server CA, host check). */
int imago_svc_tls_ctx(const char *cert, const char *key, const char *passphrase, const char *ca,
                      const char *host, SSL_CTX **out);

/* svc_broker.c */
int imago_svc_broker_start(struct imago_svc *s);
void imago_svc_broker_stop(struct imago_svc *s);

/* svc_http.c */
int imago_svc_http_start(struct imago_svc *s);
void imago_svc_http_stop(struct imago_svc *s);

/*
 * svc_rotate.c: rotate-now for every pending rotation request (registry).
 * send: now if connected (why names the trigger in the log), then again
 * every 60 s while requests remain; seen: a device with a pending request
 * connected, send in 1 s (it subscribes first).  start/stop own ev_rot.
 */
int imago_svc_rotate_start(struct imago_svc *s);
void imago_svc_rotate_stop(struct imago_svc *s);
void imago_svc_rotate_send(struct imago_svc *s, const char *why);
void imago_svc_rotate_seen(struct imago_svc *s, const char *id);

/*
 * svc_app.c: the app side.  check: the data directory has the app files
 * (else logs which one is missing and how to get it; IMAGO_ENOTFOUND).
 * start: opens app.db and audit.db, decrypts the command, registration-token
 * and API keys with the passphrase, draws the access-token secret (memory
 * only), creates the devsvc (publish on our MQTT session; revoke = registry
 * + deny file + control deny; cmd_done to the API) and the API on the loop.
 * stop frees all of it (safe after a failed start, and twice).  topic: 1 if topic is a
 * device's reg/req, state/rep or cmd/res; message hands it to the devsvc.
 */
int imago_svc_app_check(const struct imago_svc *s);
int imago_svc_app_start(struct imago_svc *s, const char *passphrase);
void imago_svc_app_stop(struct imago_svc *s);
int imago_svc_app_topic(const char *topic);
/* The API's port (0 when it is not listening). */
uint16_t imago_svc_app_port(const struct imago_svc *s);
void imago_svc_app_message(struct imago_svc *s, const char *topic, const void *buf, size_t len);

/* svc_pid.c: DIR/imago-cloud.pid */
int imago_svc_pid_write(const char *path);
void imago_svc_pid_remove(const char *path);

#endif
