/*
 * Power-cut tests of the bootloader, in the manner of MCUboot's simulator:
 * count the flash writes and erases of a clean upgrade (test, permanent,
 * revert), then for every N from 1 to that total start again from the same
 * flash, cut power before operation N, boot again without a fault and check
 * the image that boots, both slots and the trailers; then the same with
 * several random cuts during one upgrade; and every operation of a confirm
 * (image_ok, then the counter raise).  Every layout of simboot.h.
 * The random seed is printed; set IMAGO_TEST_SEED to replay one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/err.h"
#include "boot/bstate.h"
#include "test_boot_util.h"

enum path { PATH_TEST, PATH_PERM, PATH_REVERT };

#define RANDOM_ITERS    60
#define RANDOM_MAX_CUTS 6

static unsigned long seed;

struct fixture {
        struct imago_simboot sb;
        struct tb_img a, b; /* a: v1 counter 1 in the primary; b: v2 counter 2 */
        uint8_t *snap;
        uint64_t total;
};

/* Boot with no fault; the call must succeed. */
static void boot_ok(struct fixture *f, struct imago_boot_status *st)
{
        imago_flashsim_cut_before(&f->sb.sim, 0);
        assert_int_equal(imago_boot_go(&f->sb.cfg, st), IMAGO_OK);
        assert_int_equal(st->bootable, 1);
        assert_int_equal(f->sb.sim.violations, 0);
}

static void setup_path(struct fixture *f, enum imago_simboot_layout layout, enum path p)
{
        struct imago_boot_status st;

        memset(f, 0, sizeof(*f));
        assert_int_equal(imago_simboot_init(&f->sb, layout, 0), IMAGO_OK);
        tb_use_key(&f->sb);
        assert_int_equal(tb_img_make(&f->a, &tb_key, tb_body_size(&f->sb, 0), 1, 1, 1), 0);
        assert_int_equal(tb_img_make(&f->b, &tb_key, tb_body_size(&f->sb, 1), 2, 2, 1), 0);
        assert_int_equal(tb_put(&f->sb, &f->sb.cfg.primary, &f->a), IMAGO_OK);
        boot_ok(f, &st); /* factory boot: stores counter 1 */
        assert_int_equal(st.stored_sec_cnt, 1);
        assert_int_equal(tb_put(&f->sb, &f->sb.cfg.secondary, &f->b), IMAGO_OK);
        assert_int_equal(imago_boot_request(&f->sb.cfg, p == PATH_PERM), IMAGO_OK);
        if (p == PATH_REVERT) {
                boot_ok(f, &st);
                assert_int_equal(st.swap, IMAGO_BOOT_SWAP_TEST);
                assert_int_equal(st.trial, 1);
        }
        f->snap = malloc(f->sb.sim.size);
        assert_non_null(f->snap);
        memcpy(f->snap, f->sb.sim.mem, f->sb.sim.size);
        /* The clean run counts the operations. */
        imago_flashsim_cut_before(&f->sb.sim, 0);
        assert_int_equal(imago_boot_go(&f->sb.cfg, &st), IMAGO_OK);
        f->total = f->sb.sim.ops;
        assert_true(f->total > 3);
}

static void teardown_path(struct fixture *f)
{
        free(f->snap);
        tb_img_free(&f->a);
        tb_img_free(&f->b);
        imago_simboot_free(&f->sb);
}

static void restore(struct fixture *f)
{
        memcpy(f->sb.sim.mem, f->snap, f->sb.sim.size);
}

/* After the interrupted upgrade has been rebooted once: the expected image,
 * slots and trailers, then the following boots. */
