/*
 * imago_tuf: the TUF 1.0 core (The Update Framework specification 1.0.x), no I/O.
 *
 * What it does: canonical JSON (securesystemslib's encode_canonical), TUF key
 * objects and key ids for imago keys (ed25519, ecdsa-sha2-nistp256), signing
 * and threshold verification, strict parsing of root / timestamp / snapshot /
 * targets metadata (delegations included) into structs, the trusted-set update
 * rules of the specification's client workflow (5.3 root, 5.4 timestamp,
 * 5.5 snapshot, 5.6 targets and delegated targets) as functions over bytes, and
 * the target search through delegations (preorder depth-first, visited set,
 * maximum depth, terminating, paths and path_hash_prefixes).  The caller
 * (src/tuf/client) fetches bytes, persists what the trusted set accepted, and
 * downloads targets; this module never touches files or the network.
 *
 * Keys understood (others are parsed, kept and never counted toward a
 * threshold):
 *   {"keytype":"ed25519","scheme":"ed25519","keyval":{"public":"<64 hex>"}}
 *       signature: hex of the 64-byte pure Ed25519 signature of the bytes;
 *   {"keytype":"ecdsa" or "ecdsa-sha2-nistp256","scheme":"ecdsa-sha2-nistp256",
 *    "keyval":{"public":"<PEM SubjectPublicKeyInfo, P-256>"}}
 *       signature: hex of the DER ECDSA signature over SHA-256 of the bytes.
 * The bytes signed are the canonical JSON of the "signed" object.
 *
 * Threshold counting: a key counts once however many signatures name it and
 * however often a role lists it; signatures whose keyid is not listed by the
 * role, whose key type/scheme is unsupported, or that do not verify count for
 * nothing (they are not an error by themselves).
 *
 * Ownership: struct imago_tuf_meta owns its parsed document; every string and
 * array pointer inside it is borrowed from it and lives until
 * imago_tuf_meta_free().  struct imago_tuf_trusted owns the metadata it has
 * accepted; pointers it hands out (roles, targets) live until the next update
 * of the same role or imago_tuf_trusted_free().  json_t results of the
 * signing-side helpers are new references the caller json_decref()s; char
 * buffers from imago_tuf_cjson() are free()d by the caller.
 *
 * Errors (negative, base/err.h): IMAGO_EINVAL (NULL or bad arguments),
 * IMAGO_ENOMEM, IMAGO_ETOOBIG (bytes over the role's size limit, or more
 * keys/signatures/delegations/targets than the limits), IMAGO_ETUF_FORMAT
 * (not TUF metadata of the expected type: JSON, field types, _type,
 * spec_version, expires, version, floats, ...), IMAGO_ETUF_THRESHOLD (not
 * enough valid signatures), IMAGO_ETUF_EXPIRED, IMAGO_ETUF_ROLLBACK (version
 * lower than the trusted one, or a role listed by the trusted snapshot
 * missing or lower in the new one), IMAGO_ETUF_HASH, IMAGO_ETUF_LENGTH,
 * IMAGO_ETUF_CONSISTENCY (version differs from the one the referring metadata
 * states: mix-and-match; root version not trusted+1), IMAGO_ETUF_DELEGATION
 * (role not delegated by the named delegator, or delegation search past its
 * bounds), IMAGO_ETUF_NOTARGET (no role delegated for the path lists it),
 * IMAGO_ESTATE (an update out of order: e.g. snapshot before timestamp, root
 * after timestamp), IMAGO_ECRYPTO (backend failure), IMAGO_EKEY_FORMAT
 * (signing with a key that is not ed25519 or P-256).
 *
 * Memory bound: one parsed document is at most its size limit of JSON text
 * (defaults below; jansson's tree is a small multiple of the text) plus
 * arrays of at most max_keys keys, max_sigs signatures, max_delegations
 * delegations, max_targets targets.  A trusted set holds at most root +
 * timestamp + snapshot + targets + max_loaded_roles delegated targets.
 */
#ifndef IMAGO_TUF_TUF_H
#define IMAGO_TUF_TUF_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/crypto.h"
#include "crypto/keys.h"

/* ---- limits ------------------------------------------------------------------------------- */

