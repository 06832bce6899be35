/* Unit tests of src/authz: one test per attack on the connect/topic decision. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "authz/authz.h"

#define ID_A "0123456789abcdef0123456789abcdef"
#define ID_B "fedcba9876543210fedcba9876543210"

static struct imago_authz_identity who_of(enum imago_authz_role role, const char *cn)
{
        struct imago_authz_identity w;

        assert_int_equal(imago_authz_identity_set(&w, role, cn), IMAGO_AUTHZ_ALLOW);
        return w;
}

static int pub(const struct imago_authz_identity *w, const char *t)
{
        const char *why = NULL;
        int r = imago_authz_topic(w, IMAGO_AUTHZ_PUBLISH, t, strlen(t), &why);

        assert_non_null(why);
        return r;
}

static int sub(const struct imago_authz_identity *w, const char *t)
{
        const char *why = NULL;
        int r = imago_authz_topic(w, IMAGO_AUTHZ_SUBSCRIBE, t, strlen(t), &why);

        assert_non_null(why);
        return r;
}

static void test_role_needs_ou_and_issuer_to_agree(void **state)
{
        (void)state;
        assert_int_equal(imago_authz_role_of("birth", IMAGO_AUTHZ_ISSUER_FACTORY, ID_A),
                         IMAGO_AUTHZ_BIRTH);
        assert_int_equal(imago_authz_role_of("device", IMAGO_AUTHZ_ISSUER_ISSUING, ID_A),
                         IMAGO_AUTHZ_DEVICE);
        assert_int_equal(imago_authz_role_of("service", IMAGO_AUTHZ_ISSUER_SERVER, "imago-cloud"),
                         IMAGO_AUTHZ_SERVICE);
        /* a birth certificate claiming OU=device, a device claiming service, ... */
        assert_int_equal(imago_authz_role_of("device", IMAGO_AUTHZ_ISSUER_FACTORY, ID_A),
                         IMAGO_AUTHZ_NONE);
        assert_int_equal(imago_authz_role_of("service", IMAGO_AUTHZ_ISSUER_ISSUING, "x"),
                         IMAGO_AUTHZ_NONE);
        assert_int_equal(imago_authz_role_of("birth", IMAGO_AUTHZ_ISSUER_ISSUING, ID_A),
                         IMAGO_AUTHZ_NONE);
        /* the server certificate of the broker is not a client identity */
        assert_int_equal(imago_authz_role_of("server", IMAGO_AUTHZ_ISSUER_SERVER, "localhost"),
                         IMAGO_AUTHZ_NONE);
        assert_int_equal(imago_authz_role_of("device", IMAGO_AUTHZ_ISSUER_UNKNOWN, ID_A),
                         IMAGO_AUTHZ_NONE);
        assert_int_equal(imago_authz_role_of(NULL, IMAGO_AUTHZ_ISSUER_ISSUING, ID_A),
                         IMAGO_AUTHZ_NONE);
        assert_int_equal(imago_authz_role_of("device", IMAGO_AUTHZ_ISSUER_ISSUING, NULL),
                         IMAGO_AUTHZ_NONE);
        assert_int_equal(imago_authz_role_of("Device", IMAGO_AUTHZ_ISSUER_ISSUING, ID_A),
                         IMAGO_AUTHZ_NONE);
}

static void test_device_cn_not_a_device_id_refused(void **state)
{
        struct imago_authz_identity w;

        (void)state;
        assert_int_equal(imago_authz_role_of("device", IMAGO_AUTHZ_ISSUER_ISSUING, "+"),
                         IMAGO_AUTHZ_NONE);
        assert_int_equal(imago_authz_role_of("device", IMAGO_AUTHZ_ISSUER_ISSUING, "#"),
                         IMAGO_AUTHZ_NONE);
        assert_int_equal(imago_authz_role_of("device", IMAGO_AUTHZ_ISSUER_ISSUING,
                                             "0123456789ABCDEF0123456789abcdef"),
                         IMAGO_AUTHZ_NONE);
        assert_int_equal(imago_authz_role_of("device", IMAGO_AUTHZ_ISSUER_ISSUING, ID_A "0"),
                         IMAGO_AUTHZ_NONE);
        assert_int_equal(imago_authz_role_of("device", IMAGO_AUTHZ_ISSUER_ISSUING, ""),
                         IMAGO_AUTHZ_NONE);
        assert_int_equal(imago_authz_identity_set(&w, IMAGO_AUTHZ_DEVICE, "0123/+"),
                         IMAGO_AUTHZ_DENY);
        assert_int_equal(w.role, IMAGO_AUTHZ_NONE);
}

