/*
 * imago_cmdenv: signed command envelopes and results.  One test per attack
 * (forged_command, replayed_command, expired_command, command_for_another_device,
 * signature_of_another_key, tampered_args, oversized_args), round trips, and
 * every case in tests/vectors/cmdenv (<case>.json + <case>.expect naming the
 * IMAGO_E code): outer-* are whole envelopes, payload-* are payload texts the
 * test signs with a fresh key, result-* are result messages.  Keys are
 * generated here; none is committed.
 */
#include <dirent.h>
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
#include "base/file.h"
#include "cmdenv/cmdenv.h"

#define ID    "0123456789abcdef0123456789abcdef"
#define OTHER "fedcba9876543210fedcba9876543210"
#define NOW   1800000000
#define SKEW  60

struct keys {
        struct imago_privkey priv, priv2;
        struct imago_pubkey pub, pub2;
};

static int setup(void **state)
{
        struct keys *k = calloc(1, sizeof(*k));

        if (k == NULL || imago_privkey_generate(IMAGO_KEY_ED25519, &k->priv) != 0 ||
            imago_privkey_generate(IMAGO_KEY_ED25519, &k->priv2) != 0 ||
            imago_privkey_public(&k->priv, &k->pub) != 0 ||
            imago_privkey_public(&k->priv2, &k->pub2) != 0)
                return -1;
        *state = k;
        return 0;
}

static int teardown(void **state)
{
        struct keys *k = *state;

        imago_privkey_free(&k->priv);
        imago_privkey_free(&k->priv2);
        free(k);
        return 0;
}

static char *build(struct keys *k, const char *dev, uint64_t seq, int64_t iat, int64_t exp,
                   const char *args_text)
{
        json_t *args = args_text ? json_loads(args_text, 0, NULL) : NULL;
        char *out = NULL;

        assert_int_equal(imago_cmdenv_build(&k->priv, dev, seq, iat, exp, "reboot", args, &out),
                         IMAGO_OK);
        json_decref(args);
        return out;
}

static int verify(struct keys *k, const char *env, uint64_t last, int64_t now)
{
        struct imago_cmdenv c;
        int r = imago_cmdenv_verify((const uint8_t *)env, strlen(env), &k->pub, ID, last, now, SKEW,
                                    &c);

        if (r != 0) {
                assert_null(c.root);
                assert_null(c.args);
        }
        imago_cmdenv_release(&c);
        return r;
}

static void test_round_trip(void **state)
{
        struct keys *k = *state;
        char *env = build(k, ID, 42, NOW, NOW + 300, "{\"delay\":5,\"msg\":\"h\\u00e9\"}");
        struct imago_cmdenv c;

        assert_int_equal(
            imago_cmdenv_verify((const uint8_t *)env, strlen(env), &k->pub, ID, 41, NOW, SKEW, &c),
            IMAGO_OK);
        assert_string_equal(c.device, ID);
        assert_true(c.seq == 42);
        assert_int_equal(c.iat, NOW);
        assert_int_equal(c.exp, NOW + 300);
        assert_string_equal(c.name, "reboot");
        assert_int_equal(json_integer_value(json_object_get(c.args, "delay")), 5);
        imago_cmdenv_release(&c);
        imago_cmdenv_release(&c); /* twice is harmless */
        free(env);

        /* The largest sequence number round-trips exactly. */
        env = build(k, ID, UINT64_MAX, NOW, NOW + 1, NULL);
        assert_int_equal(imago_cmdenv_verify((const uint8_t *)env, strlen(env), &k->pub, ID,
                                             UINT64_MAX - 1, NOW, 0, &c),
                         IMAGO_OK);
        assert_true(c.seq == UINT64_MAX);
        assert_int_equal(json_object_size(c.args), 0);
        imago_cmdenv_release(&c);
        free(env);
}

