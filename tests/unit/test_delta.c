/*
 * imago_delta: round trips on random and realistic image pairs, and one test
 * per way a delta can be wrong (wrong base, truncated, corrupt, window over
 * the limit, output longer or shorter than expected, hash mismatch, bytes
 * after the frame, a failing sink), plus the vectors in tests/vectors/delta.
 */
#define _GNU_SOURCE /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "delta/delta.h"

#include "base/err.h"
#include "base/file.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "test_vectors.h"

#define VEC_DIR IMAGO_SOURCE_DIR "/tests/vectors/delta"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (uint32_t)(rng >> 11);
}

static uint8_t *random_bytes(size_t n)
{
        uint8_t *p = malloc(n ? n : 1);
        size_t i;

        assert_non_null(p);
        for (i = 0; i < n; i++)
                p[i] = (uint8_t)rnd();
        return p;
}

/* target = base with scattered small overwrites, one insertion and one deletion. */
static uint8_t *edit(const uint8_t *base, size_t n, unsigned edits, size_t *out_len)
{
        size_t ins = n / 3, del = 2 * n / 3, ins_len = 300, del_len = 200, len, i, j = 0;
        uint8_t *t;

        assert_true(n > 1000);
        len = n + ins_len - del_len;
        t = malloc(len);
        assert_non_null(t);
        for (i = 0; i < n; i++) {
                if (i == ins) {
                        size_t k;

                        for (k = 0; k < ins_len; k++)
                                t[j++] = (uint8_t)rnd();
                }
                if (i >= del && i < del + del_len)
                        continue;
                t[j++] = base[i];
        }
        assert_int_equal(j, len);
        for (i = 0; i < edits; i++) {
                size_t off = rnd() % (len - 16), k, w = 1 + rnd() % 16;

                for (k = 0; k < w; k++)
                        t[off + k] = (uint8_t)rnd();
        }
        *out_len = len;
        return t;
}

struct sink {
        uint8_t *buf;
        size_t cap, len;
        int calls;
        int fail_with;
};

static int sink_fn(void *arg, const uint8_t *data, size_t len)
{
        struct sink *s = arg;

        s->calls++;
        if (s->fail_with)
                return s->fail_with;
        assert_true(len <= s->cap - s->len); /* never past the bound */
        memcpy(s->buf + s->len, data, len);
        s->len += len;
        return 0;
}

static void expect_of(const uint8_t *t, size_t n, struct imago_delta_expect *e)
{
        memset(e, 0, sizeof(*e));
        e->length = n;
        assert_int_equal(imago_sha256(t, n, e->sha256), IMAGO_OK);
}

/* Apply delta fed in pieces of step bytes (0: all at once); returns the code and the cause. */
static int apply_steps(const uint8_t *base, size_t bl, const uint8_t *d, size_t dl,
                       const struct imago_delta_expect *e, size_t step, struct sink *s,
                       enum imago_delta_why *why)
{
        struct imago_delta_apply a;
        size_t off = 0;
        int r;

        r = imago_delta_apply_init(&a, base, bl, e, sink_fn, s);
        assert_int_equal(r, IMAGO_OK);
        while (r == IMAGO_OK && off < dl) {
                size_t n = step && step < dl - off ? step : dl - off;

                r = imago_delta_apply_update(&a, d + off, n);
                off += n;
        }
        if (r == IMAGO_OK)
                r = imago_delta_apply_final(&a);
        *why = r == IMAGO_OK ? IMAGO_DELTA_NONE : a.why;
        imago_delta_apply_free(&a);
        return r;
}

static void roundtrip(const uint8_t *base, size_t bl, const uint8_t *t, size_t tl, int level,
                      size_t max_delta)
{
        static const size_t steps[] = {0, 1, 7, 4096, 131073};
        struct imago_delta_expect e;
        enum imago_delta_why why;
        uint8_t *d;
        size_t dl, i;

        assert_int_equal(imago_delta_make(base, bl, t, tl, level, &d, &dl), IMAGO_OK);
        assert_true(dl <= max_delta);
        expect_of(t, tl, &e);
        for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
                struct sink s = {NULL, tl, 0, 0, 0};

                if (steps[i] == 1 && dl > 20000)
                        continue;
                s.buf = malloc(tl + 1);
                assert_int_equal(apply_steps(base, bl, d, dl, &e, steps[i], &s, &why), IMAGO_OK);
                assert_int_equal(why, IMAGO_DELTA_NONE);
                assert_int_equal(s.len, tl);
                assert_memory_equal(s.buf, t, tl);
                free(s.buf);
        }
        imago_delta_free(d);
}

