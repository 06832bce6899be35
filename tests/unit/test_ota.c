/*
 * imago_ota: the update decision and install path against a real director and image
 * repository (signed in the test), a real flash file and a local-directory transport.
 * The attack tests are named after the attack.
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

static int setup(void **state)
{
        struct world *w = calloc(1, sizeof(*w));

        fx_init(&w->f);
        fx_img_make(&w->f, &w->v1, 1, 1, 40000, 0x00);
        fx_img_make(&w->f, &w->v2, 2, 2, 40000, 0x5a);
        fx_flash_primary(&w->f, &w->v1);
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

/* The image repository lists v2 (and optionally extra entries), the director assigns it. */
static void publish_v2(struct world *w, json_t *extra)
{
        json_t *t = json_object();

        json_object_set_new(t, T2, fx_img_entry(&w->v2));
        if (extra)
                json_object_update(t, extra);
        json_decref(extra);
        fx_put_target(&w->f, T2, w->v2.buf, w->v2.len);
        fx_publish_image(&w->f, t);
        fx_assign(&w->f, T2, fx_img_entry(&w->v2), NULL);
}

static void assert_states(const struct fx *f, const enum imago_vreport_state *want, int n)
{
        int i;

        assert_int_equal(f->nrep, n);
        for (i = 0; i < n; i++)
                assert_int_equal(f->rep[i].state, want[i]);
}

static void assert_pending_test(struct fx *f)
{
        struct imago_boot_status st;

        fx_inspect(f, &st);
        assert_int_equal(st.pending, IMAGO_BOOT_SWAP_TEST);
}

static void assert_nothing_installed(struct world *w)
{
        struct imago_boot_status st;

        assert_true(fx_secondary_erased(&w->f));
        fx_inspect(&w->f, &st);
        assert_int_equal(st.pending, IMAGO_BOOT_SWAP_NONE);
        assert_int_equal(w->f.reboots, 0);
}

/* The repository's target hash (of the signed image file) is what the device reads back. */
static void test_installed_hash_is_target_hash(void **state)
{
        struct world *w = *state;
        struct imago_ota_image im;
        struct imago_image_src src;
        struct imago_image_mem mem;
        struct imago_image_info info;

        assert_int_equal(imago_ota_read_installed(w->f.flash, &im), IMAGO_OK);
        assert_memory_equal(im.sha256, w->v1.sha, 32);
        assert_int_equal(im.length, w->v1.len);
        assert_string_equal(im.version, "1.0.0");
        assert_int_equal(im.security_counter, 1);
        assert_int_equal(im.trial, 0);
        imago_image_src_mem(&src, &mem, w->v1.buf, w->v1.len);
        assert_int_equal(imago_image_verify(&src, NULL, &info), IMAGO_EIMG_KEY_UNKNOWN);
        assert_int_equal(info.end, w->v1.len); /* image_size covers header + body + TLVs */
}

static void test_idle_without_target(void **state)
{
        struct world *w = *state;
        enum imago_ota_outcome oc;

        fx_publish_image(&w->f, json_object());
        fx_assign(&w->f, NULL, NULL, NULL);
        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_OK);
        assert_int_equal(oc, IMAGO_OTA_NOTHING);
        assert_int_equal(w->f.nrep, 0);
        assert_nothing_installed(w);
}

static void test_full_update_v1_to_v2(void **state)
{
        static const enum imago_vreport_state want[] = {IMAGO_OTA_DOWNLOADING, IMAGO_OTA_INSTALLING,
                                                        IMAGO_OTA_REBOOTING};
        struct world *w = *state;
        enum imago_ota_outcome oc;

        publish_v2(w, NULL);
        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_OK);
        assert_int_equal(oc, IMAGO_OTA_REBOOTED);
        assert_true(fx_secondary_has(&w->f, &w->v2));
        assert_pending_test(&w->f);
        assert_int_equal(w->f.reboots, 1);
        assert_int_equal(w->f.full_fetches, 1);
        assert_int_equal(w->f.delta_fetches, 0);
        assert_states(&w->f, want, 3);
        assert_string_equal(fx_last(&w->f)->target, T2);
        assert_int_equal(fx_last(&w->f)->rollout, 7);
        assert_memory_equal(fx_last(&w->f)->installed_sha256, w->v1.sha, 32);
        assert_string_equal(fx_last(&w->f)->hardware_id, FX_HWID);
        /* A second check while waiting for the reboot does nothing. */
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_OK);
        assert_int_equal(w->f.nrep, 3);
}

