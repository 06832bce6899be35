/*
 * Device identity: a key in a real SoftHSM2 token (PKCS#11) or, for
 * development only, in a P-256 key file.  CSRs signed by the token verify
 * and carry the token's key; production mode refuses file keys; a wrong PIN,
 * a missing key and bad key files are refused with their own codes, and
 * no PIN reaches the log.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "base/err.h"
#include "base/log.h"
#include "crypto/keys.h"
#include "crypto/p11/p11.h"
#include "device/identity/identity.h"
#include "pki/pki.h"

#include "test_p11_util.h"

#define PIN       "1234"
#define WRONG_PIN "31337-wrong-pin"
#define DEV_URI   "pkcs11:token=dev"

static struct tok_env env;
static struct imago_pubkey dev_pub, other_pub;
static char logbuf[8192];
static size_t loglen;

static void capture(enum imago_log_level level, const char *line, void *arg)
{
        size_t n = strlen(line);

        (void)level;
        (void)arg;
        if (n > sizeof(logbuf) - 1 - loglen)
                n = sizeof(logbuf) - 1 - loglen;
        memcpy(logbuf + loglen, line, n);
        loglen += n;
        logbuf[loglen] = 0;
}

static void log_start(void)
{
        loglen = 0;
        logbuf[0] = 0;
        imago_log_set_sink(capture, NULL);
}

static void log_stop(void)
{
        imago_log_set_sink(NULL, NULL);
}

static int setup(void **state)
{
        static const uint8_t id1[] = {0x42}, id2[] = {0x07};
        struct imago_p11 *p = NULL;
        struct imago_p11_key k;
        int r = -1;

        (void)state;
        if (tok_env_init(&env) != 0 || tok_add(&env, "dev", PIN) != 0 ||
            tok_add(&env, "empty", PIN) != 0)
                return -1;
        if (imago_p11_open(TOK_MODULE, DEV_URI, PIN, &p) != IMAGO_OK)
                return -1;
        if (imago_p11_ec_generate(p, IMAGO_IDENTITY_LABEL, id1, sizeof(id1), &k) == IMAGO_OK &&
            imago_p11_ec_pubkey(p, &k, &dev_pub) == IMAGO_OK &&
            imago_p11_ec_generate(p, "other", id2, sizeof(id2), &k) == IMAGO_OK &&
            imago_p11_ec_pubkey(p, &k, &other_pub) == IMAGO_OK)
                r = 0;
        imago_p11_close(p);
        return r;
}

static int teardown(void **state)
{
        (void)state;
        tok_env_free(&env);
        return 0;
}

static struct imago_identity_config p11_cfg(const char *uri, const char *pin)
{
        struct imago_identity_config c;

        memset(&c, 0, sizeof(c));
        c.backend = IMAGO_IDENTITY_PKCS11;
        c.production = 1;
        c.module = TOK_MODULE;
        c.token_uri = uri;
        c.pin = pin;
        return c;
}

/* A new key file in the token directory; returns its path in out. */
static void key_file(enum imago_key_type type, const char *name, char *out, size_t cap)
{
        struct imago_privkey k;

        memset(&k, 0, sizeof(k));
        snprintf(out, cap, "%s/%s", env.dir, name);
        assert_int_equal(imago_privkey_generate(type, &k), IMAGO_OK);
        assert_int_equal(imago_privkey_save(&k, out, NULL), IMAGO_OK);
        imago_privkey_free(&k);
}

static struct imago_identity_config file_cfg(const char *path, int production)
{
        struct imago_identity_config c;

        memset(&c, 0, sizeof(c));
        c.backend = IMAGO_IDENTITY_FILE;
        c.production = production;
        c.key_path = path;
        return c;
}

