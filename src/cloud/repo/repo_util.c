/* See repo_priv.h: paths, metadata files, reasons, the online key check. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/repo/repo_priv.h"

#include "base/err.h"
#include "base/file.h"
#include "base/hex.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int imago_repo_path(char *out, size_t cap, const char *repo, const char *sub, const char *name)
{
        int n;

        if (out == NULL || repo == NULL || name == NULL)
                return IMAGO_EINVAL;
        if (sub != NULL)
                n = snprintf(out, cap, "%s/%s/%s", repo, sub, name);
        else
                n = snprintf(out, cap, "%s/%s", repo, name);
        return n < 0 || (size_t)n >= cap ? IMAGO_EINVAL : IMAGO_OK;
}

int imago_repo_read_meta(const char *repo, const char *name, size_t max, uint8_t **buf, size_t *len)
{
        char path[PATH_MAX];
        int r;

        if ((r = imago_repo_path(path, sizeof(path), repo, IMAGO_REPO_D_META, name)) != IMAGO_OK)
                return r;
        return imago_file_read(path, max, buf, len);
}

static int mkdir_one(const char *path)
{
        struct stat st;

        if (mkdir(path, 0755) == 0)
                return IMAGO_OK;
        if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                return IMAGO_OK;
        return IMAGO_EIO;
}

int imago_repo_mkdirs(const char *repo, const char *sub, const char *dir)
{
        char path[PATH_MAX];
        size_t i, base;
        int r, n;

        if (repo == NULL)
                return IMAGO_EINVAL;
        if ((r = mkdir_one(repo)) != IMAGO_OK)
                return r;
        if (sub == NULL)
                return IMAGO_OK;
        n = snprintf(path, sizeof(path), "%s/%s", repo, sub);
        if (n < 0 || (size_t)n >= sizeof(path))
                return IMAGO_EINVAL;
        if ((r = mkdir_one(path)) != IMAGO_OK || dir == NULL || dir[0] == '\0')
                return r;
        base = (size_t)n;
        n = snprintf(path + base, sizeof(path) - base, "/%s", dir);
        if (n < 0 || (size_t)n >= sizeof(path) - base)
                return IMAGO_EINVAL;
        for (i = base + 1; path[i] != '\0'; i++) {
                if (path[i] != '/')
                        continue;
                path[i] = '\0';
                r = mkdir_one(path);
                path[i] = '/';
                if (r != IMAGO_OK)
                        return r;
        }
        return mkdir_one(path);
}

int imago_repo_lock(const char *repo, int *fd)
{
        char path[PATH_MAX];
        int r;

        *fd = -1;
        if ((r = imago_repo_mkdirs(repo, NULL, NULL)) != IMAGO_OK ||
            (r = imago_repo_path(path, sizeof(path), repo, NULL, ".lock")) != IMAGO_OK)
                return r;
        if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
                return IMAGO_EIO;
        while (flock(*fd, LOCK_EX) != 0) {
                if (errno != EINTR) {
                        close(*fd);
                        *fd = -1;
                        return IMAGO_EIO;
                }
        }
        return IMAGO_OK;
}

void imago_repo_unlock(int fd)
{
        if (fd >= 0)
                close(fd); /* releases the lock */
}

int imago_repo_write_meta(const char *repo, const char *name, const void *buf, size_t len)
{
        char path[PATH_MAX];
        int r;

        if ((r = imago_repo_mkdirs(repo, IMAGO_REPO_D_META, NULL)) != IMAGO_OK ||
            (r = imago_repo_path(path, sizeof(path), repo, IMAGO_REPO_D_META, name)) != IMAGO_OK)
                return r;
        return imago_file_write_atomic(path, buf, len, 0644);
}

int imago_repo_why(char *why, size_t cap, int r, const char *fmt, ...)
{
        va_list ap;

        if (why != NULL && cap > 0) {
                va_start(ap, fmt);
                vsnprintf(why, cap, fmt, ap);
                va_end(ap);
        }
        return r;
}

int imago_repo_keyid(const struct imago_privkey *k, char out[65])
{
        json_t *key = NULL;
        int r;

        if (k == NULL || out == NULL)
                return IMAGO_EINVAL;
        if ((r = imago_tuf_key_public(k, &key)) == IMAGO_OK)
                r = imago_tuf_keyid(key, out);
        json_decref(key);
        return r;
}

static int role_is_key(const struct imago_tuf_role *role, const char *id)
{
        size_t i;

        if (role->threshold != 1)
                return 0;
        for (i = 0; i < role->n_keyids; i++)
                if (strcmp(role->keyids[i], id) == 0)
                        return 1;
        return 0;
}

int imago_repo_check_online(const struct imago_tuf_meta *root, const struct imago_repo_keys *k,
                            char *why, size_t cap)
{
        static const char *const names[] = {"snapshot", "timestamp"};
        const int idx[] = {IMAGO_TUF_ROLE_SNAPSHOT, IMAGO_TUF_ROLE_TIMESTAMP};
        const struct imago_privkey *keys[2];
        char id[65];
        int r, i;

        if (root == NULL || k == NULL || k->snapshot == NULL || k->timestamp == NULL)
                return IMAGO_EINVAL;
        if (!root->consistent_snapshot)
                return imago_repo_why(why, cap, IMAGO_ETUF_FORMAT,
                                      "root version %llu: consistent_snapshot is false (this "
                                      "repository needs --consistent-snapshot)",
                                      (unsigned long long)root->version);
        keys[0] = k->snapshot;
        keys[1] = k->timestamp;
        for (i = 0; i < 2; i++) {
                if ((r = imago_repo_keyid(keys[i], id)) != IMAGO_OK)
                        return r;
                if (!role_is_key(&root->roles[idx[i]], id))
                        return imago_repo_why(
                            why, cap, IMAGO_EPERM,
                            "root version %llu does not name this server's %s key %s with "
                            "threshold 1 (put the key of 'imago-cloud repo keys' into root)",
                            (unsigned long long)root->version, names[i], id);
        }
        return IMAGO_OK;
}

int imago_repo_meta_entry(const uint8_t *buf, size_t len, uint64_t version, json_t **out)
{
        uint8_t d[IMAGO_SHA256_LEN];
        char hex[2 * IMAGO_SHA256_LEN + 1];
        int r;

        *out = NULL;
        if ((r = imago_sha256(buf, len, d)) != IMAGO_OK)
                return r;
        imago_hex_encode(d, sizeof(d), hex);
        *out = json_pack("{s:I,s:I,s:{s:s}}", "version", (json_int_t)version, "length",
                         (json_int_t)len, "hashes", "sha256", hex);
        return *out == NULL ? IMAGO_ENOMEM : IMAGO_OK;
}

int imago_repo_name_safe(const char *name)
{
        size_t i, part = 0, len;

        if (name == NULL || (len = strlen(name)) == 0 || len > 1024)
                return 0;
        for (i = 0; i <= len; i++) {
                unsigned char c = (unsigned char)name[i];

                if (c == '/' || c == '\0') {
                        if (part == 0)
                                return 0;
                        if ((part == 1 && name[i - 1] == '.') ||
                            (part == 2 && name[i - 1] == '.' && name[i - 2] == '.'))
                                return 0;
                        part = 0;
                        continue;
                }
                if (c < 0x20 || c > 0x7e || c == '\\')
                        return 0;
                part++;
        }
        return 1;
}
