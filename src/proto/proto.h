/*
 * imago_proto: the provisioning and rotation messages on the device channel.
 *
 * JSON objects (UTF-8, at most IMAGO_PROTO_MAX bytes), every one with
 * "v": 1, "type", "id" (the device id, 32 lowercase hex) and "nonce" (32
 * lowercase hex, chosen by the device, echoed in the answer):
 *
 *   enrol       device -> cloud  imago/v1/prov/<id>/req    + "csr":  PEM CSR
 *   rotate      device -> cloud  imago/v1/d/<id>/rot/req   + "csr":  PEM CSR
 *   cert        cloud -> device  .../resp (same prefix)    + "cert": PEM, "chain": PEM (issuing CA)
 *   error       cloud -> device  .../resp                  + "code": IMAGO_E name, "message": text
 *   rotate-now  cloud -> device  imago/v1/d/<id>/rot/now   (no extra field; nonce chosen by the
 * cloud)
 *
 * Unknown keys, duplicate keys, missing or mistyped fields, a type that
 * does not carry the fields it needs, oversize strings (PEM at most
 * IMAGO_PROTO_PEM_MAX bytes) or a NUL in a string are refused.  The parser
 * trusts nothing: a CSR or certificate in a message is checked by whoever
 * uses it.  See docs/protocol.md.
 *
 * Ownership: a parsed message owns its PEM strings until imago_proto_free()
 * (safe on a zeroed struct).  imago_proto_build() returns a malloc'd buffer
 * the caller frees.
 *
 * Errors: IMAGO_ETOOBIG (message or field too large), IMAGO_EMALFORMED (not
 * JSON / not an object / duplicate key), IMAGO_EPROTO_FIELD (a field missing,
 * unknown, mistyped or invalid), IMAGO_EPROTO_VERSION, IMAGO_ENOMEM.
 */
#ifndef IMAGO_PROTO_PROTO_H
#define IMAGO_PROTO_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define IMAGO_PROTO_MAX       16384
#define IMAGO_PROTO_PEM_MAX   8192
#define IMAGO_PROTO_ID_LEN    32
#define IMAGO_PROTO_NONCE_LEN 32
#define IMAGO_PROTO_CODE_MAX  47
#define IMAGO_PROTO_TEXT_MAX  199

enum imago_proto_type {
        IMAGO_PROTO_ENROL = 1,
        IMAGO_PROTO_ROTATE = 2,
        IMAGO_PROTO_CERT = 3,
        IMAGO_PROTO_ERROR = 4,
        IMAGO_PROTO_ROTATE_NOW = 5,
};

struct imago_proto_msg {
        enum imago_proto_type type;
        char id[IMAGO_PROTO_ID_LEN + 1];
        char nonce[IMAGO_PROTO_NONCE_LEN + 1];
        char *csr;                              /* ENROL, ROTATE */
        char *cert;                             /* CERT */
        char *chain;                            /* CERT */
        char code[IMAGO_PROTO_CODE_MAX + 1];    /* ERROR */
        char message[IMAGO_PROTO_TEXT_MAX + 1]; /* ERROR */
};

int imago_proto_parse(const uint8_t *buf, size_t len, struct imago_proto_msg *m);
int imago_proto_build(const struct imago_proto_msg *m, char **out, size_t *len);
void imago_proto_free(struct imago_proto_msg *m);

/* "enrol", "rotate", ...; NULL for an unknown type. */
const char *imago_proto_type_name(enum imago_proto_type t);

/*
 * Topic for a message type and device id into buf ("imago/v1/prov/<id>/req", ...).
 * ENROL, ROTATE and ROTATE_NOW have one topic each; CERT and ERROR go to the
 * answer topic of their request, so they are IMAGO_EINVAL here: use
 * imago_proto_resp_topic().  IMAGO_EINVAL also for an id that is not 32
 * lowercase hex or a buffer too small.
 */
int imago_proto_topic(enum imago_proto_type t, const char *id, char *buf, size_t size);

/* Answer topic of a request type (ENROL -> ".../prov/<id>/resp", ROTATE -> ".../rot/resp"). */
int imago_proto_resp_topic(enum imago_proto_type request, const char *id, char *buf, size_t size);

/*
 * Inverse of imago_proto_topic() for the request and rotate-now topics: the
 * message type a topic carries and its device id (id[IMAGO_PROTO_ID_LEN + 1]).
 * IMAGO_EPROTO_FIELD for any other topic (including a malformed id).
 */
int imago_proto_topic_parse(const char *topic, enum imago_proto_type *t, char *id);

/* Device ids are checked with imago_device_id_valid() (base/hex.h). */

#endif
