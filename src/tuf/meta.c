/* See tuf.h: strict parsing of TUF metadata. */
#include "tuf/tuf_priv.h"

#include "base/err.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

#define F IMAGO_ETUF_FORMAT

void imago_tuf_limits_default(struct imago_tuf_limits *l)
{
        if (l == NULL)
                return;
        l->root_max = IMAGO_TUF_ROOT_MAX;
        l->timestamp_max = IMAGO_TUF_TIMESTAMP_MAX;
        l->snapshot_max = IMAGO_TUF_SNAPSHOT_MAX;
        l->targets_max = IMAGO_TUF_TARGETS_MAX;
        l->max_keys = 64;
        l->max_sigs = 64;
        l->max_keyids = 64;
        l->max_delegations = 256;
        l->max_paths = 1024;
        l->max_targets = 100000;
        l->max_meta = 10000;
        l->max_depth = 8;
        l->max_visits = 32;
        l->max_loaded_roles = 32;
}

/* A string member without NUL; NULL if absent or not a string. */
static const char *str(json_t *o, const char *k)
{
        return imago_json_str(o, k, NULL);
}

/* A string element of an array (no NUL). */
static const char *elem_str(json_t *a, size_t i)
{
        json_t *e = json_array_get(a, i);

        if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e))
                return NULL;
        return json_string_value(e);
}

static int int_member(json_t *o, const char *k, int64_t min, uint64_t *out)
{
        json_t *v = json_object_get(o, k);

        if (!json_is_integer(v) || json_integer_value(v) < min)
                return F;
        *out = (uint64_t)json_integer_value(v);
        return IMAGO_OK;
}

static int parse_spec_version(const char *s)
{
        size_t parts = 1, digits = 0;
        const char *p;

        if (s == NULL)
                return F;
        for (p = s; *p; p++) {
                if (*p == '.') {
                        if (digits == 0)
                                return F;
                        parts++;
                        digits = 0;
                } else if (*p >= '0' && *p <= '9') {
                        digits++;
                } else {
                        return F;
                }
        }
        if (digits == 0 || parts < 2 || parts > 3)
                return F;
        /* major version 1 only */
        if (s[0] != '1' || s[1] != '.')
                return F;
        return IMAGO_OK;
}

static int parse_hashes(json_t *o, struct imago_tuf_hashes *h)
{
        const char *k;
        json_t *v;

        memset(h, 0, sizeof(*h));
        if (!json_is_object(o) || json_object_size(o) == 0)
                return F;
        if (json_object_size(o) > IMAGO_TUF_HASHES_MAX)
                return IMAGO_ETOOBIG;
        json_object_foreach(o, k, v)
        {
                if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
                        return F;
                h->h[h->n].alg = k;
                h->h[h->n].hex = json_string_value(v);
                h->n++;
        }
        return IMAGO_OK;
}

static int parse_metafile(const char *name, json_t *o, struct imago_tuf_metafile *mf)
{
        json_t *v;
        int r;

        memset(mf, 0, sizeof(*mf));
        mf->name = name;
        if (!json_is_object(o))
                return F;
        if ((r = int_member(o, "version", 1, &mf->version)) != IMAGO_OK)
                return r;
        if ((v = json_object_get(o, "length")) != NULL) {
                if ((r = int_member(o, "length", 1, &mf->length)) != IMAGO_OK)
                        return r;
                mf->has_length = 1;
        }
        if ((v = json_object_get(o, "hashes")) != NULL &&
            (r = parse_hashes(v, &mf->hashes)) != IMAGO_OK)
                return r;
        return IMAGO_OK;
}

/* keyids array + threshold into role (duplicates dropped). */
static int parse_role(json_t *o, const char *name, const struct imago_tuf_limits *lim,
                      struct imago_tuf_role *role)
{
        json_t *ids = json_object_get(o, "keyids");
        size_t i, j, n;
        int r;

