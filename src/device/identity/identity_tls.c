/*
 * See identity.h.  The TLS client context of the device link.
 */
#include "identity_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#define TLS13_SUITES "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"
#define TLS12_CIPHERS                                                                              \
        "ECDHE-ECDSA-AES256-GCM-SHA384:"                                                           \
        "ECDHE-ECDSA-CHACHA20-POLY1305:"                                                           \
        "ECDHE-ECDSA-AES128-GCM-SHA256"
#define TLS_GROUPS  "X25519:P-256"
#define TLS_SIGALGS "ECDSA+SHA256:ECDSA+SHA384:ed25519"
#define NAME_MAX_   253

/* Pinned anchors from path only: at least one certificate (CRLs do not count). */
static int anchors_load(SSL_CTX *ctx, const char *path)
{
        STACK_OF(X509_OBJECT) * objs;
        X509_STORE *st;
        int i, n = 0;

        if (SSL_CTX_load_verify_file(ctx, path) != 1) {
                ERR_clear_error();
                IMAGO_ERR_R(IMAGO_EIO, "cannot load the pinned CA file %s", path);
                return IMAGO_EIO;
        }
        st = SSL_CTX_get_cert_store(ctx);
        objs = st != NULL ? X509_STORE_get0_objects(st) : NULL;
        for (i = 0; objs != NULL && i < sk_X509_OBJECT_num(objs); i++)
                if (X509_OBJECT_get_type(sk_X509_OBJECT_value(objs, i)) == X509_LU_X509)
                        n++;
        if (n == 0) {
                IMAGO_ERR_R(IMAGO_EIO, "no CA certificate in %s", path);
                return IMAGO_EIO;
        }
        return IMAGO_OK;
}

/* The server name check: an IP address against SAN IP, else a DNS name against SAN DNS. */
static int name_set(SSL_CTX *ctx, const char *name)
{
        X509_VERIFY_PARAM *vp = SSL_CTX_get0_param(ctx);
        size_t i, n = strlen(name);

        if (n == 0 || n > NAME_MAX_)
                return IMAGO_EPKI_NAME;
        for (i = 0; i < n; i++) {
                unsigned char c = (unsigned char)name[i];

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == ':'))
                        return IMAGO_EPKI_NAME;
        }
        X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (X509_VERIFY_PARAM_set1_ip_asc(vp, name) == 1)
                return IMAGO_OK;
        ERR_clear_error();
        if (strchr(name, ':') != NULL)
                return IMAGO_EPKI_NAME;
        return X509_VERIFY_PARAM_set1_host(vp, name, n) == 1 ? IMAGO_OK : IMAGO_EPKI_NAME;
}

int imago_identity_tls_ctx(struct imago_identity *id, const struct imago_identity_tls *t,
                           SSL_CTX **out)
{
        SSL_CTX *ctx = NULL;
        X509_VERIFY_PARAM *vp;
        int i, r;

        if (id == NULL || t == NULL || out == NULL || t->ca_path == NULL || t->server_name == NULL)
                return IMAGO_EINVAL;
        *out = NULL;
        if (t->cert_path != NULL) {
                r = imago_identity_load_cert(id, t->cert_path, t->chain_path);
                if (r != IMAGO_OK)
                        goto out;
        } else if (id->cert == NULL) {
                r = IMAGO_ESTATE;
                IMAGO_ERR_R(r, "no certificate loaded for device %s", id->device_id);
                goto out;
        }
        ctx = SSL_CTX_new(TLS_client_method());
        if (ctx == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        r = IMAGO_ECRYPTO;
        if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
            SSL_CTX_set_max_proto_version(ctx, 0) != 1 ||
            SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES) != 1 ||
            SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1 ||
            SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) != 1 ||
            SSL_CTX_set1_sigalgs_list(ctx, TLS_SIGALGS) != 1)
                goto out;
        SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
        if (SSL_CTX_get_security_level(ctx) < 2)
                SSL_CTX_set_security_level(ctx, 2);

        /* our certificate, its chain and the key */
        if (SSL_CTX_use_certificate(ctx, id->cert) != 1 ||
            SSL_CTX_use_PrivateKey(ctx, id->evp) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
                IMAGO_ERR("OpenSSL refused the certificate or the identity key");
                goto out;
        }
        for (i = 0; i < sk_X509_num(id->chain); i++)
                if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(id->chain, i)) != 1)
                        goto out;

        /* the server: pinned anchors only, its name, TLS server purpose */
        r = anchors_load(ctx, t->ca_path);
        if (r != IMAGO_OK)
                goto out;
        r = name_set(ctx, t->server_name);
        if (r != IMAGO_OK) {
                IMAGO_ERR_R(r, "bad server name");
                goto out;
        }
        vp = SSL_CTX_get0_param(ctx);
        r = IMAGO_ECRYPTO;
        if (X509_VERIFY_PARAM_set_purpose(vp, X509_PURPOSE_SSL_SERVER) != 1 ||
            X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_X509_STRICT) !=
                1)
                goto out;
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        *out = ctx;
        ctx = NULL;
        r = IMAGO_OK;
out:
        SSL_CTX_free(ctx);
        return r;
}
