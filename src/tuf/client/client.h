/*
 * imago_tuf_client: the TUF client workflow (specification 1.0, section
 * 5), over a fetch interface, with trusted metadata persisted in a
 * metadata directory; and a plain HTTP/1.1 fetcher for that interface.
 * docs/tuf.md ("Client") describes the workflow and the directory.
 *
 * ---- fetch interface ----
 * A fetcher GETs one URL and passes the body to a sink as it arrives, at
 * most max bytes: the spec's "endless data" defence lives in the fetcher,
 * which stops reading at the limit.  Answers: 0 when the whole body was
 * passed on; IMAGO_ENOTFOUND when the server says there is no such file
 * (the root chain stops on it); IMAGO_ETUF_LENGTH when the body is longer
 * than max; a sink's error as it is; anything else (IMAGO_EIO, IMAGO_EHTTP,
 * IMAGO_ETRUNC, ...) is a failed download.  A fetcher may have passed part
 * of a body to the sink before it fails.
 *
 * ---- HTTP fetcher ----
 * imago_tuf_http_get() is a fetcher for http:// URLs (conformance tooling
 * serves metadata over plain http on the loopback; integrity comes from
 * the metadata, not the transport).  One request per connection
 * ("Connection: close"), GET only, a connect timeout and a read timeout
 * (no byte for read_timeout_ms fails the request) and an optional deadline
 * for the whole request; the response is parsed strictly as it arrives
 * (http_priv.h lists what is refused): status 200 with a Content-Length or
 * chunked body, 403/404 as IMAGO_ENOTFOUND, everything else refused.
 * Reading stops at max body bytes (IMAGO_ETUF_LENGTH), and a
 * Content-Length over max is refused before any body byte is read.
 * Errors: IMAGO_EINVAL (URL not http://HOST[:PORT]/PATH), IMAGO_EIO
 * (resolve, connect, write, read, timeouts), IMAGO_EHTTP, IMAGO_ETOOBIG
 * (response head over 16 KiB), IMAGO_ETRUNC (closed before the end),
 * IMAGO_ENOTFOUND, IMAGO_ETUF_LENGTH, the sink's.  Nothing is logged but the
 * URL and the error.  SIGPIPE is avoided with MSG_NOSIGNAL.
 *
 * ---- client workflow ----
 * imago_tuf_client_open() loads the trusted root from DIR/root.json (it must
 * verify with its own root role).  imago_tuf_client_refresh() then runs the
 * specification's steps in order with imago_tuf's trusted set: the root
 * chain (N+1.root.json until the fetcher says IMAGO_ENOTFOUND, at most
 * IMAGO_TUF_MAX_ROOT_STEPS, each persisted as root.json once verified; when
 * the timestamp or snapshot role's keys changed across the chain,
 * timestamp.json and snapshot.json are deleted, 5.3.11), the root's expiry,
 * timestamp.json (at most timestamp_max bytes), the snapshot (the persisted
 * one if it is still the one the timestamp names, else
 * [VERSION.]snapshot.json bounded by the timestamp's length), and top-level
 * targets the same way.  imago_tuf_client_find() searches a target through
 * the delegations (fetching [VERSION.]ROLE.json as needed) and
 * imago_tuf_client_download() fetches it (with consistent snapshots
 * DIR/HASH.BASENAME under the target path's directory), checks length and
 * hashes as it streams, and renames it into place.  Every fetch is bounded
 * by the length its referrer states, or the role's limit when it states
 * none.
 *
 * Files in the metadata directory: root.json, timestamp.json,
 * snapshot.json, targets.json and ROLE.json for delegated roles, the role
 * name percent-encoded as python-tuf does (every byte but ASCII letters,
 * digits and "_.-~" becomes %XX): the bytes exactly as fetched, written with
 * imago_file_write_atomic() only after the trusted set accepted them, so a
 * crash at any point leaves each file the previous trusted version or the
 * next one.  A target goes to TARGET_DIR/NAME, NAME the whole target path
 * percent-encoded the same way (no subdirectories, no ".." possible),
 * through a temporary file in the same directory renamed after the check;
 * one already there with the right length and hashes is not fetched again.
 *
 * Time: the now field if non-zero, else time() (the C library clock:
 * conformance tooling moves it with libfaketime), read once per refresh.
 *
 * Memory: the trusted set (bounded by its limits: tuf.h, docs/ota.md) plus
 * one fetched document at a time (at most its bound); targets are streamed,
 * never held.
 *
 * Ownership: the client copies dir and the URL; the fetcher's ctx is
 * borrowed and must outlive the client.  A target returned by find() is
 * borrowed from the trusted set and lives until the next find (which may
 * load roles) or close.
 *
 * Errors: those of imago_tuf (the trusted set's rules), of the fetcher, and
 * IMAGO_ENOTFOUND (no DIR/root.json), IMAGO_EIO (files), IMAGO_ESTATE
 * (find/download before a successful refresh; a second refresh on the same
 * client: the trusted set follows the spec's order once, so a periodic
 * check closes and opens again), IMAGO_ETUF_NOTARGET, IMAGO_ETUF_CONSISTENCY
 * (a file the referring metadata names is not in the repository).
 */
