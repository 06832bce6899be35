/* See boot.h. */
#include "boot.h"

#include "base/err.h"
#include "bstate.h"
#include "swap.h"

#include <string.h>

const char *imago_boot_swap_name(enum imago_boot_swap s)
{
        switch (s) {
        case IMAGO_BOOT_SWAP_TEST:
                return "test";
        case IMAGO_BOOT_SWAP_PERM:
                return "permanent";
        case IMAGO_BOOT_SWAP_REVERT:
                return "revert";
        default:
                return "none";
        }
}

static int slot_read(void *ctx, uint32_t off, void *buf, uint32_t len)
{
        return imago_flash_read(ctx, off, buf, len);
}

int imago_boot_verify_slot(const struct imago_boot_cfg *cfg, const struct imago_flash_area *slot,
                           uint32_t stored, struct imago_image_info *info)
{
        struct imago_boot_geom g;
        struct imago_image_src src;
        int r;

        r = imago_boot_geom_init(&g, &cfg->primary, &cfg->secondary);
        if (r != IMAGO_OK)
                return r;
        src.read = slot_read;
        src.ctx = (void *)(uintptr_t)slot; /* read-only use through slot_read */
        src.size = g.img_size;
        memset(info, 0, sizeof(*info));
        r = imago_image_verify(&src, &cfg->keys, info);
        if (r != IMAGO_OK)
                return r;
        if (info->end > g.img_size)
                return IMAGO_EIMG_TOO_LARGE;
        if ((info->has_sec_cnt ? info->sec_cnt : 0) < stored)
                return IMAGO_EBOOT_ROLLBACK;
        return IMAGO_OK;
}

/* Errors that mean "the flash failed", as opposed to "the image is bad". */
static int is_flash_failure(int r)
{
        return r == IMAGO_EFLASH_POWER_CUT || r == IMAGO_EIO || r == IMAGO_EFLASH_NOT_ERASED ||
               r == IMAGO_EFLASH_ALIGN || r == IMAGO_EFLASH_SECTOR || r == IMAGO_EFLASH_LAYOUT;
}

static int cfg_check(const struct imago_boot_cfg *cfg, struct imago_boot_geom *g)
{
        int r;

        if (!cfg || !cfg->buf || cfg->buf_len < IMAGO_BOOT_BUF_MIN ||
            cfg->buf_len % IMAGO_FLASH_MAX_ALIGN != 0 || !cfg->primary.dev || !cfg->secondary.dev ||
            !cfg->scratch.dev || !cfg->state.dev)
                return IMAGO_EINVAL;
        r = imago_boot_geom_init(g, &cfg->primary, &cfg->secondary);
        if (r != IMAGO_OK)
                return r;
        if (cfg->scratch.size < g->max_sector || imago_flash_area_nsectors(&cfg->state) != 2 ||
            cfg->scratch.dev->align > IMAGO_FLASH_MAX_ALIGN)
                return IMAGO_EFLASH_LAYOUT;
        return IMAGO_OK;
}

static int in_progress(const struct imago_boot_trailer *t, const struct imago_boot_geom *g)
{
        return t->magic && t->swap_type >= IMAGO_BOOT_SWAP_TEST &&
               t->copy_done == IMAGO_BOOT_FLAG_UNSET && t->swap_size_set && t->swap_size > 0 &&
               t->swap_size <= g->img_size;
}

/* copy_done is written last: torn (BAD) counts as written. */
static int is_trial(const struct imago_boot_trailer *t)
{
        return t->magic && t->swap_type == IMAGO_BOOT_SWAP_TEST &&
               t->copy_done != IMAGO_BOOT_FLAG_UNSET && t->image_ok != IMAGO_BOOT_FLAG_ON;
}

static enum imago_boot_swap request_type(const struct imago_boot_trailer *t)
{
        if (!t->magic)
                return IMAGO_BOOT_SWAP_NONE;
        if (t->swap_type == IMAGO_BOOT_SWAP_REVERT)
                return IMAGO_BOOT_SWAP_REVERT;
        if (t->image_ok == IMAGO_BOOT_FLAG_ON)
                return IMAGO_BOOT_SWAP_PERM;
        return IMAGO_BOOT_SWAP_TEST;
}

