/* imago_blkc, loop-thread side: requests, answers, the receiver; see blkc.h and docs/blk.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/err.h"
#include "base/log.h"
#include "device/blkc/blkc_priv.h"
#include "device/link/link.h"

uint64_t imago_blkc_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void imago_blkc_wake(struct imago_blkc *b)
{
        uint8_t c = 1;
        ssize_t n;

        do
                n = write(b->pipe_wr, &c, 1);
        while (n < 0 && errno == EINTR);
        /* EAGAIN: the pipe is full of wake-ups already */
}

static uint32_t blkc_tid(void)
{
        uint32_t t = 0;

        while (t == 0)
                if (getrandom(&t, sizeof(t), 0) != (ssize_t)sizeof(t))
                        t = (uint32_t)imago_blkc_now_ms() ^ (uint32_t)getpid();
        return t;
}

/* Loop: stop the running transfer (the worker learns the outcome through res_*). */
static void blkc_teardown(struct imago_blkc *b)
{
        if (b->phase == BLKC_RX)
                imago_blk_rx_free(&b->rx);
        b->phase = BLKC_IDLE;
        evtimer_del(b->ev_timer);
}

static void blkc_finish(struct imago_blkc *b, int err)
{
        pthread_mutex_lock(&b->mu);
        if (b->want.gen == b->gen && b->res_gen == b->gen && err != 0 && b->res_err == 0)
                b->res_err = err;
        pthread_cond_broadcast(&b->cv);
        pthread_mutex_unlock(&b->mu);
        blkc_teardown(b);
}

/* Receiver write callback (loop thread): hand a block to the worker. */
static int blkc_write(void *arg, uint64_t off, const uint8_t *data, size_t len)
{
        struct imago_blkc *b = arg;
        uint64_t i = off / b->block;
        size_t s = (size_t)(i % b->window);
        int rc = IMAGO_OK;

        pthread_mutex_lock(&b->mu);
        if (b->want.gen != b->gen || !b->want.active) {
                rc = IMAGO_EIO; /* the worker gave up on this transfer */
        } else if (b->slot_len[s] != 0 || i < b->consumed || len > b->block || len == 0) {
                rc = IMAGO_EBLK; /* cannot happen with the request gate */
        } else {
                memcpy(b->slots + s * b->block, data, len);
                b->slot_len[s] = (uint32_t)len;
                b->slot_blk[s] = i;
                b->last_ms = imago_blkc_now_ms();
                pthread_cond_broadcast(&b->cv);
        }
        pthread_mutex_unlock(&b->mu);
        return rc;
}

static int blkc_publish(struct imago_blkc *b, const struct imago_blk_req *req)
{
        char *json = NULL;
        size_t len = 0;
        int rc;

        if ((rc = imago_blk_req_build(req, &json, &len)) != IMAGO_OK)
                return rc;
        rc = imago_link_publish(b->link, "blk/req", (const uint8_t *)json, len);
        free(json);
        return rc;
}

static void blkc_pump(struct imago_blkc *b)
{
        struct imago_blk_req req;
        uint64_t now = imago_blkc_now_ms(), consumed;
        int r;

        if (!b->online || b->stalled)
                return;
        if (b->phase == BLKC_PROBE) {
                if (!b->probe_need_send && now - b->probe_sent_ms < b->timeout_ms)
                        return;
                memset(&req, 0, sizeof(req));
                req.tid = b->tid;
                memcpy(req.obj, b->obj, sizeof(req.obj));
                req.off = 0;
                req.len = b->block;
                if (blkc_publish(b, &req) != IMAGO_OK) {
                        b->stalled = 1;
                        b->probe_need_send = 1;
                        return;
                }
                b->probe_sent_ms = now;
                b->probe_need_send = 0;
                return;
        }
        if (b->phase != BLKC_RX)
                return;
        pthread_mutex_lock(&b->mu);
        consumed = b->consumed;
        pthread_mutex_unlock(&b->mu);
        /*
         * Gate: a new block is asked for only while it fits in the worker's
         * window of slots (blocks consumed .. consumed + window - 1).  When
         * the receiver itself would ask for no new block (its window from the
         * prefix is full, or every block was asked for) rx_next can only send
         * re-requests, which always fit: those must never wait for the worker
         * (it may be waiting for exactly that block).
         */
        while (b->rx.next < consumed + b->window || b->rx.next >= b->rx.prefix + b->window ||
               b->rx.next >= b->rx.nblocks) {
                r = imago_blk_rx_next(&b->rx, now, &req);
                if (r < 0) {
                        blkc_finish(b, r);
                        return;
                }
                if (r == 0)
                        break;
                if (blkc_publish(b, &req) != IMAGO_OK) {
                        imago_blk_rx_disconnect(&b->rx);
                        b->stalled = 1;
                        break;
                }
        }
}

