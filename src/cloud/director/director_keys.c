/* imago_director: the director's keys and its root version 1 (see director.h). */
#define _POSIX_C_SOURCE 200809L
#include "cloud/director/director_priv.h"

#include "base/err.h"
#include "base/file.h"
#include "cloud/repo/repo.h"
#include "tuf/tuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int imago_director_keys_exist(const char *dir)
{
        char a[PATH_MAX], b[PATH_MAX];
        struct stat st;

        if (dir == NULL || dir_path(a, sizeof(a), dir, DIR_F_ROOT_KEY) != 0 ||
            dir_path(b, sizeof(b), dir, DIR_F_KEY) != 0)
                return 0;
        return stat(a, &st) == 0 && stat(b, &st) == 0;
}

/* {"keyids":[id],"threshold":1} */
static json_t *role(const char *keyid)
{
        return json_pack("{s:[s],s:I}", "keyids", keyid, "threshold", (json_int_t)1);
}

static int write_root(const char *dir, const struct imago_privkey *rk,
                      const struct imago_privkey *ok, int64_t now)
{
        json_t *rkey = NULL, *okey = NULL, *s = NULL;
        char rid[65], oid[65], when[32], path[PATH_MAX], *doc = NULL;
        size_t len = 0;
        int r;

        if ((r = imago_tuf_key_public(rk, &rkey)) != 0 ||
            (r = imago_tuf_key_public(ok, &okey)) != 0 || (r = imago_tuf_keyid(rkey, rid)) != 0 ||
            (r = imago_tuf_keyid(okey, oid)) != 0 ||
            (r = dir_time_fmt(now + DIR_ROOT_LIFE, when)) != 0)
                goto out;
        r = IMAGO_ENOMEM;
        s = json_pack("{s:s,s:s,s:I,s:s,s:b,s:{s:O,s:O},s:{s:o,s:o,s:o,s:o}}", "_type", "root",
                      "spec_version", DIR_SPEC, "version", (json_int_t)1, "expires", when,
                      "consistent_snapshot", 1, "keys", rid, rkey, oid, okey, "roles", "root",
                      role(rid), "targets", role(oid), "snapshot", role(oid), "timestamp",
                      role(oid));
        if (s == NULL)
                goto out;
        if ((r = dir_sign_doc(rk, s, &doc, &len)) != 0)
                goto out;
        if ((r = dir_path(path, sizeof(path), dir, "director")) != 0)
                goto out;
        (void)mkdir(path, 0755);
        if ((r = dir_path(path, sizeof(path), dir, DIR_D_META)) != 0)
                goto out;
        (void)mkdir(path, 0755);
        if ((r = dir_path(path, sizeof(path), dir, DIR_D_META "/1.root.json")) != 0 ||
            (r = imago_file_write_atomic(path, doc, len, 0644)) != 0 ||
            (r = dir_path(path, sizeof(path), dir, DIR_D_META "/root.json")) != 0 ||
            (r = imago_file_write_atomic(path, doc, len, 0644)) != 0)
                goto out;
out:
        json_decref(rkey);
        json_decref(okey);
        json_decref(s);
        free(doc);
        return r;
}

int imago_director_keys_create(const char *dir, const char *passphrase)
{
        struct imago_privkey rk = {0}, ok = {0};
        char path[PATH_MAX];
        struct stat st;
        int r = IMAGO_EINVAL;

        if (dir == NULL || passphrase == NULL)
                goto out;
        r = IMAGO_EEXIST;
        if (dir_path(path, sizeof(path), dir, DIR_F_ROOT_KEY) != 0 || stat(path, &st) == 0 ||
            dir_path(path, sizeof(path), dir, DIR_F_KEY) != 0 || stat(path, &st) == 0)
                goto out;
        if ((r = imago_repo_key_create(dir, DIR_F_ROOT_KEY, DIR_F_ROOT_PUB, passphrase)) != 0 ||
            (r = imago_repo_key_create(dir, DIR_F_KEY, DIR_F_PUB, passphrase)) != 0)
                goto out;
        if ((r = dir_path(path, sizeof(path), dir, DIR_F_ROOT_KEY)) != 0 ||
            (r = imago_privkey_load(path, passphrase, &rk)) != 0 ||
            (r = dir_path(path, sizeof(path), dir, DIR_F_KEY)) != 0 ||
            (r = imago_privkey_load(path, passphrase, &ok)) != 0)
                goto out;
        r = write_root(dir, &rk, &ok, (int64_t)time(NULL));
out:
        imago_privkey_free(&rk);
        imago_privkey_free(&ok);
        return r;
}
