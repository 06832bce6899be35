/*
 * imago_net private: the HTTPS client's strict HTTP/1.1 response parser
 * (exposed for tests and the fuzz target).
 *
 * imago_httpc_parse_response() looks at the bytes received so far (buf, len)
 * and answers:
 *   IMAGO_OK          the response is complete: resp->status, resp->body
 *                     (malloc'd, NUL-terminated) and resp->len are set and
 *                     the caller frees them (imago_httpc_resp_free);
 *   IMAGO_HTTPC_MORE  not complete yet and eof is 0: read more;
 *   IMAGO_EHTTP       malformed: status line not "HTTP/1.x DDD reason",
 *                     status outside 200..599, bare LF, control bytes,
 *                     folded or nameless headers, Content-Length not all
 *                     digits / given twice / together with
 *                     Transfer-Encoding, a transfer coding other than
 *                     "chunked", chunk size not hex or without CRLF, chunk
 *                     extensions or trailers, no framing at all (neither
 *                     Content-Length nor chunked, status not 204/304),
 *                     bytes after the end of the message, the stream
 *                     ending (eof) before the message does, a second
 *                     Content-Range, or a 206 whose Content-Range is not
 *                     exactly "bytes F-L/T" (decimal, F <= L < T) or does
 *                     not match the body length (a 206 that is right sets
 *                     resp->has_range and range_first/last/total);
 *   IMAGO_ETOOBIG     head over IMAGO_HTTPC_HEAD_MAX bytes or
 *                     IMAGO_HTTPC_HEADERS_MAX headers, or body over
 *                     IMAGO_HTTPC_BODY_MAX (as soon as that is known);
 *   IMAGO_EINVAL / IMAGO_ENOMEM.
 * resp is left zeroed on any answer but IMAGO_OK.  Never reads past len.
 */
#ifndef IMAGO_NET_HTTPC_PARSE_H
#define IMAGO_NET_HTTPC_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "net/https.h"

#define IMAGO_HTTPC_MORE        1
#define IMAGO_HTTPC_HEAD_MAX    16384U
#define IMAGO_HTTPC_HEADERS_MAX 64U
/* Raw bytes the client reads at most: the head plus a chunked body of the
 * largest size (1-byte chunks cost 6 bytes each would be far more: such a
 * response is refused as too big by this bound). */
#define IMAGO_HTTPC_RAW_MAX (IMAGO_HTTPC_HEAD_MAX + 2U * IMAGO_HTTPC_BODY_MAX)

int imago_httpc_parse_response(const uint8_t *buf, size_t len, int eof,
                               struct imago_httpc_resp *resp);

#endif