static void test_roundtrip_random_1mib_scattered_edits(void **state)
{
        size_t n = 1 << 20, tl;
        uint8_t *b = random_bytes(n), *t = edit(b, n, 64, &tl);

        (void)state;
        /* 64 edits of up to 16 random bytes + 300 inserted: a few KiB, not the whole image. */
        roundtrip(b, n, t, tl, 19, 8192);
        roundtrip(b, n, t, tl, 1, 16384);
        free(b);
        free(t);
}

/* Realistic: a text-like image (strings, tables) with a version bump and a few changed lines. */
static void test_roundtrip_text_image_small_edits(void **state)
{
        size_t cap = 600000, n = 0, tl = 0;
        uint8_t *b = malloc(cap), *t = malloc(cap);
        int i;

        (void)state;
        assert_non_null(b);
        assert_non_null(t);
        for (i = 0; n < cap - 100 && tl < cap - 100; i++) {
                int w = snprintf((char *)b + n, cap - n, "cfg.%05d=%u;fw 1.0.0\n", i, rnd() % 1000);

                n += (size_t)w;
                w = snprintf((char *)t + tl, cap - tl, "cfg.%05d=%u;fw %s\n", i,
                             i % 997 == 0 ? 4242U : (unsigned)(b[n - 12] - '0'),
                             i % 2 ? "1.0.1" : "1.0.0-rc2");
                tl += (size_t)w;
        }
        roundtrip(b, n, t, tl, 0, tl / 4);
        free(b);
        free(t);
}

static void test_roundtrip_empty_base_and_target(void **state)
{
        uint8_t *t = random_bytes(5000);

        (void)state;
        roundtrip(NULL, 0, t, 5000, 3, 5100); /* no base: a plain frame */
        roundtrip(t, 5000, NULL, 0, 3, 64);   /* empty target */
        free(t);
}

static void test_wrong_base_refused(void **state)
{
        size_t n = 256 * 1024, tl;
        uint8_t *b = random_bytes(n), *t = edit(b, n, 10, &tl), *other = random_bytes(n), *d;
        struct imago_delta_expect e;
        enum imago_delta_why why;
        struct sink s = {malloc(tl), tl, 0, 0, 0};
        size_t dl;

        (void)state;
        assert_int_equal(imago_delta_make(b, n, t, tl, 3, &d, &dl), IMAGO_OK);
        expect_of(t, tl, &e);
        assert_int_equal(apply_steps(other, n, d, dl, &e, 0, &s, &why), IMAGO_EDELTA);
        assert_true(why == IMAGO_DELTA_CORRUPT || why == IMAGO_DELTA_HASH);
        s.len = 0;
        assert_int_equal(apply_steps(NULL, 0, d, dl, &e, 0, &s, &why), IMAGO_EDELTA);
        s.len = 0;
        assert_int_equal(apply_steps(b, n / 2, d, dl, &e, 0, &s, &why), IMAGO_EDELTA);
        imago_delta_free(d);
        free(s.buf);
        free(b);
        free(t);
        free(other);
}

static void test_truncated_delta_every_length(void **state)
{
        size_t n = 8192, tl, dl, k;
        uint8_t *b = random_bytes(n), *t = edit(b, n, 20, &tl), *d;
        struct imago_delta_expect e;
        enum imago_delta_why why;
        struct sink s = {malloc(tl), tl, 0, 0, 0};

        (void)state;
        assert_int_equal(imago_delta_make(b, n, t, tl, 19, &d, &dl), IMAGO_OK);
        expect_of(t, tl, &e);
        for (k = 0; k < dl; k++) {
                s.len = 0;
                assert_int_equal(apply_steps(b, n, d, k, &e, 3, &s, &why), IMAGO_EDELTA);
                assert_true(why == IMAGO_DELTA_SHORT || why == IMAGO_DELTA_NOT_ZSTD);
        }
        imago_delta_free(d);
        free(s.buf);
        free(b);
        free(t);
}

