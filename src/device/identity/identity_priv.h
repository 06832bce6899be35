/*
 * Internals of imago_identity shared by its source files.
 */
#ifndef IMAGO_DEVICE_IDENTITY_IDENTITY_PRIV_H
#define IMAGO_DEVICE_IDENTITY_IDENTITY_PRIV_H

#include "identity.h"

#include "crypto/keys.h"
#include "crypto/p11/p11.h"

struct imago_identity {
        enum imago_identity_backend backend;
        struct imago_p11 *p11;     /* PKCS#11: the session on the token */
        struct imago_p11_key key;  /* PKCS#11: the key's handles */
        struct imago_privkey file; /* file: the key */
        EVP_PKEY *evp;             /* owned reference (engine key, or the file key's) */
        X509 *cert;                /* NULL until imago_identity_load_cert() */
        STACK_OF(X509) * chain;    /* certificates sent after cert (may be empty) */
        struct imago_pubkey pub;
        char device_id[IMAGO_DEVICE_ID_LEN + 1];
};

/* The certificate carries the identity's key (IMAGO_EKEY_TYPE) and CN = device id
 * (IMAGO_EPKI_NAME). */
int imago_identity_cert_check(const struct imago_identity *id, X509 *cert);

#endif
