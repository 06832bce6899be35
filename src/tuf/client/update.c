/*
 * See client.h: open, init, and the refresh of the top-level metadata
 * (specification 5.2-5.6, in order).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "tuf/client/client_priv.h"

static char *dup_str(const char *s, int slash)
{
        size_t n = strlen(s);
        int add = slash && (n == 0 || s[n - 1] != '/');
        char *d = malloc(n + 2);

        if (d == NULL)
                return NULL;
        memcpy(d, s, n);
        if (add)
                d[n++] = '/';
        d[n] = '\0';
        return d;
}

int imago_tuf_client_init_dir(const char *dir, const char *trusted_root_file)
{
        struct imago_tuf_trusted t;
        struct imago_tuf_limits lim;
        uint8_t *data = NULL;
        size_t len = 0, n;
        char *path = NULL;
        int r;

        memset(&t, 0, sizeof(t));
        if (dir == NULL || trusted_root_file == NULL)
                return IMAGO_EINVAL;
        imago_tuf_limits_default(&lim);
        r = imago_file_read(trusted_root_file, lim.root_max, &data, &len);
        if (r != IMAGO_OK)
                goto out;
        r = imago_tuf_trusted_init(&t, data, len, &lim);
        if (r != IMAGO_OK) {
                IMAGO_ERR_R(r, "trusted root refused");
                goto out;
        }
        n = strlen(dir) + sizeof("/root.json");
        path = malloc(n);
        if (path == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        memcpy(path, dir, strlen(dir));
        memcpy(path + strlen(dir), "/root.json", sizeof("/root.json"));
        r = imago_file_write_atomic(path, data, len, 0644);
out:
        imago_tuf_trusted_free(&t);
        free(path);
        if (data != NULL)
                imago_file_free(data, len);
        return r;
}

int imago_tuf_client_open(struct imago_tuf_client *c, const char *dir, const char *metadata_url,
                          const struct imago_tuf_fetcher *fetch, const struct imago_tuf_limits *lim)
{
        struct imago_tuf_limits dl;
        uint8_t *data = NULL;
        size_t len = 0;
        int r;

        if (c == NULL)
                return IMAGO_EINVAL;
        memset(c, 0, sizeof(*c));
        if (dir == NULL || metadata_url == NULL || fetch == NULL || fetch->get == NULL)
                return IMAGO_EINVAL;
        if (lim == NULL) {
                imago_tuf_limits_default(&dl);
                lim = &dl;
        }
        c->fetch = *fetch;
        c->dir = dup_str(dir, 0);
        c->url = dup_str(metadata_url, 1);
        if (c->dir == NULL || c->url == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        r = imago_tuf_mdir_read(c, "root", lim->root_max, &data, &len);
        if (r != IMAGO_OK) {
                IMAGO_ERR_R(r, "no trusted root in %s", dir);
                goto out;
        }
        r = imago_tuf_trusted_init(&c->trusted, data, len, lim);
        if (r != IMAGO_OK)
                IMAGO_ERR_R(r, "trusted root in %s refused", dir);
out:
        if (data != NULL)
                imago_file_free(data, len);
        if (r != IMAGO_OK)
                imago_tuf_client_close(c);
        return r;
}

void imago_tuf_client_close(struct imago_tuf_client *c)
{
        if (c == NULL)
                return;
        imago_tuf_trusted_free(&c->trusted);
        free(c->dir);
        free(c->url);
        memset(c, 0, sizeof(*c));
}

/* Copy of a root role's key ids (to compare after the chain replaced the root). */
struct keyset {
        char **ids;
        size_t n;
};

static void keyset_free(struct keyset *k)
{
        size_t i;

        for (i = 0; i < k->n; i++)
                free(k->ids[i]);
        free(k->ids);
        memset(k, 0, sizeof(*k));
}

static int keyset_copy(struct keyset *k, const struct imago_tuf_role *role)
{
        size_t i;

        memset(k, 0, sizeof(*k));
        k->ids = calloc(role->n_keyids ? role->n_keyids : 1, sizeof(char *));
        if (k->ids == NULL)
                return IMAGO_ENOMEM;
        for (i = 0; i < role->n_keyids; i++) {
                k->ids[i] = dup_str(role->keyids[i], 0);
                if (k->ids[i] == NULL)
                        return IMAGO_ENOMEM;
                k->n++;
        }
        return IMAGO_OK;
}

