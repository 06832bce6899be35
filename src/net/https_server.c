/*
 * See https.h: the HTTPS server (evhttp over bufferevent_openssl) and its
 * per-connection limits.
 *
 * libevent 2.1.12 gives no hook when it accepts a connection other than the
 * bufferevent callback (bevcb), which knows neither the socket nor the
 * evhttp connection yet.  So every connection gets a record (struct conn)
 * hung on its SSL object as ex_data:
 *   - bevcb creates the SSL bufferevent and the record, and makes the
 *     record's timer active at once (it runs before the loop polls again,
 *     so before any byte of this connection is read);
 *   - the timer's first run ("attach") finds the evhttp connection (the
 *     bufferevent's callback argument), the peer address, applies the
 *     connection caps (evhttp_connection_free when over), sets the close
 *     callback and arms the request deadline;
 *   - the SSL object's ex_data free function releases the record whenever
 *     the bufferevent goes, whatever path freed it.
 * Deadline: armed at accept (it covers the TLS handshake and the first
 * request) and, on a kept-alive connection, at the first byte of the next
 * request (an evbuffer callback on the input); disarmed when the request is
 * complete and handed to the handler; on expiry the connection is freed.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "base/err.h"
#include "base/log.h"
#include "base/wipe.h"
#include "net/https.h"

#define PEER_MAX 64

enum conn_state {
        CONN_NEW,  /* timer: attach */
        CONN_WAIT, /* timer: request deadline */
        CONN_BUSY, /* the handler has the request */
        CONN_IDLE, /* kept alive, no byte of a next request yet */
        CONN_CLOSED,
};

struct conn {
        struct imago_https_server *srv;
        struct bufferevent *bev;
        struct evhttp_connection *evcon; /* NULL until attached and after close */
        struct event *timer;
        enum conn_state state;
        int doomed; /* no TLS: freed at attach */
        int live;   /* attached: counted in srv->nlive */
        char peer[PEER_MAX];
        struct conn *prev, *next;
};

struct imago_https_server {
        struct event_base *base;
        SSL_CTX *ssl;
        struct evhttp *http;
        struct evhttp_bound_socket *sock;
        struct imago_https_limits lim;
        imago_https_handler fn;
        void *arg;
        uint16_t port;
        unsigned nconns;      /* records: every accepted connection until it is freed */
        unsigned nlive;       /* attached (counted against max_conns) */
        struct event *resume; /* re-enables the listener after an accept error */
        struct conn *conns;
        struct imago_https_server *next_srv; /* servers (listener error lookup) */
        int registered;
};

/* The listener's error callback gets evhttp's argument: servers are found here. */
static pthread_mutex_t srv_lock = PTHREAD_MUTEX_INITIALIZER;
static struct imago_https_server *srv_list;

static void srv_register(struct imago_https_server *s, int add)
{
        struct imago_https_server **pp;

        pthread_mutex_lock(&srv_lock);
        if (add) {
                s->next_srv = srv_list;
                srv_list = s;
        } else {
                for (pp = &srv_list; *pp != NULL; pp = &(*pp)->next_srv) {
                        if (*pp == s) {
                                *pp = s->next_srv;
                                break;
                        }
                }
        }
        pthread_mutex_unlock(&srv_lock);
}

static struct imago_https_server *srv_of_listener(struct evconnlistener *lev)
{
        struct imago_https_server *s;

        pthread_mutex_lock(&srv_lock);
        for (s = srv_list; s != NULL; s = s->next_srv)
                if (s->sock != NULL && evhttp_bound_socket_get_listener(s->sock) == lev)
                        break;
        pthread_mutex_unlock(&srv_lock);
        return s;
}

static int conn_idx = -1;

static void limits_fill(const struct imago_https_limits *in, struct imago_https_limits *out)
{
        struct imago_https_limits z = {0};

        if (in == NULL)
                in = &z;
        *out = *in;
        if (out->max_body == 0)
                out->max_body = 65536;
        if (out->max_headers == 0)
                out->max_headers = 8192;
        if (out->max_url == 0)
                out->max_url = 2048;
        if (out->request_deadline_ms == 0)
                out->request_deadline_ms = 10000;
        if (out->idle_timeout_s == 0)
                out->idle_timeout_s = 30;
        if (out->max_conns == 0)
                out->max_conns = 1024;
        if (out->max_conns_per_addr == 0)
                out->max_conns_per_addr = 32;
}

