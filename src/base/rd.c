/* See rd.h. */
#include "rd.h"

#include "err.h"

#include <string.h>

void imago_rd_init(struct imago_rd *rd, const void *buf, size_t len)
{
        rd->buf = buf;
        rd->len = buf ? len : 0;
        rd->pos = 0;
}

size_t imago_rd_left(const struct imago_rd *rd)
{
        return rd->len - rd->pos;
}

/* Borrow n bytes at the position without consuming them. */
static int rd_need(const struct imago_rd *rd, size_t n, const uint8_t **p)
{
        if (n > imago_rd_left(rd))
                return IMAGO_ETRUNC;
        *p = rd->buf + rd->pos;
        return IMAGO_OK;
}

int imago_rd_u8(struct imago_rd *rd, uint8_t *v)
{
        const uint8_t *p;
        int r = rd_need(rd, 1, &p);

        if (r == IMAGO_OK) {
                *v = p[0];
                rd->pos += 1;
        }
        return r;
}

int imago_rd_peek_u16le(const struct imago_rd *rd, uint16_t *v)
{
        const uint8_t *p;
        int r = rd_need(rd, 2, &p);

        if (r == IMAGO_OK)
                *v = (uint16_t)(p[0] | (uint16_t)p[1] << 8);
        return r;
}

int imago_rd_u16le(struct imago_rd *rd, uint16_t *v)
{
        int r = imago_rd_peek_u16le(rd, v);

        if (r == IMAGO_OK)
                rd->pos += 2;
        return r;
}

int imago_rd_u32le(struct imago_rd *rd, uint32_t *v)
{
        const uint8_t *p;
        int r = rd_need(rd, 4, &p);

        if (r == IMAGO_OK) {
                *v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24;
                rd->pos += 4;
        }
        return r;
}

int imago_rd_u64le(struct imago_rd *rd, uint64_t *v)
{
        const uint8_t *p;
        int r = rd_need(rd, 8, &p);

        if (r == IMAGO_OK) {
                uint64_t x = 0;

                for (int i = 7; i >= 0; i--)
                        x = x << 8 | p[i];
                *v = x;
                rd->pos += 8;
        }
        return r;
}

int imago_rd_u16be(struct imago_rd *rd, uint16_t *v)
{
        const uint8_t *p;
        int r = rd_need(rd, 2, &p);

        if (r == IMAGO_OK) {
                *v = (uint16_t)((uint16_t)p[0] << 8 | p[1]);
                rd->pos += 2;
        }
        return r;
}

int imago_rd_u32be(struct imago_rd *rd, uint32_t *v)
{
        const uint8_t *p;
        int r = rd_need(rd, 4, &p);

        if (r == IMAGO_OK) {
                *v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
                     (uint32_t)p[3];
                rd->pos += 4;
        }
        return r;
}

int imago_rd_bytes(struct imago_rd *rd, void *out, size_t n)
{
        const uint8_t *p;
        int r = rd_need(rd, n, &p);

        if (r == IMAGO_OK) {
                if (n > 0)
                        memcpy(out, p, n);
                rd->pos += n;
        }
        return r;
}

int imago_rd_ptr(struct imago_rd *rd, const uint8_t **out, size_t n)
{
        const uint8_t *p;
        int r = rd_need(rd, n, &p);

        if (r == IMAGO_OK) {
                *out = p;
                rd->pos += n;
        }
        return r;
}

int imago_rd_skip(struct imago_rd *rd, size_t n)
{
        const uint8_t *p;
        int r = rd_need(rd, n, &p);

        if (r == IMAGO_OK)
                rd->pos += n;
        return r;
}

int imago_rd_sub(struct imago_rd *rd, struct imago_rd *sub, size_t n)
{
        const uint8_t *p;
        int r = rd_need(rd, n, &p);

        if (r == IMAGO_OK) {
                imago_rd_init(sub, p, n);
                rd->pos += n;
        }
        return r;
}

int imago_rd_done(const struct imago_rd *rd)
{
        return imago_rd_left(rd) == 0 ? IMAGO_OK : IMAGO_ETRAILING;
}
