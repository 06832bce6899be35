/* See auth.h: HMAC-SHA256 access tokens. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/auth/auth.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/wipe.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

#define PREFIX   "at1."
#define DOMAIN   "imago-access-v1"
#define VERSION  1
#define BODY_LEN (1 + IMAGO_AUTH_TOKEN_ID_LEN + 8 + 4 + 8 + 8)
#define MAC_LEN  32
#define DOT_AT   (sizeof(PREFIX) - 1 + 2 * BODY_LEN)

_Static_assert(DOT_AT + 1 + 2 * MAC_LEN == IMAGO_AUTH_TOKEN_LEN, "token length");

static void put_be(uint8_t *p, uint64_t v, int n)
{
        int i;

        for (i = n - 1; i >= 0; i--) {
                p[i] = (uint8_t)v;
                v >>= 8;
        }
}

static uint64_t get_be(const uint8_t *p, int n)
{
        uint64_t v = 0;
        int i;

        for (i = 0; i < n; i++)
                v = v << 8 | p[i];
        return v;
}

static int mac(const uint8_t secret[IMAGO_AUTH_SECRET_LEN], const uint8_t body[BODY_LEN],
               uint8_t out[MAC_LEN])
{
        uint8_t msg[sizeof(DOMAIN) - 1 + BODY_LEN];
        unsigned int len = 0;
        int r = 0;

        memcpy(msg, DOMAIN, sizeof(DOMAIN) - 1);
        memcpy(msg + sizeof(DOMAIN) - 1, body, BODY_LEN);
        if (HMAC(EVP_sha256(), secret, IMAGO_AUTH_SECRET_LEN, msg, sizeof(msg), out, &len) ==
                NULL ||
            len != MAC_LEN)
                r = IMAGO_ECRYPTO;
        imago_wipe(msg, sizeof(msg));
        return r;
}

static int claims_ok(const struct imago_auth_claims *c)
{
        /* issued_at >= 0 first: then expires - issued_at cannot overflow */
        return c->user_id != 0 && c->issued_at >= 0 &&
               c->issued_at <= INT64_MAX - IMAGO_AUTH_TOKEN_TTL_MAX && c->expires > c->issued_at &&
               c->expires - c->issued_at <= IMAGO_AUTH_TOKEN_TTL_MAX;
}

int imago_auth_token_encode(const uint8_t secret[IMAGO_AUTH_SECRET_LEN],
                            const struct imago_auth_claims *c, char out[IMAGO_AUTH_TOKEN_LEN + 1])
{
        uint8_t body[BODY_LEN], m[MAC_LEN];
        uint8_t *p = body;
        int r;

        if (secret == NULL || c == NULL || out == NULL || !claims_ok(c))
                return IMAGO_EINVAL;
        *p++ = VERSION;
        memcpy(p, c->token_id, IMAGO_AUTH_TOKEN_ID_LEN);
        p += IMAGO_AUTH_TOKEN_ID_LEN;
        put_be(p, c->user_id, 8);
        put_be(p + 8, c->roles, 4);
        put_be(p + 12, (uint64_t)c->issued_at, 8);
        put_be(p + 20, (uint64_t)c->expires, 8);
        if ((r = mac(secret, body, m)) != 0)
                goto out;
        memcpy(out, PREFIX, sizeof(PREFIX) - 1);
        imago_hex_encode(body, BODY_LEN, out + sizeof(PREFIX) - 1);
        out[DOT_AT] = '.';
        imago_hex_encode(m, MAC_LEN, out + DOT_AT + 1);
        r = 0;
out:
        return r;
}

int imago_auth_token_issue(const uint8_t secret[IMAGO_AUTH_SECRET_LEN], uint64_t user_id,
                           uint32_t roles, int64_t now, int64_t ttl,
                           char out[IMAGO_AUTH_TOKEN_LEN + 1], struct imago_auth_claims *claims_out)
{
        struct imago_auth_claims c;

        if (ttl < 1 || ttl > IMAGO_AUTH_TOKEN_TTL_MAX || now < 0 ||
            now > INT64_MAX - IMAGO_AUTH_TOKEN_TTL_MAX)
                return IMAGO_EINVAL;
        memset(&c, 0, sizeof(c));
        if (RAND_bytes(c.token_id, sizeof(c.token_id)) != 1)
                return IMAGO_ECRYPTO;
        c.user_id = user_id;
        c.roles = roles;
        c.issued_at = now;
        c.expires = now + ttl;
        if (claims_out != NULL)
                *claims_out = c;
        return imago_auth_token_encode(secret, &c, out);
}

int imago_auth_token_verify(const uint8_t secret[IMAGO_AUTH_SECRET_LEN], const char *token,
                            int64_t now, struct imago_auth_claims *claims)
{
        char hex[2 * BODY_LEN + 1];
        uint8_t body[BODY_LEN], got[MAC_LEN], want[MAC_LEN];
        struct imago_auth_claims c;
        int r;

        if (secret == NULL || token == NULL || claims == NULL)
                return IMAGO_EINVAL;
        /* exact shape before anything else: length, prefix, hex, dot, hex */
        if (strnlen(token, IMAGO_AUTH_TOKEN_LEN + 1) != IMAGO_AUTH_TOKEN_LEN ||
            memcmp(token, PREFIX, sizeof(PREFIX) - 1) != 0 || token[DOT_AT] != '.')
                return IMAGO_EAUTH_TOKEN_FORMAT;
        memcpy(hex, token + sizeof(PREFIX) - 1, 2 * BODY_LEN);
        hex[2 * BODY_LEN] = '\0';
        if (imago_hex_decode(hex, body, BODY_LEN) != 0 ||
            imago_hex_decode(token + DOT_AT + 1, got, MAC_LEN) != 0)
                return IMAGO_EAUTH_TOKEN_FORMAT;
        /* the MAC before any claim is believed */
        if ((r = mac(secret, body, want)) != 0)
                return r;
        if (CRYPTO_memcmp(got, want, MAC_LEN) != 0)
                return IMAGO_EAUTH_TOKEN_SIG;
        if (body[0] != VERSION)
                return IMAGO_EAUTH_TOKEN_FORMAT;
        memset(&c, 0, sizeof(c));
        memcpy(c.token_id, body + 1, IMAGO_AUTH_TOKEN_ID_LEN);
        c.user_id = get_be(body + 17, 8);
        c.roles = (uint32_t)get_be(body + 25, 4);
        c.issued_at = (int64_t)get_be(body + 29, 8);
        c.expires = (int64_t)get_be(body + 37, 8);
        if (!claims_ok(&c))
                return IMAGO_EAUTH_TOKEN_FORMAT;
        if (now < INT64_MAX - IMAGO_AUTH_TOKEN_SKEW && c.issued_at > now + IMAGO_AUTH_TOKEN_SKEW)
                return IMAGO_EAUTH_TOKEN_NOTYET;
        if (now >= c.expires)
                return IMAGO_EAUTH_TOKEN_EXPIRED;
        *claims = c;
        return 0;
}