static json_t *delta_entries(struct world *w, const uint8_t *delta, size_t dlen, char *name,
                             size_t cap)
{
        json_t *e = fx_entry(delta, dlen, FX_HWID, w->v2.version, w->v2.sc), *c, *t;

        snprintf(name, cap, "%s.from-%.16s.zst", T2, w->v1.hex);
        c = json_object_get(e, "custom");
        json_object_set_new(c, "base_sha256", json_string(w->v1.hex));
        json_object_set_new(c, "target_sha256", json_string(w->v2.hex));
        json_object_set_new(c, "target_length", json_integer((json_int_t)w->v2.len));
        t = json_object();
        json_object_set_new(t, name, e);
        fx_put_target(&w->f, name, delta, dlen);
        return t;
}

static void test_delta_update(void **state)
{
        struct world *w = *state;
        enum imago_ota_outcome oc;
        uint8_t *delta = NULL;
        size_t dlen = 0;
        char name[256];

        assert_int_equal(
            imago_delta_make(w->v1.buf, w->v1.len, w->v2.buf, w->v2.len, 3, &delta, &dlen),
            IMAGO_OK);
        assert_true(dlen < w->v2.len);
        publish_v2(w, delta_entries(w, delta, dlen, name, sizeof(name)));
        imago_delta_free(delta);
        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_OK);
        assert_int_equal(oc, IMAGO_OTA_REBOOTED);
        assert_int_equal(w->f.delta_fetches, 1);
        assert_int_equal(w->f.full_fetches, 0);
        assert_true(fx_secondary_has(&w->f, &w->v2));
        assert_pending_test(&w->f);
}

/* A delta listed correctly (its own hash matches) but producing something else: fall back. */
static void test_corrupt_delta_falls_back_to_full(void **state)
{
        struct world *w = *state;
        enum imago_ota_outcome oc;
        uint8_t *delta = NULL;
        size_t dlen = 0;
        char name[256];

        assert_int_equal(
            imago_delta_make(w->v1.buf, w->v1.len, w->v2.buf, w->v2.len, 3, &delta, &dlen),
            IMAGO_OK);
        delta[dlen / 2] ^= 0x55;
        delta[dlen - 1] ^= 0x01;
        publish_v2(w, delta_entries(w, delta, dlen, name, sizeof(name)));
        imago_delta_free(delta);
        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_OK);
        assert_int_equal(oc, IMAGO_OTA_REBOOTED);
        assert_int_equal(w->f.delta_fetches, 1);
        assert_int_equal(w->f.full_fetches, 1);
        assert_true(fx_secondary_has(&w->f, &w->v2));
}

/* A delta file on the server that is not the one the image repository lists: refused by its
 * hash, then the full image. */
static void test_delta_swapped_on_server_falls_back(void **state)
{
        struct world *w = *state;
        enum imago_ota_outcome oc;
        uint8_t junk[300];
        char name[256], p[800], hex[65];
        uint8_t d[32];
        json_t *t;

        memset(junk, 0xab, sizeof(junk));
        t = delta_entries(w, junk, sizeof(junk), name, sizeof(name));
        /* overwrite the served file with other bytes of the same length */
        imago_sha256(junk, sizeof(junk), d);
        imago_hex_encode(d, 32, hex);
        junk[0] ^= 1;
        FX_SNP(p, "%s/image/targets/fw/%s.dev-2.img.from-%.16s.zst", w->f.srv, hex, w->v1.hex);
        assert_int_equal(imago_file_write_atomic(p, junk, sizeof(junk), 0644), IMAGO_OK);
        publish_v2(w, t);
        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_OK);
        assert_int_equal(oc, IMAGO_OTA_REBOOTED);
        assert_int_equal(w->f.delta_fetches, 1);
        assert_int_equal(w->f.full_fetches, 1);
        assert_true(fx_secondary_has(&w->f, &w->v2));
}

static void test_already_installed_reports_succeeded(void **state)
{
        struct world *w = *state;
        enum imago_ota_outcome oc;
        json_t *t = json_object();

        json_object_set_new(t, "fw/dev-1.img", fx_img_entry(&w->v1));
        fx_publish_image(&w->f, t);
        fx_assign(&w->f, "fw/dev-1.img", fx_img_entry(&w->v1), NULL);
        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_OK);
        assert_int_equal(oc, IMAGO_OTA_UPTODATE);
        assert_int_equal(w->f.nrep, 1);
        assert_int_equal(fx_last(&w->f)->state, IMAGO_OTA_SUCCEEDED);
        assert_string_equal(fx_last(&w->f)->target, "fw/dev-1.img");
        assert_nothing_installed(w);
        /* reported once, not at every check */
        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_OK);
        assert_int_equal(oc, IMAGO_OTA_NOTHING);
        assert_int_equal(w->f.nrep, 1);
}

