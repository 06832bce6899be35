/*
 * Unit tests of src/device/store against real SoftHSM2 tokens: round trips,
 * one test per attack (tamper, truncate, wrong token, wrong PIN, another
 * device, rollback, oversized, too many, malformed files), and
 * decommission.  Fault injection lives in test_store_fault.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/file.h"
#include "device/store/store.h"

#include "test_p11_util.h"

#define PIN "1234"

static struct tok_env env;
static char path[256];

static int setup(void **state)
{
        (void)state;
        if (tok_env_init(&env) != 0 || tok_add(&env, "dev1", PIN) != 0 ||
            tok_add(&env, "dev2", PIN) != 0 || tok_add(&env, "blank", PIN) != 0)
                return -1;
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        tok_env_free(&env);
        return 0;
}

static struct imago_p11 *tok_open(const char *label)
{
        char uri[128];
        struct imago_p11 *p = NULL;

        tok_uri(uri, sizeof(uri), label, PIN);
        assert_int_equal(imago_p11_open(TOK_MODULE, uri, NULL, &p), IMAGO_OK);
        return p;
}

/* A fresh store file in the token dir's parent, with a fresh store in tok. */
static void fresh(struct imago_p11 *tok, const char *name)
{
        snprintf(path, sizeof(path), "%s/%s", env.dir, name);
        imago_store_decommission(path, tok, NULL); /* drop any store of an earlier test */
        assert_int_equal(imago_store_create(path, tok, NULL), IMAGO_OK);
}

static struct imago_store *sopen(struct imago_p11 *tok)
{
        struct imago_store *s = NULL;

        assert_int_equal(imago_store_open(path, tok, NULL, &s), IMAGO_OK);
        return s;
}

static void put_str(struct imago_store *s, const char *name, const char *v)
{
        assert_int_equal(
            imago_store_put(s, name, IMAGO_STORE_CONFIG, (const uint8_t *)v, strlen(v)), IMAGO_OK);
}

static void expect_str(struct imago_store *s, const char *name, const char *v)
{
        uint8_t buf[IMAGO_STORE_VALUE_MAX];
        size_t len = 0;

        assert_int_equal(imago_store_get(s, name, NULL, buf, sizeof(buf), &len), IMAGO_OK);
        assert_int_equal(len, strlen(v));
        assert_memory_equal(buf, v, len);
}

static void read_all(uint8_t **data, size_t *len)
{
        assert_int_equal(imago_file_read(path, 1 << 20, data, len), IMAGO_OK);
}

static void write_all(const uint8_t *data, size_t len)
{
        assert_int_equal(imago_file_write_atomic(path, data, len, 0600), IMAGO_OK);
}

static int open_err(struct imago_p11 *tok)
{
        struct imago_store *s = NULL;
        int r = imago_store_open(path, tok, NULL, &s);

        if (r == IMAGO_OK)
                imago_store_close(s);
        else
                assert_null(s);
        return r;
}

static void test_round_trip(void **state)
{
        struct imago_p11 *tok = tok_open("dev1");
        struct imago_store *s;
        char name[IMAGO_STORE_NAME_MAX + 1];
        uint8_t type = 0, small[4];
        size_t len = 0;

        (void)state;
        fresh(tok, "rt.store");
        assert_int_equal(imago_store_create(path, tok, NULL), IMAGO_EEXIST);
        s = sopen(tok);
        assert_int_equal(imago_store_count(s), 0);
        assert_int_equal(imago_store_seq(s), 1);
        assert_int_equal(
            imago_store_put(s, "wifi.psk", IMAGO_STORE_WIFI, (const uint8_t *)"hunter22", 8),
            IMAGO_OK);
        put_str(s, "cloud.url", "mqtts://example.net");
        put_str(s, "zz", "");
        put_str(s, "cloud.url", "mqtts://example.org:8883");
        assert_int_equal(imago_store_count(s), 3);
        assert_int_equal(imago_store_entry(s, 0, name, &type, &len), IMAGO_OK);
        assert_string_equal(name, "cloud.url");
        assert_int_equal(imago_store_entry(s, 1, name, &type, &len), IMAGO_OK);
        assert_string_equal(name, "wifi.psk");
        assert_int_equal(type, IMAGO_STORE_WIFI);
        assert_int_equal(len, 8);
        assert_int_equal(imago_store_get(s, "wifi.psk", &type, small, sizeof(small), &len),
                         IMAGO_ETOOBIG);
        assert_int_equal(len, 8);
        assert_int_equal(imago_store_get(s, "nope", NULL, small, sizeof(small), &len),
                         IMAGO_ENOTFOUND);
        assert_int_equal(imago_store_delete(s, "nope"), IMAGO_ENOTFOUND);
        assert_int_equal(imago_store_delete(s, "zz"), IMAGO_OK);
        assert_int_equal(imago_store_put(s, "bad name", 1, small, 1), IMAGO_EINVAL);
        assert_int_equal(imago_store_put(s, "", 1, small, 1), IMAGO_EINVAL);
        assert_int_equal(imago_store_put(s, "x", 9, small, 1), IMAGO_EINVAL);
        assert_int_equal(imago_store_seq(s), 6);
        imago_store_close(s);

        s = sopen(tok);
        assert_int_equal(imago_store_seq(s), 6);
        assert_int_equal(imago_store_count(s), 2);
        expect_str(s, "wifi.psk", "hunter22");
        expect_str(s, "cloud.url", "mqtts://example.org:8883");
        imago_store_close(s);
        imago_p11_close(tok);
}

