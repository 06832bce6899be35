/*
 * Unit tests of the boot core and the NOR flash simulator: flash rules, the
 * trailer, the counter area, and the boot decision, one test per attack or
 * failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "boot/bstate.h"
#include "test_boot_util.h"

/* ---- flash simulator rules ---- */

static void test_sim_write_unerased_is_violation(void **s)
{
        struct imago_simboot sb;
        uint8_t v[8] = {1, 2, 3, 4, 5, 6, 7, 8};

        (void)s;
        assert_int_equal(imago_simboot_init(&sb, IMAGO_SIMBOOT_UNIFORM, 0), IMAGO_OK);
        assert_int_equal(imago_flash_write(&sb.cfg.primary, 0, v, 8), IMAGO_OK);
        assert_int_equal(imago_flash_write(&sb.cfg.primary, 0, v, 8), IMAGO_EFLASH_NOT_ERASED);
        assert_int_equal(sb.sim.violations, 1);
        assert_int_equal(sb.sim.last_violation, IMAGO_EFLASH_NOT_ERASED);
        imago_simboot_free(&sb);
}

static void test_sim_misaligned_write_rejected(void **s)
{
        struct imago_simboot sb;
        uint8_t v[8] = {0};

        (void)s;
        assert_int_equal(imago_simboot_init(&sb, IMAGO_SIMBOOT_ZERO, 0), IMAGO_OK);
        assert_int_equal(imago_flash_write(&sb.cfg.primary, 2, v, 4), IMAGO_EFLASH_ALIGN);
        assert_int_equal(imago_flash_write(&sb.cfg.primary, 0, v, 3), IMAGO_EFLASH_ALIGN);
        /* The device itself refuses too, as a rule violation. */
        assert_int_equal(sb.sim.flash.ops->write(&sb.sim, 1, v, 4), IMAGO_EFLASH_ALIGN);
        assert_int_equal(sb.sim.violations, 1);
        imago_simboot_free(&sb);
}

static void test_sim_erase_partial_sector_rejected(void **s)
{
        struct imago_simboot sb;

        (void)s;
        assert_int_equal(imago_simboot_init(&sb, IMAGO_SIMBOOT_UNEQUAL, 0), IMAGO_OK);
        assert_int_equal(imago_flash_erase(&sb.cfg.primary, 0, 512), IMAGO_EFLASH_SECTOR);
        assert_int_equal(imago_flash_erase(&sb.cfg.primary, 4096, 1024), IMAGO_EFLASH_SECTOR);
        assert_int_equal(imago_flash_erase(&sb.cfg.primary, 4096, 4096), IMAGO_OK);
        assert_int_equal(sb.sim.flash.ops->erase(&sb.sim, 100, 1024), IMAGO_EFLASH_SECTOR);
        assert_int_equal(sb.sim.violations, 1);
        imago_simboot_free(&sb);
}

static void test_sim_erased_value_zero(void **s)
{
        struct imago_simboot sb;
        uint8_t b = 0xaa;

        (void)s;
        assert_int_equal(imago_simboot_init(&sb, IMAGO_SIMBOOT_ZERO, 0), IMAGO_OK);
        assert_int_equal(imago_flash_read(&sb.cfg.secondary, 100, &b, 1), IMAGO_OK);
        assert_int_equal(b, 0x00);
        imago_simboot_free(&sb);
}

static void test_sim_power_cut_changes_nothing(void **s)
{
        struct imago_simboot sb;
        uint8_t v[8] = {1, 2, 3, 4, 5, 6, 7, 8}, r[8];

        (void)s;
        assert_int_equal(imago_simboot_init(&sb, IMAGO_SIMBOOT_UNIFORM, 0), IMAGO_OK);
        imago_flashsim_cut_before(&sb.sim, 2);
        assert_int_equal(imago_flash_write(&sb.cfg.primary, 0, v, 8), IMAGO_OK);
        assert_int_equal(imago_flash_write(&sb.cfg.primary, 8, v, 8), IMAGO_EFLASH_POWER_CUT);
        assert_int_equal(imago_flash_erase(&sb.cfg.primary, 0, 4096), IMAGO_EFLASH_POWER_CUT);
        assert_int_equal(imago_flash_read(&sb.cfg.primary, 0, r, 8), IMAGO_OK);
        assert_memory_equal(r, v, 8);
        assert_int_equal(imago_flash_read(&sb.cfg.primary, 8, r, 8), IMAGO_OK);
        assert_int_equal(r[0], 0xff);
        assert_true(sb.sim.cut);
        imago_flashsim_cut_before(&sb.sim, 0);
        assert_int_equal(imago_flash_write(&sb.cfg.primary, 8, v, 8), IMAGO_OK);
        assert_int_equal(
            sb.sim.sector_bytes[imago_flashsim_sector_index(&sb.sim, sb.cfg.primary.off)], 16);
        imago_simboot_free(&sb);
}