#define IMAGO_TUF_ROOT_MAX       (512u * 1024u)
#define IMAGO_TUF_TIMESTAMP_MAX  (16u * 1024u)
#define IMAGO_TUF_SNAPSHOT_MAX   (2u * 1024u * 1024u)
#define IMAGO_TUF_TARGETS_MAX    (16u * 1024u * 1024u)
#define IMAGO_TUF_KEYID_MAX      128  /* characters of a key id (sha256: 64, sha512: 128) */
#define IMAGO_TUF_ROLE_NAME_MAX  255  /* bytes of a (delegated) role name */
#define IMAGO_TUF_HASHES_MAX     4    /* hash entries per file (sha224/256/384/512) */
#define IMAGO_TUF_HASH_MAX_LEN   64   /* bytes of the longest supported digest */
#define IMAGO_TUF_MAX_ROOT_STEPS 256  /* root versions a client follows in one refresh (5.3.3) */
#define IMAGO_TUF_PATH_PART_MAX  1024 /* bytes of one "/" part of a target path or pattern */

struct imago_tuf_limits {
        size_t root_max;          /* bytes of root metadata */
        size_t timestamp_max;     /* bytes of timestamp metadata */
        size_t snapshot_max;      /* bytes of snapshot metadata (also when its length is unknown) */
        size_t targets_max;       /* bytes of targets / delegated targets metadata */
        unsigned max_keys;        /* keys in root or in one delegations object (default 64) */
        unsigned max_sigs;        /* signatures on one document (default 64) */
        unsigned max_keyids;      /* keyids of one role (default 64) */
        unsigned max_delegations; /* delegated roles in one targets document (default 256) */
        unsigned max_paths;       /* paths or prefixes of one delegation (default 1024) */
        unsigned max_targets;     /* targets in one targets document (default 100000) */
        unsigned max_meta;        /* entries in snapshot meta (default 10000) */
        unsigned max_depth;       /* delegation depth below top-level targets (default 8) */
        unsigned max_visits;      /* roles visited by one target search (default 32) */
        unsigned
            max_loaded_roles; /* delegated targets documents a trusted set keeps (default 32) */
};

/* The defaults above. */
void imago_tuf_limits_default(struct imago_tuf_limits *l);

/* ---- signing side: keys, canonical JSON, signatures over json_t -------------------------- */

/* Canonical JSON as securesystemslib's encode_canonical (the bytes TUF signs): object keys
 * sorted by bytes, no whitespace, strings with only '"' and '\\' escaped (other bytes raw,
 * UTF-8 as is), integers only (a real is IMAGO_ETUF_FORMAT), true/false/null.  *out is a
 * NUL-terminated malloc'd buffer of *len bytes (NUL not counted). */
int imago_tuf_cjson(const json_t *v, char **out, size_t *len);

/* Key object {"keytype","scheme","keyval":{"public"}} of an imago key (ed25519: hex;
 * ecdsa P-256: keytype "ecdsa", scheme "ecdsa-sha2-nistp256", PEM). */
int imago_tuf_key_public(const struct imago_privkey *k, json_t **key);
int imago_tuf_key_from_pub(const struct imago_pubkey *k, json_t **key);

/* Key id: lowercase hex SHA-256 of the canonical JSON of the key object. */
int imago_tuf_keyid(const json_t *key, char out[65]);

/* Signature object {"keyid","sig"} over the canonical JSON of signed_obj (ed25519: pure
 * Ed25519 of the bytes; ecdsa-sha2-nistp256: ECDSA over SHA-256 of the bytes, DER, hex). The
 * keyid is imago_tuf_keyid() of imago_tuf_key_public(k). */
int imago_tuf_sign(const struct imago_privkey *k, const json_t *signed_obj, json_t **sig);

/* Count distinct authorised keys with a valid signature.  keys: object keyid -> key object;
 * keyids: array of the role's key ids.  *valid (may be NULL) receives the count; returns
 * IMAGO_ETUF_THRESHOLD when below threshold (threshold 0 is IMAGO_EINVAL). */
int imago_tuf_verify_threshold(const json_t *signed_obj, const json_t *signatures,
                               const json_t *keys, const json_t *keyids, unsigned threshold,
                               unsigned *valid);

/* ---- parsed metadata ------------------------------------------------------------------------ */

enum imago_tuf_type {
        IMAGO_TUF_ROOT = 1,
        IMAGO_TUF_TIMESTAMP = 2,
        IMAGO_TUF_SNAPSHOT = 3,
        IMAGO_TUF_TARGETS = 4, /* top-level or delegated */
};

