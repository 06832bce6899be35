/* The receiver: requests in order, a bounded window, resume; see blk.h and docs/blk.md. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "blk/blk.h"

static int blk_bit(const struct imago_blk_rx *rx, uint64_t b)
{
        return (rx->bitmap[b / 8] >> (b % 8)) & 1;
}

static void blk_set(struct imago_blk_rx *rx, uint64_t b)
{
        rx->bitmap[b / 8] = (uint8_t)(rx->bitmap[b / 8] | (1u << (b % 8)));
}

/* Bytes of block b (the last one may be short). */
static uint32_t blk_len(const struct imago_blk_rx *rx, uint64_t b)
{
        uint64_t off = b * rx->block;

        return rx->length - off < rx->block ? (uint32_t)(rx->length - off) : rx->block;
}

static int blk_rx_cfg_ok(const struct imago_blk_rx_cfg *c)
{
        return c->obj != NULL &&
               imago_blk_obj_valid(c->obj, strnlen(c->obj, IMAGO_BLK_OBJ_MAX + 1)) &&
               c->length <= IMAGO_BLK_LENGTH_MAX && c->block > 0 &&
               c->block <= IMAGO_BLK_BLOCK_MAX && c->window > 0 &&
               c->window <= IMAGO_BLK_WINDOW_MAX && c->tid != 0 && c->timeout_ms > 0 &&
               c->write != NULL;
}

int imago_blk_rx_init(struct imago_blk_rx *rx, const struct imago_blk_rx_cfg *cfg,
                      const struct imago_blk_progress *resume)
{
        uint64_t b;
        int rc = IMAGO_EINVAL;

        if (rx == NULL)
                goto out;
        memset(rx, 0, sizeof(*rx));
        if (cfg == NULL || !blk_rx_cfg_ok(cfg))
                goto out;
        if (resume != NULL &&
            (strcmp(resume->obj, cfg->obj) != 0 || resume->length != cfg->length ||
             resume->block != cfg->block || resume->done > cfg->length ||
             (resume->done != cfg->length && resume->done % cfg->block != 0)))
                goto out;
        memcpy(rx->obj, cfg->obj, strlen(cfg->obj) + 1);
        rx->length = cfg->length;
        rx->block = cfg->block;
        rx->window = cfg->window;
        rx->tid = cfg->tid;
        rx->timeout_ms = cfg->timeout_ms;
        rx->write = cfg->write;
        rx->arg = cfg->arg;
        rx->nblocks = (cfg->length + cfg->block - 1) / cfg->block;
        if (rx->nblocks > IMAGO_BLK_BLOCKS_MAX)
                goto out;
        rc = IMAGO_ENOMEM;
        if ((rx->bitmap = calloc((size_t)(rx->nblocks / 8 + 1), 1)) == NULL)
                goto out;
        if (resume != NULL)
                rx->prefix = resume->done == rx->length ? rx->nblocks : resume->done / rx->block;
        for (b = 0; b < rx->prefix; b++)
                blk_set(rx, b);
        rx->next = rx->prefix;
        rc = IMAGO_OK;
out:
        return rc;
}

static void blk_rx_fill(const struct imago_blk_rx *rx, uint64_t b, struct imago_blk_req *req)
{
        memset(req, 0, sizeof(*req));
        req->tid = rx->tid;
        memcpy(req->obj, rx->obj, sizeof(req->obj));
        req->off = b * rx->block;
        req->len = blk_len(rx, b);
}

int imago_blk_rx_next(struct imago_blk_rx *rx, uint64_t now_ms, struct imago_blk_req *req)
{
        unsigned i, free_slot = IMAGO_BLK_WINDOW_MAX;

        if (rx == NULL || req == NULL || rx->bitmap == NULL)
                return IMAGO_EINVAL;
        if (rx->failed != 0)
                return rx->failed;
        for (i = 0; i < rx->window; i++) {
                struct imago_blk_rx_slot *s = &rx->slot[i];

                if (!s->used) {
                        if (free_slot == IMAGO_BLK_WINDOW_MAX)
                                free_slot = i;
                        continue;
                }
                /* a clock going backwards never counts as a timeout */
                if (s->need_send ||
                    (now_ms >= s->sent_ms && now_ms - s->sent_ms >= rx->timeout_ms)) {
                        s->need_send = 0;
                        s->sent_ms = now_ms;
                        rx->stats.resent++;
                        blk_rx_fill(rx, s->blk, req);
                        return 1;
                }
        }
        /* a sliding window: nothing further than window blocks from the contiguous prefix */
        if (free_slot == IMAGO_BLK_WINDOW_MAX || rx->next >= rx->nblocks ||
            rx->next >= rx->prefix + rx->window)
                return 0;
        rx->slot[free_slot].used = 1;
        rx->slot[free_slot].need_send = 0;
        rx->slot[free_slot].blk = rx->next;
        rx->slot[free_slot].sent_ms = now_ms;
        rx->stats.sent++;
        blk_rx_fill(rx, rx->next++, req);
        return 1;
}