static void test_flash_area_out_of_range_rejected(void **s)
{
        struct imago_simboot sb;
        uint8_t b[16];

        (void)s;
        assert_int_equal(imago_simboot_init(&sb, IMAGO_SIMBOOT_UNIFORM, 0), IMAGO_OK);
        assert_int_equal(imago_flash_read(&sb.cfg.primary, sb.cfg.primary.size - 8, b, 16),
                         IMAGO_EFLASH_RANGE);
        assert_int_equal(imago_flash_read(&sb.cfg.primary, UINT32_MAX - 4, b, 16),
                         IMAGO_EFLASH_RANGE);
        assert_int_equal(sb.sim.violations, 0);
        imago_simboot_free(&sb);
}

static void test_geom_unequal_slots_rejected(void **s)
{
        struct imago_simboot sb;
        struct imago_boot_geom g;
        struct imago_flash_area half;

        (void)s;
        assert_int_equal(imago_simboot_init(&sb, IMAGO_SIMBOOT_UNEQUAL, 0), IMAGO_OK);
        assert_int_equal(imago_boot_geom_init(&g, &sb.cfg.primary, &sb.cfg.secondary), IMAGO_OK);
        assert_int_equal(g.img_sectors, 5);
        assert_int_equal(g.img_size, 8192);
        assert_int_equal(g.max_sector, 4096);
        /* A secondary shifted by one sector has other sector sizes. */
        assert_int_equal(imago_flash_area_init(&half, &sb.sim.flash, sb.cfg.primary.off + 1024,
                                               sb.cfg.primary.size),
                         IMAGO_OK);
        assert_int_equal(imago_boot_geom_init(&g, &sb.cfg.primary, &half), IMAGO_EFLASH_LAYOUT);
        imago_simboot_free(&sb);
}

/* ---- trailer and counter area ---- */

static void test_trailer_fields_write_once(void **s)
{
        struct imago_simboot sb;
        struct imago_boot_trailer t;

        (void)s;
        assert_int_equal(imago_simboot_init(&sb, IMAGO_SIMBOOT_UNIFORM, 0), IMAGO_OK);
        assert_int_equal(imago_boot_trailer_read(&sb.cfg.primary, &t), IMAGO_OK);
        assert_false(t.magic);
        assert_int_equal(t.swap_type, 0);
        assert_int_equal(imago_boot_trailer_set_swap_size(&sb.cfg.primary, 12345), IMAGO_OK);
        assert_int_equal(imago_boot_trailer_set_swap_size(&sb.cfg.primary, 12345), IMAGO_OK);
        assert_int_equal(imago_boot_trailer_set_swap_size(&sb.cfg.primary, 1), IMAGO_EBOOT_TRAILER);
        assert_int_equal(imago_boot_trailer_set_flag(&sb.cfg.primary, IMAGO_BOOT_OFF_SWAP_INFO, 3),
                         IMAGO_OK);
        assert_int_equal(imago_boot_trailer_set_magic(&sb.cfg.primary), IMAGO_OK);
        assert_int_equal(imago_boot_trailer_read(&sb.cfg.primary, &t), IMAGO_OK);
        assert_true(t.magic);
        assert_int_equal(t.swap_type, IMAGO_BOOT_SWAP_PERM);
        assert_int_equal(t.swap_size, 12345);
        assert_int_equal(sb.sim.violations, 0);
        imago_simboot_free(&sb);
}

