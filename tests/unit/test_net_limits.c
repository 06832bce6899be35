/*
 * imago_https server limits, one test per attack: each would fail if the
 * limit were missing (a handler that is never called, a connection that is
 * cut within a bound it would otherwise outlive, a status it would not get).
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "base/err.h"
#include "net/https.h"
#include "test_net_util.h"

static struct tnet_pki pki;
static atomic_int calls;

struct later {
        struct evhttp_request *req;
        struct event *ev;
};

static void reply_later(evutil_socket_t fd, short what, void *arg)
{
        struct later *l = arg;

        (void)fd;
        (void)what;
        imago_https_reply_json(l->req, 200, "{\"late\":true}");
        event_free(l->ev);
        free(l);
}

static void handler(struct evhttp_request *req, const char *peer, void *arg)
{
        struct event_base *base = arg;
        const char *path = evhttp_request_get_uri(req);

        (void)peer;
        atomic_fetch_add(&calls, 1);
        if (strcmp(path, "/slow-handler") == 0) {
                /* Answers 1.5 s later: longer than the test's request deadline. */
                struct timeval tv = {1, 500000};
                struct later *l = calloc(1, sizeof(*l));

                assert_non_null(l);
                l->req = req;
                l->ev = evtimer_new(base, reply_later, l);
                evtimer_add(l->ev, &tv);
                return;
        }
        imago_https_reply_json(req, 200, "{\"ok\":true}");
}

struct fixture {
        struct tnet_loop loop;
        SSL_CTX *ctx;
        struct imago_https_server *srv;
        uint16_t port;
};

static void up(struct fixture *f, const struct imago_https_limits *lim)
{
        tnet_loop_init(&f->loop);
        assert_int_equal(imago_https_server_ctx(pki.chain, pki.key, NULL, NULL, &f->ctx), IMAGO_OK);
        assert_int_equal(imago_https_server_new(f->loop.base, f->ctx, "127.0.0.1", 0, lim, handler,
                                                f->loop.base, &f->srv),
                         IMAGO_OK);
        f->port = imago_https_server_port(f->srv);
        atomic_store(&calls, 0);
        tnet_loop_start(&f->loop);
}

static void down(struct fixture *f)
{
        tnet_loop_stop(&f->loop);
        imago_https_server_free(f->srv);
        SSL_CTX_free(f->ctx);
        tnet_loop_free(&f->loop);
}

/* Send req on a fresh connection and read the answer (until close, at most 3 s). */
static void exchange(struct fixture *f, const char *req, size_t len, char *out, size_t cap)
{
        struct tnet_raw raw;

        assert_int_equal(tnet_raw_open(&raw, f->port), 0);
        tnet_raw_send(&raw, req, len); /* may fail once the server has closed */
        tnet_raw_read(&raw, out, cap, 3000);
        tnet_raw_close(&raw);
}

static void test_oversized_body_413(void **state)
{
        struct imago_https_limits lim = {.max_body = 1024};
        static char req[4096];
        char out[2048];
        struct fixture f;
        int n;

        (void)state;
        up(&f, &lim);
        /* Announced too big: refused before the body is read. */
        n = snprintf(req, sizeof(req),
                     "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n");
        memset(req + n, 'a', 2000);
        exchange(&f, req, (size_t)n + 2000, out, sizeof(out));
        assert_non_null(strstr(out, "HTTP/1.1 413"));
        /* Chunked, growing past the limit. */
        n = snprintf(req, sizeof(req),
                     "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n");
        memset(req + n, 'b', 1024);
        n += 1024;
        n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n");
        exchange(&f, req, (size_t)n, out, sizeof(out));
        assert_non_null(strstr(out, "HTTP/1.1 413"));
        /* Exactly at the limit: served. */
        n = snprintf(
            req, sizeof(req),
            "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1024\r\nConnection: close\r\n\r\n");
        memset(req + n, 'c', 1024);
        exchange(&f, req, (size_t)n + 1024, out, sizeof(out));
        assert_non_null(strstr(out, "HTTP/1.1 200"));
        assert_int_equal(atomic_load(&calls), 1);
        down(&f);
}

