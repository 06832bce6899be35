/* See repo_priv.h: target files into repo/targets/DIR/HASH.BASE, checked against targets. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/repo/repo_priv.h"

#include "base/err.h"
#include "base/file.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hex_ok(const char *s)
{
        size_t i;

        for (i = 0; s[i] != '\0'; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                      (s[i] >= 'A' && s[i] <= 'F')))
                        return 0;
        return i > 0 && i <= 2 * IMAGO_TUF_HASH_MAX_LEN;
}

/* rel = targets/DIR/HASH.BASE of name under one hash. */
static int consistent_name(const char *name, const char *hex, char *rel, size_t cap)
{
        const char *slash = strrchr(name, '/');
        int dn = slash != NULL ? (int)(slash - name + 1) : 0;
        int n = snprintf(rel, cap, "%.*s%s.%s", dn, name, hex, name + dn);

        return n < 0 || (size_t)n >= cap ? IMAGO_EINVAL : IMAGO_OK;
}

/* The file at path matches t (0), or not / absent (an error). */
static int have(const char *path, const struct imago_tuf_target *t)
{
        uint8_t *buf = NULL;
        size_t len = 0;
        int r;

        if ((r = imago_file_read(path, (size_t)t->length, &buf, &len)) == IMAGO_OK)
                r = imago_tuf_check_file(buf, len, 1, t->length, &t->hashes);
        free(buf);
        return r;
}

/* do_write 0: only check that every copy is there or the source file matches; 1: write. */
static int put_one(const char *repo, const struct imago_tuf_target *t, const char *files_dir,
                   int do_write, char *why, size_t cap)
{
        char rel[PATH_MAX], path[PATH_MAX], dir[PATH_MAX];
        uint8_t *src = NULL;
        size_t len = 0, i;
        const char *slash;
        int r = IMAGO_OK;

        if (!imago_repo_name_safe(t->name))
                return imago_repo_why(why, cap, IMAGO_ETUF_FORMAT,
                                      "target name '%s' is not a safe relative path", t->name);
        if (t->length > IMAGO_REPO_TARGET_MAX)
                return imago_repo_why(why, cap, IMAGO_ETOOBIG, "target '%s': %llu bytes", t->name,
                                      (unsigned long long)t->length);
        slash = strrchr(t->name, '/');
        snprintf(dir, sizeof(dir), "%.*s", slash != NULL ? (int)(slash - t->name) : 0, t->name);
        if (do_write && (r = imago_repo_mkdirs(repo, IMAGO_REPO_D_TARGETS, dir)) != IMAGO_OK)
                return imago_repo_why(why, cap, r, "targets/%s: cannot create", dir);
        for (i = 0; i < t->hashes.n; i++) {
                if (!hex_ok(t->hashes.h[i].hex)) {
                        r = imago_repo_why(why, cap, IMAGO_ETUF_FORMAT,
                                           "target '%s': hash is not hex", t->name);
                        goto out;
                }
                if ((r = consistent_name(t->name, t->hashes.h[i].hex, rel, sizeof(rel))) != 0 ||
                    (r = imago_repo_path(path, sizeof(path), repo, IMAGO_REPO_D_TARGETS, rel)) != 0)
                        goto out;
                if (have(path, t) == IMAGO_OK)
                        continue;
                if (src == NULL) {
                        if (files_dir == NULL ||
                            imago_repo_path(dir, sizeof(dir), files_dir, NULL, t->name) != 0) {
                                r = imago_repo_why(why, cap, IMAGO_ENOTFOUND,
                                                   "target '%s': no file given", t->name);
                                goto out;
                        }
                        r = imago_file_read(dir, (size_t)t->length, &src, &len);
                        if (r == IMAGO_ETOOBIG)
                                r = IMAGO_ETUF_LENGTH;
                        if (r == IMAGO_OK)
                                r = imago_tuf_check_file(src, len, 1, t->length, &t->hashes);
                        if (r != IMAGO_OK) {
                                r = imago_repo_why(why, cap, r, "target '%s': file %s", t->name,
                                                   dir);
                                goto out;
                        }
                }
                if (do_write && (r = imago_file_write_atomic(path, src, len, 0644)) != IMAGO_OK) {
                        r = imago_repo_why(why, cap, r, "%s: cannot write", path);
                        goto out;
                }
        }
out:
        free(src);
        return r;
}

int imago_repo_put_targets(const char *repo, const struct imago_tuf_meta *t, const char *files_dir,
                           char *why, size_t cap)
{
        size_t i;
        int r, do_write;

        if (repo == NULL || t == NULL)
                return IMAGO_EINVAL;
        /* every file checked before the first is written */
        for (do_write = 0; do_write < 2; do_write++)
                for (i = 0; i < t->n_targets; i++)
                        if ((r = put_one(repo, &t->targets[i], files_dir, do_write, why, cap)) != 0)
                                return r;
        return IMAGO_OK;
}
