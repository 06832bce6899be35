/* Private to imago_repo (src/cloud/repo); see repo.h. */
#ifndef IMAGO_CLOUD_REPO_REPO_PRIV_H
#define IMAGO_CLOUD_REPO_REPO_PRIV_H

#include "cloud/repo/repo.h"
#include "tuf/tuf.h"

#include <jansson.h>
#include <stdarg.h>

/* What is published: the newest root of the contiguous chain 1..N, and what timestamp.json
 * names (type 0 in each meta when absent). */
struct imago_repo_state {
        struct imago_tuf_meta root;
        uint8_t *root_buf; /* its bytes */
        size_t root_len;
        struct imago_tuf_meta timestamp, snapshot, targets;
        uint8_t *snapshot_buf; /* bytes of the published snapshot (refresh copies its meta) */
        size_t snapshot_len;
};

int imago_repo_state_load(const char *repo, struct imago_repo_state *s);
void imago_repo_state_free(struct imago_repo_state *s);

/* out = repo "/" sub "/" name (sub may be NULL); IMAGO_EINVAL when it does not fit. */
int imago_repo_path(char *out, size_t cap, const char *repo, const char *sub, const char *name);

/* Read repo/metadata/name (IMAGO_ENOTFOUND when absent), at most max bytes. */
int imago_repo_read_meta(const char *repo, const char *name, size_t max, uint8_t **buf,
                         size_t *len);

/* Write bytes to repo/metadata/name atomically (0644); creates the directories. */
int imago_repo_write_meta(const char *repo, const char *name, const void *buf, size_t len);

/* mkdir -p of repo/sub/dir (dir may contain '/'; NULL: repo/sub). */
int imago_repo_mkdirs(const char *repo, const char *sub, const char *dir);

/* Exclusive lock of the repository (repo/.lock, flock; waits): publish and refresh, from the
 * command line and the service, never interleave.  *fd to unlock with imago_repo_unlock(). */
int imago_repo_lock(const char *repo, int *fd);
void imago_repo_unlock(int fd);

/* Formatted reason into why (if not NULL); returns r. */
int imago_repo_why(char *why, size_t cap, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The newest root names the online keys for snapshot and timestamp (threshold 1) and uses
 * consistent snapshots: 0 or IMAGO_EPERM / IMAGO_ETUF_FORMAT with why set. */
int imago_repo_check_online(const struct imago_tuf_meta *root, const struct imago_repo_keys *k,
                            char *why, size_t cap);

/* {"version":v,"length":len,"hashes":{"sha256":hex}} of a metadata file's bytes. */
int imago_repo_meta_entry(const uint8_t *buf, size_t len, uint64_t version, json_t **out);

/* Build, sign and serialize an online document: type "snapshot" or "timestamp", meta object
 * (a reference is taken), expires = now + secs.  *out malloc'd (caller frees). */
int imago_repo_sign_online(const char *type, const struct imago_privkey *key, uint64_t version,
                           int64_t expires, json_t *meta, char **out, size_t *len);

/* Copy every target of t from files_dir (or accept the copy in the repository) to
 * repo/targets/DIR/HASH.BASE for each of its hashes. */
int imago_repo_put_targets(const char *repo, const struct imago_tuf_meta *t, const char *files_dir,
                           char *why, size_t cap);

/* Target name check: relative, printable ASCII, no empty / "." / ".." part. 1 if safe. */
int imago_repo_name_safe(const char *name);

#endif
