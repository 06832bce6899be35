/* See httpc_parse.h: the strict HTTP/1.1 response parser. */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "net/httpc_parse.h"

#define CHUNK_LINE_MAX 10 /* "ffffffff\r\n" */

struct head {
        int status;
        int chunked;
        int has_cl;
        uint64_t cl;
        const uint8_t *cr; /* Content-Range value (in the buffer), or NULL */
        size_t cr_n;
        size_t len; /* bytes of the head, final CRLF included */
};

static int is_tchar(uint8_t c)
{
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
                return 1;
        return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field value and reason phrase bytes: HTAB, SP, VCHAR, obs-text. */
static int is_vbyte(uint8_t c)
{
        return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int is_digit(uint8_t c)
{
        return c >= '0' && c <= '9';
}

static int hexval(uint8_t c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Find the end of the head ("\r\n\r\n"); any LF not after CR or CR not before LF is malformed. */
static int find_head_end(const uint8_t *buf, size_t len, int eof, size_t *end)
{
        size_t i, lim = len < IMAGO_HTTPC_HEAD_MAX ? len : IMAGO_HTTPC_HEAD_MAX;

        for (i = 0; i < lim; i++) {
                if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
                        return IMAGO_EHTTP;
                if (buf[i] == '\r' && i + 1 < len && buf[i + 1] != '\n')
                        return IMAGO_EHTTP;
                if (buf[i] == '\n' && i >= 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
                        *end = i + 1;
                        return IMAGO_OK;
                }
        }
        if (len >= IMAGO_HTTPC_HEAD_MAX)
                return IMAGO_ETOOBIG;
        return eof ? IMAGO_EHTTP : IMAGO_HTTPC_MORE;
}

static int parse_status_line(const uint8_t *p, size_t n, struct head *h)
{
        size_t i;

        if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
                return IMAGO_EHTTP;
        if (!is_digit(p[9]) || !is_digit(p[10]) || !is_digit(p[11]))
                return IMAGO_EHTTP;
        h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
        if (h->status < 200 || h->status > 599)
                return IMAGO_EHTTP;
        if (n == 12)
                return IMAGO_OK;
        if (p[12] != ' ')
                return IMAGO_EHTTP;
        for (i = 13; i < n; i++)
                if (!is_vbyte(p[i]))
                        return IMAGO_EHTTP;
        return IMAGO_OK;
}

static int parse_cl(const uint8_t *v, size_t n, uint64_t *out)
{
        uint64_t x = 0;
        size_t i;

        if (n == 0)
                return IMAGO_EHTTP;
        for (i = 0; i < n; i++)
                if (!is_digit(v[i]))
                        return IMAGO_EHTTP;
        if (n > 10)
                return IMAGO_ETOOBIG;
        for (i = 0; i < n; i++)
                x = x * 10 + (uint64_t)(v[i] - '0');
        *out = x;
        return x > IMAGO_HTTPC_BODY_MAX ? IMAGO_ETOOBIG : IMAGO_OK;
}

/* Decimal digits at *pos (1..19 of them, no leading zero unless alone). */
static int parse_dec(const uint8_t *v, size_t n, size_t *pos, uint64_t *out)
{
        size_t i = *pos, start = *pos;
        uint64_t x = 0;

        while (i < n && is_digit(v[i])) {
                if (i - start >= 19)
                        return IMAGO_EHTTP;
                x = x * 10 + (uint64_t)(v[i] - '0');
                i++;
        }
        if (i == start || (v[start] == '0' && i - start > 1))
                return IMAGO_EHTTP;
        *pos = i;
        *out = x;
        return IMAGO_OK;
}

/* A 206's Content-Range: exactly "bytes F-L/T" with F <= L < T. */
static int parse_content_range(const uint8_t *v, size_t n, struct imago_httpc_resp *resp)
{
        uint64_t f, l, t;
        size_t i = 6;

        if (n < 6 || memcmp(v, "bytes ", 6) != 0)
                return IMAGO_EHTTP;
        if (parse_dec(v, n, &i, &f) != IMAGO_OK || i >= n || v[i++] != '-')
                return IMAGO_EHTTP;
        if (parse_dec(v, n, &i, &l) != IMAGO_OK || i >= n || v[i++] != '/')
                return IMAGO_EHTTP;
        if (parse_dec(v, n, &i, &t) != IMAGO_OK || i != n)
                return IMAGO_EHTTP;
        if (f > l || l >= t)
                return IMAGO_EHTTP;
        resp->range_first = f;
        resp->range_last = l;
        resp->range_total = t;
        return IMAGO_OK;
}

static int parse_field(const uint8_t *p, size_t n, struct head *h)
{
        size_t i = 0, k, vs, ve;

        while (i < n && is_tchar(p[i]))
                i++;
        if (i == 0 || i == n || p[i] != ':')
                return IMAGO_EHTTP;
        vs = i + 1;
        ve = n;
        while (vs < ve && (p[vs] == ' ' || p[vs] == '\t'))
                vs++;
        while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
                ve--;
        for (k = vs; k < ve; k++)
                if (!is_vbyte(p[k]))
                        return IMAGO_EHTTP;
        if (i == 14 && strncasecmp((const char *)p, "Content-Length", 14) == 0) {
                if (h->has_cl)
                        return IMAGO_EHTTP;
                h->has_cl = 1;
                return parse_cl(p + vs, ve - vs, &h->cl);
        }
        if (i == 17 && strncasecmp((const char *)p, "Transfer-Encoding", 17) == 0) {
                if (h->chunked || ve - vs != 7 ||
                    strncasecmp((const char *)p + vs, "chunked", 7) != 0)
                        return IMAGO_EHTTP;
                h->chunked = 1;
        }
        if (i == 13 && strncasecmp((const char *)p, "Content-Range", 13) == 0) {
                if (h->cr != NULL)
                        return IMAGO_EHTTP;
                h->cr = p + vs;
                h->cr_n = ve - vs;
        }
        return IMAGO_OK;
}

static int parse_head(const uint8_t *buf, size_t len, int eof, struct head *h)
{
        size_t pos = 0, nl, end = 0;
        unsigned fields = 0;
        int r;

        memset(h, 0, sizeof(*h));
        if ((r = find_head_end(buf, len, eof, &end)) != IMAGO_OK)
                return r;
        h->len = end;
        /* Lines end with CRLF (checked above); the last line is empty. */
        for (nl = 0; pos < end - 2; pos = nl + 2) {
                nl = pos;
                while (buf[nl] != '\r')
                        nl++;
                if (pos == 0) {
                        if ((r = parse_status_line(buf, nl, h)) != IMAGO_OK)
                                return r;
                        continue;
                }
                if (++fields > IMAGO_HTTPC_HEADERS_MAX)
                        return IMAGO_ETOOBIG;
                if ((r = parse_field(buf + pos, nl - pos, h)) != IMAGO_OK)
                        return r;
        }
        if (h->status == 0)
                return IMAGO_EHTTP;
        if (h->chunked && h->has_cl)
                return IMAGO_EHTTP;
        return IMAGO_OK;
}

/*
 * Walk the chunks from pos.  out NULL: check only (sets *total and *end);
 * else copy the data to out.
 */
static int walk_chunks(const uint8_t *buf, size_t len, int eof, size_t pos, uint8_t *out,
                       size_t *total, size_t *end)
{
        size_t sum = 0, i, size;
        int d;

        for (;;) {
                size = 0;
                for (i = 0; pos + i < len && buf[pos + i] != '\r'; i++) {
                        if (i >= CHUNK_LINE_MAX - 2 || (d = hexval(buf[pos + i])) < 0)
                                return IMAGO_EHTTP;
                        size = size * 16 + (size_t)d;
                }
                if (pos + i + 1 >= len)
                        return eof ? IMAGO_EHTTP : IMAGO_HTTPC_MORE;
                if (i == 0 || buf[pos + i + 1] != '\n')
                        return IMAGO_EHTTP;
                pos += i + 2;
                if (size > IMAGO_HTTPC_BODY_MAX - sum)
                        return IMAGO_ETOOBIG;
                if (size == 0)
                        break;
                if (len - pos < size + 2)
                        return eof ? IMAGO_EHTTP : IMAGO_HTTPC_MORE;
                if (buf[pos + size] != '\r' || buf[pos + size + 1] != '\n')
                        return IMAGO_EHTTP;
                if (out != NULL)
                        memcpy(out + sum, buf + pos, size);
                sum += size;
                pos += size + 2;
        }
        /* No trailers: the last chunk is followed by the final CRLF. */
        if (len - pos < 2) {
                if (len - pos == 1 && buf[pos] != '\r')
                        return IMAGO_EHTTP;
                return eof ? IMAGO_EHTTP : IMAGO_HTTPC_MORE;
        }
        if (buf[pos] != '\r' || buf[pos + 1] != '\n')
                return IMAGO_EHTTP;
        *total = sum;
        *end = pos + 2;
        return IMAGO_OK;
}

int imago_httpc_parse_response(const uint8_t *buf, size_t len, int eof,
                               struct imago_httpc_resp *resp)
{
        struct head h;
        size_t blen = 0, end = 0;
        uint8_t *body = NULL;
        int r;

        if (resp == NULL)
                return IMAGO_EINVAL;
        memset(resp, 0, sizeof(*resp));
        if (buf == NULL && len > 0)
                return IMAGO_EINVAL;
        if ((r = parse_head(buf, len, eof, &h)) != IMAGO_OK)
                goto out;
        if (h.status == 204 || h.status == 304) {
                if (h.chunked || (h.has_cl && h.cl != 0)) {
                        r = IMAGO_EHTTP;
                        goto out;
                }
                blen = 0;
                end = h.len;
        } else if (h.chunked) {
                if ((r = walk_chunks(buf, len, eof, h.len, NULL, &blen, &end)) != IMAGO_OK)
                        goto out;
        } else if (h.has_cl) {
                if (len - h.len < h.cl) {
                        r = eof ? IMAGO_EHTTP : IMAGO_HTTPC_MORE;
                        goto out;
                }
                blen = (size_t)h.cl;
                end = h.len + blen;
        } else {
                r = IMAGO_EHTTP; /* no framing: a truncation could not be seen */
                goto out;
        }
        if (end != len) {
                r = IMAGO_EHTTP;
                goto out;
        }
        if (h.status == 206) {
                /* Only single ranges are asked for: multipart answers are refused. */
                if (h.cr == NULL || (r = parse_content_range(h.cr, h.cr_n, resp)) != IMAGO_OK ||
                    resp->range_last - resp->range_first + 1 != (uint64_t)blen) {
                        memset(resp, 0, sizeof(*resp));
                        r = IMAGO_EHTTP;
                        goto out;
                }
                resp->has_range = 1;
        }
        r = IMAGO_ENOMEM;
        if ((body = malloc(blen + 1)) == NULL)
                goto out;
        if (h.chunked) {
                if ((r = walk_chunks(buf, len, eof, h.len, body, &blen, &end)) != IMAGO_OK)
                        goto out;
        } else if (blen > 0) {
                memcpy(body, buf + h.len, blen);
        }
        body[blen] = '\0';
        resp->status = h.status;
        resp->body = (char *)body;
        resp->len = blen;
        body = NULL;
        r = IMAGO_OK;
out:
        free(body);
        return r;
}