static void test_forged_command(void **state)
{
        struct keys *k = *state;
        char sig[129];
        char *env;

        /* A well-formed envelope whose signature is made up. */
        memset(sig, 'a', 128);
        sig[128] = '\0';
        env = build(k, ID, 1, NOW, NOW + 300, NULL);
        memcpy(strstr(env, "\"sig\":\"") + 7, sig, 128);
        assert_int_equal(verify(k, env, 0, NOW), IMAGO_ECMD_SIG);
        free(env);
}

static void test_signature_of_another_key(void **state)
{
        struct keys *k = *state;
        json_t *args = json_object();
        char *env = NULL;

        assert_int_equal(imago_cmdenv_build(&k->priv2, ID, 1, NOW, NOW + 300, "wipe", args, &env),
                         IMAGO_OK);
        assert_int_equal(verify(k, env, 0, NOW), IMAGO_ECMD_SIG);
        json_decref(args);
        free(env);
}

static void test_tampered_args(void **state)
{
        struct keys *k = *state;
        char *env = build(k, ID, 1, NOW, NOW + 300, "{\"delay\":5}");
        char *p = strstr(env, "delay");

        /* Every byte of the payload, changed, breaks the signature (or the format). */
        assert_non_null(p);
        p[strlen("delay\\\":")] = '9';
        assert_int_equal(verify(k, env, 0, NOW), IMAGO_ECMD_SIG);
        free(env);

        env = build(k, ID, 1, NOW, NOW + 300, "{\"delay\":5}");
        {
                size_t i, n = strlen(env);
                for (i = 0; i < n; i++) {
                        char save = env[i];
                        int r;
                        env[i] = save == 'x' ? 'y' : 'x';
                        r = verify(k, env, 0, NOW);
                        assert_int_not_equal(r, IMAGO_OK);
                        env[i] = save;
                }
        }
        assert_int_equal(verify(k, env, 0, NOW), IMAGO_OK);
        free(env);
}

static void test_replayed_command(void **state)
{
        struct keys *k = *state;
        char *env = build(k, ID, 5, NOW, NOW + 300, NULL);

        assert_int_equal(verify(k, env, 4, NOW), IMAGO_OK);
        /* The device persisted 5: the same envelope again, and an older one, are refused. */
        assert_int_equal(verify(k, env, 5, NOW), IMAGO_ECMD_REPLAY);
        assert_int_equal(verify(k, env, 6, NOW), IMAGO_ECMD_REPLAY);
        assert_int_equal(verify(k, env, UINT64_MAX, NOW), IMAGO_ECMD_REPLAY);
        free(env);
}

static void test_expired_command(void **state)
{
        struct keys *k = *state;
        char *env = build(k, ID, 1, NOW, NOW + 300, NULL);

        assert_int_equal(verify(k, env, 0, NOW + 300 + SKEW), IMAGO_OK);
        assert_int_equal(verify(k, env, 0, NOW + 300 + SKEW + 1), IMAGO_ECMD_EXPIRED);
        assert_int_equal(verify(k, env, 0, NOW + 86400), IMAGO_ECMD_EXPIRED);
        /* Issued in the future (beyond the skew): not yet valid. */
        assert_int_equal(verify(k, env, 0, NOW - SKEW), IMAGO_OK);
        assert_int_equal(verify(k, env, 0, NOW - SKEW - 1), IMAGO_ECMD_NOTYET);
        free(env);
}

static void test_command_for_another_device(void **state)
{
        struct keys *k = *state;
        char *env = build(k, OTHER, 1, NOW, NOW + 300, NULL);

        assert_int_equal(verify(k, env, 0, NOW), IMAGO_ECMD_DEVICE);
        free(env);
}

