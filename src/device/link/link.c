/* The link's connection: libmosquitto driven from libevent; see link.h. */
#define _GNU_SOURCE
#include "link_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

uint64_t link_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
}

const char *imago_link_state_name(enum imago_link_state s)
{
        switch (s) {
        case IMAGO_LINK_IDLE:
                return "idle";
        case IMAGO_LINK_CONNECTING:
                return "connecting";
        case IMAGO_LINK_ENROLLING:
                return "enrolling";
        case IMAGO_LINK_ONLINE:
                return "online";
        case IMAGO_LINK_WAITING:
                return "waiting";
        case IMAGO_LINK_STOPPED:
                return "stopped";
        case IMAGO_LINK_FAILED:
                return "failed";
        }
        return "?";
}

void link_set_state(struct imago_link *l, enum imago_link_state st, int err)
{
        if (l->state == st)
                return;
        l->state = st;
        if (err != 0)
                l->last_err = err;
        IMAGO_DEBUG("link %s: %s", l->id, imago_link_state_name(st));
        if (l->cb.on_state != NULL)
                l->cb.on_state(l->cb.arg, st, err);
        if (l->run_active && (st == IMAGO_LINK_STOPPED || st == IMAGO_LINK_FAILED ||
                              (l->run_until_online && st == IMAGO_LINK_ONLINE)))
                event_base_loopbreak(l->base);
}

static void free_events(struct imago_link *l)
{
        if (l->ev_read != NULL)
                event_free(l->ev_read);
        if (l->ev_write != NULL)
                event_free(l->ev_write);
        if (l->ev_tick != NULL)
                event_del(l->ev_tick);
        l->ev_read = l->ev_write = NULL;
        l->fd = -1;
}

/* Close the MQTT session (DISCONNECT if possible) and forget the socket. */
static void teardown(struct imago_link *l)
{
        free_events(l);
        if (l->mosq != NULL) {
                if (l->connected) {
                        mosquitto_disconnect(l->mosq);
                        mosquitto_loop_write(l->mosq, 1);
                }
                mosquitto_destroy(l->mosq);
                l->mosq = NULL;
        }
        l->connected = l->tcp_up = 0;
        l->sub_ready = l->pending = 0;
        l->sub_mid = -1;
}

void link_update_write(struct imago_link *l)
{
        SSL *ssl;
        int want;

        if (l->mosq == NULL || l->ev_write == NULL)
                return;
        ssl = mosquitto_ssl_get(l->mosq);
        if (ssl != NULL && !SSL_is_init_finished(ssl))
                want = !l->tcp_up || SSL_want_write(ssl);
        else
                want = mosquitto_want_write(l->mosq);
        if (want)
                event_add(l->ev_write, NULL);
        else
                event_del(l->ev_write);
}

static void schedule(struct imago_link *l, uint32_t ms)
{
        struct timeval tv = {.tv_sec = ms / 1000U, .tv_usec = (suseconds_t)(ms % 1000U) * 1000};

        event_add(l->ev_timer, &tv);
}

void link_fail(struct imago_link *l, int err)
{
        uint32_t r = 0, d;

        if (l->verify_err != 0 && !l->in_loop) {
                long v = l->verify_err;

                l->verify_err = 0;
                IMAGO_WARN("link %s: server certificate of %s:%u refused: %s", l->id, l->host,
                           l->port, X509_verify_cert_error_string(v));
                err = v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH
                          ? IMAGO_EPKI_NAME
                          : IMAGO_EPKI_CHAIN;
        }

        if (l->in_loop) {
                if (l->fail_err == 0)
                        l->fail_err = err != 0 ? err : IMAGO_EIO;
                return;
        }
        teardown(l);
        if (l->state == IMAGO_LINK_STOPPED || l->state == IMAGO_LINK_FAILED)
                return;
        l->failures++;
        if (l->max_failures != 0 && l->failures >= l->max_failures) {
                IMAGO_WARN("link %s: giving up after %u failed attempts (%s)", l->id, l->failures,
                           imago_errname(err));
                link_set_state(l, IMAGO_LINK_FAILED, err);
                return;
        }
        if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
                r = (uint32_t)link_now_ms();
        d = imago_link_backoff_next(&l->bo, r);
        IMAGO_INFO("link %s: %s; next attempt in %u ms", l->id, imago_errname(err), d);
        l->state = IMAGO_LINK_IDLE; /* so that WAITING is reported with its reason */
        link_set_state(l, IMAGO_LINK_WAITING, err);
        schedule(l, d);
}

