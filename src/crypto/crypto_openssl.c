/* OpenSSL 3 backend of crypto.h; see the header. */
#include "crypto.h"
#include "keys_openssl.h"

#include "base/err.h"

#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

int imago_sha256_init(struct imago_sha256 *h)
{
        EVP_MD_CTX *ctx;

        if (h == NULL)
                return IMAGO_EINVAL;
        h->impl = NULL;
        ctx = EVP_MD_CTX_new();
        if (ctx == NULL)
                return IMAGO_ENOMEM;
        if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(ctx);
                return IMAGO_ECRYPTO;
        }
        h->impl = ctx;
        return IMAGO_OK;
}

int imago_sha256_update(struct imago_sha256 *h, const void *data, size_t len)
{
        if (h == NULL || h->impl == NULL || (data == NULL && len != 0))
                return IMAGO_EINVAL;
        if (len == 0)
                return IMAGO_OK;
        if (EVP_DigestUpdate(h->impl, data, len) != 1)
                return IMAGO_ECRYPTO;
        return IMAGO_OK;
}

int imago_sha256_final(struct imago_sha256 *h, uint8_t out[IMAGO_SHA256_LEN])
{
        unsigned int n = 0;
        int r;

        if (h == NULL || h->impl == NULL || out == NULL)
                return IMAGO_EINVAL;
        if (EVP_DigestFinal_ex(h->impl, out, &n) != 1 || n != IMAGO_SHA256_LEN)
                r = IMAGO_ECRYPTO;
        else
                r = IMAGO_OK;
        imago_sha256_abort(h);
        return r;
}

void imago_sha256_abort(struct imago_sha256 *h)
{
        if (h == NULL || h->impl == NULL)
                return;
        EVP_MD_CTX_free(h->impl);
        h->impl = NULL;
}

int imago_sha256(const void *data, size_t len, uint8_t out[IMAGO_SHA256_LEN])
{
        struct imago_sha256 h = {0};
        int r;

        if ((r = imago_sha256_init(&h)) != IMAGO_OK)
                return r;
        if ((r = imago_sha256_update(&h, data, len)) != IMAGO_OK) {
                imago_sha256_abort(&h);
                return r;
        }
        return imago_sha256_final(&h, out);
}

int imago_pubkey_from_spki(struct imago_pubkey *k, const uint8_t *der, size_t len)
{
        const unsigned char *p = der;
        EVP_PKEY *pk = NULL;
        enum imago_key_type type;
        int r;

        if (k == NULL || der == NULL || len == 0)
                return IMAGO_EINVAL;
        if (len > IMAGO_SPKI_MAX_LEN || len > (size_t)LONG_MAX)
                return IMAGO_EKEY_FORMAT;
        pk = d2i_PUBKEY(NULL, &p, (long)len);
        if (pk == NULL || p != der + len) {
                r = IMAGO_EKEY_FORMAT; /* not a key, or trailing bytes */
                goto out;
        }
        type = imago_evp_key_type(pk);
        if (type == IMAGO_KEY_NONE) {
                r = IMAGO_EKEY_FORMAT;
                goto out;
        }
        memset(k, 0, sizeof(*k));
        if ((r = imago_sha256(der, len, k->keyhash)) != IMAGO_OK)
                goto out;
        k->type = type;
        memcpy(k->spki, der, len);
        k->spki_len = len;
        r = IMAGO_OK;
out:
        if (r != IMAGO_OK)
                ERR_clear_error();
        EVP_PKEY_free(pk);
        return r;
}

static EVP_PKEY *pkey_of(const struct imago_pubkey *k)
{
        const unsigned char *p = k->spki;

        if (k->spki_len == 0 || k->spki_len > IMAGO_SPKI_MAX_LEN)
                return NULL;
        return d2i_PUBKEY(NULL, &p, (long)k->spki_len);
}

int imago_sig_verify_digest(const struct imago_pubkey *k, const uint8_t digest[IMAGO_SHA256_LEN],
                            const uint8_t *sig, size_t sig_len)
{
        EVP_PKEY *pk = NULL;
        EVP_MD_CTX *mctx = NULL;
        EVP_PKEY_CTX *pctx = NULL;
        int r, ok;

        if (k == NULL || digest == NULL || sig == NULL)
                return IMAGO_EINVAL;
        if (k->type != IMAGO_KEY_ED25519 && k->type != IMAGO_KEY_P256)
                return IMAGO_EINVAL;
        if (sig_len == 0 || sig_len > IMAGO_SIG_MAX_LEN)
                return IMAGO_EIMG_SIG_BAD;
        if (k->type == IMAGO_KEY_ED25519 && sig_len != 64)
                return IMAGO_EIMG_SIG_BAD;
        if ((pk = pkey_of(k)) == NULL) {
                r = IMAGO_EKEY_FORMAT;
                goto out;
        }
        if (imago_evp_key_type(pk) != k->type) {
                r = IMAGO_EKEY_TYPE;
                goto out;
        }
        if (k->type == IMAGO_KEY_ED25519) {
                /* Ed25519 (pure) over the 32-byte digest as the message. */
                if ((mctx = EVP_MD_CTX_new()) == NULL) {
                        r = IMAGO_ENOMEM;
                        goto out;
                }
                if (EVP_DigestVerifyInit_ex(mctx, NULL, NULL, NULL, NULL, pk, NULL) != 1) {
                        r = IMAGO_ECRYPTO;
                        goto out;
                }
                ok = EVP_DigestVerify(mctx, sig, sig_len, digest, IMAGO_SHA256_LEN);
        } else {
                /* ECDSA: the digest is the signed hash (prehashed). */
                if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL) {
                        r = IMAGO_ENOMEM;
                        goto out;
                }
                if (EVP_PKEY_verify_init(pctx) != 1) {
                        r = IMAGO_ECRYPTO;
                        goto out;
                }
                ok = EVP_PKEY_verify(pctx, sig, sig_len, digest, IMAGO_SHA256_LEN);
        }
        /* 0 = bad signature; <0 = could not even parse it: also a bad signature. */
        r = ok == 1 ? IMAGO_OK : IMAGO_EIMG_SIG_BAD;
out:
        if (r != IMAGO_OK)
                ERR_clear_error();
        EVP_PKEY_CTX_free(pctx);
        EVP_MD_CTX_free(mctx);
        EVP_PKEY_free(pk);
        return r;
}
