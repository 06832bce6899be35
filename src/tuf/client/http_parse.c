/*
 * See http_priv.h: the HTTP fetcher's incremental response parser.
 */
#include <string.h>

#include "base/err.h"
#include "tuf/client/http_priv.h"

enum {
        ST_HEAD = 0,
        ST_BODY,       /* Content-Length body */
        ST_CHUNK_SIZE, /* chunk-size line, collected in head[] */
        ST_CHUNK_DATA, /* chunk data */
        ST_CHUNK_CRLF, /* CRLF after chunk data (left = bytes of it seen) */
        ST_LAST_CRLF,  /* CRLF after the last chunk: no trailers */
        ST_DONE,       /* complete; more input is an error */
        ST_FINISHED,   /* an answer other than MORE was given */
};

#define CHUNK_LINE_MAX 64U

void imago_tuf_http_init(struct imago_tuf_http_parser *p, uint64_t max, imago_tuf_sink_fn sink,
                         void *sink_arg)
{
        memset(p, 0, offsetof(struct imago_tuf_http_parser, head));
        p->state = ST_HEAD;
        p->max = max;
        p->sink = sink;
        p->sink_arg = sink_arg;
}

static int is_tchar(unsigned char c)
{
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                return 1;
        return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field value and reason phrase bytes: HTAB, SP, VCHAR, obs-text. */
static int is_vbyte(unsigned char c)
{
        return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int ieq(const char *a, size_t alen, const char *b)
{
        size_t i;

        if (alen != strlen(b))
                return 0;
        for (i = 0; i < alen; i++) {
                char x = a[i], y = b[i];

                if (x >= 'A' && x <= 'Z')
                        x = (char)(x - 'A' + 'a');
                if (x != y)
                        return 0;
        }
        return 1;
}

/* Content-Length: 1..19 digits (below 10^19, no overflow). */
static int parse_length(const char *v, size_t n, uint64_t *out)
{
        uint64_t x = 0;
        size_t i;

        if (n == 0 || n > 19)
                return IMAGO_EHTTP;
        for (i = 0; i < n; i++) {
                if (v[i] < '0' || v[i] > '9')
                        return IMAGO_EHTTP;
                x = x * 10U + (uint64_t)(v[i] - '0');
        }
        *out = x;
        return IMAGO_OK;
}

/* One header line (without CRLF): name ":" OWS value OWS. */
static int parse_header(struct imago_tuf_http_parser *p, const char *l, size_t n, int *have_len,
                        int *have_te, uint64_t *len)
{
        size_t i = 0, vs, ve;

        while (i < n && is_tchar((unsigned char)l[i]))
                i++;
        if (i == 0 || i >= n || l[i] != ':')
                return IMAGO_EHTTP;
        for (vs = i + 1; vs < n; vs++)
                if (!is_vbyte((unsigned char)l[vs]))
                        return IMAGO_EHTTP;
        vs = i + 1;
        while (vs < n && (l[vs] == ' ' || l[vs] == '\t'))
                vs++;
        ve = n;
        while (ve > vs && (l[ve - 1] == ' ' || l[ve - 1] == '\t'))
                ve--;
        if (ieq(l, i, "content-length")) {
                if (*have_len)
                        return IMAGO_EHTTP;
                *have_len = 1;
                return parse_length(l + vs, ve - vs, len);
        }
        if (ieq(l, i, "transfer-encoding")) {
                if (*have_te || !ieq(l + vs, ve - vs, "chunked"))
                        return IMAGO_EHTTP;
                *have_te = 1;
                p->chunked = 1;
        }
        return IMAGO_OK;
}

/* The head is complete in p->head[0..head_len) (ending in CRLF CRLF): status and framing. */
static int parse_head(struct imago_tuf_http_parser *p)
{
        const char *h = p->head, *eol;
        size_t n = p->head_len - 2, pos, i, count = 0; /* n: without the final empty line's CRLF */
        int have_len = 0, have_te = 0, r;
        uint64_t len = 0;

        if (n < 14 || (memcmp(h, "HTTP/1.1 ", 9) != 0 && memcmp(h, "HTTP/1.0 ", 9) != 0))
                return IMAGO_EHTTP;
        for (i = 9; i < 12; i++)
                if (h[i] < '0' || h[i] > '9')
                        return IMAGO_EHTTP;
        if (h[12] != ' ')
                return IMAGO_EHTTP;
        p->status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
        eol = memchr(h, '\r', n);
        if (eol == NULL)
                return IMAGO_EHTTP;
        for (i = 13; h + i < eol; i++)
                if (!is_vbyte((unsigned char)h[i]))
                        return IMAGO_EHTTP;
        pos = (size_t)(eol - h) + 2;
        while (pos < n) {
                const char *l = h + pos;

                eol = memchr(l, '\r', n - pos);
                if (eol == NULL)
                        return IMAGO_EHTTP;
                if (++count > IMAGO_TUF_HTTP_HEADERS_MAX)
                        return IMAGO_EHTTP;
                r = parse_header(p, l, (size_t)(eol - l), &have_len, &have_te, &len);
                if (r != IMAGO_OK)
                        return r;
                pos = (size_t)(eol - h) + 2;
        }
        if (have_len && have_te)
                return IMAGO_EHTTP;
        if (p->status == 404 || p->status == 403)
                return IMAGO_ENOTFOUND;
        if (p->status != 200)
                return IMAGO_EHTTP;
        if (have_te) {
                p->state = ST_CHUNK_SIZE;
                p->head_len = 0;
                return IMAGO_TUF_HTTP_MORE;
        }
        if (!have_len)
                return IMAGO_EHTTP;
        if (len > p->max)
                return IMAGO_ETUF_LENGTH;
        p->left = len;
        p->state = len == 0 ? ST_DONE : ST_BODY;
        p->head_len = 0;
        return IMAGO_TUF_HTTP_MORE;
}

/* Head bytes: CR only before LF, LF only after CR; the head ends at an empty line. */
static int feed_head(struct imago_tuf_http_parser *p, unsigned char c)
{
        if (p->head_len >= sizeof(p->head))
                return IMAGO_ETOOBIG;
        if (c == '\n' && (p->head_len == 0 || p->head[p->head_len - 1] != '\r'))
                return IMAGO_EHTTP;
        if (c != '\n' && p->head_len > 0 && p->head[p->head_len - 1] == '\r')
                return IMAGO_EHTTP;
        if (c != '\r' && c != '\n' && c != '\t' && (c < 0x20 || c == 0x7f))
                return IMAGO_EHTTP;
        p->head[p->head_len++] = (char)c;
        if (c == '\n' && p->head_len >= 4 && memcmp(p->head + p->head_len - 4, "\r\n\r\n", 4) == 0)
                return parse_head(p);
        /* The status line may not be empty: an empty first line is not the end of a head. */
        if (c == '\n' && p->head_len == 2)
                return IMAGO_EHTTP;
        return IMAGO_TUF_HTTP_MORE;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Chunk-size line: 1*HEXDIG CRLF, no extensions. */
static int feed_chunk_size(struct imago_tuf_http_parser *p, unsigned char c)
{
        uint64_t v = 0;
        size_t i, n;

        if (c != '\n') {
                if (p->head_len > 0 && p->head[p->head_len - 1] == '\r')
                        return IMAGO_EHTTP;
                if (c != '\r' && hexval((char)c) < 0)
                        return IMAGO_EHTTP;
                if (p->head_len >= CHUNK_LINE_MAX)
                        return IMAGO_EHTTP;
                p->head[p->head_len++] = (char)c;
                return IMAGO_TUF_HTTP_MORE;
        }
        if (p->head_len < 2 || p->head[p->head_len - 1] != '\r')
                return IMAGO_EHTTP;
        n = p->head_len - 1;
        for (i = 0; i < n; i++) {
                int d = hexval(p->head[i]);

                if (d < 0 || v > (UINT64_MAX >> 4))
                        return IMAGO_EHTTP;
                v = (v << 4) | (uint64_t)d;
        }
        p->head_len = 0;
        if (v == 0) {
                p->state = ST_LAST_CRLF;
                p->left = 0;
                return IMAGO_TUF_HTTP_MORE;
        }
        if (v > p->max - p->body)
                return IMAGO_ETUF_LENGTH;
        p->left = v;
        p->state = ST_CHUNK_DATA;
        return IMAGO_TUF_HTTP_MORE;
}

/* "\r\n" one byte at a time; p->left counts the bytes of it seen. */
static int feed_crlf(struct imago_tuf_http_parser *p, unsigned char c, int next)
{
        if (c != (p->left == 0 ? '\r' : '\n'))
                return IMAGO_EHTTP;
        if (p->left == 0) {
                p->left = 1;
                return IMAGO_TUF_HTTP_MORE;
        }
        p->left = 0;
        p->state = next;
        return IMAGO_TUF_HTTP_MORE;
}

static int feed_data(struct imago_tuf_http_parser *p, const uint8_t *buf, size_t len, size_t *used)
{
        size_t n = len;
        int r;

        if ((uint64_t)n > p->left)
                n = (size_t)p->left;
        r = p->sink(p->sink_arg, buf, n);
        if (r != IMAGO_OK)
                return r;
        p->left -= n;
        p->body += n;
        *used = n;
        if (p->left == 0)
                p->state = p->state == ST_BODY ? ST_DONE : ST_CHUNK_CRLF;
        return IMAGO_TUF_HTTP_MORE;
}

int imago_tuf_http_feed(struct imago_tuf_http_parser *p, const uint8_t *buf, size_t len)
{
        size_t i = 0, used;
        int r = IMAGO_TUF_HTTP_MORE;

        if (p == NULL || (buf == NULL && len > 0))
                return IMAGO_EINVAL;
        if (p->state == ST_FINISHED)
                return IMAGO_ESTATE;
        while (i < len && r == IMAGO_TUF_HTTP_MORE) {
                switch (p->state) {
                case ST_HEAD:
                        r = feed_head(p, buf[i++]);
                        break;
                case ST_BODY:
                case ST_CHUNK_DATA:
                        used = 0;
                        r = feed_data(p, buf + i, len - i, &used);
                        i += used;
                        break;
                case ST_CHUNK_SIZE:
                        r = feed_chunk_size(p, buf[i++]);
                        break;
                case ST_CHUNK_CRLF:
                        r = feed_crlf(p, buf[i++], ST_CHUNK_SIZE);
                        break;
                case ST_LAST_CRLF:
                        r = feed_crlf(p, buf[i++], ST_DONE);
                        break;
                default: /* ST_DONE: bytes after the end */
                        r = IMAGO_EHTTP;
                        break;
                }
        }
        if (r == IMAGO_TUF_HTTP_MORE && p->state == ST_DONE)
                r = IMAGO_OK;
        if (r != IMAGO_TUF_HTTP_MORE)
                p->state = ST_FINISHED;
        return r;
}

int imago_tuf_http_eof(struct imago_tuf_http_parser *p)
{
        if (p == NULL)
                return IMAGO_EINVAL;
        if (p->state == ST_FINISHED)
                return IMAGO_ESTATE;
        p->state = ST_FINISHED;
        return IMAGO_ETRUNC;
}
