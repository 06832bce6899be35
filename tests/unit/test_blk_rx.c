/*
 * imago_blk receiver and sender together over a simulated channel (no
 * MQTT): full transfers with random drops, duplicates and reordering from a
 * seeded PRNG, window 1 and window N, the in-flight bound asserted after
 * every step, disconnects, a restart resumed from the persisted progress
 * record, timeouts on the caller's clock, 0-byte and 1-block objects, and a
 * malicious sender (wrong offsets, extra data, a longer or shorter object,
 * another transfer id or object, error answers).  The bytes on the wire per
 * payload byte are logged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/err.h"
#include "blk/blk.h"

#define OBJ    "targets/fw-2.bin"
#define QMAX   256
#define TMO_MS 1000

/* ---- the device's storage: a write callback with bounds checks ---- */

struct sink {
        uint8_t *buf;
        uint64_t length;
        uint64_t min_off; /* no write below this (after a resume) */
        unsigned writes;
        int fail; /* nonzero: the next write returns this */
};

static int sink_write(void *arg, uint64_t off, const uint8_t *data, size_t len)
{
        struct sink *s = arg;

        if (s->fail != 0)
                return s->fail;
        assert_true(len > 0);
        assert_true(off >= s->min_off);
        assert_true(off <= s->length && len <= s->length - off);
        memcpy(s->buf + off, data, len);
        s->writes++;
        return IMAGO_OK;
}

/* ---- the simulated channel ---- */

struct net {
        uint64_t rng;
        unsigned drop_pct, dup_pct, reorder_pct;
        uint8_t *q[QMAX]; /* frames on their way to the device */
        size_t qlen[QMAX];
        unsigned n;
        uint64_t wire; /* bytes both ways */
        const struct imago_blk_src *src;
};

static uint64_t rnd(struct net *n)
{
        /* xorshift64*: deterministic per seed */
        n->rng ^= n->rng >> 12;
        n->rng ^= n->rng << 25;
        n->rng ^= n->rng >> 27;
        return n->rng * 2685821657736338717ull;
}

static int chance(struct net *n, unsigned pct)
{
        return pct > 0 && rnd(n) % 100 < pct;
}

static void net_push(struct net *n, uint8_t *f, size_t len)
{
        if (n->n == QMAX) { /* a full broker queue drops */
                free(f);
                return;
        }
        n->q[n->n] = f;
        n->qlen[n->n++] = len;
}

static void net_clear(struct net *n)
{
        while (n->n > 0)
                free(n->q[--n->n]);
}

/* The device publishes a request; the cloud parses it and answers. */
static void cloud_handle(struct net *n, const struct imago_blk_req *req)
{
        struct imago_blk_req parsed;
        uint8_t *frame = NULL;
        char *text = NULL;
        size_t tlen = 0, flen = 0;

        assert_int_equal(imago_blk_req_build(req, &text, &tlen), IMAGO_OK);
        n->wire += tlen;
        if (chance(n, n->drop_pct)) {
                free(text);
                return;
        }
        assert_int_equal(imago_blk_req_parse((uint8_t *)text, tlen, &parsed), IMAGO_OK);
        free(text);
        assert_int_equal(imago_blk_serve(&parsed, n->src, &frame, &flen), IMAGO_OK);
        n->wire += flen;
        if (chance(n, n->dup_pct)) {
                uint8_t *copy = malloc(flen);

                assert_non_null(copy);
                memcpy(copy, frame, flen);
                net_push(n, copy, flen);
                n->wire += flen;
        }
        net_push(n, frame, flen);
}

