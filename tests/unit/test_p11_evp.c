/*
 * The token's P-256 key as an OpenSSL EVP_PKEY through the pkcs11 engine:
 * it signs (the signature verifies with the public key read through
 * imago_p11), it signs a CSR that verifies, and imago_p11 contexts keep
 * working next to the engine on the same module.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "crypto/p11/p11.h"

#include "test_p11_util.h"

#define PIN "1234"

static struct tok_env env;

static int setup(void **state)
{
        (void)state;
        return tok_env_init(&env) == 0 && tok_add(&env, "evp", PIN) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        tok_env_free(&env);
        return 0;
}

static void test_engine_key_signs_digest_and_csr(void **state)
{
        static const uint8_t id[] = {0x01, 0x02};
        struct imago_p11 *p = NULL;
        struct imago_p11_key k;
        struct imago_pubkey pub;
        EVP_PKEY *pkey = NULL;
        EVP_PKEY_CTX *ctx;
        X509_REQ *req;
        X509_NAME *subj;
        uint8_t digest[32], sig[80], *der = NULL;
        size_t sig_len = sizeof(sig);
        int der_len;

        (void)state;
        assert_int_equal(imago_p11_open(TOK_MODULE, "pkcs11:token=evp?pin-value=" PIN, NULL, &p),
                         IMAGO_OK);
        assert_int_equal(imago_p11_ec_generate(p, "device", id, sizeof(id), &k), IMAGO_OK);
        assert_int_equal(imago_p11_ec_pubkey(p, &k, &pub), IMAGO_OK);

        assert_int_equal(
            imago_p11_evp_load(TOK_MODULE, "pkcs11:token=evp;object=nokey", PIN, &pkey),
            IMAGO_EP11_KEY);
        assert_int_equal(imago_p11_evp_load(TOK_MODULE, "pkcs11:token=evp;bad=1", PIN, &pkey),
                         IMAGO_EP11_URI);
        assert_int_equal(imago_p11_evp_load(
                             TOK_MODULE, "pkcs11:token=evp;object=device;type=private", PIN, &pkey),
                         IMAGO_OK);
        /* same public key as the token reports */
        der_len = i2d_PUBKEY(pkey, &der);
        assert_int_equal(der_len, (int)pub.spki_len);
        assert_memory_equal(der, pub.spki, pub.spki_len);
        OPENSSL_free(der);

        /* a digest signature by the engine verifies with imago */
        assert_int_equal(imago_sha256("csr body", 8, digest), IMAGO_OK);
        ctx = EVP_PKEY_CTX_new(pkey, NULL);
        assert_non_null(ctx);
        assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
        assert_int_equal(EVP_PKEY_sign(ctx, sig, &sig_len, digest, sizeof(digest)), 1);
        EVP_PKEY_CTX_free(ctx);
        assert_int_equal(imago_sig_verify_digest(&pub, digest, sig, sig_len), IMAGO_OK);

        /* a CSR signed in the token */
        req = X509_REQ_new();
        subj = X509_NAME_new();
        assert_non_null(req);
        assert_non_null(subj);
        assert_int_equal(X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC,
                                                    (const unsigned char *)"device-1", -1, -1, 0),
                         1);
        assert_int_equal(X509_REQ_set_subject_name(req, subj), 1);
        assert_int_equal(X509_REQ_set_pubkey(req, pkey), 1);
        assert_true(X509_REQ_sign(req, pkey, EVP_sha256()) > 0);
        assert_int_equal(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1);
        X509_NAME_free(subj);
        X509_REQ_free(req);

        /* the imago_p11 context still works next to the engine */
        assert_int_equal(imago_p11_ec_sign_digest(p, &k, digest, sig, &sig_len), IMAGO_OK);
        assert_int_equal(imago_sig_verify_digest(&pub, digest, sig, sig_len), IMAGO_OK);
        imago_p11_close(p);
        /* and closing the last context does not pull the module from under the engine */
        sig_len = sizeof(sig);
        ctx = EVP_PKEY_CTX_new(pkey, NULL);
        assert_non_null(ctx);
        assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
        assert_int_equal(EVP_PKEY_sign(ctx, sig, &sig_len, digest, sizeof(digest)), 1);
        EVP_PKEY_CTX_free(ctx);
        assert_int_equal(imago_sig_verify_digest(&pub, digest, sig, sig_len), IMAGO_OK);
        EVP_PKEY_free(pkey);
        /* and a new context can open after the last one closed */
        assert_int_equal(imago_p11_open(TOK_MODULE, "pkcs11:token=evp?pin-value=" PIN, NULL, &p),
                         IMAGO_OK);
        assert_int_equal(imago_p11_ec_find(p, "device", NULL, 0, &k), IMAGO_OK);
        imago_p11_close(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_engine_key_signs_digest_and_csr),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