/* Bytes to swap: the larger signed length of the two images, or the whole
 * image area when the primary holds nothing that verifies. */
static uint32_t swap_size_for(const struct imago_boot_cfg *cfg, const struct imago_boot_geom *g,
                              const struct imago_image_info *sec)
{
        struct imago_image_info pri;
        uint32_t n = sec->end;

        if (imago_boot_verify_slot(cfg, &cfg->primary, 0, &pri) != IMAGO_OK)
                return g->img_size;
        if (pri.end > n)
                n = pri.end;
        return n;
}

static int do_swap(const struct imago_boot_cfg *cfg, const struct imago_boot_geom *g,
                   enum imago_boot_swap type, const struct imago_image_info *sec)
{
        uint32_t size = swap_size_for(cfg, g, sec);
        int r = imago_boot_swap_start(cfg, g, type, size);

        if (r == IMAGO_OK)
                r = imago_boot_swap_resume(cfg, g, type, size);
        return r;
}

/* Fill the primary part of st; returns 0 when bootable. */
static int check_primary(const struct imago_boot_cfg *cfg, struct imago_boot_status *st,
                         uint32_t stored)
{
        struct imago_boot_trailer t;
        struct imago_image_info info;
        int r;

        r = imago_boot_trailer_read(&cfg->primary, &t);
        if (r != IMAGO_OK)
                return r;
        st->trial = is_trial(&t);
        st->in_progress =
            t.magic && t.copy_done != IMAGO_BOOT_FLAG_ON && t.swap_type >= IMAGO_BOOT_SWAP_TEST;
        st->confirmed = !st->trial && !(t.magic && t.copy_done != IMAGO_BOOT_FLAG_ON &&
                                        t.swap_type >= IMAGO_BOOT_SWAP_TEST);
        r = imago_boot_verify_slot(cfg, &cfg->primary, stored, &info);
        if (r != IMAGO_OK) {
                st->primary_err = r;
                return r;
        }
        st->version = info.hdr.ver;
        st->has_sec_cnt = info.has_sec_cnt;
        st->sec_cnt = info.has_sec_cnt ? info.sec_cnt : 0;
        st->image_size = info.end;
        memcpy(st->hash, info.hash, sizeof(st->hash));
        return IMAGO_OK;
}

static int read_pending(const struct imago_boot_cfg *cfg, struct imago_boot_status *st)
{
        struct imago_boot_trailer t;
        int r = imago_boot_trailer_read(&cfg->secondary, &t);

        if (r == IMAGO_OK)
                st->pending = request_type(&t);
        return r;
}

static void status_init(struct imago_boot_status *st)
{
        memset(st, 0, sizeof(*st));
        st->swap = IMAGO_BOOT_SWAP_NONE;
        st->pending = IMAGO_BOOT_SWAP_NONE;
}

/* Why the secondary would not boot, for the recovery report. */
static void explain_secondary(const struct imago_boot_cfg *cfg, struct imago_boot_status *st,
                              uint32_t stored)
{
        struct imago_image_info info;

        if (st->secondary_err == 0) {
                st->secondary_err = imago_boot_verify_slot(cfg, &cfg->secondary, stored, &info);
                if (st->secondary_err == 0)
                        st->secondary_err = IMAGO_ENOTFOUND; /* valid, but nothing requested */
        }
}

static int write_revert_request(const struct imago_boot_cfg *cfg)
{
        int r = imago_boot_trailer_set_flag(&cfg->secondary, IMAGO_BOOT_OFF_SWAP_INFO,
                                            IMAGO_BOOT_SWAP_REVERT);

        if (r == IMAGO_OK)
                r = imago_boot_trailer_set_flag(&cfg->secondary, IMAGO_BOOT_OFF_IMAGE_OK,
                                                IMAGO_BOOT_FLAG_SET);
        if (r == IMAGO_OK)
                r = imago_boot_trailer_set_magic(&cfg->secondary);
        return r;
}

/* Make the revert durable in the secondary trailer.  That trailer holds no
 * request (no magic), so a field left torn by an earlier cut is cleared by
 * erasing the trailer and writing the request again. */