/* After libmosquitto ran: notice a closed socket or a reconnection request. */
static void after_loop(struct imago_link *l, int rc)
{
        l->in_loop = 0;
        if (l->stop_req) {
                l->stop_req = 0;
                imago_link_stop(l);
                return;
        }
        if (l->fail_err != 0) {
                int err = l->fail_err;

                l->fail_err = 0;
                l->reconnect_now = 0;
                link_fail(l, err);
                return;
        }
        if (l->mosq == NULL)
                return;
        if (l->reconnect_now) {
                l->reconnect_now = 0;
                teardown(l);
                if (l->state != IMAGO_LINK_STOPPED && l->state != IMAGO_LINK_FAILED) {
                        link_set_state(l, IMAGO_LINK_WAITING, 0);
                        schedule(l, 0);
                }
                return;
        }
        if (mosquitto_socket(l->mosq) < 0) {
                int err = rc == MOSQ_ERR_TLS                  ? IMAGO_ECRYPTO
                          : l->last_err != 0 && !l->connected ? l->last_err
                                                              : IMAGO_EIO;
                if (rc == MOSQ_ERR_TLS && l->verify_err == 0)
                        IMAGO_WARN("link %s: TLS handshake with %s:%u failed", l->id, l->host,
                                   l->port);
                link_fail(l, err);
                return;
        }
        link_update_write(l);
}

static void io_cb(evutil_socket_t fd, short what, void *arg)
{
        struct imago_link *l = arg;
        int rc = MOSQ_ERR_SUCCESS;
        SSL *ssl;

        if ((what & EV_WRITE) && !l->tcp_up) {
                int soerr = 0;
                socklen_t sl = sizeof(soerr);

                /* The non-blocking connect finished: refused or reset shows here. */
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
                        IMAGO_INFO("link %s: cannot reach %s:%u: %s", l->id, l->host, l->port,
                                   strerror(soerr));
                        link_fail(l, IMAGO_EIO);
                        return;
                }
                l->tcp_up = 1;
        }
        ssl = mosquitto_ssl_get(l->mosq);
        if (ssl != NULL && !SSL_is_init_finished(ssl)) {
                /*
                 * libmosquitto keeps retrying a handshake that fails with
                 * SSL_ERROR_SYSCALL: a refused or reset connection shows as HUP/ERR.
                 */
                struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};

                if (poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)) != 0) {
                        IMAGO_INFO("link %s: %s:%u closed the connection during the handshake",
                                   l->id, l->host, l->port);
                        link_fail(l, IMAGO_EIO);
                        return;
                }
        }
        l->in_loop = 1;
        /* loop_read also advances the TLS handshake (and ignores would-block). */
        rc = mosquitto_loop_read(l->mosq, 1);
        if (rc == MOSQ_ERR_SUCCESS && l->mosq != NULL && mosquitto_socket(l->mosq) >= 0 &&
            !l->reconnect_now)
                rc = mosquitto_loop_write(l->mosq, 1);
        after_loop(l, rc);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
        struct imago_link *l = arg;
        int rc;

        (void)fd;
        (void)what;
        if (l->mosq == NULL)
                return;
        if (!l->connected && link_now_ms() - l->attempt_ms > LINK_CONNECT_TIMEOUT_MS) {
                IMAGO_INFO("link %s: no connection to %s:%u within %u ms", l->id, l->host, l->port,
                           LINK_CONNECT_TIMEOUT_MS);
                link_fail(l, IMAGO_EIO);
                return;
        }
        l->in_loop = 1;
        rc = mosquitto_loop_misc(l->mosq);
        if (rc == MOSQ_ERR_SUCCESS && l->connected) {
                if (l->up_since_ms != 0 && link_now_ms() - l->up_since_ms >= l->stable_ms) {
                        imago_link_backoff_reset(&l->bo);
                        l->failures = 0;
                        l->up_since_ms = 0;
                }
                link_prov_tick(l);
        }
        if (l->mosq != NULL && !l->reconnect_now && mosquitto_socket(l->mosq) >= 0 &&
            mosquitto_want_write(l->mosq))
                rc = mosquitto_loop_write(l->mosq, 1);
        after_loop(l, rc == MOSQ_ERR_NO_CONN ? MOSQ_ERR_SUCCESS : rc);
}

