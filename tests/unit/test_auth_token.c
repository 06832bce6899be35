/* Unit tests of src/cloud/auth access and refresh tokens, named after the attacks they stop. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_vectors.h"

#include "base/err.h"
#include "cloud/auth/auth.h"

#define NOW 1700000000

static uint8_t secret[IMAGO_AUTH_SECRET_LEN];
static uint8_t other[IMAGO_AUTH_SECRET_LEN];

static int setup(void **state)
{
        int i;

        (void)state;
        for (i = 0; i < IMAGO_AUTH_SECRET_LEN; i++) {
                secret[i] = (uint8_t)i;
                other[i] = (uint8_t)(0x80 + i);
        }
        return 0;
}

static void issue_and_verify(void **state)
{
        char tok[IMAGO_AUTH_TOKEN_LEN + 1];
        struct imago_auth_claims issued, got;

        (void)state;
        assert_int_equal(imago_auth_token_issue(secret, 42, 0x6, NOW, 900, tok, &issued), 0);
        assert_int_equal(strlen(tok), IMAGO_AUTH_TOKEN_LEN);
        assert_int_equal(imago_auth_token_verify(secret, tok, NOW + 899, &got), 0);
        assert_int_equal(got.user_id, 42);
        assert_int_equal(got.roles, 0x6);
        assert_int_equal(got.issued_at, NOW);
        assert_int_equal(got.expires, NOW + 900);
        assert_memory_equal(got.token_id, issued.token_id, IMAGO_AUTH_TOKEN_ID_LEN);
        assert_int_equal(imago_auth_token_issue(secret, 42, 0, NOW, 0, tok, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_auth_token_issue(secret, 42, 0, NOW, 3601, tok, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_auth_token_issue(secret, 0, 0, NOW, 60, tok, NULL), IMAGO_EINVAL);
}

static void expired_access_token(void **state)
{
        char tok[IMAGO_AUTH_TOKEN_LEN + 1];
        struct imago_auth_claims c;

        (void)state;
        assert_int_equal(imago_auth_token_issue(secret, 7, 1, NOW, 300, tok, NULL), 0);
        assert_int_equal(imago_auth_token_verify(secret, tok, NOW + 300, &c),
                         IMAGO_EAUTH_TOKEN_EXPIRED);
        assert_int_equal(imago_auth_token_verify(secret, tok, INT64_MAX, &c),
                         IMAGO_EAUTH_TOKEN_EXPIRED);
        /* and one from the future (a clock set back, or a forger's guess) */
        assert_int_equal(imago_auth_token_verify(secret, tok, NOW - 61, &c),
                         IMAGO_EAUTH_TOKEN_NOTYET);
        assert_int_equal(imago_auth_token_verify(secret, tok, NOW - 60, &c), 0);
}

static void token_signed_by_other_key(void **state)
{
        char tok[IMAGO_AUTH_TOKEN_LEN + 1];
        struct imago_auth_claims c;

        (void)state;
        assert_int_equal(imago_auth_token_issue(other, 7, 1, NOW, 300, tok, NULL), 0);
        assert_int_equal(imago_auth_token_verify(secret, tok, NOW, &c), IMAGO_EAUTH_TOKEN_SIG);
}

static void tampered_claims(void **state)
{
        char tok[IMAGO_AUTH_TOKEN_LEN + 1], t2[IMAGO_AUTH_TOKEN_LEN + 1];
        struct imago_auth_claims c;
        size_t i;

        (void)state;
        assert_int_equal(imago_auth_token_issue(secret, 7, 1, NOW, 300, tok, NULL), 0);
        /* every hex digit of body and MAC changed to another hex digit */
        for (i = 4; i < IMAGO_AUTH_TOKEN_LEN; i++) {
                if (tok[i] == '.')
                        continue;
                memcpy(t2, tok, sizeof(t2));
                t2[i] = t2[i] == 'f' ? '0' : (t2[i] == '9' ? 'a' : (char)(t2[i] + 1));
                if (imago_auth_token_verify(secret, t2, NOW, &c) != IMAGO_EAUTH_TOKEN_SIG)
                        fail_msg("byte %zu changed and the token still verifies", i);
        }
}

