/* See num.h. */
#include "num.h"

#include "err.h"

#include <stddef.h>

static int digit_value(char c, unsigned base)
{
        unsigned v;

        if (c >= '0' && c <= '9')
                v = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
                v = (unsigned)(c - 'a') + 10;
        else if (c >= 'A' && c <= 'F')
                v = (unsigned)(c - 'A') + 10;
        else
                return -1;
        return v < base ? (int)v : -1;
}

/* Parse s[0..n) fully. */
static int parse_n(const char *s, size_t n, uint64_t max, uint64_t *out)
{
        unsigned base = 10;
        uint64_t v = 0;
        size_t i = 0;

        if (s == NULL || n == 0)
                return IMAGO_EINVAL;
        if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                base = 16;
                i = 2;
        }
        for (; i < n; i++) {
                int d = digit_value(s[i], base);

                if (d < 0)
                        return IMAGO_EINVAL;
                if (__builtin_mul_overflow(v, base, &v) ||
                    __builtin_add_overflow(v, (unsigned)d, &v))
                        return IMAGO_ERANGE;
        }
        if (v > max)
                return IMAGO_ERANGE;
        *out = v;
        return IMAGO_OK;
}

static size_t str_len(const char *s)
{
        size_t n = 0;

        while (s[n] != '\0')
                n++;
        return n;
}

int imago_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
        if (s == NULL)
                return IMAGO_EINVAL;
        return parse_n(s, str_len(s), max, out);
}

int imago_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
        uint64_t v;
        int r = imago_parse_u64(s, max, &v);

        if (r == IMAGO_OK)
                *out = (uint32_t)v;
        return r;
}

int imago_parse_size(const char *s, uint32_t max, uint32_t *out)
{
        uint64_t v, mult = 1;
        size_t n;
        int r;

        if (s == NULL)
                return IMAGO_EINVAL;
        n = str_len(s);
        if (n > 1 && (s[n - 1] == 'K' || s[n - 1] == 'k')) {
                mult = 1024;
                n--;
        } else if (n > 1 && (s[n - 1] == 'M' || s[n - 1] == 'm')) {
                mult = 1024 * 1024;
                n--;
        }
        r = parse_n(s, n, UINT64_MAX / mult, &v);
        if (r != IMAGO_OK)
                return r;
        v *= mult;
        if (v > max)
                return IMAGO_ERANGE;
        *out = (uint32_t)v;
        return IMAGO_OK;
}