static void test_service_name_with_topic_characters_refused(void **state)
{
        struct imago_authz_identity w;
        char longname[IMAGO_AUTHZ_NAME_MAX + 2];

        (void)state;
        assert_int_equal(imago_authz_identity_set(&w, IMAGO_AUTHZ_SERVICE, "cloud/+"),
                         IMAGO_AUTHZ_DENY);
        assert_int_equal(imago_authz_identity_set(&w, IMAGO_AUTHZ_SERVICE, "#"), IMAGO_AUTHZ_DENY);
        assert_int_equal(imago_authz_identity_set(&w, IMAGO_AUTHZ_SERVICE, ""), IMAGO_AUTHZ_DENY);
        memset(longname, 'a', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        assert_int_equal(imago_authz_identity_set(&w, IMAGO_AUTHZ_SERVICE, longname),
                         IMAGO_AUTHZ_DENY);
        longname[IMAGO_AUTHZ_NAME_MAX] = '\0';
        assert_int_equal(imago_authz_identity_set(&w, IMAGO_AUTHZ_SERVICE, longname),
                         IMAGO_AUTHZ_ALLOW);
        assert_int_equal(imago_authz_identity_set(&w, IMAGO_AUTHZ_NONE, "x"), IMAGO_AUTHZ_DENY);
}

static void test_denied_identity_cannot_connect(void **state)
{
        struct imago_authz_identity w = who_of(IMAGO_AUTHZ_DEVICE, ID_A);
        struct imago_authz_identity bad;
        const char *why = NULL;

        (void)state;
        assert_int_equal(imago_authz_connect(&w, 0, &why), IMAGO_AUTHZ_ALLOW);
        assert_int_equal(imago_authz_connect(&w, 1, &why), IMAGO_AUTHZ_DENY);
        assert_non_null(why);
        memset(&bad, 0, sizeof(bad));
        assert_int_equal(imago_authz_connect(&bad, 0, &why), IMAGO_AUTHZ_DENY);
        assert_int_equal(imago_authz_connect(NULL, 0, NULL), IMAGO_AUTHZ_DENY);
        /* a hand-made identity whose name is not terminated */
        memset(&bad, 'a', sizeof(bad));
        bad.role = IMAGO_AUTHZ_SERVICE;
        assert_int_equal(imago_authz_connect(&bad, 0, &why), IMAGO_AUTHZ_DENY);
}

static void test_device_uses_its_own_topics(void **state)
{
        struct imago_authz_identity a = who_of(IMAGO_AUTHZ_DEVICE, ID_A);

        (void)state;
        assert_int_equal(pub(&a, "imago/v1/d/" ID_A "/state"), IMAGO_AUTHZ_ALLOW);
        assert_int_equal(pub(&a, "imago/v1/d/" ID_A "/rot/req"), IMAGO_AUTHZ_ALLOW);
        assert_int_equal(sub(&a, "imago/v1/d/" ID_A "/rot/resp"), IMAGO_AUTHZ_ALLOW);
        assert_int_equal(sub(&a, "imago/v1/d/" ID_A "/#"), IMAGO_AUTHZ_ALLOW);
        assert_int_equal(sub(&a, "imago/v1/d/" ID_A "/+/resp"), IMAGO_AUTHZ_ALLOW);
        assert_int_equal(sub(&a, "imago/v1/d/" ID_A "/+"), IMAGO_AUTHZ_ALLOW);
}

static void test_device_a_on_device_b_topics(void **state)
{
        struct imago_authz_identity a = who_of(IMAGO_AUTHZ_DEVICE, ID_A);

        (void)state;
        assert_int_equal(pub(&a, "imago/v1/d/" ID_B "/state"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&a, "imago/v1/d/" ID_B "/rot/resp"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&a, "imago/v1/d/" ID_B "/#"), IMAGO_AUTHZ_DENY);
        /* prefix of A's id, A's id with a suffix */
        assert_int_equal(pub(&a, "imago/v1/d/0123456789abcdef/state"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&a, "imago/v1/d/" ID_A "x/state"), IMAGO_AUTHZ_DENY);
}

static void test_wildcard_escape_over_device_level(void **state)
{
        struct imago_authz_identity a = who_of(IMAGO_AUTHZ_DEVICE, ID_A);

        (void)state;
        assert_int_equal(sub(&a, "imago/v1/d/+/state"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&a, "imago/v1/d/#"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&a, "imago/v1/+/" ID_A "/state"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&a, "+/v1/d/" ID_A "/state"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&a, "imago/+/d/" ID_A "/#"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&a, "imago/v1/#"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&a, "#"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&a, "+/+/+/+/+"), IMAGO_AUTHZ_DENY);
}

static void test_device_imago_root_wildcard(void **state)
{
        struct imago_authz_identity a = who_of(IMAGO_AUTHZ_DEVICE, ID_A);

        (void)state;
        assert_int_equal(sub(&a, "imago/v1/#"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&a, "imago/v1/#"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&a, "imago/#"), IMAGO_AUTHZ_DENY);
}

static void test_wildcard_inside_level_or_hash_not_last(void **state)
{
        struct imago_authz_identity a = who_of(IMAGO_AUTHZ_DEVICE, ID_A);

        (void)state;
        assert_int_equal(sub(&a, "imago/v1/d/" ID_A "/st+"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&a, "imago/v1/d/" ID_A "/#/x"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&a, "imago/v1/d/" ID_A "/a#"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&a, "imago/v1/d/" ID_A "/##"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&a, "imago/v1/d/" ID_A "/++"), IMAGO_AUTHZ_DENY);
}

static void test_wildcard_in_publish_topic(void **state)
{
        struct imago_authz_identity a = who_of(IMAGO_AUTHZ_DEVICE, ID_A);
        struct imago_authz_identity s = who_of(IMAGO_AUTHZ_SERVICE, "imago-cloud");

        (void)state;
        assert_int_equal(pub(&a, "imago/v1/d/" ID_A "/+"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&a, "imago/v1/d/" ID_A "/#"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&s, "imago/v1/d/+/rot/now"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&s, "imago/v1/#"), IMAGO_AUTHZ_DENY);
}

static void test_empty_levels_refused(void **state)
{
        struct imago_authz_identity a = who_of(IMAGO_AUTHZ_DEVICE, ID_A);
        struct imago_authz_identity s = who_of(IMAGO_AUTHZ_SERVICE, "imago-cloud");

        (void)state;
        assert_int_equal(pub(&a, "imago/v1/d/" ID_A "/"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&a, "imago/v1/d/" ID_A "//x"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&a, "/imago/v1/d/" ID_A "/x"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&a, "imago//v1/d/" ID_A "/x"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&s, "imago/v1//#"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&a, ""), IMAGO_AUTHZ_DENY);
        /* the bare prefix without a level below it */
        assert_int_equal(pub(&a, "imago/v1/d/" ID_A), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&s, "imago/v1"), IMAGO_AUTHZ_DENY);
}

