/*
 * See https.h: the blocking HTTPS client.  One request per connection: a
 * non-blocking socket driven with poll() against one deadline for the
 * whole request (connect, handshake, write, read), OpenSSL on top, the
 * response parsed by httpc_parse.c as it arrives.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "base/err.h"
#include "base/sock.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/wipe.h"
#include "net/https.h"
#include "net/httpc_parse.h"

#define HOST_MAX   253
#define PATH_MAX_  8192
#define BEARER_MAX 4096
#define READ_CHUNK 16384
#define SSL_EOF    2 /* ssl_wait: the peer closed */

static int is_ip(const char *s)
{
        unsigned char b[16];

        return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

static int make_ctx(const struct imago_httpc *c, const char *name, SSL_CTX **out)
{
        SSL_CTX *ctx = NULL;
        X509_VERIFY_PARAM *vp;
        int r = IMAGO_ECRYPTO;

        if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
                goto out;
        if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
                goto out;
        /* A close without close_notify reads as end of stream: every accepted
         * response is framed (Content-Length or chunked), so a truncation
         * shows as an incomplete message. */
        SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                     SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
        if (c->ca_path != NULL) {
                if (SSL_CTX_load_verify_locations(ctx, c->ca_path, NULL) != 1) {
                        r = IMAGO_EIO;
                        IMAGO_ERR("https client: cannot load CA %s", c->ca_path);
                        goto out;
                }
                vp = SSL_CTX_get0_param(ctx);
                /* Every certificate of ca_path is an anchor: pinning an
                 * intermediate (the server CA) is allowed and narrower. */
                X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
                X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                if (is_ip(name) ? X509_VERIFY_PARAM_set1_ip_asc(vp, name) != 1
                                : X509_VERIFY_PARAM_set1_host(vp, name, 0) != 1)
                        goto out;
                SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        } else {
                /* Pinned leaf: checked after the handshake. */
                SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        }
        *out = ctx;
        ctx = NULL;
        r = IMAGO_OK;
out:
        SSL_CTX_free(ctx);
        return r;
}

/* Drive one SSL call that returned ret: wait as asked, IMAGO_HTTPC_MORE to retry. */
static int ssl_wait(SSL *ssl, int fd, int ret, uint64_t deadline)
{
        switch (SSL_get_error(ssl, ret)) {
        case SSL_ERROR_WANT_READ:
                return imago_sock_wait(fd, POLLIN, deadline) == IMAGO_OK ? IMAGO_HTTPC_MORE
                                                                         : IMAGO_EIO;
        case SSL_ERROR_WANT_WRITE:
                return imago_sock_wait(fd, POLLOUT, deadline) == IMAGO_OK ? IMAGO_HTTPC_MORE
                                                                          : IMAGO_EIO;
        case SSL_ERROR_ZERO_RETURN:
                return SSL_EOF;
        case SSL_ERROR_SYSCALL:
                return IMAGO_EIO;
        default:
                return IMAGO_ECRYPTO;
        }
}

static int handshake(SSL *ssl, int fd, uint64_t deadline)
{
        long v;
        int ret, r;

        for (;;) {
                ERR_clear_error();
                if ((ret = SSL_connect(ssl)) == 1)
                        return IMAGO_OK;
                r = ssl_wait(ssl, fd, ret, deadline);
                if (r == IMAGO_HTTPC_MORE)
                        continue;
                v = SSL_get_verify_result(ssl);
                if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH ||
                    v == X509_V_ERR_EMAIL_MISMATCH)
                        return IMAGO_EPKI_NAME;
                if (v != X509_V_OK)
                        return IMAGO_EPKI_CHAIN;
                return r == SSL_EOF ? IMAGO_ECRYPTO : r;
        }
}

