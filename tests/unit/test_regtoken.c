/*
 * imago_regtoken: registration tokens.  Round trip, one test per attack
 * (replayed_registration_token, expired_registration_token,
 * token_for_another_cloud_key, tampered_token in each of its five parts,
 * wrong_alg_header: dir, none, RSA-OAEP, A128GCM, extra header members), the
 * device cannot read it, key files (0600, refused when readable by others),
 * and the strict claims parser.  Keys are generated here; none is committed.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjose/cjose.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "base/err.h"
#include "regtoken/regtoken.h"

#define NOW  1800000000
#define USER "alice@example.com"

struct fx {
        struct imago_regtoken_key key, other;
        struct imago_regtoken_memstore store;
        struct imago_regtoken_replay replay;
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));

        if (f == NULL || imago_regtoken_key_generate(&f->key) != 0 ||
            imago_regtoken_key_generate(&f->other) != 0)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;

        imago_regtoken_key_free(&f->key);
        imago_regtoken_key_free(&f->other);
        free(f);
        return 0;
}

/* A fresh replay store per test. */
static int setup_store(void **state)
{
        struct fx *f = *state;

        imago_regtoken_memstore_init(&f->store);
        f->replay.claim_nonce = imago_regtoken_memstore_claim;
        f->replay.arg = &f->store;
        return 0;
}

static int teardown_store(void **state)
{
        struct fx *f = *state;

        imago_regtoken_memstore_free(&f->store);
        return 0;
}

static char *issue(struct fx *f, const struct imago_regtoken_key *k, int64_t ttl)
{
        char *t = NULL;

        assert_int_equal(imago_regtoken_issue(k != NULL ? k : &f->key, USER, NOW, ttl, &t),
                         IMAGO_OK);
        assert_non_null(t);
        return t;
}

static int redeem(struct fx *f, const char *t, int64_t now)
{
        char user[IMAGO_REGTOKEN_USER_MAX + 1];

        return imago_regtoken_redeem(&f->key, t, strlen(t), now, &f->replay, user, sizeof(user));
}

static void test_round_trip(void **state)
{
        struct fx *f = *state;
        char *t = issue(f, NULL, 600), user[IMAGO_REGTOKEN_USER_MAX + 1];

        assert_true(strlen(t) <= IMAGO_REGTOKEN_MAX);
        assert_int_equal(imago_regtoken_check_compact(t, strlen(t)), IMAGO_OK);
        assert_int_equal(
            imago_regtoken_redeem(&f->key, t, strlen(t), NOW + 10, &f->replay, user, sizeof(user)),
            IMAGO_OK);
        assert_string_equal(user, USER);
        assert_int_equal(f->store.n, 1);
        free(t);
}

static void test_replayed_registration_token(void **state)
{
        struct fx *f = *state;
        char *t = issue(f, NULL, 600), *t2 = issue(f, NULL, 600);

        assert_int_equal(redeem(f, t, NOW), IMAGO_OK);
        assert_int_equal(redeem(f, t, NOW), IMAGO_EEXIST);
        assert_int_equal(redeem(f, t, NOW + 1), IMAGO_EEXIST);
        /* Another token of the same user has its own nonce. */
        assert_int_equal(redeem(f, t2, NOW), IMAGO_OK);
        free(t);
        free(t2);
}

static int failing_store(void *arg, const char *nonce, int64_t expiry)
{
        (void)arg;
        (void)nonce;
        (void)expiry;
        return IMAGO_EIO;
}

static void test_replay_store_failure(void **state)
{
        struct fx *f = *state;
        struct imago_regtoken_replay bad = {failing_store, NULL};
        char *t = issue(f, NULL, 600), user[IMAGO_REGTOKEN_USER_MAX + 1];

        /* A store that cannot record the nonce: the token is not accepted, no user returned. */
        assert_int_equal(
            imago_regtoken_redeem(&f->key, t, strlen(t), NOW, &bad, user, sizeof(user)), IMAGO_EIO);
        assert_string_equal(user, "");
        free(t);
}