static void test_oversized_headers_refused(void **state)
{
        struct imago_https_limits lim = {.max_headers = 2048};
        static char req[8192];
        char out[2048];
        struct fixture f;
        int n;

        (void)state;
        up(&f, &lim);
        n = snprintf(req, sizeof(req), "GET /x HTTP/1.1\r\nHost: a\r\nX-Big: ");
        memset(req + n, 'h', 4000);
        n += 4000;
        n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n\r\n");
        exchange(&f, req, (size_t)n, out, sizeof(out));
        assert_true(strncmp(out, "HTTP/1.1 4", 10) == 0);
        /* Many small headers add up the same way. */
        n = snprintf(req, sizeof(req), "GET /x HTTP/1.1\r\nHost: a\r\n");
        while (n < 6000)
                n += snprintf(req + n, sizeof(req) - (size_t)n, "X-%d: v\r\n", n);
        n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n");
        exchange(&f, req, (size_t)n, out, sizeof(out));
        assert_true(strncmp(out, "HTTP/1.1 4", 10) == 0);
        assert_int_equal(atomic_load(&calls), 0);
        down(&f);
}

static void test_long_url_414(void **state)
{
        struct imago_https_limits lim = {.max_url = 100};
        char req[512], out[2048];
        struct fixture f;
        int n;

        (void)state;
        up(&f, &lim);
        n = snprintf(req, sizeof(req), "GET /");
        memset(req + n, 'u', 150);
        n += 150;
        n += snprintf(req + n, sizeof(req) - (size_t)n, " HTTP/1.1\r\nHost: a\r\n\r\n");
        exchange(&f, req, (size_t)n, out, sizeof(out));
        assert_non_null(strstr(out, "HTTP/1.1 414"));
        assert_non_null(strstr(out, "\"IMAGO_ETOOBIG\""));
        assert_int_equal(atomic_load(&calls), 0);
        down(&f);
}

static void test_malformed_request_line_400(void **state)
{
        static const char *const bad[] = {
            "GARBAGE\r\n\r\n",
            "GET /x HTTP/9.9\r\nHost: a\r\n\r\n",
            "GET\r\n\r\n",
            "GET /x HTTP/1.1 extra\r\nHost: a\r\n\r\n",
            "GET /x HTTP/1.1\r\nNo colon here\r\n\r\n",
            "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n",
            "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "TRACE /x HTTP/1.1\r\nHost: a\r\n\r\n",
            /* Framing two parsers could read two ways (smuggling). */
            "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde",
            ("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: "
             "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
        };
        char out[2048];
        struct fixture f;
        size_t i;

        (void)state;
        up(&f, NULL);
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                exchange(&f, bad[i], strlen(bad[i]), out, sizeof(out));
                if (strncmp(out, "HTTP/1.1 4", 10) != 0 && strncmp(out, "HTTP/1.1 5", 10) != 0 &&
                    out[0] != '\0')
                        fail_msg("case %zu: %s", i, out);
        }
        assert_int_equal(atomic_load(&calls), 0);
        down(&f);
}

static void test_slow_loris_cut_at_request_deadline(void **state)
{
        /* Idle timeout 30 s (the default): only the request deadline can cut it. */
        struct imago_https_limits lim = {.request_deadline_ms = 1000};
        const char *req = "GET /x HTTP/1.1\r\nHost: a\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        struct tnet_raw raw;
        struct fixture f;
        uint64_t t0, dt;
        size_t i;

        (void)state;
        up(&f, &lim);
        assert_int_equal(tnet_raw_open(&raw, f.port), 0);
        t0 = tnet_now_ms();
        for (i = 0; i < strlen(req); i++) {
                if (tnet_raw_send(&raw, req + i, 1) != 0 || tnet_raw_closed(&raw, 500))
                        break;
        }
        dt = tnet_now_ms() - t0;
        assert_true(i < strlen(req));
        assert_true(dt >= 900 && dt < 3000);
        assert_true(tnet_wait_conns(&f.loop, f.srv, 0, 2000));
        tnet_raw_close(&raw);
        assert_int_equal(atomic_load(&calls), 0);
        down(&f);
}

