/*
 * The TUF client's HTTP fetcher: the response parser on the vectors of
 * tests/vectors/tuf_http (whole and byte by byte), the URL splitter, and
 * the fetcher against a real socket server on 127.0.0.1 (a thread here)
 * serving canned answers: endless data stops at the limit, a
 * Content-Length over it is refused unread, 404, timeouts, refused
 * connections.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "tuf/client/client.h"
#include "tuf/client/http_priv.h"

#include "test_vectors.h"

#define VEC_MAX 64

struct collect {
        uint8_t buf[4096];
        size_t len;
        uint64_t total;
};

static int collect_sink(void *arg, const uint8_t *data, size_t len)
{
        struct collect *c = arg;

        if (c->len + len <= sizeof(c->buf))
                memcpy(c->buf + c->len, data, len);
        c->len = c->len + len <= sizeof(c->buf) ? c->len + len : sizeof(c->buf);
        c->total += len;
        return IMAGO_OK;
}

static int parse_all(const uint8_t *data, size_t len, int bytewise, struct collect *col)
{
        struct imago_tuf_http_parser *p = malloc(sizeof(*p));
        size_t i;
        int r = IMAGO_TUF_HTTP_MORE;

        assert_non_null(p);
        imago_tuf_http_init(p, VEC_MAX, collect_sink, col);
        if (bytewise) {
                for (i = 0; i < len && r == IMAGO_TUF_HTTP_MORE; i++)
                        r = imago_tuf_http_feed(p, data + i, 1);
                /* Complete before the last byte: the rest is after the end (fed whole, the
                 * parser refuses it; the fetcher reads nothing after the end). */
                if (r == IMAGO_OK && i < len)
                        r = IMAGO_EHTTP;
        } else {
                r = imago_tuf_http_feed(p, data, len);
        }
        if (r == IMAGO_TUF_HTTP_MORE)
                r = imago_tuf_http_eof(p);
        free(p);
        return r;
}

static void vec_one(const char *file, const uint8_t *data, size_t len, int want, void *arg)
{
        struct collect a, b;
        int ra, rb;

        (void)arg;
        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        ra = parse_all(data, len, 0, &a);
        rb = parse_all(data, len, 1, &b);
        if (ra != want || rb != want)
                fail_msg("%s: want %s, got %s whole / %s byte by byte", file, imago_errname(want),
                         imago_errname(ra), imago_errname(rb));
        /* Never a byte past the limit reaches the sink. */
        assert_true(a.total <= VEC_MAX && b.total <= VEC_MAX);
        assert_int_equal(a.total, b.total);
        assert_memory_equal(a.buf, b.buf, a.len);
}

static void test_parser_vectors(void **state)
{
        (void)state;
        assert_true(test_vec_each(IMAGO_SOURCE_DIR "/tests/vectors/tuf_http", ".http", vec_one,
                                  NULL) >= 40);
}

