/*
 * imago_api's request body parsers against tests/vectors/api/<kind>/ (one
 * file per malformation or attack with the expected IMAGO_E code: truncated,
 * duplicate keys, wrong types, deep nesting, trailing bytes, NUL, oversized,
 * unknown members, SQL strings), and what they hand out on success.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "cloud/api/api.h"
#include "test_vectors.h"

#define VEC_DIR IMAGO_SOURCE_DIR "/tests/vectors/api/"

enum kind { K_CREDS, K_REFRESH, K_REGTOKEN, K_STATE, K_COMMAND, K_GRANT };

static int parse_kind(enum kind k, const uint8_t *d, size_t len)
{
        struct imago_api_creds cr;
        struct imago_api_cmd_req cmd;
        struct imago_api_grant_req g;
        char tok[IMAGO_AUTH_REFRESH_LEN + 1], *patch = NULL;
        uint64_t v;
        int64_t ttl;
        int r = IMAGO_EINVAL;

        switch (k) {
        case K_CREDS:
                r = imago_api_parse_creds(d, len, &cr);
                if (r != IMAGO_OK)
                        assert_int_equal(cr.password_len, 0);
                imago_api_creds_wipe(&cr);
                break;
        case K_REFRESH:
                r = imago_api_parse_refresh(d, len, tok);
                if (r != IMAGO_OK)
                        assert_int_equal(tok[0], 0);
                break;
        case K_REGTOKEN:
                r = imago_api_parse_regtoken(d, len, &ttl);
                break;
        case K_STATE:
                r = imago_api_parse_state(d, len, &patch, &v);
                if (r != IMAGO_OK)
                        assert_null(patch);
                free(patch);
                break;
        case K_COMMAND:
                r = imago_api_parse_command(d, len, &cmd);
                if (r != IMAGO_OK)
                        assert_null(cmd.args);
                imago_api_cmd_req_free(&cmd);
                break;
        case K_GRANT:
                r = imago_api_parse_grant(d, len, &g);
                break;
        }
        return r;
}

static void one(const char *file, const uint8_t *data, size_t len, int want, void *arg)
{
        int got = parse_kind(*(enum kind *)arg, data, len);

        if (got != want)
                fail_msg("%s: got %s, want %s", file, imago_errname(got), imago_errname(want));
}

static void run(const char *sub, enum kind k, int min)
{
        char dir[512];

        snprintf(dir, sizeof(dir), "%s%s", VEC_DIR, sub);
        assert_true(test_vec_each(dir, ".json", one, &k) >= min);
}

static void test_vectors_creds(void **state)
{
        (void)state;
        run("creds", K_CREDS, 30);
}

static void test_vectors_refresh(void **state)
{
        (void)state;
        run("refresh", K_REFRESH, 20);
}

static void test_vectors_regtoken(void **state)
{
        (void)state;
        run("regtoken", K_REGTOKEN, 20);
}

static void test_vectors_state(void **state)
{
        (void)state;
        run("state", K_STATE, 25);
}

static void test_vectors_command(void **state)
{
        (void)state;
        run("command", K_COMMAND, 30);
}

static void test_vectors_grant(void **state)
{
        (void)state;
        run("grant", K_GRANT, 20);
}

static void test_parse_outputs(void **state)
{
        static const char st[] = "{\"version\":7,\"desired\":{\"b\":1,\"a\":{\"y\":null}}}";
        static const char cmd[] = "{\"name\":\"blink\",\"args\":{\"n\" : 3}}";
        static const char gr[] = "{\"user\":\"bob\",\"role\":\"security_admin\",\"group\":\"g1\","
                                 "\"expires\":1900000000}";
        static const char cr[] = "{\"password\":\"correct horse battery\",\"user\":\"alice\"}";
        struct imago_api_cmd_req c;
        struct imago_api_grant_req g;
        struct imago_api_creds k;
        char *patch = NULL;
        uint64_t v = 0;

        (void)state;
        assert_int_equal(imago_api_parse_state((const uint8_t *)st, strlen(st), &patch, &v),
                         IMAGO_OK);
        assert_int_equal(v, 7);
        assert_string_equal(patch, "{\"a\":{\"y\":null},\"b\":1}");
        free(patch);

        assert_int_equal(imago_api_parse_command((const uint8_t *)cmd, strlen(cmd), &c), IMAGO_OK);
        assert_string_equal(c.name, "blink");
        assert_string_equal(c.args, "{\"n\":3}");
        assert_int_equal(c.ttl, IMAGO_API_CMD_TTL_DEF);
        assert_int_equal(c.wait_ms, IMAGO_API_WAIT_DEF);
        imago_api_cmd_req_free(&c);
        assert_null(c.args);

        assert_int_equal(imago_api_parse_grant((const uint8_t *)gr, strlen(gr), &g), IMAGO_OK);
        assert_string_equal(g.user, "bob");
        assert_int_equal(g.role, IMAGO_ROLE_SECURITY_ADMIN);
        assert_string_equal(g.group, "g1");
        assert_int_equal(g.expires, 1900000000);
        assert_int_equal(g.not_before, 0);

        assert_int_equal(imago_api_parse_creds((const uint8_t *)cr, strlen(cr), &k), IMAGO_OK);
        assert_string_equal(k.user, "alice");
        assert_string_equal(k.password, "correct horse battery");
        assert_int_equal(k.password_len, 21);
        imago_api_creds_wipe(&k);
        assert_int_equal(k.password[0], 0);
        assert_int_equal(k.password_len, 0);
}

static void test_parse_bad_args(void **state)
{
        char tok[IMAGO_AUTH_REFRESH_LEN + 1];
        uint64_t v;
        char *p;

        (void)state;
        assert_int_equal(imago_api_parse_creds((const uint8_t *)"{}", 2, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_api_parse_refresh(NULL, 3, tok), IMAGO_EINVAL);
        assert_int_equal(imago_api_parse_regtoken((const uint8_t *)"{}", 2, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_api_parse_state((const uint8_t *)"{}", 2, NULL, &v), IMAGO_EINVAL);
        assert_int_equal(imago_api_parse_state((const uint8_t *)"{}", 2, &p, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_api_parse_command(NULL, 0, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_api_parse_grant(NULL, 0, NULL), IMAGO_EINVAL);
        imago_api_cmd_req_free(NULL);
        imago_api_creds_wipe(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_vectors_creds),    cmocka_unit_test(test_vectors_refresh),
            cmocka_unit_test(test_vectors_regtoken), cmocka_unit_test(test_vectors_state),
            cmocka_unit_test(test_vectors_command),  cmocka_unit_test(test_vectors_grant),
            cmocka_unit_test(test_parse_outputs),    cmocka_unit_test(test_parse_bad_args),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
