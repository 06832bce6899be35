/*
 * imago_state: documents (check, merge, delta) and the channel messages;
 * negative cases as data in tests/vectors/state (<kind>-<case>.json, the
 * prefix names the parser: rep, ack, delta, reg, regd, doc, patch).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "state/state.h"
#include "test_vectors.h"

#include <stdlib.h>
#include <string.h>

#define NONCE "00112233445566778899aabbccddeeff"

static json_t *doc(const char *text)
{
        json_error_t e;
        json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &e);

        assert_non_null(j);
        return j;
}

static void assert_doc(const json_t *j, const char *want)
{
        char *s = NULL;

        assert_int_equal(imago_state_doc_dump(j, &s), 0);
        assert_string_equal(s, want);
        free(s);
}

static void test_merge_rfc7396(void **state)
{
        json_t *d =
            doc("{\"a\":1,\"b\":{\"c\":2,\"d\":3},\"e\":[1,2],\"f\":\"x\",\"g\":{\"h\":1}}");
        json_t *p = doc("{\"a\":null,\"b\":{\"c\":5,\"d\":null,\"n\":{\"x\":null,\"y\":1}},"
                        "\"e\":[3],\"f\":{\"z\":null,\"w\":true},\"g\":7,\"zz\":null}");

        (void)state;
        assert_int_equal(imago_state_merge(d, p), 0);
        assert_doc(d, "{\"b\":{\"c\":5,\"n\":{\"y\":1}},\"e\":[3],\"f\":{\"w\":true},\"g\":7}");
        json_decref(d);
        json_decref(p);
}

static void test_merge_refused_leaves_doc_unchanged(void **state)
{
        json_t *d = doc("{\"a\":1}"), *p;
        char *big = malloc(IMAGO_STATE_DOC_MAX + 1);

        (void)state;
        assert_non_null(big);
        memset(big, 'x', IMAGO_STATE_DOC_MAX);
        big[IMAGO_STATE_DOC_MAX - 20] = '\0';
        /* the patch alone fits, the result does not */
        p = json_pack("{s:s}", "b", big);
        assert_int_equal(imago_state_doc_check(p, 1), 0);
        {
                json_t *half = json_pack("{s:s#}", "c", big, (int)(IMAGO_STATE_DOC_MAX / 2));

                assert_int_equal(imago_state_merge(d, half), 0);
                json_decref(half);
        }
        assert_int_equal(imago_state_merge(d, p), IMAGO_ESTATE_DOC);
        assert_int_equal(json_integer_value(json_object_get(d, "a")), 1);
        assert_null(json_object_get(d, "b"));
        json_decref(p);
        /* a patch with a bad name changes nothing either */
        p = doc("{\"a\":2,\"b c\":1}");
        assert_int_equal(imago_state_merge(d, p), IMAGO_ESTATE_DOC);
        assert_int_equal(json_integer_value(json_object_get(d, "a")), 1);
        json_decref(p);
        free(big);
        json_decref(d);
}

static void test_delta(void **state)
{
        json_t *des = doc("{\"t\":20,\"mode\":\"eco\",\"led\":{\"on\":true,\"lvl\":3},"
                          "\"arr\":[1,2],\"o\":{\"x\":1},\"num\":1,\"same\":{\"a\":{\"b\":1}}}");
        json_t *rep = doc("{\"t\":21,\"mode\":\"eco\",\"led\":{\"on\":true,\"lvl\":2,\"extra\":1},"
                          "\"arr\":[1,2,3],\"o\":5,\"num\":1.0,\"same\":{\"a\":{\"b\":1}},"
                          "\"only_reported\":1}");
        json_t *d = NULL;

        (void)state;
        assert_int_equal(imago_state_delta(des, rep, &d), 0);
        /* arrays compared whole; numbers by value (1 and 1.0 are the same setting) */
        assert_doc(d, "{\"arr\":[1,2],\"led\":{\"lvl\":3},\"o\":{\"x\":1},\"t\":20}");
        json_decref(d);
        assert_int_equal(imago_state_delta(des, des, &d), 0);
        assert_doc(d, "{}");
        json_decref(d);
        assert_int_equal(imago_state_delta(des, NULL, &d), IMAGO_EINVAL);
        assert_null(d);
        json_decref(des);
        json_decref(rep);
}