static void test_parser_body(void **state)
{
        static const char chunked[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
                                      "3\r\nabc\r\na\r\n0123456789\r\n0\r\n\r\n";
        struct collect c;

        (void)state;
        memset(&c, 0, sizeof(c));
        assert_int_equal(parse_all((const uint8_t *)chunked, strlen(chunked), 1, &c), IMAGO_OK);
        assert_int_equal(c.len, 13);
        assert_memory_equal(c.buf, "abc0123456789", 13);
}

static void test_parser_finished(void **state)
{
        static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
        struct imago_tuf_http_parser *p = malloc(sizeof(*p));
        struct collect c;

        (void)state;
        memset(&c, 0, sizeof(c));
        assert_non_null(p);
        imago_tuf_http_init(p, 10, collect_sink, &c);
        assert_int_equal(imago_tuf_http_feed(p, (const uint8_t *)ok, strlen(ok)), IMAGO_OK);
        assert_int_equal(imago_tuf_http_feed(p, (const uint8_t *)"y", 1), IMAGO_ESTATE);
        assert_int_equal(imago_tuf_http_eof(p), IMAGO_ESTATE);
        free(p);
}

static void test_url_split(void **state)
{
        static const char *bad[] = {
            "https://h/",   "http://",      "http:///x",    "http://h:0/",      "http://h:65536/",
            "http://h:/",   "http://u@h/",  "http://h/a b", "http://h/a#f",     "http://h:80x/",
            "http://[::1/", "http://h\\x/", "ftp://h/",     "http://h:123456/", "http://h/\x01",
        };
        struct imago_tuf_url u;
        size_t i;

        (void)state;
        assert_int_equal(imago_tuf_url_split("http://127.0.0.1:8080/a/b.json?x=1", &u), IMAGO_OK);
        assert_string_equal(u.host, "127.0.0.1");
        assert_string_equal(u.hostport, "127.0.0.1:8080");
        assert_int_equal(u.port, 8080);
        assert_string_equal(u.path, "/a/b.json?x=1");
        assert_int_equal(imago_tuf_url_split("http://localhost", &u), IMAGO_OK);
        assert_int_equal(u.port, 80);
        assert_string_equal(u.path, "/");
        assert_int_equal(imago_tuf_url_split("http://[::1]:9/x", &u), IMAGO_OK);
        assert_string_equal(u.host, "::1");
        assert_string_equal(u.hostport, "[::1]:9");
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (imago_tuf_url_split(bad[i], &u) != IMAGO_EINVAL)
                        fail_msg("accepted %s", bad[i]);
}

static void test_quote(void **state)
{
        char out[64];

        (void)state;
        assert_int_equal(imago_tuf_quote("../a b/%?#~_.-Z9", "", out, sizeof(out)), IMAGO_OK);
        assert_string_equal(out, "..%2Fa%20b%2F%25%3F%23~_.-Z9");
        assert_int_equal(imago_tuf_quote("a/b c", "/", out, sizeof(out)), IMAGO_OK);
        assert_string_equal(out, "a/b%20c");
        assert_int_equal(imago_tuf_quote("\xc3\xa9", "", out, sizeof(out)), IMAGO_OK);
        assert_string_equal(out, "%C3%A9");
        assert_int_equal(imago_tuf_quote("abc", "", out, 3), IMAGO_ETOOBIG);
        assert_int_equal(imago_tuf_quote("/", "", out, 3), IMAGO_ETOOBIG);
}

/* ---- a real socket server: one connection, one canned answer ---- */

enum mode {
        M_ONCE,    /* send answer, close */
        M_ENDLESS, /* send answer (a head), then body bytes until the client goes */
        M_SILENT,  /* read the request, answer nothing, wait for the client to go */
        M_TRICKLE, /* send answer (a head), then one body byte every 50 ms */
};

struct server {
        int lfd;
        uint16_t port;
        pthread_t th;
        enum mode mode;
        const char *answer;
        char request[2048];
        uint64_t sent; /* body bytes sent in M_ENDLESS */
};

static void *serve(void *arg)
{
        struct server *s = arg;
        char fill[4096];
        size_t got = 0;
        ssize_t n;
        int fd;

        fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
                return NULL;
        while (got < sizeof(s->request) - 1 && strstr(s->request, "\r\n\r\n") == NULL) {
                n = recv(fd, s->request + got, sizeof(s->request) - 1 - got, 0);
                if (n <= 0)
                        break;
                got += (size_t)n;
                s->request[got] = '\0';
        }
        if (s->mode != M_SILENT)
                send(fd, s->answer, strlen(s->answer), MSG_NOSIGNAL);
        if (s->mode == M_ENDLESS) {
                memset(fill, 'A', sizeof(fill));
                while ((n = send(fd, fill, sizeof(fill), MSG_NOSIGNAL)) > 0 && s->sent < (1u << 30))
                        s->sent += (uint64_t)n;
        }
        if (s->mode == M_TRICKLE) {
                struct timespec ts = {0, 50 * 1000 * 1000};
                int i;

                for (i = 0; i < 200 && send(fd, "A", 1, MSG_NOSIGNAL) == 1; i++)
                        nanosleep(&ts, NULL);
        }
        if (s->mode == M_SILENT)
                while (recv(fd, fill, sizeof(fill), 0) > 0)
                        ;
        close(fd);
        return NULL;
}

static void server_start(struct server *s, enum mode mode, const char *answer)
{
        struct sockaddr_in a;
        socklen_t al = sizeof(a);

        memset(s, 0, sizeof(*s));
        s->mode = mode;
        s->answer = answer;
        s->lfd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(s->lfd >= 0);
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(listen(s->lfd, 4), 0);
        assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
        s->port = ntohs(a.sin_port);
        assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
        pthread_join(s->th, NULL);
        close(s->lfd);
}

static int fetch(struct server *s, const char *path, uint64_t max, struct collect *c,
                 uint32_t read_timeout_ms)
{
        struct imago_tuf_http cfg;
        char url[256];

        memset(&cfg, 0, sizeof(cfg));
        cfg.read_timeout_ms = read_timeout_ms;
        snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)s->port, path);
        return imago_tuf_http_get(&cfg, url, max, collect_sink, c);
}

