/*
 * No plaintext anywhere: write known secrets (and their record names) into
 * the store with debug logging captured, then search the raw store file,
 * every file under the token directory, and the captured log for them, in
 * the clear, hex-encoded and as UTF-16LE.  The PIN is searched too.
 */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <ftw.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "device/store/store.h"

#include "test_p11_util.h"

#define PIN "73519046"

static const char *const secrets[] = {
    "correct-horse-battery-staple-XYZ", /* Wi-Fi PSK */
    "eyJhbGciOiJFUzI1NiJ9.cloud-token-7f3a9c",
    /* A PEM-looking secret (not a key), split so no tracked file looks like one. */
    ("-----BEGIN PRIV"
     "ATE KEY-----MIGHAgEAMBMG"),
    "wifi.home.psk", /* record names are secret too */
    PIN,
};

static char logbuf[1 << 16];
static size_t loglen;
static struct tok_env env;
static int files_seen;

static void sink(enum imago_log_level level, const char *line, void *arg)
{
        size_t n = strlen(line);

        (void)level;
        (void)arg;
        if (n > sizeof(logbuf) - loglen)
                n = sizeof(logbuf) - loglen;
        memcpy(logbuf + loglen, line, n);
        loglen += n;
}

static int contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
        if (m == 0 || m > n)
                return 0;
        for (size_t i = 0; i + m <= n; i++) {
                if (hay[i] == needle[0] && memcmp(hay + i, needle, m) == 0)
                        return 1;
        }
        return 0;
}

/* The secret, its hex form and UTF-16LE form in buf; fail_msg names where. */
static void search(const uint8_t *buf, size_t n, const char *where)
{
        for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
                const char *s = secrets[i];
                size_t m = strlen(s);
                uint8_t hex[200], wide[200];

                for (size_t k = 0; k < m && 2 * k + 1 < sizeof(hex); k++) {
                        static const char digits[] = "0123456789abcdef";

                        hex[2 * k] = (uint8_t)digits[(uint8_t)s[k] >> 4];
                        hex[2 * k + 1] = (uint8_t)digits[(uint8_t)s[k] & 15];
                        wide[2 * k] = (uint8_t)s[k];
                        wide[2 * k + 1] = 0;
                }
                if (contains(buf, n, (const uint8_t *)s, m) || contains(buf, n, hex, 2 * m) ||
                    contains(buf, n, wide, 2 * m))
                        fail_msg("secret %zu found in %s", i, where);
        }
}

static int visit(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
        uint8_t *data = NULL;
        size_t len = 0;

        (void)sb;
        (void)ftw;
        if (type != FTW_F)
                return 0;
        assert_int_equal(imago_file_read(fpath, 1 << 24, &data, &len), IMAGO_OK);
        search(data, len, fpath);
        imago_file_free(data, len);
        files_seen++;
        return 0;
}

static void test_no_plaintext_in_file_token_or_log(void **state)
{
        struct imago_p11 *tok = NULL, *other = NULL;
        struct imago_store *s = NULL;
        char uri[128], path[256];
        uint8_t buf[256];
        size_t len;

        (void)state;
        /* the search itself finds what it looks for */
        assert_true(
            contains((const uint8_t *)"xxcorrect-horse", 15, (const uint8_t *)"correct-horse", 13));
        imago_log_set_level(IMAGO_LOG_DEBUG);
        imago_log_set_sink(sink, NULL);
        tok_uri(uri, sizeof(uri), "dev", PIN);
        assert_int_equal(imago_p11_open(TOK_MODULE, uri, NULL, &tok), IMAGO_OK);
        snprintf(path, sizeof(path), "%s/device.store", env.dir);
        assert_int_equal(imago_store_create(path, tok, NULL), IMAGO_OK);
        assert_int_equal(imago_store_open(path, tok, NULL, &s), IMAGO_OK);
        for (size_t i = 0; i < 3; i++) {
                char name[32];

                snprintf(name, sizeof(name), i == 0 ? "wifi.home.psk" : "secret%zu", i);
                assert_int_equal(imago_store_put(s, name, IMAGO_STORE_TOKEN,
                                                 (const uint8_t *)secrets[i], strlen(secrets[i])),
                                 IMAGO_OK);
        }
        /* error paths log too: exercise some */
        assert_int_equal(imago_store_get(s, "wifi.home.psk", NULL, buf, 4, &len), IMAGO_ETOOBIG);
        assert_int_equal(imago_store_put(s, "wifi.home.psk", 99, buf, 1), IMAGO_EINVAL);
        imago_store_close(s);
        assert_int_equal(
            imago_p11_open(TOK_MODULE, "pkcs11:token=dev?pin-value=00000000", NULL, &other),
            IMAGO_EP11_PIN);
        assert_int_equal(imago_store_open(path, tok, NULL, &s), IMAGO_OK);
        assert_int_equal(imago_store_get(s, "wifi.home.psk", NULL, buf, sizeof(buf), &len),
                         IMAGO_OK);
        assert_memory_equal(buf, secrets[0], len);
        imago_store_close(s);
        imago_p11_close(tok);
        imago_log_set_sink(NULL, NULL);

        /* the store file and every token file */
        assert_int_equal(nftw(env.dir, visit, 16, FTW_PHYS), 0);
        assert_true(files_seen >= 3); /* conf, store, token objects */
        search((const uint8_t *)logbuf, loglen, "the log");
        assert_true(contains((const uint8_t *)logbuf, loglen, (const uint8_t *)"wrong PIN", 9));
}

static int setup(void **state)
{
        (void)state;
        return tok_env_init(&env) == 0 && tok_add(&env, "dev", PIN) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        tok_env_free(&env);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_no_plaintext_in_file_token_or_log),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
