/* See keys_openssl.h. */
#include "keys_openssl.h"

#include <string.h>

EVP_PKEY *imago_privkey_evp(const struct imago_privkey *key)
{
        return key == NULL ? NULL : (EVP_PKEY *)key->impl;
}

enum imago_key_type imago_evp_key_type(EVP_PKEY *pk)
{
        char group[32];
        size_t glen = 0;

        if (pk == NULL)
                return IMAGO_KEY_NONE;
        if (EVP_PKEY_is_a(pk, "ED25519"))
                return IMAGO_KEY_ED25519;
        if (!EVP_PKEY_is_a(pk, "EC"))
                return IMAGO_KEY_NONE;
        if (EVP_PKEY_get_utf8_string_param(pk, "group", group, sizeof(group), &glen) != 1)
                return IMAGO_KEY_NONE;
        if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
                return IMAGO_KEY_P256;
        return IMAGO_KEY_NONE;
}
