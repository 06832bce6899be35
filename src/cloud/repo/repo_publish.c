/* See repo.h: publish a release (checks first, then the writes in the documented order). */
#define _POSIX_C_SOURCE 200809L
#include "cloud/repo/repo_priv.h"

#include "base/err.h"
#include "base/file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pub {
        const char *repo;
        const struct imago_repo_keys *k;
        const struct imago_repo_opts *o;
        char *why;
        size_t cap;
        struct imago_repo_state s;
        struct imago_tuf_trusted tr;
        int tr_init;
        const struct imago_repo_blob *new_roots[IMAGO_REPO_ROOTS_MAX];
        uint64_t new_versions[IMAGO_REPO_ROOTS_MAX];
        size_t n_new;
        const uint8_t *newest_root; /* bytes of the newest root (published or new) */
        size_t newest_len;
        struct imago_tuf_meta targets;
};

/* A root given again that is already published must be the same bytes. */
static int root_known(struct pub *p, uint64_t v, const struct imago_repo_blob *b)
{
        char name[64];
        uint8_t *buf = NULL;
        size_t len = 0;
        int r;

        snprintf(name, sizeof(name), "%llu.root.json", (unsigned long long)v);
        if ((r = imago_repo_read_meta(p->repo, name, IMAGO_TUF_ROOT_MAX, &buf, &len)) != 0)
                return imago_repo_why(p->why, p->cap, r, "%s: cannot read", name);
        if (len != b->len || memcmp(buf, b->buf, len) != 0)
                r = imago_repo_why(p->why, p->cap, IMAGO_ETUF_ROLLBACK,
                                   "root version %llu is already published with other content",
                                   (unsigned long long)v);
        free(buf);
        return r;
}

/* The given roots chain from the published one (or start the repository at version 1). */
static int check_roots(struct pub *p, const struct imago_repo_blob *roots, size_t n)
{
        size_t i = 0;
        int r;

        if (n > IMAGO_REPO_ROOTS_MAX)
                return imago_repo_why(p->why, p->cap, IMAGO_ETOOBIG, "more than %u roots",
                                      IMAGO_REPO_ROOTS_MAX);
        if (p->s.root.type == 0) {
                struct imago_tuf_meta m;

                if (n == 0)
                        return imago_repo_why(p->why, p->cap, IMAGO_ENOTFOUND,
                                              "no root published yet: give root version 1");
                memset(&m, 0, sizeof(m));
                if ((r = imago_tuf_meta_parse(IMAGO_TUF_ROOT, roots[0].buf, roots[0].len, NULL,
                                              &m)) == IMAGO_OK &&
                    m.version != 1)
                        r = IMAGO_ETUF_CONSISTENCY;
                imago_tuf_meta_free(&m);
                if (r == IMAGO_OK)
                        r = imago_tuf_trusted_init(&p->tr, roots[0].buf, roots[0].len, NULL);
                if (r != IMAGO_OK)
                        return imago_repo_why(p->why, p->cap, r,
                                              "first root: must be version 1 signed by its "
                                              "root keys to their threshold");
                p->tr_init = 1;
                p->new_roots[p->n_new] = &roots[0];
                p->new_versions[p->n_new++] = 1;
                i = 1;
        } else {
                if ((r = imago_tuf_trusted_init(&p->tr, p->s.root_buf, p->s.root_len, NULL)) != 0)
                        return imago_repo_why(p->why, p->cap, r,
                                              "published root version %llu does not verify",
                                              (unsigned long long)p->s.root.version);
                p->tr_init = 1;
        }
        for (; i < n; i++) {
                struct imago_tuf_meta m;
                uint64_t v;

                memset(&m, 0, sizeof(m));
                r = imago_tuf_meta_parse(IMAGO_TUF_ROOT, roots[i].buf, roots[i].len, NULL, &m);
                v = m.version;
                imago_tuf_meta_free(&m);
                if (r != IMAGO_OK)
                        return imago_repo_why(p->why, p->cap, r, "root %zu: not root metadata",
                                              i + 1);
                if (v <= p->tr.root.version && p->n_new == 0) {
                        if ((r = root_known(p, v, &roots[i])) != IMAGO_OK)
                                return r;
                        continue;
                }
                if ((r = imago_tuf_update_root(&p->tr, roots[i].buf, roots[i].len)) != IMAGO_OK)
                        return imago_repo_why(
                            p->why, p->cap, r,
                            "root version %llu does not chain from version %llu (it must be "
                            "the next version, signed by the old and the new root keys)",
                            (unsigned long long)v, (unsigned long long)p->tr.root.version);
                p->new_roots[p->n_new] = &roots[i];
                p->new_versions[p->n_new++] = v;
        }
        if (p->n_new > 0) {
                p->newest_root = p->new_roots[p->n_new - 1]->buf;
                p->newest_len = p->new_roots[p->n_new - 1]->len;
        } else {
                p->newest_root = p->s.root_buf;
                p->newest_len = p->s.root_len;
        }
        if (p->tr.root.expires <= p->o->now)
                return imago_repo_why(p->why, p->cap, IMAGO_ETUF_EXPIRED,
                                      "root version %llu has expired: publish a new root",
                                      (unsigned long long)p->tr.root.version);
        return imago_repo_check_online(&p->tr.root, p->k, p->why, p->cap);
}