static void test_oversized_record(void **state)
{
        static uint8_t big[IMAGO_STORE_VALUE_MAX + 1];
        struct imago_p11 *tok = tok_open("dev1");
        struct imago_store *s;

        (void)state;
        fresh(tok, "big.store");
        s = sopen(tok);
        assert_int_equal(imago_store_put(s, "cert", IMAGO_STORE_CERT, big, sizeof(big)),
                         IMAGO_ESTORE_RECORD_SIZE);
        assert_int_equal(imago_store_put(s, "cert", IMAGO_STORE_CERT, big, sizeof(big) - 1),
                         IMAGO_OK);
        imago_store_close(s);
        s = sopen(tok);
        assert_int_equal(imago_store_count(s), 1);
        imago_store_close(s);
        imago_p11_close(tok);
}

static void test_too_many_records(void **state)
{
        static uint8_t big[IMAGO_STORE_VALUE_MAX];
        struct imago_p11 *tok = tok_open("dev1");
        struct imago_store *s;
        char name[16];
        int i;

        (void)state;
        fresh(tok, "many.store");
        s = sopen(tok);
        for (i = 0; i < IMAGO_STORE_RECORDS_MAX; i++) {
                snprintf(name, sizeof(name), "r%02d", i);
                put_str(s, name, "v");
        }
        assert_int_equal(imago_store_put(s, "one-more", 1, big, 1), IMAGO_ESTORE_FULL);
        put_str(s, "r00", "replacing is fine"); /* still usable */
        imago_store_close(s);
        s = sopen(tok);
        assert_int_equal(imago_store_count(s), IMAGO_STORE_RECORDS_MAX);
        expect_str(s, "r00", "replacing is fine");
        for (i = 0; i < IMAGO_STORE_RECORDS_MAX; i++) {
                snprintf(name, sizeof(name), "r%02d", i);
                assert_int_equal(imago_store_delete(s, name), IMAGO_OK);
        }
        /* total size bound: 7 full records fit, the 8th does not */
        for (i = 0; i < 8; i++) {
                snprintf(name, sizeof(name), "cert%d", i);
                assert_int_equal(imago_store_put(s, name, IMAGO_STORE_CERT, big, sizeof(big)),
                                 i < 7 ? IMAGO_OK : IMAGO_ESTORE_FULL);
        }
        imago_store_close(s);
        imago_p11_close(tok);
}