static void test_slow_handshake_cut_at_request_deadline(void **state)
{
        struct imago_https_limits lim = {.request_deadline_ms = 800};
        struct fixture f;
        uint64_t t0;
        char b;
        int fd;

        (void)state;
        up(&f, &lim);
        /* TCP only: never starts TLS. */
        fd = tnet_tcp(f.port);
        t0 = tnet_now_ms();
        assert_true(tnet_wait_conns(&f.loop, f.srv, 1, 1000));
        assert_true(tnet_wait_conns(&f.loop, f.srv, 0, 3000));
        assert_true(tnet_now_ms() - t0 >= 700);
        assert_int_equal(read(fd, &b, 1), 0);
        close(fd);
        down(&f);
}

static void test_slow_handler_is_not_cut(void **state)
{
        struct imago_https_limits lim = {.request_deadline_ms = 1000};
        const char *req = "GET /slow-handler HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
        char out[2048];
        struct fixture f;

        (void)state;
        up(&f, &lim);
        exchange(&f, req, strlen(req), out, sizeof(out));
        assert_non_null(strstr(out, "HTTP/1.1 200"));
        assert_non_null(strstr(out, "{\"late\":true}"));
        down(&f);
}

static void test_client_gone_before_a_late_answer(void **state)
{
        /* The handler still holds the request when the client disconnects:
         * the late answer goes nowhere, nothing leaks or is used after free. */
        const char *req = "GET /slow-handler HTTP/1.1\r\nHost: a\r\n\r\n";
        struct tnet_raw raw;
        struct fixture f;

        (void)state;
        up(&f, NULL);
        assert_int_equal(tnet_raw_open(&raw, f.port), 0);
        assert_int_equal(tnet_raw_send(&raw, req, strlen(req)), 0);
        usleep(200 * 1000);
        tnet_raw_close(&raw);
        usleep(2000 * 1000); /* the answer is sent at 1.5 s */
        assert_true(tnet_wait_conns(&f.loop, f.srv, 0, 2000));
        assert_int_equal(atomic_load(&calls), 1);
        down(&f);
}

static void test_slow_handler_outlives_idle_timeout(void **state)
{
        /* A handler waiting for a device may answer after the idle timeout. */
        struct imago_https_limits lim = {.request_deadline_ms = 1000, .idle_timeout_s = 1};
        const char *req = "GET /slow-handler HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
        char out[2048];
        struct fixture f;

        (void)state;
        up(&f, &lim);
        exchange(&f, req, strlen(req), out, sizeof(out));
        assert_non_null(strstr(out, "HTTP/1.1 200"));
        down(&f);
}

static void test_keepalive_idle_timeout_and_deadline_per_request(void **state)
{
        struct imago_https_limits lim = {.request_deadline_ms = 1000, .idle_timeout_s = 2};
        const char *req = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
        struct tnet_raw raw;
        struct fixture f;
        char out[2048];
        uint64_t t0, dt;

        (void)state;
        up(&f, &lim);
        assert_int_equal(tnet_raw_open(&raw, f.port), 0);
        assert_int_equal(tnet_raw_send(&raw, req, strlen(req)), 0);
        tnet_raw_read(&raw, out, sizeof(out), 500);
        assert_non_null(strstr(out, "HTTP/1.1 200"));
        /* Idle longer than the request deadline, shorter than the idle timeout:
         * the next request is still served (its deadline starts at its first byte). */
        usleep(1300 * 1000);
        assert_int_equal(tnet_raw_send(&raw, req, strlen(req)), 0);
        tnet_raw_read(&raw, out, sizeof(out), 500);
        assert_non_null(strstr(out, "HTTP/1.1 200"));
        /* Then idle: closed after about 2 s. */
        t0 = tnet_now_ms();
        assert_true(tnet_raw_closed(&raw, 5000));
        dt = tnet_now_ms() - t0;
        assert_true(dt >= 1000 && dt < 4500); /* 2 s after the answer, read 0.5 s after it */
        tnet_raw_close(&raw);
        assert_true(tnet_wait_conns(&f.loop, f.srv, 0, 2000));
        assert_int_equal(atomic_load(&calls), 2);
        down(&f);
}

