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

#include "ota_fixture.h"

#define OTA_MEM_BASE  (256u * 1024u)
#define OTA_MEM_DELTA (512u * 1024u)

#if defined(__SANITIZE_ADDRESS__)
#define NO_COUNT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_COUNT 1
#endif
#endif

#ifndef NO_COUNT
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static size_t cur, peak;

static void add(void *p)
{
        if (p != NULL) {
                cur += malloc_usable_size(p);
                if (cur > peak)
                        peak = cur;
        }
}

static void sub(void *p)
{
        if (p != NULL)
                cur -= malloc_usable_size(p);
}

void *malloc(size_t n)
{
        void *p = __libc_malloc(n);

        add(p);
        return p;
}

void *calloc(size_t a, size_t b)
{
        void *p = __libc_calloc(a, b);

        add(p);
        return p;
}

void *realloc(void *old, size_t n)
{
        void *p;

        sub(old);
        p = __libc_realloc(old, n);
        add(p != NULL ? p : (n == 0 ? NULL : old));
        return p;
}

void free(void *p)
{
        sub(p);
        __libc_free(p);
}

void *memalign(size_t a, size_t n)
{
        void *p = __libc_memalign(a, n);

        add(p);
        return p;
}

void *aligned_alloc(size_t a, size_t n)
{
        return memalign(a, n);
}

int posix_memalign(void **out, size_t a, size_t n)
{
        void *p = memalign(a, n);

        if (p == NULL)
                return 12; /* ENOMEM */
        *out = p;
        return 0;
}

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

        base = cur;
        peak = cur;
        assert_int_equal(imago_ota_check(f.ota, &oc), IMAGO_OK);
        assert_int_equal(oc, IMAGO_OTA_REBOOTED);
        assert_true(fx_secondary_has(&f, &v2));
        assert_int_equal(f.delta_fetches, with_delta ? 1 : 0);
        used = peak - base;
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
#ifdef NO_COUNT
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