static void check_after(struct fixture *f, enum path p, const struct imago_boot_status *st,
                        int last_op)
{
        struct imago_boot_trailer t;
        struct imago_boot_status st2;
        uint32_t stored;
        const struct imago_flash_area *pri = &f->sb.cfg.primary, *sec = &f->sb.cfg.secondary;

        assert_int_equal(imago_boot_trailer_read(pri, &t), IMAGO_OK);
        assert_true(tb_trailer_erased(&f->sb, sec));
        assert_int_equal(imago_boot_state_read(&f->sb.cfg.state, &stored), IMAGO_OK);
        switch (p) {
        case PATH_TEST:
                assert_int_equal(st->version.major, 2);
                assert_true(st->swap == IMAGO_BOOT_SWAP_TEST || last_op);
                assert_int_equal(st->trial, 1);
                assert_true(tb_has(pri, &f->b));
                assert_true(tb_has(sec, &f->a));
                assert_true(t.magic);
                assert_int_equal(t.swap_type, IMAGO_BOOT_SWAP_TEST);
                assert_int_not_equal(t.copy_done, IMAGO_BOOT_FLAG_UNSET); /* BAD if torn */
                assert_int_equal(t.image_ok, IMAGO_BOOT_FLAG_UNSET);
                assert_int_equal(stored, 1);
                /* Not confirmed: the next boot reverts, the one after stays. */
                boot_ok(f, &st2);
                assert_int_equal(st2.swap, IMAGO_BOOT_SWAP_REVERT);
                assert_int_equal(st2.version.major, 1);
                assert_true(tb_has(pri, &f->a));
                assert_true(tb_has(sec, &f->b));
                boot_ok(f, &st2);
                assert_int_equal(st2.swap, IMAGO_BOOT_SWAP_NONE);
                assert_int_equal(st2.version.major, 1);
                assert_int_equal(st2.confirmed, 1);
                break;
        case PATH_PERM:
                assert_int_equal(st->version.major, 2);
                assert_true(st->swap == IMAGO_BOOT_SWAP_PERM || last_op);
                assert_int_equal(st->confirmed, 1);
                assert_true(tb_has(pri, &f->b));
                assert_true(tb_has(sec, &f->a));
                assert_int_not_equal(t.image_ok, IMAGO_BOOT_FLAG_UNSET);
                assert_int_not_equal(t.copy_done, IMAGO_BOOT_FLAG_UNSET);
                assert_int_equal(stored, 2);
                boot_ok(f, &st2);
                assert_int_equal(st2.swap, IMAGO_BOOT_SWAP_NONE);
                assert_int_equal(st2.version.major, 2);
                break;
        case PATH_REVERT:
                assert_int_equal(st->version.major, 1);
                assert_true(st->swap == IMAGO_BOOT_SWAP_REVERT || last_op);
                assert_int_equal(st->confirmed, 1);
                assert_true(tb_has(pri, &f->a));
                assert_true(tb_has(sec, &f->b));
                assert_int_not_equal(t.image_ok, IMAGO_BOOT_FLAG_UNSET);
                assert_int_equal(stored, 1);
                boot_ok(f, &st2);
                assert_int_equal(st2.swap, IMAGO_BOOT_SWAP_NONE);
                assert_int_equal(st2.version.major, 1);
                break;
        }
        assert_int_equal(f->sb.sim.violations, 0);
}

/*
 * A test swap whose copy_done was torn counts as having had its trial boot, so the
 * reboot reverts it (see run_every_cut).  With several cuts, that revert may itself have
 * finished in an earlier, interrupted boot: the last boot then has nothing to swap and
 * runs the old, confirmed image.
 */
static int early_revert(struct fixture *f, enum path p, const struct imago_boot_status *st)
{
        if (p != PATH_TEST)
                return 0;
        if (st->swap != IMAGO_BOOT_SWAP_REVERT &&
            !(st->swap == IMAGO_BOOT_SWAP_NONE && st->version.major == 1))
                return 0;
        assert_int_equal(st->version.major, 1);
        assert_int_equal(st->confirmed, 1);
        assert_true(tb_has(&f->sb.cfg.primary, &f->a));
        assert_true(tb_has(&f->sb.cfg.secondary, &f->b));
        assert_int_equal(f->sb.sim.violations, 0);
        return 1;
}

/* torn: the cut operation is half done (imago_flashsim_cut_during) instead of skipped. */
static void run_every_cut(enum imago_simboot_layout layout, enum path p, int torn)
{
        struct fixture f;
        struct imago_boot_status st;
        uint64_t n;

        setup_path(&f, layout, p);
        printf("  %s, %s: %llu flash operations, each %s in turn\n",
               imago_simboot_layout_name(layout),
               p == PATH_TEST   ? "test"
               : p == PATH_PERM ? "permanent"
                                : "revert",
               (unsigned long long)f.total, torn ? "torn" : "cut before");
        restore(&f);
        boot_ok(&f, &st);
        check_after(&f, p, &st, 0);
        for (n = 1; n <= f.total; n++) {
                restore(&f);
                if (torn)
                        imago_flashsim_cut_during(&f.sb.sim, n);
                else
                        imago_flashsim_cut_before(&f.sb.sim, n);
                assert_int_equal(imago_boot_go(&f.sb.cfg, &st), IMAGO_EFLASH_POWER_CUT);
                boot_ok(&f, &st);
                /* A torn copy_done (the last or next to last operation) is read as written:
                 * the reboot finds no swap to do, and a test image already counts as having
                 * had its trial boot, so it is reverted at once. */
                if (torn && n == f.total && early_revert(&f, p, &st))
                        continue;
                check_after(&f, p, &st, n >= f.total - (torn ? 1 : 0));
        }
        teardown_path(&f);
}

