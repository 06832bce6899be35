/* Factory manifest signature and trust checks; see manifest.h. */
#include "manifest.h"

#include "base/err.h"
#include "crypto/keys_openssl.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

int imago_manifest_sign(const uint8_t *buf, size_t len, const struct imago_pki_ca *factory,
                        uint8_t **sig, size_t *sig_len)
{
        EVP_MD_CTX *ctx = NULL;
        uint8_t *out = NULL;
        size_t n = 0;
        int r = IMAGO_ECRYPTO;

        if (buf == NULL || factory == NULL || factory->role != IMAGO_PKI_FACTORY || sig == NULL ||
            sig_len == NULL)
                return IMAGO_EINVAL;
        if ((ctx = EVP_MD_CTX_new()) == NULL)
                return IMAGO_ENOMEM;
        if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, imago_privkey_evp(&factory->key)) !=
                1 ||
            EVP_DigestSign(ctx, NULL, &n, buf, len) != 1)
                goto out;
        if ((out = malloc(n)) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        if (EVP_DigestSign(ctx, out, &n, buf, len) != 1)
                goto out;
        *sig = out;
        *sig_len = n;
        out = NULL;
        r = IMAGO_OK;
out:
        free(out);
        EVP_MD_CTX_free(ctx);
        return r;
}

/* cert <- issuer <- root, with the given purpose. */
static int chains(X509 *cert, X509 *issuer, X509 *root, int purpose)
{
        X509_STORE *st = X509_STORE_new();
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        STACK_OF(X509) *chain = sk_X509_new_null();
        int ok = 0;

        if (st == NULL || ctx == NULL || chain == NULL || X509_STORE_add_cert(st, root) != 1)
                goto out;
        if (issuer != NULL && sk_X509_push(chain, issuer) <= 0)
                goto out;
        if (X509_STORE_CTX_init(ctx, st, cert, chain) != 1)
                goto out;
        if (purpose != 0)
                X509_STORE_CTX_set_purpose(ctx, purpose);
        ok = X509_verify_cert(ctx) == 1;
out:
        sk_X509_free(chain);
        X509_STORE_CTX_free(ctx);
        X509_STORE_free(st);
        return ok;
}

static int device_ok(const struct imago_manifest_device *d, X509 *factory_cert, X509 *root_cert)
{
        const unsigned char *p = d->cert_der;
        unsigned char *spki = NULL;
        struct imago_pubkey pub;
        char id[IMAGO_DEVICE_ID_LEN + 1], cn[IMAGO_DEVICE_ID_LEN + 2], ou[16], serial[41];
        X509 *cert;
        int n, ok = 0;

        cert = d2i_X509(NULL, &p, (long)d->cert_len);
        if (cert == NULL || p != d->cert_der + d->cert_len)
                goto out;
        if (!chains(cert, factory_cert, root_cert, X509_PURPOSE_SSL_CLIENT) ||
            X509_check_issued(factory_cert, cert) != X509_V_OK)
                goto out;
        n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
        if (n != IMAGO_DEVICE_ID_LEN || strcmp(cn, d->id) != 0)
                goto out;
        n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_organizationalUnitName, ou,
                                      sizeof(ou));
        if (n <= 0 || strcmp(ou, "birth") != 0)
                goto out;
        n = i2d_PUBKEY(X509_get0_pubkey(cert), &spki);
        if (n <= 0 || imago_pubkey_from_spki(&pub, spki, (size_t)n) != IMAGO_OK ||
            imago_pki_device_id(&pub, id) != IMAGO_OK || strcmp(id, d->id) != 0)
                goto out;
        if (imago_pki_cert_serial(cert, serial) != IMAGO_OK || strcmp(serial, d->serial) != 0)
                goto out;
        ok = 1;
out:
        OPENSSL_free(spki);
        X509_free(cert);
        return ok;
}

int imago_manifest_verify(const uint8_t *buf, size_t len, const uint8_t *sig, size_t sig_len,
                          const struct imago_manifest *m, X509 *factory_cert, X509 *root_cert)
{
        EVP_MD_CTX *ctx;
        int ok;

        if (buf == NULL || sig == NULL || m == NULL || factory_cert == NULL || root_cert == NULL)
                return IMAGO_EINVAL;
        /* The signer must be a CA under the root, allowed to issue client certificates. */
        if (X509_check_ca(factory_cert) == 0 || !chains(factory_cert, NULL, root_cert, 0))
                return IMAGO_EMANIFEST_SIG;
        if ((ctx = EVP_MD_CTX_new()) == NULL)
                return IMAGO_ENOMEM;
        ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, X509_get0_pubkey(factory_cert)) ==
                 1 &&
             EVP_DigestVerify(ctx, sig, sig_len, buf, len) == 1;
        EVP_MD_CTX_free(ctx);
        if (!ok)
                return IMAGO_EMANIFEST_SIG;
        for (size_t i = 0; i < m->count; i++) {
                if (!device_ok(&m->devices[i], factory_cert, root_cert))
                        return IMAGO_EMANIFEST_DEVICE;
        }
        return IMAGO_OK;
}
