/* Unit tests of src/crypto/p11 against real SoftHSM2 tokens. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "crypto/p11/p11.h"
#include "crypto/p11/p11_priv.h"

#include "test_p11_util.h"

#define PIN "1234"

static struct tok_env env;

static int setup(void **state)
{
        (void)state;
        if (tok_env_init(&env) != 0 || tok_add(&env, "t1", PIN) != 0 ||
            tok_add(&env, "t2", PIN) != 0)
                return -1;
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        tok_env_free(&env);
        return 0;
}

static struct imago_p11 *open_tok(const char *label)
{
        char uri[128];
        struct imago_p11 *p = NULL;

        tok_uri(uri, sizeof(uri), label, PIN);
        assert_int_equal(imago_p11_open(TOK_MODULE, uri, NULL, &p), IMAGO_OK);
        return p;
}

static int parse(const char *s, struct imago_p11_uri *u)
{
        return imago_p11_uri_parse(u, s, strlen(s));
}

static void test_uri_parses_all_attributes(void **state)
{
        struct imago_p11_uri u;

        (void)state;
        assert_int_equal(parse("pkcs11:token=My%20Token;manufacturer=SoftHSM%20project;"
                               "serial=abc123;model=SoftHSM%20v2;object=dev;id=%01%02%ff;"
                               "type=private?pin-value=1234&module-path=/usr/lib/x.so",
                               &u),
                         IMAGO_OK);
        assert_string_equal(u.token, "My Token");
        assert_string_equal(u.manufacturer, "SoftHSM project");
        assert_string_equal(u.serial, "abc123");
        assert_string_equal(u.model, "SoftHSM v2");
        assert_string_equal(u.object, "dev");
        assert_int_equal(u.id_len, 3);
        assert_int_equal(u.id[2], 0xff);
        assert_int_equal(u.type, IMAGO_P11_TYPE_PRIVATE);
        assert_string_equal(u.pin_value, "1234");
        assert_string_equal(u.module_path, "/usr/lib/x.so");
        assert_int_equal(parse("PKCS11:", &u), IMAGO_OK);
        assert_int_equal(u.has, 0);
        assert_int_equal(parse("pkcs11:?pin-source=file:/tmp/pin", &u), IMAGO_OK);
        assert_string_equal(u.pin_source, "file:/tmp/pin");
}

static void test_uri_rejects_malformed(void **state)
{
        static const char *const bad[] = {
            "",
            "pkcs11",
            "pkcs12:token=a",
            "pkcs11:token",
            "pkcs11:token=",
            "pkcs11:token=a;token=b",
            "pkcs11:unknown=a",
            "pkcs11:token=a;",
            "pkcs11:;token=a",
            "pkcs11:token=a?",
            "pkcs11:token=a?pin-value=1&pin-value=2",
            "pkcs11:token=a?pin-value=1&pin-source=/x",
            "pkcs11:pin-value=1234",
            "pkcs11:token=a?token=b",
            "pkcs11:token=%zz",
            "pkcs11:token=%4",
            "pkcs11:token=%",
            "pkcs11:token=a%00b",
            "pkcs11:token=a b",
            "pkcs11:token=a/b",
            "pkcs11:token=a\"b",
            "pkcs11:type=secret",
            "pkcs11:type=",
            "pkcs11:serial=12345678901234567",
            "pkcs11:token=123456789012345678901234567890123",
            "pkcs11:id=%01%02%03%04%05%06%07%08%09%0a%0b%0c%0d%0e%0f%10%11%12%13%14%15%16%17"
            "%18%19%1a%1b%1c%1d%1e%1f%20%21%22%23%24%25%26%27%28%29%2a%2b%2c%2d%2e%2f%30%31%32"
            "%33%34%35%36%37%38%39%3a%3b%3c%3d%3e%3f%40%41",
        };
        struct imago_p11_uri u;

        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                memset(&u, 0x5a, sizeof(u));
                if (parse(bad[i], &u) != IMAGO_EP11_URI)
                        fail_msg("accepted: %s", bad[i]);
                assert_int_equal(u.has, 0); /* wiped */
        }
        /* embedded NUL inside the length is not the end of the string */
        assert_int_equal(imago_p11_uri_parse(&u, "pkcs11:token=a\0b", 16), IMAGO_EP11_URI);
}

