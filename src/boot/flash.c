/* See flash.h. */
#include "flash.h"

#include "base/cmath.h"
#include "base/err.h"

#include <string.h>

int imago_flash_check(const struct imago_flash *dev)
{
        uint64_t total = 0;
        size_t i;

        if (!dev || !dev->ops || !dev->ops->read || !dev->ops->write || !dev->ops->erase ||
            !dev->runs || dev->nruns == 0)
                return IMAGO_EFLASH_LAYOUT;
        if (dev->align != 1 && dev->align != 2 && dev->align != 4 && dev->align != 8)
                return IMAGO_EFLASH_LAYOUT;
        if (dev->erased != 0x00 && dev->erased != 0xff)
                return IMAGO_EFLASH_LAYOUT;
        for (i = 0; i < dev->nruns; i++) {
                if (dev->runs[i].size == 0 || dev->runs[i].count == 0 ||
                    dev->runs[i].size % IMAGO_FLASH_MAX_ALIGN != 0)
                        return IMAGO_EFLASH_LAYOUT;
                total += (uint64_t)dev->runs[i].size * dev->runs[i].count;
                if (total > UINT32_MAX)
                        return IMAGO_EFLASH_LAYOUT;
        }
        return IMAGO_OK;
}

uint32_t imago_flash_dev_size(const struct imago_flash *dev)
{
        uint32_t total = 0;
        size_t i;

        for (i = 0; i < dev->nruns; i++)
                total += dev->runs[i].size * dev->runs[i].count;
        return total;
}

int imago_flash_dev_sector(const struct imago_flash *dev, uint32_t off, uint32_t *start,
                           uint32_t *size)
{
        uint32_t base = 0;
        size_t i;

        for (i = 0; i < dev->nruns; i++) {
                uint32_t len = dev->runs[i].size * dev->runs[i].count;

                if (off - base < len) {
                        uint32_t k = (off - base) / dev->runs[i].size;

                        *start = base + k * dev->runs[i].size;
                        *size = dev->runs[i].size;
                        return IMAGO_OK;
                }
                base += len;
        }
        return IMAGO_EFLASH_RANGE;
}

static int is_boundary(const struct imago_flash *dev, uint32_t off)
{
        uint32_t s, n;

        if (off == imago_flash_dev_size(dev))
                return 1;
        if (imago_flash_dev_sector(dev, off, &s, &n) != IMAGO_OK)
                return 0;
        return s == off;
}

int imago_flash_area_init(struct imago_flash_area *a, const struct imago_flash *dev, uint32_t off,
                          uint32_t size)
{
        uint32_t end;
        int r;

        r = imago_flash_check(dev);
        if (r != IMAGO_OK)
                return r;
        if (size == 0 || imago_add_u32(off, size, &end) != IMAGO_OK ||
            end > imago_flash_dev_size(dev))
                return IMAGO_EFLASH_RANGE;
        if (!is_boundary(dev, off) || !is_boundary(dev, end))
                return IMAGO_EFLASH_SECTOR;
        a->dev = dev;
        a->off = off;
        a->size = size;
        return IMAGO_OK;
}

uint32_t imago_flash_area_nsectors(const struct imago_flash_area *a)
{
        uint32_t off = 0, n = 0, s, sz;

        while (off < a->size) {
                if (imago_flash_dev_sector(a->dev, a->off + off, &s, &sz) != IMAGO_OK)
                        break;
                off += sz;
                n++;
        }
        return n;
}

int imago_flash_area_sector(const struct imago_flash_area *a, uint32_t idx, uint32_t *off,
                            uint32_t *size)
{
        uint32_t o = 0, n = 0, s, sz;

        while (o < a->size) {
                if (imago_flash_dev_sector(a->dev, a->off + o, &s, &sz) != IMAGO_OK)
                        return IMAGO_EFLASH_RANGE;
                if (n == idx) {
                        *off = o;
                        *size = sz;
                        return IMAGO_OK;
                }
                o += sz;
                n++;
        }
        return IMAGO_EFLASH_RANGE;
}

uint32_t imago_flash_area_max_sector(const struct imago_flash_area *a)
{
        uint32_t o = 0, s, sz, max = 0;

        while (o < a->size) {
                if (imago_flash_dev_sector(a->dev, a->off + o, &s, &sz) != IMAGO_OK)
                        break;
                if (sz > max)
                        max = sz;
                o += sz;
        }
        return max;
}

static int range_ok(const struct imago_flash_area *a, uint32_t off, uint32_t len)
{
        uint32_t end;

        if (imago_add_u32(off, len, &end) != IMAGO_OK || end > a->size)
                return 0;
        return 1;
}

int imago_flash_read(const struct imago_flash_area *a, uint32_t off, void *buf, uint32_t len)
{
        if (!range_ok(a, off, len))
                return IMAGO_EFLASH_RANGE;
        if (len == 0)
                return IMAGO_OK;
        return a->dev->ops->read(a->dev->ctx, a->off + off, buf, len);
}

int imago_flash_write(const struct imago_flash_area *a, uint32_t off, const void *buf, uint32_t len)
{
        if (!range_ok(a, off, len))
                return IMAGO_EFLASH_RANGE;
        if (off % a->dev->align != 0 || len % a->dev->align != 0)
                return IMAGO_EFLASH_ALIGN;
        if (len == 0)
                return IMAGO_OK;
        return a->dev->ops->write(a->dev->ctx, a->off + off, buf, len);
}

int imago_flash_erase(const struct imago_flash_area *a, uint32_t off, uint32_t len)
{
        if (!range_ok(a, off, len))
                return IMAGO_EFLASH_RANGE;
        if (len == 0)
                return IMAGO_OK;
        if (!is_boundary(a->dev, a->off + off) || !is_boundary(a->dev, a->off + off + len))
                return IMAGO_EFLASH_SECTOR;
        return a->dev->ops->erase(a->dev->ctx, a->off + off, len);
}

int imago_flash_buf_erased(const struct imago_flash_area *a, const void *buf, uint32_t len)
{
        const uint8_t *p = buf;
        uint32_t i;

        for (i = 0; i < len; i++)
                if (p[i] != a->dev->erased)
                        return 0;
        return 1;
}

int imago_flash_copy(const struct imago_flash_area *dst, uint32_t doff,
                     const struct imago_flash_area *src, uint32_t soff, uint32_t len, uint8_t *buf,
                     uint32_t buf_len)
{
        uint32_t done = 0, align = dst->dev->align;
        int r;

        if (!buf || buf_len < align || buf_len % align != 0)
                return IMAGO_EINVAL;
        if (!range_ok(dst, doff, len) || !range_ok(src, soff, len))
                return IMAGO_EFLASH_RANGE;
        while (done < len) {
                uint32_t n = len - done < buf_len ? len - done : buf_len, u;

                r = imago_flash_read(src, soff + done, buf, n);
                if (r != IMAGO_OK)
                        return r;
                /* Program unit by unit, skipping units that are already erased. */
                for (u = 0; u < n; u += align) {
                        uint32_t un = n - u < align ? n - u : align, start = u;

                        if (imago_flash_buf_erased(dst, buf + u, un))
                                continue;
                        /* Coalesce consecutive non-erased units into one write. */
                        while (u + align < n && !imago_flash_buf_erased(
                                                    dst, buf + u + align,
                                                    n - u - align < align ? n - u - align : align))
                                u += align;
                        un = (u + align < n ? u + align : n) - start;
                        r = imago_flash_write(dst, doff + done + start, buf + start, un);
                        if (r != IMAGO_OK)
                                return r;
                }
                done += n;
        }
        return IMAGO_OK;
}
