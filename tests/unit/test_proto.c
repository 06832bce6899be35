/*
 * imago_proto: the device channel messages.  Every case in
 * tests/vectors/proto (<case>.json, <case>.expect naming the IMAGO_E code),
 * build/parse round trips, the builder refusing what the parser refuses, and
 * the topic helpers.
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
#include "proto/proto.h"

#define ID    "0123456789abcdef0123456789abcdef"
#define NONCE "fedcba9876543210fedcba9876543210"
#define CSR   "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"
#define CERT  "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

static void proto_case(const char *file, const uint8_t *data, size_t len, int want, void *arg)
{
        int *ok = arg;
        struct imago_proto_msg m;
        int got = imago_proto_parse(data, len, &m);

        if (got != want)
                fail_msg("%s: expected %s, got %s", file, imago_errname(want), imago_errname(got));
        if (got == IMAGO_OK) {
                char *text = NULL;
                size_t tlen = 0;
                struct imago_proto_msg m2;

                /* What parses builds again, to the same message. */
                assert_int_equal(imago_proto_build(&m, &text, &tlen), IMAGO_OK);
                assert_int_equal(imago_proto_parse((uint8_t *)text, tlen, &m2), IMAGO_OK);
                assert_int_equal(m2.type, m.type);
                assert_string_equal(m2.id, m.id);
                assert_string_equal(m2.nonce, m.nonce);
                imago_proto_free(&m2);
                free(text);
                (*ok)++;
        } else {
                /* A refused message leaves nothing allocated. */
                assert_null(m.csr);
                assert_null(m.cert);
                assert_null(m.chain);
        }
        imago_proto_free(&m);
}

static void test_vectors(void **state)
{
        int ok = 0;

        (void)state;
        assert_true(
            test_vec_each(IMAGO_SOURCE_DIR "/tests/vectors/proto", ".json", proto_case, &ok) >= 50);
        assert_true(ok >= 5);
}

static void test_round_trip_every_type(void **state)
{
        static const enum imago_proto_type all[] = {IMAGO_PROTO_ENROL, IMAGO_PROTO_ROTATE,
                                                    IMAGO_PROTO_CERT, IMAGO_PROTO_ERROR,
                                                    IMAGO_PROTO_ROTATE_NOW};

        (void)state;
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
                struct imago_proto_msg m = {0}, p;
                char *text = NULL;
                size_t len = 0;

                m.type = all[i];
                memcpy(m.id, ID, sizeof(ID));
                memcpy(m.nonce, NONCE, sizeof(NONCE));
                m.csr = (char *)CSR;
                m.cert = (char *)CERT;
                m.chain = (char *)CERT;
                snprintf(m.code, sizeof(m.code), "IMAGO_EREG_KEY");
                snprintf(m.message, sizeof(m.message), "key does not match");
                assert_int_equal(imago_proto_build(&m, &text, &len), IMAGO_OK);
                assert_int_equal(strlen(text), len);
                assert_int_equal(imago_proto_parse((uint8_t *)text, len, &p), IMAGO_OK);
                assert_int_equal(p.type, all[i]);
                assert_string_equal(p.id, ID);
                assert_string_equal(p.nonce, NONCE);
                if (all[i] == IMAGO_PROTO_ENROL || all[i] == IMAGO_PROTO_ROTATE)
                        assert_string_equal(p.csr, CSR);
                else
                        assert_null(p.csr);
                if (all[i] == IMAGO_PROTO_CERT) {
                        assert_string_equal(p.cert, CERT);
                        assert_string_equal(p.chain, CERT);
                }
                if (all[i] == IMAGO_PROTO_ERROR) {
                        assert_string_equal(p.code, "IMAGO_EREG_KEY");
                        assert_string_equal(p.message, "key does not match");
                }
                imago_proto_free(&p);
                free(text);
        }
}

static void test_builder_refuses_what_parser_refuses(void **state)
{
        struct imago_proto_msg m = {0};
        char *text = (char *)"x";
        size_t len = 1;

        (void)state;
        m.type = IMAGO_PROTO_ENROL;
        memcpy(m.id, ID, sizeof(ID));
        memcpy(m.nonce, NONCE, sizeof(NONCE));
        /* enrol without CSR */
        assert_int_equal(imago_proto_build(&m, &text, &len), IMAGO_EPROTO_FIELD);
        assert_null(text);
        m.csr = (char *)"not pem";
        assert_int_equal(imago_proto_build(&m, &text, &len), IMAGO_EPROTO_FIELD);
        m.csr = (char *)CSR;
        m.id[0] = 'A';
        assert_int_equal(imago_proto_build(&m, &text, &len), IMAGO_EPROTO_FIELD);
        m.id[0] = '0';
        m.nonce[31] = '\0';
        assert_int_equal(imago_proto_build(&m, &text, &len), IMAGO_EPROTO_FIELD);
        memcpy(m.nonce, NONCE, sizeof(NONCE));
        m.type = IMAGO_PROTO_ERROR;
        snprintf(m.code, sizeof(m.code), "EIO");
        assert_int_equal(imago_proto_build(&m, &text, &len), IMAGO_EPROTO_FIELD);
        snprintf(m.code, sizeof(m.code), "IMAGO_EIO");
        snprintf(m.message, sizeof(m.message), "bad\xff utf-8");
        assert_int_equal(imago_proto_build(&m, &text, &len), IMAGO_EPROTO_FIELD);
        m.type = (enum imago_proto_type)42;
        assert_int_equal(imago_proto_build(&m, &text, &len), IMAGO_EPROTO_FIELD);
        assert_null(imago_proto_type_name((enum imago_proto_type)42));
        assert_string_equal(imago_proto_type_name(IMAGO_PROTO_ROTATE_NOW), "rotate-now");
}

