/* imago_sha256_tagged (see crypto.h): backend-neutral, built on the streaming SHA-256 calls. */
#include "crypto/crypto.h"

int imago_sha256_tagged(const void *tag, size_t tag_len, const void *data, size_t len,
                        uint8_t out[IMAGO_SHA256_LEN])
{
        struct imago_sha256 h = {0};
        int r;

        if ((r = imago_sha256_init(&h)) != 0)
                return r;
        if ((r = imago_sha256_update(&h, tag, tag_len)) != 0 ||
            (r = imago_sha256_update(&h, data, len)) != 0) {
                imago_sha256_abort(&h);
                return r;
        }
        return imago_sha256_final(&h, out);
}
