/*
 * imago_store: the device's encrypted secret store (Wi-Fi credentials,
 * tokens, certificates, configuration).  Format and protocol: docs/store.md.
 *
 * One store file stands for a flash partition of IMAGO_STORE_FILE_SIZE
 * bytes: two copies (regions A and B) of the whole record list, each a
 * 64-byte header followed by the AES-256-GCM ciphertext of the record list
 * and its tag.  The header (magic, version, sequence number, token serial,
 * IV, length) is the AAD.  Encryption runs inside the token (CKM_AES_GCM)
 * under a non-extractable AES-256 key labelled IMAGO_STORE_KEY_LABEL; a
 * token-held counter (IMAGO_STORE_COUNTER_LABEL) records the newest
 * committed sequence number.  One store per token.
 *
 * Updates (put, delete) write the whole new list into the older region,
 * fsync, then advance the counter: after a power cut at any point the file
 * holds the old or the new state.  open() picks the valid copy with the
 * highest sequence number; older than the counter is a rollback; exactly
 * one ahead is an update whose counter step was cut off, so it is accepted
 * and the counter advanced.
 *
 * Ownership and lifetimes:
 * - The caller owns the token context (imago_p11) and the ops table; both
 *   must outlive the store.  imago_store_open() allocates the store;
 *   imago_store_close() wipes and frees it.  Not thread-safe.
 * - The decrypted record list stays in memory while the store is open and
 *   is wiped on close and after each update.  Values are copied out; names
 *   and values are never logged.
 *
 * Errors (besides IMAGO_EINVAL, IMAGO_ENOMEM, IMAGO_EIO and the IMAGO_EP11_*
 * codes of the token):
 *   IMAGO_ENOTFOUND          no store file / no record of that name
 *   IMAGO_ETRUNC             store file shorter than IMAGO_STORE_FILE_SIZE
 *   IMAGO_ESTORE_FORMAT      not a store file (size, magic, version, header)
 *   IMAGO_ESTORE_AUTH        a copy fails authentication (tampered) and no
 *                            intact copy is current
 *   IMAGO_ESTORE_DEVICE      the file was written by another token/device
 *   IMAGO_ESTORE_ROLLBACK    newest intact copy older than the token counter
 *   IMAGO_ESTORE_NOKEY       the token holds no store key or counter
 *   IMAGO_ESTORE_ERASED      the file is all zeros (decommissioned)
 *   IMAGO_ESTORE_CORRUPT     no usable copy for another reason
 *   IMAGO_ESTORE_RECORD_SIZE value larger than IMAGO_STORE_VALUE_MAX
 *   IMAGO_ESTORE_FULL        too many records or bytes
 *   IMAGO_EEXIST             imago_store_create() on a token with a store
 *   IMAGO_ETOOBIG            imago_store_get() buffer too small (*len set)
 * A failed put or delete leaves the store open and usable in its old state;
 * like a power cut, it may still have reached the file (see docs/store.md).
 */
#ifndef IMAGO_DEVICE_STORE_H
#define IMAGO_DEVICE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/p11/p11.h"

#define IMAGO_STORE_NAME_MAX    64
#define IMAGO_STORE_VALUE_MAX   4096
#define IMAGO_STORE_RECORDS_MAX 64
#define IMAGO_STORE_REGION_SIZE 32768
#define IMAGO_STORE_FILE_SIZE   (2 * IMAGO_STORE_REGION_SIZE)
#define IMAGO_STORE_HDR_LEN     64
#define IMAGO_STORE_TAG_LEN     16
#define IMAGO_STORE_PAYLOAD_MAX                                                                    \
        (IMAGO_STORE_REGION_SIZE - IMAGO_STORE_HDR_LEN - IMAGO_STORE_TAG_LEN)
#define IMAGO_STORE_WRITE_CHUNK   4096 /* one pwrite, like one flash page program */
#define IMAGO_STORE_VERSION       1
#define IMAGO_STORE_MAGIC         "IMAGOSTR"
#define IMAGO_STORE_KEY_LABEL     "imago-store-key"
#define IMAGO_STORE_COUNTER_LABEL "imago-store-counter"

enum imago_store_type {
        IMAGO_STORE_BLOB = 1,
        IMAGO_STORE_WIFI = 2,
        IMAGO_STORE_TOKEN = 3,
        IMAGO_STORE_CERT = 4,
        IMAGO_STORE_CONFIG = 5,
};

