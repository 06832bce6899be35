/*
 * The memory bound of an update on the device (docs/ota.md "Device", Memory): the peak heap of
 * a whole check (both repositories refreshed, decision, download, delta apply, flash write),
 * measured by counting every allocation of this program, is at most
 *   OTA_MEM_BASE + 16 x H + 2 x S + OTA_MEM_DELTA
 * with H the larger of the two repositories' metadata held, S the image size, and the delta
 * decoder's buffers.  Skipped under AddressSanitizer (it owns malloc).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <malloc.h>

#include "../support/heap_count.h"
#include "ota_fixture.h"

#define OTA_MEM_BASE  (256u * 1024u)
#define OTA_MEM_DELTA (512u * 1024u)

#ifndef HEAP_COUNT_OFF

#define T2 "fw/dev-2.img"

/* Bytes of the metadata files of one repository (what its trusted set holds at most). */
static size_t dir_bytes(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        size_t sum = 0;

        assert_non_null(d);
        while ((e = readdir(d)) != NULL) {
                char p[800];
                struct stat sb;

                if (strstr(e->d_name, ".json") == NULL)
                        continue;
                FX_SNP(p, "%s/%s", dir, e->d_name);
                assert_int_equal(stat(p, &sb), 0);
                sum += (size_t)sb.st_size;
        }
        closedir(d);
        return sum;
}

static void measure(int with_delta)
{
        struct fx f;
        struct fx_img v1, v2;
        enum imago_ota_outcome oc;
        json_t *t = json_object();
        size_t base, used, hd, hi, h, bound, i;
        char d1[400], d2[400];

        fx_init(&f);
        fx_img_make(&f, &v1, 1, 1, 200000, 0x00);
        fx_img_make(&f, &v2, 2, 2, 200000, 0x5a);
        fx_flash_primary(&f, &v1);
        /* a repository with many targets, so H is not trivial */
        for (i = 0; i < 300; i++) {
                char name[64];

                FX_SNP(name, "fw/other-%zu.img", i);
                json_object_set_new(t, name, fx_img_entry(&v1));
        }
        json_object_set_new(t, T2, fx_img_entry(&v2));
        fx_put_target(&f, T2, v2.buf, v2.len);
        if (with_delta) {
                uint8_t *dl = NULL;
                size_t dn = 0;
                char name[256];
                json_t *e, *c;

                assert_int_equal(imago_delta_make(v1.buf, v1.len, v2.buf, v2.len, 3, &dl, &dn),
                                 IMAGO_OK);
                FX_SNP(name, "%s.from-%.16s.zst", T2, v1.hex);
                e = fx_entry(dl, dn, FX_HWID, v2.version, v2.sc);
                c = json_object_get(e, "custom");
                json_object_set_new(c, "base_sha256", json_string(v1.hex));
                json_object_set_new(c, "target_sha256", json_string(v2.hex));
                json_object_set_new(c, "target_length", json_integer((json_int_t)v2.len));
                json_object_set_new(t, name, e);
                fx_put_target(&f, name, dl, dn);
                imago_delta_free(dl);
        }
        fx_publish_image(&f, t);
        fx_assign(&f, T2, fx_img_entry(&v2), NULL);
        FX_SNP(d1, "%s/director", f.srv);
        FX_SNP(d2, "%s/image/metadata", f.srv);
        hd = dir_bytes(d1);
        hi = dir_bytes(d2);
        h = hd > hi ? hd : hi;
        assert_int_equal(fx_open(&f), IMAGO_OK);

        base = heap_count_start();
        assert_int_equal(imago_ota_check(f.ota, &oc), IMAGO_OK);
        assert_int_equal(oc, IMAGO_OTA_REBOOTED);
        assert_true(fx_secondary_has(&f, &v2));
        assert_int_equal(f.delta_fetches, with_delta ? 1 : 0);
        used = heap_count_peak_since(base);
        bound = OTA_MEM_BASE + 16 * h + 2 * v2.len + (with_delta ? OTA_MEM_DELTA : 0);
        printf("# %s: metadata H %zu bytes (director %zu, image %zu), image %zu bytes, peak heap "
               "of the check %zu bytes (bound %zu)\n",
               with_delta ? "delta" : "full", h, hd, hi, v2.len, used, bound);
        assert_true(used <= bound);
        fx_img_free(&v1);
        fx_img_free(&v2);
        fx_done(&f);
}

static void test_memory_full(void **state)
{
        (void)state;
        measure(0);
}

static void test_memory_delta(void **state)
{
        (void)state;
        measure(1);
}
#endif

int main(void)
{
#ifdef HEAP_COUNT_OFF
        printf("# skipped under AddressSanitizer\n");
        return 0;
#else
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_memory_full),
            cmocka_unit_test(test_memory_delta),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
#endif
}
