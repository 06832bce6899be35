/* Unit tests of src/cloud/auth passwords: argon2id hashes, bounds on stored hashes, policy. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "test_vectors.h"

#include "base/err.h"
#include "cloud/auth/auth.h"

#define PW "a long enough passphrase"

/* Cheap parameters so the tests take milliseconds; the bounds stay the defaults. */
static void fast(struct imago_auth_argon2 *p)
{
        imago_auth_argon2_defaults(p);
        p->t_cost = 1;
        p->m_kib = 256;
        p->lanes = 1;
}

static void right_password(void **state)
{
        struct imago_auth_argon2 p;
        char h[IMAGO_AUTH_HASH_MAX];

        (void)state;
        fast(&p);
        assert_int_equal(imago_auth_password_hash(&p, PW, strlen(PW), h), 0);
        assert_true(strncmp(h, "$argon2id$v=19$m=256,t=1,p=1$", 29) == 0);
        assert_int_equal(imago_auth_password_verify(&p, h, PW, strlen(PW)), 0);
        assert_int_equal(imago_auth_password_needs_rehash(&p, h), 0);
}

static void wrong_password(void **state)
{
        struct imago_auth_argon2 p;
        char h[IMAGO_AUTH_HASH_MAX];

        (void)state;
        fast(&p);
        assert_int_equal(imago_auth_password_hash(&p, PW, strlen(PW), h), 0);
        assert_int_equal(imago_auth_password_verify(&p, h, "a long enough passphrasE", strlen(PW)),
                         IMAGO_EAUTH_PASSWORD);
        assert_int_equal(imago_auth_password_verify(&p, h, PW, strlen(PW) - 1),
                         IMAGO_EAUTH_PASSWORD);
        assert_int_equal(imago_auth_password_verify(&p, h, "", 0), IMAGO_EAUTH_PASSWORD);
        /* a password is bytes: an embedded NUL is not the end */
        assert_int_equal(imago_auth_password_verify(&p, h, PW "\0x", strlen(PW) + 2),
                         IMAGO_EAUTH_PASSWORD);
}

static void unknown_user_costs_a_hash(void **state)
{
        struct imago_auth_argon2 p;

        (void)state;
        fast(&p);
        assert_int_equal(imago_auth_password_verify(&p, NULL, PW, strlen(PW)),
                         IMAGO_EAUTH_PASSWORD);
}