static void on_connect(struct mosquitto *m, void *arg, int rc)
{
        struct imago_link *l = arg;

        (void)m;
        if (rc != 0) {
                IMAGO_WARN("link %s: broker refused the connection (%s)", l->id,
                           mosquitto_connack_string(rc));
                l->last_err = IMAGO_EPERM;
                return;
        }
        l->connected = 1;
        l->up_since_ms = link_now_ms();
        link_prov_on_connect(l);
}

static void on_disconnect(struct mosquitto *m, void *arg, int rc)
{
        struct imago_link *l = arg;

        (void)m;
        (void)rc;
        l->connected = 0;
}

static void on_subscribe(struct mosquitto *m, void *arg, int mid, int n, const int *granted)
{
        struct imago_link *l = arg;

        (void)m;
        for (int i = 0; i < n; i++)
                if (granted[i] > 2) {
                        IMAGO_WARN("link %s: subscription refused by the broker", l->id);
                        l->last_err = IMAGO_EPERM;
                        return;
                }
        link_prov_on_subscribe(l, mid);
}

static void on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
        (void)m;
        link_prov_on_message(arg, msg);
}

static int ctx_index = -1;

/* Remember why the server's certificate was refused (logged once the socket is gone). */
static int verify_cb(int ok, X509_STORE_CTX *x)
{
        SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
        struct imago_link *l = ssl != NULL && ctx_index >= 0
                                   ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index)
                                   : NULL;

        if (!ok && l != NULL && l->verify_err == 0)
                l->verify_err = X509_STORE_CTX_get_error(x);
        return ok;
}

static int build_ctx(struct imago_link *l)
{
        struct imago_identity_tls t = {.ca_path = l->ca_path, .server_name = l->server_name};
        int op = l->cert_pem != NULL;
        int r;

        if (l->ctx != NULL && l->ctx_op == op)
                return IMAGO_OK;
        SSL_CTX_free(l->ctx);
        l->ctx = NULL;
        if ((r = imago_link_identity_load_pem(l->identity, op ? l->cert_pem : l->birth_pem,
                                              op ? l->chain_pem : NULL)) != IMAGO_OK ||
            (r = imago_identity_tls_ctx(l->identity, &t, &l->ctx)) != IMAGO_OK) {
                IMAGO_ERR_R(r, "link %s: cannot set up TLS", l->id);
                return r;
        }
        if (ctx_index < 0)
                ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
        if (ctx_index >= 0 && SSL_CTX_set_ex_data(l->ctx, ctx_index, l) == 1)
                SSL_CTX_set_verify(l->ctx, SSL_CTX_get_verify_mode(l->ctx), verify_cb);
        l->ctx_op = op;
        return IMAGO_OK;
}

