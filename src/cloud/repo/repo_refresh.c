/* See repo.h: re-sign the snapshot and the timestamp before they expire. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/repo/repo_priv.h"

#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A new snapshot (version + 1, the same meta); *buf, *len: its bytes. */
static int new_snapshot(const char *repo, const struct imago_repo_keys *k,
                        const struct imago_repo_opts *o, const struct imago_repo_state *s,
                        char **buf, size_t *len, char *why, size_t cap)
{
        json_t *meta = json_object_get(s->snapshot.signed_obj, "meta");
        char name[64];
        uint64_t v = s->snapshot.version + 1;
        int r;

        if (meta == NULL)
                return IMAGO_ETUF_FORMAT;
        if ((r = imago_repo_sign_online("snapshot", k->snapshot, v,
                                        o->now + (int64_t)o->snapshot_expiry, meta, buf, len)) !=
            IMAGO_OK)
                return r;
        snprintf(name, sizeof(name), "%llu.snapshot.json", (unsigned long long)v);
        if ((r = imago_repo_write_meta(repo, name, *buf, *len)) != IMAGO_OK)
                r = imago_repo_why(why, cap, r, "%s: cannot write", name);
        return r;
}

static int new_timestamp(const char *repo, const struct imago_repo_keys *k,
                         const struct imago_repo_opts *o, uint64_t version, const uint8_t *snap,
                         size_t snap_len, uint64_t snap_version, char *why, size_t cap)
{
        json_t *entry = NULL, *meta = NULL;
        char *buf = NULL;
        size_t len = 0;
        int r;

        if ((r = imago_repo_meta_entry(snap, snap_len, snap_version, &entry)) != IMAGO_OK)
                return r;
        if ((meta = json_pack("{s:o}", "snapshot.json", entry)) == NULL)
                return IMAGO_ENOMEM;
        r = imago_repo_sign_online("timestamp", k->timestamp, version,
                                   o->now + (int64_t)o->timestamp_expiry, meta, &buf, &len);
        json_decref(meta);
        if (r == IMAGO_OK && (r = imago_repo_write_meta(repo, "timestamp.json", buf, len)) != 0)
                r = imago_repo_why(why, cap, r, "timestamp.json: cannot write");
        free(buf);
        return r;
}

int imago_repo_refresh(const char *repo_dir, const struct imago_repo_keys *k,
                       const struct imago_repo_opts *o, int force, int *did, char *why,
                       size_t why_cap)
{
        struct imago_repo_state s;
        struct stat st;
        char *snap = NULL;
        size_t snap_len = 0;
        int r, fd = -1;

        if (did != NULL)
                *did = 0;
        if (why != NULL && why_cap > 0)
                why[0] = '\0';
        if (repo_dir == NULL || k == NULL || o == NULL)
                return IMAGO_EINVAL;
        memset(&s, 0, sizeof(s));
        if (stat(repo_dir, &st) != 0) { /* no repository yet: do not create one */
                r = imago_repo_why(why, why_cap, IMAGO_ENOTFOUND, "%s: nothing published yet",
                                   repo_dir);
                goto out;
        }
        if ((r = imago_repo_lock(repo_dir, &fd)) != IMAGO_OK) {
                r = imago_repo_why(why, why_cap, r, "%s: cannot lock", repo_dir);
                goto out;
        }
        if ((r = imago_repo_state_load(repo_dir, &s)) != IMAGO_OK) {
                r = imago_repo_why(why, why_cap, r, "%s: published metadata unreadable", repo_dir);
                goto out;
        }
        if (s.timestamp.type == 0 || s.root.type == 0) {
                r = imago_repo_why(why, why_cap, IMAGO_ENOTFOUND, "%s: nothing published yet",
                                   repo_dir);
                goto out;
        }
        if ((r = imago_repo_check_online(&s.root, k, why, why_cap)) != IMAGO_OK)
                goto out;
        if (s.snapshot.expires - o->now < (int64_t)o->snapshot_margin) {
                if ((r = new_snapshot(repo_dir, k, o, &s, &snap, &snap_len, why, why_cap)) != 0 ||
                    (r = new_timestamp(repo_dir, k, o, s.timestamp.version + 1,
                                       (const uint8_t *)snap, snap_len, s.snapshot.version + 1, why,
                                       why_cap)) != 0)
                        goto out;
                if (did != NULL)
                        *did = 2;
        } else if (force || s.timestamp.expires - o->now < (int64_t)o->timestamp_margin) {
                if ((r = new_timestamp(repo_dir, k, o, s.timestamp.version + 1, s.snapshot_buf,
                                       s.snapshot_len, s.snapshot.version, why, why_cap)) != 0)
                        goto out;
                if (did != NULL)
                        *did = 1;
        }
out:
        free(snap);
        imago_repo_state_free(&s);
        imago_repo_unlock(fd);
        return r;
}