static int revert_request(const struct imago_boot_cfg *cfg, const struct imago_boot_geom *g)
{
        int r = write_revert_request(cfg);

        if (r == IMAGO_EBOOT_TRAILER) {
                r = imago_boot_trailer_erase(&cfg->secondary, g);
                if (r == IMAGO_OK)
                        r = write_revert_request(cfg);
        }
        return r;
}

int imago_boot_go(const struct imago_boot_cfg *cfg, struct imago_boot_status *st)
{
        struct imago_boot_geom g;
        struct imago_boot_trailer pt, stt;
        struct imago_image_info info;
        uint32_t stored;
        int r;

        status_init(st);
        r = cfg_check(cfg, &g);
        if (r != IMAGO_OK)
                return r;
        r = imago_boot_state_read(&cfg->state, &stored);
        if (r != IMAGO_OK)
                return r;
        r = imago_boot_trailer_read(&cfg->primary, &pt);
        if (r != IMAGO_OK)
                return r;

        if (in_progress(&pt, &g)) {
                /* 1. resume */
                r = imago_boot_swap_resume(cfg, &g, (enum imago_boot_swap)pt.swap_type,
                                           pt.swap_size);
                if (r != IMAGO_OK)
                        return r;
                st->swap = (enum imago_boot_swap)pt.swap_type;
        } else {
                r = imago_boot_trailer_read(&cfg->secondary, &stt);
                if (r != IMAGO_OK)
                        return r;
                if (stt.magic) {
                        /* 2. a request */
                        enum imago_boot_swap type = request_type(&stt);

                        r = imago_boot_verify_slot(cfg, &cfg->secondary, stored, &info);
                        if (r == IMAGO_OK) {
                                r = do_swap(cfg, &g, type, &info);
                                if (r != IMAGO_OK)
                                        return r;
                                st->swap = type;
                        } else if (is_flash_failure(r)) {
                                return r;
                        } else {
                                st->secondary_err = r;
                                r = imago_boot_trailer_erase(&cfg->secondary, &g);
                                if (r != IMAGO_OK)
                                        return r;
                        }
                } else if (is_trial(&pt)) {
                        /* 3. revert an unconfirmed test image */
                        r = imago_boot_verify_slot(cfg, &cfg->secondary, stored, &info);
                        if (r == IMAGO_OK) {
                                r = revert_request(cfg, &g);
                                if (r == IMAGO_OK)
                                        r = do_swap(cfg, &g, IMAGO_BOOT_SWAP_REVERT, &info);
                                if (r != IMAGO_OK)
                                        return r;
                                st->swap = IMAGO_BOOT_SWAP_REVERT;
                        } else if (is_flash_failure(r)) {
                                return r;
                        } else {
                                st->secondary_err = r; /* keep running the trial image */
                        }
                }
        }

        /* 4. verify the primary, every boot */
        r = check_primary(cfg, st, stored);
        if (r == IMAGO_OK && st->confirmed && st->sec_cnt > stored) {
                r = imago_boot_state_raise(&cfg->state, st->sec_cnt);
                if (r != IMAGO_OK)
                        return r;
                stored = st->sec_cnt;
        }
        st->stored_sec_cnt = stored;
        if (r == IMAGO_OK)
                r = read_pending(cfg, st);
        if (r != IMAGO_OK) {
                if (is_flash_failure(r))
                        return r;
                explain_secondary(cfg, st, stored);
                return IMAGO_EBOOT_NO_IMAGE;
        }
        st->bootable = 1;
        st->slot = 0;
        return IMAGO_OK;
}

int imago_boot_inspect(const struct imago_boot_cfg *cfg, struct imago_boot_status *st)
{
        struct imago_boot_geom g;
        uint32_t stored;
        int r;

        status_init(st);
        r = cfg_check(cfg, &g);
        if (r == IMAGO_OK)
                r = imago_boot_state_read(&cfg->state, &stored);
        if (r != IMAGO_OK)
                return r;
        st->stored_sec_cnt = stored;
        r = read_pending(cfg, st);
        if (r != IMAGO_OK)
                return r;
        r = check_primary(cfg, st, stored);
        if (r == IMAGO_OK)
                st->bootable = 1;
        else if (is_flash_failure(r))
                return r;
        return IMAGO_OK;
}