static void test_nul_in_topic_refused(void **state)
{
        struct imago_authz_identity a = who_of(IMAGO_AUTHZ_DEVICE, ID_A);
        const char t[] = "imago/v1/d/" ID_A "/x\0/../" ID_B;
        const char *why = NULL;

        (void)state;
        assert_int_equal(imago_authz_topic(&a, IMAGO_AUTHZ_PUBLISH, t, sizeof(t) - 1, &why),
                         IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&a, "imago/v1/d/" ID_A "/\x01"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&a, "imago/v1/d/" ID_A "/\x7f"), IMAGO_AUTHZ_DENY);
        assert_int_equal(imago_authz_topic(&a, IMAGO_AUTHZ_PUBLISH, NULL, 3, &why),
                         IMAGO_AUTHZ_DENY);
}

static void test_overlong_topic_refused(void **state)
{
        struct imago_authz_identity a = who_of(IMAGO_AUTHZ_DEVICE, ID_A);
        char t[IMAGO_AUTHZ_TOPIC_MAX + 16];
        size_t n;

        (void)state;
        n = (size_t)snprintf(t, sizeof(t), "imago/v1/d/%s/", ID_A);
        memset(t + n, 'x', sizeof(t) - n - 1);
        t[IMAGO_AUTHZ_TOPIC_MAX] = '\0';
        assert_int_equal(pub(&a, t), IMAGO_AUTHZ_ALLOW);
        t[IMAGO_AUTHZ_TOPIC_MAX] = 'x';
        t[IMAGO_AUTHZ_TOPIC_MAX + 1] = '\0';
        assert_int_equal(pub(&a, t), IMAGO_AUTHZ_DENY);
}