/* RX: the receiver for b->obj of length bytes, the first done of them already written (a
 * resumed file, or the probe's block 0); a configuration it refuses is a length it cannot take. */
static void blkc_rx_start(struct imago_blkc *b, uint64_t length, uint64_t done)
{
        struct imago_blk_rx_cfg cfg;
        struct imago_blk_progress p;
        int rc;

        memset(&cfg, 0, sizeof(cfg));
        cfg.obj = b->obj;
        cfg.length = length;
        cfg.block = b->block;
        cfg.window = b->window;
        cfg.tid = b->tid;
        cfg.timeout_ms = b->timeout_ms;
        cfg.write = blkc_write;
        cfg.arg = b;
        memset(&p, 0, sizeof(p));
        memcpy(p.obj, b->obj, sizeof(p.obj));
        p.length = length;
        p.block = b->block;
        p.done = done;
        if ((rc = imago_blk_rx_init(&b->rx, &cfg, done > 0 ? &p : NULL)) != IMAGO_OK) {
                imago_blk_rx_free(&b->rx);
                blkc_finish(b, rc == IMAGO_EINVAL ? IMAGO_ETUF_LENGTH : rc);
                return;
        }
        b->phase = BLKC_RX;
        if (imago_blk_rx_done(&b->rx))
                blkc_finish(b, 0);
}

static void blkc_start(struct imago_blkc *b, const struct blkc_want *w)
{
        struct timeval tv;
        uint32_t tick = b->timeout_ms / 4;

        b->gen = w->gen;
        b->tid = blkc_tid();
        memcpy(b->obj, w->obj, sizeof(b->obj));
        b->max = w->max;
        b->stalled = 0;
        if (tick < 20)
                tick = 20;
        if (tick > 500)
                tick = 500;
        tv.tv_sec = tick / 1000;
        tv.tv_usec = (suseconds_t)(tick % 1000) * 1000;
        evtimer_add(b->ev_timer, &tv);
        if (!w->known) {
                b->phase = BLKC_PROBE;
                b->probe_need_send = 1;
                return;
        }
        blkc_rx_start(b, w->length, w->done);
}

/* PROBE: the answer to block 0 gives the total length. */
static void blkc_probe_answer(struct imago_blkc *b, const struct imago_blk_msg *m)
{
        uint32_t want_len;
        int rc;

        if (m->tid != b->tid || strcmp(m->obj, b->obj) != 0 || m->off != 0)
                return;
        if (m->type == IMAGO_BLK_ERROR) {
                if (m->code == IMAGO_BLK_RANGE) { /* offset 0 out of range: an empty object */
                        pthread_mutex_lock(&b->mu);
                        if (b->want.gen == b->gen && b->res_gen == b->gen) {
                                b->res_total = 0;
                                b->res_total_known = 1;
                        }
                        pthread_mutex_unlock(&b->mu);
                        blkc_finish(b, 0);
                } else {
                        blkc_finish(b, IMAGO_ENOTFOUND);
                }
                return;
        }
        want_len = m->total < b->block ? (uint32_t)m->total : b->block;
        if (m->data_len != want_len)
                return; /* like the receiver: a size not asked for is ignored */
        if (m->total > b->max || m->total > IMAGO_BLK_LENGTH_MAX ||
            (m->total + b->block - 1) / b->block > IMAGO_BLK_BLOCKS_MAX) {
                blkc_finish(b, IMAGO_ETUF_LENGTH); /* before any byte reaches the sink */
                return;
        }
        pthread_mutex_lock(&b->mu);
        if (b->want.gen == b->gen && b->res_gen == b->gen) {
                b->res_total = m->total;
                b->res_total_known = 1;
        }
        pthread_mutex_unlock(&b->mu);
        if ((rc = blkc_write(b, 0, m->data, m->data_len)) != IMAGO_OK) {
                blkc_finish(b, rc);
                return;
        }
        blkc_rx_start(b, m->total, m->data_len);
}

static void blkc_on_data(void *arg, const char *topic, const uint8_t *payload, size_t len)
{
        struct imago_blkc *b = arg;
        struct imago_blk_msg m;
        int r;

        (void)topic;
        if (b->phase == BLKC_IDLE || imago_blk_msg_parse(payload, len, &m) != IMAGO_OK)
                return;
        if (b->phase == BLKC_PROBE) {
                blkc_probe_answer(b, &m);
        } else {
                r = imago_blk_rx_answer(&b->rx, &m);
                if (r < 0) {
                        blkc_finish(b, r);
                        return;
                }
                if (imago_blk_rx_done(&b->rx)) {
                        blkc_finish(b, 0);
                        return;
                }
        }
        blkc_pump(b);
}

