/* Object names and topics of the block transfer; see blk.h. */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/hex.h"
#include "blk/blk.h"

int imago_blk_obj_valid(const char *s, size_t len)
{
        size_t i;

        if (s == NULL || len == 0 || len > IMAGO_BLK_OBJ_MAX || s[0] == '/' || s[len - 1] == '/')
                return 0;
        for (i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c < 0x21 || c > 0x7e || c == '\\')
                        return 0;
                if (i > 0 && ((c == '/' && s[i - 1] == '/') || (c == '.' && s[i - 1] == '.')))
                        return 0;
        }
        return 1;
}

int imago_blk_topic(const char *id, int req, char *buf, size_t size)
{
        int n;

        if (id == NULL || buf == NULL || !imago_device_id_valid(id))
                return IMAGO_EINVAL;
        n = snprintf(buf, size, "imago/v1/d/%s/blk/%s", id, req ? "req" : "data");
        if (n < 0 || (size_t)n >= size)
                return IMAGO_EINVAL;
        return IMAGO_OK;
}