#ifndef IMAGO_TUF_CLIENT_CLIENT_H
#define IMAGO_TUF_CLIENT_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tuf/tuf.h"

/* Receives body bytes in order; a non-zero IMAGO_E* answer stops the fetch and is returned by it.
 */
typedef int (*imago_tuf_sink_fn)(void *arg, const uint8_t *data, size_t len);

typedef int (*imago_tuf_get_fn)(void *ctx, const char *url, uint64_t max, imago_tuf_sink_fn sink,
                                void *sink_arg);

struct imago_tuf_fetcher {
        imago_tuf_get_fn get;
        void *ctx;
};

/* ---- HTTP fetcher (ctx: struct imago_tuf_http *) ---- */

struct imago_tuf_http {
        uint32_t connect_timeout_ms; /* 0 = 10000 */
        uint32_t read_timeout_ms;    /* 0 = 10000 */
        uint32_t deadline_ms;        /* whole request; 0 = none */
};

int imago_tuf_http_get(void *ctx, const char *url, uint64_t max, imago_tuf_sink_fn sink,
                       void *sink_arg);

/* ---- client workflow ---- */

struct imago_tuf_client {
        char *dir; /* metadata directory */
        char *url; /* metadata base URL, ending in '/' */
        struct imago_tuf_fetcher fetch;
        int64_t now;      /* 0: time() at each refresh */
        int64_t now_used; /* the time of the last refresh */
        int refreshed;    /* 1 after a successful refresh */
        struct imago_tuf_trusted trusted;
};

/* `init`: DIR/root.json from the trusted root file (it must parse and verify with its own root
 * role; written atomically). */
int imago_tuf_client_init_dir(const char *dir, const char *trusted_root_file);

/* Load DIR/root.json; lim may be NULL (imago_tuf's defaults). *c is zeroed first. */
int imago_tuf_client_open(struct imago_tuf_client *c, const char *dir, const char *metadata_url,
                          const struct imago_tuf_fetcher *fetch,
                          const struct imago_tuf_limits *lim);
void imago_tuf_client_close(struct imago_tuf_client *c);

int imago_tuf_client_refresh(struct imago_tuf_client *c);

/* The target's information through the delegations (IMAGO_ETUF_NOTARGET when none lists it). */
int imago_tuf_client_find(struct imago_tuf_client *c, const char *path,
                          const struct imago_tuf_target **out);

/* Fetch t from target_base_url (a '/' is added if missing) into target_dir; *cached (may be
 * NULL) is 1 when the file was already there and right. */
int imago_tuf_client_download(struct imago_tuf_client *c, const struct imago_tuf_target *t,
                              const char *target_base_url, const char *target_dir, int *cached);

/* Percent-encoding as Python's urllib.parse.quote(s, safe): every byte but ASCII letters, digits,
 * "_.-~" and those in safe becomes %XX (uppercase).  IMAGO_ETOOBIG if out (cap bytes, NUL
 * included) is too small. */
int imago_tuf_quote(const char *s, const char *safe, char *out, size_t cap);

#endif
