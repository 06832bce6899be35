/* imago_regtoken: the cloud redeems a token a device forwarded (see regtoken.h). */
#include "regtoken/regtoken.h"

#include "base/err.h"
#include "base/wipe.h"

#include <string.h>

int imago_regtoken_redeem(const struct imago_regtoken_key *key, const char *token, size_t len,
                          int64_t now, const struct imago_regtoken_replay *replay, char *user,
                          size_t cap)
{
        char u[IMAGO_REGTOKEN_USER_MAX + 1], nonce[IMAGO_REGTOKEN_NONCE_LEN + 1];
        uint8_t plain[IMAGO_REGTOKEN_CLAIMS_MAX];
        struct imago_regtoken_parts parts;
        size_t plen = 0;
        int64_t iat = 0, exp = 0;
        int r = IMAGO_EINVAL;

        if (user != NULL && cap > 0)
                user[0] = '\0';
        if (key == NULL || key->jwk == NULL || token == NULL || replay == NULL ||
            replay->claim_nonce == NULL || user == NULL || cap < IMAGO_REGTOKEN_USER_MAX + 1)
                goto out;
        if ((r = imago_regtoken_parse_compact(token, len, &parts)) != 0 ||
            (r = imago_regtoken_decrypt(key, &parts, plain, &plen)) != 0 ||
            (r = imago_regtoken_parse_claims(plain, plen, u, sizeof(u), nonce, &iat, &exp)) != 0)
                goto out;
        r = IMAGO_ECMD_TOKEN_EXPIRED;
        if (now >= exp)
                goto out;
        /* Claimed last: only a token that is valid in every other way uses up its nonce. */
        if ((r = replay->claim_nonce(replay->arg, nonce, exp)) != 0)
                goto out;
        memcpy(user, u, strlen(u) + 1);
        r = 0;
out:
        imago_wipe(plain, sizeof(plain));
        imago_wipe(nonce, sizeof(nonce));
        imago_wipe(u, sizeof(u));
        return r;
}
