/* See datadir_priv.h: the app side of a data directory (keys/, app.db, audit.db). */
#define _POSIX_C_SOURCE 200809L
#include "cloud/datadir.h"
#include "cloud/datadir_priv.h"

#include "base/err.h"
#include "base/log.h"
#include "cloud/appdb/appdb.h"
#include "cloud/audit/audit.h"
#include "cloud/repo/repo.h"
#include "crypto/keys.h"

#include <limits.h>
#include <string.h>
#include <sys/stat.h>

/* A new key of type saved encrypted at dir/rel (and its public half at dir/rel_pub if given). */
static int new_key(const char *dir, enum imago_key_type type, const char *rel, const char *rel_pub,
                   const char *passphrase)
{
        struct imago_privkey key;
        struct imago_pubkey pub;
        char path[PATH_MAX];
        int r;

        memset(&key, 0, sizeof(key));
        if ((r = imago_cloud_datadir_path(path, sizeof(path), dir, rel)) != 0)
                goto out;
        if ((r = imago_privkey_generate(type, &key)) != 0 ||
            (r = imago_privkey_save(&key, path, passphrase)) != 0)
                goto out;
        if (rel_pub != NULL &&
            ((r = imago_cloud_datadir_path(path, sizeof(path), dir, rel_pub)) != 0 ||
             (r = imago_privkey_public(&key, &pub)) != 0 ||
             (r = imago_pubkey_save(&pub, path)) != 0))
                goto out;
out:
        if (r != 0)
                IMAGO_ERR_R(r, "%s", rel);
        imago_privkey_free(&key);
        return r;
}

int imago_cloud_datadir_app_files(const char *dir, const char *passphrase)
{
        struct imago_appdb *db = NULL;
        struct imago_audit *audit = NULL;
        char path[PATH_MAX];
        int r;

        if (dir == NULL || passphrase == NULL)
                return IMAGO_EINVAL;
        if ((r = new_key(dir, IMAGO_KEY_ED25519, IMAGO_CLOUD_F_CMD_KEY, IMAGO_CLOUD_F_CMD_PUB,
                         passphrase)) != 0 ||
            (r = new_key(dir, IMAGO_KEY_P256, IMAGO_CLOUD_F_REGTOKEN_KEY, NULL, passphrase)) != 0)
                goto out;
        /* the image repository's online keys (docs/repo.md) */
        if ((r = imago_repo_key_create(dir, IMAGO_REPO_F_SNAPSHOT, IMAGO_REPO_F_SNAPSHOT_P,
                                       passphrase)) != 0 ||
            (r = imago_repo_key_create(dir, IMAGO_REPO_F_TIMESTAMP, IMAGO_REPO_F_TIMESTAMP_P,
                                       passphrase)) != 0) {
                IMAGO_ERR_R(r, "repository keys");
                goto out;
        }
        if ((r = imago_cloud_datadir_path(path, sizeof(path), dir, IMAGO_CLOUD_F_APPDB)) != 0)
                goto out;
        if ((r = imago_appdb_open(path, &db)) != 0) {
                IMAGO_ERR_R(r, "%s", path);
                goto out;
        }
        if ((r = imago_cloud_datadir_path(path, sizeof(path), dir, IMAGO_CLOUD_F_AUDIT)) != 0)
                goto out;
        if ((r = imago_audit_open(path, &audit)) != 0)
                IMAGO_ERR_R(r, "%s", path);
out:
        imago_audit_close(audit);
        imago_appdb_close(db);
        return r;
}

int imago_cloud_datadir_check_app(const char *data_dir, const char **missing)
{
        static const char *const files[] = {IMAGO_CLOUD_F_API_CRT,      IMAGO_CLOUD_F_API_KEY,
                                            IMAGO_CLOUD_F_CMD_KEY,      IMAGO_CLOUD_F_CMD_PUB,
                                            IMAGO_CLOUD_F_REGTOKEN_KEY, IMAGO_CLOUD_F_APPDB,
                                            IMAGO_CLOUD_F_AUDIT};
        char path[PATH_MAX];
        struct stat st;
        size_t i;
        int r;

        if (missing != NULL)
                *missing = NULL;
        if (data_dir == NULL)
                return IMAGO_EINVAL;
        for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                if ((r = imago_cloud_datadir_path(path, sizeof(path), data_dir, files[i])) != 0)
                        return r;
                if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
                        if (missing != NULL)
                                *missing = files[i];
                        return IMAGO_ENOTFOUND;
                }
        }
        return 0;
}
