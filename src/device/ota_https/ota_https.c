/* imago_ota_https: configuration, URL parsing and metadata gets; see ota_https.h. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "blk/blk.h"
#include "device/ota_https/ota_https_priv.h"

#define GET_RANGE IMAGO_HTTPC_BODY_MAX

static int host_byte(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-';
}

static int path_byte(char c)
{
        return host_byte(c) || c == '_' || c == '~';
}

int imago_ota_https_url_parse(const char *url, char *host, uint16_t *port, char *prefix)
{
        const char *p, *h;
        size_t n, seg;
        uint32_t v = 0;

        if (url == NULL || host == NULL || port == NULL || prefix == NULL ||
            strncmp(url, "https://", 8) != 0)
                return IMAGO_EINVAL;
        h = p = url + 8;
        while (host_byte(*p))
                p++;
        n = (size_t)(p - h);
        if (n == 0 || n > IMAGO_OTA_HTTPS_HOST_MAX || *p != ':' || h[0] == '.' || h[0] == '-')
                return IMAGO_EINVAL;
        memcpy(host, h, n);
        host[n] = '\0';
        p++;
        if (*p < '1' || *p > '9')
                return IMAGO_EINVAL;
        for (n = 0; *p >= '0' && *p <= '9'; p++, n++) {
                v = v * 10 + (uint32_t)(*p - '0');
                if (n >= 5 || v > 65535)
                        return IMAGO_EINVAL;
        }
        if (*p != '/')
                return IMAGO_EINVAL;
        *port = (uint16_t)v;
        n = strlen(p);
        if (n > IMAGO_OTA_HTTPS_PREFIX_MAX || p[n - 1] != '/')
                return IMAGO_EINVAL;
        /* Segments between slashes: non-empty, safe bytes, not "." nor "..". */
        for (h = p + 1, seg = 0; *h != '\0'; h++) {
                if (*h == '/') {
                        if (seg == 0 || (seg == 1 && h[-1] == '.') ||
                            (seg == 2 && h[-1] == '.' && h[-2] == '.'))
                                return IMAGO_EINVAL;
                        seg = 0;
                        continue;
                }
                if (!path_byte(*h))
                        return IMAGO_EINVAL;
                seg++;
        }
        memcpy(prefix, p, n + 1);
        return IMAGO_OK;
}

int imago_ota_https_new(const struct imago_ota_https_config *cfg, struct imago_ota_https **out)
{
        struct imago_ota_https *h;
        uint16_t port = 0;

        if (out == NULL)
                return IMAGO_EINVAL;
        *out = NULL;
        if (cfg == NULL || cfg->ca_path == NULL || cfg->ca_path[0] == '\0')
                return IMAGO_EINVAL;
        if ((h = calloc(1, sizeof(*h))) == NULL)
                return IMAGO_ENOMEM;
        if (imago_ota_https_url_parse(cfg->url, h->host, &port, h->prefix) != IMAGO_OK) {
                free(h);
                return IMAGO_EINVAL;
        }
        if ((h->ca_path = strdup(cfg->ca_path)) == NULL) {
                free(h);
                return IMAGO_ENOMEM;
        }
        h->c.host = h->host;
        h->c.port = port;
        h->c.ca_path = h->ca_path;
        h->c.timeout_ms = cfg->timeout_ms;
        atomic_init(&h->cancelled, 0);
        *out = h;
        return IMAGO_OK;
}

void imago_ota_https_free(struct imago_ota_https *h)
{
        if (h == NULL)
                return;
        free(h->ca_path);
        free(h);
}

void imago_ota_https_cancel(struct imago_ota_https *h, int on)
{
        if (h != NULL)
                atomic_store(&h->cancelled, on ? 1 : 0);
}

void imago_ota_https_set_progress(void *ctx, imago_ota_https_progress_fn fn, void *fn_arg)
{
        struct imago_ota_https *h = ctx;

        if (h == NULL)
                return;
        h->progress = fn;
        h->progress_arg = fn != NULL ? fn_arg : NULL;
}

int ota_https_path(const struct imago_ota_https *h, const char *object, const char *want, char *out,
                   size_t cap)
{
        size_t n = object != NULL ? strnlen(object, IMAGO_BLK_OBJ_MAX + 1) : 0;
        size_t w = strlen(want);
        int k;

        if (n <= w || !imago_blk_obj_valid(object, n) || strncmp(object, want, w) != 0)
                return IMAGO_EINVAL;
        k = snprintf(out, cap, "%s%s", h->prefix, object + 6); /* minus "image/" */
        return k < 0 || (size_t)k >= cap ? IMAGO_EINVAL : IMAGO_OK;
}

int ota_https_status_err(int status)
{
        if (status == 404)
                return IMAGO_ENOTFOUND;
        return IMAGO_EHTTP;
}

int imago_ota_https_get(void *ctx, const char *url, uint64_t max, imago_tuf_sink_fn sink,
                        void *sink_arg)
{
        struct imago_ota_https *h = ctx;
        struct imago_httpc_resp resp;
        char path[OTA_HTTPS_PATH_MAX];
        uint64_t off = 0, last, total = 0;
        int r;

        if (h == NULL || sink == NULL || max == 0 || url == NULL || strncmp(url, "blk:", 4) != 0)
                return IMAGO_EINVAL;
        if ((r = ota_https_path(h, url + 4, "image/metadata/", path, sizeof(path))) != IMAGO_OK)
                return r;
        for (;;) {
                if (atomic_load(&h->cancelled))
                        return IMAGO_EIO;
                last = max - off > GET_RANGE ? off + GET_RANGE - 1 : max - 1;
                if ((r = imago_httpc_get_range(&h->c, path, off, last, &resp)) != IMAGO_OK) {
                        IMAGO_ERR_R(r, "https get of %s failed", path);
                        return r;
                }
                if (resp.status == 200 && off == 0) {
                        /* A server that ignores Range: the whole file, at most 1 MiB. */
                        r = resp.len > max ? IMAGO_ETUF_LENGTH
                                           : sink(sink_arg, (const uint8_t *)resp.body, resp.len);
                        imago_httpc_resp_free(&resp);
                        return r;
                }
                if (resp.status != 206) {
                        r = ota_https_status_err(resp.status);
                        imago_httpc_resp_free(&resp);
                        return r;
                }
                if (resp.range_total > max)
                        r = IMAGO_ETUF_LENGTH;
                else if (resp.range_first != off || resp.range_last > last ||
                         (off > 0 && resp.range_total != total))
                        r = IMAGO_EHTTP;
                else
                        r = sink(sink_arg, (const uint8_t *)resp.body, resp.len);
                off = resp.range_last + 1;
                total = resp.range_total;
                imago_httpc_resp_free(&resp);
                if (r != IMAGO_OK || off == total)
                        return r;
        }
}
