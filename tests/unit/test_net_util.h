/*
 * Test helpers for imago_net: certificates made with OpenSSL in a temporary
 * directory (no key is committed), an event loop in a thread with a way to
 * run a function inside it, and a raw TLS client for requests the real
 * client would never send.  Include after <cmocka.h>.
 */
#ifndef IMAGO_TEST_NET_UTIL_H
#define IMAGO_TEST_NET_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "net/https.h"

/* ---- certificates ---- */

static inline EVP_PKEY *tnet_key(void)
{
        EVP_PKEY *k = EVP_EC_gen("P-256");

        assert_non_null(k);
        return k;
}

static inline void tnet_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
        X509V3_CTX v3;
        X509_EXTENSION *e;

        X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
        e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
        assert_non_null(e);
        assert_int_equal(X509_add_ext(x, e, -1), 1);
        X509_EXTENSION_free(e);
}

/* A certificate for key, signed by ca_key (issuer ca; NULL: self-signed). */
static inline X509 *tnet_cert(EVP_PKEY *key, const char *cn, X509 *ca, EVP_PKEY *ca_key, int is_ca,
                              const char *san, long days)
{
        X509 *x = X509_new();
        X509_NAME *n;
        static long serial = 1;

        assert_non_null(x);
        assert_int_equal(X509_set_version(x, 2), 1);
        ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
        X509_gmtime_adj(X509_getm_notBefore(x), -3600);
        X509_gmtime_adj(X509_getm_notAfter(x), days * 86400);
        assert_int_equal(X509_set_pubkey(x, key), 1);
        n = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
        assert_int_equal(X509_set_issuer_name(x, ca != NULL ? X509_get_subject_name(ca) : n), 1);
        if (is_ca) {
                tnet_ext(x, ca != NULL ? ca : x, NID_basic_constraints, "critical,CA:TRUE");
                tnet_ext(x, ca != NULL ? ca : x, NID_key_usage, "critical,keyCertSign,cRLSign");
        } else {
                tnet_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE");
                tnet_ext(x, ca, NID_key_usage, "critical,digitalSignature");
                tnet_ext(x, ca, NID_ext_key_usage, "serverAuth");
                if (san != NULL)
                        tnet_ext(x, ca, NID_subject_alt_name, san);
        }
        assert_true(X509_sign(x, ca_key != NULL ? ca_key : key, EVP_sha256()) > 0);
        return x;
}

static inline void tnet_write_cert(const char *path, X509 *a, X509 *b)
{
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        assert_int_equal(PEM_write_X509(f, a), 1);
        if (b != NULL)
                assert_int_equal(PEM_write_X509(f, b), 1);
        fclose(f);
}

static inline void tnet_write_key(const char *path, EVP_PKEY *k, const char *pass)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

        assert_non_null(f);
        if (pass != NULL)
                assert_int_equal(
                    PEM_write_PrivateKey(f, k, EVP_aes_256_cbc(), NULL, 0, NULL, (void *)pass), 1);
        else
                assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
        fclose(f);
}

/*
 * In dir: ca.pem (test CA), srv.pem (leaf for "api.test" and 127.0.0.1,
 * then the CA), srv.key, srv-enc.key (passphrase "pw-test"), leaf.pem (the
 * leaf alone), other-ca.pem (a CA that signed nothing here), self.pem +
 * self.key (a self-signed leaf, like a birth certificate).
 */
struct tnet_pki {
        char dir[64];
        char ca[96], chain[96], key[96], enckey[96], leaf[96], other_ca[96], self[96], self_key[96];
};