/* Deliver one frame (the oldest, or a random one when reordering); -1 if none. */
static int net_deliver(struct net *n, struct imago_blk_rx *rx)
{
        struct imago_blk_msg m;
        unsigned i = 0;
        uint8_t *f;
        size_t len;
        int rc;

        if (n->n == 0)
                return -1;
        if (chance(n, n->reorder_pct))
                i = (unsigned)(rnd(n) % n->n);
        f = n->q[i];
        len = n->qlen[i];
        memmove(&n->q[i], &n->q[i + 1], (n->n - i - 1) * sizeof(n->q[0]));
        memmove(&n->qlen[i], &n->qlen[i + 1], (n->n - i - 1) * sizeof(n->qlen[0]));
        n->n--;
        if (chance(n, n->drop_pct)) {
                free(f);
                return 0;
        }
        assert_int_equal(imago_blk_msg_parse(f, len, &m), IMAGO_OK);
        rc = imago_blk_rx_answer(rx, &m);
        free(f);
        return rc;
}

/*
 * Run until done or max_steps: send what the receiver asks, deliver one
 * frame, and when nothing moves let the clock pass the timeout.  The
 * in-flight bound is asserted after every step.  Returns the steps taken.
 */
static unsigned run(struct imago_blk_rx *rx, struct net *n, uint64_t *now, unsigned max_steps)
{
        unsigned steps = 0;

        while (!imago_blk_rx_done(rx) && steps < max_steps) {
                struct imago_blk_req req;
                int r, moved = 0;

                while ((r = imago_blk_rx_next(rx, *now, &req)) == 1) {
                        assert_true(imago_blk_rx_inflight(rx) <= rx->window);
                        assert_true(req.off < rx->length);
                        assert_true(req.len >= 1 && req.len <= rx->block);
                        /* the sliding window: never past window blocks from the prefix */
                        assert_true(req.off / rx->block < rx->prefix + rx->window);
                        cloud_handle(n, &req);
                        moved = 1;
                }
                assert_int_equal(r, 0);
                r = net_deliver(n, rx);
                assert_true(r >= -1 && r <= 1);
                assert_true(imago_blk_rx_inflight(rx) <= rx->window);
                if (r != -1)
                        moved = 1;
                *now += moved ? 1 : TMO_MS;
                steps++;
        }
        return steps;
}

static void fill(uint8_t *img, size_t len, uint32_t seed)
{
        for (size_t i = 0; i < len; i++)
                img[i] = (uint8_t)((i + seed) * 2654435761u >> 24);
}

static void cfg_init(struct imago_blk_rx_cfg *c, uint64_t length, uint32_t block, unsigned window,
                     uint32_t tid, struct sink *s)
{
        memset(c, 0, sizeof(*c));
        c->obj = OBJ;
        c->length = length;
        c->block = block;
        c->window = window;
        c->tid = tid;
        c->timeout_ms = TMO_MS;
        c->write = sink_write;
        c->arg = s;
}

/* One full transfer of length bytes; returns the wire bytes. */
static uint64_t transfer(uint64_t length, uint32_t block, unsigned window, uint64_t seed,
                         unsigned drop, unsigned dup, unsigned reorder)
{
        uint8_t *img = malloc(length + 1), *out = calloc(1, length + 1);
        struct imago_blk_rx_cfg cfg;
        struct imago_blk_src src;
        struct imago_blk_rx rx;
        struct sink s = {0};
        struct net n;
        uint64_t now = 1000, wire;

        assert_non_null(img);
        assert_non_null(out);
        fill(img, length, (uint32_t)seed);
        imago_blk_src_buf(&src, img, length);
        memset(&n, 0, sizeof(n));
        n.rng = seed * 0x9e3779b97f4a7c15ull + 1;
        n.drop_pct = drop;
        n.dup_pct = dup;
        n.reorder_pct = reorder;
        n.src = &src;
        s.buf = out;
        s.length = length;
        cfg_init(&cfg, length, block, window, (uint32_t)(seed | 1), &s);
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, NULL), IMAGO_OK);
        run(&rx, &n, &now, 200000);
        if (!imago_blk_rx_done(&rx))
                fail_msg("not done: seed %llu window %u", (unsigned long long)seed, window);
        assert_memory_equal(out, img, length);
        assert_int_equal(rx.stats.accepted, (length + block - 1) / block);
        assert_int_equal(s.writes, rx.stats.accepted);
        if (drop == 0 && dup == 0)
                assert_int_equal(rx.stats.resent, 0);
        /* late frames after completion are ignored */
        while (net_deliver(&n, &rx) != -1)
                ;
        assert_int_equal(rx.stats.accepted, (length + block - 1) / block);
        wire = n.wire;
        net_clear(&n);
        imago_blk_rx_free(&rx);
        free(img);
        free(out);
        return wire;
}