static void test_doc_check_limits(void **state)
{
        char name[IMAGO_STATE_NAME_MAX + 2];
        json_t *d;
        char *big;
        size_t n;

        (void)state;
        d = doc("{\"a\":{\"b\":{\"c\":{\"d\":1}}}}");
        assert_int_equal(imago_state_doc_check(d, 0), 0);
        json_decref(d);
        d = doc("{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}");
        assert_int_equal(imago_state_doc_check(d, 0), IMAGO_ESTATE_DOC);
        json_decref(d);
        memset(name, 'n', sizeof(name));
        name[IMAGO_STATE_NAME_MAX] = '\0';
        d = json_pack("{s:i}", name, 1);
        assert_int_equal(imago_state_doc_check(d, 0), 0);
        json_decref(d);
        name[IMAGO_STATE_NAME_MAX] = 'n';
        name[IMAGO_STATE_NAME_MAX + 1] = '\0';
        d = json_pack("{s:i}", name, 1);
        assert_int_equal(imago_state_doc_check(d, 0), IMAGO_ESTATE_DOC);
        json_decref(d);
        /* exactly IMAGO_STATE_DOC_MAX bytes compact: {"a":"xxx..."} */
        n = IMAGO_STATE_DOC_MAX - strlen("{\"a\":\"\"}");
        big = malloc(n + 2);
        assert_non_null(big);
        memset(big, 'x', n + 1);
        big[n] = '\0';
        d = json_pack("{s:s}", "a", big);
        assert_int_equal(imago_state_doc_check(d, 0), 0);
        json_decref(d);
        big[n] = 'x';
        big[n + 1] = '\0';
        d = json_pack("{s:s}", "a", big);
        assert_int_equal(imago_state_doc_check(d, 0), IMAGO_ESTATE_DOC);
        json_decref(d);
        free(big);
        /* null: a deletion in a patch only */
        d = doc("{\"a\":null}");
        assert_int_equal(imago_state_doc_check(d, 0), IMAGO_ESTATE_DOC);
        assert_int_equal(imago_state_doc_check(d, 1), 0);
        json_decref(d);
        /* a string with an embedded NUL made in memory */
        d = json_object();
        json_object_set_new(d, "a", json_stringn("x\0y", 3));
        assert_int_equal(imago_state_doc_check(d, 0), IMAGO_ESTATE_DOC);
        json_decref(d);
        d = json_array();
        assert_int_equal(imago_state_doc_check(d, 0), IMAGO_ESTATE_DOC);
        json_decref(d);
        assert_int_equal(imago_state_doc_check(NULL, 0), IMAGO_EINVAL);
}

static void test_doc_parse_dump(void **state)
{
        static const char text[] = "{ \"z\": 1, \"a\": {\"y\": true, \"b\": \"s\"} }";
        json_t *d = NULL;

        (void)state;
        assert_int_equal(imago_state_doc_parse(text, strlen(text), 0, &d), 0);
        assert_doc(d, "{\"a\":{\"b\":\"s\",\"y\":true},\"z\":1}");
        json_decref(d);
        assert_int_equal(imago_state_doc_parse("{\"a\":null}", 10, 0, &d), IMAGO_ESTATE_DOC);
        assert_null(d);
        assert_int_equal(imago_state_doc_parse("{\"a\":null}", 10, 1, &d), 0);
        json_decref(d);
        assert_int_equal(imago_state_doc_parse(NULL, 0, 0, &d), IMAGO_EMALFORMED);
}

