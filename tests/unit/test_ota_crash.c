/*
 * imago_ota crash consistency: a check stopped after each of its steps (as a process crash or
 * a power cut there would), then the device boots through imago_boot_go() and runs a fresh
 * client: every run ends with v2 confirmed in the primary, state idle and a succeeded report.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ota_fixture.h"

#define T2 "fw/dev-2.img"

struct world {
        struct fx f;
        struct fx_img v1, v2;
};

static void world_init(struct world *w, int with_delta)
{
        json_t *t;

        fx_init(&w->f);
        fx_img_make(&w->f, &w->v1, 1, 1, 40000, 0x00);
        fx_img_make(&w->f, &w->v2, 2, 2, 40000, 0x5a);
        fx_flash_primary(&w->f, &w->v1);
        t = json_object();
        json_object_set_new(t, T2, fx_img_entry(&w->v2));
        fx_put_target(&w->f, T2, w->v2.buf, w->v2.len);
        if (with_delta) {
                uint8_t *d = NULL;
                size_t dl = 0;
                char name[256];
                json_t *e, *c;

                assert_int_equal(
                    imago_delta_make(w->v1.buf, w->v1.len, w->v2.buf, w->v2.len, 3, &d, &dl),
                    IMAGO_OK);
                FX_SNP(name, "%s.from-%.16s.zst", T2, w->v1.hex);
                e = fx_entry(d, dl, FX_HWID, w->v2.version, w->v2.sc);
                c = json_object_get(e, "custom");
                json_object_set_new(c, "base_sha256", json_string(w->v1.hex));
                json_object_set_new(c, "target_sha256", json_string(w->v2.hex));
                json_object_set_new(c, "target_length", json_integer((json_int_t)w->v2.len));
                json_object_set_new(t, name, e);
                fx_put_target(&w->f, name, d, dl);
                imago_delta_free(d);
        }
        fx_publish_image(&w->f, t);
        fx_assign(&w->f, T2, fx_img_entry(&w->v2), NULL);
}

static void world_done(struct world *w)
{
        fx_img_free(&w->v1);
        fx_img_free(&w->v2);
        fx_done(&w->f);
}

/* Boot, start-up logic, health ok; then checks until nothing is left to do. */
static void run_to_end(struct world *w)
{
        struct imago_ota_boot_env env;
        struct imago_boot_status st;
        enum imago_ota_boot_action a;
        enum imago_ota_outcome oc;
        int i;

        for (i = 0; i < 4; i++) {
                imago_ota_free(w->f.ota);
                w->f.ota = NULL;
                assert_int_equal(fx_boot(&w->f, &env, &st), IMAGO_OK);
                assert_int_equal(fx_open(&w->f), IMAGO_OK);
                assert_int_equal(imago_ota_boot_start(w->f.ota, &env, &a), IMAGO_OK);
                if (a == IMAGO_OTA_BOOT_HEALTH)
                        assert_int_equal(imago_ota_boot_health(w->f.ota, IMAGO_OK), IMAGO_OK);
                assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_OK);
                if (oc != IMAGO_OTA_REBOOTED)
                        break;
        }
        assert_true(i < 4);
        fx_inspect(&w->f, &st);
        assert_true(st.confirmed);
        assert_false(st.trial);
        {
                struct imago_ota_image im;

                assert_int_equal(imago_ota_read_installed(w->f.flash, &im), IMAGO_OK);
                assert_memory_equal(im.sha256, w->v2.sha, 32);
        }
        assert_int_equal(fx_last(&w->f)->state, IMAGO_OTA_SUCCEEDED);
        assert_memory_equal(fx_last(&w->f)->installed_sha256, w->v2.sha, 32);
}

static void cut_everywhere(int with_delta)
{
        struct world w;
        enum imago_ota_outcome oc;
        int n, r, done = 0;

        for (n = 1; n < 40 && !done; n++) {
                world_init(&w, with_delta);
                assert_int_equal(fx_open(&w.f), IMAGO_OK);
                imago_ota_crash_at(w.f.ota, n);
                r = imago_ota_check(w.f.ota, &oc);
                if (r == IMAGO_OK) {
                        /* no step n: the clean run */
                        assert_int_equal(oc, IMAGO_OTA_REBOOTED);
                        done = 1;
                } else {
                        assert_int_equal(r, IMAGO_ESTATE);
                        assert_int_equal(w.f.reboots, 0);
                }
                run_to_end(&w);
                world_done(&w);
        }
        assert_true(done);
        assert_true(n > 6); /* the steps were really visited */
}