static int keyset_same(const struct keyset *k, const struct imago_tuf_role *role)
{
        size_t i, j;

        if (k->n != role->n_keyids)
                return 0;
        for (i = 0; i < k->n; i++) {
                for (j = 0; j < role->n_keyids; j++)
                        if (strcmp(k->ids[i], role->keyids[j]) == 0)
                                break;
                if (j == role->n_keyids)
                        return 0;
        }
        return 1;
}

/* 5.3.2-5.3.11: N+1.root.json until there is none. */
static int update_root_chain(struct imago_tuf_client *c)
{
        struct keyset ts = {0}, sn = {0};
        uint8_t *data = NULL;
        size_t len = 0;
        unsigned step;
        int r;

        r = keyset_copy(&ts, &c->trusted.root.roles[IMAGO_TUF_ROLE_TIMESTAMP]);
        if (r == IMAGO_OK)
                r = keyset_copy(&sn, &c->trusted.root.roles[IMAGO_TUF_ROLE_SNAPSHOT]);
        if (r != IMAGO_OK)
                goto out;
        for (step = 0; step < IMAGO_TUF_MAX_ROOT_STEPS; step++) {
                r = imago_tuf_fetch_meta(c, "root", c->trusted.root.version + 1,
                                         c->trusted.limits.root_max, &data, &len);
                if (r == IMAGO_ENOTFOUND) {
                        r = IMAGO_OK;
                        break;
                }
                if (r != IMAGO_OK)
                        goto out;
                r = imago_tuf_update_root(&c->trusted, data, len);
                if (r != IMAGO_OK) {
                        IMAGO_ERR_R(r, "root version %llu refused",
                                    (unsigned long long)c->trusted.root.version + 1);
                        goto out;
                }
                r = imago_tuf_mdir_write(c, "root", data, len);
                if (r != IMAGO_OK)
                        goto out;
                free(data);
                data = NULL;
        }
        /* 5.3.11: new timestamp or snapshot keys make the persisted ones useless for the rollback
         * checks (fast-forward attack recovery): delete both.  A crash before the deletes is
         * harmless: those files no longer verify with the new root and are ignored. */
        if (!keyset_same(&ts, &c->trusted.root.roles[IMAGO_TUF_ROLE_TIMESTAMP]) ||
            !keyset_same(&sn, &c->trusted.root.roles[IMAGO_TUF_ROLE_SNAPSHOT])) {
                r = imago_tuf_mdir_delete(c, "timestamp");
                if (r == IMAGO_OK)
                        r = imago_tuf_mdir_delete(c, "snapshot");
        }
out:
        free(data);
        keyset_free(&ts);
        keyset_free(&sn);
        return r;
}

/* 5.4: the persisted timestamp first (for the rollback checks; its errors do not matter), then
 * the repository's. */
static int update_timestamp(struct imago_tuf_client *c)
{
        uint8_t *data = NULL;
        size_t len = 0;
        int r, kept = 0;

        if (imago_tuf_mdir_read(c, "timestamp", c->trusted.limits.timestamp_max, &data, &len) ==
            IMAGO_OK) {
                r = imago_tuf_update_timestamp(&c->trusted, data, len, c->now_used, &kept);
                if (r != IMAGO_OK)
                        IMAGO_DEBUG("persisted timestamp not trusted (%s)", imago_errname(r));
                imago_file_free(data, len);
                data = NULL;
        }
        r = imago_tuf_fetch_meta(c, "timestamp", 0, c->trusted.limits.timestamp_max, &data, &len);
        if (r != IMAGO_OK)
                goto out;
        kept = 0;
        r = imago_tuf_update_timestamp(&c->trusted, data, len, c->now_used, &kept);
        if (r != IMAGO_OK) {
                IMAGO_ERR_R(r, "timestamp refused");
                goto out;
        }
        if (!kept)
                r = imago_tuf_mdir_write(c, "timestamp", data, len);
out:
        free(data);
        return r;
}

static const struct imago_tuf_metafile *find_meta(const struct imago_tuf_meta *m, const char *name)
{
        size_t i;

        for (i = 0; i < m->n_meta; i++)
                if (strcmp(m->meta[i].name, name) == 0)
                        return &m->meta[i];
        return NULL;
}

static size_t bound(const struct imago_tuf_metafile *mf, size_t limit)
{
        if (mf != NULL && mf->has_length && mf->length < limit)
                return (size_t)mf->length;
        return limit;
}

