/*
 * imago_repo: the TUF image repository of imago-cloud (docs/repo.md).
 *
 * The release desk signs root and targets offline (`imago release`, docs/release.md); this
 * module publishes them with snapshot and timestamp metadata signed by the two online keys of
 * the data directory, and re-signs the timestamp (and the snapshot) before they expire.
 *
 * Layout of a repository directory R (consistent snapshots; served as is over HTTP):
 *   R/metadata/N.root.json        every root version, 1..N (clients walk the chain)
 *   R/metadata/root.json          a copy of the newest root (for `imago-tuf init`)
 *   R/metadata/N.targets.json     targets version N, as signed by the desk
 *   R/metadata/N.snapshot.json    snapshot version N (online snapshot key)
 *   R/metadata/timestamp.json     the current timestamp (online timestamp key)
 *   R/targets/DIR/HASH.BASE       every target file DIR/BASE under each hash it is listed with
 *   R/repo.conf                   optional: "timestamp_expiry SECONDS" / "snapshot_expiry
 *                                 SECONDS" lines (defaults 1 day and 7 days)
 * timestamp.json is the commit point: what it names (snapshot -> targets -> files) is the
 * published release; everything else is written before it and is invisible until then.
 *
 * Publish order (each file written atomically: temporary file, fsync, rename):
 *   1 target files   2 N.targets.json   3 M.snapshot.json   4 new N.root.json files
 *   5 root.json      6 timestamp.json
 * A crash after any step leaves the previous release published and consistent; running the
 * same publish again completes it (files already there with the same bytes are accepted).
 * Between steps 4 and 6 a client may already follow the new root while the old targets are
 * still published: that is fine unless the new root revokes targets keys the old targets need,
 * in which case the client's refresh fails (without damage to its trusted state) until the
 * publish is completed.
 *
 * Checks before anything is written: each new root chains from the newest published one
 * (version + 1, threshold of the old AND the new root's root keys; a fresh repository starts
 * at version 1, self-signed to its threshold) and uses consistent snapshots; the newest root
 * has not expired and names the online keys given here for snapshot and timestamp with
 * threshold 1 (IMAGO_EPERM otherwise: the desk must put `imago-cloud repo keys` into root);
 * targets verifies with the newest root's targets role to its threshold, has a version above
 * the published one, has not expired and delegates nothing; every target name is a safe
 * relative path and its file matches length and every hash.
 *
 * Ownership: all arguments are borrowed for the call; keys are never copied or logged.
 * why (may be NULL) receives one line naming what was refused.
 *
 * Errors (negative, base/err.h): IMAGO_EINVAL, IMAGO_ENOMEM, IMAGO_EIO, IMAGO_ENOTFOUND (no
 * published repository, a target file missing), IMAGO_EPERM (online keys not the root's),
 * IMAGO_ESTATE (publish stopped by the test hook), IMAGO_ETOOBIG, IMAGO_ECONF_VALUE (repo.conf),
 * and the IMAGO_ETUF_* codes of src/tuf/tuf.h (FORMAT, THRESHOLD, EXPIRED, ROLLBACK,
 * CONSISTENCY, HASH, LENGTH, DELEGATION).
 */
#ifndef IMAGO_CLOUD_REPO_REPO_H
#define IMAGO_CLOUD_REPO_REPO_H

#include "crypto/keys.h"

#include <stddef.h>
#include <stdint.h>

#define IMAGO_REPO_D_META     "metadata"
#define IMAGO_REPO_D_TARGETS  "targets"
#define IMAGO_REPO_F_CONF     "repo.conf"
#define IMAGO_REPO_TARGET_MAX (256u * 1024u * 1024u) /* bytes of one target file */
#define IMAGO_REPO_EXPIRY_MAX (366u * 86400u)
#define IMAGO_REPO_WHY_MAX    512
#define IMAGO_REPO_ROOTS_MAX  64 /* new root versions in one publish */

/* In an imago-cloud data directory: the repository and the online keys (Ed25519, encrypted
 * with the cloud passphrase, 0600; public halves 0644 for `imago release root init`). */
