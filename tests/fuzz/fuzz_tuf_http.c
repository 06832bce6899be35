/*
 * libFuzzer target: the TUF client's HTTP response parser (bytes from any
 * server: the metadata repository is untrusted until its metadata
 * verifies).  The first byte picks how the rest is split into feeds (1 to
 * 8 bytes, or whole); the limit is 64 body bytes.  Invariants: never more
 * than the limit reaches the sink; an answer is one of those the header
 * lists; after an answer the parser refuses more input; a complete
 * response fed in any other split gives the same answer and body.
 */
#include "tuf/client/http_priv.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"

#define MAX 64

struct sink {
        uint8_t buf[MAX];
        size_t len;
        int over;
};

static int sink_fn(void *arg, const uint8_t *data, size_t len)
{
        struct sink *s = arg;

        if (len > MAX - s->len) {
                s->over = 1;
                return IMAGO_EINVAL;
        }
        memcpy(s->buf + s->len, data, len);
        s->len += len;
        return IMAGO_OK;
}

static int run(const uint8_t *data, size_t size, size_t step, struct sink *s)
{
        static struct imago_tuf_http_parser p;
        size_t i = 0, n;
        int r = IMAGO_TUF_HTTP_MORE;

        memset(s, 0, sizeof(*s));
        imago_tuf_http_init(&p, MAX, sink_fn, s);
        while (i < size && r == IMAGO_TUF_HTTP_MORE) {
                n = step == 0 || size - i < step ? size - i : step;
                r = imago_tuf_http_feed(&p, data + i, n);
                i += n;
        }
        if (r == IMAGO_OK && i < size)
                r = IMAGO_EHTTP; /* as fed whole: bytes after the end */
        if (r == IMAGO_TUF_HTTP_MORE)
                r = imago_tuf_http_eof(&p);
        if (imago_tuf_http_feed(&p, (const uint8_t *)"x", 1) != IMAGO_ESTATE)
                __builtin_trap();
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct sink a, b;
        size_t step;
        int ra, rb;

        if (size < 1)
                return 0;
        step = data[0] % 9;
        data++;
        size--;
        ra = run(data, size, step, &a);
        if (a.over)
                __builtin_trap();
        if (ra != IMAGO_OK && ra != IMAGO_ENOTFOUND && ra != IMAGO_ETUF_LENGTH &&
            ra != IMAGO_EHTTP && ra != IMAGO_ETOOBIG && ra != IMAGO_ETRUNC)
                __builtin_trap();
        rb = run(data, size, 0, &b);
        if (ra == IMAGO_OK && (rb != IMAGO_OK || a.len != b.len || memcmp(a.buf, b.buf, a.len)))
                __builtin_trap();
        return 0;
}