static void run_random_cuts(enum imago_simboot_layout layout, enum path p)
{
        struct fixture f;
        struct imago_boot_status st;
        int it;

        setup_path(&f, layout, p);
        for (it = 0; it < RANDOM_ITERS; it++) {
                int cuts = 0, r, last = 0;

                restore(&f);
                do {
                        uint64_t n = 1 + (uint64_t)rand() % (f.total + 1);

                        if (rand() % 2)
                                imago_flashsim_cut_during(&f.sb.sim, n);
                        else
                                imago_flashsim_cut_before(&f.sb.sim, n);
                        r = imago_boot_go(&f.sb.cfg, &st);
                        if (r != IMAGO_OK) {
                                if (r != IMAGO_EFLASH_POWER_CUT)
                                        print_error("seed %lu iteration %d cut %d: %s\n", seed, it,
                                                    cuts, imago_errname(r));
                                assert_int_equal(r, IMAGO_EFLASH_POWER_CUT);
                                last = f.sb.sim.ops == 1; /* cut before the first op of a boot */
                        }
                } while (r != IMAGO_OK && ++cuts < RANDOM_MAX_CUTS);
                if (r != IMAGO_OK)
                        boot_ok(&f, &st);
                (void)last;
                /* A boot may have found the swap finished but the counter not yet raised. */
                if (!early_revert(&f, p, &st))
                        check_after(&f, p, &st, 1);
        }
        teardown_path(&f);
}

/*
 * A confirm of a trial: image_ok, then the counter raise (a record write, or with
 * wrap the erase of the other state sector and the write).  Cut (or tear) every
 * operation in turn, then boot: either the confirmation is not durable (image_ok
 * cut, or torn into something other than 0x01) and the trial is reverted with the
 * counter untouched, or v2 stays, confirmed, with the counter of a completed
 * confirm (the boot finishes a raise the cut stopped).  A tear of image_ok may
 * leave it fully programmed: then it is a confirmation, as a completed write.
 */