static void expect_refused(struct world *w, int err)
{
        enum imago_ota_outcome oc;

        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w->f.ota, &oc), err);
        assert_int_equal(oc, IMAGO_OTA_REFUSED);
        assert_int_equal(fx_last(&w->f)->state, IMAGO_OTA_FAILED);
        assert_string_equal(fx_last(&w->f)->error, imago_errname(err));
        assert_int_equal(w->f.fetches, 0);
        assert_nothing_installed(w);
}

/* Director keys alone: a target the image repository does not list, lists with another hash,
 * another version, another counter: refused, nothing fetched or written. */
static void test_attack_compromised_director_alone(void **state)
{
        struct world *w = *state;
        json_t *t = json_object(), *e;

        json_object_set_new(t, T2, fx_img_entry(&w->v2));
        fx_put_target(&w->f, T2, w->v2.buf, w->v2.len);
        fx_publish_image(&w->f, t);

        /* not listed at all */
        fx_assign(&w->f, "fw/evil.img", fx_img_entry(&w->v2), NULL);
        expect_refused(w, IMAGO_EOTA_DISAGREE);
        /* another hash (the attacker's image under the real name) */
        fx_assign(&w->f, T2, fx_entry(w->v1.buf, w->v1.len, FX_HWID, "2.0.0", 2), NULL);
        expect_refused(w, IMAGO_EOTA_DISAGREE);
        /* another version */
        fx_assign(&w->f, T2, fx_entry(w->v2.buf, w->v2.len, FX_HWID, "3.0.0", 2), NULL);
        expect_refused(w, IMAGO_EOTA_DISAGREE);
        /* another security counter */
        fx_assign(&w->f, T2, fx_entry(w->v2.buf, w->v2.len, FX_HWID, "2.0.0", 9), NULL);
        expect_refused(w, IMAGO_EOTA_DISAGREE);
        /* another length */
        e = fx_img_entry(&w->v2);
        json_object_set_new(e, "length", json_integer((json_int_t)w->v2.len + 1));
        fx_assign(&w->f, T2, e, NULL);
        expect_refused(w, IMAGO_EOTA_DISAGREE);
        /* another device's metadata */
        fx_assign(&w->f, T2, fx_img_entry(&w->v2), "ffffffffffffffffffffffffffffffff");
        expect_refused(w, IMAGO_EOTA_DEVICE);
}

/* Snapshot and timestamp keys alone: a targets file not signed by the targets key is refused;
 * freezing on old metadata ends at the timestamp's expiry. */
static void test_attack_compromised_image_repo_online_keys_alone(void **state)
{
        struct world *w = *state;
        enum imago_ota_outcome oc;
        json_t *t = json_object();

        json_object_set_new(t, T2, fx_img_entry(&w->v2));
        fx_put_target(&w->f, T2, w->v2.buf, w->v2.len);
        /* the attacker signs targets with a key of their own, snapshot/timestamp with the stolen
         * online keys */
        fx_publish(&w->f, "image/metadata", &w->f.iver, t, &w->f.evil, &w->f.i_snap, &w->f.i_ts,
                   NULL);
        fx_assign(&w->f, T2, fx_img_entry(&w->v2), NULL);
        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_ETUF_THRESHOLD);
        assert_int_equal(w->f.fetches, 0);
        assert_nothing_installed(w);

        /* freeze: the attacker keeps serving a timestamp that expires in a week */
        w->f.ts_expires = "2027-01-22T00:00:00Z";
        fx_publish_image(&w->f, json_object());
        fx_assign(&w->f, NULL, NULL, NULL);
        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_OK);
        w->f.now = TR_NOW + 8 * 86400;
        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_ETUF_EXPIRED);
        assert_nothing_installed(w);
}

static void test_attack_wrong_hardware_id(void **state)
{
        struct world *w = *state;
        json_t *t = json_object();

        json_object_set_new(t, T2, fx_entry(w->v2.buf, w->v2.len, "other-board", "2.0.0", 2));
        fx_put_target(&w->f, T2, w->v2.buf, w->v2.len);
        fx_publish_image(&w->f, t);
        fx_assign(&w->f, T2, fx_entry(w->v2.buf, w->v2.len, "other-board", "2.0.0", 2), NULL);
        expect_refused(w, IMAGO_ETUF_HWID);
}

