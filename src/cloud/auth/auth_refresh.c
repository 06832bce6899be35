/* See auth.h: refresh tokens (random, stored as SHA-256, rotated on use). */
#define _POSIX_C_SOURCE 200809L
#include "cloud/auth/auth.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/wipe.h"
#include "crypto/crypto.h"

#include <openssl/rand.h>
#include <string.h>

#define PREFIX "rt1."
#define RAW    32

int imago_auth_refresh_new(char tok[IMAGO_AUTH_REFRESH_LEN + 1], uint8_t hash[32])
{
        uint8_t raw[RAW];
        int r;

        if (tok == NULL || hash == NULL)
                return IMAGO_EINVAL;
        if (RAND_bytes(raw, sizeof(raw)) != 1) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        memcpy(tok, PREFIX, sizeof(PREFIX) - 1);
        imago_hex_encode(raw, sizeof(raw), tok + sizeof(PREFIX) - 1);
        r = imago_sha256(tok, IMAGO_AUTH_REFRESH_LEN, hash);
out:
        imago_wipe(raw, sizeof(raw));
        return r;
}

int imago_auth_refresh_hash(const char *tok, uint8_t hash[32])
{
        if (tok == NULL || hash == NULL)
                return IMAGO_EINVAL;
        if (strnlen(tok, IMAGO_AUTH_REFRESH_LEN + 1) != IMAGO_AUTH_REFRESH_LEN ||
            memcmp(tok, PREFIX, sizeof(PREFIX) - 1) != 0 ||
            !imago_hex_is_lower(tok + sizeof(PREFIX) - 1, 2 * RAW, 2 * RAW))
                return IMAGO_EAUTH_TOKEN_FORMAT;
        return imago_sha256(tok, IMAGO_AUTH_REFRESH_LEN, hash);
}

int imago_auth_refresh_rotate(const struct imago_auth_refresh_store *s, const char *presented,
                              int64_t now, int64_t ttl, char new_tok[IMAGO_AUTH_REFRESH_LEN + 1],
                              uint64_t *user_id)
{
        uint8_t old_hash[32], new_hash[32];
        uint64_t user = 0;
        int r;

        if (s == NULL || s->consume == NULL || s->put == NULL || new_tok == NULL ||
            user_id == NULL || ttl < 1 || now < 0 || now > INT64_MAX - ttl)
                return IMAGO_EINVAL;
        if ((r = imago_auth_refresh_hash(presented, old_hash)) != 0)
                goto out;
        /* consumed first: whatever happens next, the presented token is spent */
        if ((r = s->consume(s->arg, old_hash, now, &user)) != 0)
                goto out;
        if (user == 0) {
                r = IMAGO_EAUTH_REFRESH;
                goto out;
        }
        if ((r = imago_auth_refresh_new(new_tok, new_hash)) != 0)
                goto out;
        if ((r = s->put(s->arg, new_hash, user, now + ttl)) != 0) {
                imago_wipe(new_tok, IMAGO_AUTH_REFRESH_LEN + 1);
                goto out;
        }
        *user_id = user;
out:
        return r;
}
