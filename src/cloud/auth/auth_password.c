/* See auth.h: argon2id password hashes and the password policy. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/auth/auth.h"

#include "base/err.h"
#include "base/log.h"
#include "base/wipe.h"

#include <argon2.h>
#include <openssl/rand.h>
#include <string.h>

#define SALT_LEN 16
#define HASH_LEN 32
#define PREFIX   "$argon2id$v=19$m="

void imago_auth_argon2_defaults(struct imago_auth_argon2 *p)
{
        if (p == NULL)
                return;
        p->t_cost = 2;
        p->m_kib = 19456;
        p->lanes = 1;
        p->max_t_cost = 8;
        p->max_m_kib = 262144;
        p->max_lanes = 4;
}

static int params_ok(const struct imago_auth_argon2 *p)
{
        return p != NULL && p->t_cost >= 1 && p->t_cost <= p->max_t_cost && p->lanes >= 1 &&
               p->lanes <= p->max_lanes && p->m_kib >= 8 * p->lanes && p->m_kib <= p->max_m_kib &&
               p->max_lanes <= 64;
}

static char lower(char c)
{
        return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* 1 if pw (len bytes) equals s ignoring ASCII case. */
static int same_nocase(const char *pw, size_t len, const char *s)
{
        size_t i;

        if (strlen(s) != len)
                return 0;
        for (i = 0; i < len; i++) {
                if (lower(pw[i]) != lower(s[i]))
                        return 0;
        }
        return 1;
}

int imago_auth_password_policy(const char *user, const char *pw, size_t len)
{
        static const char *const common[] = {
            "password1234",   "password12345", "password123456",   "123456789012", "1234567890123",
            "12345678901234", "qwertyuiop12",  "qwertyuiopasdf",   "iloveyou1234", "letmein12345",
            "administrator",  "changeme1234",  "passwordpassword",
        };
        size_t i;

        if (pw == NULL || len < IMAGO_AUTH_PASSWORD_MIN || len > IMAGO_AUTH_PASSWORD_MAX)
                return IMAGO_EAUTH_POLICY;
        if (memchr(pw, '\0', len) != NULL)
                return IMAGO_EAUTH_POLICY;
        for (i = 1; i < len && pw[i] == pw[0]; i++)
                ;
        if (i == len)
                return IMAGO_EAUTH_POLICY;
        if (user != NULL && same_nocase(pw, len, user))
                return IMAGO_EAUTH_POLICY;
        for (i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
                if (same_nocase(pw, len, common[i]))
                        return IMAGO_EAUTH_POLICY;
        }
        return 0;
}

int imago_auth_password_hash(const struct imago_auth_argon2 *p, const char *pw, size_t len,
                             char out[IMAGO_AUTH_HASH_MAX])
{
        uint8_t salt[SALT_LEN];
        int r, rc;

        if (!params_ok(p) || pw == NULL || out == NULL || len > IMAGO_AUTH_PASSWORD_MAX)
                return IMAGO_EINVAL;
        if (RAND_bytes(salt, sizeof(salt)) != 1) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        rc = argon2id_hash_encoded(p->t_cost, p->m_kib, p->lanes, pw, len, salt, sizeof(salt),
                                   HASH_LEN, out, IMAGO_AUTH_HASH_MAX);
        if (rc != ARGON2_OK) {
                IMAGO_ERR("argon2id: %s", argon2_error_message(rc));
                r = rc == ARGON2_MEMORY_ALLOCATION_ERROR ? IMAGO_ENOMEM : IMAGO_ECRYPTO;
                goto out;
        }
        r = 0;
out:
        imago_wipe(salt, sizeof(salt));
        return r;
}

/* Decimal without sign or leading zero, at most UINT32_MAX; advances *s. */
static int parse_u32(const char **s, uint32_t *out)
{
        const char *c = *s;
        uint64_t v = 0;
        int n = 0;

        if (*c == '0' && c[1] >= '0' && c[1] <= '9')
                return 0;
        while (*c >= '0' && *c <= '9') {
                v = v * 10 + (uint64_t)(*c - '0');
                if (++n > 10 || v > UINT32_MAX)
                        return 0;
                c++;
        }
        if (n == 0)
                return 0;
        *out = (uint32_t)v;
        *s = c;
        return 1;
}

