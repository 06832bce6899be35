/* imago_broker client certificate facts: see broker.h. */
#include "broker/broker.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "base/err.h"

/* 1 when ca issued cert: names and key identifiers match and the signature verifies. */
static int issued_by(X509 *ca, X509 *cert)
{
        EVP_PKEY *pub;

        if (ca == NULL || X509_check_issued(ca, cert) != X509_V_OK)
                return 0;
        pub = X509_get0_pubkey(ca);
        return pub != NULL && X509_verify(cert, pub) == 1;
}

/* Exactly one entry nid in name, as UTF-8 without NUL, shorter than max. */
static int one_entry(const X509_NAME *name, int nid, char *out, size_t max)
{
        const X509_NAME_ENTRY *e;
        unsigned char *utf8 = NULL;
        int pos, n, r = IMAGO_EPKI_NAME;

        pos = X509_NAME_get_index_by_NID(name, nid, -1);
        if (pos < 0 || X509_NAME_get_index_by_NID(name, nid, pos) >= 0)
                goto out;
        e = X509_NAME_get_entry(name, pos);
        n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
        if (n <= 0 || (size_t)n >= max || memchr(utf8, '\0', (size_t)n) != NULL)
                goto out;
        memcpy(out, utf8, (size_t)n);
        out[n] = '\0';
        r = IMAGO_OK;
out:
        OPENSSL_free(utf8);
        return r;
}

static int serial_hex(X509 *cert, char out[BROKER_SERIAL_MAX + 1])
{
        static const char hex[] = "0123456789abcdef";
        unsigned char buf[BROKER_SERIAL_MAX / 2];
        BIGNUM *bn = NULL;
        int n, i, r = IMAGO_ECRYPTO;

        bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
        if (bn == NULL)
                goto out;
        n = BN_num_bytes(bn);
        if (n <= 0 || n > (int)sizeof(buf) || BN_is_negative(bn)) {
                r = IMAGO_EPKI_NAME;
                goto out;
        }
        BN_bn2bin(bn, buf);
        for (i = 0; i < n; i++) {
                out[2 * i] = hex[buf[i] >> 4];
                out[2 * i + 1] = hex[buf[i] & 15];
        }
        out[2 * n] = '\0';
        r = IMAGO_OK;
out:
        BN_free(bn);
        return r;
}

int broker_cert_facts(X509 *cert, const struct broker_cas *cas, struct broker_cert_facts *f)
{
        const X509_NAME *subj;
        int r;

        if (cert == NULL || cas == NULL || f == NULL)
                return IMAGO_EINVAL;
        memset(f, 0, sizeof(*f));
        if (issued_by(cas->factory, cert))
                f->issuer = IMAGO_AUTHZ_ISSUER_FACTORY;
        else if (issued_by(cas->issuing, cert))
                f->issuer = IMAGO_AUTHZ_ISSUER_ISSUING;
        else if (issued_by(cas->server, cert))
                f->issuer = IMAGO_AUTHZ_ISSUER_SERVER;
        else
                return IMAGO_EPKI_CHAIN;
        subj = X509_get_subject_name(cert);
        if (subj == NULL)
                return IMAGO_EPKI_NAME;
        if ((r = one_entry(subj, NID_commonName, f->cn, sizeof(f->cn))) != IMAGO_OK ||
            (r = one_entry(subj, NID_organizationalUnitName, f->ou, sizeof(f->ou))) != IMAGO_OK ||
            (r = serial_hex(cert, f->serial)) != IMAGO_OK) {
                memset(f, 0, sizeof(*f));
                return r;
        }
        return IMAGO_OK;
}

int broker_cert_load(const char *path, X509 **out)
{
        FILE *fp;
        X509 *x;

        fp = fopen(path, "r");
        if (fp == NULL)
                return IMAGO_EIO;
        x = PEM_read_X509(fp, NULL, NULL, NULL);
        fclose(fp);
        if (x == NULL)
                return IMAGO_EPKI_NAME;
        *out = x;
        return IMAGO_OK;
}