static int check_pin(SSL *ssl, const char *pin)
{
        uint8_t want[32], got[32];
        unsigned char *der = NULL;
        unsigned int gl = 0;
        X509 *leaf;
        int n, r = IMAGO_EHTTP_PIN;

        char low[65];
        size_t i;

        for (i = 0; i < 64 && pin[i] != '\0'; i++)
                low[i] = (pin[i] >= 'A' && pin[i] <= 'F') ? (char)(pin[i] - 'A' + 'a') : pin[i];
        low[i] = '\0';
        if (imago_hex_decode(low, want, sizeof(want)) != IMAGO_OK)
                return IMAGO_EINVAL;
        if ((leaf = SSL_get0_peer_certificate(ssl)) == NULL)
                goto out;
        if ((n = i2d_X509(leaf, &der)) <= 0) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        if (EVP_Digest(der, (size_t)n, got, &gl, EVP_sha256(), NULL) != 1 || gl != sizeof(got)) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        if (CRYPTO_memcmp(want, got, sizeof(want)) == 0)
                r = IMAGO_OK;
out:
        OPENSSL_free(der);
        return r;
}

static int write_all(SSL *ssl, int fd, const char *buf, size_t len, uint64_t deadline)
{
        size_t done = 0, w;
        int ret, r;

        while (done < len) {
                ERR_clear_error();
                ret = SSL_write_ex(ssl, buf + done, len - done, &w);
                if (ret == 1) {
                        done += w;
                        continue;
                }
                r = ssl_wait(ssl, fd, ret, deadline);
                if (r != IMAGO_HTTPC_MORE)
                        return r == SSL_EOF ? IMAGO_EIO : r;
        }
        return IMAGO_OK;
}

static int read_response(SSL *ssl, int fd, uint64_t deadline, struct imago_httpc_resp *resp)
{
        uint8_t *buf = NULL, *nb;
        size_t len = 0, cap = 0, got;
        int ret, r, eof = 0;

        for (;;) {
                if (cap - len < READ_CHUNK) {
                        if (cap >= IMAGO_HTTPC_RAW_MAX) {
                                r = IMAGO_ETOOBIG;
                                goto out;
                        }
                        cap = cap == 0 ? 2 * READ_CHUNK : cap * 2;
                        if (cap > IMAGO_HTTPC_RAW_MAX)
                                cap = IMAGO_HTTPC_RAW_MAX;
                        if ((nb = realloc(buf, cap)) == NULL) {
                                r = IMAGO_ENOMEM;
                                goto out;
                        }
                        buf = nb;
                }
                ERR_clear_error();
                ret = SSL_read_ex(ssl, buf + len, cap - len, &got);
                if (ret == 1) {
                        len += got;
                } else {
                        r = ssl_wait(ssl, fd, ret, deadline);
                        if (r == SSL_EOF)
                                eof = 1;
                        else if (r == IMAGO_HTTPC_MORE)
                                continue;
                        else
                                goto out;
                }
                r = imago_httpc_parse_response(buf, len, eof, resp);
                if (r != IMAGO_HTTPC_MORE)
                        goto out;
                if (eof) {
                        r = IMAGO_EHTTP;
                        goto out;
                }
        }
out:
        free(buf);
        return r;
}

