/* imago_blkc internals shared by the loop side (blkc.c) and the worker side (blkc_fetch.c). */
#ifndef IMAGO_DEVICE_BLKC_BLKC_PRIV_H
#define IMAGO_DEVICE_BLKC_BLKC_PRIV_H

#include <pthread.h>

#include "blk/blk.h"
#include "device/blkc/blkc.h"

struct event;

enum blkc_phase {
        BLKC_IDLE = 0,
        BLKC_PROBE = 1, /* length unknown: block 0 asked for, waiting for its total */
        BLKC_RX = 2,    /* the receiver runs */
};

/* What the worker asks for (under mu). */
struct blkc_want {
        uint64_t gen; /* one per call */
        int active;   /* 0: stop whatever runs */
        char obj[IMAGO_BLK_OBJ_MAX + 1];
        int known; /* length known (fetch_file) or learnt from block 0 (get) */
        uint64_t length;
        uint64_t max;  /* get: largest total accepted */
        uint64_t done; /* resume from this contiguous prefix (known length only) */
};

struct imago_blkc {
        struct event_base *base;
        struct imago_link *link;
        uint32_t block, window, timeout_ms, idle_ms;
        int pipe_rd, pipe_wr;
        struct event *ev_pipe;
        struct event *ev_timer;
        /* worker thread only (imago_blkc_set_progress) */
        imago_blkc_progress_fn progress;
        void *progress_arg;

        /* loop thread only */
        int online;
        enum blkc_phase phase;
        uint64_t gen; /* of the transfer running */
        uint32_t tid;
        uint64_t probe_sent_ms;
        int probe_need_send;
        int stalled; /* a publish failed: wait for the timer */
        struct imago_blk_rx rx;
        char obj[IMAGO_BLK_OBJ_MAX + 1];
        uint64_t max;

        /* shared, under mu */
        pthread_mutex_t mu;
        pthread_cond_t cv;
        struct blkc_want want;
        int cancelled;
        /* results for want.gen */
        uint64_t res_gen;
        int res_err;         /* failure code of the transfer */
        int res_total_known; /* total learnt (res_total valid) */
        uint64_t res_total;
        uint64_t consumed;  /* blocks the worker took (from the start, not the resume) */
        uint8_t *slots;     /* window x block bytes */
        uint32_t *slot_len; /* 0 = empty */
        uint64_t *slot_blk; /* block index held */
        uint64_t last_ms;   /* last progress (monotonic ms) */
};

uint64_t imago_blkc_now_ms(void);
/* Worker: wake the loop thread (one byte into the pipe). */
void imago_blkc_wake(struct imago_blkc *b);

#endif