        memset(role, 0, sizeof(*role));
        role->name = name;
        if (!json_is_object(o) || !json_is_array(ids))
                return F;
        if ((r = int_member(o, "threshold", 1, &role->threshold)) != IMAGO_OK)
                return r;
        n = json_array_size(ids);
        if (n > lim->max_keyids)
                return IMAGO_ETOOBIG;
        if (n > 0 && (role->keyids = calloc(n, sizeof(*role->keyids))) == NULL)
                return IMAGO_ENOMEM;
        for (i = 0; i < n; i++) {
                const char *id = elem_str(ids, i);
                int dup = 0;

                if (id == NULL || id[0] == '\0' || strlen(id) > IMAGO_TUF_KEYID_MAX)
                        return F;
                for (j = 0; j < role->n_keyids; j++)
                        dup |= strcmp(role->keyids[j], id) == 0;
                if (!dup)
                        role->keyids[role->n_keyids++] = id;
        }
        return IMAGO_OK;
}

static int parse_keys(json_t *o, const struct imago_tuf_limits *lim, struct imago_tuf_meta *m)
{
        const char *k;
        json_t *v;
        int r;

        if (!json_is_object(o))
                return F;
        if (json_object_size(o) > lim->max_keys)
                return IMAGO_ETOOBIG;
        if (json_object_size(o) == 0)
                return IMAGO_OK;
        if ((m->keys = calloc(json_object_size(o), sizeof(*m->keys))) == NULL)
                return IMAGO_ENOMEM;
        json_object_foreach(o, k, v)
        {
                struct imago_tuf_key *key = &m->keys[m->n_keys];

                if (k[0] == '\0' || strlen(k) > IMAGO_TUF_KEYID_MAX)
                        return F;
                key->keyid = k;
                if ((r = tuf_key_parse(v, key)) != IMAGO_OK)
                        return r;
                m->n_keys++;
        }
        return IMAGO_OK;
}

static const char *const ROOT_ROLES[4] = {"root", "timestamp", "snapshot", "targets"};

static int parse_root(json_t *s, const struct imago_tuf_limits *lim, struct imago_tuf_meta *m)
{
        json_t *roles = json_object_get(s, "roles"),
               *cs = json_object_get(s, "consistent_snapshot");
        size_t i;
        int r;

        if (cs != NULL) {
                if (!json_is_boolean(cs))
                        return F;
                m->consistent_snapshot = json_is_true(cs);
        }
        if ((r = parse_keys(json_object_get(s, "keys"), lim, m)) != IMAGO_OK)
                return r;
        if (!json_is_object(roles) || json_object_size(roles) != 4)
                return F;
        for (i = 0; i < 4; i++) {
                json_t *ro = json_object_get(roles, ROOT_ROLES[i]);

                if (ro == NULL)
                        return F;
                if ((r = parse_role(ro, ROOT_ROLES[i], lim, &m->roles[i])) != IMAGO_OK)
                        return r;
        }
        return IMAGO_OK;
}

static int parse_timestamp(json_t *s, struct imago_tuf_meta *m)
{
        json_t *meta = json_object_get(s, "meta");
        json_t *sm = json_object_get(meta, "snapshot.json");

        if (!json_is_object(meta) || json_object_size(meta) != 1 || sm == NULL)
                return F;
        if ((m->meta = calloc(1, sizeof(*m->meta))) == NULL)
                return IMAGO_ENOMEM;
        m->n_meta = 1;
        return parse_metafile("snapshot.json", sm, &m->meta[0]);
}

static int parse_snapshot(json_t *s, const struct imago_tuf_limits *lim, struct imago_tuf_meta *m)
{
        json_t *meta = json_object_get(s, "meta"), *v;
        const char *k;
        int r;

        if (!json_is_object(meta))
                return F;
        if (json_object_size(meta) > lim->max_meta)
                return IMAGO_ETOOBIG;
        if (json_object_size(meta) == 0)
                return IMAGO_OK;
        if ((m->meta = calloc(json_object_size(meta), sizeof(*m->meta))) == NULL)
                return IMAGO_ENOMEM;
        json_object_foreach(meta, k, v)
        {
                if ((r = parse_metafile(k, v, &m->meta[m->n_meta])) != IMAGO_OK)
                        return r;
                m->n_meta++;
        }
        return IMAGO_OK;
}

static int is_top_name(const char *n)
{
        size_t i;

        for (i = 0; i < 4; i++) {
                if (strcmp(n, ROOT_ROLES[i]) == 0)
                        return 1;
        }
        return 0;
}