static void test_tampered_byte(void **state)
{
        struct imago_p11 *tok = tok_open("dev1");
        struct imago_store *s;
        uint8_t *data;
        size_t len, cur,
            offs[] = {IMAGO_STORE_HDR_LEN + 3, 16 /* seq */, 40 /* iv */,
                      IMAGO_STORE_HDR_LEN + 40 /* tag */};

        (void)state;
        fresh(tok, "tamper.store");
        s = sopen(tok);
        put_str(s, "token", "secret-token-value"); /* seq 2 in region A */
        cur = imago_store_seq(s) % 2 == 0 ? 0 : IMAGO_STORE_REGION_SIZE;
        imago_store_close(s);
        read_all(&data, &len);
        for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
                data[cur + offs[i]] ^= 0x01;
                write_all(data, len);
                assert_int_equal(open_err(tok), IMAGO_ESTORE_AUTH);
                data[cur + offs[i]] ^= 0x01;
        }
        /* damage in the older copy does not matter */
        data[(IMAGO_STORE_REGION_SIZE - cur) + IMAGO_STORE_HDR_LEN] ^= 0x01;
        write_all(data, len);
        s = sopen(tok);
        expect_str(s, "token", "secret-token-value");
        put_str(s, "after", "usable"); /* rewrites the damaged older copy */
        imago_store_close(s);
        s = sopen(tok);
        expect_str(s, "after", "usable");
        imago_store_close(s);
        imago_file_free(data, len);
        imago_p11_close(tok);
}

static void test_truncated_file(void **state)
{
        struct imago_p11 *tok = tok_open("dev1");
        uint8_t *data;
        size_t len;

        (void)state;
        fresh(tok, "trunc.store");
        read_all(&data, &len);
        write_all(data, len - 1);
        assert_int_equal(open_err(tok), IMAGO_ETRUNC);
        write_all(data, 0);
        assert_int_equal(open_err(tok), IMAGO_ETRUNC);
        write_all(data, len);
        assert_int_equal(open_err(tok), IMAGO_OK);
        imago_file_free(data, len);
        imago_p11_close(tok);
}

static void test_wrong_token_and_wrong_pin(void **state)
{
        struct imago_p11 *tok = tok_open("dev1"), *blank = tok_open("blank"), *p = NULL;

        (void)state;
        fresh(tok, "wt.store");
        assert_int_equal(open_err(blank), IMAGO_ESTORE_NOKEY);
        assert_int_equal(imago_p11_open(TOK_MODULE, "pkcs11:token=dev1?pin-value=9999", NULL, &p),
                         IMAGO_EP11_PIN);
        assert_int_equal(open_err(tok), IMAGO_OK); /* unaffected */
        imago_p11_close(blank);
        imago_p11_close(tok);
}

static void test_store_from_another_device(void **state)
{
        struct imago_p11 *d1 = tok_open("dev1"), *d2 = tok_open("dev2");
        char p1[256];
        struct imago_store *s;

        (void)state;
        fresh(d1, "dev1.store");
        snprintf(p1, sizeof(p1), "%s", path);
        fresh(d2, "dev2.store");
        s = sopen(d2);
        put_str(s, "wifi", "device two");
        imago_store_close(s);
        snprintf(path, sizeof(path), "%s", p1);
        assert_int_equal(open_err(d2), IMAGO_ESTORE_DEVICE);
        assert_int_equal(open_err(d1), IMAGO_OK);
        imago_p11_close(d1);
        imago_p11_close(d2);
}

static void test_rolled_back_file(void **state)
{
        struct imago_p11 *tok = tok_open("dev1");
        struct imago_store *s;
        uint8_t *old, *cur;
        size_t old_len, cur_len, newest;

        (void)state;
        fresh(tok, "rb.store");
        s = sopen(tok);
        put_str(s, "wifi", "old password");
        imago_store_close(s);
        read_all(&old, &old_len);
        s = sopen(tok);
        put_str(s, "wifi", "new password");
        imago_store_close(s);
        read_all(&cur, &cur_len);
        write_all(old, old_len);
        assert_int_equal(open_err(tok), IMAGO_ESTORE_ROLLBACK);
        /* an old file restored after further updates */
        write_all(cur, cur_len);
        s = sopen(tok);
        put_str(s, "more", "x");
        put_str(s, "more", "y");
        imago_store_close(s);
        write_all(cur, cur_len);
        assert_int_equal(open_err(tok), IMAGO_ESTORE_ROLLBACK);
        /* the newest copy erased: the older one alone is a rollback too */
        imago_file_free(cur, cur_len);
        fresh(tok, "rb2.store");
        s = sopen(tok);
        put_str(s, "more", "z");
        newest = imago_store_seq(s) % 2 == 0 ? 0 : IMAGO_STORE_REGION_SIZE;
        imago_store_close(s);
        read_all(&cur, &cur_len);
        memset(cur + newest, 0, IMAGO_STORE_REGION_SIZE);
        write_all(cur, cur_len);
        assert_int_equal(open_err(tok), IMAGO_ESTORE_ROLLBACK);
        imago_file_free(old, old_len);
        imago_file_free(cur, cur_len);
        imago_p11_close(tok);
}

