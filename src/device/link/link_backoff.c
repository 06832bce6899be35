/* Reconnection backoff with full jitter; see link.h. */
#include "link.h"

#define BASE_DEFAULT 500U
#define CAP_DEFAULT  60000U

uint32_t imago_link_backoff_ceiling(const struct imago_link_backoff *b, uint32_t attempt)
{
        uint32_t base = b->base_ms ? b->base_ms : BASE_DEFAULT;
        uint32_t cap = b->cap_ms ? b->cap_ms : CAP_DEFAULT;
        uint64_t c = base;

        if (base > cap)
                return cap;
        for (uint32_t i = 0; i < attempt && c < cap; i++)
                c *= 2;
        return c > cap ? cap : (uint32_t)c;
}

uint32_t imago_link_backoff_next(struct imago_link_backoff *b, uint32_t r)
{
        uint32_t ceil = imago_link_backoff_ceiling(b, b->attempt);
        uint32_t d = (uint32_t)(((uint64_t)r * ((uint64_t)ceil + 1)) >> 32);

        if (b->attempt < UINT32_MAX)
                b->attempt++;
        return d;
}

void imago_link_backoff_reset(struct imago_link_backoff *b)
{
        b->attempt = 0;
}