static void attempt(struct imago_link *l)
{
        int r;

        teardown(l);
        if ((r = build_ctx(l)) != IMAGO_OK) {
                link_set_state(l, IMAGO_LINK_FAILED, r);
                return;
        }
        r = IMAGO_EIO;
        l->last_err = 0;
        l->verify_err = 0;
        if ((l->mosq = mosquitto_new(l->id, true, l)) == NULL ||
            mosquitto_int_option(l->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311) != 0 ||
            mosquitto_int_option(l->mosq, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0) != 0 ||
            mosquitto_int_option(l->mosq, MOSQ_OPT_TCP_NODELAY, 1) != 0 ||
            mosquitto_void_option(l->mosq, MOSQ_OPT_SSL_CTX, l->ctx) != 0)
                goto fail;
        mosquitto_connect_callback_set(l->mosq, on_connect);
        mosquitto_disconnect_callback_set(l->mosq, on_disconnect);
        mosquitto_subscribe_callback_set(l->mosq, on_subscribe);
        mosquitto_message_callback_set(l->mosq, on_message);
        link_set_state(l, IMAGO_LINK_CONNECTING, 0);
        l->attempt_ms = link_now_ms();
        if (mosquitto_connect_async(l->mosq, l->host, l->port, l->keepalive) != MOSQ_ERR_SUCCESS ||
            (l->fd = mosquitto_socket(l->mosq)) < 0)
                goto fail;
        if ((l->ev_read = event_new(l->base, l->fd, EV_READ | EV_PERSIST, io_cb, l)) == NULL ||
            (l->ev_write = event_new(l->base, l->fd, EV_WRITE | EV_PERSIST, io_cb, l)) == NULL)
                goto fail;
        {
                struct timeval one = {.tv_sec = 1, .tv_usec = 0};

                event_add(l->ev_read, NULL);
                event_add(l->ev_tick, &one);
        }
        link_update_write(l);
        return;
fail:
        link_fail(l, r);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
        (void)fd;
        (void)what;
        attempt(arg);
}

static char *dup_opt(const char *s, int *ok)
{
        char *d;

        if (s == NULL)
                return NULL;
        if ((d = strdup(s)) == NULL)
                *ok = 0;
        return d;
}

static int load_root(const char *path, X509 **out)
{
        FILE *f = fopen(path, "r");

        *out = NULL;
        if (f == NULL)
                return IMAGO_EIO;
        *out = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
        ERR_clear_error();
        return *out != NULL ? IMAGO_OK : IMAGO_EIO;
}

