/*
 * imago_vreport: signed version reports and their ack.  One test per attack
 * (forged_version_report, version_report_of_another_key,
 * tampered_version_report, version_report_for_another_device,
 * oversized_version_report), round trips, and every case in
 * tests/vectors/vreport (<case>.json + <case>.expect naming the IMAGO_E code):
 * outer-* are whole messages, payload-* are payload texts the test signs with
 * a fresh P-256 key, ack-* are acks.  Keys are generated here; none is committed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_vectors.h"
#include "base/err.h"
#include "json/json.h"
#include "ota/vreport.h"

#include <openssl/evp.h>

#define ID    "0123456789abcdef0123456789abcdef"
#define OTHER "fedcba9876543210fedcba9876543210"
#define NONCE "00112233445566778899aabbccddeeff"
static const char tag[] = "imago-vreport-v1";

struct keys {
        struct imago_privkey priv, priv2, ed;
        struct imago_pubkey pub, pub2, edpub;
};

static int sign_cb(void *arg, const uint8_t digest[IMAGO_SHA256_LEN],
                   uint8_t sig[IMAGO_SIG_MAX_LEN], size_t *sig_len)
{
        return imago_privkey_sign_digest(arg, digest, sig, sig_len);
}

static int setup(void **state)
{
        struct keys *k = calloc(1, sizeof(*k));

        if (k == NULL || imago_privkey_generate(IMAGO_KEY_P256, &k->priv) != 0 ||
            imago_privkey_generate(IMAGO_KEY_P256, &k->priv2) != 0 ||
            imago_privkey_generate(IMAGO_KEY_ED25519, &k->ed) != 0 ||
            imago_privkey_public(&k->priv, &k->pub) != 0 ||
            imago_privkey_public(&k->priv2, &k->pub2) != 0 ||
            imago_privkey_public(&k->ed, &k->edpub) != 0)
                return -1;
        *state = k;
        return 0;
}

static int teardown(void **state)
{
        struct keys *k = *state;

        imago_privkey_free(&k->priv);
        imago_privkey_free(&k->priv2);
        imago_privkey_free(&k->ed);
        free(k);
        return 0;
}

static void sample(struct imago_vreport *r)
{
        memset(r, 0, sizeof(*r));
        memcpy(r->device, ID, sizeof(ID));
        memcpy(r->nonce, NONCE, sizeof(NONCE));
        r->counter = 7;
        r->time = 1800000000;
        memset(r->installed_sha256, 0xab, sizeof(r->installed_sha256));
        r->installed_length = 4096;
        memcpy(r->installed_version, "1.2.3", 6);
        r->installed_security_counter = 1;
        memcpy(r->hardware_id, "imago-sim", 10);
        r->state = IMAGO_OTA_DOWNLOADING;
        memcpy(r->target, "fw/app-1.2.4.bin", 17);
        r->rollout = 3;
        r->progress = 42;
}

/* The message the device would send for the payload text (signed by key). */
static char *wrap(const struct imago_privkey *key, const char *payload, size_t len)
{
        uint8_t digest[IMAGO_SHA256_LEN], sig[IMAGO_SIG_MAX_LEN];
        char b64[128], *out;
        size_t sig_len = 0;
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        unsigned int dl = 0;
        json_t *env;

        assert_non_null(c);
        assert_int_equal(EVP_DigestInit_ex(c, EVP_sha256(), NULL), 1);
        assert_int_equal(EVP_DigestUpdate(c, tag, sizeof(tag)), 1);
        assert_int_equal(EVP_DigestUpdate(c, payload, len), 1);
        assert_int_equal(EVP_DigestFinal_ex(c, digest, &dl), 1);
        EVP_MD_CTX_free(c);
        assert_int_equal(imago_privkey_sign_digest(key, digest, sig, &sig_len), IMAGO_OK);
        EVP_EncodeBlock((unsigned char *)b64, sig, (int)sig_len);
        env = json_pack("{s:i, s:s#, s:s}", "v", 1, "payload", payload, len, "sig", b64);
        assert_non_null(env);
        out = json_dumps(env, JSON_COMPACT);
        json_decref(env);
        return out;
}

