/* See swap.h. */
#include "swap.h"

#include "base/err.h"

int imago_boot_swap_start(const struct imago_boot_cfg *cfg, const struct imago_boot_geom *g,
                          enum imago_boot_swap type, uint32_t swap_size)
{
        int r;

        r = imago_boot_trailer_erase(&cfg->primary, g);
        if (r == IMAGO_OK)
                r = imago_boot_trailer_set_swap_size(&cfg->primary, swap_size);
        if (r == IMAGO_OK)
                r = imago_boot_trailer_set_flag(&cfg->primary, IMAGO_BOOT_OFF_SWAP_INFO,
                                                (uint8_t)type);
        if (r == IMAGO_OK)
                r = imago_boot_trailer_set_magic(&cfg->primary);
        return r;
}

/* Length of the scratch prefix (whole sectors) that holds len bytes. */
static int scratch_span(const struct imago_flash_area *scratch, uint32_t len, uint32_t *span)
{
        uint32_t i = 0, off, sz, total = 0;
        int r;

        while (total < len) {
                r = imago_flash_area_sector(scratch, i++, &off, &sz);
                if (r != IMAGO_OK)
                        return IMAGO_EFLASH_LAYOUT;
                total += sz;
        }
        *span = total;
        return IMAGO_OK;
}

static int do_step(const struct imago_boot_cfg *cfg, uint32_t off, uint32_t size, uint32_t step)
{
        uint32_t span;
        int r;

        switch (step) {
        case 0:
                r = scratch_span(&cfg->scratch, size, &span);
                if (r == IMAGO_OK)
                        r = imago_flash_erase(&cfg->scratch, 0, span);
                if (r == IMAGO_OK)
                        r = imago_flash_copy(&cfg->scratch, 0, &cfg->secondary, off, size, cfg->buf,
                                             cfg->buf_len);
                return r;
        case 1:
                r = imago_flash_erase(&cfg->secondary, off, size);
                if (r == IMAGO_OK)
                        r = imago_flash_copy(&cfg->secondary, off, &cfg->primary, off, size,
                                             cfg->buf, cfg->buf_len);
                return r;
        default:
                r = imago_flash_erase(&cfg->primary, off, size);
                if (r == IMAGO_OK)
                        r = imago_flash_copy(&cfg->primary, off, &cfg->scratch, 0, size, cfg->buf,
                                             cfg->buf_len);
                return r;
        }
}

int imago_boot_swap_resume(const struct imago_boot_cfg *cfg, const struct imago_boot_geom *g,
                           enum imago_boot_swap type, uint32_t swap_size)
{
        uint32_t i, step, off, size;
        int r, done;

        if (swap_size == 0 || swap_size > g->img_size)
                return IMAGO_EBOOT_TRAILER;
        for (i = 0; i < g->img_sectors; i++) {
                r = imago_flash_area_sector(&cfg->primary, i, &off, &size);
                if (r != IMAGO_OK)
                        return r;
                if (off >= swap_size)
                        break;
                for (step = 0; step < IMAGO_BOOT_STATUS_STEPS; step++) {
                        r = imago_boot_status_get(&cfg->primary, i, step, &done);
                        if (r != IMAGO_OK)
                                return r;
                        if (done)
                                continue;
                        r = do_step(cfg, off, size, step);
                        if (r == IMAGO_OK)
                                r = imago_boot_status_set(&cfg->primary, i, step);
                        if (r != IMAGO_OK)
                                return r;
                }
        }
        /* Finish: drop the request, then mark the result. */
        r = imago_boot_trailer_erase(&cfg->secondary, g);
        /* image_ok left torn by an earlier cut: PERM and REVERT are confirmed by
         * their swap type, so carry on to copy_done. */
        if (r == IMAGO_OK && (type == IMAGO_BOOT_SWAP_PERM || type == IMAGO_BOOT_SWAP_REVERT)) {
                r = imago_boot_trailer_set_flag(&cfg->primary, IMAGO_BOOT_OFF_IMAGE_OK,
                                                IMAGO_BOOT_FLAG_SET);
                if (r == IMAGO_EBOOT_TRAILER)
                        r = IMAGO_OK;
        }
        if (r == IMAGO_OK)
                r = imago_boot_trailer_set_flag(&cfg->primary, IMAGO_BOOT_OFF_COPY_DONE,
                                                IMAGO_BOOT_FLAG_SET);
        return r;
}
