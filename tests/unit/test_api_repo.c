/*
 * imago_api's public image repository (GET /v1/repo/...) end to end over a real
 * HTTPS server (tests/unit/test_api_util.h) with a raw TLS client that sends
 * Range headers: whole files (200), ranges (206 + Content-Range), the 1 MiB cap
 * of a range answer, 416 for a start at or past the end and for every Range the
 * strict parser refuses, Cache-Control on metadata, no authentication needed,
 * paths that leave the repository, symbolic links, directories, methods and
 * queries refused.  The Range parser against tests/vectors/api/range/ (NAME.txt
 * is the header value, NAME.expect the error name or "START END").
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

struct fx;
struct imago_api_config;
static void repo_config(struct fx *f, struct imago_api_config *ac);
#define FX_API_CONFIG(f, ac) repo_config(f, ac)

#include "test_api_util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <strings.h>
#include <sys/socket.h>

#define VEC_DIR  IMAGO_SOURCE_DIR "/tests/vectors/api/range/"
#define BIG_SIZE (IMAGO_API_REPO_RANGE_MAX + 300000U)
#define META     "{\"signed\":{\"_type\":\"timestamp\"}}"

static char repo_dir[128];

static void put(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
        char p[256];
        FILE *fp;

        snprintf(p, sizeof(p), "%s/%s", dir, name);
        fp = fopen(p, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(buf, 1, len, fp), len);
        fclose(fp);
}

static uint8_t big_byte(size_t i)
{
        return (uint8_t)((i * 7U + i / 251U) & 0xffU);
}

/* DIR/repo/metadata/timestamp.json, DIR/repo/targets/sub/fw.bin (BIG_SIZE), an empty file, a
 * symbolic link to the metadata, a directory, and DIR/secret beside the repository. */
static void repo_config(struct fx *f, struct imago_api_config *ac)
{
        static const char *const dirs[] = {"repo", "repo/metadata", "repo/targets",
                                           "repo/targets/sub", "repo/targets/adir"};
        uint8_t *big = malloc(BIG_SIZE);
        char p[256], q[256];
        size_t i;

        assert_non_null(big);
        for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
                snprintf(p, sizeof(p), "%s/%s", f->dir, dirs[i]);
                assert_int_equal(mkdir(p, 0700), 0);
        }
        snprintf(p, sizeof(p), "%s/repo/metadata", f->dir);
        put(p, "timestamp.json", (const uint8_t *)META, strlen(META));
        for (i = 0; i < BIG_SIZE; i++)
                big[i] = big_byte(i);
        snprintf(p, sizeof(p), "%s/repo/targets", f->dir);
        put(p, "sub/fw.bin", big, BIG_SIZE);
        put(p, "empty.bin", big, 0);
        put(f->dir, "secret", (const uint8_t *)"secret", 6);
        snprintf(p, sizeof(p), "%s/repo/targets/link.bin", f->dir);
        snprintf(q, sizeof(q), "%s/repo/metadata/timestamp.json", f->dir);
        assert_int_equal(symlink(q, p), 0);
        free(big);
        snprintf(repo_dir, sizeof(repo_dir), "%s", f->dir);
        ac->data_dir = repo_dir;
}

static int setup(void **state)
{
        *state = fx_start(1);
        return 0;
}

static int teardown(void **state)
{
        static const char *const files[] = {"repo/metadata/timestamp.json",
                                            "repo/targets/sub/fw.bin",
                                            "repo/targets/empty.bin",
                                            "repo/targets/link.bin",
                                            "secret",
                                            "repo/targets/adir",
                                            "repo/targets/sub",
                                            "repo/targets",
                                            "repo/metadata",
                                            "repo"};
        struct fx *f = *state;
        char p[256];
        size_t i;

        fx_halt(f);
        for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                snprintf(p, sizeof(p), "%s/%s", f->dir, files[i]);
                if (unlink(p) != 0)
                        rmdir(p);
        }
        fx_stop(f);
        return 0;
}

/* ---- a raw HTTPS client (the server is the test's own: no certificate check) ---- */

struct raw {
        int status;
        char head[4096]; /* the header lines, NUL-terminated */
        uint8_t *body;
        size_t len;
};

static void raw_free(struct raw *r)
{
        free(r->body);
        memset(r, 0, sizeof(*r));
}

/* A header's value in r->head ("" if absent). */
static const char *raw_header(const struct raw *r, const char *name, char *buf, size_t cap)
{
        const char *p = r->head;
        size_t n = strlen(name);

        buf[0] = '\0';
        while ((p = strstr(p, "\r\n")) != NULL) {
                p += 2;
                if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
                        const char *v = p + n + 1, *e;

                        while (*v == ' ')
                                v++;
                        e = strstr(v, "\r\n");
                        n = e != NULL ? (size_t)(e - v) : strlen(v);
                        if (n >= cap)
                                n = cap - 1;
                        memcpy(buf, v, n);
                        buf[n] = '\0';
                        return buf;
                }
        }
        return buf;
}

