/*
 * See identity.h.  The identity's certificate and chain.
 */
#include "identity_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* At most this many chain certificates (the imago PKI needs one). */
#define CHAIN_MAX 8

int imago_identity_cert_check(const struct imago_identity *id, X509 *cert)
{
        X509_NAME *subj = X509_get_subject_name(cert);
        uint8_t *der = NULL;
        char cn[IMAGO_DEVICE_ID_LEN + 2];
        int n, r;

        n = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
        if (n <= 0 || (size_t)n != id->pub.spki_len || memcmp(der, id->pub.spki, (size_t)n) != 0) {
                r = IMAGO_EKEY_TYPE;
                goto out;
        }
        /* exactly one CN, equal to the device id */
        if (X509_NAME_entry_count(subj) < 1 ||
            X509_NAME_get_index_by_NID(subj, NID_commonName, -1) < 0 ||
            X509_NAME_get_index_by_NID(subj, NID_commonName,
                                       X509_NAME_get_index_by_NID(subj, NID_commonName, -1)) >= 0 ||
            X509_NAME_get_text_by_NID(subj, NID_commonName, cn, sizeof(cn)) !=
                IMAGO_DEVICE_ID_LEN ||
            strcmp(cn, id->device_id) != 0) {
                r = IMAGO_EPKI_NAME;
                goto out;
        }
        r = IMAGO_OK;
out:
        OPENSSL_free(der);
        return r;
}

/* Every PEM certificate of path (1..CHAIN_MAX) into *out. */
static int pem_certs(const char *path, STACK_OF(X509) * *out)
{
        STACK_OF(X509) *sk = NULL;
        BIO *bio = NULL;
        X509 *c;
        int r;

        bio = BIO_new_file(path, "r");
        if (bio == NULL) {
                r = IMAGO_EIO;
                IMAGO_ERR_R(r, "cannot read %s", path);
                goto out;
        }
        sk = sk_X509_new_null();
        if (sk == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        while ((c = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
                if (sk_X509_num(sk) >= CHAIN_MAX) {
                        X509_free(c);
                        r = IMAGO_ETOOBIG;
                        goto out;
                }
                if (sk_X509_push(sk, c) <= 0) {
                        X509_free(c);
                        r = IMAGO_ENOMEM;
                        goto out;
                }
        }
        if (sk_X509_num(sk) == 0) {
                r = IMAGO_EIO;
                IMAGO_ERR_R(r, "no PEM certificate in %s", path);
                goto out;
        }
        *out = sk;
        sk = NULL;
        r = IMAGO_OK;
out:
        ERR_clear_error(); /* reading to the end leaves a "no start line" error */
        sk_X509_pop_free(sk, X509_free);
        BIO_free(bio);
        return r;
}

int imago_identity_load_cert(struct imago_identity *id, const char *cert_path,
                             const char *chain_path)
{
        STACK_OF(X509) *certs = NULL, *chain = NULL;
        X509 *cert = NULL;
        int r;

        if (id == NULL || cert_path == NULL)
                return IMAGO_EINVAL;
        r = pem_certs(cert_path, &certs);
        if (r != IMAGO_OK)
                goto out;
        cert = sk_X509_shift(certs);
        r = imago_identity_cert_check(id, cert);
        if (r != IMAGO_OK) {
                IMAGO_ERR_R(r, "%s is not a certificate for device %s", cert_path, id->device_id);
                goto out;
        }
        /* certificates after the first one in cert_path, then chain_path's */
        if (chain_path != NULL) {
                r = pem_certs(chain_path, &chain);
                if (r != IMAGO_OK)
                        goto out;
                while (sk_X509_num(chain) > 0) {
                        if (sk_X509_num(certs) >= CHAIN_MAX) {
                                r = IMAGO_ETOOBIG;
                                goto out;
                        }
                        if (sk_X509_push(certs, sk_X509_value(chain, 0)) <= 0) {
                                r = IMAGO_ENOMEM;
                                goto out;
                        }
                        (void)sk_X509_shift(chain);
                }
        }
        X509_free(id->cert);
        sk_X509_pop_free(id->chain, X509_free);
        id->cert = cert;
        id->chain = certs;
        cert = NULL;
        certs = NULL;
        r = IMAGO_OK;
out:
        X509_free(cert);
        sk_X509_pop_free(certs, X509_free);
        sk_X509_pop_free(chain, X509_free);
        return r;
}

X509 *imago_identity_cert(const struct imago_identity *id)
{
        return id->cert;
}
