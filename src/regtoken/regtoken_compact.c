/* imago_regtoken: strict checks of the compact JWE before cjose parses it (see regtoken.h). */
#include "regtoken/regtoken.h"

#include "base/err.h"
#include "json/json.h"

#include <cjose/cjose.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>

#define REGTOKEN_HEADER_MAX 512 /* decoded protected header, bytes */

static int regtoken_b64url_char(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
}

/* A base64url coordinate of exactly 32 bytes into out. */
static int regtoken_coord(json_t *epk, const char *key, uint8_t out[32])
{
        const char *s;
        uint8_t *raw = NULL;
        size_t len = 0, rlen = 0, i;
        cjose_err e;
        int r = IMAGO_ECMD_TOKEN;

        s = imago_json_str(epk, key, &len);
        if (s == NULL || len != 43)
                goto out;
        for (i = 0; i < len; i++)
                if (!regtoken_b64url_char(s[i]))
                        goto out;
        if (!cjose_base64url_decode(s, len, &raw, &rlen, &e) || rlen != 32)
                goto out;
        memcpy(out, raw, 32);
        r = 0;
out:
        if (raw != NULL)
                cjose_get_dealloc()(raw);
        return r;
}

/* The ephemeral key: {"kty":"EC","crv":"P-256","x":..,"y":..} with the point on the curve. */
static int regtoken_epk(json_t *epk, uint8_t pt[65])
{
        static const char *const keys[] = {"kty", "crv", "x", "y"};
        const char *kty = imago_json_str(epk, "kty", NULL), *crv = imago_json_str(epk, "crv", NULL);
        EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
        EVP_PKEY *pkey = NULL;
        OSSL_PARAM params[3];
        int r = IMAGO_ECMD_TOKEN;

        if (!json_is_object(epk) || !imago_json_only_keys(epk, keys, 4) || kty == NULL ||
            strcmp(kty, "EC") != 0 || crv == NULL || strcmp(crv, "P-256") != 0)
                goto out;
        pt[0] = 0x04;
        if (regtoken_coord(epk, "x", pt + 1) != 0 || regtoken_coord(epk, "y", pt + 33) != 0)
                goto out;
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
        params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 65);
        params[2] = OSSL_PARAM_construct_end();
        if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
            EVP_PKEY_fromdata_init(ctx) <= 0 ||
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
                goto out;
        /* Invalid-curve attacks: the point must be on P-256 (full public key check). */
        if ((chk = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
            EVP_PKEY_public_check(chk) != 1)
                goto out;
        r = 0;
out:
        EVP_PKEY_CTX_free(chk);
        EVP_PKEY_free(pkey);
        EVP_PKEY_CTX_free(ctx);
        return r;
}

static int regtoken_header(const char *b64, size_t len, uint8_t epk[65])
{
        static const char *const keys[] = {"alg", "enc", "epk"};
        const char *alg, *enc;
        uint8_t *raw = NULL;
        size_t rlen = 0;
        json_t *h = NULL;
        cjose_err e;
        int r = IMAGO_ECMD_TOKEN;

        if (!cjose_base64url_decode(b64, len, &raw, &rlen, &e) ||
            imago_json_object(raw, rlen, REGTOKEN_HEADER_MAX, &h) != 0)
                goto out;
        alg = imago_json_str(h, "alg", NULL);
        enc = imago_json_str(h, "enc", NULL);
        r = IMAGO_ECMD_TOKEN_ALG;
        if (!imago_json_only_keys(h, keys, 3) || alg == NULL || strcmp(alg, "ECDH-ES") != 0 ||
            enc == NULL || strcmp(enc, "A256GCM") != 0)
                goto out;
        r = regtoken_epk(json_object_get(h, "epk"), epk);
out:
        json_decref(h);
        if (raw != NULL)
                cjose_get_dealloc()(raw);
        return r;
}

/* Exactly n bytes from a base64url text. */
static int regtoken_b64_exact(const char *s, size_t len, uint8_t *out, size_t n)
{
        uint8_t *raw = NULL;
        size_t rlen = 0;
        cjose_err e;
        int r = IMAGO_ECMD_TOKEN;

        if (cjose_base64url_decode(s, len, &raw, &rlen, &e) && rlen == n) {
                memcpy(out, raw, n);
                r = 0;
        }
        if (raw != NULL)
                cjose_get_dealloc()(raw);
        return r;
}

int imago_regtoken_parse_compact(const char *token, size_t len, struct imago_regtoken_parts *p)
{
        size_t i, dots[4], nd = 0;
        int r = IMAGO_EINVAL;

        if (token == NULL || p == NULL)
                goto out;
        memset(p, 0, sizeof(*p));
        r = IMAGO_ETOOBIG;
        if (len > IMAGO_REGTOKEN_MAX)
                goto out;
        r = IMAGO_ECMD_TOKEN;
        for (i = 0; i < len; i++) {
                if (token[i] == '.') {
                        if (nd == 4)
                                goto out;
                        dots[nd++] = i;
                } else if (!regtoken_b64url_char(token[i])) {
                        goto out;
                }
        }
        /* The header first, so that another algorithm is reported as such. */
        if (nd != 4 || dots[0] == 0 || (r = regtoken_header(token, dots[0], p->epk)) != 0)
                goto out;
        /* Then: an empty encrypted key, a 96-bit IV, a ciphertext, a 128-bit tag. */
        r = IMAGO_ECMD_TOKEN;
        if (dots[1] != dots[0] + 1 || dots[2] - dots[1] - 1 != 16 || dots[3] - dots[2] - 1 < 1 ||
            len - dots[3] - 1 != 22 ||
            regtoken_b64_exact(token + dots[1] + 1, 16, p->iv, sizeof(p->iv)) != 0 ||
            regtoken_b64_exact(token + dots[3] + 1, 22, p->tag, sizeof(p->tag)) != 0)
                goto out;
        p->header_b64 = token;
        p->header_b64_len = dots[0];
        p->ct_b64 = token + dots[2] + 1;
        p->ct_b64_len = dots[3] - dots[2] - 1;
        r = 0;
out:
        return r;
}

int imago_regtoken_check_compact(const char *token, size_t len)
{
        struct imago_regtoken_parts p;

        return imago_regtoken_parse_compact(token, len, &p);
}