/* ---- connection records ---- */

static void conn_unlink(struct conn *c)
{
        struct imago_https_server *s = c->srv;

        if (s == NULL)
                return;
        if (c->prev != NULL)
                c->prev->next = c->next;
        else if (s->conns == c)
                s->conns = c->next;
        if (c->next != NULL)
                c->next->prev = c->prev;
        c->prev = c->next = NULL;
        if (s->nconns > 0)
                s->nconns--;
        if (c->live && s->nlive > 0)
                s->nlive--;
        c->live = 0;
}

/* SSL ex_data free function: the bufferevent (and its SSL) is gone. */
static void conn_exfree(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
        struct conn *c = ptr;

        (void)parent;
        (void)ad;
        (void)idx;
        (void)argl;
        (void)argp;
        if (c == NULL)
                return;
        conn_unlink(c);
        if (c->timer != NULL)
                event_free(c->timer);
        free(c);
}

static struct conn *conn_of_bev(struct bufferevent *bev)
{
        SSL *ssl = bev != NULL ? bufferevent_openssl_get_ssl(bev) : NULL;

        return ssl != NULL ? SSL_get_ex_data(ssl, conn_idx) : NULL;
}

static struct conn *conn_of_req(struct evhttp_request *req)
{
        struct evhttp_connection *evcon = evhttp_request_get_connection(req);

        return evcon != NULL ? conn_of_bev(evhttp_connection_get_bufferevent(evcon)) : NULL;
}

static void conn_arm(struct conn *c)
{
        struct timeval tv;

        tv.tv_sec = (time_t)(c->srv->lim.request_deadline_ms / 1000);
        tv.tv_usec = (suseconds_t)(c->srv->lim.request_deadline_ms % 1000) * 1000;
        c->state = CONN_WAIT;
        evtimer_add(c->timer, &tv);
}

static unsigned conns_from(const struct imago_https_server *s, const char *peer)
{
        const struct conn *c;
        unsigned n = 0;

        for (c = s->conns; c != NULL; c = c->next)
                if (c->live && strcmp(c->peer, peer) == 0)
                        n++;
        return n;
}

static void conn_closecb(struct evhttp_connection *evcon, void *arg)
{
        struct conn *c = arg;

        (void)evcon;
        c->evcon = NULL;
        c->state = CONN_CLOSED;
        evtimer_del(c->timer);
        if (c->live && c->srv != NULL && c->srv->nlive > 0)
                c->srv->nlive--;
        c->live = 0;
}

/* Bytes arrived: the first byte of a request on an idle connection starts its deadline. */
static void conn_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
        struct conn *c = arg;

        (void)buf;
        if (info->n_added > 0 && c->state == CONN_IDLE)
                conn_arm(c);
}

static void conn_attach(struct conn *c)
{
        struct imago_https_server *s = c->srv;
        void *cbarg = NULL;
        char *addr = NULL;
        ev_uint16_t port = 0;
        evutil_socket_t fd;
        int one = 1;

        bufferevent_getcb(c->bev, NULL, NULL, NULL, &cbarg);
        if (cbarg == NULL) {
                /* evhttp failed to take the bufferevent: ours to free (frees c
                 * through the SSL; a doomed plain one has none). */
                bufferevent_free(c->bev);
                if (c->doomed)
                        conn_exfree(NULL, c, NULL, 0, 0, NULL);
                return;
        }
        c->evcon = cbarg;
        if (c->doomed) {
                IMAGO_WARN("https: dropping a connection (out of memory at accept)");
                goto drop;
        }
        evhttp_connection_get_peer(c->evcon, &addr, &port);
        if (addr == NULL || strlen(addr) >= sizeof(c->peer))
                goto drop;
        memcpy(c->peer, addr, strlen(addr) + 1);
        if (s->nlive + 1 > s->lim.max_conns) {
                IMAGO_WARN("https: %u connections: closing one from %s", s->nlive, c->peer);
                goto drop;
        }
        if (conns_from(s, c->peer) + 1 > s->lim.max_conns_per_addr) {
                IMAGO_WARN("https: too many connections from %s", c->peer);
                goto drop;
        }
        /* Answers go out as several TLS records: without TCP_NODELAY the
         * last one waits for the client's delayed ACK (40 ms per request on
         * a kept-alive connection). */
        fd = bufferevent_getfd(c->bev);
        if (fd >= 0)
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        evhttp_connection_set_closecb(c->evcon, conn_closecb, c);
        if (evbuffer_add_cb(bufferevent_get_input(c->bev), conn_input, c) == NULL)
                goto drop;
        c->live = 1;
        s->nlive++;
        conn_arm(c);
        return;
drop:
        c->state = CONN_CLOSED;
        {
                struct evhttp_connection *evcon = c->evcon;
                int doomed = c->doomed;

                c->evcon = NULL;
                /* Frees c through the SSL (when libevent finalizes the
                 * bufferevent); a doomed plain bufferevent has no SSL. */
                evhttp_connection_free(evcon);
                if (doomed)
                        conn_exfree(NULL, c, NULL, 0, 0, NULL);
        }
}

