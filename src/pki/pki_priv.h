/* Internals shared by the pki_*.c files; not part of the module's interface. */
#ifndef IMAGO_PKI_PRIV_H
#define IMAGO_PKI_PRIV_H

#include "pki.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

/* dir/file into buf. */
int pki_path(char *buf, size_t size, const char *dir, const char *file);

/* What a certificate says; the builder turns it into X.509 with one profile. */
struct pki_cert_spec {
        const char *org;
        const char *ou; /* NULL for none */
        const char *cn;
        EVP_PKEY *subject_key; /* public key to certify (borrowed) */
        X509 *issuer;          /* NULL: self-signed */
        EVP_PKEY *issuer_key;  /* signs */
        long days;             /* <= 0: no expiry (99991231235959Z) */
        const char *basic;     /* basicConstraints value */
        const char *key_usage;
        const char *ext_key_usage;    /* NULL for none */
        const char *name_constraints; /* NULL for none */
        const char *san;              /* subjectAltName value or NULL */
};

int pki_cert_build(const struct pki_cert_spec *spec, X509 **out);

/* Subject's org (O=) of a CA certificate, into buf. */
int pki_cert_org(X509 *cert, char *buf, size_t size);

/* Turn "a,b,c" names into an X.509v3 conf value with DNS:/IP: prefixes. */
int pki_names_value(const char *const *names, size_t count, const char *prefix_sep, char *buf,
                    size_t size);

#endif
