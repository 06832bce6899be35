/*
 * imago_state: device state documents (a device shadow) and the device
 * channel messages of issue 5 that are not commands: state reports, their
 * acknowledgements, desired-state deltas, and registration.  Used by the
 * device library (src/device/app) and the cloud (src/cloud/devsvc).
 * docs/protocol.md ("State" and "Registration") is the contract.
 *
 * Documents: a JSON object of at most IMAGO_STATE_DOC_MAX bytes (compact
 * dump), at most IMAGO_STATE_DEPTH levels of objects, member names
 * [A-Za-z_][A-Za-z0-9_-]{0,63}, values: objects, strings, integers, reals,
 * booleans (null only inside a patch, where it deletes the member; arrays
 * are allowed as leaf values and compared whole).  An array counts as a
 * level like an object; its elements are values as above but never null;
 * strings hold no NUL.  Patches merge as RFC 7396 (JSON Merge Patch).
 *   reported: written only by the device; desired: written only by users.
 *   Each has a version (u64, starts at 0 when empty, +1 per accepted write).
 *   delta = members of desired whose value differs from reported (objects
 *   compared member-wise, recursively); only the delta travels to the device.
 *
 * Messages (JSON objects, every one with "v": 1; at most IMAGO_STATE_MSG_MAX bytes;
 * versions are JSON integers 0..INT64_MAX):
 *   report      device -> cloud  imago/v1/d/<id>/state/rep
 *               {"v":1,"version":N,"state":{patch}}   N = the reported version the patch
 *               applies to; N = 0 replaces the whole reported document (a device's first
 *               report after it connects: it is the sole writer of reported)
 *   ack         cloud -> device  imago/v1/d/<id>/state/ack
 *               {"v":1,"version":N,"accepted":true|false}  false: stale, N is the
 *               current version; the device re-sends its full state with version 0
 *   delta       cloud -> device  imago/v1/d/<id>/state/delta
 *               {"v":1,"version":D,"state":{delta}}   D = desired version
 *   register    device -> cloud  imago/v1/d/<id>/reg/req
 *               {"v":1,"nonce":"<32 hex>","token":"<compact JWE>"}
 *   registered  cloud -> device  imago/v1/d/<id>/reg/resp
 *               {"v":1,"nonce":"<32 hex>","result":"ok" | "<IMAGO_E name>"}
 * Parsers are strict (src/json: duplicate keys, unknown members, wrong types,
 * sizes refused).
 *
 * Ownership: json_t results are new references the caller json_decref()s;
 * parsed messages own their json_t (release with imago_state_msg_free, safe
 * on a zeroed struct); build functions return malloc'd NUL-terminated text.
 *
 * Errors: IMAGO_EINVAL, IMAGO_ENOMEM, IMAGO_ETOOBIG, IMAGO_EMALFORMED (not a
 * JSON object), IMAGO_EPROTO_FIELD (member missing, unknown, mistyped),
 * IMAGO_EPROTO_VERSION, IMAGO_ESTATE_DOC (a document breaking the rules above).
 */
#ifndef IMAGO_STATE_STATE_H
#define IMAGO_STATE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define IMAGO_STATE_DOC_MAX   8192
#define IMAGO_STATE_DEPTH     4
#define IMAGO_STATE_NAME_MAX  64
#define IMAGO_STATE_MSG_MAX   12288
#define IMAGO_STATE_TOKEN_MAX 2048

/* ---- documents (pure) ---- */

/* 0 if doc is an acceptable document (patch: nulls allowed as deletions). */
int imago_state_doc_check(const json_t *doc, int patch);
/* Apply patch to doc in place (null deletes, objects merge recursively, other values replace).
 * The result is checked; on error doc is unchanged. */
int imago_state_merge(json_t *doc, const json_t *patch);
/* New object: members of desired that differ from reported ({} when none). */
int imago_state_delta(const json_t *desired, const json_t *reported, json_t **out);
/* Parse a document from text (strict, size-limited); patch as for doc_check. */
int imago_state_doc_parse(const char *text, size_t len, int patch, json_t **out);
/* Compact text with sorted keys (malloc'd). */
int imago_state_doc_dump(const json_t *doc, char **out);

/* ---- messages ---- */

enum imago_state_msg_type {
        IMAGO_STATE_MSG_REPORT = 1,
        IMAGO_STATE_MSG_ACK = 2,
        IMAGO_STATE_MSG_DELTA = 3,
        IMAGO_STATE_MSG_REGISTER = 4,
        IMAGO_STATE_MSG_REGISTERED = 5,
};

struct imago_state_msg {
        enum imago_state_msg_type type;
        uint64_t version;                      /* REPORT, ACK, DELTA */
        int accepted;                          /* ACK */
        json_t *state;                         /* REPORT (patch), DELTA */
        char nonce[33];                        /* REGISTER, REGISTERED */
        char token[IMAGO_STATE_TOKEN_MAX + 1]; /* REGISTER (wipe after use) */
        char result[48];                       /* REGISTERED: "ok" or an IMAGO_E name */
};

/* Parse buf as a message of the given type (the topic tells the type). */
int imago_state_msg_parse(enum imago_state_msg_type type, const uint8_t *buf, size_t len,
                          struct imago_state_msg *out);
/* Build the message m (m->type chooses the members); *out malloc'd text. */
int imago_state_msg_build(const struct imago_state_msg *m, char **out, size_t *len);
/* Release m->state and wipe m->token. */
void imago_state_msg_free(struct imago_state_msg *m);

/* Topic suffixes below imago/v1/d/<id>/ */
#define IMAGO_STATE_T_REPORT     "state/rep"
#define IMAGO_STATE_T_ACK        "state/ack"
#define IMAGO_STATE_T_DELTA      "state/delta"
#define IMAGO_STATE_T_REGISTER   "reg/req"
#define IMAGO_STATE_T_REGISTERED "reg/resp"
#define IMAGO_STATE_T_CMD        "cmd"
#define IMAGO_STATE_T_CMD_RESULT "cmd/res"

#endif
