/*
 * imago_ota_https against a real imago HTTPS server (TLS with a test CA)
 * serving files with single byte ranges: URL parsing, metadata gets bounded
 * by max, a target fetched in ranges, resumed from a progress record, and a
 * server whose total differs from the expected length refused.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "base/err.h"
#include "base/file.h"
#include "blk/blk.h"
#include "device/ota_https/ota_https.h"
#include "test_net_util.h"

#define BIG_LEN (600u * 1024u + 123u)

static struct tnet_pki pki;
static uint8_t big[BIG_LEN];
static uint64_t first_asked; /* first byte of the last range asked for */
static int ranges_served;

/* Strict enough for the test: "bytes=S-E" or "bytes=S-". */
static int parse_range(const char *v, uint64_t *s, uint64_t *e)
{
        char *end;

        if (v == NULL || strncmp(v, "bytes=", 6) != 0)
                return -1;
        *s = strtoull(v + 6, &end, 10);
        if (*end != '-')
                return -1;
        if (end[1] == '\0') {
                *e = UINT64_MAX;
                return 0;
        }
        *e = strtoull(end + 1, &end, 10);
        return *end == '\0' && *s <= *e ? 0 : -1;
}

static void serve(struct evhttp_request *req, const uint8_t *data, uint64_t len, uint64_t claimed)
{
        const char *rv = evhttp_find_header(evhttp_request_get_input_headers(req), "Range");
        struct evbuffer *b = evbuffer_new();
        uint64_t s, e;
        char cr[96];

        assert_non_null(b);
        if (parse_range(rv, &s, &e) != 0 || s >= len) {
                evbuffer_free(b);
                imago_https_reply_json(req, 416, "{}");
                return;
        }
        if (e >= len)
                e = len - 1;
        if (e - s + 1 > IMAGO_HTTPC_BODY_MAX)
                e = s + IMAGO_HTTPC_BODY_MAX - 1;
        first_asked = s;
        ranges_served++;
        evbuffer_add(b, data + s, (size_t)(e - s + 1));
        snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)s,
                 (unsigned long long)e, (unsigned long long)claimed);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Range", cr);
        evhttp_send_reply(req, 206, "Partial Content", b);
        evbuffer_free(b);
}

static void handler(struct evhttp_request *req, const char *peer, void *arg)
{
        const char *path = evhttp_request_get_uri(req);
        static const uint8_t meta[] = "{\"signed\":{},\"signatures\":[]}";

        (void)peer;
        (void)arg;
        if (strcmp(path, "/v1/repo/metadata/timestamp.json") == 0)
                serve(req, meta, sizeof(meta) - 1, sizeof(meta) - 1);
        else if (strcmp(path, "/v1/repo/targets/fw.img") == 0)
                serve(req, big, BIG_LEN, BIG_LEN);
        else if (strcmp(path, "/v1/repo/targets/liar.img") == 0)
                serve(req, big, BIG_LEN, BIG_LEN + 1);
        else
                imago_https_reply_json(req, 404, "{}");
}

struct fixture {
        struct tnet_loop loop;
        SSL_CTX *ctx;
        struct imago_https_server *srv;
        struct imago_ota_https *h;
        char dir[64];
};