static void test_counter_garbage_records_ignored(void **s)
{
        struct imago_simboot sb;
        uint8_t junk[16];
        uint32_t c;

        (void)s;
        assert_int_equal(imago_simboot_init(&sb, IMAGO_SIMBOOT_UNIFORM, 0), IMAGO_OK);
        memset(junk, 0x5a, sizeof(junk));
        assert_int_equal(imago_flash_write(&sb.cfg.state, 0, junk, 16), IMAGO_OK);
        assert_int_equal(imago_boot_state_read(&sb.cfg.state, &c), IMAGO_OK);
        assert_int_equal(c, 0);
        assert_int_equal(imago_boot_state_raise(&sb.cfg.state, 7), IMAGO_OK);
        assert_int_equal(imago_boot_state_raise(&sb.cfg.state, 3), IMAGO_OK); /* never lowered */
        assert_int_equal(imago_boot_state_read(&sb.cfg.state, &c), IMAGO_OK);
        assert_int_equal(c, 7);
        assert_int_equal(sb.sim.violations, 0);
        imago_simboot_free(&sb);
}

/* ---- boot decision ---- */

struct dev {
        struct imago_simboot sb;
        struct tb_img a, b;
};

static void dev_init(struct dev *d, enum imago_simboot_layout l)
{
        memset(d, 0, sizeof(*d));
        assert_int_equal(imago_simboot_init(&d->sb, l, 0), IMAGO_OK);
        tb_use_key(&d->sb);
        assert_int_equal(tb_img_make(&d->a, &tb_key, tb_body_size(&d->sb, 0), 1, 1, 1), 0);
        assert_int_equal(tb_img_make(&d->b, &tb_key, tb_body_size(&d->sb, 1), 2, 2, 1), 0);
}

static void dev_free(struct dev *d)
{
        assert_int_equal(d->sb.sim.violations, 0);
        tb_img_free(&d->a);
        tb_img_free(&d->b);
        imago_simboot_free(&d->sb);
}

static void test_blank_flash_is_recovery_with_reasons(void **s)
{
        struct dev d;
        struct imago_boot_status st;

        (void)s;
        dev_init(&d, IMAGO_SIMBOOT_UNIFORM);
        assert_int_equal(imago_boot_go(&d.sb.cfg, &st), IMAGO_EBOOT_NO_IMAGE);
        assert_int_equal(st.bootable, 0);
        assert_int_equal(st.primary_err, IMAGO_EIMG_MAGIC);
        assert_int_equal(st.secondary_err, IMAGO_EIMG_MAGIC);
        dev_free(&d);
}

static void test_factory_image_boots_and_sets_counter(void **s)
{
        struct dev d;
        struct imago_boot_status st;

        (void)s;
        dev_init(&d, IMAGO_SIMBOOT_ZERO);
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.primary, &d.a), IMAGO_OK);
        assert_int_equal(imago_boot_go(&d.sb.cfg, &st), IMAGO_OK);
        assert_int_equal(st.version.major, 1);
        assert_int_equal(st.confirmed, 1);
        assert_int_equal(st.stored_sec_cnt, 1);
        assert_int_equal(st.swap, IMAGO_BOOT_SWAP_NONE);
        assert_int_equal(st.image_size, d.a.len);
        dev_free(&d);
}

static void test_corrupted_primary_never_boots(void **s)
{
        struct dev d;
        struct imago_boot_status st;

        (void)s;
        dev_init(&d, IMAGO_SIMBOOT_UNIFORM);
        d.a.buf[100] ^= 1;
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.primary, &d.a), IMAGO_OK);
        assert_int_equal(imago_boot_go(&d.sb.cfg, &st), IMAGO_EBOOT_NO_IMAGE);
        assert_int_equal(st.primary_err, IMAGO_EIMG_HASH);
        dev_free(&d);
}

static void test_primary_signed_by_unknown_key_never_boots(void **s)
{
        struct dev d;
        struct tb_img x;
        struct imago_boot_status st;

        (void)s;
        dev_init(&d, IMAGO_SIMBOOT_UNIFORM);
        assert_int_equal(tb_img_make(&x, &tb_other_key, 3000, 1, 1, 1), 0);
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.primary, &x), IMAGO_OK);
        assert_int_equal(imago_boot_go(&d.sb.cfg, &st), IMAGO_EBOOT_NO_IMAGE);
        assert_int_equal(st.primary_err, IMAGO_EIMG_KEY_UNKNOWN);
        tb_img_free(&x);
        dev_free(&d);
}