static void test_pipelined_slow_request_cut(void **state)
{
        struct imago_https_limits lim = {.request_deadline_ms = 1000};
        const char *req = "GET /x HTTP/1.1\r\nHost: a\r\n\r\nGET /y HTTP/1.1\r\nHo";
        struct tnet_raw raw;
        struct fixture f;
        char out[2048];

        (void)state;
        up(&f, &lim);
        assert_int_equal(tnet_raw_open(&raw, f.port), 0);
        assert_int_equal(tnet_raw_send(&raw, req, strlen(req)), 0);
        tnet_raw_read(&raw, out, sizeof(out), 300);
        assert_non_null(strstr(out, "HTTP/1.1 200"));
        /* Nothing more: the half request buffered behind the first is on the clock. */
        assert_true(tnet_raw_closed(&raw, 2500));
        tnet_raw_close(&raw);
        assert_int_equal(atomic_load(&calls), 1);
        down(&f);
}

static void test_max_conns(void **state)
{
        struct imago_https_limits lim = {.max_conns = 2};
        struct tnet_raw a, b, c;
        struct fixture f;

        (void)state;
        up(&f, &lim);
        assert_int_equal(tnet_raw_open(&a, f.port), 0);
        assert_int_equal(tnet_raw_open(&b, f.port), 0);
        assert_int_equal(tnet_raw_open(&c, f.port), -1);
        tnet_raw_close(&c);
        assert_true(tnet_wait_conns(&f.loop, f.srv, 2, 1000));
        tnet_raw_close(&a);
        assert_true(tnet_wait_conns(&f.loop, f.srv, 1, 2000));
        assert_int_equal(tnet_raw_open(&c, f.port), 0);
        tnet_raw_close(&b);
        tnet_raw_close(&c);
        assert_true(tnet_wait_conns(&f.loop, f.srv, 0, 2000));
        down(&f);
}