static void test_expired_registration_token(void **state)
{
        struct fx *f = *state;
        char *t = issue(f, NULL, 60);

        assert_int_equal(redeem(f, t, NOW + 60), IMAGO_ECMD_TOKEN_EXPIRED);
        assert_int_equal(redeem(f, t, NOW + 100000), IMAGO_ECMD_TOKEN_EXPIRED);
        /* Refused tokens use up no nonce: the same token was still good a second before. */
        assert_int_equal(f->store.n, 0);
        assert_int_equal(redeem(f, t, NOW + 59), IMAGO_OK);
        free(t);
}

static void test_token_for_another_cloud_key(void **state)
{
        struct fx *f = *state;
        char *t = issue(f, &f->other, 600);

        assert_int_equal(imago_regtoken_check_compact(t, strlen(t)), IMAGO_OK);
        assert_int_equal(redeem(f, t, NOW), IMAGO_ECMD_TOKEN);
        assert_int_equal(f->store.n, 0);
        free(t);
}

static void test_tampered_token(void **state)
{
        struct fx *f = *state;
        char *t = issue(f, NULL, 600);
        size_t len = strlen(t), start = 0, part = 0, i;

        /* One character changed in the middle of each part (and one added to the empty key). */
        for (i = 0; i <= len; i++) {
                if (i < len && t[i] != '.')
                        continue;
                if (i == start) { /* the empty encrypted-key part */
                        char *u = malloc(len + 2);
                        assert_non_null(u);
                        memcpy(u, t, i);
                        u[i] = 'A';
                        memcpy(u + i + 1, t + i, len - i + 1);
                        assert_int_equal(redeem(f, u, NOW), IMAGO_ECMD_TOKEN);
                        free(u);
                } else {
                        size_t m = start + (i - start) / 2;
                        char save = t[m];
                        int r;
                        t[m] = save == 'A' ? 'B' : 'A';
                        r = redeem(f, t, NOW);
                        if (r != IMAGO_ECMD_TOKEN && r != IMAGO_ECMD_TOKEN_ALG)
                                fail_msg("part %zu: got %s", part, imago_errname(r));
                        t[m] = save;
                }
                start = i + 1;
                part++;
        }
        assert_int_equal(part, 5);
        /* Truncated, extended, and a sixth part. */
        assert_int_equal(imago_regtoken_redeem(&f->key, t, len - 1, NOW, &f->replay,
                                               (char[IMAGO_REGTOKEN_USER_MAX + 1]){0},
                                               IMAGO_REGTOKEN_USER_MAX + 1),
                         IMAGO_ECMD_TOKEN);
        {
                char *u = malloc(len + 3);
                assert_non_null(u);
                memcpy(u, t, len);
                memcpy(u + len, ".A", 3);
                assert_int_equal(redeem(f, u, NOW), IMAGO_ECMD_TOKEN);
                memcpy(u + len, "A", 2);
                assert_int_equal(redeem(f, u, NOW), IMAGO_ECMD_TOKEN);
                memcpy(u + len, " ", 2);
                assert_int_equal(redeem(f, u, NOW), IMAGO_ECMD_TOKEN);
                free(u);
        }
        assert_int_equal(f->store.n, 0);
        /* The untouched token still works. */
        assert_int_equal(redeem(f, t, NOW), IMAGO_OK);
        free(t);
}

static char *b64url(const char *s)
{
        char *out = NULL, *dup;
        size_t n = 0;
        cjose_err e;

        assert_true(cjose_base64url_encode((const uint8_t *)s, strlen(s), &out, &n, &e));
        dup = strndup(out, n);
        cjose_get_dealloc()(out);
        return dup;
}

/* A token with the given protected header and the body parts of a real token. */
static char *with_header(const char *real, const char *header_json)
{
        char *h = b64url(header_json), *t;
        const char *rest = strchr(real, '.');
        size_t n;

        assert_non_null(rest);
        n = strlen(h) + strlen(rest) + 1;
        t = malloc(n);
        assert_non_null(t);
        snprintf(t, n, "%s%s", h, rest);
        free(h);
        return t;
}