/* The request verifies with its own key, which is pub; CN = device id, O = org. */
static void check_csr(X509_REQ *req, const struct imago_pubkey *pub, const char *org)
{
        char want_id[IMAGO_DEVICE_ID_LEN + 1], buf[128];
        X509_NAME *subj = X509_REQ_get_subject_name(req);
        EVP_PKEY *pk = X509_REQ_get0_pubkey(req);
        uint8_t *der = NULL;
        int n;

        assert_non_null(pk);
        assert_int_equal(X509_REQ_verify(req, pk), 1);
        n = i2d_PUBKEY(pk, &der);
        assert_int_equal(n, (int)pub->spki_len);
        assert_memory_equal(der, pub->spki, pub->spki_len);
        OPENSSL_free(der);
        assert_int_equal(X509_REQ_get_signature_nid(req), NID_ecdsa_with_SHA256);
        assert_int_equal(X509_REQ_get_version(req), 0);
        assert_int_equal(imago_pki_device_id(pub, want_id), IMAGO_OK);
        assert_true(X509_NAME_get_text_by_NID(subj, NID_commonName, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, want_id);
        if (org != NULL) {
                assert_true(
                    X509_NAME_get_text_by_NID(subj, NID_organizationName, buf, sizeof(buf)) > 0);
                assert_string_equal(buf, org);
                assert_int_equal(X509_NAME_entry_count(subj), 2);
        } else {
                assert_int_equal(X509_NAME_entry_count(subj), 1);
        }
}

static void test_token_csr_verifies_and_carries_token_key(void **state)
{
        struct imago_identity_config cfg = p11_cfg(DEV_URI, PIN);
        struct imago_identity *id = NULL;
        struct imago_pubkey pub;
        char devid[IMAGO_DEVICE_ID_LEN + 1], want[IMAGO_DEVICE_ID_LEN + 1];
        uint8_t buf[IMAGO_IDENTITY_CSR_MAX], digest[32], sig[IMAGO_SIG_MAX_LEN];
        const uint8_t *pp;
        size_t len = 0, sig_len = 0;
        X509_REQ *req = NULL;

        (void)state;
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_OK);
        assert_int_equal(imago_identity_backend(id), IMAGO_IDENTITY_PKCS11);
        imago_identity_pubkey(id, &pub);
        assert_int_equal(pub.spki_len, dev_pub.spki_len);
        assert_memory_equal(pub.spki, dev_pub.spki, dev_pub.spki_len);
        imago_identity_device_id(id, devid);
        assert_int_equal(imago_pki_device_id(&dev_pub, want), IMAGO_OK);
        assert_string_equal(devid, want);

        /* the X509_REQ, signed in the token */
        assert_int_equal(imago_identity_csr(id, "imago", &req), IMAGO_OK);
        check_csr(req, &dev_pub, "imago");
        X509_REQ_free(req);
        req = NULL;

        /* DER and PEM encodings decode to a request that verifies */
        assert_int_equal(
            imago_identity_csr_encode(id, NULL, IMAGO_IDENTITY_DER, buf, sizeof(buf), &len),
            IMAGO_OK);
        pp = buf;
        req = d2i_X509_REQ(NULL, &pp, (long)len);
        assert_non_null(req);
        assert_ptr_equal(pp, buf + len);
        check_csr(req, &dev_pub, NULL);
        X509_REQ_free(req);
        assert_int_equal(imago_identity_csr_encode(id, "Acme Devices", IMAGO_IDENTITY_PEM, buf,
                                                   sizeof(buf), &len),
                         IMAGO_OK);
        assert_true(len > 40);
        assert_memory_equal(buf, "-----BEGIN CERTIFICATE REQUEST-----", 35);
        /* a buffer too small */
        assert_int_equal(imago_identity_csr_encode(id, "imago", IMAGO_IDENTITY_DER, buf, 64, &len),
                         IMAGO_ETOOBIG);

        /* a digest signed in the token verifies with the identity's public key */
        assert_int_equal(imago_sha256("version report", 14, digest), IMAGO_OK);
        assert_int_equal(imago_identity_sign_digest(id, digest, sig, &sig_len), IMAGO_OK);
        assert_int_equal(imago_sig_verify_digest(&dev_pub, digest, sig, sig_len), IMAGO_OK);
        imago_identity_close(id);
}

