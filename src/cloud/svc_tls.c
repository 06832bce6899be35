/* See svc_priv.h: the service's TLS client context. */
#include "cloud/svc_priv.h"

#include "base/err.h"
#include "crypto/keys.h"
#include "crypto/keys_openssl.h"

#include <openssl/x509v3.h>
#include <string.h>

int imago_svc_tls_ctx(const char *cert, const char *key, const char *passphrase, const char *ca,
                      const char *host, SSL_CTX **out)
{
        struct imago_privkey pk;
        SSL_CTX *ctx = NULL;
        X509_VERIFY_PARAM *vp;
        int r;

        *out = NULL;
        memset(&pk, 0, sizeof(pk));
        if ((r = imago_privkey_load(key, passphrase, &pk)) != IMAGO_OK)
                goto out;
        r = IMAGO_ECRYPTO;
        if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
                goto out;
        if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
            SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey(ctx, imago_privkey_evp(&pk)) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1)
                goto out;
        /* Only the pinned CA; the default trust store is never loaded. */
        if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
                goto out;
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        vp = SSL_CTX_get0_param(ctx);
        /* The server CA is the trust anchor itself (pinned), not only the root above it. */
        X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
        if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1) {
                X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                if (X509_VERIFY_PARAM_set1_host(vp, host, 0) != 1)
                        goto out;
        }
        *out = ctx;
        ctx = NULL;
        r = IMAGO_OK;
out:
        SSL_CTX_free(ctx);
        imago_privkey_free(&pk);
        return r;
}