static inline void tnet_pki_make(struct tnet_pki *p)
{
        EVP_PKEY *cak, *k, *ok, *sk;
        X509 *ca, *leaf, *oca, *self;

        snprintf(p->dir, sizeof(p->dir), "/tmp/imago-test-net-XXXXXX");
        assert_non_null(mkdtemp(p->dir));
        snprintf(p->ca, sizeof(p->ca), "%s/ca.pem", p->dir);
        snprintf(p->chain, sizeof(p->chain), "%s/srv.pem", p->dir);
        snprintf(p->key, sizeof(p->key), "%s/srv.key", p->dir);
        snprintf(p->enckey, sizeof(p->enckey), "%s/srv-enc.key", p->dir);
        snprintf(p->leaf, sizeof(p->leaf), "%s/leaf.pem", p->dir);
        snprintf(p->other_ca, sizeof(p->other_ca), "%s/other-ca.pem", p->dir);
        snprintf(p->self, sizeof(p->self), "%s/self.pem", p->dir);
        snprintf(p->self_key, sizeof(p->self_key), "%s/self.key", p->dir);
        cak = tnet_key();
        k = tnet_key();
        ok = tnet_key();
        sk = tnet_key();
        ca = tnet_cert(cak, "imago test CA", NULL, NULL, 1, NULL, 30);
        leaf = tnet_cert(k, "api.test", ca, cak, 0, "DNS:api.test,IP:127.0.0.1", 30);
        oca = tnet_cert(ok, "imago other CA", NULL, NULL, 1, NULL, 30);
        self = tnet_cert(sk, "birth", NULL, NULL, 0, NULL, 30);
        tnet_write_cert(p->ca, ca, NULL);
        tnet_write_cert(p->chain, leaf, ca);
        tnet_write_cert(p->leaf, leaf, NULL);
        tnet_write_cert(p->other_ca, oca, NULL);
        tnet_write_cert(p->self, self, NULL);
        tnet_write_key(p->key, k, NULL);
        tnet_write_key(p->enckey, k, "pw-test");
        tnet_write_key(p->self_key, sk, NULL);
        X509_free(ca);
        X509_free(leaf);
        X509_free(oca);
        X509_free(self);
        EVP_PKEY_free(cak);
        EVP_PKEY_free(k);
        EVP_PKEY_free(ok);
        EVP_PKEY_free(sk);
}

static inline void tnet_pki_clean(struct tnet_pki *p)
{
        const char *files[] = {p->ca,   p->chain,    p->key,  p->enckey,
                               p->leaf, p->other_ca, p->self, p->self_key};
        size_t i;

        for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
                unlink(files[i]);
        rmdir(p->dir);
}

/* ---- the event loop in a thread ---- */

struct tnet_loop {
        struct event_base *base;
        pthread_t th;
        int cmd[2], ack[2];
        struct event *ev;
};

struct tnet_call {
        void (*fn)(void *arg);
        void *arg;
};

static inline void tnet_on_cmd(evutil_socket_t fd, short what, void *arg)
{
        struct tnet_loop *l = arg;
        struct tnet_call *c = NULL;
        char b = 1;

        (void)what;
        if (read(fd, &c, sizeof(c)) != (ssize_t)sizeof(c) || c == NULL) {
                event_base_loopbreak(l->base);
                return;
        }
        c->fn(c->arg);
        if (write(l->ack[1], &b, 1) != 1)
                abort();
}

static inline void *tnet_thread(void *arg)
{
        struct tnet_loop *l = arg;

        event_base_dispatch(l->base);
        return NULL;
}

static inline void tnet_loop_init(struct tnet_loop *l)
{
        signal(SIGPIPE, SIG_IGN);
        memset(l, 0, sizeof(*l));
        assert_non_null(l->base = event_base_new());
        assert_int_equal(pipe(l->cmd), 0);
        assert_int_equal(pipe(l->ack), 0);
        l->ev = event_new(l->base, l->cmd[0], EV_READ | EV_PERSIST, tnet_on_cmd, l);
        assert_non_null(l->ev);
        assert_int_equal(event_add(l->ev, NULL), 0);
}

static inline void tnet_loop_start(struct tnet_loop *l)
{
        assert_int_equal(pthread_create(&l->th, NULL, tnet_thread, l), 0);
}

/* Run fn(arg) in the loop thread and wait for it. */
static inline void tnet_loop_call(struct tnet_loop *l, void (*fn)(void *), void *arg)
{
        struct tnet_call c = {fn, arg}, *pc = &c;
        char b;

        assert_int_equal(write(l->cmd[1], &pc, sizeof(pc)), (ssize_t)sizeof(pc));
        assert_int_equal(read(l->ack[0], &b, 1), 1);
}

static inline void tnet_loop_stop(struct tnet_loop *l)
{
        struct tnet_call *none = NULL;

        assert_int_equal(write(l->cmd[1], &none, sizeof(none)), (ssize_t)sizeof(none));
        pthread_join(l->th, NULL);
}

