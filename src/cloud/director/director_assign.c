/* imago_director: assignments, and targets looked up in the image repository (see director.h). */
#include "cloud/director/director_priv.h"

#include "base/err.h"
#include "base/file.h"
#include "cloud/repo/repo.h"
#include "tuf/tuf.h"

#include <stdio.h>
#include <string.h>

static int same_target(const struct imago_director_target *a, const struct imago_director_target *b)
{
        return strcmp(a->name, b->name) == 0 && a->length == b->length &&
               memcmp(a->sha256, b->sha256, IMAGO_SHA256_LEN) == 0 &&
               strcmp(a->hardware_id, b->hardware_id) == 0 && strcmp(a->version, b->version) == 0 &&
               a->security_counter == b->security_counter && a->rollout == b->rollout;
}

static int change(struct imago_director *d, const char *device,
                  const struct imago_director_target *t, int64_t now)
{
        struct dir_row row;
        int r;

        if ((r = dir_exec(d->db, "BEGIN IMMEDIATE")) != 0)
                return r;
        if ((r = dir_row_load(d, device, &row)) != 0)
                goto out;
        if (t == NULL ? !row.dv.assigned : (row.dv.assigned && same_target(&row.dv.target, t)))
                goto out; /* nothing changes */
        memset(&row.dv.target, 0, sizeof(row.dv.target));
        row.dv.assigned = t != NULL;
        if (t != NULL)
                row.dv.target = *t;
        r = dir_publish(d, &row, 3, now);
out:
        dir_row_free(&row);
        if (r == 0)
                return dir_exec(d->db, "COMMIT");
        (void)dir_exec(d->db, "ROLLBACK");
        return r;
}

int imago_director_assign(struct imago_director *d, const char *device,
                          const struct imago_director_target *t, int64_t now)
{
        if (d == NULL || !imago_device_id_valid(device) || !dir_target_valid(t) || now < 0)
                return IMAGO_EINVAL;
        if (d->key.type == IMAGO_KEY_NONE)
                return IMAGO_EPERM;
        return change(d, device, t, now);
}

int imago_director_clear(struct imago_director *d, const char *device, int64_t now)
{
        if (d == NULL || !imago_device_id_valid(device) || now < 0)
                return IMAGO_EINVAL;
        if (d->key.type == IMAGO_KEY_NONE)
                return IMAGO_EPERM;
        return change(d, device, NULL, now);
}

static int custom_fields(json_t *custom, struct imago_director_target *t)
{
        json_t *hw = json_object_get(custom, "hardware_id"),
               *v = json_object_get(custom, "version"),
               *sc = json_object_get(custom, "security_counter");

        if (!json_is_string(hw) || !json_is_string(v) || !json_is_integer(sc) ||
            !dir_hwid_valid(json_string_value(hw)) || !dir_version_valid(json_string_value(v)) ||
            json_integer_value(sc) < 0 || json_integer_value(sc) > (json_int_t)UINT32_MAX)
                return IMAGO_ETUF_FORMAT;
        snprintf(t->hardware_id, sizeof(t->hardware_id), "%s", json_string_value(hw));
        snprintf(t->version, sizeof(t->version), "%s", json_string_value(v));
        t->security_counter = (uint32_t)json_integer_value(sc);
        return 0;
}

int imago_director_target_from_repo(const char *dir, const char *name,
                                    struct imago_director_target *t)
{
        struct imago_tuf_meta m = {0};
        struct imago_repo_status st;
        char repo[PATH_MAX], rel[64], path[PATH_MAX];
        uint8_t *buf = NULL;
        size_t len = 0, i, j;
        int r = IMAGO_EINVAL;

        if (t != NULL)
                memset(t, 0, sizeof(*t));
        if (dir == NULL || name == NULL || t == NULL || strlen(name) >= sizeof(t->name))
                goto out;
        if ((r = dir_path(repo, sizeof(repo), dir, IMAGO_REPO_DATA_REPO)) != 0 ||
            (r = imago_repo_status(repo, &st)) != 0)
                goto out;
        r = IMAGO_ENOTFOUND;
        if (!st.published)
                goto out;
        snprintf(rel, sizeof(rel), IMAGO_REPO_D_META "/%llu.targets.json",
                 (unsigned long long)st.targets_version);
        if ((r = dir_path(path, sizeof(path), repo, rel)) != 0 ||
            (r = imago_file_read(path, IMAGO_TUF_TARGETS_MAX, &buf, &len)) != 0 ||
            (r = imago_tuf_meta_parse(IMAGO_TUF_TARGETS, buf, len, NULL, &m)) != 0)
                goto out;
        r = IMAGO_ENOTFOUND;
        for (i = 0; i < m.n_targets; i++) {
                const struct imago_tuf_target *x = &m.targets[i];

                if (strcmp(x->name, name) != 0)
                        continue;
                r = IMAGO_ETUF_FORMAT;
                for (j = 0; j < x->hashes.n; j++)
                        if (strcmp(x->hashes.h[j].alg, "sha256") == 0 &&
                            imago_hex_decode(x->hashes.h[j].hex, t->sha256, IMAGO_SHA256_LEN) == 0)
                                break;
                if (j == x->hashes.n || x->custom == NULL || (r = custom_fields(x->custom, t)) != 0)
                        goto out;
                snprintf(t->name, sizeof(t->name), "%s", name);
                t->length = x->length;
                t->rollout = 0;
                r = dir_target_valid(t) ? 0 : IMAGO_ETUF_FORMAT;
                goto out;
        }
out:
        imago_tuf_meta_free(&m);
        if (buf != NULL)
                imago_file_free(buf, len);
        if (r != 0 && t != NULL)
                memset(t, 0, sizeof(*t));
        return r;
}