static void test_round_trip(void **state)
{
        struct keys *k = *state;
        struct imago_vreport r, got;
        char *msg = NULL;
        size_t len = 0;

        sample(&r);
        assert_int_equal(imago_vreport_build(&r, sign_cb, &k->priv, &msg, &len), IMAGO_OK);
        assert_true(len == strlen(msg) && len <= IMAGO_VREPORT_MAX);
        assert_int_equal(imago_vreport_verify((uint8_t *)msg, len, &k->pub, ID, &got), IMAGO_OK);
        assert_memory_equal(&r, &got, sizeof(r));
        free(msg);

        /* Largest fields still fit the limit. */
        memset(r.target, 'a', IMAGO_VREPORT_TARGET_MAX);
        r.target[IMAGO_VREPORT_TARGET_MAX] = '\0';
        memset(r.hardware_id, 'Z', IMAGO_VREPORT_HWID_MAX);
        r.hardware_id[IMAGO_VREPORT_HWID_MAX] = '\0';
        memcpy(r.error, "IMAGO_EOTA_HEALTH", 18);
        r.state = IMAGO_OTA_FAILED;
        r.counter = UINT64_MAX;
        r.rollout = UINT64_MAX;
        r.installed_security_counter = UINT32_MAX;
        assert_int_equal(imago_vreport_build(&r, sign_cb, &k->priv, &msg, &len), IMAGO_OK);
        assert_int_equal(imago_vreport_verify((uint8_t *)msg, len, &k->pub, ID, &got), IMAGO_OK);
        assert_memory_equal(&r, &got, sizeof(r));
        free(msg);
}

static void test_forged_version_report(void **state)
{
        struct keys *k = *state;
        struct imago_vreport r, got;
        char *msg = NULL;
        size_t len = 0;

        sample(&r);
        assert_int_equal(imago_vreport_build(&r, sign_cb, &k->priv, &msg, &len), IMAGO_OK);
        /* Flip one base64 character of the signature. */
        char *s = strstr(msg, "\"sig\":\"") + 12;
        *s = *s == 'A' ? 'B' : 'A';
        assert_int_equal(imago_vreport_verify((uint8_t *)msg, len, &k->pub, ID, &got),
                         IMAGO_EOTA_REPORT);
        assert_string_equal(got.device, "");
        free(msg);
}

static void test_version_report_of_another_key(void **state)
{
        struct keys *k = *state;
        struct imago_vreport r, got;
        char *msg = NULL;
        size_t len = 0;

        sample(&r);
        assert_int_equal(imago_vreport_build(&r, sign_cb, &k->priv2, &msg, &len), IMAGO_OK);
        assert_int_equal(imago_vreport_verify((uint8_t *)msg, len, &k->pub, ID, &got),
                         IMAGO_EOTA_REPORT);
        /* An Ed25519 key is not a device key. */
        assert_int_equal(imago_vreport_verify((uint8_t *)msg, len, &k->edpub, ID, &got),
                         IMAGO_EINVAL);
        free(msg);
}

static void test_tampered_version_report(void **state)
{
        struct keys *k = *state;
        struct imago_vreport r, got;
        char *msg = NULL, *p;
        size_t len = 0;

        sample(&r);
        assert_int_equal(imago_vreport_build(&r, sign_cb, &k->priv, &msg, &len), IMAGO_OK);
        p = strstr(msg, "downloading");
        assert_non_null(p);
        memcpy(p, "installing ", 11); /* the same length, still valid JSON inside */
        assert_int_equal(imago_vreport_verify((uint8_t *)msg, len, &k->pub, ID, &got),
                         IMAGO_EOTA_REPORT);
        free(msg);
}

static void test_version_report_for_another_device(void **state)
{
        struct keys *k = *state;
        struct imago_vreport r, got;
        char *msg = NULL;
        size_t len = 0;

        sample(&r);
        assert_int_equal(imago_vreport_build(&r, sign_cb, &k->priv, &msg, &len), IMAGO_OK);
        assert_int_equal(imago_vreport_verify((uint8_t *)msg, len, &k->pub, OTHER, &got),
                         IMAGO_EOTA_REPORT);
        free(msg);
}

static void test_oversized_version_report(void **state)
{
        struct keys *k = *state;
        struct imago_vreport got;
        size_t n = IMAGO_VREPORT_MAX + 1;
        uint8_t *big = malloc(n);

        assert_non_null(big);
        memset(big, ' ', n);
        assert_int_equal(imago_vreport_verify(big, n, &k->pub, ID, &got), IMAGO_ETOOBIG);
        free(big);
}

static void test_build_refuses_bad_fields(void **state)
{
        struct keys *k = *state;
        struct imago_vreport r;
        char *msg = (char *)1;
        size_t len = 0;

        sample(&r);
        r.state = IMAGO_OTA_QUEUED;
        assert_int_equal(imago_vreport_build(&r, sign_cb, &k->priv, &msg, &len), IMAGO_EINVAL);
        assert_null(msg);
        sample(&r);
        r.counter = 0;
        assert_int_equal(imago_vreport_build(&r, sign_cb, &k->priv, &msg, &len), IMAGO_EINVAL);
        sample(&r);
        r.progress = 101;
        assert_int_equal(imago_vreport_build(&r, sign_cb, &k->priv, &msg, &len), IMAGO_EINVAL);
        sample(&r);
        memcpy(r.target, "a/../b", 7);
        assert_int_equal(imago_vreport_build(&r, sign_cb, &k->priv, &msg, &len), IMAGO_EINVAL);
        sample(&r);
        memcpy(r.error, "IMAGO_ENOPE", 12);
        assert_int_equal(imago_vreport_build(&r, sign_cb, &k->priv, &msg, &len), IMAGO_EINVAL);
        sample(&r);
        memcpy(r.installed_version, "1.2", 4);
        assert_int_equal(imago_vreport_build(&r, sign_cb, &k->priv, &msg, &len), IMAGO_EINVAL);
        sample(&r);
        assert_int_equal(imago_vreport_build(&r, NULL, &k->priv, &msg, &len), IMAGO_EINVAL);
}