/* One public key of a keys object.  type is IMAGO_KEY_NONE for a key type or scheme this module
 * does not support (kept so the document parses; never counted). */
struct imago_tuf_key {
        const char *keyid;
        enum imago_key_type type;
        struct imago_pubkey pub;
};

/* Hashes of a file: alg is "sha224", "sha256", "sha384", "sha512" or anything else (kept;
 * a file whose hashes name an unsupported algorithm never verifies, as in python-tuf). */
struct imago_tuf_hash {
        const char *alg;
        const char *hex; /* as written (hex) */
};

struct imago_tuf_hashes {
        struct imago_tuf_hash h[IMAGO_TUF_HASHES_MAX];
        size_t n; /* 0 when absent */
};

/* A role's keys and threshold (root roles, delegated roles). */
struct imago_tuf_role {
        const char *name;
        const char **keyids; /* distinct ids (a repeated id is kept once) */
        size_t n_keyids;
        uint64_t threshold; /* >= 1 */
};

/* A delegation of a targets document; exactly one of paths / prefixes is set (n > 0 or the
 * empty array: an empty array delegates nothing). */
struct imago_tuf_delegation {
        struct imago_tuf_role role;
        int terminating;
        int has_paths; /* 1: paths; 0: path_hash_prefixes */
        const char **paths;
        size_t n_paths;
        const char **prefixes;
        size_t n_prefixes;
};

/* An entry of meta (timestamp: "snapshot.json"; snapshot: "targets.json", "<role>.json"). */
struct imago_tuf_metafile {
        const char *name;
        uint64_t version; /* >= 1 */
        int has_length;
        uint64_t length; /* > 0 when present */
        struct imago_tuf_hashes hashes;
};

struct imago_tuf_target {
        const char *name;
        uint64_t length;
        struct imago_tuf_hashes hashes; /* n >= 1 */
        json_t *custom;                 /* borrowed, NULL when absent */
};

struct imago_tuf_meta {
        enum imago_tuf_type type;
        json_t *doc;        /* owned: the whole {"signed","signatures"} document */
        json_t *signed_obj; /* borrowed from doc */
        json_t *signatures; /* borrowed from doc */
        char *canonical;    /* owned: canonical JSON of signed_obj (the bytes signed) */
        size_t canonical_len;
        uint64_t version;
        int64_t expires; /* seconds since the epoch (UTC) */
        const char *spec_version;
        /* root, and targets' delegations: keys (n_keys 0 when absent) */
        struct imago_tuf_key *keys;
        size_t n_keys;
        /* root: roles[0..3] = root, timestamp, snapshot, targets */
        int consistent_snapshot;
        struct imago_tuf_role roles[4];
        /* timestamp: meta["snapshot.json"]; snapshot: meta entries */
        struct imago_tuf_metafile *meta;
        size_t n_meta;
        /* targets */
        struct imago_tuf_target *targets;
        size_t n_targets;
        int has_delegations;
        struct imago_tuf_delegation *delegations;
        size_t n_delegations;
};

/* Index of roles[] in root. */
enum {
        IMAGO_TUF_ROLE_ROOT = 0,
        IMAGO_TUF_ROLE_TIMESTAMP = 1,
        IMAGO_TUF_ROLE_SNAPSHOT = 2,
        IMAGO_TUF_ROLE_TARGETS = 3,
};

/* Strict parse of type's metadata (no signature check).  Refuses: over the role's size limit
 * (IMAGO_ETOOBIG), anything but {"signed","signatures"}, wrong _type, spec_version not 1.x[.y],
 * expires not YYYY-MM-DDTHH:MM:SSZ, version < 1, reals anywhere, duplicate object keys, keys
 * missing or of the wrong JSON type, a delegation with both or neither of paths /
 * path_hash_prefixes, duplicate delegated role names, counts over the limits.  Unknown fields
 * inside "signed" are kept (they are signed; TUF allows them).  *m is zeroed first. */
int imago_tuf_meta_parse(enum imago_tuf_type type, const uint8_t *buf, size_t len,
                         const struct imago_tuf_limits *lim, struct imago_tuf_meta *m);

/* Safe on a zeroed struct; leaves it zeroed. */
void imago_tuf_meta_free(struct imago_tuf_meta *m);

/* The key with this id in a root or targets document's keys (NULL if absent or unsupported). */
const struct imago_tuf_key *imago_tuf_meta_key(const struct imago_tuf_meta *keys_holder,
                                               const char *keyid);

