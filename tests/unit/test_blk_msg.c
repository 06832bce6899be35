/*
 * imago_blk messages: every case of tests/vectors/blk/{req,data,progress}
 * (<case>.json|.bin, <case>.expect naming the IMAGO_E code), round trips,
 * truncation at every length, the builders refusing what the parsers
 * refuse, object names, topics, the sender over a buffer and a file, and
 * the wire size of the chosen binary frame next to JSON with base64 (logged,
 * not a pass/fail figure beyond "binary is smaller").
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "test_vectors.h"
#include "base/err.h"
#include "blk/blk.h"

#define VEC IMAGO_SOURCE_DIR "/tests/vectors/blk"

static void req_case(const char *file, const uint8_t *data, size_t len, int want, void *arg)
{
        struct imago_blk_req r, r2;
        int *ok = arg, got;

        memset(&r, 0xa5, sizeof(r));
        got = imago_blk_req_parse(data, len, &r);
        if (got != want)
                fail_msg("%s: expected %s, got %s", file, imago_errname(want), imago_errname(got));
        if (got == IMAGO_OK) {
                char *text = NULL;
                size_t tlen = 0;

                assert_int_equal(imago_blk_req_build(&r, &text, &tlen), IMAGO_OK);
                assert_int_equal(imago_blk_req_parse((uint8_t *)text, tlen, &r2), IMAGO_OK);
                assert_memory_equal(&r, &r2, sizeof(r));
                free(text);
                (*ok)++;
        } else {
                /* a refused request leaves the output untouched */
                assert_int_equal(r.tid, 0xa5a5a5a5u);
        }
}

static void data_case(const char *file, const uint8_t *data, size_t len, int want, void *arg)
{
        struct imago_blk_msg m, m2;
        int *ok = arg, got;

        memset(&m, 0xa5, sizeof(m));
        got = imago_blk_msg_parse(data, len, &m);
        if (got != want)
                fail_msg("%s: expected %s, got %s", file, imago_errname(want), imago_errname(got));
        if (got == IMAGO_OK) {
                uint8_t *out = NULL;
                size_t olen = 0;

                assert_int_equal(imago_blk_msg_build(&m, &out, &olen), IMAGO_OK);
                assert_int_equal(olen, len);
                assert_memory_equal(out, data, len);
                assert_int_equal(imago_blk_msg_parse(out, olen, &m2), IMAGO_OK);
                free(out);
                (*ok)++;
        } else {
                assert_int_equal(m.tid, 0xa5a5a5a5u);
        }
}

static void progress_case(const char *file, const uint8_t *data, size_t len, int want, void *arg)
{
        struct imago_blk_progress p;
        uint8_t buf[IMAGO_BLK_PROGRESS_MAX];
        size_t blen = 0;
        int *ok = arg, got;

        memset(&p, 0xa5, sizeof(p));
        got = imago_blk_progress_decode(data, len, &p);
        if (got != want)
                fail_msg("%s: expected %s, got %s", file, imago_errname(want), imago_errname(got));
        if (got == IMAGO_OK) {
                assert_int_equal(imago_blk_progress_encode(&p, buf, sizeof(buf), &blen), IMAGO_OK);
                assert_int_equal(blen, len);
                assert_memory_equal(buf, data, len);
                (*ok)++;
        } else {
                assert_int_equal(p.block, 0xa5a5a5a5u);
        }
}

static void test_vectors(void **state)
{
        int ok = 0;

        (void)state;
        assert_true(test_vec_each(VEC "/req", ".json", req_case, &ok) >= 35);
        assert_true(ok >= 4);
        ok = 0;
        assert_true(test_vec_each(VEC "/data", ".bin", data_case, &ok) >= 30);
        assert_true(ok >= 5);
        ok = 0;
        assert_true(test_vec_each(VEC "/progress", ".bin", progress_case, &ok) >= 15);
        assert_true(ok >= 3);
}