static void forged_access_token(void **state)
{
        char tok[IMAGO_AUTH_TOKEN_LEN + 1];
        struct imago_auth_claims c = {0};

        (void)state;
        /* claims of the forger's choosing, MAC made with a guessed (all-zero) secret */
        memset(c.token_id, 1, sizeof(c.token_id));
        c.user_id = 1;
        c.roles = 0xffffffffu;
        c.issued_at = NOW;
        c.expires = NOW + 3600;
        {
                static const uint8_t zero[IMAGO_AUTH_SECRET_LEN];

                assert_int_equal(imago_auth_token_encode(zero, &c, tok), 0);
        }
        assert_int_equal(imago_auth_token_verify(secret, tok, NOW, &c), IMAGO_EAUTH_TOKEN_SIG);
        /* shapes that are not a token at all */
        assert_int_equal(imago_auth_token_verify(secret, "", NOW, &c), IMAGO_EAUTH_TOKEN_FORMAT);
        assert_int_equal(imago_auth_token_verify(secret, "Bearer x", NOW, &c),
                         IMAGO_EAUTH_TOKEN_FORMAT);
        {
                char big[4096];

                memset(big, 'a', sizeof(big) - 1);
                big[sizeof(big) - 1] = '\0';
                memcpy(big, "at1.", 4);
                assert_int_equal(imago_auth_token_verify(secret, big, NOW, &c),
                                 IMAGO_EAUTH_TOKEN_FORMAT);
        }
}

static void token_case(const char *file, const uint8_t *data, size_t len, int want, void *arg)
{
        struct imago_auth_claims c;
        int got = imago_auth_token_verify(secret, (const char *)data, NOW, &c);

        (void)len;
        (void)arg;
        if (got != want)
                fail_msg("%s: want %s, got %s", file, imago_errname(want), imago_errname(got));
        if (got == 0)
                assert_int_equal(c.user_id, 42);
}

static void token_vectors(void **state)
{
        (void)state;
        assert_true(test_vec_each(IMAGO_SOURCE_DIR "/tests/vectors/auth", ".token", token_case,
                                  NULL) >= 20);
}

/* An in-memory refresh store: hash -> user, expiry, used flag. */
struct row {
        uint8_t hash[32];
        uint64_t user;
        int64_t expires;
        int used;
};

struct store {
        struct row rows[16];
        int n;
        int fail_put;
};

static int st_consume(void *arg, const uint8_t hash[32], int64_t now, uint64_t *user)
{
        struct store *s = arg;
        int i;

        for (i = 0; i < s->n; i++) {
                if (memcmp(s->rows[i].hash, hash, 32) == 0 && !s->rows[i].used &&
                    now < s->rows[i].expires) {
                        s->rows[i].used = 1;
                        *user = s->rows[i].user;
                        return 0;
                }
        }
        return IMAGO_EAUTH_REFRESH;
}

static int st_put(void *arg, const uint8_t hash[32], uint64_t user, int64_t expires)
{
        struct store *s = arg;

        if (s->fail_put || s->n == 16)
                return IMAGO_EIO;
        memcpy(s->rows[s->n].hash, hash, 32);
        s->rows[s->n].user = user;
        s->rows[s->n].expires = expires;
        s->rows[s->n].used = 0;
        s->n++;
        return 0;
}

static void refresh_token_reuse(void **state)
{
        struct store s = {0};
        struct imago_auth_refresh_store ops = {st_consume, st_put, &s};
        char t0[IMAGO_AUTH_REFRESH_LEN + 1], t1[IMAGO_AUTH_REFRESH_LEN + 1],
            t2[IMAGO_AUTH_REFRESH_LEN + 1];
        uint8_t h[32], h2[32];
        uint64_t user = 0;

        (void)state;
        /* log-in: a token for user 9, only its hash stored */
        assert_int_equal(imago_auth_refresh_new(t0, h), 0);
        assert_int_equal(strlen(t0), IMAGO_AUTH_REFRESH_LEN);
        assert_int_equal(imago_auth_refresh_hash(t0, h2), 0);
        assert_memory_equal(h, h2, 32);
        assert_int_equal(st_put(&s, h, 9, NOW + 86400), 0);
        /* first use rotates */
        assert_int_equal(imago_auth_refresh_rotate(&ops, t0, NOW, 86400, t1, &user), 0);
        assert_int_equal(user, 9);
        assert_string_not_equal(t0, t1);
        /* the old one is refused after rotation, the new one works once */
        user = 0;
        assert_int_equal(imago_auth_refresh_rotate(&ops, t0, NOW + 1, 86400, t2, &user),
                         IMAGO_EAUTH_REFRESH);
        assert_int_equal(user, 0);
        assert_int_equal(imago_auth_refresh_rotate(&ops, t1, NOW + 2, 86400, t2, &user), 0);
        assert_int_equal(imago_auth_refresh_rotate(&ops, t1, NOW + 3, 86400, t0, &user),
                         IMAGO_EAUTH_REFRESH);
}

