/*
 * imago_agent's setup portal parts that need no network: the strict parser
 * of POST /v1/configure bodies against tests/vectors/portal/ (one file per
 * attack or malformation, with the expected IMAGO_E code), what it keeps
 * (the network JSON the store gets), that the secrets are wiped on free, and
 * the factory reset against a real store in a SoftHSM2 token: every record
 * but the factory's goes.  The portal over HTTPS, the lockout and the closed
 * socket are tests/integration/agent_portal.sh.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/err.h"
#include "crypto/p11/p11.h"
#include "device/agent/agent.h"
#include "device/agent/agent_priv.h"
#include "device/store/store.h"
#include "factory/provision.h"
#include "test_p11_util.h"
#include "test_vectors.h"

#define VEC_DIR IMAGO_SOURCE_DIR "/tests/vectors/portal"
#define TOKEN   "eyJhbGciOiJFQ0RILUVTIiwiZW5jIjoiQTI1NkdDTSJ9..aXY.Y2lwaGVy.dGFn"

static void one_vector(const char *file, const uint8_t *data, size_t len, int want, void *arg)
{
        struct imago_agent_configure c;
        int got = imago_agent_configure_parse(data, len, &c);

        (void)arg;
        if (got != want)
                fail_msg("%s: got %s, want %s", file, imago_errname(got), imago_errname(want));
        if (got == IMAGO_OK) {
                assert_non_null(c.setup_code);
                assert_non_null(c.ssid);
                assert_non_null(c.token);
                assert_non_null(c.net_json);
        } else {
                /* A refused body leaves nothing behind. */
                assert_null(c.root);
                assert_null(c.net_json);
        }
        imago_agent_configure_free(&c);
}

static void test_configure_vectors(void **state)
{
        (void)state;
        assert_true(test_vec_each(VEC_DIR, ".json", one_vector, NULL) >= 40);
}

/* The store keeps the network object only: never the setup code or the token. */
static void test_configure_keeps_network_only(void **state)
{
        static const char body[] = "{\"registration_token\":\"" TOKEN "\",\"network\":"
                                   "{\"passphrase\":\"correct horse\",\"ssid\":\"home\"},"
                                   "\"setup_code\":\"7K2QX-M9D4T\"}";
        struct imago_agent_configure c;

        (void)state;
        assert_int_equal(imago_agent_configure_parse((const uint8_t *)body, strlen(body), &c),
                         IMAGO_OK);
        assert_string_equal(c.setup_code, "7K2QX-M9D4T");
        assert_string_equal(c.token, TOKEN);
        assert_string_equal(c.ssid, "home");
        assert_string_equal(c.net_json, "{\"passphrase\":\"correct horse\",\"ssid\":\"home\"}");
        assert_int_equal(c.net_json_len, strlen(c.net_json));
        imago_agent_configure_free(&c);
        assert_null(c.root);
        assert_null(c.setup_code);
        /* Safe twice and on a zeroed struct. */
        imago_agent_configure_free(&c);
        imago_agent_configure_free(NULL);
}

/* The strings the parser hands out are overwritten before jansson releases them. */
static void test_configure_free_wipes_secrets(void **state)
{
        static const char body[] = "{\"setup_code\":\"7K2QX-M9D4T\",\"network\":{\"ssid\":"
                                   "\"home\",\"passphrase\":\"correct horse\"},"
                                   "\"registration_token\":\"" TOKEN "\"}";
        struct imago_agent_configure c;
        json_t *keep;
        const char *code, *pass, *tok;

        (void)state;
        assert_int_equal(imago_agent_configure_parse((const uint8_t *)body, strlen(body), &c),
                         IMAGO_OK);
        keep = json_incref(c.root); /* keep the object alive to look at its strings */
        code = c.setup_code;
        pass = c.passphrase;
        tok = c.token;
        imago_agent_configure_free(&c);
        assert_int_equal(code[0], 0);
        assert_int_equal(pass[0], 0);
        assert_int_equal(tok[0], 0);
        json_decref(keep);
}

static void test_configure_bad_args(void **state)
{
        struct imago_agent_configure c;

        (void)state;
        assert_int_equal(imago_agent_configure_parse(NULL, 0, &c), IMAGO_EINVAL);
        assert_int_equal(imago_agent_configure_parse((const uint8_t *)"{}", 2, NULL), IMAGO_EINVAL);
}

static void put(struct imago_store *s, const char *name, const char *v)
{
        assert_int_equal(
            imago_store_put(s, name, IMAGO_STORE_CONFIG, (const uint8_t *)v, strlen(v)), IMAGO_OK);
}

static int has(struct imago_store *s, const char *name)
{
        uint8_t buf[64];
        size_t len = 0;

        return imago_store_get(s, name, NULL, buf, sizeof(buf), &len) == IMAGO_OK;
}

/* The counters the agent keeps (setup-failures, cmd-seq): absent reads 0, anything but a
 * decimal number is refused (the portal then locks rather than reading 0). */
