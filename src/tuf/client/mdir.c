/*
 * See client_priv.h: the metadata directory and metadata fetches.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "tuf/client/client_priv.h"

static int role_path(const struct imago_tuf_client *c, const char *role, char **out)
{
        char name[IMAGO_TUF_CLIENT_NAME_MAX];
        size_t n;
        int r;

        if (strlen(role) > IMAGO_TUF_ROLE_NAME_MAX)
                return IMAGO_ETOOBIG;
        r = imago_tuf_quote(role, "", name, sizeof(name));
        if (r != IMAGO_OK)
                return r;
        n = strlen(c->dir) + strlen(name) + 7;
        *out = malloc(n);
        if (*out == NULL)
                return IMAGO_ENOMEM;
        snprintf(*out, n, "%s/%s.json", c->dir, name);
        return IMAGO_OK;
}

int imago_tuf_mdir_read(const struct imago_tuf_client *c, const char *role, size_t max,
                        uint8_t **data, size_t *len)
{
        char *path = NULL;
        int r;

        r = role_path(c, role, &path);
        if (r == IMAGO_OK)
                r = imago_file_read(path, max, data, len);
        free(path);
        return r;
}

int imago_tuf_mdir_write(const struct imago_tuf_client *c, const char *role, const uint8_t *data,
                         size_t len)
{
        char *path = NULL;
        int r;

        r = role_path(c, role, &path);
        if (r == IMAGO_OK)
                r = imago_file_write_atomic(path, data, len, 0644);
        if (r != IMAGO_OK)
                IMAGO_ERR_R(r, "cannot persist %s metadata", role);
        free(path);
        return r;
}

int imago_tuf_mdir_delete(const struct imago_tuf_client *c, const char *role)
{
        char *path = NULL;
        int r;

        r = role_path(c, role, &path);
        if (r == IMAGO_OK && unlink(path) != 0 && errno != ENOENT)
                r = IMAGO_EIO;
        free(path);
        return r;
}

struct membuf {
        uint8_t *buf;
        size_t len, cap, max;
};

static int mem_sink(void *arg, const uint8_t *data, size_t len)
{
        struct membuf *m = arg;
        size_t cap;
        uint8_t *nb;

        if (len > m->max - m->len)
                return IMAGO_ETUF_LENGTH;
        if (len == 0)
                return IMAGO_OK;
        if (len > m->cap - m->len) {
                /* Double, never past max: the bound of a document is its max. */
                cap = m->cap < 4096 ? 4096 : m->cap;
                while (cap - m->len < len)
                        cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
                if (cap > m->max)
                        cap = m->max;
                nb = realloc(m->buf, cap);
                if (nb == NULL)
                        return IMAGO_ENOMEM;
                m->buf = nb;
                m->cap = cap;
        }
        memcpy(m->buf + m->len, data, len);
        m->len += len;
        return IMAGO_OK;
}

int imago_tuf_fetch_meta(const struct imago_tuf_client *c, const char *role, uint64_t version,
                         size_t max, uint8_t **data, size_t *len)
{
        char name[IMAGO_TUF_CLIENT_NAME_MAX], *url = NULL;
        struct membuf m = {NULL, 0, 0, max};
        size_t n;
        int r;

        if (strlen(role) > IMAGO_TUF_ROLE_NAME_MAX)
                return IMAGO_ETOOBIG;
        r = imago_tuf_quote(role, "", name, sizeof(name));
        if (r != IMAGO_OK)
                return r;
        n = strlen(c->url) + strlen(name) + 32;
        url = malloc(n);
        if (url == NULL)
                return IMAGO_ENOMEM;
        if (version > 0)
                snprintf(url, n, "%s%llu.%s.json", c->url, (unsigned long long)version, name);
        else
                snprintf(url, n, "%s%s.json", c->url, name);
        r = c->fetch.get(c->fetch.ctx, url, max, mem_sink, &m);
        if (r == IMAGO_OK) {
                *data = m.buf;
                *len = m.len;
                m.buf = NULL;
        } else if (r != IMAGO_ENOTFOUND) {
                IMAGO_ERR_R(r, "fetching %s", url);
        }
        free(m.buf);
        free(url);
        return r;
}