static int check_targets(struct pub *p, const uint8_t *buf, size_t len)
{
        const struct imago_tuf_meta *root = &p->tr.root;
        const struct imago_tuf_role *role = &root->roles[IMAGO_TUF_ROLE_TARGETS];
        unsigned valid = 0;
        int r;

        if ((r = imago_tuf_meta_parse(IMAGO_TUF_TARGETS, buf, len, NULL, &p->targets)) != 0)
                return imago_repo_why(p->why, p->cap, r, "targets: not targets metadata");
        if ((r = imago_tuf_meta_verify(&p->targets, root, role, &valid)) != IMAGO_OK)
                return imago_repo_why(p->why, p->cap, r,
                                      "targets version %llu: %u valid signatures of the %llu "
                                      "root version %llu requires",
                                      (unsigned long long)p->targets.version, valid,
                                      (unsigned long long)role->threshold,
                                      (unsigned long long)root->version);
        if (p->s.targets.type != 0 && p->targets.version <= p->s.targets.version)
                return imago_repo_why(p->why, p->cap, IMAGO_ETUF_ROLLBACK,
                                      "targets version %llu: not above the published %llu",
                                      (unsigned long long)p->targets.version,
                                      (unsigned long long)p->s.targets.version);
        if (p->targets.expires <= p->o->now)
                return imago_repo_why(p->why, p->cap, IMAGO_ETUF_EXPIRED,
                                      "targets version %llu has expired",
                                      (unsigned long long)p->targets.version);
        if (p->targets.n_delegations > 0)
                return imago_repo_why(p->why, p->cap, IMAGO_ETUF_DELEGATION,
                                      "targets: delegations are not supported by this repository");
        return IMAGO_OK;
}

static int stop(const struct pub *p, unsigned step)
{
        if (p->o->stop_after != step)
                return IMAGO_OK;
        return imago_repo_why(p->why, p->cap, IMAGO_ESTATE, "stopped after step %u (test hook)",
                              step);
}

/* Steps 3 and 6: a document signed online, with the meta entry of the file below it. */
static int write_online(struct pub *p, const char *type, const struct imago_privkey *key,
                        uint64_t version, uint32_t expiry, const char *entry_name,
                        const uint8_t *below, size_t below_len, uint64_t below_version,
                        const char *file, char **out, size_t *out_len)
{
        json_t *entry = NULL, *meta = NULL;
        int r;

        if ((r = imago_repo_meta_entry(below, below_len, below_version, &entry)) != IMAGO_OK)
                return r;
        if ((meta = json_pack("{s:o}", entry_name, entry)) == NULL)
                return IMAGO_ENOMEM;
        r = imago_repo_sign_online(type, key, version, p->o->now + (int64_t)expiry, meta, out,
                                   out_len);
        json_decref(meta);
        if (r == IMAGO_OK && (r = imago_repo_write_meta(p->repo, file, *out, *out_len)) != 0)
                r = imago_repo_why(p->why, p->cap, r, "%s: cannot write", file);
        return r;
}

