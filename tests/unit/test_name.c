/* Unit tests of src/base/name.h: the rule [A-Za-z0-9._-]{1,max} of hardware ids, tags and
 * groups, over NUL-terminated strings and over spans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/name.h"

/* Every character of the set is accepted, one at a time and all together. */
static void test_name_accepts_the_set(void **state)
{
        static const char set[] =
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
        char one[2] = {0, 0};
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(set) - 1; i++) {
                one[0] = set[i];
                assert_true(imago_name_valid(one, 1));
                assert_true(imago_name_valid_n(&set[i], 1, 1));
        }
        assert_true(imago_name_valid(set, sizeof(set) - 1));
        assert_true(imago_name_valid_n(set, sizeof(set) - 1, sizeof(set) - 1));
        assert_true(imago_name_valid("rpi4-rev.1_b", 64));
}

/* Every byte outside the set is refused, wherever it stands. */
static void test_name_refuses_other_bytes(void **state)
{
        char s[4] = "a-b";
        int c;

        (void)state;
        for (c = 1; c < 256; c++) {
                int in = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';

                s[1] = (char)c;
                assert_int_equal(imago_name_valid(s, 64), in);
                assert_int_equal(imago_name_valid_n(s, 3, 64), in);
        }
        assert_false(imago_name_valid("a b", 64));
        assert_false(imago_name_valid("a/b", 64));
        assert_false(imago_name_valid("caf\xc3\xa9", 64));
        assert_false(imago_name_valid_n("a\0b", 3, 64)); /* a NUL inside a span */
}

/* Length: 1..max; empty and NULL refused; max 0 accepts nothing. */
static void test_name_length_bounds(void **state)
{
        char s[66];

        (void)state;
        memset(s, 'x', sizeof(s) - 1);
        s[65] = '\0';
        assert_false(imago_name_valid(s, 64)); /* 65 */
        assert_false(imago_name_valid_n(s, 65, 64));
        s[64] = '\0';
        assert_true(imago_name_valid(s, 64)); /* 64 */
        assert_true(imago_name_valid_n(s, 64, 64));
        assert_false(imago_name_valid(s, 63));
        assert_false(imago_name_valid("", 64));
        assert_false(imago_name_valid_n("", 0, 64));
        assert_false(imago_name_valid(NULL, 64));
        assert_false(imago_name_valid_n(NULL, 1, 64));
        assert_false(imago_name_valid("a", 0));
        assert_false(imago_name_valid_n("a", 1, 0));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_name_accepts_the_set),
            cmocka_unit_test(test_name_refuses_other_bytes),
            cmocka_unit_test(test_name_length_bounds),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