static void test_obj_names(void **state)
{
        static const char *const good[] = {"root.json", "3.root.json", "targets/fw-2.bin",
                                           "a",         "x.y/z_w+1~%", "a.b.c"};
        static const char *const bad[] = {"",    "/a",   "a/",   "a//b",  "..",   "a/../b", "a..",
                                          "a b", "a\\b", "a\tb", "a\x7f", "\x80", "..a"};
        char longest[IMAGO_BLK_OBJ_MAX + 2];

        (void)state;
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                assert_true(imago_blk_obj_valid(good[i], strlen(good[i])));
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_false(imago_blk_obj_valid(bad[i], strlen(bad[i])));
        memset(longest, 'a', sizeof(longest));
        assert_true(imago_blk_obj_valid(longest, IMAGO_BLK_OBJ_MAX));
        assert_false(imago_blk_obj_valid(longest, IMAGO_BLK_OBJ_MAX + 1));
        assert_false(imago_blk_obj_valid(NULL, 1));
}

static void test_topics(void **state)
{
        char t[IMAGO_BLK_TOPIC_MAX];

        (void)state;
        assert_int_equal(imago_blk_topic("0123456789abcdef0123456789abcdef", 1, t, sizeof(t)), 0);
        assert_string_equal(t, "imago/v1/d/0123456789abcdef0123456789abcdef/blk/req");
        assert_int_equal(imago_blk_topic("0123456789abcdef0123456789abcdef", 0, t, sizeof(t)), 0);
        assert_string_equal(t, "imago/v1/d/0123456789abcdef0123456789abcdef/blk/data");
        assert_int_equal(imago_blk_topic("0123456789ABCDEF0123456789abcdef", 0, t, sizeof(t)),
                         IMAGO_EINVAL);
        assert_int_equal(imago_blk_topic("0123456789abcdef0123456789abcdef", 0, t, 20),
                         IMAGO_EINVAL);
}

/* A frame cut at every length is IMAGO_ETRUNC, with one byte more IMAGO_ETRAILING. */
static void test_frame_truncation(void **state)
{
        static const uint8_t data[100] = {1, 2, 3};
        struct imago_blk_msg m = {0}, p;
        uint8_t *out = NULL, *longer;
        size_t len = 0;

        (void)state;
        m.type = IMAGO_BLK_BLOCK;
        m.tid = 42;
        snprintf(m.obj, sizeof(m.obj), "targets/fw.bin");
        m.off = 200;
        m.total = 300;
        m.data = data;
        m.data_len = sizeof(data);
        assert_int_equal(imago_blk_msg_build(&m, &out, &len), IMAGO_OK);
        assert_int_equal(len, IMAGO_BLK_HDR_LEN + 14 + sizeof(data));
        for (size_t n = 0; n < len; n++)
                assert_int_equal(imago_blk_msg_parse(out, n, &p), IMAGO_ETRUNC);
        longer = calloc(1, len + 1);
        assert_non_null(longer);
        memcpy(longer, out, len);
        assert_int_equal(imago_blk_msg_parse(longer, len + 1, &p), IMAGO_ETRAILING);
        assert_int_equal(imago_blk_msg_parse(out, len, &p), IMAGO_OK);
        assert_ptr_equal(p.data, out + IMAGO_BLK_HDR_LEN + 14);
        assert_int_equal(p.off, 200);
        assert_int_equal(p.total, 300);
        free(longer);
        free(out);
}

