/*
 * libFuzzer target for the RFC 7512 pkcs11: URI parser (imago_p11_uri_parse),
 * which reads the store's token configuration.  Checks: no crash, no read
 * past the input, and on success every text field is NUL-terminated within
 * its array and the id within its maximum.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/p11/p11.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TERMINATED(f) (memchr((f), 0, sizeof(f)) != NULL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imago_p11_uri u;
        char *copy = malloc(size ? size : 1);
        int r;

        if (copy == NULL)
                return 0;
        memcpy(copy, data, size);
        r = imago_p11_uri_parse(&u, copy, size);
        if (r == IMAGO_OK &&
            (!TERMINATED(u.token) || !TERMINATED(u.manufacturer) || !TERMINATED(u.serial) ||
             !TERMINATED(u.model) || !TERMINATED(u.object) || !TERMINATED(u.pin_value) ||
             !TERMINATED(u.pin_source) || !TERMINATED(u.module_path) ||
             u.id_len > IMAGO_P11_ID_MAX))
                abort();
        if (r != IMAGO_OK && (r != IMAGO_EP11_URI || u.has != 0))
                abort();
        free(copy);
        return 0;
}
