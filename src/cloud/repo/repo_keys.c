/* See repo.h: the online snapshot and timestamp keys of a data directory. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/repo/repo_priv.h"

#include "base/err.h"

#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int imago_repo_key_create(const char *data_dir, const char *rel, const char *rel_pub,
                          const char *passphrase)
{
        struct imago_privkey key;
        struct imago_pubkey pub;
        char path[PATH_MAX], *slash;
        int r;

        if (data_dir == NULL || rel == NULL || rel_pub == NULL || passphrase == NULL)
                return IMAGO_EINVAL;
        memset(&key, 0, sizeof(key));
        if ((r = imago_repo_path(path, sizeof(path), data_dir, NULL, rel)) != IMAGO_OK)
                goto out;
        if ((slash = strrchr(path, '/')) != NULL) { /* keys/ (0700) when it is missing */
                *slash = '\0';
                (void)mkdir(path, 0700);
                *slash = '/';
        }
        if ((r = imago_privkey_generate(IMAGO_KEY_ED25519, &key)) != IMAGO_OK ||
            (r = imago_privkey_save(&key, path, passphrase)) != IMAGO_OK)
                goto out;
        if ((r = imago_repo_path(path, sizeof(path), data_dir, NULL, rel_pub)) != IMAGO_OK ||
            (r = imago_privkey_public(&key, &pub)) != IMAGO_OK)
                goto out;
        (void)unlink(path); /* a stale public half of a key that no longer exists */
        r = imago_pubkey_save(&pub, path);
out:
        imago_privkey_free(&key);
        return r;
}

static int load_one(const char *data_dir, const char *rel, const char *rel_pub,
                    const char *passphrase, int create, struct imago_privkey *k)
{
        char path[PATH_MAX];
        struct stat st;
        int r;

        if ((r = imago_repo_path(path, sizeof(path), data_dir, NULL, rel)) != IMAGO_OK)
                return r;
        if (create && stat(path, &st) != 0 &&
            (r = imago_repo_key_create(data_dir, rel, rel_pub, passphrase)) != IMAGO_OK)
                return r;
        return imago_privkey_load(path, passphrase, k);
}

int imago_repo_keys_load(const char *data_dir, const char *passphrase, int create,
                         struct imago_privkey *snapshot, struct imago_privkey *timestamp)
{
        int r;

        if (data_dir == NULL || passphrase == NULL || snapshot == NULL || timestamp == NULL)
                return IMAGO_EINVAL;
        memset(snapshot, 0, sizeof(*snapshot));
        memset(timestamp, 0, sizeof(*timestamp));
        if ((r = load_one(data_dir, IMAGO_REPO_F_SNAPSHOT, IMAGO_REPO_F_SNAPSHOT_P, passphrase,
                          create, snapshot)) != IMAGO_OK ||
            (r = load_one(data_dir, IMAGO_REPO_F_TIMESTAMP, IMAGO_REPO_F_TIMESTAMP_P, passphrase,
                          create, timestamp)) != IMAGO_OK) {
                imago_privkey_free(snapshot);
                imago_privkey_free(timestamp);
        }
        return r;
}