static void test_transfer_window_1(void **state)
{
        (void)state;
        transfer(100000, 16384, 1, 1, 0, 0, 0);
        transfer(100000, 1000, 1, 2, 0, 0, 0);
}

static void test_transfer_window_n(void **state)
{
        (void)state;
        transfer(100000, 16384, 4, 3, 0, 0, 0);
        transfer(100000, 1000, IMAGO_BLK_WINDOW_MAX, 4, 0, 0, 0);
        transfer(16384 * 8, 16384, 8, 5, 0, 0, 0); /* exact multiple */
}

static void test_transfer_lossy(void **state)
{
        static const unsigned windows[] = {1, 2, 5, 16};

        (void)state;
        for (uint64_t seed = 1; seed <= 12; seed++)
                for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++)
                        transfer(50000 + seed * 777, 4096, windows[w], seed, 20, 20, 50);
}

static void test_wire_per_payload_byte(void **state)
{
        uint64_t clean, lossy, len = 1 << 20;

        (void)state;
        clean = transfer(len, IMAGO_BLK_BLOCK_MAX, 4, 77, 0, 0, 0);
        lossy = transfer(len, IMAGO_BLK_BLOCK_MAX, 4, 77, 10, 10, 30);
        printf("blk wire: 1 MiB, 16 KiB blocks, window 4: %.4f bytes on the wire per payload byte "
               "(clean), %.4f (10%% drops, 10%% duplicates, 30%% reordered)\n",
               (double)clean / (double)len, (double)lossy / (double)len);
}

static void test_zero_byte_object(void **state)
{
        struct imago_blk_rx_cfg cfg;
        struct imago_blk_progress p;
        struct imago_blk_req req;
        struct imago_blk_rx rx;
        struct sink s = {0};

        (void)state;
        cfg_init(&cfg, 0, 16384, 4, 5, &s);
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, NULL), IMAGO_OK);
        assert_true(imago_blk_rx_done(&rx));
        assert_int_equal(imago_blk_rx_next(&rx, 0, &req), 0);
        assert_int_equal(imago_blk_rx_inflight(&rx), 0);
        imago_blk_rx_progress(&rx, &p);
        assert_int_equal(p.length, 0);
        assert_int_equal(p.done, 0);
        assert_int_equal(s.writes, 0);
        imago_blk_rx_free(&rx);
}

static void test_one_block_object(void **state)
{
        (void)state;
        transfer(1, 16384, 4, 8, 0, 0, 0);
        transfer(16384, 16384, 4, 9, 0, 0, 0);
        transfer(16384, 16384, 1, 10, 30, 30, 0);
        transfer(16385, 16384, 4, 11, 0, 0, 0); /* one full block and one byte */
}