static void test_fetch_ok(void **state)
{
        struct server s;
        struct collect c;

        (void)state;
        memset(&c, 0, sizeof(c));
        server_start(&s, M_ONCE, "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        assert_int_equal(fetch(&s, "/m/1.root.json", 100, &c, 0), IMAGO_OK);
        server_stop(&s);
        assert_int_equal(c.len, 5);
        assert_memory_equal(c.buf, "hello", 5);
        assert_non_null(strstr(s.request, "GET /m/1.root.json HTTP/1.1\r\n"));
        assert_non_null(strstr(s.request, "\r\nHost: 127.0.0.1:"));
        assert_non_null(strstr(s.request, "\r\nConnection: close\r\n"));
}

static void test_fetch_404(void **state)
{
        struct server s;
        struct collect c;

        (void)state;
        memset(&c, 0, sizeof(c));
        server_start(&s, M_ONCE,
                     "HTTP/1.0 404 File not found\r\nContent-Length: 9\r\n\r\nnot found");
        assert_int_equal(fetch(&s, "/2.root.json", 100, &c, 0), IMAGO_ENOTFOUND);
        server_stop(&s);
        assert_int_equal(c.total, 0);
}

/* attack_endless_data: a chunked body that never ends stops at the limit. */
static void test_fetch_endless_chunked(void **state)
{
        struct server s;
        struct collect c;

        (void)state;
        memset(&c, 0, sizeof(c));
        server_start(&s, M_ENDLESS,
                     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFF\r\n");
        assert_int_equal(fetch(&s, "/timestamp.json", 1000, &c, 0), IMAGO_ETUF_LENGTH);
        server_stop(&s);
        assert_int_equal(c.total, 0); /* the chunk size alone tells: nothing read */
}

/* attack_endless_data: many small chunks, each within the limit, until the sum passes it. */
static void test_fetch_endless_small_chunks(void **state)
{
        static char answer[65536];
        struct server s;
        struct collect c;
        size_t o;

        (void)state;
        memset(&c, 0, sizeof(c));
        o = (size_t)snprintf(answer, sizeof(answer),
                             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        while (o + 16 < sizeof(answer))
                o += (size_t)snprintf(answer + o, sizeof(answer) - o, "8\r\nAAAAAAAA\r\n");
        server_start(&s, M_ONCE, answer);
        assert_int_equal(fetch(&s, "/timestamp.json", 1000, &c, 0), IMAGO_ETUF_LENGTH);
        server_stop(&s);
        assert_true(c.total <= 1000);
}

/* attack_endless_data: a Content-Length over the limit is refused before the body. */
static void test_fetch_length_over_max(void **state)
{
        struct server s;
        struct collect c;

        (void)state;
        memset(&c, 0, sizeof(c));
        server_start(&s, M_ENDLESS, "HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n");
        assert_int_equal(fetch(&s, "/snapshot.json", 4096, &c, 0), IMAGO_ETUF_LENGTH);
        server_stop(&s);
        assert_int_equal(c.total, 0);
}

static void test_fetch_read_timeout(void **state)
{
        struct server s;
        struct collect c;
        struct timespec a, b;
        long ms;

        (void)state;
        memset(&c, 0, sizeof(c));
        server_start(&s, M_SILENT, NULL);
        clock_gettime(CLOCK_MONOTONIC, &a);
        assert_int_equal(fetch(&s, "/timestamp.json", 100, &c, 300), IMAGO_EIO);
        clock_gettime(CLOCK_MONOTONIC, &b);
        server_stop(&s);
        ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
        assert_true(ms >= 250 && ms < 5000);
}

/* Slow retrieval: a server that trickles bytes within the read timeout is cut off at the
 * request's deadline. */
static void test_fetch_deadline(void **state)
{
        struct imago_tuf_http cfg;
        struct server s;
        struct collect c;
        struct timespec a, b;
        char url[128];
        long ms;

        (void)state;
        memset(&c, 0, sizeof(c));
        memset(&cfg, 0, sizeof(cfg));
        cfg.read_timeout_ms = 2000;
        cfg.deadline_ms = 400;
        server_start(&s, M_TRICKLE, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/snapshot.json", (unsigned)s.port);
        clock_gettime(CLOCK_MONOTONIC, &a);
        assert_int_equal(imago_tuf_http_get(&cfg, url, 1000, collect_sink, &c), IMAGO_EIO);
        clock_gettime(CLOCK_MONOTONIC, &b);
        server_stop(&s);
        ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
        assert_true(ms >= 350 && ms < 3000);
        assert_true(c.total > 0 && c.total < 1000);
}

static void test_fetch_truncated(void **state)
{
        struct server s;
        struct collect c;

        (void)state;
        memset(&c, 0, sizeof(c));
        server_start(&s, M_ONCE, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        assert_int_equal(fetch(&s, "/x", 100, &c, 0), IMAGO_ETRUNC);
        server_stop(&s);
}

static void test_fetch_refused(void **state)
{
        struct sockaddr_in a;
        socklen_t al = sizeof(a);
        struct collect c;
        char url[64];
        int fd;

        (void)state;
        /* A port bound but not listening: connect is refused. */
        fd = socket(AF_INET, SOCK_STREAM, 0);
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", (unsigned)ntohs(a.sin_port));
        memset(&c, 0, sizeof(c));
        assert_int_equal(imago_tuf_http_get(NULL, url, 10, collect_sink, &c), IMAGO_EIO);
        assert_int_equal(imago_tuf_http_get(NULL, "https://127.0.0.1/x", 10, collect_sink, &c),
                         IMAGO_EINVAL);
        close(fd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parser_vectors),
            cmocka_unit_test(test_parser_body),
            cmocka_unit_test(test_parser_finished),
            cmocka_unit_test(test_url_split),
            cmocka_unit_test(test_quote),
            cmocka_unit_test(test_fetch_ok),
            cmocka_unit_test(test_fetch_404),
            cmocka_unit_test(test_fetch_endless_chunked),
            cmocka_unit_test(test_fetch_endless_small_chunks),
            cmocka_unit_test(test_fetch_length_over_max),
            cmocka_unit_test(test_fetch_read_timeout),
            cmocka_unit_test(test_fetch_deadline),
            cmocka_unit_test(test_fetch_truncated),
            cmocka_unit_test(test_fetch_refused),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