static void test_too_many_levels_refused(void **state)
{
        struct imago_authz_identity s = who_of(IMAGO_AUTHZ_SERVICE, "imago-cloud");
        char t[IMAGO_AUTHZ_TOPIC_MAX + 1];
        size_t n;

        (void)state;
        n = (size_t)snprintf(t, sizeof(t), "imago/v1");
        while (n + 2 < 140) {
                t[n++] = '/';
                t[n++] = 'a';
        }
        t[n] = '\0';
        assert_int_equal(pub(&s, t), IMAGO_AUTHZ_DENY);
}

static void test_sys_topics_refused(void **state)
{
        struct imago_authz_identity a = who_of(IMAGO_AUTHZ_DEVICE, ID_A);
        struct imago_authz_identity s = who_of(IMAGO_AUTHZ_SERVICE, "imago-cloud");

        (void)state;
        assert_int_equal(sub(&a, "$SYS/#"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&s, "$SYS/#"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&s, "$SYS/broker/clients/connected"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&s, "$SYS/broker/x"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&s, "#"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&s, "+/#"), IMAGO_AUTHZ_DENY);
}

static void test_device_on_control_topic(void **state)
{
        struct imago_authz_identity a = who_of(IMAGO_AUTHZ_DEVICE, ID_A);
        struct imago_authz_identity b = who_of(IMAGO_AUTHZ_BIRTH, ID_A);

        (void)state;
        assert_int_equal(pub(&a, "$CONTROL/imago/v1"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&b, "$CONTROL/imago/v1"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&a, "$CONTROL/dynamic-security/v1"), IMAGO_AUTHZ_DENY);
}

static void test_service_on_control_topic(void **state)
{
        struct imago_authz_identity s = who_of(IMAGO_AUTHZ_SERVICE, "imago-cloud");

        (void)state;
        assert_int_equal(pub(&s, "$CONTROL/imago/v1"), IMAGO_AUTHZ_ALLOW);
        /* only that control topic, and only to publish */
        assert_int_equal(sub(&s, "$CONTROL/imago/v1"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&s, "$CONTROL/imago/v1/x"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&s, "$CONTROL/imago/v2"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&s, "$CONTROL/dynamic-security/v1"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&s, "$CONTROL/broker/v1"), IMAGO_AUTHZ_DENY);
}

static void test_service_topics(void **state)
{
        struct imago_authz_identity s = who_of(IMAGO_AUTHZ_SERVICE, "imago-cloud");

        (void)state;
        assert_int_equal(sub(&s, "imago/v1/#"), IMAGO_AUTHZ_ALLOW);
        assert_int_equal(sub(&s, "imago/v1/prov/+/req"), IMAGO_AUTHZ_ALLOW);
        assert_int_equal(sub(&s, "imago/v1/d/+/rot/req"), IMAGO_AUTHZ_ALLOW);
        assert_int_equal(sub(&s, "imago/v1/svc/seen"), IMAGO_AUTHZ_ALLOW);
        assert_int_equal(pub(&s, "imago/v1/d/" ID_A "/rot/now"), IMAGO_AUTHZ_ALLOW);
        assert_int_equal(pub(&s, "imago/v1/prov/" ID_A "/resp"), IMAGO_AUTHZ_ALLOW);
        assert_int_equal(sub(&s, "imago/#"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&s, "imago/+/#"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&s, "other/v1/x"), IMAGO_AUTHZ_DENY);
}