static void test_open_errors(void **state)
{
        struct imago_p11 *p = NULL;

        (void)state;
        assert_int_equal(
            imago_p11_open("/nonexistent/lib.so", "pkcs11:token=t1?pin-value=1234", NULL, &p),
            IMAGO_EP11_MODULE);
        assert_int_equal(imago_p11_open(TOK_MODULE, "pkcs11:token=nope?pin-value=1234", NULL, &p),
                         IMAGO_EP11_TOKEN);
        /* two tokens match an empty path: ambiguous */
        assert_int_equal(imago_p11_open(TOK_MODULE, "pkcs11:?pin-value=1234", NULL, &p),
                         IMAGO_EP11_TOKEN);
        assert_int_equal(imago_p11_open(TOK_MODULE, "pkcs11:token=t1", NULL, &p), IMAGO_EP11_PIN);
        assert_int_equal(imago_p11_open(TOK_MODULE, "pkcs11:token=t1;bogus=1", NULL, &p),
                         IMAGO_EP11_URI);
        assert_null(p);
}

static void test_wrong_pin(void **state)
{
        struct imago_p11 *p = NULL;

        (void)state;
        assert_int_equal(tok_add(&env, "pinned", PIN), 0);
        for (int i = 0; i < 3; i++)
                assert_int_equal(
                    imago_p11_open(TOK_MODULE, "pkcs11:token=pinned?pin-value=0000", NULL, &p),
                    IMAGO_EP11_PIN);
        assert_null(p);
        /* the right PIN still works: SoftHSM2 2.6 never locks a user PIN */
        assert_int_equal(imago_p11_open(TOK_MODULE, "pkcs11:token=pinned", PIN, &p), IMAGO_OK);
        imago_p11_close(p);
}

/* A locked PIN (which SoftHSM2 does not produce) maps to its own code. */
static void test_locked_pin_code(void **state)
{
        (void)state;
        assert_int_equal(imago_p11_rv(CKR_PIN_LOCKED), IMAGO_EP11_PIN_LOCKED);
        assert_int_equal(imago_p11_rv(CKR_PIN_INCORRECT), IMAGO_EP11_PIN);
        assert_int_equal(imago_p11_rv(CKR_OK), IMAGO_OK);
        assert_int_equal(imago_p11_rv(CKR_GENERAL_ERROR), IMAGO_EP11_FAIL);
}

static void test_pin_source_file(void **state)
{
        char path[200], uri[300];
        struct imago_p11 *p = NULL;
        FILE *f;

        (void)state;
        snprintf(path, sizeof(path), "%s/pin", env.dir);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(PIN "\n", f);
        fclose(f);
        snprintf(uri, sizeof(uri), "pkcs11:token=t1?pin-source=file:%s", path);
        assert_int_equal(imago_p11_open(TOK_MODULE, uri, NULL, &p), IMAGO_OK);
        imago_p11_close(p);
        unlink(path);
}

static void test_ec_sign_verifies(void **state)
{
        static const uint8_t id[] = {0xde, 0xad, 0x01};
        struct imago_p11 *p = open_tok("t1");
        struct imago_p11_key k, k2;
        struct imago_pubkey pub;
        uint8_t digest[32], sig[IMAGO_P11_ECDSA_DER_MAX];
        size_t sig_len = 0;

        (void)state;
        assert_int_equal(imago_p11_ec_generate(p, "device", id, sizeof(id), &k), IMAGO_OK);
        assert_int_equal(imago_p11_ec_generate(p, "device", id, sizeof(id), &k2),
                         IMAGO_EP11_EXISTS);
        assert_int_equal(imago_p11_ec_find(p, NULL, id, sizeof(id), &k2), IMAGO_OK);
        assert_int_equal(k2.priv, k.priv);
        assert_int_equal(imago_p11_ec_find(p, "other", NULL, 0, &k2), IMAGO_EP11_KEY);
        assert_int_equal(imago_p11_ec_pubkey(p, &k, &pub), IMAGO_OK);
        assert_int_equal(pub.type, IMAGO_KEY_P256);
        assert_int_equal(pub.spki_len, 91);
        assert_int_equal(imago_sha256("hello", 5, digest), IMAGO_OK);
        for (int i = 0; i < 8; i++) { /* different r, s lengths exercise the DER encoder */
                digest[0] = (uint8_t)i;
                assert_int_equal(imago_p11_ec_sign_digest(p, &k, digest, sig, &sig_len), IMAGO_OK);
                assert_int_equal(imago_sig_verify_digest(&pub, digest, sig, sig_len), IMAGO_OK);
                digest[1] ^= 1;
                assert_int_equal(imago_sig_verify_digest(&pub, digest, sig, sig_len),
                                 IMAGO_EIMG_SIG_BAD);
        }
        imago_p11_close(p);
}