static void test_attack_downgrade_refused_in_production(void **state)
{
        struct world *w = *state;
        struct fx_img v0, v0b;
        enum imago_ota_outcome oc;
        json_t *t = json_object();

        /* installed: v2 (counter 2, confirmed: the stored counter is 2) */
        fx_flash_primary(&w->f, &w->v2);
        fx_img_make(&w->f, &v0, 1, 1, 30000, 0x11);  /* older, lower counter */
        fx_img_make(&w->f, &v0b, 1, 2, 30000, 0x22); /* older, same counter */
        json_object_set_new(t, "fw/old.img", fx_img_entry(&v0));
        json_object_set_new(t, "fw/oldb.img", fx_img_entry(&v0b));
        fx_put_target(&w->f, "fw/old.img", v0.buf, v0.len);
        fx_put_target(&w->f, "fw/oldb.img", v0b.buf, v0b.len);
        fx_publish_image(&w->f, t);

        fx_assign(&w->f, "fw/oldb.img", fx_img_entry(&v0b), NULL);
        expect_refused(w, IMAGO_EOTA_DOWNGRADE);
        fx_assign(&w->f, "fw/old.img", fx_img_entry(&v0), NULL);
        expect_refused(w, IMAGO_EOTA_DOWNGRADE);

        /* development mode: allowed by the client; the bootloader still refuses a lower counter */
        w->f.production = 0;
        imago_ota_free(w->f.ota);
        w->f.ota = NULL;
        fx_rm(w->f.otadir); /* a development device (the refusal above was final) */
        w->f.nrep = 0;
        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_EBOOT_ROLLBACK);
        assert_int_equal(oc, IMAGO_OTA_REFUSED);
        assert_int_equal(fx_last(&w->f)->state, IMAGO_OTA_FAILED);
        assert_int_equal(w->f.reboots, 0);
        fx_assign(&w->f, "fw/oldb.img", fx_img_entry(&v0b), NULL);
        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_OK);
        assert_int_equal(oc, IMAGO_OTA_REBOOTED);
        assert_true(fx_secondary_has(&w->f, &v0b));
        assert_pending_test(&w->f);
        fx_img_free(&v0);
        fx_img_free(&v0b);
}

/* A transport failure mid-download: nothing reported as failed, the next check finishes. */
static void test_transport_failure_resumes(void **state)
{
        struct world *w = *state;
        enum imago_ota_outcome oc;

        publish_v2(w, NULL);
        w->f.fail_fetch = 1;
        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_EIO);
        assert_int_equal(fx_last(&w->f)->state, IMAGO_OTA_DOWNLOADING);
        assert_true(fx_secondary_erased(&w->f));
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_OK);
        assert_int_equal(oc, IMAGO_OTA_REBOOTED);
        assert_true(fx_secondary_has(&w->f, &w->v2));
        /* one downloading report for the whole download */
        assert_int_equal(w->f.rep[0].state, IMAGO_OTA_DOWNLOADING);
        assert_int_equal(w->f.rep[1].state, IMAGO_OTA_INSTALLING);
}

/* ---- download progress (a transport calling the hook every 1 % of the image) ---- */

/* The progress hook on, one chunk = 1 % of v2 (so chunk k is progress k), step ms per chunk. */
static size_t progress_on(struct world *w, uint64_t step)
{
        w->f.progress = 1;
        w->f.chunk = (w->v2.len + 99) / 100;
        w->f.mono_step = step;
        return w->f.chunk;
}

/* Reports want[] (state, progress); between two reports of a download at least 10 points and
 * 2 s; every counter above the one before (fx_report checks it too). */
static void assert_progress(const struct fx *f, const unsigned *want, int n)
{
        int i;

        assert_int_equal(f->nrep, n + 2);
        for (i = 0; i < n; i++) {
                assert_int_equal(f->rep[i].state, IMAGO_OTA_DOWNLOADING);
                assert_int_equal(f->rep[i].progress, want[i]);
                if (i > 0) {
                        assert_true(f->rep[i].counter > f->rep[i - 1].counter);
                        assert_true(f->rep[i].progress >= f->rep[i - 1].progress + 10);
                        assert_true(f->rep_ms[i] >= f->rep_ms[i - 1] + 2000);
                }
        }
        assert_int_equal(f->rep[n].state, IMAGO_OTA_INSTALLING);
        assert_int_equal(f->rep[n + 1].state, IMAGO_OTA_REBOOTING);
}

