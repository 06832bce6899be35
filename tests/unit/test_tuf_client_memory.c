/*
 * The update decision's memory bound (docs/ota.md): the peak heap of a
 * refresh and a target lookup, measured by counting every malloc of the
 * process (this program replaces malloc and friends with counting wrappers
 * around glibc's), for repositories of 10 and 10,000 targets and with a
 * delegated role.  The bound checked is the one docs/ota.md states:
 *
 *   peak <= IMAGO_OTA_MEM_BASE + IMAGO_OTA_MEM_FACTOR * (bytes of metadata held)
 *
 * where the metadata held is root + timestamp + snapshot + targets (+ the
 * delegated roles loaded).  Also: a targets.json over the limit given to
 * the client is refused without its bytes ever being held (endless data
 * does not cost memory).  Skipped under AddressSanitizer (it owns malloc).
 */
#define _GNU_SOURCE

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <malloc.h>

#include "../support/heap_count.h"
#include "base/err.h"
#include "test_tuf_client_world.h"

#define IMAGO_OTA_MEM_BASE   (256u * 1024u)
#define IMAGO_OTA_MEM_FACTOR 16u

#ifndef HEAP_COUNT_OFF
static size_t held(struct world *w, const char *const *files, size_t n)
{
        size_t i, sum = 0;

        for (i = 0; i < n; i++) {
                struct wfile *f = w_find(w, files[i]);

                assert_non_null(f);
                sum += f->len;
        }
        return sum;
}

/* A world with n targets listed (their files are not published: lookups only). */
static struct world *world_n(size_t n, int deleg)
{
        struct world *w = w_new(0);
        char name[64], content[64];
        size_t i;

        for (i = 0; i < n; i++) {
                snprintf(name, sizeof(name), "images/fw-%06zu.bin", i);
                snprintf(content, sizeof(content), "image %zu", i);
                json_object_set_new(w->targets, name, tr_target(content));
        }
        if (deleg) {
                w->dg_targets = json_object();
                w->dg_name = "apps";
                w->dg_path = "apps/*";
                for (i = 0; i < n; i++) {
                        snprintf(name, sizeof(name), "apps/app-%06zu.bin", i);
                        snprintf(content, sizeof(content), "app %zu", i);
                        json_object_set_new(w->dg_targets, name, tr_target(content));
                }
        }
        w->ts_v = w->sn_v = w->tg_v = 2;
        w_publish(w);
        return w;
}

#endif

static void measure(size_t n, int deleg)
{
#ifndef HEAP_COUNT_OFF
        static const char *const top[] = {"m/1.root.json", "m/timestamp.json", "m/snapshot.json",
                                          "m/targets.json", "m/apps.json"};
        const struct imago_tuf_target *t;
        struct world *w = world_n(n, deleg);
        size_t base, bytes, used, bound;
        char want[64];

        bytes = held(w, top, deleg ? 5 : 4);
        assert_int_equal(w_open(w, TR_NOW), IMAGO_OK);
        imago_tuf_client_close(&w->c);
        base = heap_count_start();
        assert_int_equal(w_open(w, TR_NOW), IMAGO_OK);
        assert_int_equal(imago_tuf_client_refresh(&w->c), IMAGO_OK);
        snprintf(want, sizeof(want), "%s-%06zu.bin", deleg ? "apps/app" : "images/fw", n / 2);
        assert_int_equal(imago_tuf_client_find(&w->c, want, &t), IMAGO_OK);
        used = heap_count_peak_since(base);
        bound = IMAGO_OTA_MEM_BASE + IMAGO_OTA_MEM_FACTOR * bytes;
        printf("# %zu targets%s: metadata %zu bytes, peak heap of the decision %zu bytes "
               "(%.1f x metadata), bound %zu\n",
               n, deleg ? " (+ as many in a delegated role)" : "", bytes, used,
               (double)used / (double)bytes, bound);
        assert_true(used <= bound);
        w_free(w);
#else
        (void)n;
        (void)deleg;
        skip();
#endif
}

static void test_memory_10(void **state)
{
        (void)state;
        measure(10, 0);
}

static void test_memory_10000(void **state)
{
        (void)state;
        measure(10000, 0);
}

static void test_memory_10000_delegated(void **state)
{
        (void)state;
        measure(10000, 1);
}

/* A targets.json over the client's limit: refused, and the heap never held it. */
static void test_memory_endless_targets(void **state)
{
#ifndef HEAP_COUNT_OFF
        struct imago_tuf_limits lim;
        struct world *w = world_n(10000, 0);
        struct wfile *f = w_find(w, "m/targets.json");
        size_t base;

        (void)state;
        imago_tuf_limits_default(&lim);
        lim.targets_max = 64 * 1024;
        assert_true(f->len > 10 * lim.targets_max);
        imago_tuf_client_close(&w->c);
        base = heap_count_start();
        assert_int_equal(imago_tuf_client_open(&w->c, w->dir, "mem://m/", &w->fetch, &lim),
                         IMAGO_OK);
        w->c.now = TR_NOW;
        assert_int_equal(imago_tuf_client_refresh(&w->c), IMAGO_ETUF_LENGTH);
        assert_true(heap_count_peak_since(base) < f->len);
        w_free(w);
#else
        (void)state;
        skip();
#endif
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_memory_10),
            cmocka_unit_test(test_memory_10000),
            cmocka_unit_test(test_memory_10000_delegated),
            cmocka_unit_test(test_memory_endless_targets),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