static void test_counters(struct imago_store *s)
{
        uint64_t v = 7;

        assert_int_equal(imago_agent_get_u64(s, IMAGO_AGENT_REC_FAILURES, &v), IMAGO_OK);
        assert_int_equal(v, 0);
        assert_int_equal(imago_agent_get_u64(s, IMAGO_AGENT_REC_SEQ, &v), IMAGO_OK);
        assert_int_equal(v, 42); /* kept by the reset */
        assert_int_equal(imago_agent_put_u64(s, IMAGO_AGENT_REC_SEQ, UINT64_MAX), IMAGO_OK);
        assert_int_equal(imago_agent_get_u64(s, IMAGO_AGENT_REC_SEQ, &v), IMAGO_OK);
        assert_true(v == UINT64_MAX);
        put(s, IMAGO_AGENT_REC_FAILURES, "-1");
        assert_int_equal(imago_agent_get_u64(s, IMAGO_AGENT_REC_FAILURES, &v), IMAGO_EMALFORMED);
        put(s, IMAGO_AGENT_REC_FAILURES, "5 ");
        assert_int_equal(imago_agent_get_u64(s, IMAGO_AGENT_REC_FAILURES, &v), IMAGO_EMALFORMED);
        put(s, IMAGO_AGENT_REC_FAILURES, "123456789012345678901234567890");
        assert_int_equal(imago_agent_get_u64(s, IMAGO_AGENT_REC_FAILURES, &v), IMAGO_EMALFORMED);
        assert_int_equal(imago_store_put(s, IMAGO_AGENT_REC_FAILURES, IMAGO_STORE_CONFIG,
                                         (const uint8_t *)"1\0", 2),
                         IMAGO_OK);
        assert_int_equal(imago_agent_get_u64(s, IMAGO_AGENT_REC_FAILURES, &v), IMAGO_EMALFORMED);
}

/* Factory reset: the birth certificate, device id, setup-code hash and command sequence stay;
 * all else goes. */
static void test_factory_reset_keeps_factory_records(void **state)
{
        struct tok_env env = {0};
        struct imago_p11 *tok = NULL;
        struct imago_store *s = NULL;
        char uri[128], path[256];
        size_t n = 99;

        (void)state;
        assert_int_equal(tok_env_init(&env), 0);
        assert_int_equal(tok_add(&env, "reset", "1234"), 0);
        tok_uri(uri, sizeof(uri), "reset", "1234");
        snprintf(path, sizeof(path), "%s/store", env.dir);
        assert_int_equal(imago_p11_open(TOK_MODULE, uri, NULL, &tok), IMAGO_OK);
        assert_int_equal(imago_store_create(path, tok, imago_store_posix_ops()), IMAGO_OK);
        assert_int_equal(imago_store_open(path, tok, imago_store_posix_ops(), &s), IMAGO_OK);
        /* an empty store: nothing to do */
        assert_int_equal(imago_agent_factory_reset(s, &n), IMAGO_OK);
        assert_int_equal(n, 0);
        put(s, IMAGO_REC_BIRTH_CERT, "cert");
        put(s, IMAGO_REC_DEVICE_ID, "id");
        put(s, IMAGO_REC_SETUP_CODE_HASH, "hash");
        put(s, IMAGO_AGENT_REC_CERT, "op");
        put(s, IMAGO_AGENT_REC_CHAIN, "chain");
        put(s, IMAGO_AGENT_REC_NET, "{\"ssid\":\"x\"}");
        put(s, IMAGO_AGENT_REC_TOKEN, "a.b.c.d.e");
        put(s, IMAGO_AGENT_REC_FAILURES, "5");
        put(s, IMAGO_AGENT_REC_SEQ, "42");
        put(s, "aaa-first", "sorted before everything");
        put(s, "zzz-last", "sorted after everything");
        assert_int_equal(imago_agent_factory_reset(s, &n), IMAGO_OK);
        assert_int_equal(n, 7);
        assert_int_equal(imago_store_count(s), 4);
        assert_true(has(s, IMAGO_AGENT_REC_SEQ));
        assert_true(has(s, IMAGO_REC_BIRTH_CERT));
        assert_true(has(s, IMAGO_REC_DEVICE_ID));
        assert_true(has(s, IMAGO_REC_SETUP_CODE_HASH));
        assert_false(has(s, IMAGO_AGENT_REC_FAILURES));
        assert_false(has(s, IMAGO_AGENT_REC_NET));
        /* It survives a reopen (it was committed). */
        imago_store_close(s);
        assert_int_equal(imago_store_open(path, tok, imago_store_posix_ops(), &s), IMAGO_OK);
        assert_int_equal(imago_store_count(s), 4);
        assert_int_equal(imago_agent_factory_reset(NULL, &n), IMAGO_EINVAL);
        test_counters(s);
        imago_store_close(s);
        imago_p11_close(tok);
        tok_env_free(&env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_configure_vectors),
            cmocka_unit_test(test_configure_keeps_network_only),
            cmocka_unit_test(test_configure_free_wipes_secrets),
            cmocka_unit_test(test_configure_bad_args),
            cmocka_unit_test(test_factory_reset_keeps_factory_records),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