static char *cjose_token(const cjose_jwk_t *jwk, const char *alg, const char *enc)
{
        cjose_header_t *hdr;
        cjose_jwe_t *jwe;
        char *c, *t;
        cjose_err e;
        static const char claims[] =
            "{\"v\":1,\"user\":\"mallory\",\"nonce\":\"00112233445566778899aabbccddeeff\","
            "\"iat\":1800000000,\"exp\":1800000600}";

        hdr = cjose_header_new(&e);
        assert_non_null(hdr);
        assert_true(cjose_header_set(hdr, CJOSE_HDR_ALG, alg, &e));
        assert_true(cjose_header_set(hdr, CJOSE_HDR_ENC, enc, &e));
        jwe = cjose_jwe_encrypt(jwk, hdr, (const uint8_t *)claims, strlen(claims), &e);
        assert_non_null(jwe);
        c = cjose_jwe_export(jwe, &e);
        assert_non_null(c);
        t = strdup(c);
        cjose_get_dealloc()(c);
        cjose_jwe_release(jwe);
        cjose_header_release(hdr);
        return t;
}

static void test_wrong_alg_header(void **state)
{
        struct fx *f = *state;
        static const char *const headers[] = {
            "{\"alg\":\"none\",\"enc\":\"A256GCM\"}",
            "{\"alg\":\"dir\",\"enc\":\"A256GCM\"}",
            "{\"alg\":\"RSA-OAEP\",\"enc\":\"A256GCM\"}",
            "{\"alg\":\"ecdh-es\",\"enc\":\"A256GCM\"}",
            "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\"}",
            "{\"alg\":\"ECDH-ES\",\"enc\":\"A128GCM\"}",
            "{\"alg\":\"ECDH-ES\",\"enc\":\"A256CBC-HS512\"}",
            "{\"alg\":\"ECDH-ES\"}",
            "{\"enc\":\"A256GCM\"}",
            "{\"alg\":[\"ECDH-ES\"],\"enc\":\"A256GCM\"}",
        };
        char *real = issue(f, NULL, 600), *t, *hdr, *p;
        cjose_jwk_t *oct, *rsa;
        cjose_err e;
        size_t i;

        for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
                t = with_header(real, headers[i]);
                if (redeem(f, t, NOW) != IMAGO_ECMD_TOKEN_ALG)
                        fail_msg("%s: not refused as IMAGO_ECMD_TOKEN_ALG", headers[i]);
                free(t);
        }
        /* The real header with one more member (zip, kid, jku, crit): refused too. */
        {
                char *dot = strchr(real, '.');
                uint8_t *raw = NULL;
                size_t rlen = 0;
                static const char *const extra[] = {"\"zip\":\"DEF\"", "\"kid\":\"k\"",
                                                    "\"jku\":\"https://evil\"",
                                                    "\"crit\":[\"exp\"]"};
                assert_true(cjose_base64url_decode(real, (size_t)(dot - real), &raw, &rlen, &e));
                for (i = 0; i < 4; i++) {
                        size_t n = rlen + strlen(extra[i]) + 8;
                        hdr = malloc(n);
                        assert_non_null(hdr);
                        snprintf(hdr, n, "{%s,%.*s", extra[i], (int)(rlen - 1), (char *)raw + 1);
                        t = with_header(real, hdr);
                        if (redeem(f, t, NOW) != IMAGO_ECMD_TOKEN_ALG)
                                fail_msg("%s: not refused", hdr);
                        free(t);
                        free(hdr);
                }
                cjose_get_dealloc()(raw);
        }
        /* Real tokens made by cjose with other algorithms. */
        oct = cjose_jwk_create_oct_random(256, &e);
        assert_non_null(oct);
        t = cjose_token(oct, "dir", "A256GCM");
        assert_int_equal(redeem(f, t, NOW), IMAGO_ECMD_TOKEN_ALG);
        free(t);
        cjose_jwk_release(oct);
        rsa = cjose_jwk_create_RSA_random(2048, NULL, 0, &e);
        assert_non_null(rsa);
        t = cjose_token(rsa, "RSA-OAEP", "A256GCM");
        assert_int_equal(redeem(f, t, NOW), IMAGO_ECMD_TOKEN_ALG);
        free(t);
        cjose_jwk_release(rsa);
        t = cjose_token(f->key.jwk, "ECDH-ES", "A128GCM");
        assert_int_equal(redeem(f, t, NOW), IMAGO_ECMD_TOKEN_ALG);
        free(t);
        /* Control: the same helper with the right algorithms is accepted. */
        t = cjose_token(f->key.jwk, "ECDH-ES", "A256GCM");
        assert_int_equal(redeem(f, t, NOW), IMAGO_OK);
        free(t);
        /* An ephemeral key off the curve (x changed, header rebuilt): refused before ECDH. */
        {
                char *dot = strchr(real, '.');
                uint8_t *raw = NULL;
                size_t rlen = 0;
                assert_true(cjose_base64url_decode(real, (size_t)(dot - real), &raw, &rlen, &e));
                hdr = strndup((char *)raw, rlen);
                p = strstr(hdr, "\"x\": \"");
                assert_non_null(p);
                p[6] = p[6] == 'A' ? 'B' : 'A';
                t = with_header(real, hdr);
                assert_int_equal(imago_regtoken_check_compact(t, strlen(t)), IMAGO_ECMD_TOKEN);
                assert_int_equal(redeem(f, t, NOW), IMAGO_ECMD_TOKEN);
                free(t);
                free(hdr);
                cjose_get_dealloc()(raw);
        }
        free(real);
}