/* Cut the channel mid-transfer: frames in flight are lost, the receiver asks again at once. */
static void test_disconnect(void **state)
{
        static uint8_t img[70000], out[70000];
        struct imago_blk_rx_cfg cfg;
        struct imago_blk_src src;
        struct imago_blk_req req;
        struct imago_blk_rx rx;
        struct sink s = {out, sizeof(out), 0, 0, 0};
        struct net n;
        uint64_t now = 5, sent_before;
        unsigned asked = 0, outstanding;

        (void)state;
        fill(img, sizeof(img), 3);
        imago_blk_src_buf(&src, img, sizeof(img));
        memset(&n, 0, sizeof(n));
        n.rng = 99;
        n.src = &src;
        cfg_init(&cfg, sizeof(img), 8192, 3, 77, &s);
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, NULL), IMAGO_OK);
        run(&rx, &n, &now, 4);
        assert_false(imago_blk_rx_done(&rx));
        net_clear(&n); /* the broker connection dropped: answers lost */
        imago_blk_rx_disconnect(&rx);
        sent_before = rx.stats.resent;
        outstanding = imago_blk_rx_inflight(&rx);
        assert_true(outstanding > 0);
        /* no timeout needed: every outstanding request goes out again now */
        while (imago_blk_rx_next(&rx, now, &req) == 1) {
                assert_true(imago_blk_rx_inflight(&rx) <= 3);
                cloud_handle(&n, &req);
                asked++;
        }
        assert_int_equal(rx.stats.resent - sent_before, outstanding);
        assert_int_equal(imago_blk_rx_inflight(&rx), 3); /* and the free slots filled */
        assert_int_equal(asked, 3);
        run(&rx, &n, &now, 10000);
        assert_true(imago_blk_rx_done(&rx));
        assert_memory_equal(out, img, sizeof(img));
        net_clear(&n);
        imago_blk_rx_free(&rx);
}

/* A restart: the receiver is gone, only the progress record survives; answers meant for the
 * earlier run arrive late and are ignored; no byte below the record is written again. */
static void test_resume_after_restart(void **state)
{
        static uint8_t img[200000], out[200000];
        uint8_t rec[IMAGO_BLK_PROGRESS_MAX];
        struct imago_blk_progress p, back;
        struct imago_blk_rx_cfg cfg;
        struct imago_blk_src src;
        struct imago_blk_rx rx;
        struct sink s = {out, sizeof(out), 0, 0, 0};
        struct net n;
        uint64_t now = 0;
        size_t rlen = 0;
        unsigned late;

        (void)state;
        fill(img, sizeof(img), 4);
        imago_blk_src_buf(&src, img, sizeof(img));
        memset(&n, 0, sizeof(n));
        n.rng = 4242;
        n.reorder_pct = 60;
        n.src = &src;
        cfg_init(&cfg, sizeof(img), 4096, 6, 1001, &s);
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, NULL), IMAGO_OK);
        run(&rx, &n, &now, 25);
        assert_false(imago_blk_rx_done(&rx));
        imago_blk_rx_progress(&rx, &p);
        assert_true(p.done > 0 && p.done < sizeof(img));
        assert_int_equal(p.done % 4096, 0);
        assert_int_equal(imago_blk_progress_encode(&p, rec, sizeof(rec), &rlen), IMAGO_OK);
        imago_blk_rx_free(&rx);

        /* the bytes after the record are not trusted to have survived */
        memset(out + p.done, 0, sizeof(out) - p.done);
        assert_int_equal(imago_blk_progress_decode(rec, rlen, &back), IMAGO_OK);
        assert_memory_equal(&back, &p, sizeof(p));
        s.min_off = back.done;
        s.writes = 0;
        cfg.tid = 1002; /* a new run, a new transfer id */
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, &back), IMAGO_OK);
        late = n.n;
        assert_true(late > 0);
        /* the late answers of the earlier run are all ignored */
        while (net_deliver(&n, &rx) != -1)
                ;
        assert_int_equal(rx.stats.ignored, late);
        assert_int_equal(rx.stats.accepted, 0);
        run(&rx, &n, &now, 100000);
        assert_true(imago_blk_rx_done(&rx));
        assert_memory_equal(out, img, sizeof(img));
        assert_int_equal(s.writes, (sizeof(img) - back.done + 4095) / 4096);
        imago_blk_rx_progress(&rx, &p);
        assert_int_equal(p.done, sizeof(img));
        imago_blk_rx_free(&rx);

        /* a complete record resumes to done at once */
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, &p), IMAGO_OK);
        assert_true(imago_blk_rx_done(&rx));
        imago_blk_rx_free(&rx);

        /* a record of another object, length or block size is refused */
        p.done = 4096;
        p.block = 8192;
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, &p), IMAGO_EINVAL);
        p.block = 4096;
        p.length = sizeof(img) + 1;
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, &p), IMAGO_EINVAL);
        p.length = sizeof(img);
        snprintf(p.obj, sizeof(p.obj), "targets/other.bin");
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, &p), IMAGO_EINVAL);
        imago_blk_rx_free(&rx);
}