static void round_trip(struct imago_state_msg *m, const char *want)
{
        struct imago_state_msg p;
        size_t len = 0;
        char *text = NULL;

        assert_int_equal(imago_state_msg_build(m, &text, &len), 0);
        assert_int_equal(len, strlen(text));
        if (want != NULL)
                assert_string_equal(text, want);
        assert_int_equal(imago_state_msg_parse(m->type, (uint8_t *)text, len, &p), 0);
        assert_int_equal(p.type, m->type);
        assert_true(p.version == m->version);
        assert_int_equal(p.accepted, m->accepted != 0);
        if (m->state != NULL)
                assert_true(json_equal(p.state, m->state));
        else
                assert_null(p.state);
        assert_string_equal(p.nonce, m->nonce);
        assert_string_equal(p.token, m->token);
        assert_string_equal(p.result, m->result);
        imago_state_msg_free(&p);
        free(text);
}

static void test_msg_round_trips(void **state)
{
        struct imago_state_msg m;

        (void)state;
        memset(&m, 0, sizeof(m));
        m.type = IMAGO_STATE_MSG_REPORT;
        m.version = 0;
        m.state = doc("{\"t\":21.5,\"gone\":null}");
        round_trip(&m, "{\"state\":{\"gone\":null,\"t\":21.5},\"v\":1,\"version\":0}");
        m.type = IMAGO_STATE_MSG_DELTA;
        m.version = INT64_MAX;
        json_object_del(m.state, "gone");
        round_trip(&m, NULL);
        json_decref(m.state);
        m.state = NULL;
        m.type = IMAGO_STATE_MSG_ACK;
        m.version = 42;
        m.accepted = 1;
        round_trip(&m, "{\"accepted\":true,\"v\":1,\"version\":42}");
        m.accepted = 0;
        round_trip(&m, "{\"accepted\":false,\"v\":1,\"version\":42}");
        m.version = 0;
        m.type = IMAGO_STATE_MSG_REGISTER;
        memcpy(m.nonce, NONCE, 33);
        memset(m.token, 'A', IMAGO_STATE_TOKEN_MAX);
        m.token[10] = '.';
        m.token[IMAGO_STATE_TOKEN_MAX] = '\0';
        round_trip(&m, NULL);
        memset(m.token, 0, sizeof(m.token));
        m.type = IMAGO_STATE_MSG_REGISTERED;
        memcpy(m.result, "ok", 3);
        round_trip(&m, NULL);
        memcpy(m.result, "IMAGO_ECMD_TOKEN_EXPIRED", 25);
        round_trip(&m, NULL);
}

static void expect_build_fails(struct imago_state_msg *m)
{
        char *text = (char *)1;
        size_t len = 1;

        assert_int_equal(imago_state_msg_build(m, &text, &len), IMAGO_EINVAL);
        assert_null(text);
        assert_int_equal(len, 0);
}

static void test_msg_build_refuses_bad_fields(void **state)
{
        struct imago_state_msg m;

        (void)state;
        memset(&m, 0, sizeof(m));
        m.type = IMAGO_STATE_MSG_REPORT;
        expect_build_fails(&m); /* no state */
        m.state = doc("{\"a\":null}");
        m.type = IMAGO_STATE_MSG_DELTA;
        expect_build_fails(&m); /* a delta never deletes */
        json_decref(m.state);
        m.state = doc("{\"a\":1}");
        m.version = (uint64_t)INT64_MAX + 1;
        expect_build_fails(&m);
        m.type = IMAGO_STATE_MSG_ACK;
        expect_build_fails(&m);
        json_decref(m.state);
        m.state = NULL;
        m.version = 0;
        m.type = IMAGO_STATE_MSG_REGISTER;
        memcpy(m.nonce, NONCE, 33);
        expect_build_fails(&m); /* empty token */
        memcpy(m.token, "a b", 4);
        expect_build_fails(&m);
        memcpy(m.token, "abc", 4);
        m.nonce[0] = 'A';
        expect_build_fails(&m);
        m.nonce[0] = '0';
        m.type = IMAGO_STATE_MSG_REGISTERED;
        memcpy(m.result, "IMAGO_OK", 9);
        expect_build_fails(&m);
        memcpy(m.result, "bogus", 6);
        expect_build_fails(&m);
        m.type = (enum imago_state_msg_type)9;
        expect_build_fails(&m);
        assert_int_equal(imago_state_msg_build(NULL, NULL, NULL), IMAGO_EINVAL);
}

