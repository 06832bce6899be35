/*
 * imago_audit: an append-only, hash-chained audit log in SQLite.
 *
 * Every security-relevant action becomes one record {seq, time, actor,
 * action, object, detail, prev_hash, hash}.  seq counts from 1 without gaps;
 * prev_hash is the hash of record seq-1 (32 zero bytes for seq 1); hash is
 * SHA-256 over a length-prefixed encoding of every field and prev_hash
 * (docs/audit.md defines it byte by byte; imago_audit_record_hash()
 * computes it).  The log lives in its own tables (audit_log and its schema
 * table audit_schema) so it can share a database file with the registry.
 *
 * Append is one BEGIN IMMEDIATE transaction that reads the last record and
 * inserts the next one: two writers (threads with their own handles, or
 * processes) never fork the chain.  Triggers refuse UPDATE and DELETE on
 * audit_log (defence in depth); the chain is the real check:
 * imago_audit_verify() walks it and reports the first record that does not
 * fit (edited, deleted, inserted or reordered records).  A truncated tail
 * leaves a valid shorter chain: it is only detected against a head
 * (seq, hash) kept outside the database (imago_audit_head()).  Whoever can
 * write the file can also recompute the whole chain; only a head kept
 * elsewhere detects that.
 *
 * Text fields: actor 1..IMAGO_AUDIT_ACTOR_MAX bytes, action
 * 1..IMAGO_AUDIT_ACTION_MAX, object 0..IMAGO_AUDIT_OBJECT_MAX, detail
 * 0..IMAGO_AUDIT_DETAIL_MAX (JSON text written by the caller; this module
 * does not parse it); no byte below 0x20 and no 0x7f (IMAGO_EINVAL).
 * Anything else (quotes, SQL, non-ASCII) is stored verbatim: every value is
 * a bound parameter.
 *
 * Ownership: imago_audit_open() allocates the handle, imago_audit_close()
 * frees it (NULL is fine).  A handle is used by one thread at a time.
 * Strings passed in are borrowed.  imago_audit_read() fills a caller-owned
 * record whose strings are malloc'd; release with imago_audit_record_free().
 *
 * Errors: IMAGO_EINVAL, IMAGO_ENOMEM, IMAGO_ENOTFOUND (no such record or no
 * such directory), IMAGO_EAUDIT_DB (SQLite failure, busy past the timeout,
 * or a write refused by the triggers), IMAGO_EAUDIT_SCHEMA (written by a
 * newer program), IMAGO_EAUDIT_CHAIN, IMAGO_EAUDIT_HEAD.
 */
#ifndef IMAGO_CLOUD_AUDIT_H
#define IMAGO_CLOUD_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#define IMAGO_AUDIT_HASH_LEN   32
#define IMAGO_AUDIT_ACTOR_MAX  128
#define IMAGO_AUDIT_ACTION_MAX 64
#define IMAGO_AUDIT_OBJECT_MAX 256
#define IMAGO_AUDIT_DETAIL_MAX 8192
#define IMAGO_AUDIT_BUSY_MS    5000

struct imago_audit;

struct imago_audit_record {
        uint64_t seq;
        int64_t time; /* unix seconds, as given to append */
        char *actor;
        char *action;
        char *object;
        char *detail;
        uint8_t prev_hash[IMAGO_AUDIT_HASH_LEN];
        uint8_t hash[IMAGO_AUDIT_HASH_LEN];
};

/* What verify found.  On IMAGO_EAUDIT_CHAIN/HEAD, bad_seq is the first record
 * (by position in the chain, counting from 1) that does not fit. */
struct imago_audit_report {
        uint64_t records;                   /* records that verified */
        uint64_t bad_seq;                   /* 0 when the chain is intact */
        uint8_t head[IMAGO_AUDIT_HASH_LEN]; /* hash of the last good record */
};

/* Open (create 0600 if absent) the SQLite file at path, WAL mode, and bring
 * the audit tables to the latest schema. */
int imago_audit_open(const char *path, struct imago_audit **out);
void imago_audit_close(struct imago_audit *a);

/* Append one record in one transaction; seq_out and hash_out may be NULL. */
int imago_audit_append(struct imago_audit *a, int64_t now, const char *actor, const char *action,
                       const char *object, const char *detail, uint64_t *seq_out,
                       uint8_t hash_out[IMAGO_AUDIT_HASH_LEN]);

/* The last record's seq and hash (0 and zeros for an empty log): keep them
 * somewhere else to detect a truncated or rewritten log later. */
int imago_audit_head(struct imago_audit *a, uint64_t *seq, uint8_t hash[IMAGO_AUDIT_HASH_LEN]);

/*
 * Walk the whole chain.  0 when intact (and, when head_hash != NULL, the
 * record head_seq exists and has that hash); IMAGO_EAUDIT_CHAIN at the
 * first broken record; IMAGO_EAUDIT_HEAD when the chain is intact but does
 * not reach or match the given head.  rep may be NULL.
 */
int imago_audit_verify(struct imago_audit *a, uint64_t head_seq,
                       const uint8_t head_hash[IMAGO_AUDIT_HASH_LEN],
                       struct imago_audit_report *rep);

/* Record seq (IMAGO_ENOTFOUND if absent). */
int imago_audit_read(struct imago_audit *a, uint64_t seq, struct imago_audit_record *rec);
void imago_audit_record_free(struct imago_audit_record *rec);

/* The hash of rec from its fields and prev_hash (rec->hash ignored). */
int imago_audit_record_hash(const struct imago_audit_record *rec,
                            uint8_t out[IMAGO_AUDIT_HASH_LEN]);

#endif