static void test_birth_cert_on_operational_topics(void **state)
{
        struct imago_authz_identity b = who_of(IMAGO_AUTHZ_BIRTH, ID_A);

        (void)state;
        assert_int_equal(pub(&b, "imago/v1/d/" ID_A "/state"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&b, "imago/v1/d/" ID_A "/rot/req"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&b, "imago/v1/d/" ID_A "/#"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&b, "imago/v1/svc/seen"), IMAGO_AUTHZ_DENY);
}

static void test_birth_cert_prov_topics_only(void **state)
{
        struct imago_authz_identity b = who_of(IMAGO_AUTHZ_BIRTH, ID_A);

        (void)state;
        assert_int_equal(pub(&b, "imago/v1/prov/" ID_A "/req"), IMAGO_AUTHZ_ALLOW);
        assert_int_equal(sub(&b, "imago/v1/prov/" ID_A "/resp"), IMAGO_AUTHZ_ALLOW);
        /* not the other direction, not wildcards, not another device */
        assert_int_equal(pub(&b, "imago/v1/prov/" ID_A "/resp"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&b, "imago/v1/prov/" ID_A "/req"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&b, "imago/v1/prov/" ID_A "/#"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&b, "imago/v1/prov/" ID_A "/+"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&b, "imago/v1/prov/+/resp"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&b, "imago/v1/prov/" ID_B "/req"), IMAGO_AUTHZ_DENY);
        assert_int_equal(sub(&b, "imago/v1/prov/" ID_B "/resp"), IMAGO_AUTHZ_DENY);
        assert_int_equal(pub(&b, "imago/v1/prov/" ID_A "/req/x"), IMAGO_AUTHZ_DENY);
}

static void test_unknown_identity_gets_nothing(void **state)
{
        struct imago_authz_identity w;
        const char *why = NULL;

        (void)state;
        memset(&w, 0, sizeof(w));
        assert_int_equal(pub(&w, "imago/v1/d/" ID_A "/x"), IMAGO_AUTHZ_DENY);
        assert_int_equal(imago_authz_topic(NULL, IMAGO_AUTHZ_PUBLISH, "a", 1, &why),
                         IMAGO_AUTHZ_DENY);
        w = who_of(IMAGO_AUTHZ_DEVICE, ID_A);
        assert_int_equal(imago_authz_topic(&w, (enum imago_authz_action)7, "imago/v1/d/" ID_A "/x",
                                           strlen("imago/v1/d/" ID_A "/x"), &why),
                         IMAGO_AUTHZ_DENY);
        /* identity whose role was changed behind the setter's back: name no longer fits */
        w = who_of(IMAGO_AUTHZ_SERVICE, "imago-cloud");
        w.role = IMAGO_AUTHZ_DEVICE;
        assert_int_equal(pub(&w, "imago/v1/d/imago-cloud/x"), IMAGO_AUTHZ_DENY);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_role_needs_ou_and_issuer_to_agree),
            cmocka_unit_test(test_device_cn_not_a_device_id_refused),
            cmocka_unit_test(test_service_name_with_topic_characters_refused),
            cmocka_unit_test(test_denied_identity_cannot_connect),
            cmocka_unit_test(test_device_uses_its_own_topics),
            cmocka_unit_test(test_device_a_on_device_b_topics),
            cmocka_unit_test(test_wildcard_escape_over_device_level),
            cmocka_unit_test(test_device_imago_root_wildcard),
            cmocka_unit_test(test_wildcard_inside_level_or_hash_not_last),
            cmocka_unit_test(test_wildcard_in_publish_topic),
            cmocka_unit_test(test_empty_levels_refused),
            cmocka_unit_test(test_nul_in_topic_refused),
            cmocka_unit_test(test_overlong_topic_refused),
            cmocka_unit_test(test_too_many_levels_refused),
            cmocka_unit_test(test_sys_topics_refused),
            cmocka_unit_test(test_device_on_control_topic),
            cmocka_unit_test(test_service_on_control_topic),
            cmocka_unit_test(test_service_topics),
            cmocka_unit_test(test_birth_cert_on_operational_topics),
            cmocka_unit_test(test_birth_cert_prov_topics_only),
            cmocka_unit_test(test_unknown_identity_gets_nothing),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