static int capture_nonce(void *arg, const char *nonce, int64_t expiry)
{
        (void)expiry;
        memcpy(arg, nonce, IMAGO_REGTOKEN_NONCE_LEN + 1);
        return 0;
}

static int contains(const uint8_t *hay, size_t n, const char *needle)
{
        size_t m = strlen(needle), i;

        for (i = 0; i + m <= n; i++)
                if (memcmp(hay + i, needle, m) == 0)
                        return 1;
        return 0;
}

static void test_device_cannot_read_token(void **state)
{
        struct fx *f = *state;
        char *t = issue(f, NULL, 600), nonce[IMAGO_REGTOKEN_NONCE_LEN + 1] = {0};
        char user[IMAGO_REGTOKEN_USER_MAX + 1];
        struct imago_regtoken_replay cap = {capture_nonce, nonce};
        struct imago_regtoken_key devkey = {0};
        const char *p = t;
        cjose_err e;

        /* Without the cloud key: a device (any other key, or none) cannot decrypt. */
        assert_int_equal(imago_regtoken_key_generate(&devkey), IMAGO_OK);
        assert_int_equal(
            imago_regtoken_redeem(&devkey, t, strlen(t), NOW, &f->replay, user, sizeof(user)),
            IMAGO_ECMD_TOKEN);
        imago_regtoken_key_free(&devkey);
        assert_int_equal(
            imago_regtoken_redeem(&devkey, t, strlen(t), NOW, &f->replay, user, sizeof(user)),
            IMAGO_EINVAL);
        /* The cloud learns the nonce... */
        assert_int_equal(
            imago_regtoken_redeem(&f->key, t, strlen(t), NOW, &cap, user, sizeof(user)), IMAGO_OK);
        assert_int_equal(strlen(nonce), IMAGO_REGTOKEN_NONCE_LEN);
        /* ...which, like the user id, appears nowhere in the token, as text or base64url-decoded.
         */
        assert_false(contains((const uint8_t *)t, strlen(t), USER));
        assert_false(contains((const uint8_t *)t, strlen(t), "alice"));
        assert_false(contains((const uint8_t *)t, strlen(t), nonce));
        while (p != NULL) {
                const char *end = strchr(p, '.');
                size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
                uint8_t *raw = NULL;
                size_t rlen = 0;
                if (n > 0 && cjose_base64url_decode(p, n, &raw, &rlen, &e)) {
                        assert_false(contains(raw, rlen, "alice"));
                        assert_false(contains(raw, rlen, nonce));
                        assert_false(contains(raw, rlen, "user"));
                        cjose_get_dealloc()(raw);
                }
                p = end != NULL ? end + 1 : NULL;
        }
        free(t);
}

