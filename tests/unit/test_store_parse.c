/*
 * The store's pure parsers, without a token: record lists from
 * tests/vectors/store/records.txt (each line names its expected error), the
 * copy header encode/parse round trip and its bounds, and the rule that a
 * failed parse leaves the index empty.
 */
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
#include "device/store/store.h"

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
        size_t n = 0;

        if (strcmp(s, "-") == 0)
                return 0;
        while (s[0] != 0 && s[1] != 0) {
                unsigned v;

                assert_true(n < cap);
                assert_int_equal(sscanf(s, "%2x", &v), 1);
                out[n++] = (uint8_t)v;
                s += 2;
        }
        return n;
}

static void test_record_vectors(void **state)
{
        static char line[20000];
        static uint8_t buf[10000];
        char vpath[512];
        int cases = 0;
        FILE *f;

        (void)state;
        snprintf(vpath, sizeof(vpath), "%s/tests/vectors/store/records.txt", IMAGO_SOURCE_DIR);
        f = fopen(vpath, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f) != NULL) {
                struct imago_store_index ix;
                char *name, *hex, *save = NULL;
                int expect = 1, r;
                size_t len;
                uint8_t *copy;

                if (line[0] == '#' || line[0] == '\n')
                        continue;
                name = strtok_r(line, " ", &save);
                hex = strtok_r(NULL, " ", &save);
                assert_non_null(name);
                assert_non_null(hex);
                assert_int_equal(imago_err_from_name(name, &expect), IMAGO_OK);
                len = unhex(hex, buf, sizeof(buf));
                copy = malloc(len + 1); /* exact size: ASan catches a read past the end */
                assert_non_null(copy);
                memcpy(copy, buf, len);
                memset(&ix, 0x5a, sizeof(ix));
                r = imago_store_records_parse(&ix, copy, len);
                if (r != expect)
                        fail_msg("%s: got %s want %s", save, imago_errname(r), name);
                if (r != IMAGO_OK)
                        assert_int_equal(ix.n, 0);
                free(copy);
                cases++;
        }
        fclose(f);
        assert_true(cases >= 20);
}

static void test_header_round_trip_and_bounds(void **state)
{
        static uint8_t region[IMAGO_STORE_REGION_SIZE];
        struct imago_store_hdr h = {0}, back;

        (void)state;
        h.seq = 0x0102030405060708ull;
        memset(h.device, 'D', sizeof(h.device));
        memset(h.iv, 0x11, sizeof(h.iv));
        h.ct_len = IMAGO_STORE_PAYLOAD_MAX;
        imago_store_hdr_encode(&h, region);
        assert_memory_equal(region, IMAGO_STORE_MAGIC, 8);
        assert_int_equal(imago_store_hdr_parse(&back, region, sizeof(region)), IMAGO_OK);
        assert_memory_equal(&back, &h, sizeof(h));
        /* the largest list fits the region exactly; one byte less of region does not */
        assert_int_equal(imago_store_hdr_parse(&back, region, sizeof(region) - 1),
                         IMAGO_ESTORE_FORMAT);
        assert_int_equal(imago_store_hdr_parse(&back, region, IMAGO_STORE_HDR_LEN - 1),
                         IMAGO_ETRUNC);
        assert_int_equal(imago_store_hdr_parse(&back, region, IMAGO_STORE_HDR_LEN),
                         IMAGO_ESTORE_FORMAT);
        h.ct_len = 0;
        imago_store_hdr_encode(&h, region);
        assert_int_equal(imago_store_hdr_parse(&back, region, IMAGO_STORE_HDR_LEN + 16), IMAGO_OK);
        assert_int_equal(imago_store_is_erased(region, sizeof(region)), 0);
        memset(region, 0, sizeof(region));
        assert_int_equal(imago_store_is_erased(region, sizeof(region)), 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_record_vectors),
            cmocka_unit_test(test_header_round_trip_and_bounds),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