static inline void tnet_loop_free(struct tnet_loop *l)
{
        event_free(l->ev);
        event_base_free(l->base);
        close(l->cmd[0]);
        close(l->cmd[1]);
        close(l->ack[0]);
        close(l->ack[1]);
}

struct tnet_conns_arg {
        struct imago_https_server *s;
        unsigned n;
};

static inline void tnet_conns_fn(void *arg)
{
        struct tnet_conns_arg *a = arg;

        a->n = imago_https_server_conns(a->s);
}

static inline unsigned tnet_conns(struct tnet_loop *l, struct imago_https_server *s)
{
        struct tnet_conns_arg a = {s, 0};

        tnet_loop_call(l, tnet_conns_fn, &a);
        return a.n;
}

static inline uint64_t tnet_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
}

/* Wait up to ms for the server's connection count to be n. */
static inline int tnet_wait_conns(struct tnet_loop *l, struct imago_https_server *s, unsigned n,
                                  int ms)
{
        uint64_t end = tnet_now_ms() + (uint64_t)ms;

        while (tnet_conns(l, s) != n) {
                if (tnet_now_ms() >= end)
                        return 0;
                usleep(10000);
        }
        return 1;
}

/* ---- a raw TLS client ---- */

struct tnet_raw {
        int fd;
        SSL_CTX *ctx;
        SSL *ssl;
};

static inline int tnet_tcp(uint16_t port)
{
        struct sockaddr_in sa;
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

        assert_true(fd >= 0);
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons(port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        return fd;
}

/* Connect and handshake (no certificate check: the tests here are about the server). 0 or -1. */
static inline int tnet_raw_open_v(struct tnet_raw *r, uint16_t port, int max_version)
{
        struct timeval tv = {5, 0};

        memset(r, 0, sizeof(*r));
        r->fd = tnet_tcp(port);
        setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        assert_non_null(r->ctx = SSL_CTX_new(TLS_client_method()));
        if (max_version != 0) {
                SSL_CTX_set_security_level(r->ctx, 0);
                SSL_CTX_set_cipher_list(r->ctx, "DEFAULT:@SECLEVEL=0");
                SSL_CTX_set_min_proto_version(r->ctx, 0);
                SSL_CTX_set_max_proto_version(r->ctx, max_version);
        }
        assert_non_null(r->ssl = SSL_new(r->ctx));
        SSL_set_fd(r->ssl, r->fd);
        return SSL_connect(r->ssl) == 1 ? 0 : -1;
}

static inline int tnet_raw_open(struct tnet_raw *r, uint16_t port)
{
        return tnet_raw_open_v(r, port, 0);
}

static inline int tnet_raw_send(struct tnet_raw *r, const void *buf, size_t len)
{
        return SSL_write(r->ssl, buf, (int)len) == (int)len ? 0 : -1;
}

/* Read until the peer closes or ms pass; returns bytes read (NUL-terminated in buf). */
static inline size_t tnet_raw_read(struct tnet_raw *r, char *buf, size_t cap, int ms)
{
        uint64_t end = tnet_now_ms() + (uint64_t)ms;
        size_t len = 0;
        int n;

        while (len + 1 < cap && tnet_now_ms() < end) {
                struct pollfd p = {r->fd, POLLIN, 0};

                if (SSL_pending(r->ssl) == 0 && poll(&p, 1, 50) <= 0)
                        continue;
                n = SSL_read(r->ssl, buf + len, (int)(cap - 1 - len));
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        ERR_clear_error();
        return len;
}

/* 1 if the peer closed the connection within ms. */
static inline int tnet_raw_closed(struct tnet_raw *r, int ms)
{
        uint64_t end = tnet_now_ms() + (uint64_t)ms;
        char b[256];
        int n;

        while (tnet_now_ms() < end) {
                struct pollfd p = {r->fd, POLLIN, 0};

                if (SSL_pending(r->ssl) == 0 && poll(&p, 1, 20) <= 0)
                        continue;
                n = SSL_read(r->ssl, b, sizeof(b));
                ERR_clear_error();
                if (n <= 0)
                        return 1;
        }
        return 0;
}

static inline void tnet_raw_close(struct tnet_raw *r)
{
        SSL_free(r->ssl);
        SSL_CTX_free(r->ctx);
        if (r->fd >= 0)
                close(r->fd);
        memset(r, 0, sizeof(*r));
        r->fd = -1;
}

#endif