static void test_key_selected_by_uri_object_or_id(void **state)
{
        static const char *const uris[] = {
            "pkcs11:token=dev;object=other?pin-value=" PIN,
            "pkcs11:token=dev;id=%07?pin-value=" PIN,
            "pkcs11:token=dev;object=other;id=%07;type=private?pin-value=" PIN,
        };
        struct imago_identity *id = NULL;
        struct imago_pubkey pub;
        X509_REQ *req = NULL;
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
                struct imago_identity_config cfg = p11_cfg(uris[i], NULL);

                assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_OK);
                imago_identity_pubkey(id, &pub);
                assert_memory_equal(pub.spki, other_pub.spki, other_pub.spki_len);
                assert_int_equal(imago_identity_csr(id, "imago", &req), IMAGO_OK);
                check_csr(req, &other_pub, "imago");
                X509_REQ_free(req);
                imago_identity_close(id);
                id = NULL;
        }
}

static void test_file_key_csr(void **state)
{
        struct imago_identity_config cfg;
        struct imago_identity *id = NULL;
        struct imago_pubkey want, pub;
        char path[256];
        uint8_t digest[32], sig[IMAGO_SIG_MAX_LEN];
        size_t sig_len = 0;
        X509_REQ *req = NULL;

        (void)state;
        key_file(IMAGO_KEY_P256, "sim.key", path, sizeof(path));
        assert_int_equal(imago_pubkey_load(path, &want), IMAGO_OK);
        cfg = file_cfg(path, 0);
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_OK);
        assert_int_equal(imago_identity_backend(id), IMAGO_IDENTITY_FILE);
        imago_identity_pubkey(id, &pub);
        assert_memory_equal(pub.spki, want.spki, want.spki_len);
        assert_int_equal(imago_identity_csr(id, "imago", &req), IMAGO_OK);
        check_csr(req, &want, "imago");
        X509_REQ_free(req);
        assert_int_equal(imago_sha256("x", 1, digest), IMAGO_OK);
        assert_int_equal(imago_identity_sign_digest(id, digest, sig, &sig_len), IMAGO_OK);
        assert_int_equal(imago_sig_verify_digest(&want, digest, sig, sig_len), IMAGO_OK);
        imago_identity_close(id);
}

static void test_production_refuses_file_key(void **state)
{
        struct imago_identity_config cfg;
        struct imago_identity *id = (struct imago_identity *)&cfg; /* must be reset to NULL */
        char path[256];

        (void)state;
        key_file(IMAGO_KEY_P256, "prod.key", path, sizeof(path));
        cfg = file_cfg(path, 1);
        log_start();
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_EPERM);
        log_stop();
        assert_null(id);
        assert_non_null(strstr(logbuf, IMAGO_IDENTITY_FILE_REFUSED));
        /* and a missing file is refused the same way: policy first */
        cfg.key_path = "/nonexistent/key.pem";
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_EPERM);
}

static void test_wrong_pin_refused_and_not_logged(void **state)
{
        struct imago_identity_config cfg = p11_cfg(DEV_URI, WRONG_PIN);
        struct imago_identity *id = NULL;

        (void)state;
        imago_log_set_level(IMAGO_LOG_DEBUG);
        log_start();
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_EP11_PIN);
        cfg = p11_cfg("pkcs11:token=dev?pin-value=" WRONG_PIN, NULL);
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_EP11_PIN);
        /* no PIN at all */
        cfg = p11_cfg(DEV_URI, NULL);
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_EP11_PIN);
        /* a wrong PIN that starts with the right one */
        cfg = p11_cfg(DEV_URI, PIN "5678");
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_EP11_PIN);
        log_stop();
        imago_log_set_level(IMAGO_LOG_WARN);
        assert_null(id);
        assert_true(loglen > 0);
        assert_null(strstr(logbuf, WRONG_PIN));
        assert_null(strstr(logbuf, PIN "5678"));
}