int imago_link_new(struct event_base *base, const struct imago_link_config *cfg,
                   const struct imago_link_callbacks *cb, struct imago_link **out)
{
        struct imago_link *l = NULL;
        int ok = 1, r;

        *out = NULL;
        if (base == NULL || cfg == NULL || cfg->identity == NULL || cfg->host == NULL ||
            cfg->port == 0 || cfg->ca_path == NULL || cfg->server_name == NULL ||
            cfg->root_path == NULL || (cfg->cert_pem == NULL && cfg->birth_pem == NULL) ||
            (cfg->cert_pem != NULL && cfg->chain_pem == NULL))
                return IMAGO_EINVAL;
        if ((r = imago_link_lib_init()) != IMAGO_OK)
                return r;
        if ((l = calloc(1, sizeof(*l))) == NULL)
                return IMAGO_ENOMEM;
        l->base = base;
        l->identity = cfg->identity;
        l->fd = -1;
        l->sub_mid = -1;
        imago_identity_device_id(cfg->identity, l->id);
        l->host = dup_opt(cfg->host, &ok);
        l->ca_path = dup_opt(cfg->ca_path, &ok);
        l->server_name = dup_opt(cfg->server_name, &ok);
        l->birth_pem = dup_opt(cfg->birth_pem, &ok);
        l->cert_pem = dup_opt(cfg->cert_pem, &ok);
        l->chain_pem = dup_opt(cfg->chain_pem, &ok);
        l->port = cfg->port;
        l->keepalive = cfg->keepalive_s ? cfg->keepalive_s : 60;
        l->bo.base_ms = cfg->backoff_base_ms;
        l->bo.cap_ms = cfg->backoff_cap_ms;
        l->stable_ms = cfg->stable_ms ? cfg->stable_ms : 30000;
        l->answer_timeout_ms = cfg->answer_timeout_ms ? cfg->answer_timeout_ms : 10000;
        l->max_failures = cfg->max_failures;
        if (cb != NULL)
                l->cb = *cb;
        r = IMAGO_ENOMEM;
        if (!ok || (l->ev_timer = evtimer_new(base, timer_cb, l)) == NULL ||
            (l->ev_tick = event_new(base, -1, EV_PERSIST, tick_cb, l)) == NULL)
                goto out;
        if ((r = load_root(cfg->root_path, &l->root)) != IMAGO_OK) {
                IMAGO_ERR_R(r, "link: cannot read the pinned root %s", cfg->root_path);
                goto out;
        }
        if (l->cert_pem != NULL) {
                /* A stored certificate is checked like a fresh answer (any time). */
                if ((r = imago_link_cert_check(l->cert_pem, l->chain_pem, l->root, l->id,
                                               imago_identity_evp(l->identity), 0, &l->cert,
                                               NULL)) != IMAGO_OK &&
                    r != IMAGO_EPKI_CHAIN) {
                        IMAGO_ERR_R(r, "link %s: stored certificate is not ours", l->id);
                        goto out;
                }
                if (r == IMAGO_EPKI_CHAIN) {
                        /* Expired or from an old CA: let the broker decide; rotate at once. */
                        IMAGO_WARN("link %s: stored certificate does not verify now", l->id);
                        l->rotate_wanted = 1;
                }
        }
        /* The TLS context now: configuration errors show at once, not as a failed attempt. */
        if ((r = build_ctx(l)) != IMAGO_OK)
                goto out;
        *out = l;
        l = NULL;
        r = IMAGO_OK;
out:
        imago_link_free(l);
        return r;
}

void imago_link_free(struct imago_link *l)
{
        if (l == NULL)
                return;
        teardown(l);
        if (l->ev_timer != NULL)
                event_free(l->ev_timer);
        if (l->ev_tick != NULL)
                event_free(l->ev_tick);
        SSL_CTX_free(l->ctx);
        X509_free(l->root);
        X509_free(l->cert);
        free(l->host);
        free(l->ca_path);
        free(l->server_name);
        free(l->birth_pem);
        free(l->cert_pem);
        free(l->chain_pem);
        free(l);
}

int imago_link_start(struct imago_link *l, uint32_t delay_ms)
{
        if (l->state != IMAGO_LINK_IDLE && l->state != IMAGO_LINK_STOPPED &&
            l->state != IMAGO_LINK_FAILED)
                return IMAGO_ESTATE;
        l->failures = 0;
        l->state = IMAGO_LINK_IDLE;
        link_set_state(l, IMAGO_LINK_WAITING, 0);
        schedule(l, delay_ms);
        return IMAGO_OK;
}

void imago_link_stop(struct imago_link *l)
{
        if (l->in_loop) {
                l->stop_req = 1;
                return;
        }
        if (l->mosq != NULL && l->connected) {
                /* A DISCONNECT now; the socket goes at teardown. */
                mosquitto_disconnect(l->mosq);
        }
        event_del(l->ev_timer);
        free_events(l);
        if (l->mosq != NULL) {
                mosquitto_loop_write(l->mosq, 1);
                mosquitto_destroy(l->mosq);
                l->mosq = NULL;
        }
        l->connected = l->tcp_up = 0;
        l->sub_ready = l->pending = 0;
        link_set_state(l, IMAGO_LINK_STOPPED, 0);
}

enum imago_link_state imago_link_state(const struct imago_link *l)
{
        return l->state;
}

const char *imago_link_device_id(const struct imago_link *l)
{
        return l->id;
}

int imago_link_enrolled(const struct imago_link *l)
{
        return l->cert_pem != NULL;
}