/* Verify m's signatures for role (keyids, threshold) with the keys of keys_holder (a root, or
 * the delegating targets document).  *valid may be NULL. 0 or IMAGO_ETUF_THRESHOLD. */
int imago_tuf_meta_verify(const struct imago_tuf_meta *m, const struct imago_tuf_meta *keys_holder,
                          const struct imago_tuf_role *role, unsigned *valid);

/* Check bytes against a length (if has_length) and hashes (every listed hash must be
 * supported and match).  IMAGO_ETUF_LENGTH / IMAGO_ETUF_HASH. */
int imago_tuf_check_file(const uint8_t *buf, size_t len, int has_length, uint64_t length,
                         const struct imago_tuf_hashes *hashes);

/* Streaming check of a target file (for downloads): init, update chunks, final.  update
 * refuses (IMAGO_ETUF_LENGTH) as soon as more than length bytes are fed (endless data). final
 * checks the exact length and every hash.  abort releases without checking; safe on zeroed. */
struct imago_tuf_filecheck {
        void *md[IMAGO_TUF_HASHES_MAX];
        size_t n;
        uint64_t length, seen;
        const struct imago_tuf_hashes *hashes; /* borrowed */
        int bad;
};
int imago_tuf_filecheck_init(struct imago_tuf_filecheck *c, const struct imago_tuf_target *t);
int imago_tuf_filecheck_update(struct imago_tuf_filecheck *c, const uint8_t *buf, size_t len);
int imago_tuf_filecheck_final(struct imago_tuf_filecheck *c);
void imago_tuf_filecheck_abort(struct imago_tuf_filecheck *c);

/* 1 if target path matches a delegation (paths: each pattern split at '/', same number of
 * parts, each part fnmatch-like with * ? [..] as Python's fnmatch; prefixes: hex SHA-256 of
 * the path starts with one of them), else 0. */
int imago_tuf_delegation_matches(const struct imago_tuf_delegation *d, const char *path);

/* Parse "YYYY-MM-DDTHH:MM:SSZ" into seconds since the epoch. IMAGO_ETUF_FORMAT. */
int imago_tuf_time_parse(const char *s, int64_t *out);

/* ---- trusted set: the client workflow's update rules (spec 5.3-5.6, as python-tuf) -------- */

struct imago_tuf_loaded; /* private: a delegated targets document with its name */

struct imago_tuf_trusted {
        struct imago_tuf_limits limits;
        struct imago_tuf_meta root;
        struct imago_tuf_meta timestamp; /* type 0 when not loaded */
        struct imago_tuf_meta snapshot;
        struct imago_tuf_meta targets;
        struct imago_tuf_loaded *loaded; /* delegated targets, by role name */
        size_t n_loaded;
};

/* Start from a trusted root (the one shipped or persisted): it must verify with its own root
 * role threshold.  Its expiry is not checked here (5.3.10 is checked when the timestamp is
 * first updated).  lim may be NULL (defaults). */
int imago_tuf_trusted_init(struct imago_tuf_trusted *t, const uint8_t *root, size_t len,
                           const struct imago_tuf_limits *lim);
void imago_tuf_trusted_free(struct imago_tuf_trusted *t);

/* 5.3.4-5.3.9: new root (version N+1) signed by a threshold of the trusted root's root role AND
 * of its own root role; version must be trusted+1 (lower/equal: IMAGO_ETUF_ROLLBACK; higher:
 * IMAGO_ETUF_CONSISTENCY).  Expiry is not checked (intermediate roots may be expired).
 * IMAGO_ESTATE once a timestamp is loaded.  On success the new root replaces the trusted one;
 * the caller persists buf. */
int imago_tuf_update_root(struct imago_tuf_trusted *t, const uint8_t *buf, size_t len);

/* 5.4: each call first checks that the (final) root has not expired (IMAGO_ETUF_EXPIRED).
 * Verified with root's timestamp role.  Against a trusted timestamp: lower version
 * IMAGO_ETUF_ROLLBACK; equal version: the trusted one is kept, returns 0 with *kept = 1 (may
 * be NULL; the caller need not persist); snapshot version lower than the trusted timestamp's
 * IMAGO_ETUF_ROLLBACK.  Fast-forward recovery: a trusted timestamp is only what was loaded
 * into this set, and a persisted timestamp that no longer verifies after a key rotation in
 * root is refused when loaded (load it with this function first, ignore its error), so the
 * rollback checks restart from nothing.  An expired new timestamp is kept as trusted (for the
 * rollback checks of this run) and IMAGO_ETUF_EXPIRED returned: do not persist it.  now:
 * seconds since the epoch. */
