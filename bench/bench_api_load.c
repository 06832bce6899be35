/*
 * HTTPS load generator for bench/api/bench_api.sh (requests per second of
 * imago-cloud's API next to a plain HTTPS baseline).
 *
 *   bench_api_load login HOST PORT CA NAME ACCOUNTS PASSWORD_FILE TOKENS_OUT
 *       signs up and logs in ACCOUNTS users bench-0..N-1 (201 or 409 both
 *       fine; at most 1000), from loopback addresses in turn, and writes one
 *       access token per line to TOKENS_OUT (0600).
 *   bench_api_load run HOST PORT CA NAME PATH TOKENS|- CLIENTS THREADS SECONDS KEEPALIVE
 *       THREADS threads share CLIENTS simulated clients; client i has its own
 *       source address 127.0.0.(2+i) and the accounts of token lines i,
 *       i + CLIENTS, ... (used in turn), and with
 *       KEEPALIVE=1 its own persistent connection (HTTP/1.1 keep-alive), with
 *       0 a new TLS connection per request (Connection: close).  Each thread
 *       sends one request at a time, its clients in turn, for SECONDS.
 *       Prints: requests=N ok=N (2xx) rate_limited=N (429) other=N errors=N
 *       seconds=S rps=R (2xx per second) p50_ms= p90_ms= p99_ms= reconnects=N
 *
 * Every response goes through imago_net's strict response parser; the
 * server is verified against CA for NAME (as imago_httpc does).  Traffic
 * stays on the loopback.  Tokens are never printed.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "base/err.h"
#include "base/num.h"
#include "base/wipe.h"
#include "net/https.h"
#include "net/httpc_parse.h"

#define CLIENTS_MAX  250 /* source addresses 127.0.0.2 .. 127.0.0.251 */
#define ACCOUNTS_MAX 1000
#define TOKEN_MAX    2048
#define BUF_MAX      (64 * 1024)

struct conn {
        int fd;
        SSL *ssl;
};

struct client {
        int idx;
        size_t next_tok; /* this client's accounts: tokens idx, idx + clients, ... */
        struct conn c;
};

struct cfg {
        const char *host, *name, *path;
        char **tokens;
        size_t ntok, nclients;
        uint16_t port;
        SSL_CTX *ctx;
        int keepalive;
        double seconds;
};

struct worker {
        const struct cfg *cfg;
        struct client *clients;
        size_t nclients;
        uint64_t requests, ok, limited, other, errors, reconnects;
        uint32_t *lat_us;
        size_t nlat, caplat;
        pthread_t th;
};

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void conn_close(struct conn *c)
{
        if (c->ssl != NULL)
                SSL_free(c->ssl);
        if (c->fd >= 0)
                close(c->fd);
        c->ssl = NULL;
        c->fd = -1;
        ERR_clear_error();
}