static void conn_timer(evutil_socket_t fd, short what, void *arg)
{
        struct conn *c = arg;
        struct evhttp_connection *evcon;

        (void)fd;
        (void)what;
        if (c->srv == NULL)
                return;
        switch (c->state) {
        case CONN_NEW:
                conn_attach(c);
                return;
        case CONN_WAIT:
                IMAGO_WARN("https: request from %s not complete within %u ms: closing", c->peer,
                           (unsigned)c->srv->lim.request_deadline_ms);
                evcon = c->evcon;
                c->evcon = NULL;
                c->state = CONN_CLOSED;
                if (evcon != NULL)
                        evhttp_connection_free(evcon);
                return;
        default:
                break;
        }
}

static struct bufferevent *on_bev(struct event_base *base, void *arg)
{
        struct imago_https_server *s = arg;
        struct bufferevent *bev = NULL;
        struct conn *c = calloc(1, sizeof(*c));
        SSL *ssl = NULL;

        if (c == NULL || (c->timer = evtimer_new(base, conn_timer, c)) == NULL) {
                /* Without a record the connection could not be closed before
                 * evhttp reads it, and a NULL answer makes evhttp serve plain
                 * HTTP: fail closed. */
                IMAGO_ERR("https: out of memory at accept");
                abort();
        }
        c->srv = s;
        c->state = CONN_NEW;
        if ((ssl = SSL_new(s->ssl)) == NULL || SSL_set_ex_data(ssl, conn_idx, c) != 1)
                goto doomed;
        bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE);
        if (bev == NULL)
                goto doomed;
        ssl = NULL;
        goto out;
doomed:
        /* A plain bufferevent that the attach step frees before any read. */
        if (ssl != NULL) {
                SSL_set_ex_data(ssl, conn_idx, NULL);
                SSL_free(ssl);
        }
        c->doomed = 1;
        if ((bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
                IMAGO_ERR("https: out of memory at accept");
                abort();
        }
out:
        c->bev = bev;
        c->next = s->conns;
        if (s->conns != NULL)
                s->conns->prev = c;
        s->conns = c;
        s->nconns++;
        event_active(c->timer, EV_TIMEOUT, 0);
        return bev;
}

/* ---- requests ---- */

static void on_complete(struct evhttp_request *req, void *arg)
{
        struct imago_https_server *s = arg;
        struct conn *c = conn_of_req(req);

        (void)s;
        if (c == NULL || c->evcon == NULL || c->state != CONN_BUSY)
                return;
        c->state = CONN_IDLE;
        /* A pipelined next request already buffered starts its deadline now. */
        if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
                conn_arm(c);
}

/*
 * Framing that two parsers could read two ways (request smuggling through a
 * proxy): more than one Content-Length, or Content-Length together with
 * Transfer-Encoding.  libevent itself would take the first / the chunked one.
 */
static int framing_ambiguous(struct evhttp_request *req)
{
        const struct evkeyvalq *h = evhttp_request_get_input_headers(req);
        const struct evkeyval *kv;
        unsigned cl = 0, te = 0;

        for (kv = h->tqh_first; kv != NULL; kv = kv->next.tqe_next) {
                if (strcasecmp(kv->key, "Content-Length") == 0)
                        cl++;
                else if (strcasecmp(kv->key, "Transfer-Encoding") == 0)
                        te++;
        }
        return cl > 1 || te > 1 || (cl > 0 && te > 0);
}

