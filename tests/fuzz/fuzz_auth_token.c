/*
 * libFuzzer target: the access-token parser, the refresh-token format check
 * and the stored password-hash parser of src/cloud/auth.  The first byte
 * picks the mode: 0 = the rest is a token string (a token that verifies must
 * re-encode to the same bytes); 1 = the rest fills the claims, encoded here
 * with the secret so the fuzzer reaches the claim checks behind the MAC;
 * 2 = the rest is a refresh token; 3 = the rest is a stored argon2id hash
 * (bounds tight enough that a hash that parses costs little).
 */
#include "base/err.h"
#include "cloud/auth/auth.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1700000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fz_secret[IMAGO_AUTH_SECRET_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};

static uint64_t fz_be(const uint8_t *p, int n)
{
        uint64_t v = 0;
        int i;

        for (i = 0; i < n; i++)
                v = v << 8 | p[i];
        return v;
}

static void fz_claims(const uint8_t *p, size_t n)
{
        struct imago_auth_claims c, got;
        char tok[IMAGO_AUTH_TOKEN_LEN + 1];
        int r;

        if (n < IMAGO_AUTH_TOKEN_ID_LEN + 28)
                return;
        memcpy(c.token_id, p, IMAGO_AUTH_TOKEN_ID_LEN);
        p += IMAGO_AUTH_TOKEN_ID_LEN;
        c.user_id = fz_be(p, 8);
        c.roles = (uint32_t)fz_be(p + 8, 4);
        c.issued_at = (int64_t)fz_be(p + 12, 8);
        c.expires = (int64_t)fz_be(p + 20, 8);
        if (imago_auth_token_encode(fz_secret, &c, tok) != 0)
                return;
        r = imago_auth_token_verify(fz_secret, tok, NOW, &got);
        if (r == 0 && (got.user_id != c.user_id || got.roles != c.roles ||
                       got.issued_at != c.issued_at || got.expires != c.expires))
                abort();
        if (r != 0 && r != IMAGO_EAUTH_TOKEN_EXPIRED && r != IMAGO_EAUTH_TOKEN_NOTYET)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imago_auth_argon2 p;
        struct imago_auth_claims c;
        char tok[IMAGO_AUTH_TOKEN_LEN + 1];
        uint8_t h[32];
        char *s;

        if (size < 1)
                return 0;
        if (data[0] % 4 == 1) {
                fz_claims(data + 1, size - 1);
                return 0;
        }
        if ((s = malloc(size)) == NULL)
                return 0;
        memcpy(s, data + 1, size - 1);
        s[size - 1] = '\0';
        switch (data[0] % 4) {
        case 0:
                if (imago_auth_token_verify(fz_secret, s, NOW, &c) == 0) {
                        if (imago_auth_token_encode(fz_secret, &c, tok) != 0 || strcmp(tok, s) != 0)
                                abort();
                }
                break;
        case 2:
                (void)imago_auth_refresh_hash(s, h);
                break;
        default:
                imago_auth_argon2_defaults(&p);
                p.t_cost = p.max_t_cost = 1;
                p.m_kib = p.max_m_kib = 64;
                p.lanes = p.max_lanes = 1;
                (void)imago_auth_password_verify(&p, s, "fuzz password", 13);
                (void)imago_auth_password_needs_rehash(&p, s);
                break;
        }
        free(s);
        return 0;
}
