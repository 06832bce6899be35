/* See trailer.h. */
#include "trailer.h"

#include "base/cmath.h"
#include "base/err.h"

#include <string.h>

const uint8_t imago_boot_magic[IMAGO_BOOT_MAGIC_LEN] = {
    0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f, 0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80,
};

int imago_boot_geom_init(struct imago_boot_geom *g, const struct imago_flash_area *primary,
                         const struct imago_flash_area *secondary)
{
        uint32_t n, i, tsize = 0, need, img = 0;
        int r;

        if (primary->size != secondary->size || primary->dev->align > IMAGO_FLASH_MAX_ALIGN ||
            secondary->dev->align > IMAGO_FLASH_MAX_ALIGN)
                return IMAGO_EFLASH_LAYOUT;
        n = imago_flash_area_nsectors(primary);
        if (n < 2 || n != imago_flash_area_nsectors(secondary))
                return IMAGO_EFLASH_LAYOUT;
        for (i = 0; i < n; i++) {
                uint32_t po, ps, so, ss;

                r = imago_flash_area_sector(primary, i, &po, &ps);
                if (r == IMAGO_OK)
                        r = imago_flash_area_sector(secondary, i, &so, &ss);
                if (r != IMAGO_OK || po != so || ps != ss)
                        return IMAGO_EFLASH_LAYOUT;
        }
        /* Take sectors from the end until the trailer of the rest fits. */
        for (i = n; i > 1; i--) {
                uint32_t off, sz;

                r = imago_flash_area_sector(primary, i - 1, &off, &sz);
                if (r != IMAGO_OK)
                        return r;
                tsize += sz;
                need = IMAGO_BOOT_TRAILER_FIXED + 8U * IMAGO_BOOT_STATUS_STEPS * (i - 1);
                if (tsize >= need) {
                        img = off;
                        break;
                }
        }
        if (img == 0)
                return IMAGO_EFLASH_LAYOUT;
        g->nsectors = n;
        g->img_sectors = i - 1;
        g->img_size = img;
        g->max_sector = imago_flash_area_max_sector(primary);
        return IMAGO_OK;
}

static enum imago_boot_flag flag_of(const struct imago_flash_area *slot, uint8_t b)
{
        if (b == IMAGO_BOOT_FLAG_SET)
                return IMAGO_BOOT_FLAG_ON;
        if (b == slot->dev->erased)
                return IMAGO_BOOT_FLAG_UNSET;
        return IMAGO_BOOT_FLAG_BAD;
}

int imago_boot_trailer_read(const struct imago_flash_area *slot, struct imago_boot_trailer *t)
{
        uint8_t buf[IMAGO_BOOT_TRAILER_FIXED];
        const uint8_t *end = buf + sizeof(buf);
        uint8_t info;
        int r;

        if (slot->size < sizeof(buf))
                return IMAGO_EFLASH_LAYOUT;
        r = imago_flash_read(slot, slot->size - (uint32_t)sizeof(buf), buf, sizeof(buf));
        if (r != IMAGO_OK)
                return r;
        memset(t, 0, sizeof(*t));
        t->magic = memcmp(end - IMAGO_BOOT_OFF_MAGIC, imago_boot_magic, IMAGO_BOOT_MAGIC_LEN) == 0;
        t->image_ok = flag_of(slot, *(end - IMAGO_BOOT_OFF_IMAGE_OK));
        t->copy_done = flag_of(slot, *(end - IMAGO_BOOT_OFF_COPY_DONE));
        info = *(end - IMAGO_BOOT_OFF_SWAP_INFO);
        if (info == slot->dev->erased)
                t->swap_type = 0;
        else if ((info & 0xf0) == 0 && (info & 0x0f) >= IMAGO_BOOT_SWAP_NONE &&
                 (info & 0x0f) <= IMAGO_BOOT_SWAP_REVERT)
                t->swap_type = info & 0x0f;
        else
                t->swap_type = -1;
        if (!imago_flash_buf_erased(slot, end - IMAGO_BOOT_OFF_SWAP_SIZE, 4)) {
                const uint8_t *p = end - IMAGO_BOOT_OFF_SWAP_SIZE;

                t->swap_size_set = 1;
                t->swap_size = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                               (uint32_t)p[3] << 24;
        }
        return IMAGO_OK;
}