static void test_private_key_not_extractable(void **state)
{
        static const uint8_t id[] = {0x42};
        struct imago_p11 *p = open_tok("t2");
        struct imago_p11_key k;
        unsigned long aes;
        uint8_t value[256];
        CK_BBOOL extractable = CK_TRUE, sensitive = CK_FALSE;
        CK_ATTRIBUTE flags[] = {
            {CKA_EXTRACTABLE, &extractable, sizeof(extractable)},
            {CKA_SENSITIVE, &sensitive, sizeof(sensitive)},
        };
        CK_ATTRIBUTE val = {CKA_VALUE, value, sizeof(value)};
        CK_OBJECT_HANDLE handles[2];

        (void)state;
        assert_int_equal(imago_p11_ec_generate(p, "id", id, sizeof(id), &k), IMAGO_OK);
        assert_int_equal(imago_p11_aes_generate(p, "aes", &aes), IMAGO_OK);
        handles[0] = k.priv;
        handles[1] = aes;
        for (int i = 0; i < 2; i++) {
                extractable = CK_TRUE;
                sensitive = CK_FALSE;
                assert_int_equal(p->f->C_GetAttributeValue(p->session, handles[i], flags, 2),
                                 CKR_OK);
                assert_int_equal(extractable, CK_FALSE);
                assert_int_equal(sensitive, CK_TRUE);
                val.ulValueLen = sizeof(value);
                assert_int_equal(p->f->C_GetAttributeValue(p->session, handles[i], &val, 1),
                                 CKR_ATTRIBUTE_SENSITIVE);
                assert_int_equal(val.ulValueLen, CK_UNAVAILABLE_INFORMATION);
                /* and it cannot be made extractable again */
                extractable = CK_TRUE;
                assert_int_not_equal(
                    p->f->C_SetAttributeValue(p->session, handles[i], &flags[0], 1), CKR_OK);
        }
        imago_p11_close(p);
}

static void test_gcm_round_trip_and_tamper(void **state)
{
        struct imago_p11 *p = open_tok("t1");
        static const uint8_t aad[] = "header";
        uint8_t iv[12], pt[100], ct[116], back[116];
        unsigned long key;

        (void)state;
        assert_int_equal(imago_p11_aes_generate(p, "store", &key), IMAGO_OK);
        assert_int_equal(imago_p11_aes_generate(p, "store", &key), IMAGO_EP11_EXISTS);
        assert_int_equal(imago_p11_aes_find(p, "store", &key), IMAGO_OK);
        assert_int_equal(imago_p11_aes_find(p, "nostore", &key), IMAGO_EP11_KEY);
        assert_int_equal(imago_p11_random(p, iv, sizeof(iv)), IMAGO_OK);
        memset(pt, 'A', sizeof(pt));
        assert_int_equal(imago_p11_gcm_encrypt(p, key, iv, aad, sizeof(aad), pt, sizeof(pt), ct),
                         IMAGO_OK);
        assert_memory_not_equal(ct, pt, sizeof(pt));
        assert_int_equal(imago_p11_gcm_decrypt(p, key, iv, aad, sizeof(aad), ct, sizeof(ct), back),
                         IMAGO_OK);
        assert_memory_equal(back, pt, sizeof(pt));
        ct[5] ^= 1;
        assert_int_equal(imago_p11_gcm_decrypt(p, key, iv, aad, sizeof(aad), ct, sizeof(ct), back),
                         IMAGO_EP11_DECRYPT);
        ct[5] ^= 1;
        assert_int_equal(
            imago_p11_gcm_decrypt(p, key, iv, aad, sizeof(aad) - 1, ct, sizeof(ct), back),
            IMAGO_EP11_DECRYPT);
        ct[sizeof(ct) - 1] ^= 0x80;
        assert_int_equal(imago_p11_gcm_decrypt(p, key, iv, aad, sizeof(aad), ct, sizeof(ct), back),
                         IMAGO_EP11_DECRYPT);
        /* the session still works after a failed decryption */
        ct[sizeof(ct) - 1] ^= 0x80;
        assert_int_equal(imago_p11_gcm_decrypt(p, key, iv, aad, sizeof(aad), ct, sizeof(ct), back),
                         IMAGO_OK);
        assert_int_equal(imago_p11_destroy(p, IMAGO_P11_TYPE_SECRET_KEY, "store"), IMAGO_OK);
        assert_int_equal(imago_p11_aes_find(p, "store", &key), IMAGO_EP11_KEY);
        imago_p11_close(p);
}