static void test_corrupt_delta_never_gives_a_wrong_image(void **state)
{
        size_t n = 8192, tl, dl, k;
        uint8_t *b = random_bytes(n), *t = edit(b, n, 20, &tl), *d;
        struct imago_delta_expect e;
        enum imago_delta_why why;
        struct sink s = {malloc(tl), tl, 0, 0, 0};
        unsigned bit;

        (void)state;
        assert_int_equal(imago_delta_make(b, n, t, tl, 19, &d, &dl), IMAGO_OK);
        expect_of(t, tl, &e);
        for (k = 0; k < dl; k++) {
                for (bit = 0; bit < 8; bit += 3) {
                        int r;

                        d[k] ^= (uint8_t)(1U << bit);
                        s.len = 0;
                        r = apply_steps(b, n, d, dl, &e, 0, &s, &why);
                        d[k] ^= (uint8_t)(1U << bit);
                        if (r == IMAGO_OK) /* a flip zstd ignores (reserved bits): same image */
                                assert_memory_equal(s.buf, t, tl);
                        else
                                assert_int_equal(r, IMAGO_EDELTA);
                }
        }
        imago_delta_free(d);
        free(s.buf);
        free(b);
        free(t);
}

static void test_window_over_limit_refused_before_allocating(void **state)
{
        size_t n = 4 << 20, tl, dl;
        uint8_t *b = random_bytes(n), *t = edit(b, n, 5, &tl), *d;
        static const uint8_t w31[] = {0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa8, 0, 0, 0, 0};
        struct imago_delta_expect e;
        struct imago_delta_apply a;
        struct sink s = {malloc(tl), tl, 0, 0, 0};

        (void)state;
        assert_int_equal(imago_delta_window_log(n, tl), 23);
        assert_int_equal(imago_delta_make(b, n, t, tl, 1, &d, &dl), IMAGO_OK);
        expect_of(t, tl, &e);
        e.window_log_max = 20;
        assert_int_equal(imago_delta_apply_init(&a, b, n, &e, sink_fn, &s), IMAGO_OK);
        assert_int_equal(imago_delta_apply_update(&a, d, dl), IMAGO_EDELTA);
        assert_int_equal(a.why, IMAGO_DELTA_WINDOW);
        assert_true(imago_delta_apply_mem(&a) < 512 * 1024); /* no 8 MiB window */
        assert_int_equal(s.calls, 0);
        /* sticky */
        assert_int_equal(imago_delta_apply_final(&a), IMAGO_EDELTA);
        imago_delta_apply_free(&a);

        /* A forged header asking for 2 GiB, with the default limit. */
        e.window_log_max = 0;
        assert_int_equal(imago_delta_apply_init(&a, b, n, &e, sink_fn, &s), IMAGO_OK);
        assert_int_equal(imago_delta_apply_update(&a, w31, sizeof(w31)), IMAGO_EDELTA);
        assert_int_equal(a.why, IMAGO_DELTA_WINDOW);
        assert_true(imago_delta_apply_mem(&a) < 512 * 1024);
        imago_delta_apply_free(&a);

        /* Within the limit the heap stays near the target size (content size known). */
        e.window_log_max = 23;
        s.len = 0;
        assert_int_equal(imago_delta_apply_init(&a, b, n, &e, sink_fn, &s), IMAGO_OK);
        assert_int_equal(imago_delta_apply_update(&a, d, dl), IMAGO_OK);
        assert_int_equal(imago_delta_apply_final(&a), IMAGO_OK);
        assert_true(imago_delta_apply_mem(&a) <= tl + 512 * 1024);
        imago_delta_apply_free(&a);
        imago_delta_free(d);
        free(s.buf);
        free(b);
        free(t);
}

