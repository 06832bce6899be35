/* See bstate.h. */
#include "bstate.h"

#include "base/err.h"

#include <string.h>

uint32_t imago_boot_crc32(const void *buf, uint32_t len)
{
        const uint8_t *p = buf;
        uint32_t crc = 0xffffffffU, i;
        int k;

        for (i = 0; i < len; i++) {
                crc ^= p[i];
                for (k = 0; k < 8; k++)
                        crc = (crc >> 1) ^ (0xedb88320U & (0U - (crc & 1U)));
        }
        return ~crc;
}

static uint32_t get32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
        p[2] = (uint8_t)(v >> 16);
        p[3] = (uint8_t)(v >> 24);
}

struct sector_scan {
        uint32_t off, size;
        int have;      /* a valid record was seen */
        uint32_t max;  /* highest valid counter */
        uint32_t next; /* offset after the last programmed record */
};

static int scan(const struct imago_flash_area *a, uint32_t idx, struct sector_scan *s)
{
        uint8_t rec[IMAGO_BOOT_STATE_REC_LEN];
        uint32_t o;
        int r;

        memset(s, 0, sizeof(*s));
        r = imago_flash_area_sector(a, idx, &s->off, &s->size);
        if (r != IMAGO_OK)
                return r;
        for (o = 0; o + IMAGO_BOOT_STATE_REC_LEN <= s->size; o += IMAGO_BOOT_STATE_REC_LEN) {
                uint32_t c;

                r = imago_flash_read(a, s->off + o, rec, sizeof(rec));
                if (r != IMAGO_OK)
                        return r;
                if (imago_flash_buf_erased(a, rec, sizeof(rec)))
                        continue;
                s->next = o + IMAGO_BOOT_STATE_REC_LEN;
                c = get32(rec + 4);
                if (get32(rec) != IMAGO_BOOT_STATE_MAGIC || get32(rec + 8) != ~c ||
                    get32(rec + 12) != imago_boot_crc32(rec, 12))
                        continue;
                if (!s->have || c > s->max)
                        s->max = c;
                s->have = 1;
        }
        return IMAGO_OK;
}

static int scan_both(const struct imago_flash_area *a, struct sector_scan s[2], int *cur)
{
        int r;

        if (imago_flash_area_nsectors(a) != 2)
                return IMAGO_EFLASH_LAYOUT;
        r = scan(a, 0, &s[0]);
        if (r == IMAGO_OK)
                r = scan(a, 1, &s[1]);
        if (r != IMAGO_OK)
                return r;
        *cur = (s[1].have && (!s[0].have || s[1].max > s[0].max)) ? 1 : 0;
        return IMAGO_OK;
}

int imago_boot_state_read(const struct imago_flash_area *a, uint32_t *counter)
{
        struct sector_scan s[2];
        int cur, r = scan_both(a, s, &cur);

        if (r == IMAGO_OK)
                *counter = s[cur].have ? s[cur].max : 0;
        return r;
}

int imago_boot_state_raise(const struct imago_flash_area *a, uint32_t counter)
{
        uint8_t rec[IMAGO_BOOT_STATE_REC_LEN];
        struct sector_scan s[2];
        struct sector_scan *w;
        int cur, r = scan_both(a, s, &cur);

        if (r != IMAGO_OK)
                return r;
        if (s[cur].have && s[cur].max >= counter)
                return IMAGO_OK;
        if (!s[cur].have && counter == 0)
                return IMAGO_OK;
        w = &s[cur];
        if (w->next + IMAGO_BOOT_STATE_REC_LEN > w->size) {
                w = &s[1 - cur];
                r = imago_flash_erase(a, w->off, w->size);
                if (r != IMAGO_OK)
                        return r;
                w->next = 0;
        }
        put32(rec, IMAGO_BOOT_STATE_MAGIC);
        put32(rec + 4, counter);
        put32(rec + 8, ~counter);
        put32(rec + 12, imago_boot_crc32(rec, 12));
        return imago_flash_write(a, w->off + w->next, rec, sizeof(rec));
}
