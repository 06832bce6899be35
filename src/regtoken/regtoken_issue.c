/* imago_regtoken: the cloud issues a token to a logged-in user (see regtoken.h). */
#define _POSIX_C_SOURCE 200809L
#include "regtoken/regtoken.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/wipe.h"

#include <cjose/cjose.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

int imago_regtoken_issue(const struct imago_regtoken_key *key, const char *user, int64_t now,
                         int64_t ttl, char **token)
{
        uint8_t rnd[IMAGO_REGTOKEN_NONCE_LEN / 2];
        char nonce[IMAGO_REGTOKEN_NONCE_LEN + 1], *claims = NULL, *compact = NULL;
        cjose_header_t *hdr = NULL;
        cjose_jwe_t *jwe = NULL;
        json_t *obj = NULL;
        cjose_err e;
        int r = IMAGO_EINVAL;

        if (token != NULL)
                *token = NULL;
        if (key == NULL || key->jwk == NULL || token == NULL || !imago_regtoken_user_valid(user) ||
            now < 0 || now > ((int64_t)1 << 53) - IMAGO_REGTOKEN_MAX_TTL || ttl < 1 ||
            ttl > IMAGO_REGTOKEN_MAX_TTL)
                goto out;
        r = IMAGO_ECRYPTO;
        if (RAND_bytes(rnd, sizeof(rnd)) != 1)
                goto out;
        imago_hex_encode(rnd, sizeof(rnd), nonce);
        r = IMAGO_ENOMEM;
        obj = json_pack("{s:i, s:s, s:s, s:I, s:I}", "v", 1, "user", user, "nonce", nonce, "iat",
                        (json_int_t)now, "exp", (json_int_t)(now + ttl));
        if (obj == NULL || (claims = json_dumps(obj, JSON_COMPACT)) == NULL)
                goto out;
        r = IMAGO_ECRYPTO;
        if ((hdr = cjose_header_new(&e)) == NULL ||
            !cjose_header_set(hdr, CJOSE_HDR_ALG, CJOSE_HDR_ALG_ECDH_ES, &e) ||
            !cjose_header_set(hdr, CJOSE_HDR_ENC, CJOSE_HDR_ENC_A256GCM, &e))
                goto out;
        jwe = cjose_jwe_encrypt(key->jwk, hdr, (const uint8_t *)claims, strlen(claims), &e);
        if (jwe == NULL || (compact = cjose_jwe_export(jwe, &e)) == NULL)
                goto out;
        r = IMAGO_ENOMEM;
        if ((*token = strdup(compact)) == NULL)
                goto out;
        r = 0;
out:
        if (compact != NULL)
                cjose_get_dealloc()(compact);
        if (claims != NULL) {
                imago_wipe(claims, strlen(claims));
                free(claims);
        }
        imago_wipe(nonce, sizeof(nonce));
        imago_wipe(rnd, sizeof(rnd));
        json_decref(obj);
        cjose_jwe_release(jwe);
        cjose_header_release(hdr);
        return r;
}
