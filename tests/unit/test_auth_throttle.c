/* Unit tests of src/cloud/auth log-in throttling, with the clock in the test's hands. */
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

#define T0   1700000000000ull
#define MIN  60000ull
#define HOUR (60 * MIN)

static struct imago_auth_throttle *mk(size_t cap)
{
        struct imago_auth_throttle_cfg acc, net;
        struct imago_auth_throttle *t = NULL;

        imago_auth_throttle_defaults(&acc, &net);
        assert_int_equal(imago_auth_throttle_new(&acc, &net, cap, &t), 0);
        return t;
}

static void login_brute_force_throttled(void **state)
{
        struct imago_auth_throttle *t = mk(64);
        uint64_t now = T0, wait = 0;
        int i, tries = 0;

        (void)state;
        /* 3 free failures */
        for (i = 0; i < 3; i++) {
                assert_int_equal(imago_auth_throttle_check(t, "alice", "10.0.0.1", now, &wait), 0);
                imago_auth_throttle_failure(t, "alice", "10.0.0.1", now);
        }
        assert_int_equal(imago_auth_throttle_check(t, "alice", "10.0.0.1", now, &wait), 0);
        imago_auth_throttle_failure(t, "alice", "10.0.0.1", now);
        /* the 4th failure costs 1 s, then 2 s, 4 s ... */
        assert_int_equal(imago_auth_throttle_check(t, "alice", "10.0.0.1", now, &wait),
                         IMAGO_EAUTH_THROTTLED);
        assert_int_equal(wait, 1000);
        /* also from another address: the account is what is throttled */
        assert_int_equal(imago_auth_throttle_check(t, "alice", "10.9.9.9", now + 999, &wait),
                         IMAGO_EAUTH_THROTTLED);
        assert_int_equal(wait, 1);
        now += 1000;
        assert_int_equal(imago_auth_throttle_check(t, "alice", "10.0.0.1", now, &wait), 0);
        imago_auth_throttle_failure(t, "alice", "10.0.0.1", now);
        assert_int_equal(imago_auth_throttle_check(t, "alice", "10.0.0.1", now, &wait),
                         IMAGO_EAUTH_THROTTLED);
        assert_int_equal(wait, 2000);
        /* another account is not affected */
        assert_int_equal(imago_auth_throttle_check(t, "bob", NULL, now, &wait), 0);

        /* an attacker who waits exactly as told gets few guesses in an hour, then a lockout */
        imago_auth_throttle_free(t);
        t = mk(64);
        now = T0;
        while (now < T0 + HOUR) {
                if (imago_auth_throttle_check(t, "alice", NULL, now, &wait) != 0) {
                        now += wait;
                        continue;
                }
                imago_auth_throttle_failure(t, "alice", NULL, now);
                tries++;
        }
        /* 10 failures lock for 15 minutes: at most 10 per lockout window + the delays */
        assert_true(tries <= 50);
        assert_true(tries >= 10);
        imago_auth_throttle_free(t);
}

static void lockout_window(void **state)
{
        struct imago_auth_throttle *t = mk(64);
        uint64_t now = T0, wait = 0;
        int i;

        (void)state;
        for (i = 0; i < 10; i++) {
                imago_auth_throttle_check(t, "carol", NULL, now, &wait);
                now += wait;
                imago_auth_throttle_failure(t, "carol", NULL, now);
        }
        assert_int_equal(imago_auth_throttle_check(t, "carol", NULL, now, &wait),
                         IMAGO_EAUTH_THROTTLED);
        assert_int_equal(wait, 15 * MIN);
        assert_int_equal(imago_auth_throttle_check(t, "carol", NULL, now + 15 * MIN - 1, &wait),
                         IMAGO_EAUTH_THROTTLED);
        assert_int_equal(imago_auth_throttle_check(t, "carol", NULL, now + 15 * MIN, &wait), 0);
        /* still counted: the next failure locks again */
        imago_auth_throttle_failure(t, "carol", NULL, now + 15 * MIN);
        assert_int_equal(imago_auth_throttle_check(t, "carol", NULL, now + 15 * MIN, &wait),
                         IMAGO_EAUTH_THROTTLED);
        assert_int_equal(wait, 15 * MIN);
        imago_auth_throttle_free(t);
}

static void failures_forgotten_after_an_hour(void **state)
{
        struct imago_auth_throttle *t = mk(64);
        uint64_t wait = 0;
        int i;

        (void)state;
        for (i = 0; i < 3; i++)
                imago_auth_throttle_failure(t, "dave", NULL, T0);
        imago_auth_throttle_failure(t, "dave", NULL, T0 + HOUR);
        assert_int_equal(imago_auth_throttle_check(t, "dave", NULL, T0 + HOUR, &wait), 0);
        imago_auth_throttle_free(t);
}

