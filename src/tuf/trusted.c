/* See tuf.h: the trusted set and its update rules (spec 5.3-5.6, in python-tuf's order). */
#include "tuf/tuf_priv.h"

#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int imago_tuf_trusted_init(struct imago_tuf_trusted *t, const uint8_t *root, size_t len,
                           const struct imago_tuf_limits *lim)
{
        int r;

        if (t == NULL)
                return IMAGO_EINVAL;
        memset(t, 0, sizeof(*t));
        if (lim != NULL)
                t->limits = *lim;
        else
                imago_tuf_limits_default(&t->limits);
        if ((r = imago_tuf_meta_parse(IMAGO_TUF_ROOT, root, len, &t->limits, &t->root)) != IMAGO_OK)
                goto out;
        r = imago_tuf_meta_verify(&t->root, &t->root, &t->root.roles[IMAGO_TUF_ROLE_ROOT], NULL);
out:
        if (r != IMAGO_OK)
                imago_tuf_trusted_free(t);
        return r;
}

void imago_tuf_trusted_free(struct imago_tuf_trusted *t)
{
        size_t i;

        if (t == NULL)
                return;
        imago_tuf_meta_free(&t->root);
        imago_tuf_meta_free(&t->timestamp);
        imago_tuf_meta_free(&t->snapshot);
        imago_tuf_meta_free(&t->targets);
        for (i = 0; i < t->n_loaded; i++)
                imago_tuf_meta_free(&t->loaded[i].meta);
        free(t->loaded);
        memset(t, 0, sizeof(*t));
}

int imago_tuf_update_root(struct imago_tuf_trusted *t, const uint8_t *buf, size_t len)
{
        struct imago_tuf_meta m = {0};
        int r;

        if (t == NULL || t->root.type != IMAGO_TUF_ROOT)
                return IMAGO_EINVAL;
        if (t->timestamp.type != 0)
                return IMAGO_ESTATE;
        if ((r = imago_tuf_meta_parse(IMAGO_TUF_ROOT, buf, len, &t->limits, &m)) != IMAGO_OK)
                goto out;
        /* 5.3.5: signed by a threshold of the trusted root's root role ... */
        if ((r = imago_tuf_meta_verify(&m, &t->root, &t->root.roles[IMAGO_TUF_ROLE_ROOT], NULL)) !=
            IMAGO_OK)
                goto out;
        /* ... 5.3.6: the version is exactly trusted + 1 ... */
        if (m.version <= t->root.version) {
                r = IMAGO_ETUF_ROLLBACK;
                goto out;
        }
        if (m.version != t->root.version + 1) {
                r = IMAGO_ETUF_CONSISTENCY;
                goto out;
        }
        /* ... and 5.3.5: by a threshold of its own root role. */
        if ((r = imago_tuf_meta_verify(&m, &m, &m.roles[IMAGO_TUF_ROLE_ROOT], NULL)) != IMAGO_OK)
                goto out;
        imago_tuf_meta_free(&t->root);
        t->root = m;
        memset(&m, 0, sizeof(m));
        r = IMAGO_OK;
out:
        imago_tuf_meta_free(&m);
        return r;
}

int imago_tuf_update_timestamp(struct imago_tuf_trusted *t, const uint8_t *buf, size_t len,
                               int64_t now, int *kept)
{
        struct imago_tuf_meta m = {0};
        int r;

        if (kept != NULL)
                *kept = 0;
        if (t == NULL || t->root.type != IMAGO_TUF_ROOT)
                return IMAGO_EINVAL;
        if (t->snapshot.type != 0)
                return IMAGO_ESTATE;
        /* 5.3.10: the final root must not have expired */
        if (now >= t->root.expires)
                return IMAGO_ETUF_EXPIRED;
        if ((r = imago_tuf_meta_parse(IMAGO_TUF_TIMESTAMP, buf, len, &t->limits, &m)) != IMAGO_OK)
                goto out;
        if ((r = imago_tuf_meta_verify(&m, &t->root, &t->root.roles[IMAGO_TUF_ROLE_TIMESTAMP],
                                       NULL)) != IMAGO_OK)
                goto out;
        if (t->timestamp.type != 0) {
                /* 5.4.3 */
                if (m.version < t->timestamp.version) {
                        r = IMAGO_ETUF_ROLLBACK;
                        goto out;
                }
                if (m.version == t->timestamp.version) {
                        if (kept != NULL)
                                *kept = 1;
                        r = IMAGO_OK;
                        goto out;
                }
                /* 5.4.4 */
                if (m.meta[0].version < t->timestamp.meta[0].version) {
                        r = IMAGO_ETUF_ROLLBACK;
                        goto out;
                }
        }
        imago_tuf_meta_free(&t->timestamp);
        t->timestamp = m;
        memset(&m, 0, sizeof(m));
        /* 5.4.5: kept for the rollback checks of this run even when expired */
        r = now >= t->timestamp.expires ? IMAGO_ETUF_EXPIRED : IMAGO_OK;
out:
        imago_tuf_meta_free(&m);
        return r;
}

