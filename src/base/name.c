/* See name.h. */
#include "name.h"

static int name_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
}

int imago_name_valid(const char *s, size_t max)
{
        size_t n;

        if (s == NULL)
                return 0;
        for (n = 0; s[n] != '\0'; n++) {
                if (n == max || !name_char(s[n]))
                        return 0;
        }
        return n >= 1;
}

int imago_name_valid_n(const char *s, size_t len, size_t max)
{
        size_t i;

        if (s == NULL || len < 1 || len > max)
                return 0;
        for (i = 0; i < len; i++) {
                if (!name_char(s[i]))
                        return 0;
        }
        return 1;
}