/* A TLS connection from source address src (another loopback address). */
static int open_from(struct tnet_raw *r, const char *src, uint16_t port)
{
        struct sockaddr_in sa, me;

        memset(r, 0, sizeof(*r));
        r->fd = socket(AF_INET, SOCK_STREAM, 0);
        memset(&me, 0, sizeof(me));
        me.sin_family = AF_INET;
        inet_pton(AF_INET, src, &me.sin_addr);
        assert_int_equal(bind(r->fd, (struct sockaddr *)&me, sizeof(me)), 0);
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons(port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(r->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_non_null(r->ctx = SSL_CTX_new(TLS_client_method()));
        assert_non_null(r->ssl = SSL_new(r->ctx));
        SSL_set_fd(r->ssl, r->fd);
        return SSL_connect(r->ssl) == 1 ? 0 : -1;
}

static void test_max_conns_per_addr(void **state)
{
        struct imago_https_limits lim = {.max_conns_per_addr = 2};
        struct tnet_raw a, b, c, d;
        struct fixture f;

        (void)state;
        up(&f, &lim);
        assert_int_equal(open_from(&a, "127.0.0.1", f.port), 0);
        assert_int_equal(open_from(&b, "127.0.0.1", f.port), 0);
        assert_int_equal(open_from(&c, "127.0.0.1", f.port), -1);
        /* Another address is not held back by the first one's connections. */
        assert_int_equal(open_from(&d, "127.0.0.2", f.port), 0);
        tnet_raw_close(&a);
        tnet_raw_close(&b);
        tnet_raw_close(&c);
        tnet_raw_close(&d);
        assert_true(tnet_wait_conns(&f.loop, f.srv, 0, 2000));
        down(&f);
}

static void test_tls11_refused(void **state)
{
        struct tnet_raw raw;
        struct fixture f;

        (void)state;
        /* Security level 0 on the server too: only imago's own minimum
         * version stands between a TLS 1.1 client and the server (not the
         * system's openssl.cnf defaults). */
        tnet_loop_init(&f.loop);
        assert_int_equal(imago_https_server_ctx(pki.chain, pki.key, NULL, NULL, &f.ctx), IMAGO_OK);
        SSL_CTX_set_security_level(f.ctx, 0);
        SSL_CTX_set_cipher_list(f.ctx, "DEFAULT:@SECLEVEL=0");
        assert_int_equal(imago_https_server_new(f.loop.base, f.ctx, "127.0.0.1", 0, NULL, handler,
                                                f.loop.base, &f.srv),
                         IMAGO_OK);
        f.port = imago_https_server_port(f.srv);
        tnet_loop_start(&f.loop);
        assert_int_equal(tnet_raw_open_v(&raw, f.port, TLS1_1_VERSION), -1);
        tnet_raw_close(&raw);
        assert_int_equal(tnet_raw_open_v(&raw, f.port, TLS1_2_VERSION), 0);
        assert_string_equal(SSL_get_version(raw.ssl), "TLSv1.2");
        tnet_raw_close(&raw);
        down(&f);
}

static void test_free_with_open_connections(void **state)
{
        struct tnet_raw a, b;
        struct fixture f;
        const char *half = "GET /x HTTP/1.1\r\nHo";

        (void)state;
        up(&f, NULL);
        assert_int_equal(tnet_raw_open(&a, f.port), 0);
        assert_int_equal(tnet_raw_open(&b, f.port), 0);
        assert_int_equal(tnet_raw_send(&b, half, strlen(half)), 0);
        assert_true(tnet_wait_conns(&f.loop, f.srv, 2, 1000));
        down(&f); /* ASan: no leak, no use after free */
        assert_true(tnet_raw_closed(&a, 1000));
        tnet_raw_close(&a);
        tnet_raw_close(&b);
}

static double cpu_s(void)
{
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void test_out_of_descriptors_does_not_spin(void **state)
{
        struct rlimit old, low;
        struct fixture f;
        struct tnet_raw raw;
        int fds[64], n = 0, probe, i;
        double c0;

        (void)state;
        up(&f, NULL);
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
        /* A few descriptors above what is open now. */
        probe = dup(0);
        assert_true(probe >= 0);
        close(probe);
        low = old;
        low.rlim_cur = (rlim_t)probe + 8;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
        /* Clients take descriptors until none is left; the server then cannot accept. */
        while (n < 64) {
                struct sockaddr_in sa;
                int fd = socket(AF_INET, SOCK_STREAM, 0);

                if (fd < 0)
                        break;
                memset(&sa, 0, sizeof(sa));
                sa.sin_family = AF_INET;
                sa.sin_port = htons(f.port);
                sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
                fds[n++] = fd;
                usleep(20000);
        }
        assert_true(n > 0 && n < 64);
        c0 = cpu_s();
        usleep(1000 * 1000);
        /* A spinning accept loop would burn about a second of CPU here. */
        assert_true(cpu_s() - c0 < 0.5);
        for (i = 0; i < n; i++)
                close(fds[i]);
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
        /* Serving again. */
        usleep(300 * 1000);
        assert_int_equal(tnet_raw_open(&raw, f.port), 0);
        tnet_raw_close(&raw);
        down(&f);
}

static int setup(void **state)
{
        (void)state;
        tnet_pki_make(&pki);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        tnet_pki_clean(&pki);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_oversized_body_413),
            cmocka_unit_test(test_oversized_headers_refused),
            cmocka_unit_test(test_long_url_414),
            cmocka_unit_test(test_malformed_request_line_400),
            cmocka_unit_test(test_slow_loris_cut_at_request_deadline),
            cmocka_unit_test(test_slow_handshake_cut_at_request_deadline),
            cmocka_unit_test(test_slow_handler_is_not_cut),
            cmocka_unit_test(test_slow_handler_outlives_idle_timeout),
            cmocka_unit_test(test_client_gone_before_a_late_answer),
            cmocka_unit_test(test_keepalive_idle_timeout_and_deadline_per_request),
            cmocka_unit_test(test_pipelined_slow_request_cut),
            cmocka_unit_test(test_max_conns),
            cmocka_unit_test(test_max_conns_per_addr),
            cmocka_unit_test(test_tls11_refused),
            cmocka_unit_test(test_free_with_open_connections),
            cmocka_unit_test(test_out_of_descriptors_does_not_spin),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
