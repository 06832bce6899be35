/*
 * imago_blk: block transfer of metadata and images over the device channel.
 *
 * Messages and pure state machines, no MQTT and no clock of their own (the
 * agent and imago-cloud publish, receive and tell the time).  The layer is
 * not the security of an update: every object is checked afterwards against
 * the TUF length and hashes.  It guarantees bounded memory and in-flight
 * data, no write outside [0, length) of the expected object, and that a
 * transfer resumes after any disconnect or restart.  See docs/blk.md.
 *
 *   req    device -> cloud  imago/v1/d/<id>/blk/req   JSON
 *   block  cloud -> device  imago/v1/d/<id>/blk/data  binary frame (32-byte header, name, data)
 *   error  cloud -> device  imago/v1/d/<id>/blk/data  binary frame (no data)
 *
 * Ownership: parsed messages borrow nothing except m->data, which points
 * into the parsed buffer and lives as long as it.  Builders return malloc'd
 * buffers the caller frees with free().  A receiver owns its bitmap until
 * imago_blk_rx_free() (safe on a zeroed or failed-init receiver); it
 * borrows nothing from its configuration (the object name is copied).
 *
 * Errors: IMAGO_EINVAL (NULL or bad arguments), IMAGO_ENOMEM, IMAGO_ETOOBIG
 * (request over IMAGO_BLK_REQ_MAX), IMAGO_EMALFORMED (request not one JSON
 * object, duplicate key), IMAGO_ETRUNC / IMAGO_ETRAILING (frame shorter or
 * longer than its header says), IMAGO_EBLK (a field missing, unknown,
 * mistyped or out of range; and in the receiver: an answer for this object
 * with another total length, "endless data", or a range error answer),
 * IMAGO_ENOTFOUND (a not-found answer), IMAGO_EIO (a source read failed).
 */
#ifndef IMAGO_BLK_BLK_H
#define IMAGO_BLK_BLK_H

#include <stddef.h>
#include <stdint.h>

#define IMAGO_BLK_OBJ_MAX      200
#define IMAGO_BLK_BLOCK_MAX    16384u
#define IMAGO_BLK_REQ_MAX      512
#define IMAGO_BLK_HDR_LEN      32u
#define IMAGO_BLK_FRAME_MAX    (IMAGO_BLK_HDR_LEN + IMAGO_BLK_OBJ_MAX + IMAGO_BLK_BLOCK_MAX)
#define IMAGO_BLK_OFF_LIMIT    (UINT64_C(1) << 48) /* offsets and totals are below this */
#define IMAGO_BLK_LENGTH_MAX   (UINT64_C(1) << 30) /* largest object a receiver accepts */
#define IMAGO_BLK_BLOCKS_MAX   (UINT64_C(1) << 17) /* blocks per object: a 16 KiB bitmap */
#define IMAGO_BLK_WINDOW_MAX   32u
#define IMAGO_BLK_PROGRESS_MAX (28u + IMAGO_BLK_OBJ_MAX)
#define IMAGO_BLK_TOPIC_MAX    64

/* Frame types and error codes on the wire. */
enum imago_blk_type {
        IMAGO_BLK_BLOCK = 1,
        IMAGO_BLK_ERROR = 2,
};

enum imago_blk_code {
        IMAGO_BLK_OK = 0,
        IMAGO_BLK_NOTFOUND = 1,
        IMAGO_BLK_RANGE = 2,
};

/* 1 if s[0..len) is a valid object name (docs/blk.md: printable, bounded, no "..", no leading "/").
 */
int imago_blk_obj_valid(const char *s, size_t len);

/* "imago/v1/d/<id>/blk/req" (req != 0) or ".../blk/data"; IMAGO_EINVAL for a bad id or small
 * buffer. */
int imago_blk_topic(const char *id, int req, char *buf, size_t size);

/* ---- request (JSON) ---- */

struct imago_blk_req {
        uint32_t tid; /* 1 .. 2^32-1 */
        char obj[IMAGO_BLK_OBJ_MAX + 1];
        uint64_t off; /* < IMAGO_BLK_OFF_LIMIT */
        uint32_t len; /* 1 .. IMAGO_BLK_BLOCK_MAX */
};

int imago_blk_req_parse(const uint8_t *buf, size_t len, struct imago_blk_req *r);
int imago_blk_req_build(const struct imago_blk_req *r, char **out, size_t *len);

/* ---- block and error (binary frame) ---- */

struct imago_blk_msg {
        enum imago_blk_type type;
        enum imago_blk_code code; /* IMAGO_BLK_OK in a block */
        uint32_t tid;
        char obj[IMAGO_BLK_OBJ_MAX + 1];
        uint64_t off;
        uint64_t total;      /* block: object length; error: 0 */
        const uint8_t *data; /* block: into the parsed buffer; error: NULL */
        uint32_t data_len;   /* block: 1 .. IMAGO_BLK_BLOCK_MAX; error: 0 */
};

int imago_blk_msg_parse(const uint8_t *buf, size_t len, struct imago_blk_msg *m);
int imago_blk_msg_build(const struct imago_blk_msg *m, uint8_t **out, size_t *len);

/* ---- sender (cloud) ---- */

struct imago_blk_src {
        uint64_t length;
        /* Read exactly len bytes at off (off + len <= length); 0 or a negative IMAGO_E* code. */
        int (*read)(const struct imago_blk_src *s, uint64_t off, uint8_t *buf, size_t len);
        void *arg; /* for a caller's own read */
        /* for the sources below */
        const uint8_t *buf;
        int fd;
};