static void run_confirm_cut(enum imago_simboot_layout layout, int wrap, int torn)
{
        struct imago_simboot sb;
        struct imago_boot_status st;
        struct imago_boot_trailer t;
        struct tb_img a, b;
        uint8_t *snap;
        uint32_t per_sector, sc_a, stored, k;
        uint64_t n, total;
        int durable;

        assert_int_equal(imago_simboot_init(&sb, layout, 0), IMAGO_OK);
        tb_use_key(&sb);
        per_sector = sb.cfg.state.size / 2 / IMAGO_BOOT_STATE_REC_LEN;
        sc_a = wrap ? per_sector : 1; /* wrap: the first state sector is full */
        assert_int_equal(tb_img_make(&a, &tb_key, tb_body_size(&sb, 0), 1, sc_a, 1), 0);
        assert_int_equal(tb_img_make(&b, &tb_key, tb_body_size(&sb, 1), 2, sc_a + 1, 1), 0);
        for (k = 1; wrap && k <= per_sector; k++)
                assert_int_equal(imago_boot_state_raise(&sb.cfg.state, k), IMAGO_OK);
        assert_int_equal(tb_put(&sb, &sb.cfg.primary, &a), IMAGO_OK);
        assert_int_equal(imago_boot_go(&sb.cfg, &st), IMAGO_OK);
        assert_int_equal(st.stored_sec_cnt, sc_a);
        assert_int_equal(tb_put(&sb, &sb.cfg.secondary, &b), IMAGO_OK);
        assert_int_equal(imago_boot_request(&sb.cfg, 0), IMAGO_OK);
        assert_int_equal(imago_boot_go(&sb.cfg, &st), IMAGO_OK);
        assert_int_equal(st.trial, 1);
        snap = malloc(sb.sim.size);
        assert_non_null(snap);
        memcpy(snap, sb.sim.mem, sb.sim.size);
        imago_flashsim_cut_before(&sb.sim, 0);
        assert_int_equal(imago_boot_confirm(&sb.cfg), IMAGO_OK);
        total = sb.sim.ops;
        assert_int_equal(total, wrap ? 3 : 2); /* image_ok, [erase,] record */
        assert_int_equal(imago_boot_state_read(&sb.cfg.state, &stored), IMAGO_OK);
        assert_int_equal(stored, b.sc);
        printf("  %s, confirm%s: %llu flash operations, each %s in turn\n",
               imago_simboot_layout_name(layout), wrap ? " (state sector wraps)" : "",
               (unsigned long long)total, torn ? "torn" : "cut before");
        for (n = 1; n <= total; n++) {
                memcpy(sb.sim.mem, snap, sb.sim.size);
                if (torn)
                        imago_flashsim_cut_during(&sb.sim, n);
                else
                        imago_flashsim_cut_before(&sb.sim, n);
                assert_int_equal(imago_boot_confirm(&sb.cfg), IMAGO_EFLASH_POWER_CUT);
                imago_flashsim_cut_before(&sb.sim, 0);
                /* Never raised while the confirmation is not durable. */
                assert_int_equal(imago_boot_trailer_read(&sb.cfg.primary, &t), IMAGO_OK);
                assert_int_equal(imago_boot_state_read(&sb.cfg.state, &stored), IMAGO_OK);
                durable = t.image_ok == IMAGO_BOOT_FLAG_ON;
                if (!torn || n > 1)
                        assert_int_equal(durable, n > 1);
                if (!durable)
                        assert_int_equal(stored, sc_a);
                assert_int_equal(imago_boot_go(&sb.cfg, &st), IMAGO_OK);
                assert_int_equal(st.bootable, 1);
                assert_int_equal(st.confirmed, 1);
                if (!durable) {
                        /* image_ok cut or torn: not a confirmation, the trial reverts. */
                        assert_int_equal(st.swap, IMAGO_BOOT_SWAP_REVERT);
                        assert_int_equal(st.version.major, 1);
                        assert_int_equal(st.stored_sec_cnt, sc_a);
                        assert_true(tb_has(&sb.cfg.primary, &a));
                        assert_true(tb_has(&sb.cfg.secondary, &b));
                } else {
                        assert_int_equal(st.swap, IMAGO_BOOT_SWAP_NONE);
                        assert_int_equal(st.version.major, 2);
                        assert_int_equal(st.stored_sec_cnt, b.sc);
                        assert_true(tb_has(&sb.cfg.primary, &b));
                        /* The old image can never come back. */
                        assert_int_equal(imago_boot_request(&sb.cfg, 1), IMAGO_EBOOT_ROLLBACK);
                }
                assert_true(tb_trailer_erased(&sb, &sb.cfg.secondary));
                /* The following boot stays. */
                assert_int_equal(imago_boot_go(&sb.cfg, &st), IMAGO_OK);
                assert_int_equal(st.swap, IMAGO_BOOT_SWAP_NONE);
                assert_int_equal(st.version.major, durable ? 2 : 1);
                assert_int_equal(st.stored_sec_cnt, durable ? b.sc : sc_a);
                assert_int_equal(sb.sim.violations, 0);
        }
        free(snap);
        tb_img_free(&a);
        tb_img_free(&b);
        imago_simboot_free(&sb);
}

#define LAYOUT_TESTS(L, name)                                                                      \
        static void test_cut_every_op_test_##name(void **s)                                        \
        {                                                                                          \
                (void)s;                                                                           \
                run_every_cut(L, PATH_TEST, 0);                                                    \
                run_every_cut(L, PATH_TEST, 1);                                                    \
        }                                                                                          \
        static void test_cut_every_op_permanent_##name(void **s)                                   \
        {                                                                                          \
                (void)s;                                                                           \
                run_every_cut(L, PATH_PERM, 0);                                                    \
                run_every_cut(L, PATH_PERM, 1);                                                    \
        }                                                                                          \
        static void test_cut_every_op_revert_##name(void **s)                                      \
        {                                                                                          \
                (void)s;                                                                           \
                run_every_cut(L, PATH_REVERT, 0);                                                  \
                run_every_cut(L, PATH_REVERT, 1);                                                  \
        }                                                                                          \
        static void test_cut_every_op_confirm_##name(void **s)                                     \
        {                                                                                          \
                (void)s;                                                                           \
                run_confirm_cut(L, 0, 0);                                                          \
                run_confirm_cut(L, 0, 1);                                                          \
                run_confirm_cut(L, 1, 0);                                                          \
                run_confirm_cut(L, 1, 1);                                                          \
        }                                                                                          \
        static void test_random_cuts_test_##name(void **s)                                         \
        {                                                                                          \
                (void)s;                                                                           \
                run_random_cuts(L, PATH_TEST);                                                     \
        }                                                                                          \
        static void test_random_cuts_permanent_##name(void **s)                                    \
        {                                                                                          \
                (void)s;                                                                           \
                run_random_cuts(L, PATH_PERM);                                                     \
        }                                                                                          \
        static void test_random_cuts_revert_##name(void **s)                                       \
        {                                                                                          \
                (void)s;                                                                           \
                run_random_cuts(L, PATH_REVERT);                                                   \
        }

