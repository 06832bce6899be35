/* See keys_openssl.h. */
#include "keys_openssl.h"

EVP_PKEY *imago_privkey_evp(const struct imago_privkey *key)
{
        return key == NULL ? NULL : (EVP_PKEY *)key->impl;
}
