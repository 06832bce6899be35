/* Check of a `cert` answer and rotation timing; see link.h. */
#include "link.h"

#include "base/err.h"

#include <limits.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

/* Exactly one certificate in pem (cert) or the first of several (chain). */
static int read_pem(const char *pem, int exactly_one, X509 **out)
{
        BIO *b = NULL;
        X509 *x = NULL, *extra = NULL;
        int r = IMAGO_EMALFORMED;

        *out = NULL;
        if (pem == NULL || (b = BIO_new_mem_buf(pem, -1)) == NULL)
                return pem == NULL ? IMAGO_EMALFORMED : IMAGO_ENOMEM;
        if ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
                goto out;
        if (exactly_one && (extra = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
                goto out;
        *out = x;
        x = NULL;
        r = IMAGO_OK;
out:
        ERR_clear_error();
        X509_free(x);
        X509_free(extra);
        BIO_free(b);
        return r;
}

/* Exactly one entry of nid in name, equal to want (or any value when want is NULL). */
static int name_is(X509_NAME *name, int nid, const char *want)
{
        int i = X509_NAME_get_index_by_NID(name, nid, -1);
        const ASN1_STRING *s;

        if (i < 0 || X509_NAME_get_index_by_NID(name, nid, i) >= 0)
                return 0;
        s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
        return s != NULL && (size_t)ASN1_STRING_length(s) == strlen(want) &&
               memcmp(ASN1_STRING_get0_data(s), want, strlen(want)) == 0;
}

int imago_link_cert_check(const char *cert_pem, const char *chain_pem, X509 *root, const char *id,
                          EVP_PKEY *key, time_t now, X509 **out_cert, X509 **out_chain)
{
        X509 *cert = NULL, *ca = NULL;
        X509_STORE *st = NULL;
        X509_STORE_CTX *ctx = NULL;
        STACK_OF(X509) *untrusted = NULL;
        X509_NAME *subj;
        int r;

        if (out_cert != NULL)
                *out_cert = NULL;
        if (out_chain != NULL)
                *out_chain = NULL;
        if (root == NULL || id == NULL || key == NULL)
                return IMAGO_EINVAL;
        if ((r = read_pem(cert_pem, 1, &cert)) != IMAGO_OK ||
            (r = read_pem(chain_pem, 0, &ca)) != IMAGO_OK)
                goto out;
        r = IMAGO_ENOMEM;
        if ((st = X509_STORE_new()) == NULL || (ctx = X509_STORE_CTX_new()) == NULL ||
            (untrusted = sk_X509_new_null()) == NULL || !X509_STORE_add_cert(st, root) ||
            !sk_X509_push(untrusted, ca))
                goto out;
        r = IMAGO_EPKI_CHAIN;
        /* The issuing CA given in the answer must be the certificate's direct issuer. */
        if (X509_check_issued(ca, cert) != X509_V_OK)
                goto out;
        if (!X509_STORE_CTX_init(ctx, st, cert, untrusted))
                goto out;
        X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
        if (now != 0)
                X509_STORE_CTX_set_time(ctx, 0, now);
        if (X509_verify_cert(ctx) != 1)
                goto out;
        /* The chain is cert -> ca -> root: nothing else may sit in between. */
        if (sk_X509_num(X509_STORE_CTX_get0_chain(ctx)) != 3)
                goto out;
        r = IMAGO_EPKI_NAME;
        subj = X509_get_subject_name(cert);
        if (!name_is(subj, NID_commonName, id) ||
            !name_is(subj, NID_organizationalUnitName, "device"))
                goto out;
        r = IMAGO_EKEY_TYPE;
        if (X509_get0_pubkey(cert) == NULL || EVP_PKEY_eq(X509_get0_pubkey(cert), key) != 1)
                goto out;
        r = IMAGO_OK;
        if (out_cert != NULL) {
                *out_cert = cert;
                cert = NULL;
        }
        if (out_chain != NULL) {
                *out_chain = ca;
                ca = NULL;
        }
out:
        ERR_clear_error();
        X509_STORE_CTX_free(ctx);
        X509_STORE_free(st);
        sk_X509_free(untrusted);
        X509_free(cert);
        X509_free(ca);
        return r;
}

long imago_link_rotate_due(X509 *cert, time_t now)
{
        ASN1_TIME *t = ASN1_TIME_new();
        int days = 0, secs = 0;
        long life, left;

        if (t == NULL || ASN1_TIME_set(t, now) == NULL ||
            !ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert), X509_get0_notAfter(cert))) {
                ASN1_TIME_free(t);
                return 0;
        }
        life = (long)days * 86400L + secs;
        if (!ASN1_TIME_diff(&days, &secs, t, X509_get0_notAfter(cert))) {
                ASN1_TIME_free(t);
                return 0;
        }
        ASN1_TIME_free(t);
        left = (long)days * 86400L + secs;
        /* due when left < life / 3 */
        return left - life / 3;
}
