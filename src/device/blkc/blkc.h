/*
 * imago_blkc: block transfer over the device's link (imago_link, MQTT),
 * as a *blocking* fetcher for a worker thread: the device's update client
 * runs the TUF workflow (which calls a fetcher and waits) on its own
 * thread, while the link lives on the event-loop thread.  The wire format
 * and the receiver are imago_blk's (docs/blk.md); this module only carries
 * requests and answers between the two threads and the link.
 *
 * Threads: imago_blkc_new/free/link_state run on the loop thread.
 * imago_blkc_get and imago_blkc_fetch_file run on any other thread, one call
 * at a time per blkc; they hand the request to the loop thread (a pipe the
 * loop watches; libevent needs no thread support) and wait on a condition
 * variable; the loop thread publishes on blk/req, feeds blk/data answers to
 * an imago_blk receiver and passes the contiguous prefix back.  In flight:
 * at most window x block bytes (defaults 4 x 16 KiB) buffered between the
 * threads.  Disconnects: the receiver re-requests what is outstanding once
 * the link is ONLINE again (imago_blkc_link_state); a call fails with
 * IMAGO_EIO only when no block arrived for idle_ms.
 *
 * URLs: "blk:" followed by an object name (imago_blk rules), e.g.
 * "blk:director/timestamp.json", "blk:image/metadata/3.snapshot.json",
 * "blk:image/targets/fw/<hash>.fw-2.img".  The object's total length comes
 * with its first block; a total above max is IMAGO_ETUF_LENGTH before any
 * byte reaches the sink (endless data); an error frame "not found" is
 * IMAGO_ENOTFOUND.
 *
 * Progress: imago_blkc_set_progress() installs an optional callback that
 * imago_blkc_fetch_file calls on the worker thread, with no lock held, once
 * at the start (bytes done = the resume offset) and after each block is
 * written at its offset (done = the contiguous bytes written, durable or
 * not yet), with total = length.  imago_blkc_get does not call it.
 *
 * Ownership: new() borrows base and link (both outlive the blkc; free the
 * blkc before the link); it registers the handler for blk/data on the link.
 * Errors: IMAGO_EINVAL (URL or configuration), IMAGO_ENOMEM, IMAGO_EIO
 * (idle timeout, cancelled, link gone), IMAGO_ENOTFOUND, IMAGO_ETUF_LENGTH,
 * IMAGO_EBLK (inconsistent answers), the sink's error, file errors.
 */
#ifndef IMAGO_DEVICE_BLKC_BLKC_H
#define IMAGO_DEVICE_BLKC_BLKC_H

#include "tuf/client/client.h"

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct imago_link;
struct imago_blkc;

struct imago_blkc_config {
        struct event_base *base;
        struct imago_link *link;
        uint32_t block;      /* bytes per block, 0 = 16384 (at most IMAGO_BLK_BLOCK_MAX) */
        uint32_t window;     /* outstanding requests, 0 = 4 */
        uint32_t timeout_ms; /* a request unanswered this long is sent again; 0 = 5000 */
        uint32_t idle_ms;    /* no progress this long fails the call; 0 = 60000 */
};

int imago_blkc_new(const struct imago_blkc_config *cfg, struct imago_blkc **out);
void imago_blkc_free(struct imago_blkc *b);

/* Loop thread: the link went ONLINE (1) or left it (0). */
void imago_blkc_link_state(struct imago_blkc *b, int online);

/* Any thread: make the waiting call (and later ones until reset) fail with IMAGO_EIO. */
void imago_blkc_cancel(struct imago_blkc *b, int cancelled);

/* Worker thread: an imago_tuf_get_fn (ctx = the blkc). */
int imago_blkc_get(void *ctx, const char *url, uint64_t max, imago_tuf_sink_fn sink,
                   void *sink_arg);

/*
 * Worker thread: fetch object (its total must be length) into path, resuming:
 * path.progress (imago_blk_progress_encode) records how much of path is
 * durable; it is written after path is fsynced, so a power cut at any point
 * resumes from a prefix that is really on disk (a record for another object,
 * length or block size starts from 0).  On success path holds exactly length
 * bytes (not verified here: the caller checks the hash) and path.progress is
 * removed.  *resumed_from (may be NULL) gets the offset the transfer resumed at.
 */
int imago_blkc_fetch_file(struct imago_blkc *b, const char *object, uint64_t length,
                          const char *path, uint64_t *resumed_from);

/* Bytes of the object in path so far (done <= total); see "Progress" above. */
typedef void (*imago_blkc_progress_fn)(void *arg, uint64_t done, uint64_t total);

/*
 * Progress callback of later imago_blkc_fetch_file calls (fn NULL: none, the
 * default).  Call it on the worker thread between fetches, or before the
 * worker starts; arg is borrowed and must outlive the fetches that use it.
 */
void imago_blkc_set_progress(struct imago_blkc *b, imago_blkc_progress_fn fn, void *arg);

#endif