static int parse_str_array(json_t *a, unsigned max, const char ***out, size_t *n)
{
        size_t i;

        if (!json_is_array(a))
                return F;
        if (json_array_size(a) > max)
                return IMAGO_ETOOBIG;
        *n = 0;
        if (json_array_size(a) == 0)
                return IMAGO_OK;
        if ((*out = calloc(json_array_size(a), sizeof(**out))) == NULL)
                return IMAGO_ENOMEM;
        for (i = 0; i < json_array_size(a); i++) {
                if (((*out)[i] = elem_str(a, i)) == NULL)
                        return F;
                (*n)++;
        }
        return IMAGO_OK;
}

static int parse_delegation(json_t *o, const struct imago_tuf_limits *lim,
                            struct imago_tuf_delegation *d)
{
        json_t *term = json_object_get(o, "terminating");
        json_t *paths = json_object_get(o, "paths");
        json_t *pref = json_object_get(o, "path_hash_prefixes");
        const char *name;
        int r;

        if (!json_is_object(o))
                return F;
        name = str(o, "name");
        if (name == NULL || name[0] == '\0' || strlen(name) > IMAGO_TUF_ROLE_NAME_MAX ||
            is_top_name(name))
                return F;
        if ((r = parse_role(o, name, lim, &d->role)) != IMAGO_OK)
                return r;
        if (!json_is_boolean(term))
                return F;
        d->terminating = json_is_true(term);
        if ((paths == NULL) == (pref == NULL))
                return F;
        if (paths != NULL) {
                d->has_paths = 1;
                return parse_str_array(paths, lim->max_paths, &d->paths, &d->n_paths);
        }
        return parse_str_array(pref, lim->max_paths, &d->prefixes, &d->n_prefixes);
}

static int parse_delegations(json_t *o, const struct imago_tuf_limits *lim,
                             struct imago_tuf_meta *m)
{
        json_t *roles = json_object_get(o, "roles");
        size_t i, j;
        int r;

        if (!json_is_object(o) || !json_is_array(roles))
                return F;
        m->has_delegations = 1;
        if ((r = parse_keys(json_object_get(o, "keys"), lim, m)) != IMAGO_OK)
                return r;
        if (json_array_size(roles) > lim->max_delegations)
                return IMAGO_ETOOBIG;
        if (json_array_size(roles) == 0)
                return IMAGO_OK;
        if ((m->delegations = calloc(json_array_size(roles), sizeof(*m->delegations))) == NULL)
                return IMAGO_ENOMEM;
        for (i = 0; i < json_array_size(roles); i++) {
                struct imago_tuf_delegation *d = &m->delegations[i];

                m->n_delegations++;
                if ((r = parse_delegation(json_array_get(roles, i), lim, d)) != IMAGO_OK)
                        return r;
                for (j = 0; j < i; j++) {
                        if (strcmp(m->delegations[j].role.name, d->role.name) == 0)
                                return F;
                }
        }
        return IMAGO_OK;
}

static int parse_targets(json_t *s, const struct imago_tuf_limits *lim, struct imago_tuf_meta *m)
{
        json_t *tg = json_object_get(s, "targets"), *v, *del = json_object_get(s, "delegations");
        const char *k;
        int r;

        if (!json_is_object(tg))
                return F;
        if (json_object_size(tg) > lim->max_targets)
                return IMAGO_ETOOBIG;
        if (json_object_size(tg) > 0 &&
            (m->targets = calloc(json_object_size(tg), sizeof(*m->targets))) == NULL)
                return IMAGO_ENOMEM;
        json_object_foreach(tg, k, v)
        {
                struct imago_tuf_target *t = &m->targets[m->n_targets];
                json_t *custom;

                if (!json_is_object(v))
                        return F;
                t->name = k;
                if ((r = int_member(v, "length", 0, &t->length)) != IMAGO_OK)
                        return r;
                if ((r = parse_hashes(json_object_get(v, "hashes"), &t->hashes)) != IMAGO_OK)
                        return r;
                if ((custom = json_object_get(v, "custom")) != NULL) {
                        if (!json_is_object(custom))
                                return F;
                        t->custom = custom;
                }
                m->n_targets++;
        }
        if (del != NULL)
                return parse_delegations(del, lim, m);
        return IMAGO_OK;
}

static size_t max_of(enum imago_tuf_type type, const struct imago_tuf_limits *l)
{
        switch (type) {
        case IMAGO_TUF_ROOT:
                return l->root_max;
        case IMAGO_TUF_TIMESTAMP:
                return l->timestamp_max;
        case IMAGO_TUF_SNAPSHOT:
                return l->snapshot_max;
        case IMAGO_TUF_TARGETS:
                return l->targets_max;
        }
        return 0;
}