static void refresh_token_expired(void **state)
{
        struct store s = {0};
        struct imago_auth_refresh_store ops = {st_consume, st_put, &s};
        char t0[IMAGO_AUTH_REFRESH_LEN + 1], t1[IMAGO_AUTH_REFRESH_LEN + 1];
        uint8_t h[32];
        uint64_t user = 0;

        (void)state;
        assert_int_equal(imago_auth_refresh_new(t0, h), 0);
        assert_int_equal(st_put(&s, h, 9, NOW + 10), 0);
        assert_int_equal(imago_auth_refresh_rotate(&ops, t0, NOW + 10, 60, t1, &user),
                         IMAGO_EAUTH_REFRESH);
}

static void refresh_spent_even_if_store_fails(void **state)
{
        struct store s = {0};
        struct imago_auth_refresh_store ops = {st_consume, st_put, &s};
        char t0[IMAGO_AUTH_REFRESH_LEN + 1], t1[IMAGO_AUTH_REFRESH_LEN + 1];
        uint8_t h[32];
        uint64_t user = 0;

        (void)state;
        assert_int_equal(imago_auth_refresh_new(t0, h), 0);
        assert_int_equal(st_put(&s, h, 9, NOW + 100), 0);
        s.fail_put = 1;
        assert_int_equal(imago_auth_refresh_rotate(&ops, t0, NOW, 60, t1, &user), IMAGO_EIO);
        s.fail_put = 0;
        assert_int_equal(imago_auth_refresh_rotate(&ops, t0, NOW, 60, t1, &user),
                         IMAGO_EAUTH_REFRESH);
}

static void refresh_format_strict(void **state)
{
        char t0[IMAGO_AUTH_REFRESH_LEN + 1], bad[IMAGO_AUTH_REFRESH_LEN + 2];
        uint8_t h[32];

        (void)state;
        assert_int_equal(imago_auth_refresh_new(t0, h), 0);
        memcpy(bad, t0, sizeof(t0));
        bad[10] = 'A';
        assert_int_equal(imago_auth_refresh_hash(bad, h), IMAGO_EAUTH_TOKEN_FORMAT);
        memcpy(bad, t0, sizeof(t0));
        bad[IMAGO_AUTH_REFRESH_LEN] = '0';
        bad[IMAGO_AUTH_REFRESH_LEN + 1] = '\0';
        assert_int_equal(imago_auth_refresh_hash(bad, h), IMAGO_EAUTH_TOKEN_FORMAT);
        assert_int_equal(imago_auth_refresh_hash(t0 + 1, h), IMAGO_EAUTH_TOKEN_FORMAT);
        assert_int_equal(imago_auth_refresh_hash("", h), IMAGO_EAUTH_TOKEN_FORMAT);
        /* an access token is not a refresh token */
        {
                char at[IMAGO_AUTH_TOKEN_LEN + 1];

                assert_int_equal(imago_auth_token_issue(secret, 1, 0, NOW, 60, at, NULL), 0);
                assert_int_equal(imago_auth_refresh_hash(at, h), IMAGO_EAUTH_TOKEN_FORMAT);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(issue_and_verify),
            cmocka_unit_test(expired_access_token),
            cmocka_unit_test(token_signed_by_other_key),
            cmocka_unit_test(tampered_claims),
            cmocka_unit_test(forged_access_token),
            cmocka_unit_test(token_vectors),
            cmocka_unit_test(refresh_token_reuse),
            cmocka_unit_test(refresh_token_expired),
            cmocka_unit_test(refresh_spent_even_if_store_fails),
            cmocka_unit_test(refresh_format_strict),
        };

        return cmocka_run_group_tests(tests, setup, NULL);
}