/* The builders refuse what the parsers refuse. */
static void test_builders_refuse(void **state)
{
        struct imago_blk_req r = {0};
        struct imago_blk_msg m = {0};
        struct imago_blk_progress p = {0};
        uint8_t *out = NULL, buf[IMAGO_BLK_PROGRESS_MAX];
        char *text = NULL;
        size_t len = 0;

        (void)state;
        r.tid = 1;
        r.len = 1;
        snprintf(r.obj, sizeof(r.obj), "../x");
        assert_int_equal(imago_blk_req_build(&r, &text, &len), IMAGO_EINVAL);
        snprintf(r.obj, sizeof(r.obj), "x");
        r.len = IMAGO_BLK_BLOCK_MAX + 1;
        assert_int_equal(imago_blk_req_build(&r, &text, &len), IMAGO_EINVAL);
        r.len = 1;
        r.tid = 0;
        assert_int_equal(imago_blk_req_build(&r, &text, &len), IMAGO_EINVAL);
        r.tid = 1;
        r.off = IMAGO_BLK_OFF_LIMIT;
        assert_int_equal(imago_blk_req_build(&r, &text, &len), IMAGO_EINVAL);

        m.type = IMAGO_BLK_BLOCK;
        m.tid = 1;
        snprintf(m.obj, sizeof(m.obj), "x");
        m.total = 10;
        m.off = 5;
        m.data = (const uint8_t *)"0123456789";
        m.data_len = 6; /* past the total */
        assert_int_equal(imago_blk_msg_build(&m, &out, &len), IMAGO_EINVAL);
        m.data_len = 5;
        m.data = NULL;
        assert_int_equal(imago_blk_msg_build(&m, &out, &len), IMAGO_EINVAL);
        m.type = IMAGO_BLK_ERROR;
        m.code = IMAGO_BLK_NOTFOUND;
        m.data_len = 0;
        assert_int_equal(imago_blk_msg_build(&m, &out, &len), IMAGO_EINVAL); /* total != 0 */
        assert_null(out);

        snprintf(p.obj, sizeof(p.obj), "x");
        p.block = 16;
        p.length = 100;
        p.done = 17;
        assert_int_equal(imago_blk_progress_encode(&p, buf, sizeof(buf), &len), IMAGO_EINVAL);
        p.done = 32;
        assert_int_equal(imago_blk_progress_encode(&p, buf, 28, &len), IMAGO_EINVAL);
        assert_int_equal(imago_blk_progress_encode(&p, buf, 29, &len), IMAGO_OK);
        assert_int_equal(len, 29);
}

static void serve_check(const struct imago_blk_req *r, const struct imago_blk_src *src,
                        enum imago_blk_type type, enum imago_blk_code code, uint32_t dlen)
{
        struct imago_blk_msg m;
        uint8_t *out = NULL;
        size_t len = 0;

        assert_int_equal(imago_blk_serve(r, src, &out, &len), IMAGO_OK);
        assert_int_equal(imago_blk_msg_parse(out, len, &m), IMAGO_OK);
        assert_int_equal(m.type, type);
        assert_int_equal(m.code, code);
        assert_int_equal(m.tid, r->tid);
        assert_string_equal(m.obj, r->obj);
        assert_int_equal(m.off, r->off);
        assert_int_equal(m.data_len, dlen);
        if (type == IMAGO_BLK_BLOCK) {
                uint8_t want[IMAGO_BLK_BLOCK_MAX];

                assert_int_equal(m.total, src->length);
                assert_int_equal(src->read(src, r->off, want, dlen), IMAGO_OK);
                assert_memory_equal(m.data, want, dlen);
        }
        free(out);
}

static void test_serve(void **state)
{
        static uint8_t img[40000];
        char path[] = "/tmp/test_blk_msg_XXXXXX";
        struct imago_blk_src bsrc, fsrc;
        struct imago_blk_req r = {0};
        int fd;

        (void)state;
        for (size_t i = 0; i < sizeof(img); i++)
                img[i] = (uint8_t)(i * 7 + 3);
        imago_blk_src_buf(&bsrc, img, sizeof(img));
        fd = mkstemp(path);
        assert_true(fd >= 0);
        unlink(path);
        assert_int_equal(write(fd, img, sizeof(img)), (ssize_t)sizeof(img));
        assert_int_equal(imago_blk_src_fd(&fsrc, fd), IMAGO_OK);
        assert_int_equal(fsrc.length, sizeof(img));

        r.tid = 9;
        snprintf(r.obj, sizeof(r.obj), "targets/fw.bin");
        r.len = 16384;
        for (int i = 0; i < 2; i++) {
                const struct imago_blk_src *s = i == 0 ? &bsrc : &fsrc;

                r.off = 0;
                serve_check(&r, s, IMAGO_BLK_BLOCK, IMAGO_BLK_OK, 16384);
                r.off = 32768; /* the last block is short */
                serve_check(&r, s, IMAGO_BLK_BLOCK, IMAGO_BLK_OK, 40000 - 32768);
                r.off = 39999;
                serve_check(&r, s, IMAGO_BLK_BLOCK, IMAGO_BLK_OK, 1);
                r.off = 40000;
                serve_check(&r, s, IMAGO_BLK_ERROR, IMAGO_BLK_RANGE, 0);
                r.off = IMAGO_BLK_OFF_LIMIT - 1;
                serve_check(&r, s, IMAGO_BLK_ERROR, IMAGO_BLK_RANGE, 0);
        }
        r.off = 0;
        serve_check(&r, NULL, IMAGO_BLK_ERROR, IMAGO_BLK_NOTFOUND, 0);

        /* a file that shrank after it was opened is an I/O error, not a short block */
        assert_int_equal(ftruncate(fd, 100), 0);
        {
                uint8_t *out = NULL;
                size_t len = 0;

                r.off = 16384;
                assert_int_equal(imago_blk_serve(&r, &fsrc, &out, &len), IMAGO_EIO);
                assert_null(out);
        }
        close(fd);
}