static void raw_req(struct fx *f, const char *method, const char *path, const char *range,
                    struct raw *out)
{
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        struct sockaddr_in sa;
        char req[1024], *hend;
        uint8_t *all = NULL;
        size_t n = 0, cap = 0;
        SSL *ssl;
        int fd, len, k;

        memset(out, 0, sizeof(*out));
        assert_non_null(ctx);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fd >= 0);
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons(f->port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ssl = SSL_new(ctx);
        assert_non_null(ssl);
        SSL_set_fd(ssl, fd);
        assert_int_equal(SSL_connect(ssl), 1);
        len = snprintf(req, sizeof(req),
                       "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s%s\r\n",
                       method, path, range != NULL ? "Range: " : "", range != NULL ? range : "",
                       range != NULL ? "\r\n" : "");
        assert_true(len > 0 && (size_t)len < sizeof(req));
        assert_int_equal(SSL_write(ssl, req, len), len);
        for (;;) {
                if (cap - n < 65536) {
                        cap = cap * 2 + 65536;
                        all = realloc(all, cap + 1);
                        assert_non_null(all);
                }
                if ((k = SSL_read(ssl, all + n, (int)(cap - n))) <= 0)
                        break;
                n += (size_t)k;
        }
        all[n] = '\0';
        SSL_free(ssl);
        close(fd);
        SSL_CTX_free(ctx);
        hend = strstr((char *)all, "\r\n\r\n");
        assert_non_null(hend);
        assert_true((size_t)(hend - (char *)all) + 3 < sizeof(out->head));
        memcpy(out->head, all, (size_t)(hend - (char *)all) + 2);
        assert_int_equal(sscanf(out->head, "HTTP/1.1 %d", &out->status), 1);
        out->len = n - (size_t)(hend + 4 - (char *)all);
        out->body = malloc(out->len + 1);
        assert_non_null(out->body);
        memcpy(out->body, hend + 4, out->len);
        free(all);
}

static void check_big(const struct raw *r, size_t start)
{
        size_t i;

        for (i = 0; i < r->len; i++)
                if (r->body[i] != big_byte(start + i))
                        fail_msg("byte %zu", start + i);
}

static void expect_status(struct fx *f, const char *method, const char *path, const char *range,
                          int status)
{
        struct raw r;

        raw_req(f, method, path, range, &r);
        if (r.status != status)
                fail_msg("%s %s (%s): %d, want %d", method, path, range != NULL ? range : "-",
                         r.status, status);
        raw_free(&r);
}

static void test_serve(void **state)
{
        struct fx *f = *state;
        char v[128], want[128];
        struct raw r;

        /* metadata, whole, no authentication */
        raw_req(f, "GET", "/v1/repo/metadata/timestamp.json", NULL, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.len, strlen(META));
        assert_memory_equal(r.body, META, r.len);
        assert_string_equal(raw_header(&r, "Cache-Control", v, sizeof(v)), "no-store");
        snprintf(want, sizeof(want), "%zu", strlen(META));
        assert_string_equal(raw_header(&r, "Content-Length", v, sizeof(v)), want);
        assert_string_equal(raw_header(&r, "Content-Range", v, sizeof(v)), "");
        raw_free(&r);
        /* a closed range */
        raw_req(f, "GET", "/v1/repo/targets/sub/fw.bin", "bytes=1000-1999", &r);
        assert_int_equal(r.status, 206);
        assert_int_equal(r.len, 1000);
        check_big(&r, 1000);
        snprintf(want, sizeof(want), "bytes 1000-1999/%u", BIG_SIZE);
        assert_string_equal(raw_header(&r, "Content-Range", v, sizeof(v)), want);
        assert_string_equal(raw_header(&r, "Cache-Control", v, sizeof(v)), "");
        raw_free(&r);
        /* an open range past the cap: 1 MiB served */
        raw_req(f, "GET", "/v1/repo/targets/sub/fw.bin", "bytes=10-", &r);
        assert_int_equal(r.status, 206);
        assert_int_equal(r.len, IMAGO_API_REPO_RANGE_MAX);
        check_big(&r, 10);
        snprintf(want, sizeof(want), "bytes 10-%u/%u", IMAGO_API_REPO_RANGE_MAX + 9U, BIG_SIZE);
        assert_string_equal(raw_header(&r, "Content-Range", v, sizeof(v)), want);
        raw_free(&r);
        /* the end clipped to the file */
        raw_req(f, "GET", "/v1/repo/targets/sub/fw.bin", "bytes=1200000-99999999999", &r);
        assert_int_equal(r.status, 206);
        assert_int_equal(r.len, BIG_SIZE - 1200000U);
        check_big(&r, 1200000);
        raw_free(&r);
        /* the last byte; the whole file without a Range */
        raw_req(f, "GET", "/v1/repo/targets/sub/fw.bin", NULL, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.len, BIG_SIZE);
        check_big(&r, 0);
        raw_free(&r);
        snprintf(want, sizeof(want), "bytes=%u-", BIG_SIZE - 1U);
        raw_req(f, "GET", "/v1/repo/targets/sub/fw.bin", want, &r);
        assert_int_equal(r.status, 206);
        assert_int_equal(r.len, 1);
        check_big(&r, BIG_SIZE - 1U);
        raw_free(&r);
        /* at or past the end, and an empty file */
        snprintf(want, sizeof(want), "bytes=%u-", BIG_SIZE);
        raw_req(f, "GET", "/v1/repo/targets/sub/fw.bin", want, &r);
        assert_int_equal(r.status, 416);
        snprintf(want, sizeof(want), "bytes */%u", BIG_SIZE);
        assert_string_equal(raw_header(&r, "Content-Range", v, sizeof(v)), want);
        raw_free(&r);
        expect_status(f, "GET", "/v1/repo/targets/empty.bin", NULL, 200);
        expect_status(f, "GET", "/v1/repo/targets/empty.bin", "bytes=0-", 416);
        /* Range headers the parser refuses */
        expect_status(f, "GET", "/v1/repo/targets/sub/fw.bin", "bytes=0-1,5-9", 416);
        expect_status(f, "GET", "/v1/repo/targets/sub/fw.bin", "bytes=-100", 416);
        expect_status(f, "GET", "/v1/repo/targets/sub/fw.bin", "items=0-1", 416);
        expect_status(f, "GET", "/v1/repo/targets/sub/fw.bin", "bytes=9-3", 416);
}

