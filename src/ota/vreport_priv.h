/* imago_vreport: helpers shared by build, verify and ack (see vreport.h). */
#ifndef IMAGO_OTA_VREPORT_PRIV_H
#define IMAGO_OTA_VREPORT_PRIV_H

#include "ota/vreport.h"

#include <stddef.h>
#include <stdint.h>

#define VREPORT_SIG_DER_MAX  72 /* DER ECDSA P-256 */
#define VREPORT_SIG_B64_MAX  96 /* base64 of 72 bytes */
#define VREPORT_JSON_INT_MAX ((int64_t)1 << 53)

/* SHA-256("imago-vreport-v1" NUL payload). */
int vreport_digest(const char *payload, size_t len, uint8_t out[IMAGO_SHA256_LEN]);

/* Canonical u64 decimal ("0" or no leading zero, at most UINT64_MAX). 0 or -1. */
int vreport_u64_parse(const char *s, uint64_t *out);

/* Field rules of the payload (1 valid, 0 not). */
int vreport_nonce_valid(const char *s);
int vreport_version_valid(const char *s);
int vreport_hwid_valid(const char *s);
int vreport_target_valid(const char *s); /* "" or the imago_blk object-name rules */
int vreport_error_valid(const char *s);  /* "" or a known IMAGO_E name (not IMAGO_OK) */

/* Strict base64 (re-encoded and compared) of at most max bytes. 0 or -1. */
int vreport_b64_decode(const char *s, size_t n, uint8_t *out, size_t max, size_t *out_len);

#endif