static void password_spraying_throttled_by_address(void **state)
{
        struct imago_auth_throttle *t = mk(256);
        uint64_t wait = 0;
        char user[32];
        int i;

        (void)state;
        /* one wrong guess each on many accounts from one address */
        for (i = 0; i < 20; i++) {
                snprintf(user, sizeof(user), "user%d", i);
                assert_int_equal(imago_auth_throttle_check(t, user, "192.0.2.7", T0, &wait), 0);
                imago_auth_throttle_failure(t, user, "192.0.2.7", T0);
        }
        imago_auth_throttle_failure(t, "user20", "192.0.2.7", T0);
        assert_int_equal(imago_auth_throttle_check(t, "user99", "192.0.2.7", T0, &wait),
                         IMAGO_EAUTH_THROTTLED);
        assert_int_equal(wait, 1000);
        /* the same account from elsewhere is fine */
        assert_int_equal(imago_auth_throttle_check(t, "user99", "198.51.100.1", T0, &wait), 0);
        imago_auth_throttle_free(t);
}

static void success_resets_account_not_address(void **state)
{
        struct imago_auth_throttle *t = mk(64);
        uint64_t wait = 0;
        int i;

        (void)state;
        for (i = 0; i < 5; i++)
                imago_auth_throttle_failure(t, "erin", NULL, T0);
        for (i = 0; i < 25; i++)
                imago_auth_throttle_failure(t, NULL, "203.0.113.5", T0);
        imago_auth_throttle_success(t, "erin");
        assert_int_equal(imago_auth_throttle_check(t, "erin", NULL, T0, &wait), 0);
        assert_int_equal(imago_auth_throttle_check(t, "erin", "203.0.113.5", T0, &wait),
                         IMAGO_EAUTH_THROTTLED);
        imago_auth_throttle_free(t);
}

static void table_full_forgets_the_oldest(void **state)
{
        struct imago_auth_throttle *t = mk(2);
        uint64_t wait = 0;
        int i;

        (void)state;
        for (i = 0; i < 4; i++)
                imago_auth_throttle_failure(t, "old", NULL, T0);
        for (i = 0; i < 4; i++)
                imago_auth_throttle_failure(t, "mid", NULL, T0 + 1);
        imago_auth_throttle_failure(t, "new", NULL, T0 + 2);
        assert_int_equal(imago_auth_throttle_check(t, "old", NULL, T0 + 2, &wait), 0);
        assert_int_equal(imago_auth_throttle_check(t, "mid", NULL, T0 + 2, &wait),
                         IMAGO_EAUTH_THROTTLED);
        imago_auth_throttle_free(t);
}

static void bad_config(void **state)
{
        struct imago_auth_throttle_cfg acc, net;
        struct imago_auth_throttle *t = NULL;

        (void)state;
        imago_auth_throttle_defaults(&acc, &net);
        assert_int_equal(imago_auth_throttle_new(&acc, &net, 0, &t), IMAGO_EINVAL);
        acc.lockout_failures = acc.free_failures;
        assert_int_equal(imago_auth_throttle_new(&acc, &net, 8, &t), IMAGO_EINVAL);
        imago_auth_throttle_defaults(&acc, &net);
        acc.base_delay_ms = (uint64_t)1 << 62;
        acc.max_delay_ms = UINT64_MAX;
        assert_int_equal(imago_auth_throttle_new(&acc, &net, 8, &t), 0);
        /* huge delays saturate instead of wrapping */
        {
                int i;
                uint64_t wait = 0;

                for (i = 0; i < 9; i++)
                        imago_auth_throttle_failure(t, "x", NULL, 5);
                /* a fresh entry whose first delayed failure is already past the cap */
                imago_auth_throttle_free(t);
                acc.free_failures = 0;
                acc.base_delay_ms = UINT64_MAX - 1;
                assert_int_equal(imago_auth_throttle_new(&acc, &net, 8, &t), 0);
                imago_auth_throttle_failure(t, "x", NULL, 5);
                assert_int_equal(imago_auth_throttle_check(t, "x", NULL, 5, &wait),
                                 IMAGO_EAUTH_THROTTLED);
                assert_int_equal(wait, UINT64_MAX - 5);
        }
        imago_auth_throttle_free(t);
        assert_null(t = NULL);
        assert_int_equal(imago_auth_throttle_check(NULL, "x", NULL, 0, NULL), IMAGO_EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(login_brute_force_throttled),
            cmocka_unit_test(lockout_window),
            cmocka_unit_test(failures_forgotten_after_an_hour),
            cmocka_unit_test(password_spraying_throttled_by_address),
            cmocka_unit_test(success_resets_account_not_address),
            cmocka_unit_test(table_full_forgets_the_oldest),
            cmocka_unit_test(bad_config),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
