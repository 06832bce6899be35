/* imago_delta: making deltas (see delta.h). */
#include "delta/delta.h"

#include "base/err.h"

#include <stdlib.h>
#include <zstd.h>

unsigned imago_delta_window_log(uint64_t base_len, uint64_t target_len)
{
        uint64_t m = base_len > target_len ? base_len : target_len;
        unsigned hb = 0;

        while (hb < 63 && (m >> (hb + 1)) != 0)
                hb++;
        hb += 1; /* FIO_highbit64(maxSize) + 1, as zstd's fileio.c */
        if (hb < IMAGO_DELTA_WLOG_MIN)
                hb = IMAGO_DELTA_WLOG_MIN;
        if (hb > IMAGO_DELTA_WLOG_MAX)
                hb = IMAGO_DELTA_WLOG_MAX;
        return hb;
}

static int set(ZSTD_CCtx *c, ZSTD_cParameter p, int v)
{
        return ZSTD_isError(ZSTD_CCtx_setParameter(c, p, v)) ? IMAGO_EDELTA : IMAGO_OK;
}

int imago_delta_make(const uint8_t *base, size_t base_len, const uint8_t *target, size_t target_len,
                     int level, uint8_t **delta, size_t *delta_len)
{
        ZSTD_CCtx *c = NULL;
        uint8_t *buf = NULL;
        size_t cap, n;
        int r;

        *delta = NULL;
        *delta_len = 0;
        if (level == 0)
                level = IMAGO_DELTA_LEVEL_DEFAULT;
        if (level < 1 || level > IMAGO_DELTA_LEVEL_MAX || (base_len && !base) ||
            (target_len && !target))
                return IMAGO_EINVAL;
        if (base_len > IMAGO_DELTA_IMAGE_MAX || target_len > IMAGO_DELTA_IMAGE_MAX)
                return IMAGO_ETOOBIG;
        cap = ZSTD_compressBound(target_len);
        c = ZSTD_createCCtx();
        buf = malloc(cap ? cap : 1);
        if (!c || !buf) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        if ((r = set(c, ZSTD_c_compressionLevel, level)) ||
            (r = set(c, ZSTD_c_windowLog, (int)imago_delta_window_log(base_len, target_len))) ||
            (r = set(c, ZSTD_c_enableLongDistanceMatching, 1)) ||
            (r = set(c, ZSTD_c_checksumFlag, 1)) || (r = set(c, ZSTD_c_contentSizeFlag, 1)) ||
            (r = set(c, ZSTD_c_dictIDFlag, 0)))
                goto out;
        if (base_len && ZSTD_isError(ZSTD_CCtx_refPrefix(c, base, base_len))) {
                r = IMAGO_EDELTA;
                goto out;
        }
        n = ZSTD_compress2(c, buf, cap, target, target_len);
        if (ZSTD_isError(n)) {
                r = IMAGO_EDELTA;
                goto out;
        }
        *delta = buf;
        *delta_len = n;
        buf = NULL;
        r = IMAGO_OK;
out:
        free(buf);
        ZSTD_freeCCtx(c);
        return r;
}

void imago_delta_free(uint8_t *delta)
{
        free(delta);
}
