/* imago_delta: streaming, bounded apply (see delta.h). */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_getFrameHeader: check the window before allocating */
#include "delta/delta.h"

#include "base/err.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

const char *imago_delta_why_str(enum imago_delta_why why)
{
        switch (why) {
        case IMAGO_DELTA_NONE:
                return "no error";
        case IMAGO_DELTA_NOT_ZSTD:
                return "not a single zstd frame without dictionary id";
        case IMAGO_DELTA_WINDOW:
                return "frame window larger than the allowed limit";
        case IMAGO_DELTA_SIZE:
                return "frame content size differs from the expected length";
        case IMAGO_DELTA_LONG:
                return "output longer than the expected length";
        case IMAGO_DELTA_SHORT:
                return "delta truncated or output shorter than the expected length";
        case IMAGO_DELTA_CORRUPT:
                return "corrupt delta or another base";
        case IMAGO_DELTA_TRAILING:
                return "bytes after the end of the frame";
        case IMAGO_DELTA_HASH:
                return "output SHA-256 differs from the expected one";
        case IMAGO_DELTA_SINK:
                return "output sink failed";
        case IMAGO_DELTA_IO:
                return "file input/output failed";
        }
        return "unknown";
}

static int fail(struct imago_delta_apply *a, int r, enum imago_delta_why why)
{
        a->err = r;
        a->why = why;
        return r;
}

int imago_delta_apply_init(struct imago_delta_apply *a, const uint8_t *base, size_t base_len,
                           const struct imago_delta_expect *exp, imago_delta_sink_fn sink,
                           void *sink_arg)
{
        ZSTD_DCtx *d;
        unsigned wl;
        int r;

        memset(a, 0, sizeof(*a));
        a->err = IMAGO_EINVAL; /* until init completes */
        if (!exp || !sink || (base_len && !base))
                return IMAGO_EINVAL;
        wl = exp->window_log_max ? exp->window_log_max : IMAGO_DELTA_WLOG_DEFAULT;
        if (wl < IMAGO_DELTA_WLOG_MIN || wl > IMAGO_DELTA_WLOG_MAX ||
            (size_t)ZSTD_WINDOWLOG_MAX < wl)
                return IMAGO_EINVAL;
        a->exp = *exp;
        a->exp.window_log_max = wl;
        a->base = base;
        a->base_len = base_len;
        a->sink = sink;
        a->sink_arg = sink_arg;
        a->out_cap = ZSTD_DStreamOutSize();
        a->out = malloc(a->out_cap);
        a->dctx = d = ZSTD_createDCtx();
        if (!a->out || !d) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        /* The second line of defence behind our header check. */
        if (ZSTD_isError(ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, (int)wl)) ||
            (base_len && ZSTD_isError(ZSTD_DCtx_refPrefix(d, base, base_len)))) {
                r = IMAGO_EDELTA;
                goto out;
        }
        if ((r = imago_sha256_init(&a->h)) != IMAGO_OK)
                goto out;
        a->h_live = 1;
        a->err = 0;
        r = IMAGO_OK;
out:
        return r;
}

/* Frame header: checked once it is complete, before the decoder sees a byte. */
static int check_header(struct imago_delta_apply *a, const uint8_t **in, size_t *len)
{
        ZSTD_frameHeader fh;
        size_t take = sizeof(a->hdr) - a->hdr_len, r;

        if (take > *len)
                take = *len;
        memcpy(a->hdr + a->hdr_len, *in, take);
        a->hdr_len += take;
        *in += take;
        *len -= take;
        r = ZSTD_getFrameHeader(&fh, a->hdr, a->hdr_len);
        if (ZSTD_isError(r))
                return fail(a, IMAGO_EDELTA, IMAGO_DELTA_NOT_ZSTD);
        if (r > 0)
                return IMAGO_OK; /* need more bytes (a->hdr_len < 18 here) */
        if (fh.frameType != ZSTD_frame || fh.dictID != 0)
                return fail(a, IMAGO_EDELTA, IMAGO_DELTA_NOT_ZSTD);
        if (fh.windowSize > (1ULL << a->exp.window_log_max))
                return fail(a, IMAGO_EDELTA, IMAGO_DELTA_WINDOW);
        if (fh.frameContentSize != ZSTD_CONTENTSIZE_UNKNOWN && fh.frameContentSize != a->exp.length)
                return fail(a, IMAGO_EDELTA, IMAGO_DELTA_SIZE);
        a->hdr_ok = 1;
        return IMAGO_OK;
}