/* The snapshot is final: consistent with the timestamp and not expired. */
static int snapshot_final(const struct imago_tuf_trusted *t, int64_t now)
{
        if (now >= t->snapshot.expires)
                return IMAGO_ETUF_EXPIRED;
        if (t->snapshot.version != t->timestamp.meta[0].version)
                return IMAGO_ETUF_CONSISTENCY;
        return IMAGO_OK;
}

static const struct imago_tuf_metafile *meta_entry(const struct imago_tuf_meta *m, const char *name)
{
        size_t i;

        for (i = 0; i < m->n_meta; i++) {
                if (strcmp(m->meta[i].name, name) == 0)
                        return &m->meta[i];
        }
        return NULL;
}

int imago_tuf_update_snapshot(struct imago_tuf_trusted *t, const uint8_t *buf, size_t len,
                              int64_t now, int from_local)
{
        const struct imago_tuf_metafile *sm;
        struct imago_tuf_meta m = {0};
        size_t i;
        int r;

        if (t == NULL || t->root.type != IMAGO_TUF_ROOT)
                return IMAGO_EINVAL;
        if (t->timestamp.type == 0 || t->targets.type != 0)
                return IMAGO_ESTATE;
        if (now >= t->timestamp.expires)
                return IMAGO_ETUF_EXPIRED;
        sm = &t->timestamp.meta[0];
        /* 5.5.1 (2): length and hashes from the timestamp; the size limit in any case */
        if (!from_local) {
                if (sm->has_length && sm->length > t->limits.snapshot_max)
                        return IMAGO_ETOOBIG;
                if ((r = imago_tuf_check_file(buf, len, sm->has_length, sm->length, &sm->hashes)) !=
                    IMAGO_OK)
                        return r;
        }
        if ((r = imago_tuf_meta_parse(IMAGO_TUF_SNAPSHOT, buf, len, &t->limits, &m)) != IMAGO_OK)
                goto out;
        if ((r = imago_tuf_meta_verify(&m, &t->root, &t->root.roles[IMAGO_TUF_ROLE_SNAPSHOT],
                                       NULL)) != IMAGO_OK)
                goto out;
        /* 5.5.5: no role the trusted snapshot lists is missing or lower (the new meta looked up
         * by name in its JSON object, a hash table: linear, not quadratic, in the entries) */
        if (t->snapshot.type != 0) {
                json_t *new_meta = json_object_get(m.signed_obj, "meta");

                for (i = 0; i < t->snapshot.n_meta; i++) {
                        const struct imago_tuf_metafile *o = &t->snapshot.meta[i];
                        json_t *n = json_object_get(new_meta, o->name);

                        /* version is validated by the parser: an integer >= 1 */
                        if (n == NULL || (uint64_t)json_integer_value(
                                             json_object_get(n, "version")) < o->version) {
                                r = IMAGO_ETUF_ROLLBACK;
                                goto out;
                        }
                }
        }
        imago_tuf_meta_free(&t->snapshot);
        t->snapshot = m;
        memset(&m, 0, sizeof(m));
        /* 5.5.3 and 5.5.6, after keeping it (python-tuf does the same) */
        r = snapshot_final(t, now);
out:
        imago_tuf_meta_free(&m);
        return r;
}

static struct imago_tuf_meta *role_doc(struct imago_tuf_trusted *t, const char *name)
{
        size_t i;

        if (strcmp(name, "targets") == 0)
                return t->targets.type != 0 ? &t->targets : NULL;
        for (i = 0; i < t->n_loaded; i++) {
                if (strcmp(t->loaded[i].name, name) == 0)
                        return &t->loaded[i].meta;
        }
        return NULL;
}