static void test_msg_free_wipes_token(void **state)
{
        static const char msg[] = "{\"v\":1,\"nonce\":\"" NONCE "\",\"token\":\"secret.tok\"}";
        static const char zero[sizeof(((struct imago_state_msg *)0)->token)];
        struct imago_state_msg m;

        (void)state;
        assert_int_equal(
            imago_state_msg_parse(IMAGO_STATE_MSG_REGISTER, (uint8_t *)msg, strlen(msg), &m), 0);
        assert_string_equal(m.token, "secret.tok");
        imago_state_msg_free(&m);
        assert_memory_equal(m.token, zero, sizeof(zero));
        imago_state_msg_free(&m); /* twice, and on a zeroed struct: fine */
        imago_state_msg_free(NULL);
}

static void test_msg_parse_type_mismatch(void **state)
{
        static const char ack[] = "{\"v\":1,\"version\":1,\"accepted\":true}";
        struct imago_state_msg m;

        (void)state;
        /* an ack on the report topic is not a report */
        assert_int_equal(
            imago_state_msg_parse(IMAGO_STATE_MSG_REPORT, (uint8_t *)ack, strlen(ack), &m),
            IMAGO_EPROTO_FIELD);
        assert_null(m.state);
        assert_int_equal(
            imago_state_msg_parse((enum imago_state_msg_type)0, (uint8_t *)ack, strlen(ack), &m),
            IMAGO_EINVAL);
}

static void vec_case(const char *file, const uint8_t *data, size_t len, int want, void *arg)
{
        static const struct {
                const char *prefix;
                int type; /* 0: document, -1: patch */
        } kinds[] = {
            {"rep-", IMAGO_STATE_MSG_REPORT},
            {"ack-", IMAGO_STATE_MSG_ACK},
            {"delta-", IMAGO_STATE_MSG_DELTA},
            {"regd-", IMAGO_STATE_MSG_REGISTERED},
            {"reg-", IMAGO_STATE_MSG_REGISTER},
            {"doc-", 0},
            {"patch-", -1},
        };
        struct imago_state_msg m;
        json_t *d = NULL;
        size_t i;
        int r;

        (void)arg;
        for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
                if (strncmp(file, kinds[i].prefix, strlen(kinds[i].prefix)) == 0)
                        break;
        }
        if (i == sizeof(kinds) / sizeof(kinds[0]))
                fail_msg("%s: unknown kind", file);
        if (kinds[i].type > 0) {
                r = imago_state_msg_parse((enum imago_state_msg_type)kinds[i].type, data, len, &m);
                if (r != want)
                        fail_msg("%s: got %s, want %s", file, imago_errname(r),
                                 imago_errname(want));
                if (r != 0)
                        assert_null(m.state);
                imago_state_msg_free(&m);
        } else {
                r = imago_state_doc_parse((const char *)data, len, kinds[i].type < 0, &d);
                if (r != want)
                        fail_msg("%s: got %s, want %s", file, imago_errname(r),
                                 imago_errname(want));
                json_decref(d);
        }
}

static void test_vectors(void **state)
{
        (void)state;
        assert_true(
            test_vec_each(IMAGO_SOURCE_DIR "/tests/vectors/state", ".json", vec_case, NULL) >= 80);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_merge_rfc7396),
            cmocka_unit_test(test_merge_refused_leaves_doc_unchanged),
            cmocka_unit_test(test_delta),
            cmocka_unit_test(test_doc_check_limits),
            cmocka_unit_test(test_doc_parse_dump),
            cmocka_unit_test(test_msg_round_trips),
            cmocka_unit_test(test_msg_build_refuses_bad_fields),
            cmocka_unit_test(test_msg_free_wipes_token),
            cmocka_unit_test(test_msg_parse_type_mismatch),
            cmocka_unit_test(test_vectors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