/* 1 % per second: a report every 10 %, from 0 (the start) to 90 (100 is "installing"). */
static void test_progress_every_10_percent(void **state)
{
        static const unsigned want[] = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90};
        struct world *w = *state;
        enum imago_ota_outcome oc;

        publish_v2(w, NULL);
        progress_on(w, 1000);
        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_OK);
        assert_int_equal(oc, IMAGO_OTA_REBOOTED);
        assert_true(fx_secondary_has(&w->f, &w->v2));
        assert_progress(&w->f, want, 10);
        assert_null(w->f.prog_fn); /* the hook is cleared after the fetch */
}

/* 1 % per 100 ms: the 2 s limit decides (every 20 %). */
static void test_progress_not_more_often_than_2s(void **state)
{
        static const unsigned want[] = {0, 20, 40, 60, 80};
        struct world *w = *state;
        enum imago_ota_outcome oc;

        publish_v2(w, NULL);
        progress_on(w, 100);
        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_OK);
        assert_int_equal(oc, IMAGO_OTA_REBOOTED);
        assert_progress(&w->f, want, 5);
}

/* A download that fails, then resumes at 45 %: its progress starts there. */
static void test_progress_resumed_starts_at_offset(void **state)
{
        static const unsigned want[] = {0, 45, 55, 65, 75, 85, 95};
        struct world *w = *state;
        enum imago_ota_outcome oc;
        char p[800];
        size_t chunk;

        publish_v2(w, NULL);
        chunk = progress_on(w, 1000);
        w->f.fail_fetch = 1;
        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_EIO);
        assert_int_equal(w->f.nrep, 1);
        FX_SNP(p, "%s/download/%s.part", w->f.otadir, w->v2.hex);
        assert_int_equal(imago_file_write_atomic(p, w->v2.buf, chunk * 45, 0600), IMAGO_OK);
        w->f.resume_at = chunk * 45;
        w->f.mono_ms += 5000;
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_OK);
        assert_int_equal(oc, IMAGO_OTA_REBOOTED);
        assert_true(fx_secondary_has(&w->f, &w->v2));
        assert_progress(&w->f, want, 7);
}

/* The image repository serves a full image whose bytes differ from its metadata. */
static void test_full_image_hash_mismatch_not_installed(void **state)
{
        struct world *w = *state;
        enum imago_ota_outcome oc;
        uint8_t *bad = malloc(w->v2.len);

        publish_v2(w, NULL);
        memcpy(bad, w->v2.buf, w->v2.len);
        bad[100] ^= 1;
        {
                char p[800];

                FX_SNP(p, "%s/image/targets/fw/%s.dev-2.img", w->f.srv, w->v2.hex);
                assert_int_equal(imago_file_write_atomic(p, bad, w->v2.len, 0644), IMAGO_OK);
        }
        free(bad);
        assert_int_equal(fx_open(&w->f), IMAGO_OK);
        assert_int_equal(imago_ota_check(w->f.ota, &oc), IMAGO_ETUF_HASH);
        assert_int_equal(fx_last(&w->f)->state, IMAGO_OTA_FAILED);
        assert_true(fx_secondary_erased(&w->f));
        assert_int_equal(w->f.reboots, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_installed_hash_is_target_hash, setup, teardown),
            cmocka_unit_test_setup_teardown(test_idle_without_target, setup, teardown),
            cmocka_unit_test_setup_teardown(test_full_update_v1_to_v2, setup, teardown),
            cmocka_unit_test_setup_teardown(test_delta_update, setup, teardown),
            cmocka_unit_test_setup_teardown(test_corrupt_delta_falls_back_to_full, setup, teardown),
            cmocka_unit_test_setup_teardown(test_delta_swapped_on_server_falls_back, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_already_installed_reports_succeeded, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_attack_compromised_director_alone, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_attack_compromised_image_repo_online_keys_alone,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(test_attack_wrong_hardware_id, setup, teardown),
            cmocka_unit_test_setup_teardown(test_attack_downgrade_refused_in_production, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_transport_failure_resumes, setup, teardown),
            cmocka_unit_test_setup_teardown(test_progress_every_10_percent, setup, teardown),
            cmocka_unit_test_setup_teardown(test_progress_not_more_often_than_2s, setup, teardown),
            cmocka_unit_test_setup_teardown(test_progress_resumed_starts_at_offset, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_full_image_hash_mismatch_not_installed, setup,
                                            teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
