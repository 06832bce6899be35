/*
 * See client.h: the plain HTTP/1.1 GET fetcher.  A non-blocking socket
 * driven with poll(): a connect timeout, a read timeout per wait and an
 * optional deadline for the whole request; the response goes through the
 * incremental parser (http_parse.c) as it arrives.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "base/sock.h"
#include "tuf/client/client.h"
#include "tuf/client/http_priv.h"

#define READ_CHUNK 16384

static int host_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.';
}

static int path_char(char c)
{
        return c > 0x20 && c < 0x7f && c != '#' && c != '\\';
}

int imago_tuf_url_split(const char *url, struct imago_tuf_url *out)
{
        const char *h, *he, *p, *hp_end;
        size_t hn, i, pn;
        unsigned long port = 80;

        if (url == NULL || out == NULL || strncmp(url, "http://", 7) != 0)
                return IMAGO_EINVAL;
        memset(out, 0, sizeof(*out));
        h = url + 7;
        if (*h == '[') {
                he = strchr(h, ']');
                if (he == NULL)
                        return IMAGO_EINVAL;
                for (p = h + 1; p < he; p++)
                        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
                              (*p >= 'A' && *p <= 'F') || *p == ':' || *p == '.'))
                                return IMAGO_EINVAL;
                hn = (size_t)(he - h - 1);
                if (hn == 0 || hn > IMAGO_TUF_HTTP_HOST_MAX)
                        return IMAGO_EINVAL;
                memcpy(out->host, h + 1, hn);
                p = he + 1;
        } else {
                for (p = h; host_char(*p); p++)
                        ;
                hn = (size_t)(p - h);
                if (hn == 0 || hn > IMAGO_TUF_HTTP_HOST_MAX)
                        return IMAGO_EINVAL;
                memcpy(out->host, h, hn);
        }
        if (*p == ':') {
                const char *ps = ++p;

                port = 0;
                while (*p >= '0' && *p <= '9' && p - ps < 5)
                        port = port * 10U + (unsigned long)(*p++ - '0');
                if (p == ps || port == 0 || port > 65535 || (*p >= '0' && *p <= '9'))
                        return IMAGO_EINVAL;
        }
        hp_end = p;
        if (*p != '\0' && *p != '/')
                return IMAGO_EINVAL;
        pn = strlen(p);
        if (pn > IMAGO_TUF_HTTP_PATH_MAX)
                return IMAGO_EINVAL;
        for (i = 0; i < pn; i++)
                if (!path_char(p[i]))
                        return IMAGO_EINVAL;
        if (pn == 0)
                memcpy(out->path, "/", 2);
        else
                memcpy(out->path, p, pn + 1);
        memcpy(out->hostport, h, (size_t)(hp_end - h));
        out->port = (uint16_t)port;
        return IMAGO_OK;
}

/* The end of a wait of wait_ms, not past deadline (0 = none). */
static uint64_t until_of(uint32_t wait_ms, uint64_t deadline)
{
        uint64_t until = imago_mono_ms() + wait_ms;

        return deadline != 0 && deadline < until ? deadline : until;
}

static int wait_fd(int fd, short events, uint32_t wait_ms, uint64_t deadline)
{
        return imago_sock_wait(fd, events, until_of(wait_ms, deadline));
}

static int send_all(int fd, const char *buf, size_t len, uint32_t timeout_ms, uint64_t deadline)
{
        ssize_t n;

        while (len > 0) {
                n = send(fd, buf, len, MSG_NOSIGNAL);
                if (n > 0) {
                        buf += n;
                        len -= (size_t)n;
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                        if (wait_fd(fd, POLLOUT, timeout_ms, deadline) != IMAGO_OK)
                                return IMAGO_EIO;
                        continue;
                }
                return IMAGO_EIO;
        }
        return IMAGO_OK;
}

int imago_tuf_http_get(void *ctx, const char *url, uint64_t max, imago_tuf_sink_fn sink,
                       void *sink_arg)
{
        const struct imago_tuf_http *cfg = ctx;
        struct imago_tuf_http_parser *p = NULL;
        struct imago_tuf_url *u = NULL;
        uint32_t cto = 10000, rto = 10000;
        uint64_t deadline = 0;
        uint8_t buf[READ_CHUNK];
        char *req = NULL;
        size_t req_cap;
        ssize_t n;
        int fd = -1, r, len;

        if (url == NULL || sink == NULL)
                return IMAGO_EINVAL;
        if (cfg != NULL) {
                cto = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : cto;
                rto = cfg->read_timeout_ms ? cfg->read_timeout_ms : rto;
                if (cfg->deadline_ms)
                        deadline = imago_mono_ms() + cfg->deadline_ms;
        }
        u = malloc(sizeof(*u));
        p = malloc(sizeof(*p));
        req_cap = IMAGO_TUF_HTTP_PATH_MAX + IMAGO_TUF_HTTP_HOST_MAX + 128;
        req = malloc(req_cap);
        if (u == NULL || p == NULL || req == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        r = imago_tuf_url_split(url, u);
        if (r != IMAGO_OK)
                goto out;
        len = snprintf(req, req_cap,
                       "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: imago-tuf/" IMAGO_VERSION
                       "\r\nAccept: */*\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n",
                       u->path, u->hostport);
        if (len < 0 || (size_t)len >= req_cap) {
                r = IMAGO_EINVAL;
                goto out;
        }
        r = imago_sock_connect(u->host, u->port, until_of(cto, deadline), &fd);
        if (r != IMAGO_OK)
                goto out;
        r = send_all(fd, req, (size_t)len, rto, deadline);
        if (r != IMAGO_OK)
                goto out;
        imago_tuf_http_init(p, max, sink, sink_arg);
        r = IMAGO_TUF_HTTP_MORE;
        while (r == IMAGO_TUF_HTTP_MORE) {
                if (deadline != 0 && imago_mono_ms() >= deadline) {
                        r = IMAGO_EIO; /* slow retrieval: the whole request took too long */
                        break;
                }
                n = recv(fd, buf, sizeof(buf), 0);
                if (n > 0) {
                        r = imago_tuf_http_feed(p, buf, (size_t)n);
                } else if (n == 0) {
                        r = imago_tuf_http_eof(p);
                } else if (errno == EINTR) {
                        continue;
                } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                        if (wait_fd(fd, POLLIN, rto, deadline) != IMAGO_OK)
                                r = IMAGO_EIO;
                } else {
                        r = IMAGO_EIO;
                }
        }
out:
        if (r != IMAGO_OK && r != IMAGO_ENOTFOUND)
                IMAGO_DEBUG("GET %s failed (%s)", url, imago_errname(r));
        if (fd >= 0)
                close(fd);
        free(req);
        free(u);
        free(p);
        return r;
}
