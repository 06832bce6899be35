/*
 * imago_regtoken: ECDH-ES + A256GCM decryption of a checked token with OpenSSL
 * (see regtoken.h; RFC 7518 4.6 and 5.3).
 */
#include "regtoken/regtoken.h"

#include "base/err.h"
#include "base/wipe.h"
#include "json/json.h"

#include <cjose/cjose.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <string.h>

/* Our P-256 private key as an EVP_PKEY, from the JWK's d, x and y. */
int imago_regtoken_key_pkey(struct imago_regtoken_key *key)
{
        static const char *const names[] = {"d", "x", "y"};
        uint8_t v[3][32], pub[65];
        char *json = NULL;
        json_t *obj = NULL;
        BIGNUM *d = NULL;
        OSSL_PARAM_BLD *bld = NULL;
        OSSL_PARAM *params = NULL;
        EVP_PKEY_CTX *ctx = NULL;
        EVP_PKEY *pk = NULL;
        cjose_err e;
        size_t i;
        int r = IMAGO_ECRYPTO;

        if ((json = cjose_jwk_to_json(key->jwk, true, &e)) == NULL ||
            imago_json_object((const uint8_t *)json, strlen(json), IMAGO_REGTOKEN_KEYFILE_MAX,
                              &obj) != 0)
                goto out;
        for (i = 0; i < 3; i++) {
                size_t slen = 0, rlen = 0;
                const char *s = imago_json_str(obj, names[i], &slen);
                uint8_t *raw = NULL;
                int ok =
                    s != NULL && cjose_base64url_decode(s, slen, &raw, &rlen, &e) && rlen == 32;
                if (ok)
                        memcpy(v[i], raw, 32);
                if (raw != NULL) {
                        imago_wipe(raw, rlen);
                        cjose_get_dealloc()(raw);
                }
                if (!ok)
                        goto out;
        }
        pub[0] = 0x04;
        memcpy(pub + 1, v[1], 32);
        memcpy(pub + 33, v[2], 32);
        if ((d = BN_secure_new()) == NULL || BN_bin2bn(v[0], 32, d) == NULL ||
            (bld = OSSL_PARAM_BLD_new()) == NULL ||
            !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) ||
            !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) ||
            (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
            (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
            EVP_PKEY_fromdata_init(ctx) <= 0 ||
            EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_KEYPAIR, params) <= 0)
                goto out;
        key->pkey = pk;
        r = 0;
out:
        EVP_PKEY_CTX_free(ctx);
        OSSL_PARAM_free(params); /* OSSL_PARAM_clear_free() where available would wipe */
        OSSL_PARAM_BLD_free(bld);
        BN_clear_free(d);
        if (obj != NULL) {
                json_t *dj = json_object_get(obj, "d");
                if (json_is_string(dj))
                        imago_wipe((char *)json_string_value(dj), json_string_length(dj));
                json_decref(obj);
        }
        if (json != NULL) {
                imago_wipe(json, strlen(json));
                cjose_get_dealloc()(json);
        }
        imago_wipe(v, sizeof(v));
        return r;
}

/* Z = ECDH(our key, epk); CEK = SHA-256(1 || Z || otherinfo) with otherinfo for A256GCM. */
static int regtoken_cek(EVP_PKEY *priv, const uint8_t epk[65], uint8_t cek[32])
{
        static const uint8_t otherinfo[] = {
            0, 0, 0, 7, 'A', '2', '5', '6', 'G', 'C', 'M', /* AlgorithmID: enc */
            0, 0, 0, 0,                                    /* PartyUInfo: empty apu */
            0, 0, 0, 0,                                    /* PartyVInfo: empty apv */
            0, 0, 1, 0,                                    /* SuppPubInfo: 256 bits */
        };
        static const uint8_t counter[] = {0, 0, 0, 1};
        EVP_PKEY_CTX *pctx = NULL, *dctx = NULL;
        EVP_PKEY *peer = NULL;
        EVP_MD_CTX *md = NULL;
        OSSL_PARAM params[3];
        uint8_t z[32];
        size_t zlen = sizeof(z);
        unsigned int n = 0;
        int r = IMAGO_ECRYPTO;

        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
        params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)epk, 65);
        params[2] = OSSL_PARAM_construct_end();
        if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
            EVP_PKEY_fromdata_init(pctx) <= 0 ||
            EVP_PKEY_fromdata(pctx, &peer, EVP_PKEY_PUBLIC_KEY, params) <= 0 ||
            (dctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL)) == NULL ||
            EVP_PKEY_derive_init(dctx) <= 0 || EVP_PKEY_derive_set_peer(dctx, peer) <= 0 ||
            EVP_PKEY_derive(dctx, z, &zlen) <= 0 || zlen != sizeof(z))
                goto out;
        if ((md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
            EVP_DigestUpdate(md, counter, sizeof(counter)) != 1 ||
            EVP_DigestUpdate(md, z, zlen) != 1 ||
            EVP_DigestUpdate(md, otherinfo, sizeof(otherinfo)) != 1 ||
            EVP_DigestFinal_ex(md, cek, &n) != 1 || n != 32)
                goto out;
        r = 0;
out:
        imago_wipe(z, sizeof(z));
        EVP_MD_CTX_free(md);
        EVP_PKEY_CTX_free(dctx);
        EVP_PKEY_CTX_free(pctx);
        EVP_PKEY_free(peer);
        return r;
}

int imago_regtoken_decrypt(const struct imago_regtoken_key *key,
                           const struct imago_regtoken_parts *p, uint8_t *out, size_t *out_len)
{
        uint8_t cek[32], *ct = NULL;
        size_t ct_len = 0;
        EVP_CIPHER_CTX *c = NULL;
        cjose_err e;
        int n = 0, fin = 0, r = IMAGO_EINVAL;

        if (key == NULL || key->pkey == NULL || p == NULL || out == NULL || out_len == NULL)
                goto out;
        *out_len = 0;
        r = IMAGO_ECMD_TOKEN;
        /* A ciphertext longer than the claims may be is refused before any work. */
        if (p->ct_b64_len > (IMAGO_REGTOKEN_CLAIMS_MAX * 4 + 2) / 3 ||
            !cjose_base64url_decode(p->ct_b64, p->ct_b64_len, &ct, &ct_len, &e) || ct_len < 1 ||
            ct_len > IMAGO_REGTOKEN_CLAIMS_MAX)
                goto out;
        if ((r = regtoken_cek(key->pkey, p->epk, cek)) != 0)
                goto out;
        r = IMAGO_ECRYPTO;
        if ((c = EVP_CIPHER_CTX_new()) == NULL ||
            EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
            EVP_DecryptInit_ex(c, NULL, NULL, cek, p->iv) != 1 ||
            EVP_DecryptUpdate(c, NULL, &n, (const uint8_t *)p->header_b64,
                              (int)p->header_b64_len) != 1 ||
            EVP_DecryptUpdate(c, out, &n, ct, (int)ct_len) != 1 ||
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)p->tag) != 1)
                goto out;
        /* The tag: a token for another key, or any changed byte, ends here. */
        r = IMAGO_ECMD_TOKEN;
        if (EVP_DecryptFinal_ex(c, out + n, &fin) != 1) {
                imago_wipe(out, IMAGO_REGTOKEN_CLAIMS_MAX);
                goto out;
        }
        *out_len = (size_t)n + (size_t)fin;
        r = 0;
out:
        imago_wipe(cek, sizeof(cek));
        EVP_CIPHER_CTX_free(c);
        if (ct != NULL)
                cjose_get_dealloc()(ct);
        return r;
}