static int write_all(struct pub *p, const uint8_t *tbuf, size_t tlen, const char *files_dir)
{
        char name[64], *snap = NULL, *ts = NULL;
        size_t snap_len = 0, ts_len = 0, i;
        uint64_t sv = p->s.snapshot.version + 1, tv = p->s.timestamp.version + 1;
        int r;

        /* 1: target files (invisible until targets metadata lists them) */
        if ((r = imago_repo_put_targets(p->repo, &p->targets, files_dir, p->why, p->cap)) != 0 ||
            (r = stop(p, 1)) != 0)
                goto out;
        /* 2: the targets metadata, as the desk signed it */
        snprintf(name, sizeof(name), "%llu.targets.json", (unsigned long long)p->targets.version);
        if ((r = imago_repo_write_meta(p->repo, name, tbuf, tlen)) != IMAGO_OK) {
                r = imago_repo_why(p->why, p->cap, r, "%s: cannot write", name);
                goto out;
        }
        if ((r = stop(p, 2)) != 0)
                goto out;
        /* 3: snapshot naming it (the published timestamp names the previous snapshot) */
        snprintf(name, sizeof(name), "%llu.snapshot.json", (unsigned long long)sv);
        if ((r = write_online(p, "snapshot", p->k->snapshot, sv, p->o->snapshot_expiry,
                              "targets.json", tbuf, tlen, p->targets.version, name, &snap,
                              &snap_len)) != 0 ||
            (r = stop(p, 3)) != 0)
                goto out;
        /* 4, 5: the new roots, oldest first, then the root.json copy */
        for (i = 0; i < p->n_new; i++) {
                snprintf(name, sizeof(name), "%llu.root.json",
                         (unsigned long long)p->new_versions[i]);
                if ((r = imago_repo_write_meta(p->repo, name, p->new_roots[i]->buf,
                                               p->new_roots[i]->len)) != IMAGO_OK) {
                        r = imago_repo_why(p->why, p->cap, r, "%s: cannot write", name);
                        goto out;
                }
        }
        if ((r = stop(p, 4)) != 0)
                goto out;
        if ((r = imago_repo_write_meta(p->repo, "root.json", p->newest_root, p->newest_len)) != 0) {
                r = imago_repo_why(p->why, p->cap, r, "root.json: cannot write");
                goto out;
        }
        if ((r = stop(p, 5)) != 0)
                goto out;
        /* 6: the timestamp: the commit point */
        r = write_online(p, "timestamp", p->k->timestamp, tv, p->o->timestamp_expiry,
                         "snapshot.json", (const uint8_t *)snap, snap_len, sv, "timestamp.json",
                         &ts, &ts_len);
out:
        free(snap);
        free(ts);
        return r;
}

int imago_repo_publish(const char *repo_dir, const struct imago_repo_keys *k,
                       const struct imago_repo_opts *o, const struct imago_repo_blob *roots,
                       size_t n_roots, const uint8_t *targets, size_t targets_len,
                       const char *files_dir, char *why, size_t why_cap)
{
        struct pub p;
        int r, fd = -1;

        if (why != NULL && why_cap > 0)
                why[0] = '\0';
        if (repo_dir == NULL || k == NULL || o == NULL || (roots == NULL && n_roots > 0) ||
            targets == NULL)
                return IMAGO_EINVAL;
        memset(&p, 0, sizeof(p));
        p.repo = repo_dir;
        p.k = k;
        p.o = o;
        p.why = why;
        p.cap = why_cap;
        if ((r = imago_repo_lock(repo_dir, &fd)) != IMAGO_OK) {
                r = imago_repo_why(why, why_cap, r, "%s: cannot lock", repo_dir);
                goto out;
        }
        if ((r = imago_repo_state_load(repo_dir, &p.s)) != IMAGO_OK) {
                r = imago_repo_why(why, why_cap, r, "%s: published metadata unreadable", repo_dir);
                goto out;
        }
        if ((r = check_roots(&p, roots, n_roots)) != IMAGO_OK ||
            (r = check_targets(&p, targets, targets_len)) != IMAGO_OK)
                goto out;
        r = write_all(&p, targets, targets_len, files_dir);
out:
        imago_tuf_meta_free(&p.targets);
        if (p.tr_init)
                imago_tuf_trusted_free(&p.tr);
        imago_repo_state_free(&p.s);
        imago_repo_unlock(fd);
        return r;
}