/* A source over buf[0..len) (borrowed) or over an open file (borrowed fd, length from fstat now).
 */
void imago_blk_src_buf(struct imago_blk_src *s, const uint8_t *buf, size_t len);
int imago_blk_src_fd(struct imago_blk_src *s, int fd);

/*
 * The answer frame to a parsed request: a block of min(req->len, length -
 * off) bytes read from src, a not-found error if src is NULL, a range error
 * if off >= length.  Errors: IMAGO_EINVAL, IMAGO_ENOMEM, the source's code.
 */
int imago_blk_serve(const struct imago_blk_req *req, const struct imago_blk_src *src, uint8_t **out,
                    size_t *len);

/* ---- progress record (persisted by the device) ---- */

struct imago_blk_progress {
        char obj[IMAGO_BLK_OBJ_MAX + 1];
        uint64_t length; /* expected object length */
        uint32_t block;  /* block size of the transfer */
        uint64_t done;   /* bytes written and durable from offset 0 */
};

/*
 * Fixed form, big-endian: "IMBP", version 1, name length, 2 zero bytes,
 * block u32, length u64, done u64, then the name; decode is strict (the
 * same checks as rx_init: valid name and block, done <= length, and done a
 * multiple of block unless it equals length).  Errors: IMAGO_ETRUNC,
 * IMAGO_ETRAILING, IMAGO_EBLK; encode: IMAGO_EINVAL (invalid or buffer
 * smaller than IMAGO_BLK_PROGRESS_MAX needs).
 */
int imago_blk_progress_encode(const struct imago_blk_progress *p, uint8_t *buf, size_t size,
                              size_t *len);
int imago_blk_progress_decode(const uint8_t *buf, size_t len, struct imago_blk_progress *p);

/* ---- receiver (device) ---- */

/* Write len bytes at off of the object; 0 or a negative IMAGO_E* code (which fails the transfer).
 */
typedef int (*imago_blk_write_fn)(void *arg, uint64_t off, const uint8_t *data, size_t len);

struct imago_blk_rx_cfg {
        const char *obj; /* valid object name */
        uint64_t length; /* expected length, <= IMAGO_BLK_LENGTH_MAX */
        uint32_t block;  /* 1 .. IMAGO_BLK_BLOCK_MAX, and length / block <= IMAGO_BLK_BLOCKS_MAX */
        unsigned window; /* 1 .. IMAGO_BLK_WINDOW_MAX requests outstanding, and blocks
                            requested at most window - 1 beyond the contiguous prefix */
        uint32_t tid;    /* nonzero, new for every run */
        uint64_t timeout_ms; /* re-request after this long without an answer, > 0 */
        imago_blk_write_fn write;
        void *arg;
};

struct imago_blk_rx_stats {
        uint64_t sent;     /* requests, first time */
        uint64_t resent;   /* requests again after a timeout or a disconnect */
        uint64_t accepted; /* blocks written */
        uint64_t ignored;  /* answers ignored */
};

struct imago_blk_rx_slot {
        uint64_t blk;     /* block index */
        uint64_t sent_ms; /* when it was last requested */
        uint8_t used;
        uint8_t need_send; /* not yet (or to be again) requested */
};

struct imago_blk_rx {
        char obj[IMAGO_BLK_OBJ_MAX + 1];
        uint64_t length;
        uint32_t block;
        unsigned window;
        uint32_t tid;
        uint64_t timeout_ms;
        imago_blk_write_fn write;
        void *arg;
        uint64_t nblocks;
        uint64_t next;   /* next block never requested in this run */
        uint64_t prefix; /* blocks complete from 0 */
        uint8_t *bitmap; /* nblocks bits, 1 = written */
        struct imago_blk_rx_slot slot[IMAGO_BLK_WINDOW_MAX];
        int failed; /* 0 or the code that stopped the transfer */
        struct imago_blk_rx_stats stats;
};

/*
 * Start a receiver; resume (may be NULL) continues from a progress record
 * of the same object, length and block size (else IMAGO_EINVAL).
 */
int imago_blk_rx_init(struct imago_blk_rx *rx, const struct imago_blk_rx_cfg *cfg,
                      const struct imago_blk_progress *resume);

/*
 * The next request to publish now: 1 and *req filled, 0 if none (window
 * full and nothing timed out, or all requested), or the failure code.
 * Call until it returns 0.
 */
int imago_blk_rx_next(struct imago_blk_rx *rx, uint64_t now_ms, struct imago_blk_req *req);

/*
 * Feed one parsed answer: 1 accepted and written, 0 ignored, or a negative
 * code that fails the transfer (see docs/blk.md).
 */
int imago_blk_rx_answer(struct imago_blk_rx *rx, const struct imago_blk_msg *m);

/* The channel went down: every outstanding request is sent again by rx_next. */
void imago_blk_rx_disconnect(struct imago_blk_rx *rx);

/* 1 when every byte is written. */
int imago_blk_rx_done(const struct imago_blk_rx *rx);

/* Requests outstanding (never more than the window). */
unsigned imago_blk_rx_inflight(const struct imago_blk_rx *rx);

/* The record to persist (once the data up to p->done is durable). */
void imago_blk_rx_progress(const struct imago_blk_rx *rx, struct imago_blk_progress *p);

void imago_blk_rx_free(struct imago_blk_rx *rx);

#endif