static void test_state_names(void **state)
{
        enum imago_vreport_state s;

        (void)state;
        for (int i = IMAGO_OTA_IDLE; i <= IMAGO_OTA_REVERTED; i++) {
                const char *n = imago_vreport_state_name((enum imago_vreport_state)i);
                assert_non_null(n);
                assert_int_equal(imago_vreport_state_from_name(n, &s), 0);
                assert_int_equal((int)s, i);
        }
        assert_null(imago_vreport_state_name((enum imago_vreport_state)8));
        assert_int_equal(imago_vreport_state_from_name("nope", &s), IMAGO_ENOTFOUND);
}

static void test_ack_round_trip(void **state)
{
        char nonce[33], *msg = NULL;
        size_t len = 0;
        int res = 1;

        (void)state;
        assert_int_equal(imago_vreport_ack_build(NONCE, 0, &msg, &len), 0);
        assert_int_equal(imago_vreport_ack_parse((uint8_t *)msg, len, nonce, &res), 0);
        assert_string_equal(nonce, NONCE);
        assert_int_equal(res, 0);
        free(msg);
        assert_int_equal(imago_vreport_ack_build(NONCE, IMAGO_EOTA_REPLAY, &msg, &len), 0);
        assert_int_equal(imago_vreport_ack_parse((uint8_t *)msg, len, nonce, &res), 0);
        assert_int_equal(res, IMAGO_EOTA_REPLAY);
        free(msg);
        assert_int_equal(imago_vreport_ack_build(NONCE, -123456, &msg, &len), IMAGO_EINVAL);
        assert_int_equal(imago_vreport_ack_build("00", 0, &msg, &len), IMAGO_EINVAL);
}

static void vreport_case(const char *file, const uint8_t *data, size_t len, int want, void *arg)
{
        struct keys *k = arg;
        struct imago_vreport r;
        char *env = NULL, nonce[33];
        int got, res;

        if (strncmp(file, "outer-", 6) == 0) {
                got = imago_vreport_verify(data, len, &k->pub, ID, &r);
        } else if (strncmp(file, "payload-", 8) == 0) {
                env = wrap(&k->priv, (const char *)data, len);
                got = imago_vreport_verify((const uint8_t *)env, strlen(env), &k->pub, ID, &r);
                if (got == IMAGO_OK) {
                        /* What verify accepts, build writes again byte for byte. */
                        char *again = NULL;
                        size_t alen = 0;
                        json_t *env2;
                        struct imago_vreport r2;
                        assert_int_equal(imago_vreport_build(&r, sign_cb, &k->priv, &again, &alen),
                                         IMAGO_OK);
                        assert_int_equal(
                            imago_vreport_verify((uint8_t *)again, alen, &k->pub, ID, &r2), 0);
                        assert_memory_equal(&r, &r2, sizeof(r));
                        env2 = json_loads(again, 0, NULL);
                        assert_non_null(env2);
                        assert_string_equal(json_string_value(json_object_get(env2, "payload")),
                                            (const char *)data);
                        json_decref(env2);
                        free(again);
                }
        } else if (strncmp(file, "ack-", 4) == 0) {
                got = imago_vreport_ack_parse(data, len, nonce, &res);
        } else {
                fail_msg("%s: vector name must start with outer-, payload- or ack-", file);
                got = want;
        }
        if (got != want)
                fail_msg("%s: expected %s, got %s", file, imago_errname(want), imago_errname(got));
        free(env);
}

static void test_vectors(void **state)
{
        assert_true(test_vec_each(IMAGO_SOURCE_DIR "/tests/vectors/vreport", ".json", vreport_case,
                                  *state) >= 70);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_round_trip),
            cmocka_unit_test(test_forged_version_report),
            cmocka_unit_test(test_version_report_of_another_key),
            cmocka_unit_test(test_tampered_version_report),
            cmocka_unit_test(test_version_report_for_another_device),
            cmocka_unit_test(test_oversized_version_report),
            cmocka_unit_test(test_build_refuses_bad_fields),
            cmocka_unit_test(test_state_names),
            cmocka_unit_test(test_ack_round_trip),
            cmocka_unit_test(test_vectors),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