/* A frame without content size, as zstd makes from a pipe. */
static uint8_t *make_no_size(const uint8_t *b, size_t bl, const uint8_t *t, size_t tl, size_t *dl)
{
        ZSTD_CCtx *c = ZSTD_createCCtx();
        size_t cap = ZSTD_compressBound(tl), r;
        uint8_t *d = malloc(cap);

        assert_non_null(c);
        assert_non_null(d);
        assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0)));
        assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, 21)));
        assert_false(ZSTD_isError(ZSTD_CCtx_refPrefix(c, b, bl)));
        {
                ZSTD_inBuffer in = {t, tl, 0};
                ZSTD_outBuffer out = {d, cap, 0};

                r = ZSTD_compressStream2(c, &out, &in, ZSTD_e_end); /* streaming: no size */
                assert_int_equal(r, 0);
                *dl = out.pos;
        }
        ZSTD_freeCCtx(c);
        return d;
}

static void test_output_longer_than_expected_stopped_at_bound(void **state)
{
        size_t n = 1 << 20, tl, dl;
        uint8_t *b = random_bytes(n), *t = edit(b, n, 8, &tl), *d;
        struct imago_delta_expect e;
        enum imago_delta_why why;
        struct sink s;

        (void)state;
        d = make_no_size(b, n, t, tl, &dl);
        expect_of(t, tl, &e);
        e.length = tl - 10000; /* what the metadata promised */
        s = (struct sink){malloc(tl), (size_t)e.length, 0, 0, 0};
        assert_int_equal(apply_steps(b, n, d, dl, &e, 0, &s, &why), IMAGO_EDELTA);
        assert_int_equal(why, IMAGO_DELTA_LONG);
        assert_true(s.len <= e.length); /* the sink also asserts each call */
        free(s.buf);

        /* Shorter than promised. */
        expect_of(t, tl, &e);
        e.length = tl + 1;
        s = (struct sink){malloc(tl + 1), tl + 1, 0, 0, 0};
        assert_int_equal(apply_steps(b, n, d, dl, &e, 4096, &s, &why), IMAGO_EDELTA);
        assert_int_equal(why, IMAGO_DELTA_SHORT);
        free(s.buf);
        imago_delta_free(d);

        /* With a content size in the header the mismatch is seen before decoding. */
        assert_int_equal(imago_delta_make(b, n, t, tl, 1, &d, &dl), IMAGO_OK);
        expect_of(t, tl, &e);
        e.length = tl - 1;
        s = (struct sink){malloc(tl), tl, 0, 0, 0};
        assert_int_equal(apply_steps(b, n, d, dl, &e, 0, &s, &why), IMAGO_EDELTA);
        assert_int_equal(why, IMAGO_DELTA_SIZE);
        assert_int_equal(s.calls, 0);
        free(s.buf);
        imago_delta_free(d);
        free(b);
        free(t);
}

static void test_hash_mismatch_trailing_and_sink_failure(void **state)
{
        size_t n = 64 * 1024, tl, dl;
        uint8_t *b = random_bytes(n), *t = edit(b, n, 8, &tl), *d, *d2;
        struct imago_delta_expect e;
        enum imago_delta_why why;
        struct sink s = {malloc(tl), tl, 0, 0, 0};

        (void)state;
        assert_int_equal(imago_delta_make(b, n, t, tl, 3, &d, &dl), IMAGO_OK);
        expect_of(t, tl, &e);
        e.sha256[31] ^= 1;
        assert_int_equal(apply_steps(b, n, d, dl, &e, 0, &s, &why), IMAGO_EDELTA);
        assert_int_equal(why, IMAGO_DELTA_HASH);
        e.sha256[31] ^= 1;

        d2 = malloc(2 * dl);
        assert_non_null(d2);
        memcpy(d2, d, dl);
        memcpy(d2 + dl, d, dl);
        s.len = 0;
        assert_int_equal(apply_steps(b, n, d2, dl + 1, &e, 0, &s, &why), IMAGO_EDELTA);
        assert_int_equal(why, IMAGO_DELTA_TRAILING);
        s.len = 0;
        assert_int_equal(apply_steps(b, n, d2, 2 * dl, &e, 5, &s, &why), IMAGO_EDELTA);
        assert_int_equal(why, IMAGO_DELTA_TRAILING);

        s.len = 0;
        s.fail_with = IMAGO_EIO;
        assert_int_equal(apply_steps(b, n, d, dl, &e, 0, &s, &why), IMAGO_EIO);
        assert_int_equal(why, IMAGO_DELTA_SINK);
        free(d2);
        imago_delta_free(d);
        free(s.buf);
        free(b);
        free(t);
}