static void test_update_signed_by_unknown_key_dropped(void **s)
{
        struct dev d;
        struct tb_img x;
        struct imago_boot_status st;

        (void)s;
        dev_init(&d, IMAGO_SIMBOOT_UNIFORM);
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.primary, &d.a), IMAGO_OK);
        assert_int_equal(tb_img_make(&x, &tb_other_key, 3000, 3, 3, 1), 0);
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.secondary, &x), IMAGO_OK);
        /* The request API refuses; a raw magic (as an app could write) is dropped at boot. */
        assert_int_equal(imago_boot_request(&d.sb.cfg, 0), IMAGO_EIMG_KEY_UNKNOWN);
        assert_int_equal(imago_boot_trailer_set_magic(&d.sb.cfg.secondary), IMAGO_OK);
        assert_int_equal(imago_boot_go(&d.sb.cfg, &st), IMAGO_OK);
        assert_int_equal(st.version.major, 1);
        assert_int_equal(st.swap, IMAGO_BOOT_SWAP_NONE);
        assert_int_equal(st.secondary_err, IMAGO_EIMG_KEY_UNKNOWN);
        assert_int_equal(st.pending, IMAGO_BOOT_SWAP_NONE);
        assert_true(tb_trailer_erased(&d.sb, &d.sb.cfg.secondary));
        tb_img_free(&x);
        dev_free(&d);
}

static void test_rollback_update_dropped(void **s)
{
        struct dev d;
        struct tb_img old;
        struct imago_boot_status st;

        (void)s;
        dev_init(&d, IMAGO_SIMBOOT_UNEQUAL);
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.primary, &d.b), IMAGO_OK);
        assert_int_equal(imago_boot_go(&d.sb.cfg, &st), IMAGO_OK);
        assert_int_equal(st.stored_sec_cnt, 2);
        assert_int_equal(tb_img_make(&old, &tb_key, 2000, 3, 1, 1),
                         0); /* newer version, counter 1 */
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.secondary, &old), IMAGO_OK);
        assert_int_equal(imago_boot_request(&d.sb.cfg, 1), IMAGO_EBOOT_ROLLBACK);
        assert_int_equal(imago_boot_trailer_set_magic(&d.sb.cfg.secondary), IMAGO_OK);
        assert_int_equal(imago_boot_go(&d.sb.cfg, &st), IMAGO_OK);
        assert_int_equal(st.version.major, 2);
        assert_int_equal(st.secondary_err, IMAGO_EBOOT_ROLLBACK);
        assert_true(tb_has(&d.sb.cfg.primary, &d.b));
        tb_img_free(&old);
        dev_free(&d);
}

static void test_primary_below_stored_counter_never_boots(void **s)
{
        struct dev d;
        struct imago_boot_status st;

        (void)s;
        dev_init(&d, IMAGO_SIMBOOT_UNIFORM);
        assert_int_equal(imago_boot_state_raise(&d.sb.cfg.state, 5), IMAGO_OK);
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.primary, &d.a), IMAGO_OK);
        assert_int_equal(imago_boot_go(&d.sb.cfg, &st), IMAGO_EBOOT_NO_IMAGE);
        assert_int_equal(st.primary_err, IMAGO_EBOOT_ROLLBACK);
        dev_free(&d);
}