/* Caller-driven clock: a request is asked again only after the timeout, never when the clock goes
 * back. */
static void test_timeout(void **state)
{
        static uint8_t out[10000];
        struct imago_blk_rx_cfg cfg;
        struct imago_blk_req req, again;
        struct imago_blk_rx rx;
        struct sink s = {out, sizeof(out), 0, 0, 0};

        (void)state;
        cfg_init(&cfg, sizeof(out), 4096, 2, 3, &s);
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, NULL), IMAGO_OK);
        assert_int_equal(imago_blk_rx_next(&rx, 10000, &req), 1);
        assert_int_equal(req.off, 0);
        assert_int_equal(imago_blk_rx_next(&rx, 10000, &req), 1);
        assert_int_equal(req.off, 4096);
        assert_int_equal(imago_blk_rx_next(&rx, 10000, &req), 0); /* window full */
        assert_int_equal(imago_blk_rx_inflight(&rx), 2);
        assert_int_equal(imago_blk_rx_next(&rx, 10000 + TMO_MS - 1, &req), 0);
        assert_int_equal(imago_blk_rx_next(&rx, 5, &req), 0); /* clock went back */
        assert_int_equal(imago_blk_rx_next(&rx, 10000 + TMO_MS, &again), 1);
        assert_int_equal(again.off, 0);
        assert_int_equal(again.tid, 3);
        assert_int_equal(again.len, 4096);
        assert_int_equal(imago_blk_rx_next(&rx, 10000 + TMO_MS, &again), 1);
        assert_int_equal(again.off, 4096);
        assert_int_equal(imago_blk_rx_next(&rx, 10000 + TMO_MS, &again), 0);
        assert_int_equal(rx.stats.sent, 2);
        assert_int_equal(rx.stats.resent, 2);
        assert_int_equal(imago_blk_rx_inflight(&rx), 2);
        imago_blk_rx_free(&rx);
}

/* ---- a malicious (or broken) sender ---- */

struct evil {
        struct imago_blk_rx rx;
        struct sink s;
        uint8_t out[10000];
        uint8_t img[20000];
};

/* A receiver for 10000 bytes in 4096-byte blocks, window 2, with both first requests out. */
static struct evil *evil_start(void)
{
        struct imago_blk_rx_cfg cfg;
        struct imago_blk_req req;
        struct evil *e = calloc(1, sizeof(*e));

        assert_non_null(e);
        fill(e->img, sizeof(e->img), 6);
        e->s.buf = e->out;
        e->s.length = sizeof(e->out);
        cfg_init(&cfg, sizeof(e->out), 4096, 2, 0x5eed, &e->s);
        assert_int_equal(imago_blk_rx_init(&e->rx, &cfg, NULL), IMAGO_OK);
        assert_int_equal(imago_blk_rx_next(&e->rx, 0, &req), 1);
        assert_int_equal(imago_blk_rx_next(&e->rx, 0, &req), 1);
        return e;
}

static void evil_end(struct evil *e)
{
        imago_blk_rx_free(&e->rx);
        free(e);
}