static void test_bad_arguments(void **state)
{
        struct imago_delta_expect e = {0};
        struct imago_delta_apply a;
        struct sink s = {NULL, 0, 0, 0, 0};
        uint8_t *d;
        size_t dl;

        (void)state;
        assert_int_equal(imago_delta_make(NULL, 0, NULL, 0, 23, &d, &dl), IMAGO_EINVAL);
        assert_int_equal(imago_delta_make(NULL, 0, NULL, 0, -1, &d, &dl), IMAGO_EINVAL);
        e.window_log_max = 32;
        assert_int_equal(imago_delta_apply_init(&a, NULL, 0, &e, sink_fn, &s), IMAGO_EINVAL);
        imago_delta_apply_free(&a);
        e.window_log_max = 9;
        assert_int_equal(imago_delta_apply_init(&a, NULL, 0, &e, sink_fn, &s), IMAGO_EINVAL);
        imago_delta_apply_free(&a);
        e.window_log_max = 0;
        assert_int_equal(imago_delta_apply_init(&a, NULL, 0, &e, NULL, &s), IMAGO_EINVAL);
        imago_delta_apply_free(&a);
        assert_int_equal(imago_delta_window_log(0, 0), IMAGO_DELTA_WLOG_MIN);
        assert_int_equal(imago_delta_window_log(1 << 20, 5), 21);
        assert_int_equal(imago_delta_window_log((1 << 20) + 1, 5), 21);
        assert_int_equal(imago_delta_window_log(16 << 20, 16 << 20), 25);
        assert_int_equal(imago_delta_window_log(1ULL << 40, 0), IMAGO_DELTA_WLOG_MAX);
}

static int count_tmp(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;

        assert_non_null(d);
        while ((de = readdir(d)) != NULL)
                n += strstr(de->d_name, ".tmp.") != NULL;
        closedir(d);
        return n;
}

static void test_apply_file_atomic(void **state)
{
        char dir[] = "/tmp/test_delta.XXXXXX", pb[256], pt[256], pd[256], po[256];
        size_t n = 200000, tl, len;
        uint8_t *b = random_bytes(n), *t = edit(b, n, 12, &tl), *got;
        struct imago_delta_expect e;
        struct imago_delta_info info;
        enum imago_delta_why why;

        (void)state;
        assert_non_null(mkdtemp(dir));
        snprintf(pb, sizeof(pb), "%s/old", dir);
        snprintf(pt, sizeof(pt), "%s/new", dir);
        snprintf(pd, sizeof(pd), "%s/d.zst", dir);
        snprintf(po, sizeof(po), "%s/out", dir);
        assert_int_equal(imago_file_write_atomic(pb, b, n, 0644), IMAGO_OK);
        assert_int_equal(imago_file_write_atomic(pt, t, tl, 0644), IMAGO_OK);
        assert_int_equal(imago_delta_make_file(pb, pt, pd, 0, &info), IMAGO_OK);
        assert_int_equal(info.base_len, n);
        assert_int_equal(info.target_len, tl);
        expect_of(t, tl, &e);
        assert_memory_equal(info.target_sha256, e.sha256, 32);

        /* Wrong hash: no output, old output kept, no temporary file left. */
        assert_int_equal(imago_file_write_atomic(po, "previous", 8, 0644), IMAGO_OK);
        e.sha256[0] ^= 1;
        assert_int_equal(imago_delta_apply_file(pb, pd, po, &e, &why), IMAGO_EDELTA);
        assert_int_equal(why, IMAGO_DELTA_HASH);
        assert_int_equal(imago_file_read(po, 100, &got, &len), IMAGO_OK);
        assert_int_equal(len, 8);
        imago_file_free(got, len);
        assert_int_equal(count_tmp(dir), 0);
        /* Wrong base (the target itself is no base for this delta of a random image). */
        e.sha256[0] ^= 1;
        assert_int_equal(imago_delta_apply_file(pd, pd, po, &e, &why), IMAGO_EDELTA);
        assert_int_equal(count_tmp(dir), 0);
        /* Missing delta. */
        assert_int_equal(imago_delta_apply_file(pb, "/nonexistent/d", po, &e, &why),
                         IMAGO_ENOTFOUND);
        assert_int_equal(count_tmp(dir), 0);
        /* Right. */
        assert_int_equal(imago_delta_apply_file(pb, pd, po, &e, &why), IMAGO_OK);
        assert_int_equal(imago_file_read(po, 1 << 20, &got, &len), IMAGO_OK);
        assert_int_equal(len, tl);
        assert_memory_equal(got, t, tl);
        imago_file_free(got, len);
        assert_int_equal(count_tmp(dir), 0);
        unlink(pb);
        unlink(pt);
        unlink(pd);
        unlink(po);
        rmdir(dir);
        free(b);
        free(t);
}

