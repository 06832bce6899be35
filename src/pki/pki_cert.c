/* X.509 certificate construction from a spec; see pki_priv.h. */
#include "pki_priv.h"

#include "base/err.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
        X509V3_CTX ctx;
        X509_EXTENSION *ext;
        int ok;

        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        if (ext == NULL)
                return IMAGO_EPKI_NAME;
        ok = X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
        return ok == 1 ? IMAGO_OK : IMAGO_ECRYPTO;
}

/* 127-bit random positive serial: unique without coordination between issuers. */
static int set_serial(X509 *cert)
{
        uint8_t raw[16];
        BIGNUM *bn = NULL;
        int r = IMAGO_ECRYPTO;

        if (RAND_bytes(raw, sizeof(raw)) != 1)
                return IMAGO_ECRYPTO;
        raw[0] &= 0x7f;
        raw[0] |= 0x40; /* fixed length, never zero */
        bn = BN_bin2bn(raw, sizeof(raw), NULL);
        if (bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL)
                r = IMAGO_OK;
        BN_free(bn);
        return r;
}

static int add_name(X509_NAME *name, const char *field, const char *value)
{
        if (value == NULL)
                return IMAGO_OK;
        if (value[0] == '\0' || strlen(value) > 64)
                return IMAGO_EPKI_NAME;
        if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, (const unsigned char *)value, -1,
                                       -1, 0) != 1)
                return IMAGO_EPKI_NAME;
        return IMAGO_OK;
}

static int set_validity(X509 *cert, long days)
{
        if (X509_gmtime_adj(X509_getm_notBefore(cert), -300) == NULL)
                return IMAGO_ECRYPTO;
        if (days <= 0) {
                /* RFC 5280 4.1.2.5: no well-defined expiration date. */
                if (ASN1_TIME_set_string_X509(X509_getm_notAfter(cert), "99991231235959Z") != 1)
                        return IMAGO_ECRYPTO;
                return IMAGO_OK;
        }
        if (X509_time_adj_ex(X509_getm_notAfter(cert), (int)days, 0, NULL) == NULL)
                return IMAGO_ECRYPTO;
        return IMAGO_OK;
}

static const EVP_MD *sign_md(EVP_PKEY *key)
{
        return EVP_PKEY_is_a(key, "ED25519") ? NULL : EVP_sha256();
}

int pki_cert_build(const struct pki_cert_spec *spec, X509 **out)
{
        X509 *cert = NULL;
        X509_NAME *name = NULL;
        X509 *issuer;
        int r;

        if (spec == NULL || out == NULL || spec->subject_key == NULL || spec->issuer_key == NULL ||
            spec->cn == NULL)
                return IMAGO_EINVAL;
        if ((cert = X509_new()) == NULL || (name = X509_NAME_new()) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        if (X509_set_version(cert, 2) != 1) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        if ((r = set_serial(cert)) != IMAGO_OK)
                goto out;
        if ((r = add_name(name, "O", spec->org)) != IMAGO_OK ||
            (r = add_name(name, "OU", spec->ou)) != IMAGO_OK ||
            (r = add_name(name, "CN", spec->cn)) != IMAGO_OK)
                goto out;
        issuer = spec->issuer != NULL ? spec->issuer : cert;
        if (X509_set_subject_name(cert, name) != 1 ||
            X509_set_issuer_name(cert, spec->issuer != NULL ? X509_get_subject_name(spec->issuer)
                                                            : name) != 1 ||
            X509_set_pubkey(cert, spec->subject_key) != 1) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        if ((r = set_validity(cert, spec->days)) != IMAGO_OK)
                goto out;
        if ((r = add_ext(cert, issuer, NID_basic_constraints, spec->basic)) != IMAGO_OK ||
            (r = add_ext(cert, issuer, NID_key_usage, spec->key_usage)) != IMAGO_OK ||
            (r = add_ext(cert, issuer, NID_subject_key_identifier, "hash")) != IMAGO_OK ||
            (r = add_ext(cert, issuer, NID_authority_key_identifier, "keyid:always")) != IMAGO_OK)
                goto out;
        if (spec->ext_key_usage != NULL &&
            (r = add_ext(cert, issuer, NID_ext_key_usage, spec->ext_key_usage)) != IMAGO_OK)
                goto out;
        if (spec->name_constraints != NULL &&
            (r = add_ext(cert, issuer, NID_name_constraints, spec->name_constraints)) != IMAGO_OK)
                goto out;
        if (spec->san != NULL &&
            (r = add_ext(cert, issuer, NID_subject_alt_name, spec->san)) != IMAGO_OK)
                goto out;
        if (X509_sign(cert, spec->issuer_key, sign_md(spec->issuer_key)) <= 0) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        *out = cert;
        cert = NULL;
        r = IMAGO_OK;
out:
        X509_NAME_free(name);
        X509_free(cert);
        return r;
}

int pki_cert_org(X509 *cert, char *buf, size_t size)
{
        int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_organizationName, buf,
                                          (int)size);

        return n > 0 && (size_t)n < size ? IMAGO_OK : IMAGO_EPKI_NAME;
}

/* An IPv4 or IPv6 literal (no DNS name contains ':' and only digits and dots). */
static int is_ip(const char *s)
{
        int colon = 0, other = 0;

        for (const char *p = s; *p != '\0'; p++) {
                if (*p == ':')
                        colon = 1;
                else if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == '/'))
                        other = 1;
        }
        return colon || !other;
}

static int name_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 253)
                return 0;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == ':' || c == '/'))
                        return 0;
        }
        return 1;
}

int pki_names_value(const char *const *names, size_t count, const char *prefix_sep, char *buf,
                    size_t size)
{
        size_t used = 0;

        if (size == 0)
                return IMAGO_EINVAL;
        buf[0] = '\0';
        for (size_t i = 0; i < count; i++) {
                int n;

                if (names[i] == NULL || !name_ok(names[i]))
                        return IMAGO_EPKI_NAME;
                n = snprintf(buf + used, size - used, "%s%s%s:%s", i ? "," : "", prefix_sep,
                             is_ip(names[i]) ? "IP" : "DNS", names[i]);
                if (n < 0 || (size_t)n >= size - used)
                        return IMAGO_ETOOBIG;
                used += (size_t)n;
        }
        return IMAGO_OK;
}