static int method_ok(const char *m)
{
        static const char *const ok[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
        size_t i;

        for (i = 0; m != NULL && i < sizeof(ok) / sizeof(ok[0]); i++)
                if (strcmp(m, ok[i]) == 0)
                        return 1;
        return 0;
}

/* Printable ASCII without spaces, 1..max bytes. */
static int token_ok(const char *s, size_t max)
{
        size_t i;

        if (s == NULL || s[0] == '\0')
                return 0;
        for (i = 0; s[i] != '\0'; i++)
                if (i >= max || s[i] <= 0x20 || s[i] >= 0x7f)
                        return 0;
        return 1;
}

static int check_args(const struct imago_httpc *c, const uint64_t *range, const char *method,
                      const char *path, const char *bearer, const char *body, size_t body_len)
{
        if (c == NULL || !token_ok(c->host, HOST_MAX) || c->port == 0 || !method_ok(method))
                return IMAGO_EINVAL;
        if ((c->ca_path == NULL) == (c->pin_sha256 == NULL))
                return IMAGO_EINVAL;
        if (c->pin_sha256 != NULL && strlen(c->pin_sha256) != 64)
                return IMAGO_EINVAL;
        if (c->server_name != NULL && !token_ok(c->server_name, HOST_MAX))
                return IMAGO_EINVAL;
        if (!token_ok(path, PATH_MAX_) || path[0] != '/')
                return IMAGO_EINVAL;
        if (bearer != NULL && !token_ok(bearer, BEARER_MAX))
                return IMAGO_EINVAL;
        if ((body == NULL && body_len != 0) || body_len > IMAGO_HTTPC_BODY_MAX)
                return IMAGO_EINVAL;
        if (range != NULL && (strcmp(method, "GET") != 0 || range[0] > range[1]))
                return IMAGO_EINVAL;
        return IMAGO_OK;
}

/* The request head (holds the bearer: wiped by the caller). */
static int build_head(const struct imago_httpc *c, const uint64_t *range, const char *name,
                      const char *method, const char *path, const char *bearer, const char *body,
                      size_t body_len, char **out, size_t *out_len)
{
        size_t cap = strlen(path) + strlen(name) + (bearer != NULL ? strlen(bearer) : 0) + 320;
        const char *v6 = strchr(name, ':') != NULL ? "[" : "";
        char *h;
        int n;

        if ((h = malloc(cap)) == NULL)
                return IMAGO_ENOMEM;
        n = snprintf(h, cap,
                     "%s %s HTTP/1.1\r\nHost: %s%s%s:%u\r\nUser-Agent: imago\r\n"
                     "Accept: application/json\r\nConnection: close\r\n%s%s%s",
                     method, path, v6, name, v6[0] != '\0' ? "]" : "", (unsigned)c->port,
                     bearer != NULL ? "Authorization: Bearer " : "", bearer != NULL ? bearer : "",
                     bearer != NULL ? "\r\n" : "");
        if (n > 0 && (size_t)n < cap && (body != NULL || strcmp(method, "GET") != 0))
                n += snprintf(h + n, cap - (size_t)n,
                              "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                              body != NULL ? body_len : (size_t)0);
        if (n > 0 && (size_t)n < cap && range != NULL && range[1] == UINT64_MAX)
                n += snprintf(h + n, cap - (size_t)n, "Range: bytes=%llu-\r\n",
                              (unsigned long long)range[0]);
        else if (n > 0 && (size_t)n < cap && range != NULL)
                n += snprintf(h + n, cap - (size_t)n, "Range: bytes=%llu-%llu\r\n",
                              (unsigned long long)range[0], (unsigned long long)range[1]);
        if (n > 0 && (size_t)n < cap)
                n += snprintf(h + n, cap - (size_t)n, "\r\n");
        if (n <= 0 || (size_t)n >= cap) {
                imago_wipe(h, cap);
                free(h);
                return IMAGO_EINVAL;
        }
        *out = h;
        *out_len = (size_t)n;
        return IMAGO_OK;
}

/*
 * A peer that resets the connection makes the socket write raise SIGPIPE:
 * hold it blocked for the request and discard one raised meanwhile.
 */
struct sigpipe_guard {
        sigset_t old;
        int was_pending;
};

static void sigpipe_hold(struct sigpipe_guard *g)
{
        sigset_t set, pend;

        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        sigemptyset(&pend);
        sigpending(&pend);
        g->was_pending = sigismember(&pend, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void sigpipe_release(struct sigpipe_guard *g)
{
        const struct timespec zero = {0, 0};
        sigset_t set, pend;

        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        sigemptyset(&pend);
        if (!g->was_pending && sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE))
                while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
                        ;
        pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

static int request(const struct imago_httpc *c, const uint64_t *range, const char *method,
                   const char *path, const char *bearer, const char *body, size_t body_len,
                   struct imago_httpc_resp *resp);

int imago_httpc_request(const struct imago_httpc *c, const char *method, const char *path,
                        const char *bearer, const char *body, size_t body_len,
                        struct imago_httpc_resp *resp)
{
        struct sigpipe_guard g;
        int r;

        sigpipe_hold(&g);
        r = request(c, NULL, method, path, bearer, body, body_len, resp);
        sigpipe_release(&g);
        return r;
}

int imago_httpc_get_range(const struct imago_httpc *c, const char *path, uint64_t first,
                          uint64_t last, struct imago_httpc_resp *resp)
{
        const uint64_t range[2] = {first, last};
        struct sigpipe_guard g;
        int r;

        sigpipe_hold(&g);
        r = request(c, range, "GET", path, NULL, NULL, 0, resp);
        sigpipe_release(&g);
        return r;
}

static int request(const struct imago_httpc *c, const uint64_t *range, const char *method,
                   const char *path, const char *bearer, const char *body, size_t body_len,
                   struct imago_httpc_resp *resp)
{
        const char *name;
        uint64_t deadline;
        SSL_CTX *ctx = NULL;
        SSL *ssl = NULL;
        char *head = NULL;
        size_t head_len = 0;
        int fd = -1, r;

        if (resp == NULL)
                return IMAGO_EINVAL;
        memset(resp, 0, sizeof(*resp));
        if ((r = check_args(c, range, method, path, bearer, body, body_len)) != IMAGO_OK)
                goto out;
        name = c->server_name != NULL ? c->server_name : c->host;
        deadline = imago_mono_ms() + (c->timeout_ms != 0 ? c->timeout_ms : 30000U);
        if ((r = build_head(c, range, name, method, path, bearer, body, body_len, &head,
                            &head_len)) != IMAGO_OK)
                goto out;
        if ((r = make_ctx(c, name, &ctx)) != IMAGO_OK)
                goto out;
        if ((r = imago_sock_connect(c->host, c->port, deadline, &fd)) != IMAGO_OK) {
                IMAGO_ERR("https client: cannot connect to %s port %u", c->host, (unsigned)c->port);
                goto out;
        }
        r = IMAGO_ECRYPTO;
        if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1)
                goto out;
        if (!is_ip(name) && SSL_set_tlsext_host_name(ssl, name) != 1)
                goto out;
        if ((r = handshake(ssl, fd, deadline)) != IMAGO_OK)
                goto out;
        if (c->pin_sha256 != NULL && (r = check_pin(ssl, c->pin_sha256)) != IMAGO_OK)
                goto out;
        if ((r = write_all(ssl, fd, head, head_len, deadline)) != IMAGO_OK)
                goto out;
        if (body_len > 0 && (r = write_all(ssl, fd, body, body_len, deadline)) != IMAGO_OK)
                goto out;
        r = read_response(ssl, fd, deadline, resp);
out:
        if (ssl != NULL) {
                if (r == IMAGO_OK)
                        SSL_shutdown(ssl); /* one non-blocking try, best effort */
                SSL_free(ssl);
        }
        SSL_CTX_free(ctx);
        if (fd >= 0)
                close(fd);
        if (head != NULL) {
                imago_wipe(head, head_len);
                free(head);
        }
        ERR_clear_error();
        if (r != IMAGO_OK)
                imago_httpc_resp_free(resp);
        return r;
}

void imago_httpc_resp_free(struct imago_httpc_resp *r)
{
        if (r == NULL)
                return;
        free(r->body);
        memset(r, 0, sizeof(*r));
}

int imago_https_cert_fingerprint(const char *pem_path, char out[65])
{
        uint8_t md[32];
        unsigned char *der = NULL;
        unsigned int ml = 0;
        X509 *x = NULL;
        BIO *bio = NULL;
        int n, r = IMAGO_EINVAL;

        if (pem_path == NULL || out == NULL)
                return IMAGO_EINVAL;
        out[0] = '\0';
        r = IMAGO_EIO;
        if ((bio = BIO_new_file(pem_path, "r")) == NULL)
                goto out;
        r = IMAGO_EMALFORMED;
        if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL)
                goto out;
        r = IMAGO_ECRYPTO;
        if ((n = i2d_X509(x, &der)) <= 0)
                goto out;
        if (EVP_Digest(der, (size_t)n, md, &ml, EVP_sha256(), NULL) != 1 || ml != sizeof(md))
                goto out;
        imago_hex_encode(md, sizeof(md), out);
        out[64] = '\0';
        r = IMAGO_OK;
out:
        OPENSSL_free(der);
        X509_free(x);
        BIO_free(bio);
        ERR_clear_error();
        return r;
}