static void blkc_on_pipe(evutil_socket_t fd, short what, void *arg)
{
        struct imago_blkc *b = arg;
        struct blkc_want w;
        uint8_t buf[64];

        (void)what;
        while (read(fd, buf, sizeof(buf)) > 0)
                ;
        pthread_mutex_lock(&b->mu);
        w = b->want;
        pthread_mutex_unlock(&b->mu);
        if (b->phase != BLKC_IDLE && (w.gen != b->gen || !w.active))
                blkc_teardown(b);
        if (w.active && w.gen != b->gen)
                blkc_start(b, &w);
        blkc_pump(b);
}

static void blkc_on_timer(evutil_socket_t fd, short what, void *arg)
{
        struct imago_blkc *b = arg;

        (void)fd;
        (void)what;
        b->stalled = 0;
        blkc_pump(b);
}

void imago_blkc_link_state(struct imago_blkc *b, int online)
{
        if (b == NULL)
                return;
        b->online = online != 0;
        if (!b->online) {
                if (b->phase == BLKC_RX)
                        imago_blk_rx_disconnect(&b->rx);
                else if (b->phase == BLKC_PROBE)
                        b->probe_need_send = 1;
                return;
        }
        b->stalled = 0;
        blkc_pump(b);
}

void imago_blkc_cancel(struct imago_blkc *b, int cancelled)
{
        if (b == NULL)
                return;
        pthread_mutex_lock(&b->mu);
        b->cancelled = cancelled != 0;
        pthread_cond_broadcast(&b->cv);
        pthread_mutex_unlock(&b->mu);
}

int imago_blkc_new(const struct imago_blkc_config *cfg, struct imago_blkc **out)
{
        struct imago_blkc *b = NULL;
        pthread_condattr_t ca;
        int fds[2], rc = IMAGO_EINVAL;

        if (out == NULL)
                return IMAGO_EINVAL;
        *out = NULL;
        if (cfg == NULL || cfg->base == NULL || cfg->link == NULL ||
            cfg->block > IMAGO_BLK_BLOCK_MAX || cfg->window > IMAGO_BLK_WINDOW_MAX)
                return IMAGO_EINVAL;
        if ((b = calloc(1, sizeof(*b))) == NULL)
                return IMAGO_ENOMEM;
        b->pipe_rd = b->pipe_wr = -1;
        b->base = cfg->base;
        b->link = cfg->link;
        b->block = cfg->block ? cfg->block : IMAGO_BLK_BLOCK_MAX;
        b->window = cfg->window ? cfg->window : 4;
        b->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 5000;
        b->idle_ms = cfg->idle_ms ? cfg->idle_ms : 60000;
        pthread_mutex_init(&b->mu, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&b->cv, &ca);
        pthread_condattr_destroy(&ca);
        rc = IMAGO_ENOMEM;
        b->slots = malloc((size_t)b->window * b->block);
        b->slot_len = calloc(b->window, sizeof(*b->slot_len));
        b->slot_blk = calloc(b->window, sizeof(*b->slot_blk));
        if (b->slots == NULL || b->slot_len == NULL || b->slot_blk == NULL)
                goto out;
        rc = IMAGO_EIO;
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
                goto out;
        b->pipe_rd = fds[0];
        b->pipe_wr = fds[1];
        rc = IMAGO_ENOMEM;
        b->ev_pipe = event_new(b->base, b->pipe_rd, EV_READ | EV_PERSIST, blkc_on_pipe, b);
        b->ev_timer = event_new(b->base, -1, EV_PERSIST, blkc_on_timer, b);
        if (b->ev_pipe == NULL || b->ev_timer == NULL || event_add(b->ev_pipe, NULL) != 0)
                goto out;
        if ((rc = imago_link_handle(b->link, "blk/data", blkc_on_data, b)) != IMAGO_OK)
                goto out;
        b->online = imago_link_state(b->link) == IMAGO_LINK_ONLINE;
        *out = b;
        b = NULL;
        rc = IMAGO_OK;
out:
        imago_blkc_free(b);
        return rc;
}

void imago_blkc_free(struct imago_blkc *b)
{
        if (b == NULL)
                return;
        if (b->phase == BLKC_RX)
                imago_blk_rx_free(&b->rx);
        if (b->ev_pipe != NULL)
                event_free(b->ev_pipe);
        if (b->ev_timer != NULL)
                event_free(b->ev_timer);
        if (b->pipe_rd >= 0)
                close(b->pipe_rd);
        if (b->pipe_wr >= 0)
                close(b->pipe_wr);
        pthread_cond_destroy(&b->cv);
        pthread_mutex_destroy(&b->mu);
        free(b->slots);
        free(b->slot_len);
        free(b->slot_blk);
        free(b);
}
