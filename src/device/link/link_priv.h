/* Internals shared by the link's files; see link.h. */
#ifndef IMAGO_DEVICE_LINK_LINK_PRIV_H
#define IMAGO_DEVICE_LINK_LINK_PRIV_H

#include "link.h"

#include <mosquitto.h>
#include <openssl/ssl.h>

#define LINK_HANDLERS_MAX 16
#define LINK_TOPIC_MAX    160
#define LINK_TRIES_MAX    3
#define LINK_CONNECT_TIMEOUT_MS                                                                    \
        10000U /* TCP + TLS + CONNACK */ /* sends of one request before the connection is dropped  \
                                          */

struct link_handler {
        char topic[LINK_TOPIC_MAX];
        imago_link_handler fn;
        void *arg;
};

struct imago_link {
        struct event_base *base;
        struct imago_identity *identity;
        char id[IMAGO_DEVICE_ID_LEN + 1];
        char *host, *ca_path, *server_name;
        uint16_t port, keepalive;
        X509 *root;
        char *birth_pem, *cert_pem, *chain_pem;
        X509 *cert; /* parsed operational certificate */
        SSL_CTX *ctx;
        int ctx_op; /* ctx holds the operational (1) or birth (0) certificate; -1: stale */
        struct imago_link_callbacks cb;

        struct mosquitto *mosq;
        int fd, tcp_up, connected;
        struct event *ev_read, *ev_write, *ev_timer, *ev_tick;
        enum imago_link_state state;
        struct imago_link_backoff bo;
        uint32_t stable_ms, answer_timeout_ms, max_failures, failures;
        uint64_t up_since_ms, attempt_ms;
        int last_err;
        int reconnect_now; /* a new certificate: reconnect at once */
        int in_loop;       /* inside libmosquitto: teardown is deferred */
        int stop_req, fail_err;
        long verify_err; /* X509_V_ERR_* of the last handshake, 0 if none */

        /* request (enrol or rotate) */
        char nonce[33];
        int sub_mid, sub_ready, pending, tries;
        uint64_t deadline_ms;
        int rotate_wanted;
        uint64_t rotate_at_ms; /* 0: no automatic rotation planned */

        struct link_handler h[LINK_HANDLERS_MAX];
        size_t nh;

        /* imago_link_run_blocking */
        int run_active, run_until_online;
};

uint64_t link_now_ms(void);
void link_update_write(struct imago_link *l);
void link_set_state(struct imago_link *l, enum imago_link_state st, int err);

/* link_prov.c */
void link_prov_on_connect(struct imago_link *l);
void link_prov_on_subscribe(struct imago_link *l, int mid);
void link_prov_on_message(struct imago_link *l, const struct mosquitto_message *m);
void link_prov_tick(struct imago_link *l);
/* Drop the connection and try again after the backoff (err: the reason). */
void link_fail(struct imago_link *l, int err);

#endif