static void test_key_files(void **state)
{
        struct fx *f = *state;
        char dir[] = "/tmp/test_regtoken.XXXXXX", path[128], pub[128], user[80];
        struct imago_regtoken_key loaded = {0};
        struct stat st;
        char *t, *pubjson;
        cjose_err e;
        FILE *fp;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/reg.jwk", dir);
        snprintf(pub, sizeof(pub), "%s/pub.jwk", dir);
        assert_int_equal(imago_regtoken_key_save(&f->key, path), IMAGO_OK);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(imago_regtoken_key_save(&f->key, path), IMAGO_EEXIST);
        assert_int_equal(imago_regtoken_key_load(path, &loaded), IMAGO_OK);
        /* The loaded key redeems what the original issued. */
        t = issue(f, NULL, 600);
        assert_int_equal(
            imago_regtoken_redeem(&loaded, t, strlen(t), NOW, &f->replay, user, sizeof(user)),
            IMAGO_OK);
        free(t);
        imago_regtoken_key_free(&loaded);
        /* Readable by others: refused. */
        assert_int_equal(chmod(path, 0640), 0);
        assert_int_equal(imago_regtoken_key_load(path, &loaded), IMAGO_EKEY_PERM);
        assert_null(loaded.jwk);
        /* A public-only JWK is not a registration key; neither is junk. */
        pubjson = cjose_jwk_to_json(f->key.jwk, false, &e);
        assert_non_null(pubjson);
        fp = fopen(pub, "w");
        assert_non_null(fp);
        fputs(pubjson, fp);
        fclose(fp);
        cjose_get_dealloc()(pubjson);
        assert_int_equal(chmod(pub, 0600), 0);
        assert_int_equal(imago_regtoken_key_load(pub, &loaded), IMAGO_EKEY_FORMAT);
        fp = fopen(pub, "w");
        assert_non_null(fp);
        fputs("{\"kty\":\"EC\",\"kty\":\"EC\"}", fp);
        fclose(fp);
        assert_int_equal(imago_regtoken_key_load(pub, &loaded), IMAGO_EKEY_FORMAT);
        snprintf(user, sizeof(user), "%s/missing", dir);
        assert_int_equal(imago_regtoken_key_load(user, &loaded), IMAGO_ENOTFOUND);
        unlink(path);
        unlink(pub);
        rmdir(dir);
}

/* A P-256 EVP key (the form DIR/keys/regtoken.key loads as) works as the registration key,
 * the same as the JWK it converts to; other keys are refused. */
