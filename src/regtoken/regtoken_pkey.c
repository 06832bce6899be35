/* imago_regtoken: the registration key from an OpenSSL P-256 key (see regtoken.h). */
#include "regtoken/regtoken.h"

#include "base/err.h"
#include "base/wipe.h"

#include <cjose/cjose.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <string.h>

/* One 32-byte big-endian coordinate or scalar of pkey; IMAGO_ECRYPTO if absent or too long. */
static int get32(EVP_PKEY *pkey, const char *name, uint8_t out[32])
{
        BIGNUM *bn = NULL;
        int r = IMAGO_ECRYPTO;

        if (EVP_PKEY_get_bn_param(pkey, name, &bn) == 1 && BN_bn2binpad(bn, out, 32) == 32)
                r = 0;
        BN_clear_free(bn);
        return r;
}

int imago_regtoken_key_from_pkey(EVP_PKEY *pkey, struct imago_regtoken_key *key)
{
        cjose_jwk_ec_keyspec spec;
        uint8_t d[32], x[32], y[32];
        char group[32];
        size_t glen = 0;
        cjose_err e;
        int r = IMAGO_EINVAL;

        memset(&spec, 0, sizeof(spec));
        if (key != NULL) {
                key->jwk = NULL;
                key->pkey = NULL;
        }
        if (pkey == NULL || key == NULL)
                goto out;
        r = IMAGO_EKEY_FORMAT;
        if (!EVP_PKEY_is_a(pkey, "EC") ||
            EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                           &glen) != 1 ||
            (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0))
                goto out;
        if ((r = get32(pkey, OSSL_PKEY_PARAM_PRIV_KEY, d)) != 0 ||
            (r = get32(pkey, OSSL_PKEY_PARAM_EC_PUB_X, x)) != 0 ||
            (r = get32(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, y)) != 0)
                goto out;
        spec.crv = CJOSE_JWK_EC_P_256;
        spec.d = d;
        spec.dlen = sizeof(d);
        spec.x = x;
        spec.xlen = sizeof(x);
        spec.y = y;
        spec.ylen = sizeof(y);
        r = IMAGO_ECRYPTO;
        if ((key->jwk = cjose_jwk_create_EC_spec(&spec, &e)) == NULL)
                goto out;
        if (EVP_PKEY_up_ref(pkey) != 1) {
                imago_regtoken_key_free(key);
                goto out;
        }
        key->pkey = pkey;
        r = 0;
out:
        imago_wipe(d, sizeof(d));
        return r;
}
