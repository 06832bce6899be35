/* See api.h: the public image repository (GET /v1/repo/{metadata|targets}/<path>) with byte
 * ranges, and the strict Range header parser.  No authentication: everything served is
 * verified by the device (TUF); the per-address rate limit of every route applies. */
#define _GNU_SOURCE
#include "cloud/api/api_priv.h"

#include "base/err.h"
#include "base/file.h"
#include "blk/blk.h"
#include "net/https.h"

#include <event2/buffer.h>
#include <event2/http.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RANGE_DIGITS_MAX 19 /* < 10^19 fits in uint64_t */

/* Strict decimal: 1..19 digits, no leading zero (but "0"). */
static int dec(const char *s, size_t len, uint64_t *out)
{
        uint64_t v = 0;
        size_t i;

        if (len == 0 || len > RANGE_DIGITS_MAX || (len > 1 && s[0] == '0'))
                return IMAGO_EINVAL;
        for (i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return IMAGO_EINVAL;
                v = v * 10U + (uint64_t)(s[i] - '0');
        }
        *out = v;
        return IMAGO_OK;
}

int imago_api_parse_range(const char *s, size_t len, uint64_t *start, uint64_t *end)
{
        static const char unit[] = "bytes=";
        const char *dash;
        size_t ul = sizeof(unit) - 1, a;
        uint64_t st = 0, en = UINT64_MAX;

        if (start != NULL)
                *start = 0;
        if (end != NULL)
                *end = 0;
        if (s == NULL || start == NULL || end == NULL || len <= ul || memcmp(s, unit, ul) != 0)
                return IMAGO_EINVAL;
        s += ul;
        len -= ul;
        if ((dash = memchr(s, '-', len)) == NULL)
                return IMAGO_EINVAL;
        a = (size_t)(dash - s);
        if (dec(s, a, &st) != IMAGO_OK)
                return IMAGO_EINVAL;
        if (a + 1 < len && (dec(dash + 1, len - a - 1, &en) != IMAGO_OK || en < st))
                return IMAGO_EINVAL;
        *start = st;
        *end = en;
        return IMAGO_OK;
}

/* The file's descriptor beneath DIR/repo/<top> (no symbolic link, regular file), or -1. */
static int open_beneath(const char *data_dir, const char *top, const char *rel)
{
        char path[IMAGO_BLK_OBJ_MAX + 32];
        int dirfd, fd, n;

        n = snprintf(path, sizeof(path), "repo/%s/%s", top, rel);
        if (n < 0 || (size_t)n >= sizeof(path))
                return -1;
        if ((dirfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                return -1;
        fd = imago_file_open_beneath(dirfd, path);
        close(dirfd);
        return fd;
}

static void not_satisfiable(struct evhttp_request *req, uint64_t size)
{
        char cr[48];

        snprintf(cr, sizeof(cr), "bytes */%" PRIu64, size);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Range", cr);
        imago_https_reply_error(req, 416, IMAGO_ERANGE, "range not satisfiable", 0);
}

void imago_api_h_repo(struct imago_api *api, struct evhttp_request *req, const char *rel)
{
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        const char *range = evhttp_find_header(evhttp_request_get_input_headers(req), "Range");
        const char *top, *name;
        struct evbuffer_file_segment *seg = NULL;
        struct evbuffer *out = NULL;
        uint64_t start = 0, end = 0, size;
        char hv[96];
        struct stat st;
        int fd = -1, meta;

        meta = strncmp(rel, "metadata/", 9) == 0;
        if (!meta && strncmp(rel, "targets/", 8) != 0) {
                imago_api_error(req, IMAGO_EAPI_ROUTE, NULL);
                return;
        }
        top = meta ? "metadata" : "targets";
        name = rel + (meta ? 9 : 8);
        if (api->c.data_dir == NULL || !imago_blk_obj_valid(name, strlen(name)) ||
            (fd = open_beneath(api->c.data_dir, top, name)) < 0 || fstat(fd, &st) != 0) {
                if (fd >= 0)
                        close(fd);
                imago_api_error(req, IMAGO_ENOTFOUND, NULL);
                return;
        }
        size = (uint64_t)st.st_size;
        if (range != NULL) {
                if (imago_api_parse_range(range, strlen(range), &start, &end) != IMAGO_OK ||
                    start >= size) {
                        close(fd);
                        not_satisfiable(req, size);
                        return;
                }
                if (end >= size)
                        end = size - 1;
        } else if (size > 0) {
                end = size - 1;
        }
        /* a range answer is at most IMAGO_API_REPO_RANGE_MAX bytes (206 with what was served) */
        if (range != NULL && end - start >= IMAGO_API_REPO_RANGE_MAX)
                end = start + IMAGO_API_REPO_RANGE_MAX - 1;
        if (size > 0) {
                seg = evbuffer_file_segment_new(fd, (ev_off_t)start, (ev_off_t)(end - start + 1),
                                                EVBUF_FS_CLOSE_ON_FREE);
                if (seg == NULL)
                        close(fd);
        } else {
                close(fd);
        }
        if ((out = evbuffer_new()) == NULL ||
            (size > 0 && (seg == NULL || evbuffer_add_file_segment(
                                             out, seg, 0, (ev_off_t)(end - start + 1)) != 0))) {
                if (seg != NULL)
                        evbuffer_file_segment_free(seg);
                evbuffer_free(out);
                imago_api_error(req, IMAGO_ENOMEM, NULL);
                return;
        }
        if (seg != NULL)
                evbuffer_file_segment_free(seg); /* the buffer keeps its reference */
        evhttp_add_header(h, "Content-Type", "application/octet-stream");
        evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
        evhttp_add_header(h, "Accept-Ranges", "bytes");
        if (meta)
                evhttp_add_header(h, "Cache-Control", "no-store");
        if (range != NULL) {
                snprintf(hv, sizeof(hv), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, start, end,
                         size);
                evhttp_add_header(h, "Content-Range", hv);
                evhttp_send_reply(req, 206, "Partial Content", out);
        } else {
                evhttp_send_reply(req, 200, "OK", out);
        }
        evbuffer_free(out);
}
