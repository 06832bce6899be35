/*
 * imago_cmdenv: signed command envelopes (cloud -> device) and command
 * results (device -> cloud).  docs/commands.md gives the format byte by byte.
 *
 * Envelope: {"v":1,"payload":"<payload JSON text>","sig":"<128 hex>"}.  The
 * signed bytes are exactly the UTF-8 bytes of the payload string (after JSON
 * string decoding), so no canonicalisation is needed.  sig is Ed25519 (the
 * imago_privkey_sign_digest() way) over SHA-256("imago-cmd-v1" NUL payload).
 * Payload: {"device":ID,"seq":"<u64 decimal>","iat":T,"exp":T,"name":N,"args":{...}}.
 *
 * Verification order (imago_cmdenv_verify): size, outer JSON, signature
 * against the pinned key, only then the payload; then target device,
 * sequence > last accepted, not issued in the future (iat <= now + skew), not
 * expired (now <= exp + skew).  The handler may run only on 0.
 *
 * Ownership: imago_cmdenv_build() and imago_cmdenv_result_build() return a
 * malloc'd NUL-terminated string the caller frees.  struct imago_cmdenv and
 * struct imago_cmdenv_result hold the parsed JSON (args/result are borrowed
 * from it); release with imago_cmdenv_release()/imago_cmdenv_result_release(),
 * safe on a zeroed struct and after a failed parse.
 *
 * Errors: IMAGO_EINVAL (bad arguments, e.g. skew above IMAGO_CMDENV_MAX_SKEW),
 * IMAGO_ETOOBIG (message or args over the limits), IMAGO_ECMD_MALFORMED (not the
 * format), IMAGO_ECMD_SIG (forged, tampered, or signed by another key),
 * IMAGO_ECMD_DEVICE (another device), IMAGO_ECMD_REPLAY (seq <= last accepted),
 * IMAGO_ECMD_EXPIRED, IMAGO_ECMD_NOTYET, IMAGO_EKEY_TYPE (key not Ed25519),
 * IMAGO_ENOMEM, IMAGO_ECRYPTO.
 */
#ifndef IMAGO_CMDENV_CMDENV_H
#define IMAGO_CMDENV_CMDENV_H

#include "base/hex.h"
#include "crypto/keys.h"

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define IMAGO_CMDENV_MAX         8192  /* whole envelope, bytes */
#define IMAGO_CMDENV_PAYLOAD_MAX 4096  /* payload text, bytes (bounds args) */
#define IMAGO_CMDENV_NAME_MAX    32    /* [a-z][a-z0-9_.-]{0,31} */
#define IMAGO_CMDENV_MAX_SKEW    600   /* largest clock skew a caller may allow, s */
#define IMAGO_CMDENV_MAX_LIFE    86400 /* exp - iat at most, s */
#define IMAGO_CMDENV_RESULT_MAX  8192  /* whole result message, bytes */

struct imago_cmdenv {
        char device[IMAGO_DEVICE_ID_LEN + 1];
        uint64_t seq;
        int64_t iat;
        int64_t exp;
        char name[IMAGO_CMDENV_NAME_MAX + 1];
        json_t *args; /* borrowed from root */
        json_t *root; /* the payload object */
};

/* Cloud: sign a command with the Ed25519 command key; args NULL means {}. seq >= 1. */
int imago_cmdenv_build(const struct imago_privkey *key, const char *device, uint64_t seq,
                       int64_t iat, int64_t exp, const char *name, json_t *args, char **out);

/*
 * Device: parse and verify buf against the pinned command key.  device is this
 * device's id, last_seq the last accepted sequence (0: none), now the caller's
 * clock (unix s), skew the allowed clock skew (0..IMAGO_CMDENV_MAX_SKEW).
 * On 0 the caller persists out->seq as the new last accepted before running
 * the handler.  On error *out is released.
 */
int imago_cmdenv_verify(const uint8_t *buf, size_t len, const struct imago_pubkey *key,
                        const char *device, uint64_t last_seq, int64_t now, int64_t skew,
                        struct imago_cmdenv *out);

void imago_cmdenv_release(struct imago_cmdenv *c);

/* Result statuses. */
enum imago_cmdenv_status {
        IMAGO_CMDENV_OK = 0,       /* "ok": the handler ran and succeeded */
        IMAGO_CMDENV_FAILED = 1,   /* "failed": the handler ran and failed */
        IMAGO_CMDENV_REJECTED = 2, /* "rejected": verification refused the envelope */
        IMAGO_CMDENV_UNKNOWN = 3,  /* "unknown": no handler of that name */
};

/* Result: {"v":1,"device":ID,"seq":"<u64>","status":S,"result":{...}} (unsigned: it
 * travels on the device's authenticated channel; the cloud checks device = sender). */
struct imago_cmdenv_result {
        char device[IMAGO_DEVICE_ID_LEN + 1];
        uint64_t seq;
        enum imago_cmdenv_status status;
        json_t *result; /* borrowed from root */
        json_t *root;
};

/* Device: result NULL means {}. */
int imago_cmdenv_result_build(const char *device, uint64_t seq, enum imago_cmdenv_status status,
                              json_t *result, char **out);

/* Cloud: strict parse of a result message.  On error *out is released. */
int imago_cmdenv_result_parse(const uint8_t *buf, size_t len, struct imago_cmdenv_result *out);

void imago_cmdenv_result_release(struct imago_cmdenv_result *r);

const char *imago_cmdenv_status_name(enum imago_cmdenv_status s);

/* Helpers shared by the files of this module (and tests). */
int imago_cmdenv_name_valid(const char *s);
/* Strict u64 decimal: 1..20 digits, no sign, no leading zero, <= UINT64_MAX, >= 1. */
int imago_cmdenv_seq_parse(const char *s, uint64_t *out);
/* SHA-256 of the domain tag and the payload bytes. */
int imago_cmdenv_digest(const char *payload, size_t len, uint8_t out[IMAGO_SHA256_LEN]);

#endif