static void test_confirmed_test_image_stays_and_raises_counter(void **s)
{
        struct dev d;
        struct imago_boot_status st;
        uint32_t stored;

        (void)s;
        dev_init(&d, IMAGO_SIMBOOT_UNIFORM);
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.primary, &d.a), IMAGO_OK);
        assert_int_equal(imago_boot_go(&d.sb.cfg, &st), IMAGO_OK);
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.secondary, &d.b), IMAGO_OK);
        assert_int_equal(imago_boot_request(&d.sb.cfg, 0), IMAGO_OK);
        assert_int_equal(imago_boot_inspect(&d.sb.cfg, &st), IMAGO_OK);
        assert_int_equal(st.pending, IMAGO_BOOT_SWAP_TEST);
        assert_int_equal(imago_boot_go(&d.sb.cfg, &st), IMAGO_OK);
        assert_int_equal(st.version.major, 2);
        assert_int_equal(st.trial, 1);
        assert_int_equal(st.stored_sec_cnt, 1); /* not raised for a trial */
        /* While on trial, a new request would destroy the revert image. */
        assert_int_equal(imago_boot_request(&d.sb.cfg, 0), IMAGO_ESTATE);
        assert_int_equal(imago_boot_confirm(&d.sb.cfg), IMAGO_OK);
        /* The confirm itself raised the counter, before any reboot. */
        assert_int_equal(imago_boot_state_read(&d.sb.cfg.state, &stored), IMAGO_OK);
        assert_int_equal(stored, 2);
        assert_int_equal(imago_boot_inspect(&d.sb.cfg, &st), IMAGO_OK);
        assert_int_equal(st.confirmed, 1);
        assert_int_equal(st.stored_sec_cnt, 2);
        assert_int_equal(imago_boot_request(&d.sb.cfg, 1), IMAGO_EBOOT_ROLLBACK);
        assert_int_equal(imago_boot_confirm(&d.sb.cfg), IMAGO_OK);
        assert_int_equal(imago_boot_go(&d.sb.cfg, &st), IMAGO_OK);
        assert_int_equal(st.version.major, 2);
        assert_int_equal(st.swap, IMAGO_BOOT_SWAP_NONE);
        assert_int_equal(st.confirmed, 1);
        assert_int_equal(st.stored_sec_cnt, 2);
        /* The old image is now below the counter: it can never come back. */
        assert_true(tb_has(&d.sb.cfg.secondary, &d.a));
        assert_int_equal(imago_boot_request(&d.sb.cfg, 1), IMAGO_EBOOT_ROLLBACK);
        dev_free(&d);
}

/* A confirm never lowers the counter: the stored one (raised behind the
 * image's back here) stays when the confirmed image carries a lower one. */
static void test_confirm_lower_counter_does_not_lower_it(void **s)
{
        struct dev d;
        struct imago_boot_status st;
        uint32_t stored;
        uint64_t ops;

        (void)s;
        dev_init(&d, IMAGO_SIMBOOT_UNIFORM);
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.primary, &d.a), IMAGO_OK);
        assert_int_equal(imago_boot_go(&d.sb.cfg, &st), IMAGO_OK);
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.secondary, &d.b), IMAGO_OK);
        assert_int_equal(imago_boot_request(&d.sb.cfg, 0), IMAGO_OK);
        assert_int_equal(imago_boot_go(&d.sb.cfg, &st), IMAGO_OK);
        assert_int_equal(st.trial, 1);
        assert_int_equal(imago_boot_state_raise(&d.sb.cfg.state, 7), IMAGO_OK);
        imago_flashsim_cut_before(&d.sb.sim, 0); /* counts the operations */
        assert_int_equal(imago_boot_confirm(&d.sb.cfg), IMAGO_OK);
        ops = d.sb.sim.ops;
        assert_int_equal(ops, 1); /* image_ok only, no counter record */
        assert_int_equal(imago_boot_state_read(&d.sb.cfg.state, &stored), IMAGO_OK);
        assert_int_equal(stored, 7);
        /* Equal counters: nothing written either. */
        assert_int_equal(imago_boot_confirm(&d.sb.cfg), IMAGO_OK);
        assert_int_equal(d.sb.sim.ops, ops);
        assert_int_equal(imago_boot_state_read(&d.sb.cfg.state, &stored), IMAGO_OK);
        assert_int_equal(stored, 7);
        dev_free(&d);
}

/* A factory image (no trailer) confirmed by the application raises the
 * counter at once too; a confirm of a primary that no longer verifies keeps
 * the counter and says why. */