static void on_request(struct evhttp_request *req, void *arg)
{
        struct imago_https_server *s = arg;
        struct conn *c = conn_of_req(req);
        const char *uri = evhttp_request_get_uri(req);

        if (c == NULL || c->evcon == NULL) {
                /* Not a connection we attached (cannot happen): refuse. */
                imago_https_reply_error(req, 500, IMAGO_ESTATE, NULL, 0);
                return;
        }
        evtimer_del(c->timer);
        c->state = CONN_BUSY;
        evhttp_request_set_on_complete_cb(req, on_complete, s);
        if (uri == NULL || strlen(uri) > s->lim.max_url) {
                imago_https_reply_error(req, 414, IMAGO_ETOOBIG, "URL too long", 0);
                return;
        }
        if (framing_ambiguous(req)) {
                evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
                imago_https_reply_error(req, 400, IMAGO_EMALFORMED, "ambiguous message framing", 0);
                return;
        }
        s->fn(req, c->peer, s->arg);
}

/* ---- server ---- */

static int ctx_init_index(void)
{
        if (conn_idx < 0)
                conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_exfree);
        return conn_idx < 0 ? IMAGO_ECRYPTO : IMAGO_OK;
}

static int pass_cb(char *buf, int size, int rwflag, void *u)
{
        const char *p = u;
        size_t n;

        (void)rwflag;
        if (p == NULL || size <= 0)
                return -1;
        n = strlen(p);
        if (n > (size_t)size)
                return -1;
        memcpy(buf, p, n);
        return (int)n;
}

int imago_https_server_ctx(const char *chain_path, const char *key_path, const char *passphrase,
                           EVP_PKEY *key, SSL_CTX **out)
{
        SSL_CTX *ctx = NULL;
        EVP_PKEY *pk = NULL;
        BIO *bio = NULL;
        int r = IMAGO_ECRYPTO;

        if (out == NULL || chain_path == NULL || (key_path == NULL) == (key == NULL))
                return IMAGO_EINVAL;
        *out = NULL;
        if ((r = ctx_init_index()) != IMAGO_OK)
                goto out;
        r = IMAGO_ECRYPTO;
        if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
                goto out;
        if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
                goto out;
        SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                     SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        if (SSL_CTX_use_certificate_chain_file(ctx, chain_path) != 1) {
                r = IMAGO_EIO;
                IMAGO_ERR("https: cannot load certificate chain %s", chain_path);
                goto out;
        }
        if (key_path != NULL) {
                if ((bio = BIO_new_file(key_path, "r")) == NULL) {
                        r = IMAGO_EIO;
                        IMAGO_ERR("https: cannot open key %s", key_path);
                        goto out;
                }
                pk = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, (void *)passphrase);
                if (pk == NULL) {
                        IMAGO_ERR("https: cannot read key %s", key_path);
                        goto out;
                }
        } else {
                if (EVP_PKEY_up_ref(key) != 1)
                        goto out;
                pk = key;
        }
        if (SSL_CTX_use_PrivateKey(ctx, pk) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
                IMAGO_ERR("https: key does not match the certificate");
                goto out;
        }
        *out = ctx;
        ctx = NULL;
        r = IMAGO_OK;
out:
        ERR_clear_error();
        EVP_PKEY_free(pk);
        BIO_free(bio);
        SSL_CTX_free(ctx);
        return r;
}

static void listener_resume(evutil_socket_t fd, short what, void *arg)
{
        struct imago_https_server *s = arg;
        struct evconnlistener *lev = evhttp_bound_socket_get_listener(s->sock);

        (void)fd;
        (void)what;
        if (lev != NULL)
                evconnlistener_enable(lev);
}

/*
 * accept() failed (out of descriptors: EMFILE/ENFILE): libevent would retry
 * at once and spin; pause the listener for 100 ms instead.
 */