static void up(struct fixture *f)
{
        struct imago_ota_https_config cfg;
        char url[96];

        tnet_loop_init(&f->loop);
        assert_int_equal(imago_https_server_ctx(pki.chain, pki.key, NULL, NULL, &f->ctx), IMAGO_OK);
        assert_int_equal(imago_https_server_new(f->loop.base, f->ctx, "127.0.0.1", 0, NULL, handler,
                                                NULL, &f->srv),
                         IMAGO_OK);
        tnet_loop_start(&f->loop);
        snprintf(url, sizeof(url), "https://127.0.0.1:%u/v1/repo/",
                 (unsigned)imago_https_server_port(f->srv));
        memset(&cfg, 0, sizeof(cfg));
        cfg.url = url;
        cfg.ca_path = pki.ca;
        cfg.timeout_ms = 10000;
        assert_int_equal(imago_ota_https_new(&cfg, &f->h), IMAGO_OK);
        snprintf(f->dir, sizeof(f->dir), "/tmp/imago-test-otah-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        ranges_served = 0;
}

static void down(struct fixture *f)
{
        char p[128];

        imago_ota_https_free(f->h);
        tnet_loop_stop(&f->loop);
        imago_https_server_free(f->srv);
        SSL_CTX_free(f->ctx);
        tnet_loop_free(&f->loop);
        snprintf(p, sizeof(p), "%s/fw", f->dir);
        unlink(p);
        snprintf(p, sizeof(p), "%s/fw.progress", f->dir);
        unlink(p);
        rmdir(f->dir);
}

static void test_url_parse(void **state)
{
        static const char *const bad[] = {
            "http://h:1/x/",       "https://h/x/",      "https://h:0/x/",
            "https://h:65536/x/",  "https://h:01/x/",   "https://:1/x/",
            "https://h:1",         "https://h:1/x",     "https://h:1//",
            "https://h:1/../",     "https://h:1/a/./",  "https://u@h:1/x/",
            "https://h:1/x?y/",    "https://h:1/x%2f/", "https://-h:1/x/",
            "https://h:123456/x/", "https://h:1/x/ ",   "",
        };
        char host[IMAGO_OTA_HTTPS_HOST_MAX + 1], prefix[IMAGO_OTA_HTTPS_PREFIX_MAX + 1];
        uint16_t port = 0;
        size_t i;

        (void)state;
        assert_int_equal(
            imago_ota_https_url_parse("https://cloud.example:8443/v1/repo/", host, &port, prefix),
            IMAGO_OK);
        assert_string_equal(host, "cloud.example");
        assert_int_equal(port, 8443);
        assert_string_equal(prefix, "/v1/repo/");
        assert_int_equal(imago_ota_https_url_parse("https://127.0.0.1:1/", host, &port, prefix),
                         IMAGO_OK);
        assert_string_equal(prefix, "/");
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (imago_ota_https_url_parse(bad[i], host, &port, prefix) != IMAGO_EINVAL)
                        fail_msg("accepted: %s", bad[i]);
        assert_int_equal(imago_ota_https_url_parse(NULL, host, &port, prefix), IMAGO_EINVAL);
}

struct sink {
        uint8_t buf[256];
        size_t len;
};

static int sink_fn(void *arg, const uint8_t *data, size_t len)
{
        struct sink *s = arg;

        if (len > sizeof(s->buf) - s->len)
                return IMAGO_ETOOBIG;
        memcpy(s->buf + s->len, data, len);
        s->len += len;
        return IMAGO_OK;
}

static void test_get(void **state)
{
        struct fixture f;
        struct sink s;

        (void)state;
        up(&f);
        memset(&s, 0, sizeof(s));
        assert_int_equal(
            imago_ota_https_get(f.h, "blk:image/metadata/timestamp.json", 1000, sink_fn, &s),
            IMAGO_OK);
        assert_int_equal(s.len, 29);
        assert_memory_equal(s.buf, "{\"signed\":{},\"signatures\":[]}", 29);
        /* Only bytes 0..max-1 are asked for; the total says the file is longer. */
        memset(&s, 0, sizeof(s));
        assert_int_equal(
            imago_ota_https_get(f.h, "blk:image/metadata/timestamp.json", 28, sink_fn, &s),
            IMAGO_ETUF_LENGTH);
        assert_int_equal(s.len, 0);
        assert_int_equal(
            imago_ota_https_get(f.h, "blk:image/metadata/2.root.json", 1000, sink_fn, &s),
            IMAGO_ENOTFOUND);
        /* Director files and other URL forms are not this transport's. */
        assert_int_equal(imago_ota_https_get(f.h, "blk:director/timestamp.json", 1000, sink_fn, &s),
                         IMAGO_EINVAL);
        assert_int_equal(
            imago_ota_https_get(f.h, "image/metadata/timestamp.json", 1000, sink_fn, &s),
            IMAGO_EINVAL);
        assert_int_equal(imago_ota_https_get(f.h, "blk:image/metadata/../x", 1000, sink_fn, &s),
                         IMAGO_EINVAL);
        down(&f);
}

struct prog {
        uint64_t first, last, total;
        int calls;
};

static void prog_fn(void *arg, uint64_t done, uint64_t total)
{
        struct prog *p = arg;

        if (p->calls++ == 0)
                p->first = done;
        p->last = done;
        p->total = total;
}

static void check_file(const char *path)
{
        uint8_t *d = NULL;
        size_t n = 0;

        assert_int_equal(imago_file_read(path, BIG_LEN + 1, &d, &n), IMAGO_OK);
        assert_int_equal(n, BIG_LEN);
        assert_memory_equal(d, big, BIG_LEN);
        imago_file_free(d, n);
}

static void test_fetch_and_resume(void **state)
{
        struct imago_blk_progress p;
        struct fixture f;
        struct prog pr;
        struct stat st;
        char path[128], rec_path[160];
        uint8_t rec[IMAGO_BLK_PROGRESS_MAX];
        size_t rlen = 0;
        uint64_t from = 1;

        (void)state;
        up(&f);
        snprintf(path, sizeof(path), "%s/fw", f.dir);
        snprintf(rec_path, sizeof(rec_path), "%s/fw.progress", f.dir);
        memset(&pr, 0, sizeof(pr));
        imago_ota_https_set_progress(f.h, prog_fn, &pr);
        assert_int_equal(
            imago_ota_https_fetch_file(f.h, "image/targets/fw.img", BIG_LEN, path, &from),
            IMAGO_OK);
        assert_int_equal(from, 0);
        check_file(path);
        assert_int_equal(ranges_served, 3); /* 256 KiB ranges */
        assert_int_not_equal(stat(rec_path, &st), 0);
        assert_int_equal(pr.first, 0);
        assert_int_equal(pr.last, BIG_LEN);
        assert_int_equal(pr.total, BIG_LEN);

        /* A record of 256 KiB durable: resumed there, only the rest asked for. */
        memset(&p, 0, sizeof(p));
        memcpy(p.obj, "image/targets/fw.img", 21);
        p.length = BIG_LEN;
        p.block = IMAGO_BLK_BLOCK_MAX;
        p.done = IMAGO_OTA_HTTPS_RANGE;
        assert_int_equal(imago_blk_progress_encode(&p, rec, sizeof(rec), &rlen), IMAGO_OK);
        assert_int_equal(imago_file_write_atomic(rec_path, rec, rlen, 0600), IMAGO_OK);
        assert_int_equal(truncate(path, IMAGO_OTA_HTTPS_RANGE + 5), 0);
        ranges_served = 0;
        memset(&pr, 0, sizeof(pr));
        assert_int_equal(
            imago_ota_https_fetch_file(f.h, "image/targets/fw.img", BIG_LEN, path, &from),
            IMAGO_OK);
        assert_int_equal(from, IMAGO_OTA_HTTPS_RANGE);
        assert_int_equal(pr.first, IMAGO_OTA_HTTPS_RANGE);
        assert_int_equal(ranges_served, 2);
        check_file(path);
        assert_int_not_equal(stat(rec_path, &st), 0);

        /* A record for another object: from 0. */
        memcpy(p.obj, "image/targets/xx.img", 21);
        assert_int_equal(imago_blk_progress_encode(&p, rec, sizeof(rec), &rlen), IMAGO_OK);
        assert_int_equal(imago_file_write_atomic(rec_path, rec, rlen, 0600), IMAGO_OK);
        assert_int_equal(
            imago_ota_https_fetch_file(f.h, "image/targets/fw.img", BIG_LEN, path, &from),
            IMAGO_OK);
        assert_int_equal(from, 0);
        check_file(path);

        /* Cancelled: stops before the first range. */
        imago_ota_https_cancel(f.h, 1);
        assert_int_equal(
            imago_ota_https_fetch_file(f.h, "image/targets/fw.img", BIG_LEN, path, &from),
            IMAGO_EIO);
        imago_ota_https_cancel(f.h, 0);
        imago_ota_https_set_progress(f.h, NULL, NULL);
        down(&f);
}

static void test_fetch_refused(void **state)
{
        struct fixture f;
        char path[128];
        uint64_t from = 0;

        (void)state;
        up(&f);
        snprintf(path, sizeof(path), "%s/fw", f.dir);
        /* The server's total is not the length TUF gave. */
        assert_int_equal(
            imago_ota_https_fetch_file(f.h, "image/targets/liar.img", BIG_LEN, path, &from),
            IMAGO_ETUF_LENGTH);
        assert_int_equal(
            imago_ota_https_fetch_file(f.h, "image/targets/fw.img", BIG_LEN - 1, path, &from),
            IMAGO_ETUF_LENGTH);
        assert_int_equal(imago_ota_https_fetch_file(f.h, "image/targets/none.img", 10, path, &from),
                         IMAGO_ENOTFOUND);
        assert_int_equal(
            imago_ota_https_fetch_file(f.h, "image/metadata/timestamp.json", 30, path, &from),
            IMAGO_EINVAL);
        assert_int_equal(imago_ota_https_fetch_file(f.h, "director/fw.img", 30, path, &from),
                         IMAGO_EINVAL);
        down(&f);
}

static void test_config(void **state)
{
        struct imago_ota_https_config cfg;
        struct imago_ota_https *h = (struct imago_ota_https *)1;

        (void)state;
        memset(&cfg, 0, sizeof(cfg));
        cfg.url = "https://127.0.0.1:1/v1/repo/";
        assert_int_equal(imago_ota_https_new(&cfg, &h), IMAGO_EINVAL); /* no CA */
        assert_null(h);
        cfg.ca_path = pki.ca;
        cfg.url = "http://127.0.0.1:1/v1/repo/";
        assert_int_equal(imago_ota_https_new(&cfg, &h), IMAGO_EINVAL);
        cfg.url = "https://127.0.0.1:1/v1/repo/";
        assert_int_equal(imago_ota_https_new(&cfg, &h), IMAGO_OK);
        imago_ota_https_free(h);
        imago_ota_https_free(NULL);
}

static int setup(void **state)
{
        size_t i;

        (void)state;
        signal(SIGPIPE, SIG_IGN);
        for (i = 0; i < BIG_LEN; i++)
                big[i] = (uint8_t)(i * 7 + i / 251);
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
            cmocka_unit_test(test_url_parse),     cmocka_unit_test(test_config),
            cmocka_unit_test(test_get),           cmocka_unit_test(test_fetch_and_resume),
            cmocka_unit_test(test_fetch_refused),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
