/* The block and error frames (binary, cloud -> device); see blk.h and docs/blk.md. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/rd.h"
#include "blk/blk.h"
#include "blk/blk_priv.h"

static const uint8_t blk_magic[4] = {'I', 'M', 'B', 'K'};

/* The rules both the parser and the builder apply to the fields. */
static int blk_msg_check(const struct imago_blk_msg *m, size_t olen)
{
        if (m->tid == 0 || !imago_blk_obj_valid(m->obj, olen) || m->off >= IMAGO_BLK_OFF_LIMIT ||
            m->total >= IMAGO_BLK_OFF_LIMIT)
                return IMAGO_EBLK;
        if (m->type == IMAGO_BLK_BLOCK) {
                if (m->code != IMAGO_BLK_OK || m->data_len == 0 ||
                    m->data_len > IMAGO_BLK_BLOCK_MAX || m->off + m->data_len > m->total)
                        return IMAGO_EBLK;
        } else if (m->type == IMAGO_BLK_ERROR) {
                if ((m->code != IMAGO_BLK_NOTFOUND && m->code != IMAGO_BLK_RANGE) ||
                    m->data_len != 0 || m->total != 0)
                        return IMAGO_EBLK;
        } else {
                return IMAGO_EBLK;
        }
        return IMAGO_OK;
}

int imago_blk_msg_parse(const uint8_t *buf, size_t len, struct imago_blk_msg *m)
{
        struct imago_blk_msg tmp;
        uint8_t magic[4], ver, type, n, code;
        const uint8_t *name;
        struct imago_rd rd;
        int rc;

        if (buf == NULL || m == NULL)
                return IMAGO_EINVAL;
        memset(&tmp, 0, sizeof(tmp));
        imago_rd_init(&rd, buf, len);
        if ((rc = imago_rd_bytes(&rd, magic, sizeof(magic))) != IMAGO_OK ||
            (rc = imago_rd_u8(&rd, &ver)) != IMAGO_OK ||
            (rc = imago_rd_u8(&rd, &type)) != IMAGO_OK || (rc = imago_rd_u8(&rd, &n)) != IMAGO_OK ||
            (rc = imago_rd_u8(&rd, &code)) != IMAGO_OK ||
            (rc = imago_rd_u32be(&rd, &tmp.tid)) != IMAGO_OK ||
            (rc = imago_blk_rd_u64be(&rd, &tmp.off)) != IMAGO_OK ||
            (rc = imago_blk_rd_u64be(&rd, &tmp.total)) != IMAGO_OK ||
            (rc = imago_rd_u32be(&rd, &tmp.data_len)) != IMAGO_OK)
                goto out;
        rc = IMAGO_EBLK;
        if (memcmp(magic, blk_magic, sizeof(magic)) != 0 || ver != 1 || n == 0 ||
            n > IMAGO_BLK_OBJ_MAX || tmp.data_len > IMAGO_BLK_BLOCK_MAX)
                goto out;
        if ((rc = imago_rd_ptr(&rd, &name, n)) != IMAGO_OK)
                goto out;
        memcpy(tmp.obj, name, n);
        tmp.type = (enum imago_blk_type)type;
        tmp.code = (enum imago_blk_code)code;
        if ((rc = imago_rd_ptr(&rd, &tmp.data, tmp.data_len)) != IMAGO_OK ||
            (rc = imago_rd_done(&rd)) != IMAGO_OK)
                goto out;
        if (tmp.data_len == 0)
                tmp.data = NULL;
        /* a NUL in the name makes strnlen shorter than n: refused by the length comparison */
        if (strnlen(tmp.obj, sizeof(tmp.obj)) != n) {
                rc = IMAGO_EBLK;
                goto out;
        }
        if ((rc = blk_msg_check(&tmp, n)) != IMAGO_OK)
                goto out;
        *m = tmp;
out:
        return rc;
}

int imago_blk_msg_build(const struct imago_blk_msg *m, uint8_t **out, size_t *len)
{
        uint8_t *buf = NULL;
        size_t olen, total;
        int rc = IMAGO_EINVAL;

        if (m == NULL || out == NULL || len == NULL)
                goto out;
        olen = strnlen(m->obj, sizeof(m->obj));
        if (blk_msg_check(m, olen) != IMAGO_OK || (m->data_len > 0 && m->data == NULL))
                goto out;
        total = IMAGO_BLK_HDR_LEN + olen + m->data_len;
        rc = IMAGO_ENOMEM;
        if ((buf = malloc(total)) == NULL)
                goto out;
        memcpy(buf, blk_magic, sizeof(blk_magic));
        buf[4] = 1;
        buf[5] = (uint8_t)m->type;
        buf[6] = (uint8_t)olen;
        buf[7] = (uint8_t)m->code;
        imago_blk_put_u32be(buf + 8, m->tid);
        imago_blk_put_u64be(buf + 12, m->off);
        imago_blk_put_u64be(buf + 20, m->total);
        imago_blk_put_u32be(buf + 28, m->data_len);
        memcpy(buf + IMAGO_BLK_HDR_LEN, m->obj, olen);
        if (m->data_len > 0)
                memcpy(buf + IMAGO_BLK_HDR_LEN + olen, m->data, m->data_len);
        *out = buf;
        *len = total;
        rc = IMAGO_OK;
out:
        return rc;
}