static void test_confirm_factory_raises_and_bad_primary_refused(void **s)
{
        struct dev d;
        uint32_t stored;

        (void)s;
        dev_init(&d, IMAGO_SIMBOOT_UNIFORM);
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.primary, &d.b), IMAGO_OK);
        assert_int_equal(imago_boot_confirm(&d.sb.cfg), IMAGO_OK);
        assert_int_equal(imago_boot_state_read(&d.sb.cfg.state, &stored), IMAGO_OK);
        assert_int_equal(stored, 2);
        /* A primary whose body was changed after the boot: the counter stays. */
        d.b.buf[d.b.len - 40] ^= 0x10;
        d.b.sc = 9;
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.primary, &d.b), IMAGO_OK);
        assert_int_not_equal(imago_boot_confirm(&d.sb.cfg), IMAGO_OK);
        assert_int_equal(imago_boot_state_read(&d.sb.cfg.state, &stored), IMAGO_OK);
        assert_int_equal(stored, 2);
        dev_free(&d);
}

static void test_revert_impossible_keeps_trial_running(void **s)
{
        struct dev d;
        struct imago_boot_status st;
        struct imago_boot_geom g;

        (void)s;
        dev_init(&d, IMAGO_SIMBOOT_UNIFORM);
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.primary, &d.a), IMAGO_OK);
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.secondary, &d.b), IMAGO_OK);
        assert_int_equal(imago_boot_request(&d.sb.cfg, 0), IMAGO_OK);
        assert_int_equal(imago_boot_go(&d.sb.cfg, &st), IMAGO_OK);
        assert_int_equal(st.trial, 1);
        /* The revert image is destroyed (erased) behind the bootloader's back. */
        assert_int_equal(imago_boot_geom_init(&g, &d.sb.cfg.primary, &d.sb.cfg.secondary), 0);
        assert_int_equal(imago_flash_erase(&d.sb.cfg.secondary, 0, g.img_size), IMAGO_OK);
        assert_int_equal(imago_boot_go(&d.sb.cfg, &st), IMAGO_OK);
        assert_int_equal(st.version.major, 2);
        assert_int_equal(st.swap, IMAGO_BOOT_SWAP_NONE);
        assert_int_equal(st.secondary_err, IMAGO_EIMG_MAGIC);
        dev_free(&d);
}

static void test_imgtool_padded_confirmed_image_is_permanent_request(void **s)
{
        struct dev d;
        struct tb_img x;
        struct imago_image_sign_opts o;
        struct imago_boot_status st;
        uint8_t body[3000];

        (void)s;
        dev_init(&d, IMAGO_SIMBOOT_UNIFORM);
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.primary, &d.a), IMAGO_OK);
        memset(body, 0x42, sizeof(body));
        imago_image_sign_opts_init(&o);
        o.ver.major = 4;
        o.has_sec_cnt = 1;
        o.sec_cnt = 4;
        o.pad = 1;
        o.confirm = 1;
        o.align = 8;
        o.slot_size = d.sb.cfg.secondary.size;
        assert_int_equal(imago_image_sign(&tb_key, &o, body, sizeof(body), &x.buf, &x.len), 0);
        assert_int_equal(x.len, d.sb.cfg.secondary.size);
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.secondary, &x), IMAGO_OK);
        assert_int_equal(imago_boot_inspect(&d.sb.cfg, &st), IMAGO_OK);
        assert_int_equal(st.pending, IMAGO_BOOT_SWAP_PERM);
        assert_int_equal(imago_boot_go(&d.sb.cfg, &st), IMAGO_OK);
        assert_int_equal(st.swap, IMAGO_BOOT_SWAP_PERM);
        assert_int_equal(st.version.major, 4);
        assert_int_equal(st.stored_sec_cnt, 4);
        tb_img_free(&x);
        dev_free(&d);
}

static void test_swap_into_empty_primary(void **s)
{
        struct dev d;
        struct imago_boot_status st;

        (void)s;
        dev_init(&d, IMAGO_SIMBOOT_UNEQUAL);
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.secondary, &d.b), IMAGO_OK);
        assert_int_equal(imago_boot_request(&d.sb.cfg, 1), IMAGO_OK);
        assert_int_equal(imago_boot_go(&d.sb.cfg, &st), IMAGO_OK);
        assert_int_equal(st.version.major, 2);
        assert_int_equal(st.swap, IMAGO_BOOT_SWAP_PERM);
        dev_free(&d);
}