static const char *type_name(enum imago_tuf_type type)
{
        switch (type) {
        case IMAGO_TUF_ROOT:
                return "root";
        case IMAGO_TUF_TIMESTAMP:
                return "timestamp";
        case IMAGO_TUF_SNAPSHOT:
                return "snapshot";
        case IMAGO_TUF_TARGETS:
                return "targets";
        }
        return "";
}

int imago_tuf_meta_parse(enum imago_tuf_type type, const uint8_t *buf, size_t len,
                         const struct imago_tuf_limits *lim, struct imago_tuf_meta *m)
{
        static const char *const env_keys[] = {"signed", "signatures"};
        struct imago_tuf_limits dl;
        const char *t, *exp;
        size_t i;
        int r;

        if (m == NULL)
                return IMAGO_EINVAL;
        memset(m, 0, sizeof(*m));
        if ((buf == NULL && len > 0) || type < IMAGO_TUF_ROOT || type > IMAGO_TUF_TARGETS)
                return IMAGO_EINVAL;
        if (lim == NULL) {
                imago_tuf_limits_default(&dl);
                lim = &dl;
        }
        r = imago_json_object(buf, len, max_of(type, lim), &m->doc);
        if (r == IMAGO_EMALFORMED)
                r = F;
        if (r != IMAGO_OK)
                goto out;
        m->signed_obj = json_object_get(m->doc, "signed");
        m->signatures = json_object_get(m->doc, "signatures");
        if (!imago_json_only_keys(m->doc, env_keys, 2) || !json_is_object(m->signed_obj) ||
            !json_is_array(m->signatures)) {
                r = F;
                goto out;
        }
        if (json_array_size(m->signatures) > lim->max_sigs) {
                r = IMAGO_ETOOBIG;
                goto out;
        }
        for (i = 0; i < json_array_size(m->signatures); i++) {
                static const char *const sig_keys[] = {"keyid", "sig"};
                json_t *s = json_array_get(m->signatures, i);

                if (!json_is_object(s) || !imago_json_only_keys(s, sig_keys, 2) ||
                    str(s, "keyid") == NULL || str(s, "sig") == NULL) {
                        r = F;
                        goto out;
                }
        }
        /* the bytes signed; also refuses reals anywhere in signed */
        if ((r = imago_tuf_cjson(m->signed_obj, &m->canonical, &m->canonical_len)) != IMAGO_OK)
                goto out;
        t = str(m->signed_obj, "_type");
        m->spec_version = str(m->signed_obj, "spec_version");
        exp = str(m->signed_obj, "expires");
        if (t == NULL || strcmp(t, type_name(type)) != 0 ||
            parse_spec_version(m->spec_version) != IMAGO_OK || exp == NULL ||
            imago_tuf_time_parse(exp, &m->expires) != IMAGO_OK) {
                r = F;
                goto out;
        }
        if ((r = int_member(m->signed_obj, "version", 1, &m->version)) != IMAGO_OK)
                goto out;
        m->type = type;
        switch (type) {
        case IMAGO_TUF_ROOT:
                r = parse_root(m->signed_obj, lim, m);
                break;
        case IMAGO_TUF_TIMESTAMP:
                r = parse_timestamp(m->signed_obj, m);
                break;
        case IMAGO_TUF_SNAPSHOT:
                r = parse_snapshot(m->signed_obj, lim, m);
                break;
        case IMAGO_TUF_TARGETS:
                r = parse_targets(m->signed_obj, lim, m);
                break;
        }
out:
        if (r != IMAGO_OK)
                imago_tuf_meta_free(m);
        return r;
}

static void free_role(struct imago_tuf_role *r)
{
        free(r->keyids);
}

void imago_tuf_meta_free(struct imago_tuf_meta *m)
{
        size_t i;

        if (m == NULL)
                return;
        for (i = 0; i < 4; i++)
                free_role(&m->roles[i]);
        for (i = 0; i < m->n_delegations; i++) {
                free_role(&m->delegations[i].role);
                free(m->delegations[i].paths);
                free(m->delegations[i].prefixes);
        }
        free(m->delegations);
        free(m->targets);
        free(m->meta);
        free(m->keys);
        free(m->canonical);
        json_decref(m->doc);
        memset(m, 0, sizeof(*m));
}
