/*
 * See client.h: percent-encoding as Python's urllib.parse.quote.
 */
#include <string.h>

#include "base/err.h"
#include "tuf/client/client.h"

static int always_safe(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-' || c == '~';
}

int imago_tuf_quote(const char *s, const char *safe, char *out, size_t cap)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t o = 0;

        if (s == NULL || out == NULL || cap == 0)
                return IMAGO_EINVAL;
        for (; *s != '\0'; s++) {
                unsigned char c = (unsigned char)*s;

                if (always_safe(c) || (safe != NULL && strchr(safe, c) != NULL)) {
                        if (cap - o < 2)
                                return IMAGO_ETOOBIG;
                        out[o++] = (char)c;
                } else {
                        if (cap - o < 4)
                                return IMAGO_ETOOBIG;
                        out[o++] = '%';
                        out[o++] = hex[c >> 4];
                        out[o++] = hex[c & 15];
                }
        }
        out[o] = '\0';
        return IMAGO_OK;
}
