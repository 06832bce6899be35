/* See svc_csr.h. */
#define _DEFAULT_SOURCE
#include "cloud/svc_csr.h"

#include "base/err.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int only_cn_is(X509_NAME *name, const char *id)
{
        int idx, next;
        X509_NAME_ENTRY *e;
        ASN1_STRING *v;

        idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
        if (idx < 0)
                return 0;
        next = X509_NAME_get_index_by_NID(name, NID_commonName, idx);
        if (next >= 0)
                return 0;
        e = X509_NAME_get_entry(name, idx);
        v = X509_NAME_ENTRY_get_data(e);
        return v != NULL && (size_t)ASN1_STRING_length(v) == strlen(id) &&
               memcmp(ASN1_STRING_get0_data(v), id, strlen(id)) == 0;
}

int imago_svc_csr_check(const char *pem, const char *id, struct imago_pubkey *pub)
{
        BIO *bio = NULL;
        X509_REQ *req = NULL;
        EVP_PKEY *pk = NULL;
        unsigned char *der = NULL;
        char rest[2];
        int r, n;

        memset(pub, 0, sizeof(*pub));
        r = IMAGO_ENOMEM;
        if ((bio = BIO_new_mem_buf(pem, (int)strlen(pem))) == NULL)
                goto out;
        r = IMAGO_EPROTO_FIELD;
        if ((req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL)) == NULL)
                goto out;
        /* Nothing but whitespace after the CSR. */
        while ((n = BIO_read(bio, rest, 1)) == 1) {
                if (rest[0] != '\n' && rest[0] != '\r' && rest[0] != ' ')
                        goto out;
        }
        if (!only_cn_is(X509_REQ_get_subject_name(req), id))
                goto out;
        if ((pk = X509_REQ_get_pubkey(req)) == NULL)
                goto out;
        r = IMAGO_ECRYPTO;
        if (X509_REQ_verify(req, pk) != 1)
                goto out;
        r = IMAGO_EKEY_TYPE;
        if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC)
                goto out;
        if ((n = i2d_PUBKEY(pk, &der)) <= 0) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        if ((r = imago_pubkey_from_spki(pub, der, (size_t)n)) != IMAGO_OK)
                goto out;
        r = pub->type == IMAGO_KEY_P256 ? IMAGO_OK : IMAGO_EKEY_TYPE;
out:
        OPENSSL_free(der);
        EVP_PKEY_free(pk);
        X509_REQ_free(req);
        BIO_free(bio);
        return r;
}

int imago_svc_cert_pem(X509 *cert, char **pem)
{
        BIO *bio = NULL;
        char *data;
        long n;
        int r = IMAGO_ENOMEM;

        *pem = NULL;
        if ((bio = BIO_new(BIO_s_mem())) == NULL)
                goto out;
        if (PEM_write_bio_X509(bio, cert) != 1) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        if ((n = BIO_get_mem_data(bio, &data)) <= 0 || (*pem = malloc((size_t)n + 1)) == NULL)
                goto out;
        memcpy(*pem, data, (size_t)n);
        (*pem)[n] = '\0';
        r = IMAGO_OK;
out:
        BIO_free(bio);
        return r;
}

int imago_svc_csr_issue(const struct imago_svc_issuer *iss, const char *id,
                        const struct imago_pubkey *pub, char **pem, char serial[41],
                        int64_t *not_after)
{
        struct imago_pki_request req;
        X509 *cert = NULL;
        struct tm tm;
        int r;

        *pem = NULL;
        memset(&req, 0, sizeof(req));
        req.profile = IMAGO_PKI_DEVICE;
        req.common_name = id;
        req.pub = pub;
        req.days = iss->device_days;
        if ((r = imago_pki_issue(&iss->ca, &req, &cert)) != IMAGO_OK)
                goto out;
        if ((r = imago_pki_cert_serial(cert, serial)) != IMAGO_OK)
                goto out;
        memset(&tm, 0, sizeof(tm));
        if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        *not_after = (int64_t)timegm(&tm);
        r = imago_svc_cert_pem(cert, pem);
out:
        X509_free(cert);
        return r;
}