#define IMAGO_REPO_DATA_REPO     "repo"
#define IMAGO_REPO_F_SNAPSHOT    "keys/snapshot.key"
#define IMAGO_REPO_F_SNAPSHOT_P  "keys/snapshot.pub"
#define IMAGO_REPO_F_TIMESTAMP   "keys/timestamp.key"
#define IMAGO_REPO_F_TIMESTAMP_P "keys/timestamp.pub"

struct imago_repo_opts {
        int64_t now;               /* seconds since the epoch */
        uint32_t timestamp_expiry; /* seconds; default 86400 */
        uint32_t snapshot_expiry;  /* seconds; default 7 * 86400 */
        uint32_t timestamp_margin; /* re-sign when less is left; default timestamp_expiry / 2 */
        uint32_t snapshot_margin;  /* default snapshot_expiry / 2 */
        unsigned stop_after;       /* test hook: publish stops after this step (0: never) */
};

/* The online keys (borrowed). */
struct imago_repo_keys {
        const struct imago_privkey *snapshot;
        const struct imago_privkey *timestamp;
};

/* A document given to publish (borrowed bytes). */
struct imago_repo_blob {
        const uint8_t *buf;
        size_t len;
};

struct imago_repo_status {
        int published; /* 0: no timestamp.json yet (the other fields 0) */
        uint64_t root_version, targets_version, snapshot_version, timestamp_version;
        int64_t root_expires, targets_expires, snapshot_expires, timestamp_expires;
        size_t n_targets;
};

/* Defaults above with now = time(NULL), then R/repo.conf if it exists (repo_dir may be NULL). */
int imago_repo_opts_load(const char *repo_dir, struct imago_repo_opts *o);

/* Publish roots (oldest first; may be none) and targets with the files in files_dir (a
 * target NAME is read from files_dir/NAME; a target already in the repository with the same
 * hashes need not be there; files_dir may be NULL then).  Creates repo_dir if needed. */
int imago_repo_publish(const char *repo_dir, const struct imago_repo_keys *k,
                       const struct imago_repo_opts *o, const struct imago_repo_blob *roots,
                       size_t n_roots, const uint8_t *targets, size_t targets_len,
                       const char *files_dir, char *why, size_t why_cap);

/* Re-sign what is near its expiry (or the timestamp anyway when force): a snapshot within
 * snapshot_margin of its expiry gets a new version with the same meta, then the timestamp; a
 * timestamp within timestamp_margin gets version + 1 naming the same snapshot.  *did (may be
 * NULL): 0 nothing, 1 timestamp, 2 snapshot and timestamp.  The newest root must name the
 * online keys (IMAGO_EPERM). */
int imago_repo_refresh(const char *repo_dir, const struct imago_repo_keys *k,
                       const struct imago_repo_opts *o, int force, int *did, char *why,
                       size_t why_cap);

/* What is published (reads the files; no signature checks: they are this module's output). */
int imago_repo_status(const char *repo_dir, struct imago_repo_status *st);

/* The online keys of a data directory: create the missing ones (a data directory made before
 * the repository; create = 1) and load both.  Free with imago_privkey_free(). */
int imago_repo_keys_load(const char *data_dir, const char *passphrase, int create,
                         struct imago_privkey *snapshot, struct imago_privkey *timestamp);

/* Create one online key (rel: IMAGO_REPO_F_SNAPSHOT / _TIMESTAMP) and its public half at
 * rel_pub; IMAGO_EEXIST if the key exists.  For `imago-cloud init` and the call above. */
int imago_repo_key_create(const char *data_dir, const char *rel, const char *rel_pub,
                          const char *passphrase);

/* The online keys of a data directory: create the missing ones (a data directory made before
 * the repository; create = 1) and load both.  Free with imago_privkey_free(). */
int imago_repo_keys_load(const char *data_dir, const char *passphrase, int create,
                         struct imago_privkey *snapshot, struct imago_privkey *timestamp);

/* Create one online key (rel: IMAGO_REPO_F_SNAPSHOT / _TIMESTAMP) and its public half at
 * rel_pub; IMAGO_EEXIST if the key exists.  For `imago-cloud init` and the call above. */
int imago_repo_key_create(const char *data_dir, const char *rel, const char *rel_pub,
                          const char *passphrase);

/* Key id (64 hex + NUL) of the TUF key object of a key's public half. */
int imago_repo_keyid(const struct imago_privkey *k, char out[65]);

#endif