static const char *const why_names[] = {"NONE",    "NOT_ZSTD", "WINDOW", "SIZE", "LONG", "SHORT",
                                        "CORRUPT", "TRAILING", "HASH",   "SINK", "IO"};

struct vec_ctx {
        uint8_t *base, *target;
        size_t bl, tl;
};

static void vec_one(const char *file, const uint8_t *data, size_t len, int want, void *arg)
{
        struct vec_ctx *v = arg;
        struct imago_delta_expect e;
        enum imago_delta_why why;
        struct sink s = {malloc(v->tl), v->tl, 0, 0, 0};
        char path[1024], wname[32] = "";
        uint8_t *exp;
        size_t el;
        int r;

        snprintf(path, sizeof(path), VEC_DIR "/%.*s.expect", (int)(strlen(file) - 4), file);
        assert_int_equal(imago_file_read(path, 256, &exp, &el), IMAGO_OK);
        {
                const char *sp = memchr(exp, ' ', el);

                assert_non_null(sp);
                snprintf(wname, sizeof(wname), "%.*s", (int)strcspn(sp + 1, "\r\n"), sp + 1);
        }
        imago_file_free(exp, el);
        expect_of(v->target, v->tl, &e);
        r = apply_steps(v->base, v->bl, data, len, &e, 11, &s, &why);
        if (r != want || strcmp(why_names[why], wname) != 0)
                fail_msg("%s: got %s %s, want %s %s", file, imago_errname(r), why_names[why],
                         imago_errname(want), wname);
        if (r == IMAGO_OK)
                assert_memory_equal(s.buf, v->target, v->tl);
        free(s.buf);
}

static void test_vectors(void **state)
{
        struct vec_ctx v;

        (void)state;
        assert_int_equal(imago_file_read(VEC_DIR "/base.bin", 1 << 20, &v.base, &v.bl), IMAGO_OK);
        assert_int_equal(imago_file_read(VEC_DIR "/target.bin", 1 << 20, &v.target, &v.tl),
                         IMAGO_OK);
        assert_true(test_vec_each(VEC_DIR, ".zst", vec_one, &v) >= 18);
        imago_file_free(v.base, v.bl);
        imago_file_free(v.target, v.tl);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_roundtrip_random_1mib_scattered_edits),
            cmocka_unit_test(test_roundtrip_text_image_small_edits),
            cmocka_unit_test(test_roundtrip_empty_base_and_target),
            cmocka_unit_test(test_wrong_base_refused),
            cmocka_unit_test(test_truncated_delta_every_length),
            cmocka_unit_test(test_corrupt_delta_never_gives_a_wrong_image),
            cmocka_unit_test(test_window_over_limit_refused_before_allocating),
            cmocka_unit_test(test_output_longer_than_expected_stopped_at_bound),
            cmocka_unit_test(test_hash_mismatch_trailing_and_sink_failure),
            cmocka_unit_test(test_bad_arguments),
            cmocka_unit_test(test_apply_file_atomic),
            cmocka_unit_test(test_vectors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
