/*
 * imago_auth: user authentication for the fleet service's API.
 *
 * Four independent parts, all without I/O or a database (the caller stores
 * rows; docs/auth.md has the formats and the threat model):
 *
 *  - passwords: argon2id (libargon2) encoded hashes "$argon2id$v=19$m=..,t=..,
 *    p=..$salt$hash"; a stored hash is parsed strictly and its parameters
 *    bounded before any work, so a forged row cannot make a check take
 *    minutes or gigabytes; libargon2 compares in constant time; a minimum
 *    password policy.
 *  - throttling: a log-in limiter keyed by account and by client address,
 *    with the clock passed in (milliseconds); exponential delay after a few
 *    free failures, then a lockout window.
 *  - access tokens: "at1.<90 hex>.<64 hex>", HMAC-SHA256 with a 32-byte
 *    server secret over {version, token id, user id, roles, issued at,
 *    expiry}; parse and verify are strict and distinguish format, signature,
 *    not-yet-valid and expired.  Refresh tokens: "rt1.<64 hex>" (256 random
 *    bits); only their SHA-256 is stored; rotated on every use.
 *  - operator grants: a role per device group with an expiry;
 *    imago_auth_allowed() is a pure check.
 *
 * Ownership: everything is caller-owned except the throttle table
 * (imago_auth_throttle_new/free).  Secrets (passwords, the token secret,
 * refresh tokens) are borrowed, never copied beyond the call's stack, wiped
 * there, and never logged.  Functions are thread-safe except that one
 * throttle table is used by one thread at a time.
 *
 * Errors: IMAGO_EINVAL, IMAGO_ENOMEM, IMAGO_ECRYPTO, IMAGO_EAUTH_PASSWORD,
 * IMAGO_EAUTH_POLICY, IMAGO_EAUTH_HASH, IMAGO_EAUTH_THROTTLED,
 * IMAGO_EAUTH_TOKEN_FORMAT, IMAGO_EAUTH_TOKEN_SIG, IMAGO_EAUTH_TOKEN_EXPIRED,
 * IMAGO_EAUTH_TOKEN_NOTYET, IMAGO_EAUTH_REFRESH (and what a refresh store
 * callback returns).
 */
#ifndef IMAGO_CLOUD_AUTH_H
#define IMAGO_CLOUD_AUTH_H

#include <stddef.h>
#include <stdint.h>

/* ---- passwords ---------------------------------------------------------- */

#define IMAGO_AUTH_PASSWORD_MIN 12  /* bytes */
#define IMAGO_AUTH_PASSWORD_MAX 256 /* bytes */
#define IMAGO_AUTH_HASH_MAX     192 /* encoded hash, with its NUL */

struct imago_auth_argon2 {
        /* for new hashes, and for the dummy check of an unknown user */
        uint32_t t_cost;
        uint32_t m_kib;
        uint32_t lanes;
        /* the most a stored hash may ask for (IMAGO_EAUTH_HASH beyond) */
        uint32_t max_t_cost;
        uint32_t max_m_kib;
        uint32_t max_lanes;
};

/* t=2, m=19456 KiB, p=1 (OWASP's argon2id minimum); bounds t<=8, m<=262144, p<=4. */
void imago_auth_argon2_defaults(struct imago_auth_argon2 *p);

/*
 * 0 if pw (len bytes, may hold any byte but NUL) may be set as a password of
 * user (NULL: no user check): IMAGO_AUTH_PASSWORD_MIN..MAX bytes, not one
 * repeated byte, not the user name, not a well-known password.
 * IMAGO_EAUTH_POLICY otherwise.
 */
int imago_auth_password_policy(const char *user, const char *pw, size_t len);

/* Hash pw (policy not checked here) with a fresh 16-byte salt into out. */
int imago_auth_password_hash(const struct imago_auth_argon2 *p, const char *pw, size_t len,
                             char out[IMAGO_AUTH_HASH_MAX]);

/*
 * 0 if pw matches the stored encoded hash; IMAGO_EAUTH_PASSWORD if not;
 * IMAGO_EAUTH_HASH if encoded is malformed or asks for more than p's max_*.
 * encoded == NULL (no such user) costs a hash with p's parameters and gives
 * IMAGO_EAUTH_PASSWORD, so an unknown user is not told apart by timing.
 */
