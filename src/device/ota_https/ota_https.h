/*
 * imago_ota_https: the optional second OTA transport -- image repository
 * files ("image/metadata/<file>", "image/targets/<path>") over HTTPS range
 * requests to imago-cloud's public repository API
 * (https://HOST:PORT/v1/repo/, docs/api.md).  The transport is trusted for
 * nothing but confidentiality (TLS with a pinned CA); the integrity of every
 * byte comes from TUF (imago_ota checks lengths and hashes).
 *
 * Ownership: imago_ota_https_new copies the configuration; the handle is
 * freed with imago_ota_https_free.  get, fetch_file and set_progress run on
 * one thread (imago_ota's worker); cancel may be called from any thread.
 *
 * imago_ota_https_get(ctx, url, max, sink, arg): url "blk:image/metadata/F"
 *   (the form imago_ota passes), fetched in ranges of at most 1 MiB starting
 *   with bytes 0..max-1, so a server cannot make it read more than max.
 *   Errors: IMAGO_EINVAL (another url), IMAGO_ENOTFOUND (404),
 *   IMAGO_ETUF_LENGTH (the file is over max), IMAGO_EHTTP (unexpected status
 *   or a range that was not asked for), the client's errors, the sink's.
 * imago_ota_https_fetch_file(ctx, object, length, path, &resumed_from):
 *   object "image/targets/P" into path, in 256 KiB ranges, each appended,
 *   fdatasync'd and recorded in path + ".progress" (imago_blk_progress form,
 *   the same rules as imago_blkc_fetch_file: resume from the durable prefix
 *   of a record for the same object and length, else from 0; the record is
 *   removed at the end).  Errors: IMAGO_EINVAL, IMAGO_ENOTFOUND (404),
 *   IMAGO_ETUF_LENGTH (length over IMAGO_BLK_LENGTH_MAX or the server's
 *   total differs from length), IMAGO_EHTTP, IMAGO_EIO (file or cancelled).
 */
#ifndef IMAGO_DEVICE_OTA_HTTPS_H
#define IMAGO_DEVICE_OTA_HTTPS_H

#include <stddef.h>
#include <stdint.h>

#include "tuf/client/client.h"

/* Bytes of an image target's range request. */
#define IMAGO_OTA_HTTPS_RANGE      (256u * 1024u)
#define IMAGO_OTA_HTTPS_HOST_MAX   253u
#define IMAGO_OTA_HTTPS_PREFIX_MAX 200u

struct imago_ota_https;

struct imago_ota_https_config {
        const char *url;     /* "https://HOST:PORT/PREFIX/" */
        const char *ca_path; /* pinned CA (PEM) of the API's certificate */
        uint32_t timeout_ms; /* per request; 0 = 30000 */
};

/* Same type as imago_ota_progress_fn. */
typedef void (*imago_ota_https_progress_fn)(void *arg, uint64_t done, uint64_t total);

/* Strict: "https://", host of [A-Za-z0-9.-] (or 127.0.0.1-like IPv4), ":" port 1..65535,
 * a path of [A-Za-z0-9._~-] segments starting and ending with '/' (no "." or ".." segment).
 * host: at least IMAGO_OTA_HTTPS_HOST_MAX + 1 bytes; prefix: IMAGO_OTA_HTTPS_PREFIX_MAX + 1.
 * Errors: IMAGO_EINVAL. */
int imago_ota_https_url_parse(const char *url, char *host, uint16_t *port, char *prefix);

int imago_ota_https_new(const struct imago_ota_https_config *cfg, struct imago_ota_https **out);
void imago_ota_https_free(struct imago_ota_https *h);
/* Stop (1) the current and later fetches with IMAGO_EIO between two ranges, or allow them (0). */
void imago_ota_https_cancel(struct imago_ota_https *h, int on);

int imago_ota_https_get(void *ctx, const char *url, uint64_t max, imago_tuf_sink_fn sink,
                        void *sink_arg);
int imago_ota_https_fetch_file(void *ctx, const char *object, uint64_t length, const char *path,
                               uint64_t *resumed_from);
void imago_ota_https_set_progress(void *ctx, imago_ota_https_progress_fn fn, void *fn_arg);

#endif