static void test_oversized_args(void **state)
{
        struct keys *k = *state;
        json_t *args = json_object();
        char *big = malloc(IMAGO_CMDENV_PAYLOAD_MAX + 1), *env = NULL;

        assert_non_null(big);
        memset(big, 'a', IMAGO_CMDENV_PAYLOAD_MAX);
        big[IMAGO_CMDENV_PAYLOAD_MAX] = '\0';
        json_object_set_new(args, "blob", json_string(big));
        /* The cloud refuses to sign it... */
        assert_int_equal(imago_cmdenv_build(&k->priv, ID, 1, NOW, NOW + 300, "reboot", args, &env),
                         IMAGO_ETOOBIG);
        assert_null(env);
        json_decref(args);
        free(big);
        /* ...and the device refuses one too big before reading it (vectors: outer-*too-big). */
        big = malloc(IMAGO_CMDENV_MAX + 2);
        assert_non_null(big);
        memset(big, ' ', IMAGO_CMDENV_MAX + 1);
        big[0] = '{';
        big[IMAGO_CMDENV_MAX] = '}';
        big[IMAGO_CMDENV_MAX + 1] = '\0';
        assert_int_equal(verify(k, big, 0, NOW), IMAGO_ETOOBIG);
        free(big);
}

static void test_bad_arguments(void **state)
{
        struct keys *k = *state;
        struct imago_pubkey p256;
        struct imago_privkey ec = {0};
        struct imago_cmdenv c;
        char *env = NULL;

        assert_int_equal(imago_cmdenv_build(&k->priv, ID, 0, NOW, NOW + 1, "a", NULL, &env),
                         IMAGO_EINVAL);
        assert_int_equal(imago_cmdenv_build(&k->priv, "x", 1, NOW, NOW + 1, "a", NULL, &env),
                         IMAGO_EINVAL);
        assert_int_equal(imago_cmdenv_build(&k->priv, ID, 1, NOW, NOW, "a", NULL, &env),
                         IMAGO_EINVAL);
        assert_int_equal(imago_cmdenv_build(&k->priv, ID, 1, NOW, NOW + IMAGO_CMDENV_MAX_LIFE + 1,
                                            "a", NULL, &env),
                         IMAGO_EINVAL);
        assert_int_equal(imago_cmdenv_build(&k->priv, ID, 1, NOW, NOW + 1, "A", NULL, &env),
                         IMAGO_EINVAL);
        assert_int_equal(imago_privkey_generate(IMAGO_KEY_P256, &ec), IMAGO_OK);
        assert_int_equal(imago_cmdenv_build(&ec, ID, 1, NOW, NOW + 1, "a", NULL, &env),
                         IMAGO_EKEY_TYPE);
        assert_int_equal(imago_privkey_public(&ec, &p256), IMAGO_OK);
        imago_privkey_free(&ec);
        env = build(k, ID, 1, NOW, NOW + 300, NULL);
        assert_int_equal(
            imago_cmdenv_verify((const uint8_t *)env, strlen(env), &p256, ID, 0, NOW, SKEW, &c),
            IMAGO_EKEY_TYPE);
        assert_int_equal(imago_cmdenv_verify((const uint8_t *)env, strlen(env), &k->pub, ID, 0, NOW,
                                             IMAGO_CMDENV_MAX_SKEW + 1, &c),
                         IMAGO_EINVAL);
        assert_int_equal(
            imago_cmdenv_verify((const uint8_t *)env, strlen(env), &k->pub, "x", 0, NOW, SKEW, &c),
            IMAGO_EINVAL);
        /* Clocks and times out of range (no overflow in the window arithmetic). */
        assert_int_equal(imago_cmdenv_verify((const uint8_t *)env, strlen(env), &k->pub, ID, 0,
                                             INT64_MAX, SKEW, &c),
                         IMAGO_EINVAL);
        free(env);
        env = NULL;
        assert_int_equal(imago_cmdenv_build(&k->priv, ID, 1, 0, INT64_MAX, "a", NULL, &env),
                         IMAGO_EINVAL);
        assert_null(env);
}

/* Sign payload text as the cloud would and wrap it in an envelope. */
static char *wrap(struct keys *k, const char *payload, size_t len)
{
        uint8_t digest[IMAGO_SHA256_LEN], sig[IMAGO_SIG_MAX_LEN];
        char hex[2 * IMAGO_SIG_MAX_LEN + 1], *out;
        size_t sig_len = 0;
        json_t *env;

        assert_int_equal(imago_cmdenv_digest(payload, len, digest), IMAGO_OK);
        assert_int_equal(imago_privkey_sign_digest(&k->priv, digest, sig, &sig_len), IMAGO_OK);
        imago_hex_encode(sig, sig_len, hex);
        env = json_pack("{s:i, s:s#, s:s}", "v", 1, "payload", payload, len, "sig", hex);
        assert_non_null(env);
        out = json_dumps(env, JSON_COMPACT);
        json_decref(env);
        return out;
}