static void listener_error(struct evconnlistener *lev, void *arg)
{
        struct imago_https_server *s = srv_of_listener(lev);
        struct timeval tv = {0, 100000};
        int e = EVUTIL_SOCKET_ERROR();

        (void)arg;
        if (s == NULL)
                return;
        IMAGO_WARN("https: accept failed (%s): pausing 100 ms", evutil_socket_error_to_string(e));
        evconnlistener_disable(lev);
        evtimer_add(s->resume, &tv);
}

/* A client resetting its connection must not kill the server with SIGPIPE. */
static void ignore_sigpipe(void)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
                sa.sa_handler = SIG_IGN;
                sigemptyset(&sa.sa_mask);
                sa.sa_flags = 0;
                sigaction(SIGPIPE, &sa, NULL);
        }
}

int imago_https_server_new(struct event_base *base, SSL_CTX *ssl, const char *host, uint16_t port,
                           const struct imago_https_limits *lim, imago_https_handler fn, void *arg,
                           struct imago_https_server **out)
{
        struct imago_https_server *s = NULL;
        struct sockaddr_storage ss;
        ev_socklen_t sl = sizeof(ss);
        evutil_socket_t fd;
        int r = IMAGO_EINVAL;

        if (out == NULL)
                return IMAGO_EINVAL;
        *out = NULL;
        if (base == NULL || ssl == NULL || host == NULL || fn == NULL)
                goto out;
        if ((r = ctx_init_index()) != IMAGO_OK)
                goto out;
        ignore_sigpipe();
        r = IMAGO_ENOMEM;
        if ((s = calloc(1, sizeof(*s))) == NULL)
                goto out;
        s->base = base;
        s->fn = fn;
        s->arg = arg;
        limits_fill(lim, &s->lim);
        if (s->lim.max_body > (size_t)INT32_MAX || s->lim.max_headers > (size_t)INT32_MAX ||
            s->lim.idle_timeout_s > 86400) {
                r = IMAGO_EINVAL;
                goto out;
        }
        if (SSL_CTX_up_ref(ssl) != 1) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        s->ssl = ssl;
        if ((s->http = evhttp_new(base)) == NULL)
                goto out;
        evhttp_set_bevcb(s->http, on_bev, s);
        evhttp_set_gencb(s->http, on_request, s);
        evhttp_set_max_body_size(s->http, (ev_ssize_t)s->lim.max_body);
        evhttp_set_max_headers_size(s->http, (ev_ssize_t)s->lim.max_headers);
        evhttp_set_timeout(s->http, (int)s->lim.idle_timeout_s);
        /* libevent's own error pages (400/413/501 for what never reaches the
         * handler) are HTML and keep libevent's text/html type; every reply of
         * the helpers here is application/json. */
        evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                                EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE);
        if ((s->sock = evhttp_bind_socket_with_handle(s->http, host, port)) == NULL) {
                r = IMAGO_EIO;
                IMAGO_ERR("https: cannot listen on %s:%u", host, (unsigned)port);
                goto out;
        }
        if ((s->resume = evtimer_new(base, listener_resume, s)) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        srv_register(s, 1);
        s->registered = 1;
        evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(s->sock), listener_error);
        fd = evhttp_bound_socket_get_fd(s->sock);
        memset(&ss, 0, sizeof(ss));
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
                r = IMAGO_EIO;
                goto out;
        }
        if (ss.ss_family == AF_INET)
                s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
                s->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        *out = s;
        s = NULL;
        r = IMAGO_OK;
out:
        imago_https_server_free(s);
        return r;
}

uint16_t imago_https_server_port(const struct imago_https_server *s)
{
        return s != NULL ? s->port : 0;
}

unsigned imago_https_server_conns(const struct imago_https_server *s)
{
        return s != NULL ? s->nconns : 0;
}

void imago_https_server_free(struct imago_https_server *s)
{
        struct conn *c, *next;

        if (s == NULL)
                return;
        if (s->registered)
                srv_register(s, 0);
        if (s->resume != NULL)
                event_free(s->resume);
        if (s->http != NULL)
                evhttp_free(s->http); /* frees every connection: records go with their SSL */
        /* A record left (its bufferevent still referenced by libevent) must
         * not point to the server any more. */
        for (c = s->conns; c != NULL; c = next) {
                next = c->next;
                evtimer_del(c->timer);
                c->prev = c->next = NULL;
                c->srv = NULL;
        }
        SSL_CTX_free(s->ssl);
        free(s);
}
