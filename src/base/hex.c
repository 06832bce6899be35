/* See hex.h. */
#include "hex.h"

#include "err.h"

static int digit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

int imago_hex_is_lower(const char *s, size_t min, size_t max)
{
        size_t n = 0;

        if (s == NULL)
                return 0;
        for (; s[n] != '\0'; n++) {
                if (n == max || digit(s[n]) < 0)
                        return 0;
        }
        return n >= min;
}

int imago_device_id_valid(const char *s)
{
        return imago_hex_is_lower(s, IMAGO_DEVICE_ID_LEN, IMAGO_DEVICE_ID_LEN);
}

void imago_hex_encode(const uint8_t *in, size_t n, char *out)
{
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[in[i] >> 4];
                out[2 * i + 1] = digits[in[i] & 15];
        }
        out[2 * n] = '\0';
}

int imago_hex_decode(const char *s, uint8_t *out, size_t n)
{
        if (!imago_hex_is_lower(s, 2 * n, 2 * n))
                return IMAGO_EMALFORMED;
        for (size_t i = 0; i < n; i++)
                out[i] = (uint8_t)(digit(s[2 * i]) << 4 | digit(s[2 * i + 1]));
        return IMAGO_OK;
}