static void test_refusals(void **state)
{
        struct fx *f = *state;

        expect_status(f, "GET", "/v1/repo/targets/missing.bin", NULL, 404);
        expect_status(f, "GET", "/v1/repo/targets/link.bin", NULL, 404);
        expect_status(f, "GET", "/v1/repo/targets/adir", NULL, 404);
        expect_status(f, "GET", "/v1/repo/targets/sub/../../../secret", NULL, 404);
        expect_status(f, "GET", "/v1/repo/targets/../secret", NULL, 404);
        expect_status(f, "GET", "/v1/repo/targets//sub/fw.bin", NULL, 404);
        expect_status(f, "GET", "/v1/repo/targets/sub/", NULL, 404);
        expect_status(f, "GET", "/v1/repo/targets/", NULL, 404);
        expect_status(f, "GET", "/v1/repo/secret", NULL, 404);
        expect_status(f, "GET", "/v1/repo/metadata/../../secret", NULL, 404);
        expect_status(f, "GET", "/v1/repo/targets/sub%2ffw.bin", NULL, 404);
        expect_status(f, "GET", "/v1/repo/targets/sub/fw.bin?x=1", NULL, 400);
        expect_status(f, "POST", "/v1/repo/targets/sub/fw.bin", NULL, 405);
        expect_status(f, "DELETE", "/v1/repo/metadata/timestamp.json", NULL, 405);
        /* the file itself is still there */
        expect_status(f, "GET", "/v1/repo/targets/sub/fw.bin", "bytes=0-0", 206);
}

/* ---- the parser's vectors ---- */

static void test_vectors(void **state)
{
        DIR *d = opendir(VEC_DIR);
        struct dirent *e;
        size_t count = 0, bad = 0;

        (void)state;
        assert_non_null(d);
        while ((e = readdir(d)) != NULL) {
                char p[512], val[256], exp[64], got[64];
                size_t n = strlen(e->d_name), len;
                uint64_t st = 1, en = 1;
                FILE *fp;
                int r;

                if (n < 5 || strcmp(e->d_name + n - 4, ".txt") != 0)
                        continue;
                snprintf(p, sizeof(p), VEC_DIR "%s", e->d_name);
                fp = fopen(p, "rb");
                assert_non_null(fp);
                len = fread(val, 1, sizeof(val), fp);
                fclose(fp);
                snprintf(p, sizeof(p), VEC_DIR "%.*s.expect", (int)(n - 4), e->d_name);
                fp = fopen(p, "rb");
                assert_non_null(fp);
                assert_non_null(fgets(exp, sizeof(exp), fp));
                fclose(fp);
                exp[strcspn(exp, "\r\n")] = '\0';
                r = imago_api_parse_range(val, len, &st, &en);
                if (r == IMAGO_OK)
                        snprintf(got, sizeof(got), "%" PRIu64 " %" PRIu64, st, en);
                else
                        snprintf(got, sizeof(got), "%s", imago_errname(r));
                if (r != IMAGO_OK) {
                        assert_true(st == 0 && en == 0);
                        bad++;
                }
                if (strcmp(got, exp) != 0)
                        fail_msg("%s: %s, want %s", e->d_name, got, exp);
                count++;
        }
        closedir(d);
        assert_true(count >= 20);
        assert_true(bad >= 15);
        assert_int_equal(imago_api_parse_range(NULL, 0, NULL, NULL), IMAGO_EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_serve, setup, teardown),
            cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
            cmocka_unit_test(test_vectors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
