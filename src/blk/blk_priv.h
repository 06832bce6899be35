/* Internal helpers of imago_blk: big-endian fields of the binary forms. */
#ifndef IMAGO_BLK_BLK_PRIV_H
#define IMAGO_BLK_BLK_PRIV_H

#include <stdint.h>

#include "base/err.h"
#include "base/rd.h"

static inline int imago_blk_rd_u64be(struct imago_rd *rd, uint64_t *v)
{
        uint32_t hi, lo;
        int rc;

        if (imago_rd_left(rd) < 8)
                return IMAGO_ETRUNC;
        if ((rc = imago_rd_u32be(rd, &hi)) != IMAGO_OK ||
            (rc = imago_rd_u32be(rd, &lo)) != IMAGO_OK)
                return rc;
        *v = ((uint64_t)hi << 32) | lo;
        return IMAGO_OK;
}

static inline void imago_blk_put_u32be(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)(v >> 24);
        p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);
        p[3] = (uint8_t)v;
}

static inline void imago_blk_put_u64be(uint8_t *p, uint64_t v)
{
        imago_blk_put_u32be(p, (uint32_t)(v >> 32));
        imago_blk_put_u32be(p + 4, (uint32_t)v);
}

#endif