static void test_key_from_pkey(void **state)
{
        struct fx *f = *state;
        struct imago_regtoken_key a = {0}, b = {0}, bad = {0};
        char user[IMAGO_REGTOKEN_USER_MAX + 1];
        EVP_PKEY *pk = EVP_EC_gen("P-256"), *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        EVP_PKEY *p384 = EVP_EC_gen("P-384"), *pubonly = NULL;
        unsigned char *der = NULL;
        const unsigned char *p;
        char *t = NULL;
        int n;

        assert_non_null(pk);
        assert_non_null(ed);
        assert_non_null(p384);
        assert_int_equal(imago_regtoken_key_from_pkey(pk, &a), IMAGO_OK);
        assert_non_null(a.jwk);
        assert_ptr_equal(a.pkey, pk);
        assert_int_equal(imago_regtoken_key_from_pkey(pk, &b), IMAGO_OK);
        /* issued with the JWK half, redeemed with the EVP half, both directions */
        assert_int_equal(imago_regtoken_issue(&a, USER, NOW, 600, &t), IMAGO_OK);
        assert_int_equal(
            imago_regtoken_redeem(&b, t, strlen(t), NOW + 1, &f->replay, user, sizeof(user)),
            IMAGO_OK);
        assert_string_equal(user, USER);
        free(t);
        /* a token for another cloud key does not decrypt */
        t = issue(f, NULL, 600);
        assert_int_equal(
            imago_regtoken_redeem(&a, t, strlen(t), NOW + 1, &f->replay, user, sizeof(user)),
            IMAGO_ECMD_TOKEN);
        free(t);
        /* the key outlives the caller's reference (up-ref'd) */
        EVP_PKEY_free(pk);
        assert_int_equal(imago_regtoken_issue(&b, USER, NOW, 600, &t), IMAGO_OK);
        assert_int_equal(
            imago_regtoken_redeem(&b, t, strlen(t), NOW + 1, &f->replay, user, sizeof(user)),
            IMAGO_OK);
        free(t);
        imago_regtoken_key_free(&a);
        imago_regtoken_key_free(&b);
        /* not P-256: refused, nothing allocated */
        assert_int_equal(imago_regtoken_key_from_pkey(ed, &bad), IMAGO_EKEY_FORMAT);
        assert_null(bad.jwk);
        assert_int_equal(imago_regtoken_key_from_pkey(p384, &bad), IMAGO_EKEY_FORMAT);
        assert_null(bad.jwk);
        /* a public key has no scalar to make a registration key of */
        EVP_PKEY_free(p384);
        p384 = EVP_EC_gen("P-256");
        assert_non_null(p384);
        n = i2d_PUBKEY(p384, &der);
        assert_true(n > 0);
        p = der;
        pubonly = d2i_PUBKEY(NULL, &p, n);
        assert_non_null(pubonly);
        assert_int_equal(imago_regtoken_key_from_pkey(pubonly, &bad), IMAGO_ECRYPTO);
        assert_null(bad.jwk);
        assert_null(bad.pkey);
        assert_int_equal(imago_regtoken_key_from_pkey(NULL, &bad), IMAGO_EINVAL);
        assert_int_equal(imago_regtoken_key_from_pkey(p384, NULL), IMAGO_EINVAL);
        OPENSSL_free(der);
        EVP_PKEY_free(pubonly);
        EVP_PKEY_free(p384);
        EVP_PKEY_free(ed);
}