static void test_cut_at_every_step_full(void **state)
{
        (void)state;
        cut_everywhere(0);
}

static void test_cut_at_every_step_delta(void **state)
{
        (void)state;
        cut_everywhere(1);
}

/* A report lost on the way is kept (same bytes) until its ack; a restart keeps it too. */
static void test_report_kept_until_acked(void **state)
{
        struct world w;
        enum imago_ota_outcome oc;
        uint8_t *m1 = NULL, *m2 = NULL;
        size_t l1 = 0, l2 = 0;
        char n1[33], n2[33];

        (void)state;
        world_init(&w, 0);
        w.f.auto_ack = 0;
        assert_int_equal(fx_open(&w.f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w.f.ota, &oc), IMAGO_OK);
        assert_int_equal(imago_ota_pending(w.f.ota, n1, &m1, &l1), IMAGO_OK);
        assert_non_null(m1);
        assert_string_equal(n1, fx_last(&w.f)->nonce);
        imago_ota_ack(w.f.ota, "00000000000000000000000000000000"); /* not its nonce */
        assert_int_equal(fx_open(&w.f), IMAGO_OK);                  /* restart */
        assert_int_equal(imago_ota_pending(w.f.ota, n2, &m2, &l2), IMAGO_OK);
        assert_non_null(m2);
        assert_string_equal(n1, n2);
        assert_int_equal(l1, l2);
        assert_memory_equal(m1, m2, l1);
        imago_ota_ack(w.f.ota, n1);
        free(m2);
        assert_int_equal(imago_ota_pending(w.f.ota, n2, &m2, &l2), IMAGO_OK);
        assert_null(m2);
        assert_int_equal(fx_open(&w.f), IMAGO_OK);
        assert_int_equal(imago_ota_pending(w.f.ota, n2, &m2, &l2), IMAGO_OK);
        assert_null(m2);
        free(m1);
        world_done(&w);
}

/* A damaged state.json is refused, not guessed over. */
static void test_state_file_strict(void **state)
{
        struct world w;
        char p[400];
        static const char *const bad[] = {
            "",
            "{}",
            "[]",
            "{\"v\":1}",
            "{\"v\":2,\"phase\":\"idle\"}",
            "{\"v\":1,\"phase\":\"flying\",\"target\":\"\",\"rollout\":\"0\",\"counter\":\"0\","
            "\"trial_seen\":0,\"health_failed\":0,\"reported\":0}",
            "{\"v\":1,\"phase\":\"idle\",\"target\":\"\",\"rollout\":\"0\",\"counter\":\"0\","
            "\"trial_seen\":0,\"health_failed\":0,\"reported\":0,\"extra\":1}",
            "{\"v\":1,\"phase\":\"rebooting\",\"target\":\"\",\"rollout\":\"0\",\"counter\":\"0\","
            "\"trial_seen\":0,\"health_failed\":0,\"reported\":0}",
            "{\"v\":1,\"phase\":\"idle\",\"target\":\"\",\"rollout\":\"0\",\"counter\":\"-1\","
            "\"trial_seen\":0,\"health_failed\":0,\"reported\":0}",
        };
        static const char good[] =
            "{\"v\":1,\"phase\":\"idle\",\"target\":\"\",\"rollout\":\"0\",\"counter\":\"5\","
            "\"trial_seen\":0,\"health_failed\":0,\"reported\":0}";
        size_t i;

        (void)state;
        world_init(&w, 0);
        assert_int_equal(fx_open(&w.f), IMAGO_OK);
        FX_SNP(p, "%s/state.json", w.f.otadir);
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(imago_file_write_atomic(p, bad[i], strlen(bad[i]), 0600),
                                 IMAGO_OK);
                assert_int_not_equal(fx_open(&w.f), IMAGO_OK);
        }
        assert_int_equal(imago_file_write_atomic(p, good, strlen(good), 0600), IMAGO_OK);
        assert_int_equal(fx_open(&w.f), IMAGO_OK);
        world_done(&w);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_cut_at_every_step_full),
            cmocka_unit_test(test_cut_at_every_step_delta),
            cmocka_unit_test(test_report_kept_until_acked),
            cmocka_unit_test(test_state_file_strict),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