static void test_pin_from_pin_source(void **state)
{
        struct imago_identity_config cfg;
        struct imago_identity *id = NULL;
        char path[256], uri[400];
        FILE *f;

        (void)state;
        snprintf(path, sizeof(path), "%s/pin", env.dir);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(PIN "\n", f);
        fclose(f);
        snprintf(uri, sizeof(uri), "pkcs11:token=dev?pin-source=file:%s", path);
        cfg = p11_cfg(uri, NULL);
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_OK);
        imago_identity_close(id);
}

static void test_missing_key(void **state)
{
        struct imago_identity_config cfg = p11_cfg("pkcs11:token=empty", PIN);
        struct imago_identity *id = NULL;

        (void)state;
        /* a token that was never provisioned */
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_EP11_KEY);
        /* a key that is not there */
        cfg = p11_cfg("pkcs11:token=dev;object=nokey", PIN);
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_EP11_KEY);
        cfg = p11_cfg("pkcs11:token=dev;id=%99", PIN);
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_EP11_KEY);
        assert_null(id);
}

static void test_bad_config(void **state)
{
        struct imago_identity_config cfg = p11_cfg("pkcs11:token=nosuchtoken", PIN);
        struct imago_identity *id = NULL;

        (void)state;
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_EP11_TOKEN);
        cfg = p11_cfg("pkcs11:token=dev;bogus=1", PIN);
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_EP11_URI);
        cfg = p11_cfg("pkcs11:token=dev;type=cert", PIN);
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_EINVAL);
        cfg = p11_cfg(NULL, PIN);
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_EINVAL);
        cfg = p11_cfg(DEV_URI, PIN);
        cfg.module = "/nonexistent/libpkcs11.so";
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_EP11_MODULE);
        cfg = p11_cfg(DEV_URI, PIN);
        cfg.backend = 0;
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_EINVAL);
        assert_int_equal(imago_identity_open(NULL, &id), IMAGO_EINVAL);
        assert_null(id);
        imago_identity_close(NULL);
}

static void test_file_key_bad_files(void **state)
{
        struct imago_identity_config cfg;
        struct imago_identity *id = NULL;
        char path[256];

        (void)state;
        /* not P-256 */
        key_file(IMAGO_KEY_ED25519, "ed.key", path, sizeof(path));
        cfg = file_cfg(path, 0);
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_EKEY_TYPE);
        /* readable by others */
        key_file(IMAGO_KEY_P256, "open.key", path, sizeof(path));
        assert_int_equal(chmod(path, 0644), 0);
        cfg = file_cfg(path, 0);
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_EKEY_PERM);
        /* missing */
        cfg = file_cfg("/nonexistent/key.pem", 0);
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_ENOTFOUND);
        cfg = file_cfg(NULL, 0);
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_EINVAL);
        assert_null(id);
}

static void test_csr_org_checked(void **state)
{
        struct imago_identity_config cfg = p11_cfg(DEV_URI, PIN);
        struct imago_identity *id = NULL;
        X509_REQ *req = NULL;
        char big[IMAGO_IDENTITY_ORG_MAX + 2];

        (void)state;
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_OK);
        assert_int_equal(imago_identity_csr(id, "imago\nCN=evil", &req), IMAGO_EPKI_NAME);
        assert_int_equal(imago_identity_csr(id, big, &req), IMAGO_EPKI_NAME);
        assert_null(req);
        big[IMAGO_IDENTITY_ORG_MAX] = 0;
        assert_int_equal(imago_identity_csr(id, big, &req), IMAGO_OK);
        X509_REQ_free(req);
        imago_identity_close(id);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_token_csr_verifies_and_carries_token_key),
            cmocka_unit_test(test_key_selected_by_uri_object_or_id),
            cmocka_unit_test(test_file_key_csr),
            cmocka_unit_test(test_production_refuses_file_key),
            cmocka_unit_test(test_wrong_pin_refused_and_not_logged),
            cmocka_unit_test(test_pin_from_pin_source),
            cmocka_unit_test(test_missing_key),
            cmocka_unit_test(test_bad_config),
            cmocka_unit_test(test_file_key_bad_files),
            cmocka_unit_test(test_csr_org_checked),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