/* The primary is confirmed (image_ok is durable, or a factory image): raise
 * the stored counter to the primary's own when it is higher, never lower it.
 * The primary is verified first (keys only: a counter below the stored one
 * changes nothing), so only a signed counter is ever stored.  A cut before the
 * raise is completed by the next boot, which raises for a confirmed primary. */
static int raise_for_confirmed(const struct imago_boot_cfg *cfg)
{
        struct imago_image_info info;
        uint32_t stored, sc;
        int r;

        r = imago_boot_state_read(&cfg->state, &stored);
        if (r != IMAGO_OK)
                return r;
        r = imago_boot_verify_slot(cfg, &cfg->primary, 0, &info);
        if (r != IMAGO_OK)
                return r;
        sc = info.has_sec_cnt ? info.sec_cnt : 0;
        if (sc <= stored)
                return IMAGO_OK;
        return imago_boot_state_raise(&cfg->state, sc);
}

int imago_boot_confirm(const struct imago_boot_cfg *cfg)
{
        struct imago_boot_geom g;
        struct imago_boot_trailer t;
        int r;

        r = cfg_check(cfg, &g);
        if (r == IMAGO_OK)
                r = imago_boot_trailer_read(&cfg->primary, &t);
        if (r != IMAGO_OK)
                return r;
        if (in_progress(&t, &g) ||
            (t.magic && t.copy_done != IMAGO_BOOT_FLAG_ON && t.swap_type >= IMAGO_BOOT_SWAP_TEST))
                return IMAGO_EBOOT_NOT_CONFIRMABLE;
        if (t.magic && t.image_ok == IMAGO_BOOT_FLAG_BAD)
                return IMAGO_EBOOT_TRAILER;
        if (t.magic && t.image_ok != IMAGO_BOOT_FLAG_ON) {
                /* image_ok first: the counter is never raised for a trial, whose
                 * revert image must stay bootable. */
                r = imago_boot_trailer_set_flag(&cfg->primary, IMAGO_BOOT_OFF_IMAGE_OK,
                                                IMAGO_BOOT_FLAG_SET);
                if (r != IMAGO_OK)
                        return r;
        }
        /* Confirmed now (or a factory image, or confirmed before): raise. */
        return raise_for_confirmed(cfg);
}

int imago_boot_request(const struct imago_boot_cfg *cfg, int permanent)
{
        struct imago_boot_geom g;
        struct imago_boot_trailer pt, stt;
        struct imago_image_info info;
        uint32_t stored;
        int r;

        r = cfg_check(cfg, &g);
        if (r == IMAGO_OK)
                r = imago_boot_state_read(&cfg->state, &stored);
        if (r == IMAGO_OK)
                r = imago_boot_trailer_read(&cfg->primary, &pt);
        if (r == IMAGO_OK)
                r = imago_boot_trailer_read(&cfg->secondary, &stt);
        if (r != IMAGO_OK)
                return r;
        if (is_trial(&pt) || in_progress(&pt, &g) || stt.swap_type == IMAGO_BOOT_SWAP_REVERT)
                return IMAGO_ESTATE;
        if (!permanent && stt.magic && stt.image_ok == IMAGO_BOOT_FLAG_ON)
                return IMAGO_EBOOT_PENDING;
        r = imago_boot_verify_slot(cfg, &cfg->secondary, stored, &info);
        if (r != IMAGO_OK)
                return r;
        /* Magic first, as MCUboot does: a cut between the two leaves a test
         * request, which reverts unless confirmed. */
        r = imago_boot_trailer_set_magic(&cfg->secondary);
        if (r == IMAGO_EBOOT_TRAILER && !stt.magic) {
                /* A torn earlier attempt: no request is there, start the trailer again. */
                r = imago_boot_trailer_erase(&cfg->secondary, &g);
                if (r == IMAGO_OK)
                        r = imago_boot_trailer_set_magic(&cfg->secondary);
        }
        if (r == IMAGO_OK && permanent)
                r = imago_boot_trailer_set_flag(&cfg->secondary, IMAGO_BOOT_OFF_IMAGE_OK,
                                                IMAGO_BOOT_FLAG_SET);
        return r;
}