/* 5.5: the persisted snapshot if it is still the one the timestamp names, else the repository's. */
static int update_snapshot(struct imago_tuf_client *c)
{
        const struct imago_tuf_metafile *mf;
        uint8_t *data = NULL;
        size_t len = 0;
        int r;

        if (imago_tuf_mdir_read(c, "snapshot", c->trusted.limits.snapshot_max, &data, &len) ==
            IMAGO_OK) {
                r = imago_tuf_update_snapshot(&c->trusted, data, len, c->now_used, 1);
                imago_file_free(data, len);
                data = NULL;
                if (r == IMAGO_OK)
                        return IMAGO_OK;
                IMAGO_DEBUG("persisted snapshot not final (%s)", imago_errname(r));
        }
        mf = find_meta(&c->trusted.timestamp, "snapshot.json");
        if (mf == NULL)
                return IMAGO_ETUF_FORMAT;
        r = imago_tuf_fetch_meta(c, "snapshot",
                                 c->trusted.root.consistent_snapshot ? mf->version : 0,
                                 bound(mf, c->trusted.limits.snapshot_max), &data, &len);
        if (r == IMAGO_ENOTFOUND)
                r = IMAGO_ETUF_CONSISTENCY; /* the timestamp names a snapshot that is not there */
        if (r != IMAGO_OK)
                goto out;
        r = imago_tuf_update_snapshot(&c->trusted, data, len, c->now_used, 0);
        if (r != IMAGO_OK) {
                IMAGO_ERR_R(r, "snapshot refused");
                goto out;
        }
        r = imago_tuf_mdir_write(c, "snapshot", data, len);
out:
        free(data);
        return r;
}

int imago_tuf_load_targets(struct imago_tuf_client *c, const char *role, const char *delegator)
{
        const struct imago_tuf_metafile *mf;
        char name[IMAGO_TUF_ROLE_NAME_MAX + 8];
        uint8_t *data = NULL;
        size_t len = 0;
        int r;

        if (strlen(role) > IMAGO_TUF_ROLE_NAME_MAX)
                return IMAGO_ETOOBIG;
        if (imago_tuf_mdir_read(c, role, c->trusted.limits.targets_max, &data, &len) == IMAGO_OK) {
                r = imago_tuf_update_targets(&c->trusted, role, delegator, data, len, c->now_used);
                imago_file_free(data, len);
                data = NULL;
                if (r == IMAGO_OK)
                        return IMAGO_OK;
                IMAGO_DEBUG("persisted %s not final (%s)", role, imago_errname(r));
        }
        memcpy(name, role, strlen(role));
        memcpy(name + strlen(role), ".json", sizeof(".json"));
        mf = find_meta(&c->trusted.snapshot, name);
        if (mf == NULL) {
                IMAGO_ERR("%s is not in the snapshot", role);
                return IMAGO_ETUF_CONSISTENCY;
        }
        r = imago_tuf_fetch_meta(c, role, c->trusted.root.consistent_snapshot ? mf->version : 0,
                                 bound(mf, c->trusted.limits.targets_max), &data, &len);
        if (r == IMAGO_ENOTFOUND)
                r = IMAGO_ETUF_CONSISTENCY;
        if (r != IMAGO_OK)
                goto out;
        r = imago_tuf_update_targets(&c->trusted, role, delegator, data, len, c->now_used);
        if (r != IMAGO_OK) {
                IMAGO_ERR_R(r, "%s metadata refused", role);
                goto out;
        }
        r = imago_tuf_mdir_write(c, role, data, len);
out:
        free(data);
        return r;
}

int imago_tuf_client_refresh(struct imago_tuf_client *c)
{
        int r;

        if (c == NULL || c->dir == NULL)
                return IMAGO_EINVAL;
        if (c->refreshed)
                return IMAGO_ESTATE; /* the trusted set follows the spec's order once */
        c->now_used = c->now != 0 ? c->now : (int64_t)time(NULL);
        r = update_root_chain(c);
        if (r == IMAGO_OK)
                r = update_timestamp(c);
        if (r == IMAGO_OK)
                r = update_snapshot(c);
        if (r == IMAGO_OK)
                r = imago_tuf_load_targets(c, "targets", "root");
        if (r == IMAGO_OK)
                c->refreshed = 1;
        return r;
}
