/*
 * imago_appdb: the app-facing data of imago-cloud in SQLite (DIR/app.db, WAL,
 * 0600): users, refresh tokens, revoked access tokens, operator grants,
 * device ownership, redeemed registration-token nonces, state documents and
 * commands.  No HTTP, no JSON parsing: documents and arguments are stored as
 * the text the caller gives (already checked by src/state).  Every function
 * is one transaction; writes that depend on a read are conditional updates
 * (stale versions refused), so two processes on one file stay consistent.
 * docs/appdb.md lists the tables.
 *
 * Values are checked before any SQL (IMAGO_EINVAL): user names 1..64 of
 * [A-Za-z0-9_.@-] (imago_regtoken_user_valid), device ids 32 lowercase hex,
 * groups as imago_auth_group_valid, texts without NUL within the limits
 * below; everything is a bound parameter.
 *
 * Ownership: open allocates the handle, close frees it (NULL fine); one
 * thread per handle.  The handle keeps its prepared statements (reset after
 * every call, finalized by close).  A list callback must not call into the
 * same handle (its transaction is open: IMAGO_EREG_DB).  Strings passed in
 * are borrowed; returned records are caller-owned structs, strings inside
 * them malloc'd and released by the matching *_free (safe on zeroed
 * structs).  Password hashes are not secrets in the usual sense but are
 * never logged.
 *
 * Functions that name a user (refresh_put, grant_add, bind) return
 * IMAGO_ENOTFOUND for an unknown user id.  Grants need not_before < expires.
 *
 * Errors: IMAGO_EINVAL, IMAGO_ENOMEM, IMAGO_ENOTFOUND, IMAGO_EEXIST,
 * IMAGO_ESTATE_VERSION (conditional update lost), IMAGO_EAPI_BOUND,
 * IMAGO_EREG_DB (SQLite failure or busy past 5 s), IMAGO_EREG_SCHEMA
 * (database from a newer program).
 */
#ifndef IMAGO_CLOUD_APPDB_H
#define IMAGO_CLOUD_APPDB_H

#include <stddef.h>
#include <stdint.h>

#define IMAGO_APPDB_USER_MAX 64
#define IMAGO_APPDB_TEXT_MAX 16384 /* documents, args, results */

struct imago_appdb;

int imago_appdb_open(const char *path, struct imago_appdb **out);
void imago_appdb_close(struct imago_appdb *db);

/* ---- users ---- */
struct imago_appdb_user {
        uint64_t id; /* >= 1 */
        char name[IMAGO_APPDB_USER_MAX + 1];
        char pw_hash[192]; /* argon2id encoded */
        int64_t created;
};
/* IMAGO_EEXIST if the name is taken. */
int imago_appdb_user_add(struct imago_appdb *db, const char *name, const char *pw_hash, int64_t now,
                         uint64_t *id);
int imago_appdb_user_by_name(struct imago_appdb *db, const char *name, struct imago_appdb_user *u);
int imago_appdb_user_get(struct imago_appdb *db, uint64_t id, struct imago_appdb_user *u);
int imago_appdb_user_set_hash(struct imago_appdb *db, uint64_t id, const char *pw_hash);
/* Users in id order; cb non-zero stops (returned). */
int imago_appdb_user_list(struct imago_appdb *db,
                          int (*cb)(const struct imago_appdb_user *u, void *arg), void *arg);

/* ---- refresh tokens (only SHA-256 hashes) and revoked access tokens ---- */
int imago_appdb_refresh_put(struct imago_appdb *db, const uint8_t hash[32], uint64_t user,
                            int64_t expires);
/* Delete the row if present and unexpired; *user gets its user; IMAGO_EAUTH_REFRESH otherwise. */
int imago_appdb_refresh_consume(struct imago_appdb *db, const uint8_t hash[32], int64_t now,
                                uint64_t *user);
/* Logout everywhere: every refresh token of user. */
int imago_appdb_refresh_drop_user(struct imago_appdb *db, uint64_t user);
int imago_appdb_token_revoke(struct imago_appdb *db, const uint8_t token_id[16], int64_t expires);
/* 1 if revoked, 0 if not, <0 error. */
int imago_appdb_token_revoked(struct imago_appdb *db, const uint8_t token_id[16]);
/* Forget refresh tokens and revoked access tokens with expires <= now. */
int imago_appdb_prune_tokens(struct imago_appdb *db, int64_t now);

/* ---- operator grants (roles: enum imago_auth_role values) ---- */
struct imago_appdb_grant {
        uint64_t id;
        uint64_t user;
        int role;
        char group[65];
        int64_t not_before, expires;
        uint64_t granted_by;
};
int imago_appdb_grant_add(struct imago_appdb *db, const struct imago_appdb_grant *g, uint64_t *id);
int imago_appdb_grant_delete(struct imago_appdb *db, uint64_t id);
int imago_appdb_grant_get(struct imago_appdb *db, uint64_t id, struct imago_appdb_grant *g);
/* user 0: every grant. */
int imago_appdb_grant_list(struct imago_appdb *db, uint64_t user,
                           int (*cb)(const struct imago_appdb_grant *g, void *arg), void *arg);

