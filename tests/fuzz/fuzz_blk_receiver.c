/*
 * libFuzzer target: the block receiver (src/blk) driven by arbitrary
 * answers.  The first 5 bytes choose the object length (up to 64 KiB), the
 * block size and the window; the rest is a program of steps:
 *   0  ask for requests at the current time (rx_next until 0)
 *   1  disconnect
 *   2  let the clock pass (next byte x 100 ms)
 *   3  a raw frame (2-byte length, then the bytes) through the frame parser
 *   4  a near-miss block: block index, deltas on tid, offset, total and
 *      length taken from the next bytes, data from a fixed image
 *   5  an error answer for a block index
 * Invariants: never more than the window outstanding, no write outside
 * [0, length) or of a length other than the block's, every request inside
 * the object, and a receiver that says done has written every byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/rd.h"
#include "blk/blk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OBJ "targets/fuzz.bin"
#define TID 0x1234u

struct sink {
        uint64_t length;
        uint32_t block;
        uint8_t covered[65536];
};

static uint8_t image[65536 + IMAGO_BLK_BLOCK_MAX];

static int sink_write(void *arg, uint64_t off, const uint8_t *d, size_t len)
{
        struct sink *s = arg;

        if (off > s->length || len > s->length - off || len == 0 || len > s->block ||
            off % s->block != 0)
                __builtin_trap();
        (void)d;
        memset(s->covered + off, 1, len);
        return IMAGO_OK;
}

static void near_miss(struct imago_blk_rx *rx, struct imago_rd *rd, const struct sink *s)
{
        uint8_t idx, dtid, doff, dtot, dlen;
        struct imago_blk_msg m;
        int64_t off, total, len;

        if (imago_rd_u8(rd, &idx) != IMAGO_OK || imago_rd_u8(rd, &dtid) != IMAGO_OK ||
            imago_rd_u8(rd, &doff) != IMAGO_OK || imago_rd_u8(rd, &dtot) != IMAGO_OK ||
            imago_rd_u8(rd, &dlen) != IMAGO_OK)
                return;
        memset(&m, 0, sizeof(m));
        m.type = IMAGO_BLK_BLOCK;
        m.tid = TID + (dtid % 8 == 0 ? 1u : 0u);
        memcpy(m.obj, OBJ, sizeof(OBJ));
        off = (int64_t)idx * s->block + (doff % 8 == 0 ? (int8_t)doff / 8 : 0);
        total = (int64_t)s->length + (dtot % 16 == 0 ? (int8_t)dtot / 16 : 0);
        len = (int64_t)s->block + (dlen % 4 == 0 ? (int8_t)dlen / 4 : 0);
        if (off < 0)
                off = 0;
        if (len > total - off)
                len = total - off;
        if (len <= 0 || len > IMAGO_BLK_BLOCK_MAX || total <= 0)
                return;
        m.off = (uint64_t)off;
        m.total = (uint64_t)total;
        m.data_len = (uint32_t)len;
        m.data = image;
        (void)imago_blk_rx_answer(rx, &m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct sink s;
        struct imago_blk_rx_cfg cfg;
        struct imago_blk_rx rx;
        struct imago_blk_req req;
        struct imago_rd rd;
        uint16_t len16, blk16;
        uint8_t win, op, b;
        uint64_t now = 0;
        int r;

        imago_rd_init(&rd, data, size);
        if (imago_rd_u16be(&rd, &len16) != IMAGO_OK || imago_rd_u16be(&rd, &blk16) != IMAGO_OK ||
            imago_rd_u8(&rd, &win) != IMAGO_OK)
                return 0;
        memset(&s, 0, sizeof(s));
        s.length = len16;
        s.block = (uint32_t)(blk16 % 4096) + 1;
        memset(&cfg, 0, sizeof(cfg));
        cfg.obj = OBJ;
        cfg.length = s.length;
        cfg.block = s.block;
        cfg.window = (unsigned)(win % IMAGO_BLK_WINDOW_MAX) + 1;
        cfg.tid = TID;
        cfg.timeout_ms = 1000;
        cfg.write = sink_write;
        cfg.arg = &s;
        if (imago_blk_rx_init(&rx, &cfg, NULL) != IMAGO_OK)
                __builtin_trap();
        while (imago_rd_u8(&rd, &op) == IMAGO_OK) {
                switch (op % 6) {
                case 0:
                        while ((r = imago_blk_rx_next(&rx, now, &req)) == 1)
                                if (req.tid != TID || req.off >= s.length || req.len == 0 ||
                                    req.len > s.block || req.len > s.length - req.off ||
                                    strcmp(req.obj, OBJ) != 0)
                                        __builtin_trap();
                        break;
                case 1:
                        imago_blk_rx_disconnect(&rx);
                        break;
                case 2:
                        if (imago_rd_u8(&rd, &b) == IMAGO_OK)
                                now += (uint64_t)b * 100;
                        break;
                case 3: {
                        struct imago_blk_msg m;
                        const uint8_t *f;
                        size_t n;

                        if (imago_rd_u16be(&rd, &len16) != IMAGO_OK)
                                break;
                        n = len16 < imago_rd_left(&rd) ? len16 : imago_rd_left(&rd);
                        if (imago_rd_ptr(&rd, &f, n) == IMAGO_OK &&
                            imago_blk_msg_parse(f, n, &m) == IMAGO_OK)
                                (void)imago_blk_rx_answer(&rx, &m);
                        break;
                }
                case 4:
                        near_miss(&rx, &rd, &s);
                        break;
                default: {
                        struct imago_blk_msg m;

                        if (imago_rd_u8(&rd, &b) != IMAGO_OK)
                                break;
                        memset(&m, 0, sizeof(m));
                        m.type = IMAGO_BLK_ERROR;
                        m.code = b & 1 ? IMAGO_BLK_NOTFOUND : IMAGO_BLK_RANGE;
                        m.tid = TID;
                        memcpy(m.obj, OBJ, sizeof(OBJ));
                        m.off = (uint64_t)(b >> 1) * s.block;
                        (void)imago_blk_rx_answer(&rx, &m);
                        break;
                }
                }
                if (imago_blk_rx_inflight(&rx) > cfg.window)
                        __builtin_trap();
        }
        if (imago_blk_rx_done(&rx))
                for (uint64_t i = 0; i < s.length; i++)
                        if (!s.covered[i])
                                __builtin_trap();
        imago_blk_rx_free(&rx);
        return 0;
}