int imago_auth_password_verify(const struct imago_auth_argon2 *p, const char *encoded,
                               const char *pw, size_t len);

/* 1 if encoded (already verified) uses other parameters than p: rehash it. */
int imago_auth_password_needs_rehash(const struct imago_auth_argon2 *p, const char *encoded);

/* ---- log-in throttling -------------------------------------------------- */

struct imago_auth_throttle_cfg {
        uint32_t free_failures;    /* failures without delay */
        uint64_t base_delay_ms;    /* delay after the first failure past the free ones, doubling */
        uint64_t max_delay_ms;     /* cap of the doubling */
        uint32_t lockout_failures; /* at this many failures: locked for lockout_ms */
        uint64_t lockout_ms;
        uint64_t forget_ms; /* failures older than this (since the last one) are forgotten */
};

/* account: 3 free, 1 s doubling to 60 s, locked 15 min at 10, forgotten after 1 h;
 * address: 20 free, 1 s doubling to 60 s, locked 15 min at 100, forgotten after 1 h. */
void imago_auth_throttle_defaults(struct imago_auth_throttle_cfg *account,
                                  struct imago_auth_throttle_cfg *address);

struct imago_auth_throttle;

/* A table of at most capacity (account or address) entries; the least
 * recently failing one is forgotten when it is full. */
int imago_auth_throttle_new(const struct imago_auth_throttle_cfg *account,
                            const struct imago_auth_throttle_cfg *address, size_t capacity,
                            struct imago_auth_throttle **out);
void imago_auth_throttle_free(struct imago_auth_throttle *t);

/* Before checking a password: 0 to go on, IMAGO_EAUTH_THROTTLED (and
 * *retry_after_ms, may be NULL) if the account or the address is delayed or
 * locked.  account/address: any NUL-terminated strings (NULL: not keyed). */
int imago_auth_throttle_check(const struct imago_auth_throttle *t, const char *account,
                              const char *address, uint64_t now_ms, uint64_t *retry_after_ms);
/* After a wrong password (or an unknown account). */
void imago_auth_throttle_failure(struct imago_auth_throttle *t, const char *account,
                                 const char *address, uint64_t now_ms);
/* After a right password: the account's failures are forgotten (not the address's). */
void imago_auth_throttle_success(struct imago_auth_throttle *t, const char *account);

/* ---- access tokens ------------------------------------------------------ */

#define IMAGO_AUTH_SECRET_LEN    32
#define IMAGO_AUTH_TOKEN_ID_LEN  16
#define IMAGO_AUTH_TOKEN_LEN     159  /* "at1." + 90 hex + "." + 64 hex */
#define IMAGO_AUTH_TOKEN_TTL_MAX 3600 /* seconds */
#define IMAGO_AUTH_TOKEN_SKEW    60   /* seconds an issued-at may be ahead of now */

struct imago_auth_claims {
        uint8_t token_id[IMAGO_AUTH_TOKEN_ID_LEN];
        uint64_t user_id;  /* non-zero */
        uint32_t roles;    /* summary: bit (1 << role) for each role held in some group */
        int64_t issued_at; /* unix seconds */
        int64_t expires;   /* unix seconds, issued_at < expires <= issued_at + TTL_MAX */
};

/* New token for user_id/roles valid for ttl seconds (1..TTL_MAX) from now, with
 * a random token id (returned in claims_out, may be NULL). */
int imago_auth_token_issue(const uint8_t secret[IMAGO_AUTH_SECRET_LEN], uint64_t user_id,
                           uint32_t roles, int64_t now, int64_t ttl,
                           char out[IMAGO_AUTH_TOKEN_LEN + 1],
                           struct imago_auth_claims *claims_out);

/* Same with every claim given (tests, and the fuzz target's round trip). */
int imago_auth_token_encode(const uint8_t secret[IMAGO_AUTH_SECRET_LEN],
                            const struct imago_auth_claims *c, char out[IMAGO_AUTH_TOKEN_LEN + 1]);