static int conn_open(const struct cfg *cfg, int idx, struct conn *c)
{
        struct sockaddr_in sa, me;
        struct timeval tv = {10, 0};
        int one = 1;

        c->ssl = NULL;
        if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
                return -1;
        setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        memset(&me, 0, sizeof(me));
        me.sin_family = AF_INET;
        me.sin_addr.s_addr = htonl(0x7f000002U + (uint32_t)idx);
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons(cfg->port);
        if (inet_pton(AF_INET, cfg->host, &sa.sin_addr) != 1 ||
            bind(c->fd, (struct sockaddr *)&me, sizeof(me)) != 0 ||
            connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
                goto fail;
        if ((c->ssl = SSL_new(cfg->ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
                goto fail;
        SSL_set_tlsext_host_name(c->ssl, cfg->name);
        if (SSL_connect(c->ssl) != 1)
                goto fail;
        return 0;
fail:
        conn_close(c);
        return -1;
}

/* One request on c; the status, or -1 on a transport or parse error. body: POST body or NULL. */
static int do_request(const struct cfg *cfg, struct conn *c, const char *method, const char *path,
                      const char *token, const char *body, int close_after, char **resp_body)
{
        static __thread uint8_t buf[BUF_MAX];
        struct imago_httpc_resp resp;
        char head[TOKEN_MAX + 512];
        size_t len = 0;
        int n, r, st, eof = 0;

        n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: %s\r\n%s%s%s%s%s%zu\r\n\r\n%s",
                     method, path, cfg->name, token != NULL ? "Authorization: Bearer " : "",
                     token != NULL ? token : "", token != NULL ? "\r\n" : "",
                     close_after ? "Connection: close\r\n" : "",
                     "Content-Type: application/json\r\nContent-Length: ",
                     body != NULL ? strlen(body) : (size_t)0, body != NULL ? body : "");
        if (n <= 0 || (size_t)n >= sizeof(head))
                return -1;
        if (SSL_write(c->ssl, head, n) != n)
                return -1;
        for (;;) {
                n = SSL_read(c->ssl, buf + len, (int)(sizeof(buf) - len));
                if (n > 0)
                        len += (size_t)n;
                else if (SSL_get_error(c->ssl, n) == SSL_ERROR_ZERO_RETURN ||
                         SSL_get_error(c->ssl, n) == SSL_ERROR_SYSCALL)
                        eof = 1;
                else
                        return -1;
                r = imago_httpc_parse_response(buf, len, eof, &resp);
                if (r == IMAGO_HTTPC_MORE && !eof && len < sizeof(buf))
                        continue;
                if (r != IMAGO_OK)
                        return -1;
                break;
        }
        st = resp.status;
        if (resp_body != NULL) {
                *resp_body = resp.body;
                resp.body = NULL;
        }
        imago_httpc_resp_free(&resp);
        return st;
}

static void add_lat(struct worker *w, double dt)
{
        uint32_t *nl;

        if (w->nlat == w->caplat) {
                w->caplat = w->caplat == 0 ? 4096 : w->caplat * 2;
                if ((nl = realloc(w->lat_us, w->caplat * sizeof(*nl))) == NULL)
                        abort();
                w->lat_us = nl;
        }
        w->lat_us[w->nlat++] = dt * 1e6 > 4e9 ? 4000000000U : (uint32_t)(dt * 1e6);
}

static void *worker_run(void *arg)
{
        struct worker *w = arg;
        const struct cfg *cfg = w->cfg;
        double end = now_s() + cfg->seconds, t0;
        size_t next = 0;
        const char *tok;
        int st;

        while (now_s() < end) {
                struct client *cl = &w->clients[next];

                next = (next + 1) % w->nclients;
                t0 = now_s();
                if (cl->c.ssl == NULL) {
                        if (conn_open(cfg, cl->idx, &cl->c) != 0) {
                                w->errors++;
                                continue;
                        }
                }
                tok = NULL;
                if (cfg->ntok > 0) {
                        tok = cfg->tokens[cl->next_tok];
                        cl->next_tok += cfg->nclients;
                        if (cl->next_tok >= cfg->ntok)
                                cl->next_tok = (size_t)cl->idx % cfg->ntok;
                }
                st = do_request(cfg, &cl->c, "GET", cfg->path, tok, NULL, !cfg->keepalive, NULL);
                w->requests++;
                if (st < 0) {
                        w->errors++;
                        conn_close(&cl->c);
                        if (cfg->keepalive)
                                w->reconnects++;
                        continue;
                }
                add_lat(w, now_s() - t0);
                if (st >= 200 && st < 300)
                        w->ok++;
                else if (st == 429)
                        w->limited++;
                else
                        w->other++;
                if (!cfg->keepalive)
                        conn_close(&cl->c);
        }
        return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

        return x < y ? -1 : x > y;
}

static SSL_CTX *make_ctx(const char *ca, const char *name)
{
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        X509_VERIFY_PARAM *vp;
        unsigned char ip[16];

        if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
            SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
                goto fail;
        vp = SSL_CTX_get0_param(ctx);
        X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN); /* as imago_httpc */
        if (inet_pton(AF_INET, name, ip) == 1 ? X509_VERIFY_PARAM_set1_ip_asc(vp, name) != 1
                                              : X509_VERIFY_PARAM_set1_host(vp, name, 0) != 1)
                goto fail;
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        return ctx;
fail:
        SSL_CTX_free(ctx);
        return NULL;
}

static int read_tokens(const char *path, char ***out, size_t *n)
{
        char line[TOKEN_MAX + 2], **t = NULL;
        size_t k = 0;
        FILE *f = fopen(path, "r");

        if (f == NULL)
                return -1;
        while (fgets(line, sizeof(line), f) != NULL && k < ACCOUNTS_MAX) {
                line[strcspn(line, "\r\n")] = '\0';
                if (line[0] == '\0')
                        continue;
                if ((t = realloc(t, (k + 1) * sizeof(*t))) == NULL || (t[k] = strdup(line)) == NULL)
                        abort();
                k++;
        }
        imago_wipe(line, sizeof(line));
        fclose(f);
        *out = t;
        *n = k;
        return k > 0 ? 0 : -1;
}

static int parse_num(const char *s, uint32_t max, uint32_t *out)
{
        return imago_parse_u32(s, max, out) == IMAGO_OK ? 0 : -1;
}

static int cmd_run(char **argv)
{
        struct cfg cfg;
        struct worker *w = NULL;
        struct client *cl = NULL;
        char **tokens = NULL;
        size_t ntok = 0, i, total_lat = 0, k;
        uint32_t nclients, nthreads, secs, ka, port, *all = NULL;
        uint64_t req = 0, ok = 0, lim = 0, oth = 0, err = 0, rec = 0;
        double t0, dt;

        memset(&cfg, 0, sizeof(cfg));
        cfg.host = argv[0];
        cfg.name = argv[3];
        cfg.path = argv[4];
        if (parse_num(argv[1], 65535, &port) != 0 || port == 0 ||
            parse_num(argv[6], CLIENTS_MAX, &nclients) != 0 || nclients == 0 ||
            parse_num(argv[7], 64, &nthreads) != 0 || nthreads == 0 || nthreads > nclients ||
            parse_num(argv[8], 600, &secs) != 0 || secs == 0 || parse_num(argv[9], 1, &ka) != 0) {
                fprintf(stderr, "bench_api_load run: bad arguments\n");
                return 2;
        }
        cfg.port = (uint16_t)port;
        cfg.keepalive = (int)ka;
        cfg.seconds = secs;
        if ((cfg.ctx = make_ctx(argv[2], cfg.name)) == NULL) {
                fprintf(stderr, "bench_api_load: cannot load CA %s\n", argv[2]);
                return 1;
        }
        if (strcmp(argv[5], "-") != 0 && read_tokens(argv[5], &tokens, &ntok) != 0) {
                fprintf(stderr, "bench_api_load: no tokens in %s\n", argv[5]);
                return 1;
        }
        if ((cl = calloc(nclients, sizeof(*cl))) == NULL ||
            (w = calloc(nthreads, sizeof(*w))) == NULL)
                abort();
        cfg.tokens = tokens;
        cfg.ntok = ntok;
        cfg.nclients = nclients;
        for (i = 0; i < nclients; i++) {
                cl[i].idx = (int)i;
                cl[i].next_tok = ntok > 0 ? i % ntok : 0;
                cl[i].c.fd = -1;
        }
        /* Thread t gets clients t, t + T, ... (a contiguous slice keeps it simple). */
        for (i = 0, k = 0; i < nthreads; i++) {
                size_t share = nclients / nthreads + (i < nclients % nthreads ? 1 : 0);

                w[i].cfg = &cfg;
                w[i].clients = cl + k;
                w[i].nclients = share;
                k += share;
        }
        t0 = now_s();
        for (i = 0; i < nthreads; i++)
                if (pthread_create(&w[i].th, NULL, worker_run, &w[i]) != 0)
                        abort();
        for (i = 0; i < nthreads; i++)
                pthread_join(w[i].th, NULL);
        dt = now_s() - t0;
        for (i = 0; i < nthreads; i++) {
                req += w[i].requests;
                ok += w[i].ok;
                lim += w[i].limited;
                oth += w[i].other;
                err += w[i].errors;
                rec += w[i].reconnects;
                total_lat += w[i].nlat;
        }
        if ((all = malloc((total_lat + 1) * sizeof(*all))) == NULL)
                abort();
        for (i = 0, k = 0; i < nthreads; i++) {
                if (w[i].nlat > 0)
                        memcpy(all + k, w[i].lat_us, w[i].nlat * sizeof(*all));
                k += w[i].nlat;
                free(w[i].lat_us);
        }
        qsort(all, total_lat, sizeof(*all), cmp_u32);
#define PCT(p) (total_lat > 0 ? all[(size_t)((double)(total_lat - 1) * (p))] / 1000.0 : 0.0)
        printf(
            "requests=%llu ok=%llu rate_limited=%llu other=%llu errors=%llu seconds=%.2f rps=%.0f "
            "p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f reconnects=%llu\n",
            (unsigned long long)req, (unsigned long long)ok, (unsigned long long)lim,
            (unsigned long long)oth, (unsigned long long)err, dt, (double)ok / dt, PCT(0.50),
            PCT(0.90), PCT(0.99), (unsigned long long)rec);
#undef PCT
        for (i = 0; i < nclients; i++)
                conn_close(&cl[i].c);
        for (i = 0; i < ntok; i++) {
                imago_wipe(tokens[i], strlen(tokens[i]));
                free(tokens[i]);
        }
        free(tokens);
        free(all);
        free(cl);
        free(w);
        SSL_CTX_free(cfg.ctx);
        return 0;
}

static int cmd_login(char **argv)
{
        struct cfg cfg;
        uint32_t port, n, i;
        char pw[256], body[512], *resp = NULL;
        FILE *f = NULL, *out = NULL;
        int fd, st, rc = 1;

        memset(&cfg, 0, sizeof(cfg));
        cfg.host = argv[0];
        cfg.name = argv[3];
        if (parse_num(argv[1], 65535, &port) != 0 || port == 0 ||
            parse_num(argv[4], ACCOUNTS_MAX, &n) != 0 || n == 0) {
                fprintf(stderr, "bench_api_load login: bad arguments\n");
                return 2;
        }
        cfg.port = (uint16_t)port;
        if ((cfg.ctx = make_ctx(argv[2], cfg.name)) == NULL)
                return 1;
        if ((f = fopen(argv[5], "r")) == NULL || fgets(pw, sizeof(pw), f) == NULL)
                goto out;
        pw[strcspn(pw, "\r\n")] = '\0';
        if ((fd = open(argv[6], O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
            (out = fdopen(fd, "w")) == NULL)
                goto out;
        for (i = 0; i < n; i++) {
                struct conn c = {-1, NULL};
                json_t *j;
                const char *tok;

                snprintf(body, sizeof(body), "{\"user\":\"bench-%u\",\"password\":\"%s\"}", i, pw);
                if (conn_open(&cfg, (int)(i % CLIENTS_MAX), &c) != 0) {
                        fprintf(stderr, "bench_api_load: cannot connect (TLS) to %s:%u\n", cfg.host,
                                (unsigned)cfg.port);
                        goto out;
                }
                st = do_request(&cfg, &c, "POST", "/v1/users", NULL, body, 1, NULL);
                conn_close(&c);
                if (st != 201 && st != 409) {
                        fprintf(stderr, "bench_api_load: signup bench-%u: status %d\n", i, st);
                        goto out;
                }
                if (conn_open(&cfg, (int)(i % CLIENTS_MAX), &c) != 0) {
                        fprintf(stderr, "bench_api_load: cannot connect (TLS) to %s:%u\n", cfg.host,
                                (unsigned)cfg.port);
                        goto out;
                }
                st = do_request(&cfg, &c, "POST", "/v1/auth/login", NULL, body, 1, &resp);
                conn_close(&c);
                j = st == 200 && resp != NULL ? json_loads(resp, 0, NULL) : NULL;
                tok = json_string_value(json_object_get(j, "access_token"));
                if (tok == NULL) {
                        fprintf(stderr, "bench_api_load: login bench-%u: status %d\n", i, st);
                        json_decref(j);
                        goto out;
                }
                fprintf(out, "%s\n", tok);
                json_decref(j);
                if (resp != NULL)
                        imago_wipe(resp, strlen(resp));
                free(resp);
                resp = NULL;
        }
        rc = 0;
out:
        imago_wipe(pw, sizeof(pw));
        imago_wipe(body, sizeof(body));
        free(resp);
        if (f != NULL)
                fclose(f);
        if (out != NULL && fclose(out) != 0)
                rc = 1;
        SSL_CTX_free(cfg.ctx);
        return rc;
}

int main(int argc, char **argv)
{
        signal(SIGPIPE, SIG_IGN);
        if (argc == 9 && strcmp(argv[1], "login") == 0)
                return cmd_login(argv + 2);
        if (argc == 12 && strcmp(argv[1], "run") == 0)
                return cmd_run(argv + 2);
        fprintf(stderr, "usage: bench_api_load login HOST PORT CA NAME CLIENTS PASSWORD_FILE OUT\n"
                        "       bench_api_load run HOST PORT CA NAME PATH TOKENS|- CLIENTS THREADS "
                        "SECONDS KEEPALIVE(0|1)\n");
        return 2;
}
