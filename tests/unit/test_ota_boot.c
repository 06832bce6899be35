/*
 * imago_ota after a boot, with real flash files run through imago_boot_go(): a trial of the
 * target, the health check (a command exiting 0 / 1 / not in time), confirm, revert detection,
 * a request the bootloader refused.
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

/* v1 installed, v2 assigned and installed into the secondary with a test request. */
static int setup(void **state)
{
        struct world *w = calloc(1, sizeof(*w));
        enum imago_ota_outcome oc;
        json_t *t;

        fx_init(&w->f);
        fx_img_make(&w->f, &w->v1, 1, 1, 40000, 0x00);
        fx_img_make(&w->f, &w->v2, 2, 2, 40000, 0x5a);
        fx_flash_primary(&w->f, &w->v1);
        t = json_object();
        json_object_set_new(t, T2, fx_img_entry(&w->v2));
        fx_put_target(&w->f, T2, w->v2.buf, w->v2.len);
        fx_publish_image(&w->f, t);
        fx_assign(&w->f, T2, fx_img_entry(&w->v2), NULL);
        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_OK);
        assert_int_equal(oc, IMAGO_OTA_REBOOTED);
        assert_int_equal(w->f.reboots, 1);
        /* the process ends here (exec of imago-boot) */
        imago_ota_free(w->f.ota);
        w->f.ota = NULL;
        *state = w;
        return 0;
}

static int teardown(void **state)
{
        struct world *w = *state;

        fx_img_free(&w->v1);
        fx_img_free(&w->v2);
        fx_done(&w->f);
        free(w);
        return 0;
}

/* Boot through the bootloader, then the agent's start-up. */
static enum imago_ota_boot_action boot(struct world *w, struct imago_boot_status *st)
{
        struct imago_ota_boot_env env;
        enum imago_ota_boot_action a;

        assert_int_equal(fx_boot(&w->f, &env, st), IMAGO_OK);
        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_boot_start(w->f.ota, &env, &a), IMAGO_OK);
        return a;
}

static void test_trial_healthy_confirms(void **state)
{
        struct world *w = *state;
        struct imago_boot_status st;
        enum imago_ota_outcome oc;

        {
                char p[600];
                struct stat sb;

                FX_SNP(p, "%s/download/%s.img", w->f.otadir, w->v2.hex);
                assert_int_equal(stat(p, &sb), 0); /* kept until the update ends */
        }
        assert_int_equal(boot(w, &st), IMAGO_OTA_BOOT_HEALTH);
        assert_int_equal(st.swap, IMAGO_BOOT_SWAP_TEST);
        assert_int_equal(st.confirmed, 0);
        assert_int_equal(imago_ota_health_cmd("/bin/true", 10000, NULL, NULL), IMAGO_OK);
        assert_int_equal(imago_ota_boot_health(w->f.ota, IMAGO_OK), IMAGO_OK);
        assert_int_equal(fx_last(&w->f)->state, IMAGO_OTA_SUCCEEDED);
        assert_memory_equal(fx_last(&w->f)->installed_sha256, w->v2.sha, 32);
        assert_string_equal(fx_last(&w->f)->installed_version, "2.0.0");
        fx_inspect(&w->f, &st);
        assert_int_equal(st.confirmed, 1);
        assert_int_equal(st.trial, 0);
        /* the next boot keeps v2 and raises the stored counter */
        assert_int_equal(boot(w, &st), IMAGO_OTA_BOOT_NONE);
        assert_int_equal(st.swap, IMAGO_BOOT_SWAP_NONE);
        assert_int_equal(st.stored_sec_cnt, 2);
        /* the verified image is not kept once the update ended */
        {
                char p[600];
                struct stat sb;

                FX_SNP(p, "%s/download/%s.img", w->f.otadir, w->v2.hex);
                assert_int_not_equal(stat(p, &sb), 0);
        }
        /* and the assignment is done: no new report */
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_OK);
        assert_int_equal(oc, IMAGO_OTA_NOTHING);
        assert_int_equal(fx_last(&w->f)->state, IMAGO_OTA_SUCCEEDED);
}