static void salts_differ(void **state)
{
        struct imago_auth_argon2 p;
        char h1[IMAGO_AUTH_HASH_MAX], h2[IMAGO_AUTH_HASH_MAX];

        (void)state;
        fast(&p);
        assert_int_equal(imago_auth_password_hash(&p, PW, strlen(PW), h1), 0);
        assert_int_equal(imago_auth_password_hash(&p, PW, strlen(PW), h2), 0);
        assert_string_not_equal(h1, h2);
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A forged row asking for 4 GiB and 1000 passes is refused before any work. */
static void forged_hash_parameters_bounded(void **state)
{
        struct imago_auth_argon2 p;
        char h[IMAGO_AUTH_HASH_MAX], forged[IMAGO_AUTH_HASH_MAX];
        double t0;
        const char *rest;

        (void)state;
        fast(&p);
        assert_int_equal(imago_auth_password_hash(&p, PW, strlen(PW), h), 0);
        rest = strchr(h + 1, '$');
        rest = strchr(rest + 1, '$');
        rest = strchr(rest + 1, '$'); /* "$salt$hash" */
        snprintf(forged, sizeof(forged), "$argon2id$v=19$m=4194304,t=1000,p=1%s", rest);
        t0 = now_s();
        assert_int_equal(imago_auth_password_verify(&p, forged, PW, strlen(PW)), IMAGO_EAUTH_HASH);
        assert_true(now_s() - t0 < 0.5);
        /* the caller's bounds apply: the same valid hash over a tighter limit */
        p.max_m_kib = 128;
        p.m_kib = 64;
        assert_int_equal(imago_auth_password_verify(&p, h, PW, strlen(PW)), IMAGO_EAUTH_HASH);
}

static void hash_case(const char *file, const uint8_t *data, size_t len, int want, void *arg)
{
        const struct imago_auth_argon2 *p = arg;
        const char *stored = (const char *)data; /* imago_file_read terminates it */

        (void)len;
        if (imago_auth_password_verify(p, stored, PW, strlen(PW)) != want)
                fail_msg("%s: want %s", file, imago_errname(want));
        assert_int_equal(imago_auth_password_needs_rehash(p, stored), 1);
}

static void stored_hash_vectors(void **state)
{
        struct imago_auth_argon2 p;

        (void)state;
        fast(&p);
        assert_true(test_vec_each(IMAGO_SOURCE_DIR "/tests/vectors/auth", ".hash", hash_case, &p) >=
                    20);
}

static void policy(void **state)
{
        (void)state;
        assert_int_equal(imago_auth_password_policy("alice", PW, strlen(PW)), 0);
        assert_int_equal(imago_auth_password_policy(NULL, "short", 5), IMAGO_EAUTH_POLICY);
        assert_int_equal(imago_auth_password_policy(NULL, "elevenchars", 11), IMAGO_EAUTH_POLICY);
        assert_int_equal(imago_auth_password_policy(NULL, "twelve chars", 12), 0);
        assert_int_equal(imago_auth_password_policy(NULL, "aaaaaaaaaaaaaaaa", 16),
                         IMAGO_EAUTH_POLICY);
        assert_int_equal(imago_auth_password_policy(NULL, "Password1234", 12), IMAGO_EAUTH_POLICY);
        assert_int_equal(imago_auth_password_policy("Administrator.1", "administrator.1", 15),
                         IMAGO_EAUTH_POLICY);
        assert_int_equal(imago_auth_password_policy(NULL, "with a\0 NUL byte", 16),
                         IMAGO_EAUTH_POLICY);
        {
                char big[IMAGO_AUTH_PASSWORD_MAX + 1];

                memset(big, 'x', sizeof(big));
                big[0] = 'y';
                assert_int_equal(imago_auth_password_policy(NULL, big, sizeof(big)),
                                 IMAGO_EAUTH_POLICY);
                assert_int_equal(imago_auth_password_policy(NULL, big, sizeof(big) - 1), 0);
        }
}

static void needs_rehash_on_new_parameters(void **state)
{
        struct imago_auth_argon2 p;
        char h[IMAGO_AUTH_HASH_MAX];

        (void)state;
        fast(&p);
        assert_int_equal(imago_auth_password_hash(&p, PW, strlen(PW), h), 0);
        p.m_kib = 512;
        assert_int_equal(imago_auth_password_needs_rehash(&p, h), 1);
        /* and an old hash still verifies while within bounds */
        assert_int_equal(imago_auth_password_verify(&p, h, PW, strlen(PW)), 0);
}

static void bad_arguments(void **state)
{
        struct imago_auth_argon2 p;
        char h[IMAGO_AUTH_HASH_MAX];

        (void)state;
        fast(&p);
        p.m_kib = 4; /* below 8 KiB per lane */
        assert_int_equal(imago_auth_password_hash(&p, PW, strlen(PW), h), IMAGO_EINVAL);
        fast(&p);
        p.t_cost = 9; /* over its own bound */
        assert_int_equal(imago_auth_password_hash(&p, PW, strlen(PW), h), IMAGO_EINVAL);
        assert_int_equal(imago_auth_password_hash(NULL, PW, strlen(PW), h), IMAGO_EINVAL);
        assert_int_equal(imago_auth_password_verify(NULL, h, PW, strlen(PW)), IMAGO_EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(right_password),
            cmocka_unit_test(wrong_password),
            cmocka_unit_test(unknown_user_costs_a_hash),
            cmocka_unit_test(salts_differ),
            cmocka_unit_test(forged_hash_parameters_bounded),
            cmocka_unit_test(stored_hash_vectors),
            cmocka_unit_test(policy),
            cmocka_unit_test(needs_rehash_on_new_parameters),
            cmocka_unit_test(bad_arguments),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
