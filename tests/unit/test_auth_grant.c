/* Unit tests of src/cloud/auth operator roles: per device group, with an expiry. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "cloud/auth/auth.h"

#define NOW 1700000000

static struct imago_auth_grant grant(enum imago_auth_role role, const char *group, int64_t nb,
                                     int64_t exp)
{
        struct imago_auth_grant g;

        memset(&g, 0, sizeof(g));
        g.role = role;
        snprintf(g.group, sizeof(g.group), "%s", group);
        g.not_before = nb;
        g.expires = exp;
        return g;
}

static void expired_operator_grant(void **state)
{
        struct imago_auth_grant g = grant(IMAGO_ROLE_OPERATOR, "lab", NOW - 100, NOW + 100);

        (void)state;
        assert_int_equal(imago_auth_allowed(&g, 1, NOW, "lab", IMAGO_ACT_COMMAND), 1);
        assert_int_equal(imago_auth_allowed(&g, 1, NOW + 99, "lab", IMAGO_ACT_COMMAND), 1);
        /* the grant stops working at its expiry, with nobody doing anything */
        assert_int_equal(imago_auth_allowed(&g, 1, NOW + 100, "lab", IMAGO_ACT_COMMAND), 0);
        assert_int_equal(imago_auth_allowed(&g, 1, NOW + 100, "lab", IMAGO_ACT_VIEW), 0);
        assert_int_equal(imago_auth_roles_summary(&g, 1, NOW + 100), 0);
        /* and not before its start */
        assert_int_equal(imago_auth_allowed(&g, 1, NOW - 101, "lab", IMAGO_ACT_VIEW), 0);
}

static void role_not_granted_for_group(void **state)
{
        struct imago_auth_grant g[2] = {
            grant(IMAGO_ROLE_OPERATOR, "lab", NOW - 1, NOW + 100),
            grant(IMAGO_ROLE_VIEWER, "field", NOW - 1, NOW + 100),
        };

        (void)state;
        assert_int_equal(imago_auth_allowed(g, 2, NOW, "lab", IMAGO_ACT_COMMAND), 1);
        assert_int_equal(imago_auth_allowed(g, 2, NOW, "field", IMAGO_ACT_VIEW), 1);
        assert_int_equal(imago_auth_allowed(g, 2, NOW, "field", IMAGO_ACT_COMMAND), 0);
        assert_int_equal(imago_auth_allowed(g, 2, NOW, "other", IMAGO_ACT_VIEW), 0);
        /* exact match: no prefixes, no case folding, no wildcards */
        assert_int_equal(imago_auth_allowed(g, 2, NOW, "la", IMAGO_ACT_VIEW), 0);
        assert_int_equal(imago_auth_allowed(g, 2, NOW, "lab2", IMAGO_ACT_VIEW), 0);
        assert_int_equal(imago_auth_allowed(g, 2, NOW, "LAB", IMAGO_ACT_VIEW), 0);
        assert_int_equal(imago_auth_allowed(g, 2, NOW, "*", IMAGO_ACT_VIEW), 0);
        assert_int_equal(imago_auth_allowed(g, 2, NOW, "", IMAGO_ACT_VIEW), 0);
        assert_int_equal(imago_auth_allowed(g, 2, NOW, NULL, IMAGO_ACT_VIEW), 0);
}

