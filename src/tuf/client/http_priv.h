/*
 * imago_tuf_client private: the plain HTTP/1.1 GET fetcher's URL splitter
 * and its incremental response parser (exposed for the unit tests and the
 * fuzz target; everything else uses client.h).
 *
 * imago_tuf_url_split(): "http://HOST[:PORT]PATH" into its parts.  HOST is
 * a name or dotted IPv4 of letters, digits, '-' and '.' (at most 253), or an
 * IPv6 literal in brackets; PORT 1..65535 (default 80); PATH starts with '/'
 * (an empty one is "/") and is printable ASCII without space, '#' or '\'
 * (at most 8192).  No user info, no fragment.  IMAGO_EINVAL otherwise.
 *
 * The parser is fed the bytes of one response as they arrive
 * (imago_tuf_http_feed) and passes the body on to the sink as it goes, so
 * nothing but the head (at most IMAGO_TUF_HTTP_HEAD_MAX bytes) is buffered.
 * It answers:
 *   IMAGO_TUF_HTTP_MORE  everything given was consumed, the response is
 *                        not complete yet: feed more;
 *   IMAGO_OK             the response is complete (status 200 and the
 *                        whole body passed to the sink);
 *   IMAGO_ENOTFOUND      status 404 or 403 (known from the head: the body
 *                        is not read);
 *   IMAGO_ETUF_LENGTH    the body is longer than max: as soon as that is
 *                        known (a Content-Length or chunk size over it),
 *                        and never a byte past max reaches the sink;
 *   IMAGO_EHTTP          malformed: status line not "HTTP/1.0|1.1 DDD
 *                        reason", a status other than 200/403/404, bare
 *                        LF, control bytes, folded or nameless headers,
 *                        more than IMAGO_TUF_HTTP_HEADERS_MAX headers,
 *                        Content-Length not all digits / given twice /
 *                        with Transfer-Encoding, a transfer coding other
 *                        than "chunked", neither of the two (a body that
 *                        only the close would end is refused), chunk size
 *                        not hex or with extensions, trailers, bytes after
 *                        the end of the response;
 *   IMAGO_ETOOBIG        head over IMAGO_TUF_HTTP_HEAD_MAX bytes;
 *   IMAGO_ETRUNC         imago_tuf_http_eof() before the response ended;
 *   any error of the sink, as it is.
 * After any answer but MORE the parser is finished and refuses more input
 * (IMAGO_ESTATE, from imago_tuf_http_eof() too).  The fetcher stops reading
 * at the end of the response: bytes after it are refused when they come in
 * the same read, and never read otherwise.  The parser holds no pointer to the fed bytes and
 * allocates nothing.
 */
#ifndef IMAGO_TUF_CLIENT_HTTP_PRIV_H
#define IMAGO_TUF_CLIENT_HTTP_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "tuf/client/client.h"

#define IMAGO_TUF_HTTP_MORE        1
#define IMAGO_TUF_HTTP_HEAD_MAX    16384U
#define IMAGO_TUF_HTTP_HEADERS_MAX 64U
#define IMAGO_TUF_HTTP_HOST_MAX    253U
#define IMAGO_TUF_HTTP_PATH_MAX    8192U

struct imago_tuf_url {
        char host[IMAGO_TUF_HTTP_HOST_MAX + 1];     /* without brackets for IPv6 */
        char hostport[IMAGO_TUF_HTTP_HOST_MAX + 9]; /* as in the URL: the Host header */
        uint16_t port;
        char path[IMAGO_TUF_HTTP_PATH_MAX + 1];
};

int imago_tuf_url_split(const char *url, struct imago_tuf_url *out);

struct imago_tuf_http_parser {
        int state;
        int status;
        int chunked;
        uint64_t max;    /* body bytes allowed */
        uint64_t body;   /* body bytes passed on so far */
        uint64_t left;   /* of the Content-Length body or of the current chunk */
        size_t head_len; /* bytes of head (or of a chunk-size line) held */
        imago_tuf_sink_fn sink;
        void *sink_arg;
        char head[IMAGO_TUF_HTTP_HEAD_MAX];
};

void imago_tuf_http_init(struct imago_tuf_http_parser *p, uint64_t max, imago_tuf_sink_fn sink,
                         void *sink_arg);
int imago_tuf_http_feed(struct imago_tuf_http_parser *p, const uint8_t *buf, size_t len);
/* The peer closed before an answer: IMAGO_ETRUNC. */
int imago_tuf_http_eof(struct imago_tuf_http_parser *p);

#endif