static int expect(const char **s, const char *lit)
{
        size_t n = strlen(lit);

        if (strncmp(*s, lit, n) != 0)
                return 0;
        *s += n;
        return 1;
}

static int b64_value(char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        return c == '/' ? 63 : -1;
}

/* Canonical unpadded standard base64 of min..max bytes (unused low bits of
 * the last character zero); advances *s. */
static int parse_b64(const char **s, size_t min, size_t max)
{
        const char *c = *s;
        size_t n = 0, bytes;
        int last = 0;

        while (b64_value(*c) >= 0) {
                last = b64_value(*c);
                c++;
                n++;
        }
        if (n % 4 == 1 || (n % 4 == 2 && (last & 0xf) != 0) || (n % 4 == 3 && (last & 0x3) != 0))
                return 0;
        bytes = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
        if (bytes < min || bytes > max)
                return 0;
        *s = c;
        return 1;
}

/* Strict "$argon2id$v=19$m=M,t=T,p=P$SALT$HASH" (salt 8..64, hash 16..64 bytes). */
static int parse_encoded(const char *enc, uint32_t *m, uint32_t *t, uint32_t *p)
{
        const char *s = enc;

        if (enc == NULL || strnlen(enc, IMAGO_AUTH_HASH_MAX) >= IMAGO_AUTH_HASH_MAX)
                return IMAGO_EAUTH_HASH;
        if (!expect(&s, PREFIX) || !parse_u32(&s, m) || !expect(&s, ",t=") || !parse_u32(&s, t) ||
            !expect(&s, ",p=") || !parse_u32(&s, p) || !expect(&s, "$") || !parse_b64(&s, 8, 64) ||
            !expect(&s, "$") || !parse_b64(&s, 16, 64) || *s != '\0')
                return IMAGO_EAUTH_HASH;
        return 0;
}

int imago_auth_password_verify(const struct imago_auth_argon2 *p, const char *encoded,
                               const char *pw, size_t len)
{
        char dummy[IMAGO_AUTH_HASH_MAX];
        uint32_t m, t, lanes;
        int r, rc;

        if (!params_ok(p) || pw == NULL)
                return IMAGO_EINVAL;
        if (len > IMAGO_AUTH_PASSWORD_MAX)
                return IMAGO_EAUTH_PASSWORD;
        if (encoded == NULL) {
                /* unknown user: the same work as a check, then "wrong password" */
                r = imago_auth_password_hash(p, pw, len, dummy);
                imago_wipe(dummy, sizeof(dummy));
                return r != 0 ? r : IMAGO_EAUTH_PASSWORD;
        }
        if ((r = parse_encoded(encoded, &m, &t, &lanes)) != 0)
                goto out;
        if (t < 1 || t > p->max_t_cost || lanes < 1 || lanes > p->max_lanes || m < 8 * lanes ||
            m > p->max_m_kib) {
                IMAGO_WARN("stored password hash asks for t=%u m=%u p=%u: over the bounds", t, m,
                           lanes);
                r = IMAGO_EAUTH_HASH;
                goto out;
        }
        rc = argon2id_verify(encoded, pw, len);
        if (rc == ARGON2_OK)
                r = 0;
        else if (rc == ARGON2_VERIFY_MISMATCH)
                r = IMAGO_EAUTH_PASSWORD;
        else if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
                r = IMAGO_ENOMEM;
        else
                r = IMAGO_EAUTH_HASH;
out:
        return r;
}

int imago_auth_password_needs_rehash(const struct imago_auth_argon2 *p, const char *encoded)
{
        uint32_t m, t, lanes;

        if (p == NULL || parse_encoded(encoded, &m, &t, &lanes) != 0)
                return 1;
        return m != p->m_kib || t != p->t_cost || lanes != p->lanes;
}
