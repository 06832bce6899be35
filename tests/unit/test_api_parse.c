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

enum kind { K_CREDS, K_REFRESH, K_REGTOKEN, K_STATE, K_COMMAND, K_GRANT, K_ROLLOUT, K_TAGS };

static int parse_kind(enum kind k, const uint8_t *d, size_t len)
{
        struct imago_api_creds cr;
        struct imago_api_cmd_req cmd;
        struct imago_api_grant_req g;
        struct imago_rollout_spec ro;
        struct imago_api_tags tg;
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
        case K_ROLLOUT:
                r = imago_api_parse_rollout(d, len, &ro);
                if (r != IMAGO_OK)
                        assert_int_equal(ro.nstages, 0);
                else
                        assert_int_equal(imago_rollout_spec_check(&ro), IMAGO_OK);
                break;
        case K_TAGS:
                r = imago_api_parse_tags(d, len, &tg);
                if (r != IMAGO_OK)
                        assert_int_equal(tg.n, 0);
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

static void test_vectors_rollout(void **state)
{
        (void)state;
        run("rollout", K_ROLLOUT, 60);
}

static void test_vectors_tags(void **state)
{
        (void)state;
        run("tags", K_TAGS, 25);
}

static void test_parse_rollout_outputs(void **state)
{
        static const char def[] = "{\"target\":\"fw-2.bin\",\"tag\":\"canary\"}";
        static const char full[] = "{\"name\":\"spring\",\"target\":\"fw-2.bin\",\"group\":\"b1\","
                                   "\"stages\":[10,50,100],\"max_concurrent\":3,"
                                   "\"abort_percent\":40,\"abort_min\":2,"
                                   "\"device_timeout_s\":600}";
        static const char tags[] = "{\"tags\":[\"canary\",\"line-2\"]}";
        struct imago_rollout_spec s;
        struct imago_api_tags t;

        (void)state;
        assert_int_equal(imago_api_parse_rollout((const uint8_t *)def, strlen(def), &s), IMAGO_OK);
        assert_string_equal(s.target, "fw-2.bin");
        assert_string_equal(s.group, "");
        assert_string_equal(s.tag, "canary");
        assert_string_equal(s.name, "");
        assert_int_equal(s.nstages, 1);
        assert_int_equal(s.stages[0], 100);
        assert_int_equal(s.max_concurrent, 10);
        assert_int_equal(s.abort_percent, 20);
        assert_int_equal(s.abort_min, 5);
        assert_int_equal(s.device_timeout_s, 3600);

        assert_int_equal(imago_api_parse_rollout((const uint8_t *)full, strlen(full), &s),
                         IMAGO_OK);
        assert_string_equal(s.name, "spring");
        assert_string_equal(s.group, "b1");
        assert_int_equal(s.nstages, 3);
        assert_int_equal(s.stages[0], 10);
        assert_int_equal(s.stages[1], 50);
        assert_int_equal(s.stages[2], 100);
        assert_int_equal(s.max_concurrent, 3);
        assert_int_equal(s.abort_percent, 40);
        assert_int_equal(s.abort_min, 2);
        assert_int_equal(s.device_timeout_s, 600);

        assert_int_equal(imago_api_parse_tags((const uint8_t *)tags, strlen(tags), &t), IMAGO_OK);
        assert_int_equal(t.n, 2);
        assert_string_equal(t.tags[0], "canary");
        assert_string_equal(t.tags[1], "line-2");
        assert_int_equal(imago_api_parse_rollout(NULL, 0, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_api_parse_tags(NULL, 0, NULL), IMAGO_EINVAL);
        assert_true(imago_api_tag_valid("a.b_c-D9"));
        assert_false(imago_api_tag_valid(""));
        assert_false(imago_api_tag_valid("a:b"));
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
            cmocka_unit_test(test_vectors_creds),         cmocka_unit_test(test_vectors_refresh),
            cmocka_unit_test(test_vectors_regtoken),      cmocka_unit_test(test_vectors_state),
            cmocka_unit_test(test_vectors_command),       cmocka_unit_test(test_vectors_grant),
            cmocka_unit_test(test_vectors_rollout),       cmocka_unit_test(test_vectors_tags),
            cmocka_unit_test(test_parse_rollout_outputs), cmocka_unit_test(test_parse_outputs),
            cmocka_unit_test(test_parse_bad_args),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