static struct imago_blk_rx_slot *blk_rx_find(struct imago_blk_rx *rx, uint64_t off)
{
        unsigned i;

        for (i = 0; i < rx->window; i++)
                if (rx->slot[i].used && rx->slot[i].blk * rx->block == off)
                        return &rx->slot[i];
        return NULL;
}

int imago_blk_rx_answer(struct imago_blk_rx *rx, const struct imago_blk_msg *m)
{
        struct imago_blk_rx_slot *s;
        int rc;

        if (rx == NULL || m == NULL || rx->bitmap == NULL)
                return IMAGO_EINVAL;
        if (rx->failed != 0)
                return rx->failed;
        if (m->tid != rx->tid || strncmp(m->obj, rx->obj, sizeof(rx->obj)) != 0)
                goto ignore;
        if (m->type == IMAGO_BLK_ERROR) {
                if (blk_rx_find(rx, m->off) == NULL)
                        goto ignore;
                rx->failed = m->code == IMAGO_BLK_NOTFOUND ? IMAGO_ENOTFOUND : IMAGO_EBLK;
                return rx->failed;
        }
        if (m->type != IMAGO_BLK_BLOCK)
                goto ignore;
        if (m->total != rx->length) {
                /* this transfer, this object, another length: endless (or short) data */
                rx->failed = IMAGO_EBLK;
                return rx->failed;
        }
        if ((s = blk_rx_find(rx, m->off)) == NULL || m->data == NULL ||
            m->data_len != blk_len(rx, s->blk) || blk_bit(rx, s->blk))
                goto ignore;
        if ((rc = rx->write(rx->arg, m->off, m->data, m->data_len)) != IMAGO_OK) {
                rx->failed = rc < 0 ? rc : IMAGO_EIO;
                return rx->failed;
        }
        blk_set(rx, s->blk);
        memset(s, 0, sizeof(*s));
        rx->stats.accepted++;
        while (rx->prefix < rx->nblocks && blk_bit(rx, rx->prefix))
                rx->prefix++;
        return 1;
ignore:
        rx->stats.ignored++;
        return 0;
}

void imago_blk_rx_disconnect(struct imago_blk_rx *rx)
{
        unsigned i;

        if (rx == NULL)
                return;
        for (i = 0; i < rx->window; i++)
                if (rx->slot[i].used)
                        rx->slot[i].need_send = 1;
}

int imago_blk_rx_done(const struct imago_blk_rx *rx)
{
        return rx != NULL && rx->bitmap != NULL && rx->failed == 0 && rx->prefix == rx->nblocks;
}

unsigned imago_blk_rx_inflight(const struct imago_blk_rx *rx)
{
        unsigned i, n = 0;

        if (rx == NULL)
                return 0;
        for (i = 0; i < rx->window; i++)
                n += rx->slot[i].used;
        return n;
}

void imago_blk_rx_progress(const struct imago_blk_rx *rx, struct imago_blk_progress *p)
{
        uint64_t done;

        if (rx == NULL || p == NULL)
                return;
        memset(p, 0, sizeof(*p));
        memcpy(p->obj, rx->obj, sizeof(p->obj));
        p->length = rx->length;
        p->block = rx->block;
        done = rx->prefix * rx->block;
        p->done = done > rx->length ? rx->length : done;
}

void imago_blk_rx_free(struct imago_blk_rx *rx)
{
        if (rx == NULL)
                return;
        free(rx->bitmap);
        memset(rx, 0, sizeof(*rx));
}