/*
 * Parse and verify token (NUL-terminated, read at most LEN+1 bytes) in this
 * order: exact format (IMAGO_EAUTH_TOKEN_FORMAT), MAC in constant time
 * (IMAGO_EAUTH_TOKEN_SIG), claims (version, user id, lifetime:
 * IMAGO_EAUTH_TOKEN_FORMAT), issued-at not after now + SKEW
 * (IMAGO_EAUTH_TOKEN_NOTYET), now < expires (IMAGO_EAUTH_TOKEN_EXPIRED).
 * claims is written only on success.
 */
int imago_auth_token_verify(const uint8_t secret[IMAGO_AUTH_SECRET_LEN], const char *token,
                            int64_t now, struct imago_auth_claims *claims);

/* ---- refresh tokens ----------------------------------------------------- */

#define IMAGO_AUTH_REFRESH_LEN 68 /* "rt1." + 64 hex */

/* A new refresh token and the SHA-256 the caller stores (never the token). */
int imago_auth_refresh_new(char tok[IMAGO_AUTH_REFRESH_LEN + 1], uint8_t hash[32]);

/* SHA-256 of a presented token after a strict format check (IMAGO_EAUTH_TOKEN_FORMAT). */
int imago_auth_refresh_hash(const char *tok, uint8_t hash[32]);

/* The caller's storage of refresh-token hashes. */
struct imago_auth_refresh_store {
        /* Atomically remove (or mark used) the row of hash if it exists, is
         * unused and now < its expiry, returning its user; IMAGO_EAUTH_REFRESH
         * otherwise.  (SQL: DELETE ... WHERE hash = ? AND expires > ? RETURNING user_id.) */
        int (*consume)(void *arg, const uint8_t hash[32], int64_t now, uint64_t *user_id);
        /* Store a new row. */
        int (*put)(void *arg, const uint8_t hash[32], uint64_t user_id, int64_t expires);
        void *arg;
};

/* Rotation: consume the presented token, then issue and store a new one valid
 * ttl seconds.  The presented token never works again, even if storing the
 * new one fails (the user logs in again). */
int imago_auth_refresh_rotate(const struct imago_auth_refresh_store *s, const char *presented,
                              int64_t now, int64_t ttl, char new_tok[IMAGO_AUTH_REFRESH_LEN + 1],
                              uint64_t *user_id);

/* ---- operator roles ----------------------------------------------------- */

enum imago_auth_role {
        IMAGO_ROLE_VIEWER = 1,
        IMAGO_ROLE_OPERATOR = 2,
        IMAGO_ROLE_RELEASE_MANAGER = 3,
        IMAGO_ROLE_SECURITY_ADMIN = 4,
};

enum imago_auth_action {
        IMAGO_ACT_VIEW = 1,    /* devices, state: viewer operator release_manager security_admin */
        IMAGO_ACT_COMMAND = 2, /* send commands: operator */
        IMAGO_ACT_SET_STATE = 3,     /* desired state: operator */
        IMAGO_ACT_RELEASE = 4,       /* roll out firmware: release_manager */
        IMAGO_ACT_DECOMMISSION = 5,  /* revoke/decommission devices: security_admin */
        IMAGO_ACT_MANAGE_GRANTS = 6, /* grant and revoke roles: security_admin */
        IMAGO_ACT_READ_AUDIT = 7,    /* read the audit log: security_admin */
};

#define IMAGO_AUTH_GROUP_MAX 64

struct imago_auth_grant {
        enum imago_auth_role role;
        char group[IMAGO_AUTH_GROUP_MAX + 1]; /* 1..64 of [A-Za-z0-9._-], exact match */
        int64_t not_before;                   /* unix seconds */
        int64_t expires; /* unix seconds: works while not_before <= now < expires */
};

/* 1 if some grant in grants[0..n) is in force at now, for exactly group, with a
 * role that allows action; 0 otherwise (also for any invalid argument). */
int imago_auth_allowed(const struct imago_auth_grant *grants, size_t n, int64_t now,
                       const char *group, enum imago_auth_action action);

/* Bits (1 << role) of the roles in force at now in any group (token summary). */
uint32_t imago_auth_roles_summary(const struct imago_auth_grant *grants, size_t n, int64_t now);

/* "viewer", "operator", "release_manager", "security_admin"; NULL for others. */
const char *imago_auth_role_name(enum imago_auth_role role);
int imago_auth_role_from_name(const char *name, enum imago_auth_role *role);

/* 1 if s is a valid group name. */
int imago_auth_group_valid(const char *s);

#endif