/*
 * File I/O.  Each function returns IMAGO_OK or a negative IMAGO_E* code.
 * open returns a descriptor >= 0 (create: make or truncate the file, mode
 * 0600); pread stores in *got the bytes read (fewer than n only at end of
 * file); pwrite writes all n bytes or fails.  arg is passed to each call.
 * Tests substitute a double that fails or cuts power at the Nth write.
 */
struct imago_store_ops {
        int (*open)(void *arg, const char *path, int create);
        int (*pread)(void *arg, int fd, void *buf, size_t n, uint64_t off, size_t *got);
        int (*pwrite)(void *arg, int fd, const void *buf, size_t n, uint64_t off);
        int (*fsync)(void *arg, int fd);
        void (*close)(void *arg, int fd);
        void *arg;
};

/* POSIX implementation (open/pread/pwrite/fsync/close). */
const struct imago_store_ops *imago_store_posix_ops(void);

struct imago_store;

/*
 * Make a new, empty store: generate the key and counter in the token and
 * write the file.  IMAGO_EEXIST if the token already holds a store key.
 */
int imago_store_create(const char *path, struct imago_p11 *tok, const struct imago_store_ops *ops);

int imago_store_open(const char *path, struct imago_p11 *tok, const struct imago_store_ops *ops,
                     struct imago_store **out);
void imago_store_close(struct imago_store *s);

/*
 * Copy the value of name into buf (cap bytes): *len is its length, *type
 * its type (type may be NULL).  IMAGO_ETOOBIG (with *len set) if cap is short.
 */
int imago_store_get(struct imago_store *s, const char *name, uint8_t *type, uint8_t *buf,
                    size_t cap, size_t *len);
/* Add or replace a record.  Names are 1..64 printable ASCII bytes (0x21-0x7e). */
int imago_store_put(struct imago_store *s, const char *name, uint8_t type, const uint8_t *value,
                    size_t len);
int imago_store_delete(struct imago_store *s, const char *name);

/* Number of records and, by index (sorted by name), one record's name, type, length. */
size_t imago_store_count(const struct imago_store *s);
int imago_store_entry(const struct imago_store *s, size_t i, char name[IMAGO_STORE_NAME_MAX + 1],
                      uint8_t *type, size_t *len);
/* Sequence number of the current copy. */
uint64_t imago_store_seq(const struct imago_store *s);

/*
 * Cryptographic erase: destroy the store key and counter in the token, then
 * overwrite the file with zeros.  The store must not be open.  Afterwards
 * open gives IMAGO_ESTORE_ERASED (or IMAGO_ESTORE_NOKEY for a saved copy of
 * the file, which can never be decrypted again).
 */
int imago_store_decommission(const char *path, struct imago_p11 *tok,
                             const struct imago_store_ops *ops);

/* --- pure parsers (no token, no I/O), also used by the fuzz target --- */

struct imago_store_hdr {
        uint64_t seq;
        uint8_t device[IMAGO_P11_SERIAL_LEN];
        uint8_t iv[IMAGO_P11_GCM_IV_LEN];
        uint32_t ct_len;
};

/*
 * Parse the header at the start of a region of len bytes and check that
 * the ciphertext and tag fit in it.  IMAGO_ETRUNC if len < header,
 * IMAGO_ESTORE_FORMAT for a bad magic, version, length, flags, reserved
 * bytes, zero sequence number, or ct_len past the region.
 */
int imago_store_hdr_parse(struct imago_store_hdr *h, const uint8_t *buf, size_t len);
void imago_store_hdr_encode(const struct imago_store_hdr *h, uint8_t out[IMAGO_STORE_HDR_LEN]);

/* 1 if all len bytes are zero (an erased region). */
int imago_store_is_erased(const uint8_t *buf, size_t len);

struct imago_store_entry {
        uint32_t name_off;
        uint32_t value_off;
        uint16_t value_len;
        uint8_t name_len;
        uint8_t type;
};

struct imago_store_index {
        size_t n;
        struct imago_store_entry e[IMAGO_STORE_RECORDS_MAX];
};

/*
 * Parse a decrypted record list: u16le count, then per record u8 name_len,
 * u8 type, u16le value_len, name, value.  Offsets in ix are into buf.
 * Strict: IMAGO_ETRUNC, IMAGO_ETOOBIG (count or value too large),
 * IMAGO_EMALFORMED (bad name, type, names not strictly ascending),
 * IMAGO_ETRAILING.  ix is left empty on error.
 */
int imago_store_records_parse(struct imago_store_index *ix, const uint8_t *buf, size_t len);

/* Name check for put/delete/get: 1..64 bytes of 0x21..0x7e. */
int imago_store_name_ok(const uint8_t *name, size_t len);

#endif
