/* See tuf.h: TUF key objects, key ids, signing, signature checks. */
#include "tuf/tuf_priv.h"

#include "base/err.h"
#include "base/hex.h"
#include "crypto/keys_openssl.h"
#include "json/json.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define PEM_MAX 1024 /* a P-256 PUBLIC KEY PEM is 178 bytes */

/* SubjectPublicKeyInfo prefix of an Ed25519 key (RFC 8410). */
static const uint8_t ED25519_SPKI_PREFIX[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                                0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

/* Hex of either case (Python's bytes.fromhex, which securesystemslib uses, accepts both) into
 * exactly n bytes. */
static int hex_any(const char *s, uint8_t *out, size_t n)
{
        size_t i;

        if (strlen(s) != 2 * n)
                return IMAGO_EMALFORMED;
        for (i = 0; i < 2 * n; i++) {
                char c = s[i];
                int v;

                if (c >= '0' && c <= '9')
                        v = c - '0';
                else if (c >= 'a' && c <= 'f')
                        v = c - 'a' + 10;
                else if (c >= 'A' && c <= 'F')
                        v = c - 'A' + 10;
                else
                        return IMAGO_EMALFORMED;
                if (i % 2 == 0)
                        out[i / 2] = (uint8_t)(v << 4);
                else
                        out[i / 2] |= (uint8_t)v;
        }
        return IMAGO_OK;
}

int imago_tuf_key_from_pub(const struct imago_pubkey *k, json_t **key)
{
        char hex[65];
        const unsigned char *p;
        EVP_PKEY *pk = NULL;
        BIO *bio = NULL;
        char *pem = NULL;
        long pem_len;
        json_t *o = NULL;
        int r;

        if (k == NULL || key == NULL)
                return IMAGO_EINVAL;
        *key = NULL;
        if (k->type == IMAGO_KEY_ED25519) {
                if (k->spki_len != sizeof(ED25519_SPKI_PREFIX) + 32 ||
                    memcmp(k->spki, ED25519_SPKI_PREFIX, sizeof(ED25519_SPKI_PREFIX)) != 0) {
                        r = IMAGO_EKEY_FORMAT;
                        goto out;
                }
                imago_hex_encode(k->spki + sizeof(ED25519_SPKI_PREFIX), 32, hex);
                o = json_pack("{s:s,s:s,s:{s:s}}", "keytype", "ed25519", "scheme", "ed25519",
                              "keyval", "public", hex);
        } else if (k->type == IMAGO_KEY_P256) {
                p = k->spki;
                if (k->spki_len == 0 || k->spki_len > IMAGO_SPKI_MAX_LEN ||
                    (pk = d2i_PUBKEY(NULL, &p, (long)k->spki_len)) == NULL) {
                        r = IMAGO_EKEY_FORMAT;
                        goto out;
                }
                if ((bio = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_PUBKEY(bio, pk) != 1) {
                        r = IMAGO_ECRYPTO;
                        goto out;
                }
                pem_len = BIO_get_mem_data(bio, &pem);
                if (pem_len <= 0 || pem_len > PEM_MAX) {
                        r = IMAGO_ECRYPTO;
                        goto out;
                }
                o = json_pack("{s:s,s:s,s:{s:s%}}", "keytype", "ecdsa", "scheme",
                              "ecdsa-sha2-nistp256", "keyval", "public", pem, (size_t)pem_len);
        } else {
                r = IMAGO_EKEY_FORMAT;
                goto out;
        }
        if (o == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        *key = o;
        r = IMAGO_OK;
out:
        ERR_clear_error();
        BIO_free(bio);
        EVP_PKEY_free(pk);
        return r;
}

int imago_tuf_key_public(const struct imago_privkey *k, json_t **key)
{
        struct imago_pubkey pub;
        int r;

        if (k == NULL || key == NULL)
                return IMAGO_EINVAL;
        if ((r = imago_privkey_public(k, &pub)) != IMAGO_OK)
                return r;
        return imago_tuf_key_from_pub(&pub, key);
}

int imago_tuf_keyid(const json_t *key, char out[65])
{
        uint8_t d[IMAGO_SHA256_LEN];
        char *c = NULL;
        size_t n;
        int r;

        if (key == NULL || out == NULL)
                return IMAGO_EINVAL;
        if ((r = imago_tuf_cjson(key, &c, &n)) != IMAGO_OK)
                goto out;
        if ((r = imago_sha256(c, n, d)) != IMAGO_OK)
                goto out;
        imago_hex_encode(d, sizeof(d), out);
out:
        free(c);
        return r;
}

/* Sign msg with k: ed25519 pure, P-256 ECDSA/SHA-256 DER. */
static int sign_bytes(const struct imago_privkey *k, const uint8_t *msg, size_t len, uint8_t *sig,
                      size_t *sig_len)
{
        EVP_MD_CTX *mctx = NULL;
        EVP_PKEY *pk = imago_privkey_evp(k);
        size_t n = IMAGO_SIG_MAX_LEN;
        int r;

        if (pk == NULL)
                return IMAGO_EINVAL;
        if (k->type != IMAGO_KEY_ED25519 && k->type != IMAGO_KEY_P256)
                return IMAGO_EKEY_FORMAT;
        if ((mctx = EVP_MD_CTX_new()) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        if (EVP_DigestSignInit_ex(mctx, NULL, k->type == IMAGO_KEY_P256 ? "SHA256" : NULL, NULL,
                                  NULL, pk, NULL) != 1 ||
            EVP_DigestSign(mctx, NULL, &n, msg, len) != 1 || n > IMAGO_SIG_MAX_LEN) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        n = IMAGO_SIG_MAX_LEN;
        if (EVP_DigestSign(mctx, sig, &n, msg, len) != 1) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        *sig_len = n;
        r = IMAGO_OK;
out:
        ERR_clear_error();
        EVP_MD_CTX_free(mctx);
        return r;
}

int imago_tuf_sign(const struct imago_privkey *k, const json_t *signed_obj, json_t **sig)
{
        uint8_t s[IMAGO_SIG_MAX_LEN];
        char hex[2 * IMAGO_SIG_MAX_LEN + 1], id[65];
        json_t *pub = NULL;
        char *c = NULL;
        size_t n, sl = 0;
        int r;

        if (k == NULL || signed_obj == NULL || sig == NULL)
                return IMAGO_EINVAL;
        *sig = NULL;
        if ((r = imago_tuf_key_public(k, &pub)) != IMAGO_OK ||
            (r = imago_tuf_keyid(pub, id)) != IMAGO_OK ||
            (r = imago_tuf_cjson(signed_obj, &c, &n)) != IMAGO_OK ||
            (r = sign_bytes(k, (const uint8_t *)c, n, s, &sl)) != IMAGO_OK)
                goto out;
        imago_hex_encode(s, sl, hex);
        if ((*sig = json_pack("{s:s,s:s}", "keyid", id, "sig", hex)) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        r = IMAGO_OK;
out:
        json_decref(pub);
        free(c);
        return r;
}

/* PEM PUBLIC KEY text -> P-256 imago_pubkey. */
static int pem_to_pub(const char *pem, size_t len, struct imago_pubkey *pub)
{
        uint8_t der[IMAGO_SPKI_MAX_LEN];
        unsigned char *dp = der;
        EVP_PKEY *pk = NULL;
        BIO *bio = NULL;
        int r, dl;

        if (len == 0 || len > PEM_MAX) {
                r = IMAGO_EKEY_FORMAT;
                goto out;
        }
        if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        if ((pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL ||
            imago_evp_key_type(pk) != IMAGO_KEY_P256) {
                r = IMAGO_EKEY_FORMAT;
                goto out;
        }
        dl = i2d_PUBKEY(pk, NULL);
        if (dl <= 0 || dl > (int)sizeof(der) || i2d_PUBKEY(pk, &dp) != dl) {
                r = IMAGO_EKEY_FORMAT;
                goto out;
        }
        r = imago_pubkey_from_spki(pub, der, (size_t)dl);
out:
        ERR_clear_error();
        BIO_free(bio);
        EVP_PKEY_free(pk);
        return r;
}

int tuf_key_parse(json_t *obj, struct imago_tuf_key *k)
{
        uint8_t spki[sizeof(ED25519_SPKI_PREFIX) + 32];
        const char *type, *scheme, *pub;
        json_t *keyval;
        size_t pl;

        k->type = IMAGO_KEY_NONE;
        memset(&k->pub, 0, sizeof(k->pub));
        if (!json_is_object(obj))
                return IMAGO_ETUF_FORMAT;
        type = imago_json_str(obj, "keytype", NULL);
        scheme = imago_json_str(obj, "scheme", NULL);
        keyval = json_object_get(obj, "keyval");
        if (type == NULL || scheme == NULL || !json_is_object(keyval))
                return IMAGO_ETUF_FORMAT;
        pub = imago_json_str(keyval, "public", &pl);
        if (strcmp(type, "ed25519") == 0 && strcmp(scheme, "ed25519") == 0) {
                if (pub == NULL || pl != 64)
                        return IMAGO_OK; /* unusable: never counted */
                memcpy(spki, ED25519_SPKI_PREFIX, sizeof(ED25519_SPKI_PREFIX));
                if (hex_any(pub, spki + sizeof(ED25519_SPKI_PREFIX), 32) != IMAGO_OK)
                        return IMAGO_OK;
                if (imago_pubkey_from_spki(&k->pub, spki, sizeof(spki)) == IMAGO_OK &&
                    k->pub.type == IMAGO_KEY_ED25519)
                        k->type = IMAGO_KEY_ED25519;
        } else if ((strcmp(type, "ecdsa") == 0 || strcmp(type, "ecdsa-sha2-nistp256") == 0) &&
                   strcmp(scheme, "ecdsa-sha2-nistp256") == 0) {
                if (pub != NULL && pem_to_pub(pub, pl, &k->pub) == IMAGO_OK &&
                    k->pub.type == IMAGO_KEY_P256)
                        k->type = IMAGO_KEY_P256;
        }
        return IMAGO_OK;
}

int tuf_sig_check(const struct imago_tuf_key *k, const char *sig_hex, const uint8_t *msg,
                  size_t len)
{
        uint8_t sig[IMAGO_SIG_MAX_LEN];
        const unsigned char *p = k->pub.spki;
        EVP_MD_CTX *mctx = NULL;
        EVP_PKEY *pk = NULL;
        size_t hl = strlen(sig_hex), sl;
        int r = -1;

        if (k->type != IMAGO_KEY_ED25519 && k->type != IMAGO_KEY_P256)
                return -1;
        if (hl == 0 || hl % 2 != 0 || hl > 2 * sizeof(sig))
                return -1;
        sl = hl / 2;
        if (k->type == IMAGO_KEY_ED25519 && sl != 64)
                return -1;
        if (hex_any(sig_hex, sig, sl) != IMAGO_OK)
                return -1;
        if ((pk = d2i_PUBKEY(NULL, &p, (long)k->pub.spki_len)) == NULL ||
            imago_evp_key_type(pk) != k->type || (mctx = EVP_MD_CTX_new()) == NULL)
                goto out;
        if (EVP_DigestVerifyInit_ex(mctx, NULL, k->type == IMAGO_KEY_P256 ? "SHA256" : NULL, NULL,
                                    NULL, pk, NULL) != 1)
                goto out;
        if (EVP_DigestVerify(mctx, sig, sl, msg, len) == 1)
                r = 0;
out:
        ERR_clear_error();
        EVP_MD_CTX_free(mctx);
        EVP_PKEY_free(pk);
        return r;
}

const void *tuf_md_by_name(const char *alg)
{
        if (strcmp(alg, "sha224") == 0)
                return EVP_sha224();
        if (strcmp(alg, "sha256") == 0)
                return EVP_sha256();
        if (strcmp(alg, "sha384") == 0)
                return EVP_sha384();
        if (strcmp(alg, "sha512") == 0)
                return EVP_sha512();
        return NULL;
}