static void test_garbage_trailer_does_not_boot_garbage(void **s)
{
        struct dev d;
        struct imago_boot_status st;
        uint8_t junk[48];
        int i;

        (void)s;
        dev_init(&d, IMAGO_SIMBOOT_UNIFORM);
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.primary, &d.a), IMAGO_OK);
        for (i = 0; i < 48; i++)
                junk[i] = (uint8_t)(i * 37);
        memcpy(junk + 32, imago_boot_magic, 16);
        junk[8] = IMAGO_BOOT_SWAP_TEST; /* swap_info at end-40 */
        junk[0] = 0xff;                 /* swap_size huge */
        assert_int_equal(imago_flash_write(&d.sb.cfg.primary, d.sb.cfg.primary.size - 48, junk, 48),
                         IMAGO_OK);
        assert_int_equal(imago_boot_go(&d.sb.cfg, &st), IMAGO_OK);
        assert_int_equal(st.version.major, 1);
        dev_free(&d);
}

static void test_request_after_torn_magic_recovers(void **s)
{
        struct dev d;
        struct imago_boot_status st;

        (void)s;
        dev_init(&d, IMAGO_SIMBOOT_UNIFORM);
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.primary, &d.a), IMAGO_OK);
        assert_int_equal(tb_put(&d.sb, &d.sb.cfg.secondary, &d.b), IMAGO_OK);
        imago_flashsim_cut_during(&d.sb.sim, 1); /* the magic write is torn */
        assert_int_equal(imago_boot_request(&d.sb.cfg, 0), IMAGO_EFLASH_POWER_CUT);
        imago_flashsim_cut_before(&d.sb.sim, 0);
        assert_int_equal(imago_boot_inspect(&d.sb.cfg, &st), IMAGO_OK);
        assert_int_equal(st.pending, IMAGO_BOOT_SWAP_NONE);
        assert_int_equal(imago_boot_request(&d.sb.cfg, 1), IMAGO_OK);
        assert_int_equal(imago_boot_go(&d.sb.cfg, &st), IMAGO_OK);
        assert_int_equal(st.swap, IMAGO_BOOT_SWAP_PERM);
        assert_int_equal(st.version.major, 2);
        dev_free(&d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_sim_write_unerased_is_violation),
            cmocka_unit_test(test_sim_misaligned_write_rejected),
            cmocka_unit_test(test_sim_erase_partial_sector_rejected),
            cmocka_unit_test(test_sim_erased_value_zero),
            cmocka_unit_test(test_sim_power_cut_changes_nothing),
            cmocka_unit_test(test_flash_area_out_of_range_rejected),
            cmocka_unit_test(test_geom_unequal_slots_rejected),
            cmocka_unit_test(test_trailer_fields_write_once),
            cmocka_unit_test(test_counter_garbage_records_ignored),
            cmocka_unit_test(test_blank_flash_is_recovery_with_reasons),
            cmocka_unit_test(test_factory_image_boots_and_sets_counter),
            cmocka_unit_test(test_corrupted_primary_never_boots),
            cmocka_unit_test(test_primary_signed_by_unknown_key_never_boots),
            cmocka_unit_test(test_update_signed_by_unknown_key_dropped),
            cmocka_unit_test(test_rollback_update_dropped),
            cmocka_unit_test(test_primary_below_stored_counter_never_boots),
            cmocka_unit_test(test_confirmed_test_image_stays_and_raises_counter),
            cmocka_unit_test(test_confirm_lower_counter_does_not_lower_it),
            cmocka_unit_test(test_confirm_factory_raises_and_bad_primary_refused),
            cmocka_unit_test(test_revert_impossible_keeps_trial_running),
            cmocka_unit_test(test_imgtool_padded_confirmed_image_is_permanent_request),
            cmocka_unit_test(test_swap_into_empty_primary),
            cmocka_unit_test(test_garbage_trailer_does_not_boot_garbage),
            cmocka_unit_test(test_request_after_torn_magic_recovers),
        };

        return cmocka_run_group_tests(tests, tb_keys_setup, tb_keys_teardown);
}