/* Build and parse a frame as the device would receive it, then feed it. */
static int evil_send(struct evil *e, uint32_t tid, const char *obj, uint64_t off, uint64_t total,
                     uint32_t len)
{
        struct imago_blk_msg m = {0}, parsed;
        uint8_t *f = NULL;
        size_t flen = 0;
        int rc;

        m.type = IMAGO_BLK_BLOCK;
        m.tid = tid;
        snprintf(m.obj, sizeof(m.obj), "%s", obj);
        m.off = off;
        m.total = total;
        m.data = e->img + off;
        m.data_len = len;
        assert_int_equal(imago_blk_msg_build(&m, &f, &flen), IMAGO_OK);
        assert_int_equal(imago_blk_msg_parse(f, flen, &parsed), IMAGO_OK);
        rc = imago_blk_rx_answer(&e->rx, &parsed);
        free(f);
        assert_true(imago_blk_rx_inflight(&e->rx) <= 2);
        return rc;
}

static void attack_wrong_offsets(void **state)
{
        struct evil *e = evil_start();

        (void)state;
        assert_int_equal(evil_send(e, 0x5eed, OBJ, 1, 10000, 4096), 0);    /* unaligned */
        assert_int_equal(evil_send(e, 0x5eed, OBJ, 8192, 10000, 1808), 0); /* not asked yet */
        assert_int_equal(evil_send(e, 0x5eed, OBJ, 4095, 10000, 4096), 0);
        assert_int_equal(e->s.writes, 0);
        assert_int_equal(e->rx.stats.ignored, 3);
        assert_int_equal(evil_send(e, 0x5eed, OBJ, 4096, 10000, 4096), 1);
        assert_int_equal(evil_send(e, 0x5eed, OBJ, 4096, 10000, 4096), 0); /* duplicate */
        assert_int_equal(e->s.writes, 1);
        evil_end(e);
}

static void attack_extra_data(void **state)
{
        struct evil *e = evil_start();

        (void)state;
        assert_int_equal(evil_send(e, 0x5eed, OBJ, 0, 10000, 4097), 0); /* oversized */
        assert_int_equal(evil_send(e, 0x5eed, OBJ, 0, 10000, 4095), 0); /* short */
        assert_int_equal(e->s.writes, 0);
        assert_int_equal(evil_send(e, 0x5eed, OBJ, 0, 10000, 4096), 1);
        evil_end(e);
}

static void attack_endless_data_longer_object(void **state)
{
        struct imago_blk_req req;
        struct evil *e = evil_start();

        (void)state;
        assert_int_equal(evil_send(e, 0x5eed, OBJ, 0, 10001, 4096), IMAGO_EBLK);
        assert_int_equal(e->s.writes, 0);
        /* the transfer stays failed: nothing more is asked or written */
        assert_int_equal(imago_blk_rx_next(&e->rx, 99999, &req), IMAGO_EBLK);
        assert_int_equal(evil_send(e, 0x5eed, OBJ, 0, 10000, 4096), IMAGO_EBLK);
        assert_int_equal(e->s.writes, 0);
        assert_false(imago_blk_rx_done(&e->rx));
        evil_end(e);

        e = evil_start();
        assert_int_equal(evil_send(e, 0x5eed, OBJ, 0, 9999, 4096), IMAGO_EBLK); /* shorter */
        evil_end(e);
}

static void attack_other_transfer_or_object(void **state)
{
        struct evil *e = evil_start();

        (void)state;
        assert_int_equal(evil_send(e, 0x5eee, OBJ, 0, 10000, 4096), 0);
        assert_int_equal(evil_send(e, 0x5eee, OBJ, 0, 99999, 4096), 0); /* not ours: no failure */
        assert_int_equal(evil_send(e, 0x5eed, "targets/other.bin", 0, 10000, 4096), 0);
        assert_int_equal(evil_send(e, 0x5eed, "targets/fw-2.bi", 0, 10000, 4096), 0);
        assert_int_equal(e->s.writes, 0);
        assert_int_equal(e->rx.stats.ignored, 4);
        evil_end(e);
}

static int evil_error(struct evil *e, uint32_t tid, uint64_t off, enum imago_blk_code code)
{
        struct imago_blk_msg m = {0};

        m.type = IMAGO_BLK_ERROR;
        m.code = code;
        m.tid = tid;
        snprintf(m.obj, sizeof(m.obj), OBJ);
        m.off = off;
        return imago_blk_rx_answer(&e->rx, &m);
}