const struct imago_tuf_meta *imago_tuf_trusted_role(const struct imago_tuf_trusted *t,
                                                    const char *role_name)
{
        if (t == NULL || role_name == NULL)
                return NULL;
        return role_doc((struct imago_tuf_trusted *)t, role_name);
}

int imago_tuf_update_targets(struct imago_tuf_trusted *t, const char *role_name,
                             const char *delegator, const uint8_t *buf, size_t len, int64_t now)
{
        char file[IMAGO_TUF_ROLE_NAME_MAX + 8];
        const struct imago_tuf_metafile *mf;
        const struct imago_tuf_meta *keys_holder;
        const struct imago_tuf_role *role = NULL;
        struct imago_tuf_meta m = {0}, *dst;
        int top, r;
        size_t i;

        if (t == NULL || role_name == NULL || delegator == NULL || t->root.type != IMAGO_TUF_ROOT)
                return IMAGO_EINVAL;
        if (role_name[0] == '\0' || strlen(role_name) > IMAGO_TUF_ROLE_NAME_MAX)
                return IMAGO_EINVAL;
        top = strcmp(role_name, "targets") == 0;
        if (top != (strcmp(delegator, "root") == 0))
                return IMAGO_ETUF_DELEGATION;
        if (t->snapshot.type == 0)
                return IMAGO_ESTATE;
        if ((r = snapshot_final(t, now)) != IMAGO_OK)
                return r;
        if (top) {
                keys_holder = &t->root;
                role = &t->root.roles[IMAGO_TUF_ROLE_TARGETS];
        } else {
                if ((keys_holder = role_doc(t, delegator)) == NULL)
                        return IMAGO_ESTATE; /* delegator not loaded */
                for (i = 0; i < keys_holder->n_delegations; i++) {
                        if (strcmp(keys_holder->delegations[i].role.name, role_name) == 0)
                                role = &keys_holder->delegations[i].role;
                }
                if (role == NULL)
                        return IMAGO_ETUF_DELEGATION;
        }
        /* 5.6.1-5.6.2: listed by snapshot, length and hashes when given */
        snprintf(file, sizeof(file), "%s.json", role_name);
        if ((mf = meta_entry(&t->snapshot, file)) == NULL)
                return IMAGO_ETUF_CONSISTENCY;
        if (mf->has_length && mf->length > t->limits.targets_max)
                return IMAGO_ETOOBIG;
        if ((r = imago_tuf_check_file(buf, len, mf->has_length, mf->length, &mf->hashes)) !=
            IMAGO_OK)
                return r;
        if ((r = imago_tuf_meta_parse(IMAGO_TUF_TARGETS, buf, len, &t->limits, &m)) != IMAGO_OK)
                goto out;
        /* 5.6.3 */
        if ((r = imago_tuf_meta_verify(&m, keys_holder, role, NULL)) != IMAGO_OK)
                goto out;
        /* 5.6.4: the version snapshot states (mix-and-match) */
        if (m.version != mf->version) {
                r = IMAGO_ETUF_CONSISTENCY;
                goto out;
        }
        /* 5.6.5 */
        if (now >= m.expires) {
                r = IMAGO_ETUF_EXPIRED;
                goto out;
        }
        if ((dst = role_doc(t, role_name)) == NULL) {
                if (top) {
                        dst = &t->targets;
                } else {
                        struct imago_tuf_loaded *l;

                        if (t->n_loaded >= t->limits.max_loaded_roles) {
                                r = IMAGO_ETOOBIG;
                                goto out;
                        }
                        l = realloc(t->loaded, (t->n_loaded + 1) * sizeof(*l));
                        if (l == NULL) {
                                r = IMAGO_ENOMEM;
                                goto out;
                        }
                        t->loaded = l;
                        memset(&l[t->n_loaded], 0, sizeof(*l));
                        snprintf(l[t->n_loaded].name, sizeof(l[t->n_loaded].name), "%s", role_name);
                        dst = &l[t->n_loaded].meta;
                        t->n_loaded++;
                }
        }
        imago_tuf_meta_free(dst);
        *dst = m;
        memset(&m, 0, sizeof(m));
        r = IMAGO_OK;
out:
        imago_tuf_meta_free(&m);
        return r;
}