static int emit(struct imago_delta_apply *a, size_t n)
{
        int r;

        if (n > a->exp.length - a->written)
                return fail(a, IMAGO_EDELTA, IMAGO_DELTA_LONG);
        if (n == 0)
                return IMAGO_OK;
        if (imago_sha256_update(&a->h, a->out, n) != IMAGO_OK)
                return fail(a, IMAGO_ECRYPTO, IMAGO_DELTA_NONE);
        if ((r = a->sink(a->sink_arg, a->out, n)) != 0)
                return fail(a, r < 0 ? r : IMAGO_EIO, IMAGO_DELTA_SINK);
        a->written += n;
        return IMAGO_OK;
}

/* Runs the decoder over in until it is consumed and flushed; output bounded by the length. */
static int decode(struct imago_delta_apply *a, const uint8_t *in, size_t len)
{
        ZSTD_inBuffer ib = {in, len, 0};
        int r;

        if (len == 0)
                return IMAGO_OK;
        if (a->done)
                return fail(a, IMAGO_EDELTA, IMAGO_DELTA_TRAILING);
        for (;;) {
                ZSTD_outBuffer ob = {a->out, a->out_cap, 0};
                size_t z = ZSTD_decompressStream(a->dctx, &ob, &ib);

                if (ZSTD_isError(z))
                        return fail(a, IMAGO_EDELTA,
                                    ZSTD_getErrorCode(z) == ZSTD_error_frameParameter_windowTooLarge
                                        ? IMAGO_DELTA_WINDOW
                                        : IMAGO_DELTA_CORRUPT);
                if ((r = emit(a, ob.pos)) != IMAGO_OK)
                        return r;
                if (z == 0) {
                        a->done = 1;
                        break;
                }
                if (ib.pos == ib.size && ob.pos < ob.size)
                        break;
        }
        if (ib.pos < ib.size)
                return fail(a, IMAGO_EDELTA, IMAGO_DELTA_TRAILING);
        return IMAGO_OK;
}

int imago_delta_apply_update(struct imago_delta_apply *a, const uint8_t *in, size_t len)
{
        const uint8_t *p = in;
        size_t n = len;
        int r;

        if (a->err)
                return a->err;
        if (len && !in)
                return fail(a, IMAGO_EINVAL, IMAGO_DELTA_NONE);
        if (!a->hdr_ok) {
                if ((r = check_header(a, &p, &n)) != IMAGO_OK)
                        return r;
                if (!a->hdr_ok)
                        return IMAGO_OK;
                /* The decoder gets the buffered header bytes, then the rest. */
                if ((r = decode(a, a->hdr, a->hdr_len)) != IMAGO_OK)
                        return r;
        }
        return decode(a, p, n);
}

int imago_delta_apply_final(struct imago_delta_apply *a)
{
        uint8_t md[IMAGO_SHA256_LEN];
        int r;

        if (a->err)
                return a->err;
        if (!a->done)
                return fail(a, IMAGO_EDELTA,
                            a->hdr_len == 0 ? IMAGO_DELTA_NOT_ZSTD : IMAGO_DELTA_SHORT);
        if (a->written != a->exp.length)
                return fail(a, IMAGO_EDELTA, IMAGO_DELTA_SHORT);
        a->h_live = 0;
        if ((r = imago_sha256_final(&a->h, md)) != IMAGO_OK)
                return fail(a, r, IMAGO_DELTA_NONE);
        if (memcmp(md, a->exp.sha256, sizeof(md)) != 0)
                return fail(a, IMAGO_EDELTA, IMAGO_DELTA_HASH);
        a->err = IMAGO_ESTATE; /* finished: nothing more to feed */
        a->why = IMAGO_DELTA_NONE;
        return IMAGO_OK;
}

size_t imago_delta_apply_mem(const struct imago_delta_apply *a)
{
        return (a->dctx ? ZSTD_sizeof_DCtx(a->dctx) : 0) + (a->out ? a->out_cap : 0);
}

void imago_delta_apply_free(struct imago_delta_apply *a)
{
        if (a->h_live)
                imago_sha256_abort(&a->h);
        ZSTD_freeDCtx(a->dctx);
        free(a->out);
        a->dctx = NULL;
        a->out = NULL;
        a->h_live = 0;
}

int imago_delta_apply_buf(const uint8_t *base, size_t base_len, const uint8_t *delta,
                          size_t delta_len, const struct imago_delta_expect *exp,
                          imago_delta_sink_fn sink, void *sink_arg, enum imago_delta_why *why)
{
        struct imago_delta_apply a;
        int r;

        r = imago_delta_apply_init(&a, base, base_len, exp, sink, sink_arg);
        if (r == IMAGO_OK)
                r = imago_delta_apply_update(&a, delta, delta_len);
        if (r == IMAGO_OK)
                r = imago_delta_apply_final(&a);
        if (why)
                *why = r == IMAGO_OK ? IMAGO_DELTA_NONE : a.why;
        imago_delta_apply_free(&a);
        return r;
}
