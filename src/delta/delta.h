/*
 * imago_delta: binary deltas between firmware images, with the semantics of
 * `zstd --patch-from` (docs/delta.md).
 *
 * Format.  A delta is exactly one plain zstd frame (RFC 8878) compressed
 * with the base image as a raw-content prefix (ZSTD_CCtx_refPrefix), long
 * distance matching on and a window that covers base and target, as the zstd
 * CLI does.  No header of our own: `zstd -d --patch-from=BASE` applies our
 * deltas and we apply zstd's.  The expected target length and SHA-256 travel
 * outside the delta (in the TUF target's custom field, see docs/delta.md),
 * and the apply checks both before reporting success.
 *
 * Making (host side): imago_delta_make() holds base, target and the delta
 * in memory; *delta is allocated, free it with imago_delta_free().
 *
 * Applying (device side), streaming and bounded:
 *   - the base is one contiguous read-only buffer for the whole apply (libzstd
 *     references the prefix in place: a memory-mapped flash slot on a device,
 *     imago_delta_map_open() of a file on a host); it cannot be read through a
 *     callback, because zstd matches reach anywhere into it;
 *   - the delta is pushed in pieces of any size as it arrives
 *     (imago_delta_apply_update()), e.g. blocks off the device channel;
 *   - the output goes to a sink callback in order, never more than
 *     expect->length bytes in total;
 *   - the frame header is checked before the decoder allocates anything: a
 *     zstd frame (not skippable, no dictionary id), window at most
 *     2^window_log_max, content size (when present) equal to the expected
 *     length.  Heap used: about min(window, length) + 256 KiB
 *     (imago_delta_apply_mem() tells the exact figure).
 *   - imago_delta_apply_final() checks that the frame ended, the length and
 *     the SHA-256.  Bytes given to the sink are NOT verified until it returns
 *     0: the sink must write them where nothing uses them (a temporary file,
 *     the secondary slot not yet marked for boot).
 *
 * Errors: IMAGO_EDELTA for anything wrong with the delta or its result
 * (malformed or truncated frame, window over the limit, wrong base, output
 * longer or shorter than expected, hash mismatch); the precise cause is in
 * a->why (imago_delta_why_str()).  After an error the context refuses
 * everything with the same error; free it.  IMAGO_ENOMEM, IMAGO_EINVAL, and
 * whatever the sink returns (passed through, a->why = IMAGO_DELTA_SINK).
 * Falling back to the full image is the caller's decision.
 */
#ifndef IMAGO_DELTA_DELTA_H
#define IMAGO_DELTA_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

/* zstd's own default decoder limit (128 MiB); `zstd -d` needs --memory above it. */
#define IMAGO_DELTA_WLOG_DEFAULT 27
#define IMAGO_DELTA_WLOG_MIN     10
#define IMAGO_DELTA_WLOG_MAX     31
/* Largest base or target imago_delta_make() accepts (window log 31 covers it). */
#define IMAGO_DELTA_IMAGE_MAX     (1ULL << 30)
#define IMAGO_DELTA_LEVEL_DEFAULT 19
#define IMAGO_DELTA_LEVEL_MAX     22

/*
 * Window log of a delta for these sizes, as `zstd --patch-from`: one more
 * than the highest bit of the larger size, within [WLOG_MIN, WLOG_MAX].
 */
unsigned imago_delta_window_log(uint64_t base_len, uint64_t target_len);

/*
 * Delta from base to target at zstd level (1..22; 0 means
 * IMAGO_DELTA_LEVEL_DEFAULT).  IMAGO_EINVAL for a bad level, IMAGO_ETOOBIG
 * above IMAGO_DELTA_IMAGE_MAX, IMAGO_ENOMEM, IMAGO_EDELTA if libzstd fails.
 */
int imago_delta_make(const uint8_t *base, size_t base_len, const uint8_t *target, size_t target_len,
                     int level, uint8_t **delta, size_t *delta_len);
void imago_delta_free(uint8_t *delta);

/* What the apply must produce. */
struct imago_delta_expect {
        uint64_t length;                  /* exact target length */
        uint8_t sha256[IMAGO_SHA256_LEN]; /* target SHA-256 */
        unsigned window_log_max;          /* 0: IMAGO_DELTA_WLOG_DEFAULT; at most WLOG_MAX */
};

