/*
 * imago_vreport: the device's signed version report (Uptane's "vehicle
 * version manifest" for one ECU) and the small OTA messages of the channel.
 * Shared by the device (build) and imago-cloud (parse + verify).
 * docs/ota.md ("Version reports") gives the format byte by byte.
 *
 * Topic imago/v1/d/<id>/ota/report, at most IMAGO_VREPORT_MAX bytes:
 *   {"v":1,"payload":"<payload JSON text>","sig":"<base64 DER ECDSA P-256>"}
 * The signature is the device identity key's (the key of its operational
 * certificate) over SHA-256("imago-vreport-v1" NUL payload bytes), so the
 * cloud verifies it with the public key of the certificate the device
 * enrolled with, and nothing of the payload is read before it verifies.
 * Payload (exactly these members):
 *   {"device":ID, "nonce":"<32 lowercase hex, fresh per report>",
 *    "counter":"<u64 decimal, strictly increasing per device, persisted>",
 *    "time":T (unix s),
 *    "installed":{"sha256":"<64 hex>","length":N,"version":"x.y.z","security_counter":N},
 *    "hardware_id":"...",
 *    "state":"idle|downloading|installing|rebooting|succeeded|failed|reverted",
 *    "target":"<image repository target name or empty>", "rollout":"<u64 decimal, 0 none>",
 *    "error":"<IMAGO_E* name or empty>", "progress":P (0..100)}
 *
 * The cloud's answer on imago/v1/d/<id>/ota/ack: {"v":1,"nonce":"<the report's nonce>",
 * "result":"ok"|"<IMAGO_E* name>"}; the device resends a report (same bytes)
 * until acked.  A nudge on imago/v1/d/<id>/ota/check: {"v":1} (no authority:
 * it only makes the device check its director now).
 *
 * Ownership: build returns a malloc'd NUL-terminated string; parse fills a
 * caller-owned struct with copies (no pointers into the input).
 * Errors: IMAGO_EINVAL (bad arguments), IMAGO_ETOOBIG, IMAGO_EOTA_REPORT
 * (not the format, a member missing/unknown/mistyped/out of range, bad
 * signature, another device than expected), IMAGO_ENOMEM, IMAGO_ECRYPTO.
 */
#ifndef IMAGO_OTA_VREPORT_H
#define IMAGO_OTA_VREPORT_H

#include "base/hex.h"
#include "crypto/crypto.h"
#include "crypto/keys.h"

#include <stddef.h>
#include <stdint.h>

#define IMAGO_VREPORT_MAX         4096
#define IMAGO_VREPORT_TARGET_MAX  200 /* = IMAGO_BLK_OBJ_MAX */
#define IMAGO_VREPORT_HWID_MAX    64  /* [A-Za-z0-9._-]{1,64} */
#define IMAGO_VREPORT_VERSION_MAX 32  /* "major.minor.revision[+build]" digits and dots, '+' */

enum imago_vreport_state {
        IMAGO_OTA_IDLE = 0,
        IMAGO_OTA_QUEUED = 1, /* cloud side only: a rollout device not started */
        IMAGO_OTA_DOWNLOADING = 2,
        IMAGO_OTA_INSTALLING = 3,
        IMAGO_OTA_REBOOTING = 4,
        IMAGO_OTA_SUCCEEDED = 5,
        IMAGO_OTA_FAILED = 6,
        IMAGO_OTA_REVERTED = 7,
};

/* "idle", "queued", ... ; NULL for others. */
const char *imago_vreport_state_name(enum imago_vreport_state s);
int imago_vreport_state_from_name(const char *s, enum imago_vreport_state *out);

struct imago_vreport {
        char device[IMAGO_DEVICE_ID_LEN + 1];
        char nonce[33];
        uint64_t counter;
        int64_t time;
        uint8_t installed_sha256[IMAGO_SHA256_LEN];
        uint64_t installed_length;
        char installed_version[IMAGO_VREPORT_VERSION_MAX + 1];
        uint32_t installed_security_counter;
        char hardware_id[IMAGO_VREPORT_HWID_MAX + 1];
        enum imago_vreport_state state; /* never QUEUED on the wire */
        char target[IMAGO_VREPORT_TARGET_MAX + 1];
        uint64_t rollout;
        char error[48]; /* IMAGO_E* name or "" */
        unsigned progress;
};

/* Signs SHA-256 digests with the device key (imago_identity_sign_digest fits). */
typedef int (*imago_vreport_sign_fn)(void *arg, const uint8_t digest[IMAGO_SHA256_LEN],
                                     uint8_t sig[IMAGO_SIG_MAX_LEN], size_t *sig_len);

/* Device: the message for r (nonce and counter as given: the caller draws and persists them). */
int imago_vreport_build(const struct imago_vreport *r, imago_vreport_sign_fn sign, void *arg,
                        char **out, size_t *len);

/* Cloud: parse strictly, verify the signature with key (the device's P-256 key), then the
 * payload; r->device must equal expect_device (the topic's id). */
int imago_vreport_verify(const uint8_t *buf, size_t len, const struct imago_pubkey *key,
                         const char *expect_device, struct imago_vreport *r);

/* The ack: build (cloud) / parse (device: strict, nonce 32 hex, result "ok" or an IMAGO_E name). */
int imago_vreport_ack_build(const char *nonce, int result, char **out, size_t *len);
int imago_vreport_ack_parse(const uint8_t *buf, size_t len, char nonce[33], int *result);

#endif