static void test_size_limit_boundary(void **state)
{
        static const char head[] =
            "{\"v\":1,\"type\":\"rotate-now\",\"id\":\"" ID "\",\"nonce\":\"" NONCE "\"";
        uint8_t *buf = malloc(IMAGO_PROTO_MAX + 1);
        struct imago_proto_msg m;

        (void)state;
        assert_non_null(buf);
        memset(buf, ' ', IMAGO_PROTO_MAX + 1);
        memcpy(buf, head, sizeof(head) - 1);
        buf[IMAGO_PROTO_MAX - 1] = '}';
        assert_int_equal(imago_proto_parse(buf, IMAGO_PROTO_MAX, &m), IMAGO_OK);
        imago_proto_free(&m);
        buf[IMAGO_PROTO_MAX - 1] = ' ';
        buf[IMAGO_PROTO_MAX] = '}';
        assert_int_equal(imago_proto_parse(buf, IMAGO_PROTO_MAX + 1, &m), IMAGO_ETOOBIG);
        /* Not NUL-terminated input is read within len only. */
        assert_int_equal(imago_proto_parse(buf, 10, &m), IMAGO_EMALFORMED);
        free(buf);
}

static void test_topics(void **state)
{
        char buf[80];
        enum imago_proto_type t;
        char id[IMAGO_PROTO_ID_LEN + 1];

        (void)state;
        assert_int_equal(imago_proto_topic(IMAGO_PROTO_ENROL, ID, buf, sizeof(buf)), IMAGO_OK);
        assert_string_equal(buf, "imago/v1/prov/" ID "/req");
        assert_int_equal(imago_proto_topic(IMAGO_PROTO_ROTATE, ID, buf, sizeof(buf)), IMAGO_OK);
        assert_string_equal(buf, "imago/v1/d/" ID "/rot/req");
        assert_int_equal(imago_proto_topic(IMAGO_PROTO_ROTATE_NOW, ID, buf, sizeof(buf)), IMAGO_OK);
        assert_string_equal(buf, "imago/v1/d/" ID "/rot/now");
        assert_int_equal(imago_proto_topic(IMAGO_PROTO_CERT, ID, buf, sizeof(buf)), IMAGO_EINVAL);
        assert_int_equal(imago_proto_resp_topic(IMAGO_PROTO_ENROL, ID, buf, sizeof(buf)), IMAGO_OK);
        assert_string_equal(buf, "imago/v1/prov/" ID "/resp");
        assert_int_equal(imago_proto_resp_topic(IMAGO_PROTO_ROTATE, ID, buf, sizeof(buf)),
                         IMAGO_OK);
        assert_string_equal(buf, "imago/v1/d/" ID "/rot/resp");
        /* A wildcard or a slash in an id never makes a topic. */
        assert_int_equal(imago_proto_topic(IMAGO_PROTO_ENROL, "+", buf, sizeof(buf)), IMAGO_EINVAL);
        assert_int_equal(imago_proto_topic(IMAGO_PROTO_ENROL, ID, buf, 20), IMAGO_EINVAL);

        assert_int_equal(imago_proto_topic_parse("imago/v1/prov/" ID "/req", &t, id), IMAGO_OK);
        assert_int_equal(t, IMAGO_PROTO_ENROL);
        assert_string_equal(id, ID);
        assert_int_equal(imago_proto_topic_parse("imago/v1/d/" ID "/rot/req", &t, id), IMAGO_OK);
        assert_int_equal(t, IMAGO_PROTO_ROTATE);
        assert_int_equal(imago_proto_topic_parse("imago/v1/d/" ID "/rot/now", &t, id), IMAGO_OK);
        assert_int_equal(t, IMAGO_PROTO_ROTATE_NOW);
        assert_int_equal(imago_proto_topic_parse("imago/v1/prov/" ID "/resp", &t, id),
                         IMAGO_EPROTO_FIELD);
        assert_int_equal(
            imago_proto_topic_parse("imago/v1/prov/0123456789ABCDEF0123456789abcdef/req", &t, id),
            IMAGO_EPROTO_FIELD);
        assert_int_equal(imago_proto_topic_parse("imago/v1/prov/" ID "/req/x", &t, id),
                         IMAGO_EPROTO_FIELD);
        assert_int_equal(imago_proto_topic_parse("imago/v1/svc/seen", &t, id), IMAGO_EPROTO_FIELD);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_vectors),
            cmocka_unit_test(test_round_trip_every_type),
            cmocka_unit_test(test_builder_refuses_what_parser_refuses),
            cmocka_unit_test(test_size_limit_boundary),
            cmocka_unit_test(test_topics),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
