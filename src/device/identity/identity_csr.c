/*
 * See identity.h.  Certificate signing requests signed by the identity key.
 */
#include "identity_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* 1..IMAGO_IDENTITY_ORG_MAX printable ASCII characters. */
static int org_ok(const char *org)
{
        size_t i, n = strlen(org);

        if (n == 0 || n > IMAGO_IDENTITY_ORG_MAX)
                return 0;
        for (i = 0; i < n; i++)
                if ((unsigned char)org[i] < 0x20 || (unsigned char)org[i] > 0x7e)
                        return 0;
        return 1;
}

/* The request's key is the identity's, and its signature verifies with it. */
static int csr_check(const struct imago_identity *id, X509_REQ *req)
{
        EVP_PKEY *pk = X509_REQ_get0_pubkey(req);
        uint8_t *der = NULL;
        int n, r;

        if (pk == NULL)
                return IMAGO_ECRYPTO;
        n = i2d_PUBKEY(pk, &der);
        if (n <= 0 || (size_t)n != id->pub.spki_len || memcmp(der, id->pub.spki, (size_t)n) != 0) {
                r = IMAGO_EKEY_TYPE;
                goto out;
        }
        r = X509_REQ_verify(req, pk) == 1 ? IMAGO_OK : IMAGO_ECRYPTO;
out:
        OPENSSL_free(der);
        return r;
}

int imago_identity_csr(struct imago_identity *id, const char *org, X509_REQ **out)
{
        X509_REQ *req = NULL;
        X509_NAME *name = NULL;
        int r;

        if (id == NULL || out == NULL)
                return IMAGO_EINVAL;
        *out = NULL;
        if (org != NULL && org[0] != 0 && !org_ok(org)) {
                r = IMAGO_EPKI_NAME;
                goto out;
        }
        req = X509_REQ_new();
        name = X509_NAME_new();
        if (req == NULL || name == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        r = IMAGO_ECRYPTO;
        if (org != NULL && org[0] != 0 &&
            X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1,
                                       0) != 1)
                goto out;
        if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                       (const unsigned char *)id->device_id, -1, -1, 0) != 1 ||
            X509_REQ_set_version(req, 0) != 1 || X509_REQ_set_subject_name(req, name) != 1 ||
            X509_REQ_set_pubkey(req, id->evp) != 1)
                goto out;
        /* Signed through the EVP_PKEY: in the token (pkcs11 engine) or with the file key. */
        if (X509_REQ_sign(req, id->evp, EVP_sha256()) <= 0) {
                IMAGO_ERR("the identity key did not sign the request");
                goto out;
        }
        r = csr_check(id, req);
        if (r != IMAGO_OK) {
                IMAGO_ERR_R(r, "signed request does not verify with the identity key");
                goto out;
        }
        *out = req;
        req = NULL;
out:
        X509_NAME_free(name);
        X509_REQ_free(req);
        return r;
}

int imago_identity_csr_encode(struct imago_identity *id, const char *org,
                              enum imago_identity_fmt fmt, uint8_t *buf, size_t cap, size_t *len)
{
        X509_REQ *req = NULL;
        BIO *bio = NULL;
        char *data;
        long n;
        int r;

        if (buf == NULL || len == NULL || (fmt != IMAGO_IDENTITY_PEM && fmt != IMAGO_IDENTITY_DER))
                return IMAGO_EINVAL;
        r = imago_identity_csr(id, org, &req);
        if (r != IMAGO_OK)
                goto out;
        bio = BIO_new(BIO_s_mem());
        if (bio == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        if ((fmt == IMAGO_IDENTITY_PEM ? PEM_write_bio_X509_REQ(bio, req)
                                       : i2d_X509_REQ_bio(bio, req)) != 1) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        n = BIO_get_mem_data(bio, &data);
        if (n <= 0) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        if ((unsigned long)n > cap) {
                r = IMAGO_ETOOBIG;
                goto out;
        }
        memcpy(buf, data, (size_t)n);
        *len = (size_t)n;
        r = IMAGO_OK;
out:
        BIO_free(bio);
        X509_REQ_free(req);
        return r;
}