static void role_matrix(void **state)
{
        static const struct {
                enum imago_auth_role role;
                int allowed[8]; /* by action 1..7 */
        } m[] = {
            {IMAGO_ROLE_VIEWER, {0, 1, 0, 0, 0, 0, 0, 0}},
            {IMAGO_ROLE_OPERATOR, {0, 1, 1, 1, 0, 0, 0, 0}},
            {IMAGO_ROLE_RELEASE_MANAGER, {0, 1, 0, 0, 1, 0, 0, 0}},
            {IMAGO_ROLE_SECURITY_ADMIN, {0, 1, 0, 0, 0, 1, 1, 1}},
        };
        size_t i;
        int a;

        (void)state;
        for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
                struct imago_auth_grant g = grant(m[i].role, "g", 0, NOW + 1);

                for (a = IMAGO_ACT_VIEW; a <= IMAGO_ACT_READ_AUDIT; a++) {
                        if (imago_auth_allowed(&g, 1, NOW, "g", (enum imago_auth_action)a) !=
                            m[i].allowed[a])
                                fail_msg("role %d action %d", m[i].role, a);
                }
                assert_int_equal(imago_auth_allowed(&g, 1, NOW, "g", (enum imago_auth_action)0), 0);
                assert_int_equal(imago_auth_allowed(&g, 1, NOW, "g", (enum imago_auth_action)8), 0);
        }
}

static void unknown_role_or_bad_group_grants_nothing(void **state)
{
        struct imago_auth_grant g[3] = {
            grant((enum imago_auth_role)99, "g", 0, NOW + 1),
            grant((enum imago_auth_role)0, "g", 0, NOW + 1),
            grant(IMAGO_ROLE_SECURITY_ADMIN, "bad group", 0, NOW + 1),
        };

        (void)state;
        assert_int_equal(imago_auth_allowed(g, 3, NOW, "g", IMAGO_ACT_VIEW), 0);
        assert_int_equal(imago_auth_allowed(g, 3, NOW, "bad group", IMAGO_ACT_VIEW), 0);
        assert_int_equal(imago_auth_roles_summary(g, 3, NOW), 0);
        assert_int_equal(imago_auth_allowed(NULL, 0, NOW, "g", IMAGO_ACT_VIEW), 0);
        /* a group name filling the whole array without a NUL is refused, not overread */
        memset(g[2].group, 'a', sizeof(g[2].group));
        assert_int_equal(imago_auth_allowed(&g[2], 1, NOW, "a", IMAGO_ACT_VIEW), 0);
}

static void summary_and_names(void **state)
{
        struct imago_auth_grant g[3] = {
            grant(IMAGO_ROLE_OPERATOR, "a", 0, NOW + 1), grant(IMAGO_ROLE_VIEWER, "b", 0, NOW + 1),
            grant(IMAGO_ROLE_SECURITY_ADMIN, "c", 0, NOW), /* expired */
        };
        enum imago_auth_role r;

        (void)state;
        assert_int_equal(imago_auth_roles_summary(g, 3, NOW),
                         (1u << IMAGO_ROLE_OPERATOR) | (1u << IMAGO_ROLE_VIEWER));
        assert_string_equal(imago_auth_role_name(IMAGO_ROLE_RELEASE_MANAGER), "release_manager");
        assert_null(imago_auth_role_name((enum imago_auth_role)7));
        assert_int_equal(imago_auth_role_from_name("security_admin", &r), 0);
        assert_int_equal(r, IMAGO_ROLE_SECURITY_ADMIN);
        assert_int_equal(imago_auth_role_from_name("admin", &r), IMAGO_EINVAL);
        assert_int_equal(imago_auth_role_from_name("Viewer", &r), IMAGO_EINVAL);
        assert_int_equal(imago_auth_group_valid("fleet-eu_1.a"), 1);
        assert_int_equal(imago_auth_group_valid("x' OR '1'='1"), 0);
        {
                char big[IMAGO_AUTH_GROUP_MAX + 2];

                memset(big, 'g', sizeof(big));
                big[IMAGO_AUTH_GROUP_MAX] = '\0';
                assert_int_equal(imago_auth_group_valid(big), 1);
                big[IMAGO_AUTH_GROUP_MAX] = 'g';
                big[IMAGO_AUTH_GROUP_MAX + 1] = '\0';
                assert_int_equal(imago_auth_group_valid(big), 0);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(expired_operator_grant),
            cmocka_unit_test(role_not_granted_for_group),
            cmocka_unit_test(role_matrix),
            cmocka_unit_test(unknown_role_or_bad_group_grants_nothing),
            cmocka_unit_test(summary_and_names),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
