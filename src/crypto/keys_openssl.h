/*
 * OpenSSL view of host keys, for host modules that build X.509 objects
 * (src/pki).  The OpenSSL backend keeps an EVP_PKEY in imago_privkey.impl;
 * this accessor returns it borrowed: it stays owned by the imago_privkey
 * and is freed by imago_privkey_free().  NULL for an empty key.
 */
#ifndef IMAGO_CRYPTO_KEYS_OPENSSL_H
#define IMAGO_CRYPTO_KEYS_OPENSSL_H

#include "crypto/keys.h"

#include <openssl/evp.h>

EVP_PKEY *imago_privkey_evp(const struct imago_privkey *key);

/* Key type of an OpenSSL key; IMAGO_KEY_NONE unless Ed25519 or P-256. */
enum imago_key_type imago_evp_key_type(EVP_PKEY *pk);

#endif