/* ---- ownership ---- */
/* Bind device to user: 0 (also when already bound to the same user), IMAGO_EAPI_BOUND when
 * bound to another. */
int imago_appdb_bind(struct imago_appdb *db, const char *device, uint64_t user, int64_t now);
/* *user = owner or 0. */
int imago_appdb_owner(struct imago_appdb *db, const char *device, uint64_t *user);
/* Idempotent. */
int imago_appdb_unbind(struct imago_appdb *db, const char *device);
int imago_appdb_owned(struct imago_appdb *db, uint64_t user,
                      int (*cb)(const char *device, int64_t bound_at, void *arg), void *arg);

/* ---- registration-token nonces (struct imago_regtoken_replay.claim_nonce, arg = db) ---- */
int imago_appdb_claim_nonce(void *db, const char *nonce, int64_t expiry);
/* The same, recording the device that redeems: a second claim by the same device is not a replay
 * (its retry after a lost answer): 0 with *again = 1; by another device IMAGO_EEXIST. */
int imago_appdb_claim_nonce_dev(struct imago_appdb *db, const char *nonce, int64_t expiry,
                                const char *device, int *again);
int imago_appdb_prune_nonces(struct imago_appdb *db, int64_t now);

/* ---- state documents ---- */
struct imago_appdb_state {
        char *reported; /* JSON text, "{}" when none */
        uint64_t reported_version;
        int64_t reported_at;
        char *desired;
        uint64_t desired_version;
        int64_t desired_at;
};
/* Never IMAGO_ENOTFOUND: an unknown device has empty documents at version 0. */
int imago_appdb_state_get(struct imago_appdb *db, const char *device, struct imago_appdb_state *st);
void imago_appdb_state_free(struct imago_appdb_state *st);
/* Write a document if its version is still expected (then it becomes expected + 1, returned
 * in *version); IMAGO_ESTATE_VERSION otherwise (*version = the current one). */
int imago_appdb_state_put_reported(struct imago_appdb *db, const char *device, uint64_t expected,
                                   const char *doc, int64_t now, uint64_t *version);
int imago_appdb_state_put_desired(struct imago_appdb *db, const char *device, uint64_t expected,
                                  const char *doc, int64_t now, uint64_t *version);
/* Decommission: both documents gone (versions keep counting). */
int imago_appdb_state_clear(struct imago_appdb *db, const char *device);

/* ---- commands ---- */
enum imago_appdb_cmd_status {
        IMAGO_APPDB_CMD_SENT = 0,
        IMAGO_APPDB_CMD_OK = 1,
        IMAGO_APPDB_CMD_FAILED = 2,
        IMAGO_APPDB_CMD_REJECTED = 3,
        IMAGO_APPDB_CMD_UNKNOWN = 4, /* the device has no such handler */
        IMAGO_APPDB_CMD_EXPIRED = 5, /* no result before exp (set when read after exp) */
};
struct imago_appdb_cmd {
        uint64_t id; /* global, >= 1 */
        char device[33];
        uint64_t seq; /* per device, strictly increasing from 1 */
        uint64_t user;
        char name[33];
        char *args; /* JSON text */
        int64_t iat, exp;
        enum imago_appdb_cmd_status status;
        char *result; /* JSON text or NULL */
        int64_t done_at;
};
/* Allocate the next sequence number of device and record the command as SENT.  args NULL is
 * stored as "{}"; name as imago_cmdenv_name_valid; iat < exp.  Sequence numbers are never
 * reused (also after state_clear/unbind). */
int imago_appdb_cmd_new(struct imago_appdb *db, const char *device, uint64_t user, const char *name,
                        const char *args, int64_t iat, int64_t exp, uint64_t *id, uint64_t *seq);
/* Record a result once (a second result for the same command: IMAGO_EEXIST; unknown
 * (device, seq): IMAGO_ENOTFOUND); *id gets the command id. */
int imago_appdb_cmd_result(struct imago_appdb *db, const char *device, uint64_t seq,
                           enum imago_appdb_cmd_status status, const char *result, int64_t now,
                           uint64_t *id);
/* A command still SENT at or after its exp becomes EXPIRED (stored) when read; a result arriving
 * later is then IMAGO_EEXIST.  cmd_get reads at time(NULL), cmd_get_at at now (injected clocks).
 * The read takes no write lock; only when it finds a command to expire is it discarded and the call
 * repeated in one write transaction (expire, then read), which gives the answer. */
int imago_appdb_cmd_get(struct imago_appdb *db, uint64_t id, struct imago_appdb_cmd *c);
int imago_appdb_cmd_get_at(struct imago_appdb *db, uint64_t id, int64_t now,
                           struct imago_appdb_cmd *c);
void imago_appdb_cmd_free(struct imago_appdb_cmd *c);
const char *imago_appdb_cmd_status_name(enum imago_appdb_cmd_status s);

#endif