/* The JSON form the binary frame was measured against: base64 data in a JSON object. */
static size_t json_block_size(const struct imago_blk_msg *m)
{
        size_t b64len = 4 * ((m->data_len + 2) / 3), n;
        char *b64 = malloc(b64len + 1), *text;
        json_t *o;

        assert_non_null(b64);
        assert_int_equal(EVP_EncodeBlock((unsigned char *)b64, m->data, (int)m->data_len),
                         (int)b64len);
        o = json_pack("{s:i, s:s, s:I, s:s, s:I, s:I, s:s}", "v", 1, "type", "block", "tid",
                      (json_int_t)m->tid, "obj", m->obj, "off", (json_int_t)m->off, "total",
                      (json_int_t)m->total, "data", b64);
        assert_non_null(o);
        text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        assert_non_null(text);
        n = strlen(text);
        free(text);
        json_decref(o);
        free(b64);
        return n;
}

static void test_wire_size(void **state)
{
        static uint8_t img[1 << 20];
        struct imago_blk_req r = {0};
        size_t bin = 0, json = 0, reqs = 0, one_bin = 0, one_json = 0;
        struct imago_blk_src src;

        (void)state;
        for (size_t i = 0; i < sizeof(img); i++)
                img[i] = (uint8_t)(i * 2654435761u >> 24);
        imago_blk_src_buf(&src, img, sizeof(img));
        r.tid = 3141592653u;
        snprintf(r.obj, sizeof(r.obj), "targets/fw-2.bin");
        r.len = IMAGO_BLK_BLOCK_MAX;
        for (r.off = 0; r.off < sizeof(img); r.off += IMAGO_BLK_BLOCK_MAX) {
                struct imago_blk_msg m;
                uint8_t *out = NULL;
                char *text = NULL;
                size_t len = 0, tlen = 0, jlen;

                assert_int_equal(imago_blk_req_build(&r, &text, &tlen), IMAGO_OK);
                assert_int_equal(imago_blk_serve(&r, &src, &out, &len), IMAGO_OK);
                assert_int_equal(imago_blk_msg_parse(out, len, &m), IMAGO_OK);
                jlen = json_block_size(&m);
                if (r.off == 0) {
                        one_bin = len;
                        one_json = jlen;
                }
                reqs += tlen;
                bin += len;
                json += jlen;
                free(out);
                free(text);
        }
        printf(
            "blk wire: one 16384-byte block: binary %zu bytes, json+base64 %zu bytes (+%.1f%%)\n",
            one_bin, one_json, 100.0 * ((double)one_json - (double)one_bin) / (double)one_bin);
        printf("blk wire: 1 MiB in 16 KiB blocks, requests included: binary %.4f, json+base64 %.4f "
               "bytes on the wire per payload byte (requests %zu bytes)\n",
               (double)(bin + reqs) / sizeof(img), (double)(json + reqs) / sizeof(img), reqs);
        /* the decision in docs/blk.md rests on this */
        assert_true(bin < json);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_vectors),         cmocka_unit_test(test_obj_names),
            cmocka_unit_test(test_topics),          cmocka_unit_test(test_frame_truncation),
            cmocka_unit_test(test_builders_refuse), cmocka_unit_test(test_serve),
            cmocka_unit_test(test_wire_size),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