static void test_counter_only_increases(void **state)
{
        struct imago_p11 *p = open_tok("t1");
        uint64_t v = 99;

        (void)state;
        assert_int_equal(imago_p11_counter_read(p, "ctr", &v), IMAGO_EP11_KEY);
        assert_int_equal(imago_p11_counter_create(p, "ctr", 5), IMAGO_OK);
        assert_int_equal(imago_p11_counter_create(p, "ctr", 0), IMAGO_EP11_EXISTS);
        assert_int_equal(imago_p11_counter_read(p, "ctr", &v), IMAGO_OK);
        assert_int_equal(v, 5);
        assert_int_equal(imago_p11_counter_advance(p, "ctr", 7), IMAGO_OK);
        assert_int_equal(imago_p11_counter_advance(p, "ctr", 6), IMAGO_EPERM);
        assert_int_equal(imago_p11_counter_advance(p, "ctr", 7), IMAGO_OK);
        assert_int_equal(imago_p11_counter_read(p, "ctr", &v), IMAGO_OK);
        assert_int_equal(v, 7);
        for (uint64_t i = 8; i < 20; i++)
                assert_int_equal(imago_p11_counter_advance(p, "ctr", i), IMAGO_OK);
        assert_int_equal(imago_p11_counter_advance(p, "ctr", 7), IMAGO_EPERM);
        imago_p11_close(p);
        /* persists in the token across sessions */
        p = open_tok("t1");
        assert_int_equal(imago_p11_counter_read(p, "ctr", &v), IMAGO_OK);
        assert_int_equal(v, 19);
        assert_int_equal(imago_p11_destroy(p, IMAGO_P11_TYPE_DATA, "ctr"), IMAGO_OK);
        assert_int_equal(imago_p11_counter_read(p, "ctr", &v), IMAGO_EP11_KEY);
        imago_p11_close(p);
}

static void test_two_tokens_at_once(void **state)
{
        struct imago_p11 *a = open_tok("t1"), *b = open_tok("t2"), *c = NULL;
        uint8_t sa[16], sb[16];

        (void)state;
        imago_p11_token_serial(a, sa);
        imago_p11_token_serial(b, sb);
        assert_memory_not_equal(sa, sb, 16);
        /* t1 is logged in already: a second open must still check its PIN */
        assert_int_equal(imago_p11_open(TOK_MODULE, "pkcs11:token=t1?pin-value=4321", NULL, &c),
                         IMAGO_EP11_PIN);
        assert_null(c);
        assert_int_equal(imago_p11_open(TOK_MODULE, "pkcs11:token=t1?pin-value=" PIN, NULL, &c),
                         IMAGO_OK);
        imago_p11_close(c);
        imago_p11_close(a);
        assert_int_equal(imago_p11_random(b, sa, sizeof(sa)), IMAGO_OK);
        imago_p11_close(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_uri_parses_all_attributes),
            cmocka_unit_test(test_uri_rejects_malformed),
            cmocka_unit_test(test_open_errors),
            cmocka_unit_test(test_wrong_pin),
            cmocka_unit_test(test_locked_pin_code),
            cmocka_unit_test(test_pin_source_file),
            cmocka_unit_test(test_ec_sign_verifies),
            cmocka_unit_test(test_private_key_not_extractable),
            cmocka_unit_test(test_gcm_round_trip_and_tamper),
            cmocka_unit_test(test_counter_only_increases),
            cmocka_unit_test(test_two_tokens_at_once),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