static void test_error_answers(void **state)
{
        struct evil *e = evil_start();
        struct imago_blk_req req;

        (void)state;
        assert_int_equal(evil_error(e, 0x5eed, 8192, IMAGO_BLK_NOTFOUND), 0); /* not asked */
        assert_int_equal(evil_error(e, 1, 0, IMAGO_BLK_NOTFOUND), 0);         /* not ours */
        assert_int_equal(evil_error(e, 0x5eed, 0, IMAGO_BLK_NOTFOUND), IMAGO_ENOTFOUND);
        assert_int_equal(imago_blk_rx_next(&e->rx, 0, &req), IMAGO_ENOTFOUND);
        evil_end(e);
        e = evil_start();
        assert_int_equal(evil_error(e, 0x5eed, 4096, IMAGO_BLK_RANGE), IMAGO_EBLK);
        evil_end(e);
}

static void test_write_failure(void **state)
{
        struct evil *e = evil_start();

        (void)state;
        e->s.fail = IMAGO_EIO;
        assert_int_equal(evil_send(e, 0x5eed, OBJ, 0, 10000, 4096), IMAGO_EIO);
        e->s.fail = 0;
        assert_int_equal(evil_send(e, 0x5eed, OBJ, 4096, 10000, 4096), IMAGO_EIO);
        assert_int_equal(e->s.writes, 0);
        evil_end(e);
}

static void test_init_refuses(void **state)
{
        struct imago_blk_rx_cfg cfg;
        struct imago_blk_rx rx;
        struct sink s = {0};

        (void)state;
        cfg_init(&cfg, 100, 16, 2, 1, &s);
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, NULL), IMAGO_OK);
        imago_blk_rx_free(&rx);
        cfg.obj = "../x";
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, NULL), IMAGO_EINVAL);
        cfg.obj = OBJ;
        cfg.window = 0;
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, NULL), IMAGO_EINVAL);
        cfg.window = IMAGO_BLK_WINDOW_MAX + 1;
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, NULL), IMAGO_EINVAL);
        cfg.window = 2;
        cfg.block = IMAGO_BLK_BLOCK_MAX + 1;
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, NULL), IMAGO_EINVAL);
        cfg.block = 16;
        cfg.length = IMAGO_BLK_LENGTH_MAX + 1;
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, NULL), IMAGO_EINVAL);
        cfg.length = IMAGO_BLK_BLOCKS_MAX * 16 + 1; /* one block too many for the bitmap */
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, NULL), IMAGO_EINVAL);
        cfg.length = IMAGO_BLK_BLOCKS_MAX * 16;
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, NULL), IMAGO_OK);
        imago_blk_rx_free(&rx);
        cfg.length = 100;
        cfg.tid = 0;
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, NULL), IMAGO_EINVAL);
        cfg.tid = 1;
        cfg.write = NULL;
        assert_int_equal(imago_blk_rx_init(&rx, &cfg, NULL), IMAGO_EINVAL);
        imago_blk_rx_free(&rx);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_transfer_window_1),
            cmocka_unit_test(test_transfer_window_n),
            cmocka_unit_test(test_transfer_lossy),
            cmocka_unit_test(test_wire_per_payload_byte),
            cmocka_unit_test(test_zero_byte_object),
            cmocka_unit_test(test_one_block_object),
            cmocka_unit_test(test_disconnect),
            cmocka_unit_test(test_resume_after_restart),
            cmocka_unit_test(test_timeout),
            cmocka_unit_test(attack_wrong_offsets),
            cmocka_unit_test(attack_extra_data),
            cmocka_unit_test(attack_endless_data_longer_object),
            cmocka_unit_test(attack_other_transfer_or_object),
            cmocka_unit_test(test_error_answers),
            cmocka_unit_test(test_write_failure),
            cmocka_unit_test(test_init_refuses),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