static void cmdenv_case(const char *file, const uint8_t *data, size_t len, int want, void *arg)
{
        struct keys *k = arg;
        char *env = NULL;
        int got;

        if (strncmp(file, "outer-", 6) == 0) {
                struct imago_cmdenv c;
                got = imago_cmdenv_verify(data, len, &k->pub, ID, 0, NOW, SKEW, &c);
                imago_cmdenv_release(&c);
        } else if (strncmp(file, "payload-", 8) == 0) {
                struct imago_cmdenv c;
                env = wrap(k, (const char *)data, len);
                got = imago_cmdenv_verify((const uint8_t *)env, strlen(env), &k->pub, ID, 0, NOW,
                                          SKEW, &c);
                imago_cmdenv_release(&c);
        } else if (strncmp(file, "result-", 7) == 0) {
                struct imago_cmdenv_result r;
                got = imago_cmdenv_result_parse(data, len, &r);
                if (got == IMAGO_OK) {
                        char *again = NULL;
                        struct imago_cmdenv_result r2;
                        assert_int_equal(
                            imago_cmdenv_result_build(r.device, r.seq, r.status, r.result, &again),
                            IMAGO_OK);
                        assert_int_equal(
                            imago_cmdenv_result_parse((uint8_t *)again, strlen(again), &r2),
                            IMAGO_OK);
                        assert_true(json_equal(r.result, r2.result));
                        imago_cmdenv_result_release(&r2);
                        free(again);
                }
                imago_cmdenv_result_release(&r);
        } else {
                fail_msg("%s: vector name must start with outer-, payload- or result-", file);
                got = want;
        }
        if (got != want)
                fail_msg("%s: expected %s, got %s", file, imago_errname(want), imago_errname(got));
        free(env);
}

static void test_vectors(void **state)
{
        assert_true(test_vec_each(IMAGO_SOURCE_DIR "/tests/vectors/cmdenv", ".json", cmdenv_case,
                                  *state) >= 40);
}

static void test_result_round_trip(void **state)
{
        struct imago_cmdenv_result r;
        json_t *res = json_pack("{s:i}", "uptime", 3);
        char *msg = NULL;

        (void)state;
        assert_int_equal(imago_cmdenv_result_build(ID, 9, IMAGO_CMDENV_FAILED, res, &msg), 0);
        assert_int_equal(imago_cmdenv_result_parse((uint8_t *)msg, strlen(msg), &r), IMAGO_OK);
        assert_string_equal(r.device, ID);
        assert_true(r.seq == 9);
        assert_int_equal(r.status, IMAGO_CMDENV_FAILED);
        assert_true(json_equal(r.result, res));
        imago_cmdenv_result_release(&r);
        free(msg);
        assert_int_equal(imago_cmdenv_result_build(ID, 0, IMAGO_CMDENV_OK, NULL, &msg),
                         IMAGO_EINVAL);
        assert_int_equal(imago_cmdenv_result_build(ID, 1, (enum imago_cmdenv_status)7, NULL, &msg),
                         IMAGO_EINVAL);
        json_decref(res);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_round_trip),
            cmocka_unit_test(test_forged_command),
            cmocka_unit_test(test_signature_of_another_key),
            cmocka_unit_test(test_tampered_args),
            cmocka_unit_test(test_replayed_command),
            cmocka_unit_test(test_expired_command),
            cmocka_unit_test(test_command_for_another_device),
            cmocka_unit_test(test_oversized_args),
            cmocka_unit_test(test_bad_arguments),
            cmocka_unit_test(test_vectors),
            cmocka_unit_test(test_result_round_trip),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
