/* The receiver's progress record in its persisted form; see blk.h. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "base/err.h"
#include "base/rd.h"
#include "blk/blk.h"
#include "blk/blk_priv.h"

#define BLK_PROGRESS_HDR 28u

static const uint8_t blk_progress_magic[4] = {'I', 'M', 'B', 'P'};

static int blk_progress_ok(const struct imago_blk_progress *p, size_t olen)
{
        if (!imago_blk_obj_valid(p->obj, olen) || p->block == 0 || p->block > IMAGO_BLK_BLOCK_MAX ||
            p->length > IMAGO_BLK_LENGTH_MAX || p->done > p->length ||
            (p->done != p->length && p->done % p->block != 0))
                return 0;
        return 1;
}

int imago_blk_progress_encode(const struct imago_blk_progress *p, uint8_t *buf, size_t size,
                              size_t *len)
{
        size_t olen;

        if (p == NULL || buf == NULL || len == NULL)
                return IMAGO_EINVAL;
        olen = strnlen(p->obj, sizeof(p->obj));
        if (!blk_progress_ok(p, olen) || size < BLK_PROGRESS_HDR + olen)
                return IMAGO_EINVAL;
        memcpy(buf, blk_progress_magic, sizeof(blk_progress_magic));
        buf[4] = 1;
        buf[5] = (uint8_t)olen;
        buf[6] = 0;
        buf[7] = 0;
        imago_blk_put_u32be(buf + 8, p->block);
        imago_blk_put_u64be(buf + 12, p->length);
        imago_blk_put_u64be(buf + 20, p->done);
        memcpy(buf + BLK_PROGRESS_HDR, p->obj, olen);
        *len = BLK_PROGRESS_HDR + olen;
        return IMAGO_OK;
}

int imago_blk_progress_decode(const uint8_t *buf, size_t len, struct imago_blk_progress *p)
{
        struct imago_blk_progress tmp;
        uint8_t magic[4], ver, n, z0, z1;
        const uint8_t *name;
        struct imago_rd rd;
        int rc;

        if (buf == NULL || p == NULL)
                return IMAGO_EINVAL;
        memset(&tmp, 0, sizeof(tmp));
        imago_rd_init(&rd, buf, len);
        if ((rc = imago_rd_bytes(&rd, magic, sizeof(magic))) != IMAGO_OK ||
            (rc = imago_rd_u8(&rd, &ver)) != IMAGO_OK || (rc = imago_rd_u8(&rd, &n)) != IMAGO_OK ||
            (rc = imago_rd_u8(&rd, &z0)) != IMAGO_OK || (rc = imago_rd_u8(&rd, &z1)) != IMAGO_OK ||
            (rc = imago_rd_u32be(&rd, &tmp.block)) != IMAGO_OK ||
            (rc = imago_blk_rd_u64be(&rd, &tmp.length)) != IMAGO_OK ||
            (rc = imago_blk_rd_u64be(&rd, &tmp.done)) != IMAGO_OK)
                goto out;
        rc = IMAGO_EBLK;
        if (memcmp(magic, blk_progress_magic, sizeof(magic)) != 0 || ver != 1 || z0 != 0 ||
            z1 != 0 || n == 0 || n > IMAGO_BLK_OBJ_MAX)
                goto out;
        if ((rc = imago_rd_ptr(&rd, &name, n)) != IMAGO_OK || (rc = imago_rd_done(&rd)) != IMAGO_OK)
                goto out;
        memcpy(tmp.obj, name, n);
        rc = IMAGO_EBLK;
        if (strnlen(tmp.obj, sizeof(tmp.obj)) != n || !blk_progress_ok(&tmp, n))
                goto out;
        *p = tmp;
        rc = IMAGO_OK;
out:
        return rc;
}