LAYOUT_TESTS(IMAGO_SIMBOOT_UNIFORM, uniform)
LAYOUT_TESTS(IMAGO_SIMBOOT_ZERO, erased_zero)
LAYOUT_TESTS(IMAGO_SIMBOOT_UNEQUAL, unequal)

/* The counter record area survives a cut before any of its operations. */
static void test_cut_every_op_counter_raise(void **s)
{
        struct imago_simboot sb;
        uint8_t *snap;
        uint32_t c, k;
        uint64_t n, total;

        (void)s;
        assert_int_equal(imago_simboot_init(&sb, IMAGO_SIMBOOT_UNEQUAL, 0), IMAGO_OK);
        /* Fill most of the first sector so that the raises below wrap over. */
        for (k = 1; k <= 60; k++)
                assert_int_equal(imago_boot_state_raise(&sb.cfg.state, k), IMAGO_OK);
        snap = malloc(sb.sim.size);
        assert_non_null(snap);
        memcpy(snap, sb.sim.mem, sb.sim.size);
        imago_flashsim_cut_before(&sb.sim, 0);
        for (k = 61; k <= 140; k++)
                assert_int_equal(imago_boot_state_raise(&sb.cfg.state, k), IMAGO_OK);
        total = sb.sim.ops;
        for (n = 1; n <= total; n++) {
                uint32_t before = 60;

                memcpy(sb.sim.mem, snap, sb.sim.size);
                imago_flashsim_cut_before(&sb.sim, n);
                if (n % 2)
                        imago_flashsim_cut_during(&sb.sim, n);
                for (k = 61; k <= 140; k++) {
                        if (imago_boot_state_raise(&sb.cfg.state, k) != IMAGO_OK)
                                break;
                        before = k;
                }
                imago_flashsim_cut_before(&sb.sim, 0);
                assert_int_equal(imago_boot_state_read(&sb.cfg.state, &c), IMAGO_OK);
                assert_int_equal(c, before);
                assert_int_equal(imago_boot_state_raise(&sb.cfg.state, 200), IMAGO_OK);
                assert_int_equal(imago_boot_state_read(&sb.cfg.state, &c), IMAGO_OK);
                assert_int_equal(c, 200);
                assert_int_equal(sb.sim.violations, 0);
        }
        free(snap);
        imago_simboot_free(&sb);
}

#define T(name)                                                                                    \
        cmocka_unit_test(test_cut_every_op_test_##name),                                           \
            cmocka_unit_test(test_cut_every_op_permanent_##name),                                  \
            cmocka_unit_test(test_cut_every_op_revert_##name),                                     \
            cmocka_unit_test(test_cut_every_op_confirm_##name),                                    \
            cmocka_unit_test(test_random_cuts_test_##name),                                        \
            cmocka_unit_test(test_random_cuts_permanent_##name),                                   \
            cmocka_unit_test(test_random_cuts_revert_##name)

int main(void)
{
        const struct CMUnitTest tests[] = {
            T(uniform),
            T(erased_zero),
            T(unequal),
            cmocka_unit_test(test_cut_every_op_counter_raise),
        };
        const char *env = getenv("IMAGO_TEST_SEED");

        seed = env ? strtoul(env, NULL, 10) : (unsigned long)time(NULL);
        printf("test_boot_powercut: seed %lu (IMAGO_TEST_SEED to replay)\n", seed);
        srand((unsigned)seed);
        return cmocka_run_group_tests(tests, tb_keys_setup, tb_keys_teardown);
}