static void test_trial_unhealthy_reverts(void **state)
{
        struct world *w = *state;
        struct imago_boot_status st;
        enum imago_ota_outcome oc;
        int n;

        assert_int_equal(boot(w, &st), IMAGO_OTA_BOOT_HEALTH);
        assert_int_equal(imago_ota_health_cmd("/bin/false", 10000, NULL, NULL), IMAGO_EOTA_HEALTH);
        assert_int_equal(imago_ota_boot_health(w->f.ota, IMAGO_EOTA_HEALTH), IMAGO_OK);
        assert_int_equal(fx_last(&w->f)->state, IMAGO_OTA_REBOOTING);
        assert_string_equal(fx_last(&w->f)->error, "IMAGO_EOTA_HEALTH");
        assert_int_equal(w->f.reboots, 2);
        imago_ota_free(w->f.ota);
        w->f.ota = NULL;
        assert_int_equal(boot(w, &st), IMAGO_OTA_BOOT_NONE);
        assert_int_equal(st.swap, IMAGO_BOOT_SWAP_REVERT);
        assert_int_equal(fx_last(&w->f)->state, IMAGO_OTA_REVERTED);
        assert_string_equal(fx_last(&w->f)->target, T2);
        assert_string_equal(fx_last(&w->f)->error, "IMAGO_EOTA_HEALTH");
        assert_memory_equal(fx_last(&w->f)->installed_sha256, w->v1.sha, 32);
        /* no retry of the failed assignment */
        n = w->f.nrep;
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_OK);
        assert_int_equal(w->f.nrep, n);
        assert_int_equal(w->f.reboots, 2);
}

/* The agent dies during the trial before any health result: the bootloader reverts. */
static void test_crash_during_trial_reverts(void **state)
{
        struct world *w = *state;
        struct imago_boot_status st;

        assert_int_equal(boot(w, &st), IMAGO_OTA_BOOT_HEALTH);
        imago_ota_free(w->f.ota);
        w->f.ota = NULL;
        assert_int_equal(boot(w, &st), IMAGO_OTA_BOOT_NONE);
        assert_int_equal(st.swap, IMAGO_BOOT_SWAP_REVERT);
        assert_int_equal(fx_last(&w->f)->state, IMAGO_OTA_REVERTED);
        assert_string_equal(fx_last(&w->f)->error, "IMAGO_EOTA_HEALTH");
        /* another boot later: nothing more is reported */
        imago_ota_free(w->f.ota);
        w->f.ota = NULL;
        {
                int n = w->f.nrep;

                assert_int_equal(boot(w, &st), IMAGO_OTA_BOOT_NONE);
                assert_int_equal(w->f.nrep, n);
        }
}

/* The secondary was damaged after the request: the bootloader refuses it; reported failed. */
static void test_request_refused_by_bootloader(void **state)
{
        struct world *w = *state;
        struct imago_flashfile ff;
        struct imago_boot_status st;

        /* flip bits of the image body in the secondary (NOR: 1 -> 0 is a plain write) */
        assert_int_equal(imago_flashfile_open(&ff, w->f.flash, 1), IMAGO_OK);
        {
                uint8_t blk[8];

                assert_int_equal(imago_flash_read(&ff.cfg.secondary, 4096, blk, 8), 0);
                assert_int_equal(imago_flash_erase(&ff.cfg.secondary, 4096, 4096), 0);
                blk[0] = (uint8_t)~blk[0];
                assert_int_equal(imago_flash_write(&ff.cfg.secondary, 4096, blk, 8), 0);
        }
        assert_int_equal(imago_flashfile_close(&ff), IMAGO_OK);
        assert_int_equal(boot(w, &st), IMAGO_OTA_BOOT_NONE);
        assert_int_equal(st.swap, IMAGO_BOOT_SWAP_NONE);
        assert_int_not_equal(st.secondary_err, 0);
        assert_int_equal(fx_last(&w->f)->state, IMAGO_OTA_FAILED);
        assert_string_equal(fx_last(&w->f)->error, "IMAGO_EOTA_INSTALL");
        assert_memory_equal(fx_last(&w->f)->installed_sha256, w->v1.sha, 32);
}

static int stop_now(void *arg)
{
        (void)arg;
        return 1;
}

static void test_health_cmd_timeout(void **state)
{
        struct world *w = *state;
        char p[400];
        static const char script[] = "#!/bin/sh\nexec sleep 30\n";

        FX_SNP(p, "%s/slow-health", w->f.dir);
        assert_int_equal(imago_file_write_atomic(p, script, sizeof(script) - 1, 0755), IMAGO_OK);
        assert_int_equal(imago_ota_health_cmd(p, 200, NULL, NULL), IMAGO_EOTA_HEALTH);
        assert_int_equal(imago_ota_health_cmd(p, 60000, stop_now, NULL), IMAGO_EOTA_HEALTH);
        assert_int_equal(imago_ota_health_cmd("relative/path", 200, NULL, NULL), IMAGO_EINVAL);
        FX_SNP(p, "%s/missing", w->f.dir);
        assert_int_equal(imago_ota_health_cmd(p, 2000, NULL, NULL), IMAGO_EOTA_HEALTH);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_trial_healthy_confirms, setup, teardown),
            cmocka_unit_test_setup_teardown(test_trial_unhealthy_reverts, setup, teardown),
            cmocka_unit_test_setup_teardown(test_crash_during_trial_reverts, setup, teardown),
            cmocka_unit_test_setup_teardown(test_request_refused_by_bootloader, setup, teardown),
            cmocka_unit_test_setup_teardown(test_health_cmd_timeout, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