enum imago_delta_why {
        IMAGO_DELTA_NONE = 0,
        IMAGO_DELTA_NOT_ZSTD, /* not a zstd frame, skippable frame, or a dictionary id */
        IMAGO_DELTA_WINDOW,   /* window larger than 2^window_log_max */
        IMAGO_DELTA_SIZE,     /* frame content size differs from the expected length */
        IMAGO_DELTA_LONG,     /* output would pass the expected length */
        IMAGO_DELTA_SHORT,    /* delta or output ended early (truncated) */
        IMAGO_DELTA_CORRUPT,  /* zstd refused the data (corrupt, or another base) */
        IMAGO_DELTA_TRAILING, /* bytes after the frame */
        IMAGO_DELTA_HASH,     /* output SHA-256 differs from the expected one */
        IMAGO_DELTA_SINK,     /* the sink failed (its code is returned) */
        IMAGO_DELTA_IO,       /* reading, writing or syncing a file failed */
};

/* Static description of a cause ("window larger than allowed", ...). */
const char *imago_delta_why_str(enum imago_delta_why why);

/* Receives the output in order; 0 or a negative IMAGO_E code (stops the apply). */
typedef int (*imago_delta_sink_fn)(void *arg, const uint8_t *data, size_t len);

#define IMAGO_DELTA_HDR_MAX 18 /* ZSTD_FRAMEHEADERSIZE_MAX */

/* Caller-owned apply context; fields are private. */
struct imago_delta_apply {
        void *dctx; /* ZSTD_DCtx */
        uint8_t *out;
        size_t out_cap;
        const uint8_t *base;
        size_t base_len;
        struct imago_delta_expect exp;
        imago_delta_sink_fn sink;
        void *sink_arg;
        struct imago_sha256 h;
        uint64_t written;
        uint8_t hdr[IMAGO_DELTA_HDR_MAX];
        size_t hdr_len;
        int hdr_ok;
        int done; /* frame complete */
        int err;  /* sticky error, 0 if none */
        int h_live;
        enum imago_delta_why why;
};

/*
 * Prepares an apply of a delta against base (base_len bytes, which must stay
 * valid and unchanged until free).  Allocates only the zstd context and a
 * 128 KiB output buffer; the window is allocated when the header passed.
 * Free with imago_delta_apply_free() whatever happens.
 */
int imago_delta_apply_init(struct imago_delta_apply *a, const uint8_t *base, size_t base_len,
                           const struct imago_delta_expect *exp, imago_delta_sink_fn sink,
                           void *sink_arg);
/* Next len bytes of the delta (any split). */
int imago_delta_apply_update(struct imago_delta_apply *a, const uint8_t *in, size_t len);
/* The delta is complete: frame ended, length and SHA-256 as expected, or IMAGO_EDELTA. */
int imago_delta_apply_final(struct imago_delta_apply *a);
/* Heap held by the decoder now (bytes). */
size_t imago_delta_apply_mem(const struct imago_delta_apply *a);
void imago_delta_apply_free(struct imago_delta_apply *a);

/* One-shot apply of an in-memory delta to a sink; *why (may be NULL) gets the cause. */
int imago_delta_apply_buf(const uint8_t *base, size_t base_len, const uint8_t *delta,
                          size_t delta_len, const struct imago_delta_expect *exp,
                          imago_delta_sink_fn sink, void *sink_arg, enum imago_delta_why *why);

/* A file mapped read-only (host side base).  An empty file maps to data NULL, len 0. */
struct imago_delta_map {
        const uint8_t *data;
        size_t len;
};
/* IMAGO_ENOTFOUND, IMAGO_ETOOBIG (larger than max), IMAGO_EIO. */
int imago_delta_map_open(const char *path, uint64_t max, struct imago_delta_map *m);
void imago_delta_map_close(struct imago_delta_map *m);

/*
 * Applies the delta file to the base file into out: written to a temporary
 * file in out's directory, fsynced, renamed over out only when the length
 * and SHA-256 matched (mode 0644); on any failure out is untouched and no
 * temporary file is left.  *why (may be NULL) gets the cause.
 */
int imago_delta_apply_file(const char *base, const char *delta, const char *out,
                           const struct imago_delta_expect *exp, enum imago_delta_why *why);

/* Sizes and target hash of a made delta. */
struct imago_delta_info {
        uint64_t base_len;
        uint64_t target_len;
        uint64_t delta_len;
        uint8_t target_sha256[IMAGO_SHA256_LEN];
        unsigned window_log;
};

/* imago_delta_make() of two files into out (atomically, mode 0644); info may be NULL. */
int imago_delta_make_file(const char *base, const char *target, const char *out, int level,
                          struct imago_delta_info *info);

#endif
