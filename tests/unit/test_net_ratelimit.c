/* imago_ratelimit: token buckets per key, refill, retry-after, LRU forgetting, arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "base/err.h"
#include "net/https.h"

static void test_burst_then_refused_with_retry_after(void **state)
{
        struct imago_ratelimit *rl = NULL;
        uint64_t ra = 0;
        int i;

        (void)state;
        assert_int_equal(imago_ratelimit_new(2.0, 5.0, 16, &rl), IMAGO_OK);
        for (i = 0; i < 5; i++)
                assert_int_equal(imago_ratelimit_take(rl, "1.2.3.4", 1000, &ra), IMAGO_OK);
        assert_int_equal(imago_ratelimit_take(rl, "1.2.3.4", 1000, &ra), IMAGO_EAPI_RATE);
        assert_int_equal(ra, 500); /* one token at 2/s */
        /* Another key has its own bucket. */
        assert_int_equal(imago_ratelimit_take(rl, "5.6.7.8", 1000, NULL), IMAGO_OK);
        /* 250 ms: half a token, still refused, 250 ms to go. */
        assert_int_equal(imago_ratelimit_take(rl, "1.2.3.4", 1250, &ra), IMAGO_EAPI_RATE);
        assert_int_equal(ra, 250);
        assert_int_equal(imago_ratelimit_take(rl, "1.2.3.4", 1500, &ra), IMAGO_OK);
        assert_int_equal(imago_ratelimit_take(rl, "1.2.3.4", 1500, &ra), IMAGO_EAPI_RATE);
        /* A long pause refills up to the burst only. */
        for (i = 0; i < 5; i++)
                assert_int_equal(imago_ratelimit_take(rl, "1.2.3.4", 100000, NULL), IMAGO_OK);
        assert_int_equal(imago_ratelimit_take(rl, "1.2.3.4", 100000, NULL), IMAGO_EAPI_RATE);
        /* A clock that goes back refills nothing. */
        assert_int_equal(imago_ratelimit_take(rl, "1.2.3.4", 50000, NULL), IMAGO_EAPI_RATE);
        imago_ratelimit_free(rl);
}

static void test_capacity_forgets_least_recently_used(void **state)
{
        struct imago_ratelimit *rl = NULL;
        char key[32];
        int i;

        (void)state;
        assert_int_equal(imago_ratelimit_new(0.001, 1.0, 3, &rl), IMAGO_OK);
        assert_int_equal(imago_ratelimit_take(rl, "a", 0, NULL), IMAGO_OK);
        assert_int_equal(imago_ratelimit_take(rl, "b", 0, NULL), IMAGO_OK);
        assert_int_equal(imago_ratelimit_take(rl, "c", 0, NULL), IMAGO_OK);
        assert_int_equal(imago_ratelimit_take(rl, "a", 0, NULL), IMAGO_EAPI_RATE); /* a is recent */
        assert_int_equal(imago_ratelimit_take(rl, "d", 0, NULL), IMAGO_OK);        /* forgets b */
        assert_int_equal(imago_ratelimit_take(rl, "a", 0, NULL), IMAGO_EAPI_RATE);
        assert_int_equal(imago_ratelimit_take(rl, "c", 0, NULL), IMAGO_EAPI_RATE);
        assert_int_equal(imago_ratelimit_take(rl, "b", 0, NULL), IMAGO_OK); /* b was forgotten */
        /* Many keys: memory stays bounded by the capacity (ASan/LSan see any leak). */
        for (i = 0; i < 10000; i++) {
                snprintf(key, sizeof(key), "k%d", i);
                assert_int_equal(imago_ratelimit_take(rl, key, 0, NULL), IMAGO_OK);
        }
        imago_ratelimit_free(rl);
}

static void test_arguments(void **state)
{
        struct imago_ratelimit *rl = NULL;
        char big[300];

        (void)state;
        assert_int_equal(imago_ratelimit_new(0.0, 1.0, 1, &rl), IMAGO_EINVAL);
        assert_int_equal(imago_ratelimit_new(-1.0, 1.0, 1, &rl), IMAGO_EINVAL);
        assert_int_equal(imago_ratelimit_new(1.0, 0.5, 1, &rl), IMAGO_EINVAL);
        assert_int_equal(imago_ratelimit_new(1.0, 1.0, 0, &rl), IMAGO_EINVAL);
        assert_int_equal(imago_ratelimit_new(1.0 / 0.0, 1.0, 1, &rl), IMAGO_EINVAL);
        assert_null(rl);
        assert_int_equal(imago_ratelimit_new(1.0, 1.0, 1, &rl), IMAGO_OK);
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(imago_ratelimit_take(rl, big, 0, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_ratelimit_take(rl, NULL, 0, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_ratelimit_take(rl, "", 0, NULL), IMAGO_OK);
        imago_ratelimit_free(rl);
        imago_ratelimit_free(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_burst_then_refused_with_retry_after),
            cmocka_unit_test(test_capacity_forgets_least_recently_used),
            cmocka_unit_test(test_arguments),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