static void test_limits_and_claims(void **state)
{
        struct fx *f = *state;
        char user[IMAGO_REGTOKEN_USER_MAX + 1], nonce[IMAGO_REGTOKEN_NONCE_LEN + 1], *big, *t;
        int64_t iat, exp;
        size_t i;
        static const struct {
                const char *json;
                int want;
        } cases[] = {
            {"{\"v\":1,\"user\":\"bob\",\"nonce\":\"00112233445566778899aabbccddeeff\","
             "\"iat\":1,\"exp\":2}",
             IMAGO_OK},
            {"{\"v\":1,\"user\":\"bob\",\"user\":\"eve\",\"nonce\":"
             "\"00112233445566778899aabbccddeeff\",\"iat\":1,\"exp\":2}",
             IMAGO_ECMD_TOKEN},
            {"{\"v\":1,\"user\":\"bob\",\"nonce\":\"00112233445566778899aabbccddeeff\","
             "\"iat\":1,\"exp\":2,\"admin\":true}",
             IMAGO_ECMD_TOKEN},
            {"{\"v\":1,\"user\":\"bob'; DROP TABLE users;--\",\"nonce\":"
             "\"00112233445566778899aabbccddeeff\",\"iat\":1,\"exp\":2}",
             IMAGO_ECMD_TOKEN},
            {"{\"v\":1,\"user\":\"bob\",\"nonce\":\"00112233445566778899AABBCCDDEEFF\","
             "\"iat\":1,\"exp\":2}",
             IMAGO_ECMD_TOKEN},
            {"{\"v\":1,\"user\":\"bob\",\"nonce\":\"0011\",\"iat\":1,\"exp\":2}", IMAGO_ECMD_TOKEN},
            {"{\"v\":1,\"user\":\"bob\",\"nonce\":\"00112233445566778899aabbccddeeff\","
             "\"iat\":2,\"exp\":2}",
             IMAGO_ECMD_TOKEN},
            {"{\"v\":1,\"user\":\"bob\",\"nonce\":\"00112233445566778899aabbccddeeff\","
             "\"iat\":1,\"exp\":100000}",
             IMAGO_ECMD_TOKEN},
            {"{\"v\":2,\"user\":\"bob\",\"nonce\":\"00112233445566778899aabbccddeeff\","
             "\"iat\":1,\"exp\":2}",
             IMAGO_ECMD_TOKEN},
            {"{\"v\":1,\"user\":\"\",\"nonce\":\"00112233445566778899aabbccddeeff\","
             "\"iat\":1,\"exp\":2}",
             IMAGO_ECMD_TOKEN},
            {"[]", IMAGO_ECMD_TOKEN},
            {"{}x", IMAGO_ECMD_TOKEN},
        };

        (void)state;
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int r = imago_regtoken_parse_claims((const uint8_t *)cases[i].json,
                                                    strlen(cases[i].json), user, sizeof(user),
                                                    nonce, &iat, &exp);
                if (r != cases[i].want)
                        fail_msg("claims %zu: got %s", i, imago_errname(r));
        }
        /* Over the size limit: refused before any parsing. */
        big = malloc(IMAGO_REGTOKEN_MAX + 2);
        assert_non_null(big);
        memset(big, 'A', IMAGO_REGTOKEN_MAX + 1);
        big[IMAGO_REGTOKEN_MAX + 1] = '\0';
        assert_int_equal(redeem(f, big, NOW), IMAGO_ETOOBIG);
        free(big);
        assert_int_equal(redeem(f, "", NOW), IMAGO_ECMD_TOKEN);
        assert_int_equal(redeem(f, "....", NOW), IMAGO_ECMD_TOKEN);
        /* Issue refuses what redeem would refuse. */
        assert_int_equal(imago_regtoken_issue(&f->key, "a b", NOW, 60, &t), IMAGO_EINVAL);
        assert_int_equal(imago_regtoken_issue(&f->key, USER, NOW, 0, &t), IMAGO_EINVAL);
        assert_int_equal(imago_regtoken_issue(&f->key, USER, INT64_MAX, 60, &t), IMAGO_EINVAL);
        assert_int_equal(imago_regtoken_issue(&f->key, USER, NOW, IMAGO_REGTOKEN_MAX_TTL + 1, &t),
                         IMAGO_EINVAL);
        /* The memory store: prune forgets only expired nonces. */
        assert_int_equal(
            imago_regtoken_memstore_claim(&f->store, "00112233445566778899aabbccddeeff", 10),
            IMAGO_OK);
        assert_int_equal(
            imago_regtoken_memstore_claim(&f->store, "ffeeddccbbaa99887766554433221100", 20),
            IMAGO_OK);
        imago_regtoken_memstore_prune(&f->store, 15);
        assert_int_equal(f->store.n, 1);
        assert_int_equal(
            imago_regtoken_memstore_claim(&f->store, "ffeeddccbbaa99887766554433221100", 20),
            IMAGO_EEXIST);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_round_trip, setup_store, teardown_store),
            cmocka_unit_test_setup_teardown(test_replayed_registration_token, setup_store,
                                            teardown_store),
            cmocka_unit_test_setup_teardown(test_replay_store_failure, setup_store, teardown_store),
            cmocka_unit_test_setup_teardown(test_expired_registration_token, setup_store,
                                            teardown_store),
            cmocka_unit_test_setup_teardown(test_token_for_another_cloud_key, setup_store,
                                            teardown_store),
            cmocka_unit_test_setup_teardown(test_tampered_token, setup_store, teardown_store),
            cmocka_unit_test_setup_teardown(test_wrong_alg_header, setup_store, teardown_store),
            cmocka_unit_test_setup_teardown(test_device_cannot_read_token, setup_store,
                                            teardown_store),
            cmocka_unit_test_setup_teardown(test_key_files, setup_store, teardown_store),
            cmocka_unit_test_setup_teardown(test_key_from_pkey, setup_store, teardown_store),
            cmocka_unit_test_setup_teardown(test_limits_and_claims, setup_store, teardown_store),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