static void test_decommission(void **state)
{
        struct imago_p11 *tok = tok_open("dev1");
        struct imago_store *s;
        uint8_t *saved;
        size_t saved_len;

        (void)state;
        fresh(tok, "decom.store");
        s = sopen(tok);
        put_str(s, "wifi", "psk");
        imago_store_close(s);
        read_all(&saved, &saved_len);
        assert_int_equal(imago_store_decommission(path, tok, NULL), IMAGO_OK);
        assert_int_equal(open_err(tok), IMAGO_ESTORE_ERASED);
        write_all(saved, saved_len); /* a copy taken before: its key is gone */
        assert_int_equal(open_err(tok), IMAGO_ESTORE_NOKEY);
        /* the token can hold a new store afterwards */
        assert_int_equal(imago_store_create(path, tok, NULL), IMAGO_OK);
        s = sopen(tok);
        assert_int_equal(imago_store_count(s), 0);
        imago_store_close(s);
        imago_file_free(saved, saved_len);
        imago_p11_close(tok);
}

/*
 * tests/vectors/store/NAME.vec: malformed store files as data.  Each file has
 * lines "expect <IMAGO_E name>", "size <bytes>" and "at <offset> <hex>"
 * patched into a zero file of that size.
 */
static void apply_vector(const char *vec, uint8_t **out, size_t *out_len, int *expect)
{
        char vpath[512], line[512];
        uint8_t *buf = NULL;
        size_t size = 0;
        FILE *f;

        snprintf(vpath, sizeof(vpath), "%s/tests/vectors/store/%s", IMAGO_SOURCE_DIR, vec);
        f = fopen(vpath, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f) != NULL) {
                char word[64], arg[400];
                unsigned long off;

                if (line[0] == '#' || line[0] == '\n')
                        continue;
                if (sscanf(line, "expect %63s", word) == 1) {
                        assert_int_equal(imago_err_from_name(word, expect), IMAGO_OK);
                } else if (sscanf(line, "size %lu", &off) == 1) {
                        size = off;
                        buf = calloc(1, size + 1);
                        assert_non_null(buf);
                } else if (sscanf(line, "at %lu %399s", &off, arg) == 2) {
                        size_t n = strlen(arg) / 2;

                        assert_non_null(buf);
                        assert_true(off + n <= size);
                        for (size_t i = 0; i < n; i++) {
                                unsigned v;

                                assert_int_equal(sscanf(arg + 2 * i, "%2x", &v), 1);
                                buf[off + i] = (uint8_t)v;
                        }
                } else {
                        fail_msg("%s: bad line %s", vec, line);
                }
        }
        fclose(f);
        *out = buf;
        *out_len = size;
}

static void test_malformed_files(void **state)
{
        static const char *const vecs[] = {
            "bad-magic.vec", "bad-version.vec", "bad-hdr-len.vec",  "bad-flags.vec",
            "seq-zero.vec",  "ct-len-past.vec", "reserved.vec",     "short.vec",
            "too-long.vec",  "all-zero.vec",    "other-device.vec",
        };
        struct imago_p11 *tok = tok_open("dev1");

        (void)state;
        fresh(tok, "vec.store");
        for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
                uint8_t *buf;
                size_t len;
                int expect = 1;

                apply_vector(vecs[i], &buf, &len, &expect);
                write_all(buf, len);
                if (open_err(tok) != expect)
                        fail_msg("%s: got %s want %s", vecs[i], imago_errname(open_err(tok)),
                                 imago_errname(expect));
                free(buf);
        }
        imago_p11_close(tok);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_round_trip),
            cmocka_unit_test(test_oversized_record),
            cmocka_unit_test(test_too_many_records),
            cmocka_unit_test(test_tampered_byte),
            cmocka_unit_test(test_truncated_file),
            cmocka_unit_test(test_wrong_token_and_wrong_pin),
            cmocka_unit_test(test_store_from_another_device),
            cmocka_unit_test(test_rolled_back_file),
            cmocka_unit_test(test_decommission),
            cmocka_unit_test(test_malformed_files),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