int imago_tuf_update_timestamp(struct imago_tuf_trusted *t, const uint8_t *buf, size_t len,
                               int64_t now, int *kept);

/* 5.5: timestamp loaded and not expired (else IMAGO_ESTATE / IMAGO_ETUF_EXPIRED).  from_local
 * = 1 for the persisted copy (length and hashes of timestamp's meta not checked), 0 for bytes
 * from the repository (checked: IMAGO_ETUF_LENGTH / IMAGO_ETUF_HASH).  Verified with root's
 * snapshot role.  Against a trusted snapshot: every role it lists must be listed with a version
 * >= (IMAGO_ETUF_ROLLBACK).  The new snapshot is then kept as trusted, and then: version must
 * equal timestamp's snapshot version (IMAGO_ETUF_CONSISTENCY) and not be expired
 * (IMAGO_ETUF_EXPIRED): on these two errors it stays in the set only for rollback checks (do not
 * persist it; the update of targets refuses it). */
int imago_tuf_update_snapshot(struct imago_tuf_trusted *t, const uint8_t *buf, size_t len,
                              int64_t now, int from_local);

/* 5.6: top-level targets (role "targets", delegator root) or a delegated role (delegator the
 * name of a loaded targets role that delegates role_name).  Snapshot loaded, consistent with the
 * timestamp and not expired (else IMAGO_ESTATE / IMAGO_ETUF_CONSISTENCY / IMAGO_ETUF_EXPIRED);
 * snapshot must list "<role_name>.json" (IMAGO_ETUF_CONSISTENCY); its length/hashes when present
 * are checked; verified with the delegator's keys and the role's threshold; version must equal
 * snapshot's (IMAGO_ETUF_CONSISTENCY: mix-and-match); not expired.  Only then kept.  Loading a
 * role already loaded replaces it (pointers into the old one die).  IMAGO_ETOOBIG past
 * max_loaded_roles; IMAGO_ETUF_DELEGATION for "targets" not from root or another role from root. */
int imago_tuf_update_targets(struct imago_tuf_trusted *t, const char *role_name,
                             const char *delegator, const uint8_t *buf, size_t len, int64_t now);

/* A loaded targets document by role name ("targets" for the top-level one), or NULL. */
const struct imago_tuf_meta *imago_tuf_trusted_role(const struct imago_tuf_trusted *t,
                                                    const char *role_name);

/* ---- target search through delegations (5.6.7: preorder DFS) ------------------------------ */

struct imago_tuf_walk_item {
        char *role; /* owned copies: roles may be replaced while the walk runs */
        char *parent;
        unsigned depth;
};

struct imago_tuf_walk {
        const char *path; /* borrowed target path */
        struct imago_tuf_walk_item *stack;
        size_t n_stack, cap;
        char (*visited)[IMAGO_TUF_ROLE_NAME_MAX + 1];
        size_t n_visited;
        /* set when imago_tuf_walk_next() returns IMAGO_TUF_WALK_NEED */
        const char *need_role;
        const char *need_parent;
};

#define IMAGO_TUF_WALK_FOUND 1
#define IMAGO_TUF_WALK_NEED  2

/* Search for target path starting at top-level targets (must be loaded). */
int imago_tuf_walk_start(struct imago_tuf_walk *w, const struct imago_tuf_trusted *t,
                         const char *path);
/* Advance: IMAGO_TUF_WALK_FOUND with *out (borrowed from t); IMAGO_TUF_WALK_NEED when the
 * next role to visit is not loaded: the caller fetches "<need_role>.json" (version from
 * snapshot), calls imago_tuf_update_targets(t, need_role, need_parent, ...) and calls this
 * again (an error there aborts the search, as in python-tuf); IMAGO_ETUF_NOTARGET when no role
 * delegated for path lists it (also when the search stops at max_visits / max_depth). */
int imago_tuf_walk_next(struct imago_tuf_walk *w, const struct imago_tuf_trusted *t,
                        const struct imago_tuf_target **out);
void imago_tuf_walk_free(struct imago_tuf_walk *w);

#endif
