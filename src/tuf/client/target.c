/*
 * See client.h: target search through the delegations (5.6.7) and the
 * download of a target (5.7), streamed through imago_tuf's file check
 * into a temporary file renamed into place only once it verified.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "tuf/client/client_priv.h"

int imago_tuf_client_find(struct imago_tuf_client *c, const char *path,
                          const struct imago_tuf_target **out)
{
        struct imago_tuf_walk w;
        char role[IMAGO_TUF_ROLE_NAME_MAX + 1], parent[IMAGO_TUF_ROLE_NAME_MAX + 1];
        int r;

        memset(&w, 0, sizeof(w));
        if (c == NULL || path == NULL || out == NULL)
                return IMAGO_EINVAL;
        if (!c->refreshed)
                return IMAGO_ESTATE;
        r = imago_tuf_walk_start(&w, &c->trusted, path);
        while (r == IMAGO_OK) {
                r = imago_tuf_walk_next(&w, &c->trusted, out);
                if (r == IMAGO_TUF_WALK_FOUND) {
                        r = IMAGO_OK;
                        break;
                }
                if (r != IMAGO_TUF_WALK_NEED)
                        break;
                /* Copies: loading a role may move what the walk points into. */
                snprintf(role, sizeof(role), "%s", w.need_role);
                snprintf(parent, sizeof(parent), "%s", w.need_parent);
                r = imago_tuf_load_targets(c, role, parent);
        }
        imago_tuf_walk_free(&w);
        return r;
}

/* The file's path (quoted) in dir, and a temporary name beside it. */
static int local_paths(const char *dir, const char *name, char **final, char **tmp)
{
        char *q;
        size_t qn = 3 * strlen(name) + 1, n;
        int r;

        q = malloc(qn);
        if (q == NULL)
                return IMAGO_ENOMEM;
        r = imago_tuf_quote(name, "", q, qn);
        if (r != IMAGO_OK)
                goto out;
        n = strlen(dir) + strlen(q) + 48;
        *final = malloc(n);
        *tmp = malloc(n);
        if (*final == NULL || *tmp == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        snprintf(*final, n, "%s/%s", dir, q);
        snprintf(*tmp, n, "%s/.%s.tmp.%ld", dir, q, (long)getpid());
out:
        free(q);
        return r;
}

/* 1 if the file at path has t's length and hashes. */
static int already_there(const char *path, const struct imago_tuf_target *t)
{
        struct imago_tuf_filecheck fc;
        uint8_t buf[16384];
        ssize_t n;
        int fd, r;

        memset(&fc, 0, sizeof(fc));
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return 0;
        r = imago_tuf_filecheck_init(&fc, t);
        while (r == IMAGO_OK && (n = read(fd, buf, sizeof(buf))) != 0) {
                if (n < 0)
                        r = errno == EINTR ? IMAGO_OK : IMAGO_EIO;
                else
                        r = imago_tuf_filecheck_update(&fc, buf, (size_t)n);
        }
        if (r == IMAGO_OK)
                r = imago_tuf_filecheck_final(&fc);
        else
                imago_tuf_filecheck_abort(&fc);
        close(fd);
        return r == IMAGO_OK;
}

struct file_sink {
        int fd;
        struct imago_tuf_filecheck fc;
};

static int file_sink(void *arg, const uint8_t *data, size_t len)
{
        struct file_sink *s = arg;
        ssize_t n;
        int r;

        r = imago_tuf_filecheck_update(&s->fc, data, len);
        while (r == IMAGO_OK && len > 0) {
                n = write(s->fd, data, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return IMAGO_EIO;
                data += n;
                len -= (size_t)n;
        }
        return r;
}

/* Remote path: the target path, with consistent snapshots DIR/HASH.BASENAME (hash: the first
 * listed), percent-encoded but for '/'. */
static int remote_url(const struct imago_tuf_client *c, const struct imago_tuf_target *t,
                      const char *base, char **out)
{
        const char *slash = strrchr(t->name, '/');
        size_t dn = slash != NULL ? (size_t)(slash - t->name) + 1 : 0;
        size_t rn = strlen(t->name) + IMAGO_TUF_HASH_MAX_LEN * 2 + 2, qn, n;
        char *rel = NULL, *q = NULL;
        int add = base[0] == '\0' || base[strlen(base) - 1] != '/';
        int r;

        rel = malloc(rn);
        qn = 3 * rn + 1;
        q = malloc(qn);
        if (rel == NULL || q == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        if (c->trusted.root.consistent_snapshot) {
                if (t->hashes.n == 0 || strlen(t->hashes.h[0].hex) > IMAGO_TUF_HASH_MAX_LEN * 2) {
                        r = IMAGO_ETUF_FORMAT;
                        goto out;
                }
                snprintf(rel, rn, "%.*s%s.%s", (int)dn, t->name, t->hashes.h[0].hex, t->name + dn);
        } else {
                snprintf(rel, rn, "%s", t->name);
        }
        r = imago_tuf_quote(rel, "/", q, qn);
        if (r != IMAGO_OK)
                goto out;
        n = strlen(base) + strlen(q) + 2;
        *out = malloc(n);
        if (*out == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        snprintf(*out, n, "%s%s%s", base, add ? "/" : "", q);
out:
        free(rel);
        free(q);
        return r;
}

int imago_tuf_client_download(struct imago_tuf_client *c, const struct imago_tuf_target *t,
                              const char *target_base_url, const char *target_dir, int *cached)
{
        struct file_sink s;
        char *final = NULL, *tmp = NULL, *url = NULL;
        int r, made = 0;

        memset(&s, 0, sizeof(s));
        s.fd = -1;
        if (cached != NULL)
                *cached = 0;
        if (c == NULL || t == NULL || target_base_url == NULL || target_dir == NULL)
                return IMAGO_EINVAL;
        if (!c->refreshed)
                return IMAGO_ESTATE;
        r = local_paths(target_dir, t->name, &final, &tmp);
        if (r != IMAGO_OK)
                goto out;
        if (already_there(final, t)) {
                if (cached != NULL)
                        *cached = 1;
                goto out;
        }
        r = remote_url(c, t, target_base_url, &url);
        if (r != IMAGO_OK)
                goto out;
        s.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (s.fd < 0) {
                r = IMAGO_EIO;
                goto out;
        }
        made = 1;
        r = imago_tuf_filecheck_init(&s.fc, t);
        if (r != IMAGO_OK)
                goto out;
        /* The fetch stops at the stated length: the check refuses a byte more (endless data). */
        r = c->fetch.get(c->fetch.ctx, url, t->length, file_sink, &s);
        if (r == IMAGO_OK)
                r = imago_tuf_filecheck_final(&s.fc);
        else
                imago_tuf_filecheck_abort(&s.fc);
        if (r != IMAGO_OK) {
                IMAGO_ERR_R(r, "target %s refused", t->name);
                goto out;
        }
        if (fsync(s.fd) != 0 || close(s.fd) != 0) {
                s.fd = -1;
                r = IMAGO_EIO;
                goto out;
        }
        s.fd = -1;
        if (rename(tmp, final) != 0) {
                r = IMAGO_EIO;
                goto out;
        }
        made = 0;
out:
        if (s.fd >= 0)
                close(s.fd);
        if (made)
                unlink(tmp);
        free(final);
        free(tmp);
        free(url);
        return r;
}