int imago_boot_trailer_erase(const struct imago_flash_area *slot, const struct imago_boot_geom *g)
{
        return imago_flash_erase(slot, g->img_size, slot->size - g->img_size);
}

/* Program len (<= 16) bytes at off_from_end, padded with erased bytes to the
 * write alignment; no-op when already programmed with the same bytes. */
static int set_field(const struct imago_flash_area *slot, uint32_t off_from_end, const uint8_t *val,
                     uint32_t len)
{
        uint8_t cur[IMAGO_BOOT_MAGIC_LEN], want[IMAGO_BOOT_MAGIC_LEN];
        uint32_t off, wlen;
        int r;

        if (off_from_end > slot->size || len > sizeof(cur))
                return IMAGO_EINVAL;
        off = slot->size - off_from_end;
        r = imago_align_up_u32(len, slot->dev->align, &wlen);
        if (r != IMAGO_OK || wlen > sizeof(cur) || off % slot->dev->align != 0)
                return IMAGO_EFLASH_ALIGN;
        r = imago_flash_read(slot, off, cur, wlen);
        if (r != IMAGO_OK)
                return r;
        memset(want, slot->dev->erased, sizeof(want));
        memcpy(want, val, len);
        if (memcmp(cur, want, len) == 0)
                return IMAGO_OK; /* already holds the value */
        if (!imago_flash_buf_erased(slot, cur, wlen))
                return IMAGO_EBOOT_TRAILER;
        return imago_flash_write(slot, off, want, wlen);
}

int imago_boot_trailer_set_flag(const struct imago_flash_area *slot, uint32_t off_from_end,
                                uint8_t value)
{
        return set_field(slot, off_from_end, &value, 1);
}

int imago_boot_trailer_set_magic(const struct imago_flash_area *slot)
{
        return set_field(slot, IMAGO_BOOT_OFF_MAGIC, imago_boot_magic, IMAGO_BOOT_MAGIC_LEN);
}

int imago_boot_trailer_set_swap_size(const struct imago_flash_area *slot, uint32_t size)
{
        uint8_t v[4] = {(uint8_t)size, (uint8_t)(size >> 8), (uint8_t)(size >> 16),
                        (uint8_t)(size >> 24)};

        return set_field(slot, IMAGO_BOOT_OFF_SWAP_SIZE, v, sizeof(v));
}

static int status_off(const struct imago_flash_area *slot, uint32_t idx, uint32_t step,
                      uint32_t *off_from_end)
{
        uint32_t k, o;

        if (step >= IMAGO_BOOT_STATUS_STEPS ||
            imago_mul_u32(idx, IMAGO_BOOT_STATUS_STEPS, &k) != IMAGO_OK ||
            imago_add_u32(k, step + 1, &k) != IMAGO_OK || imago_mul_u32(k, 8, &k) != IMAGO_OK ||
            imago_add_u32(k, IMAGO_BOOT_TRAILER_FIXED, &o) != IMAGO_OK || o > slot->size)
                return IMAGO_EFLASH_RANGE;
        *off_from_end = o;
        return IMAGO_OK;
}

int imago_boot_status_get(const struct imago_flash_area *slot, uint32_t idx, uint32_t step,
                          int *done)
{
        uint32_t o;
        uint8_t b;
        int r = status_off(slot, idx, step, &o);

        if (r == IMAGO_OK)
                r = imago_flash_read(slot, slot->size - o, &b, 1);
        if (r == IMAGO_OK)
                *done = b != slot->dev->erased; /* a torn entry: its step was complete */
        return r;
}

int imago_boot_status_set(const struct imago_flash_area *slot, uint32_t idx, uint32_t step)
{
        uint32_t o;
        int r = status_off(slot, idx, step, &o);

        if (r != IMAGO_OK)
                return r;
        return imago_boot_trailer_set_flag(slot, o, IMAGO_BOOT_FLAG_SET);
}
