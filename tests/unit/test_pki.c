/* Unit tests of src/pki: the CA hierarchy, profiles and their attacks. */
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

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/err.h"
#include "base/file.h"
#include "crypto/keys.h"
#include "pki/pki.h"

#define PASS "correct horse battery staple"

struct fixture {
        char dir[64];
};

static int setup(void **state)
{
        static struct fixture f;
        struct imago_pki_init_opts o;

        snprintf(f.dir, sizeof(f.dir), "/tmp/imago-pki-XXXXXX");
        if (mkdtemp(f.dir) == NULL)
                return -1;
        memset(&o, 0, sizeof(o));
        o.dir = f.dir;
        o.org = "Acme Devices";
        o.root_passphrase = PASS;
        o.cloud_passphrase = "cloud pass";
        if (imago_pki_init(&o) != IMAGO_OK)
                return -1;
        *state = &f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        return system(cmd) == 0 ? 0 : -1;
}

static X509_STORE *store_with(X509 *root)
{
        X509_STORE *st = X509_STORE_new();

        assert_non_null(st);
        assert_int_equal(X509_STORE_add_cert(st, root), 1);
        return st;
}

/* Verify leaf <- mid <- root with an optional purpose; returns the X509 error or 0. */
static int chain_error(X509 *root, X509 *mid, X509 *leaf, int purpose)
{
        X509_STORE *st = store_with(root);
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        STACK_OF(X509) *untrusted = sk_X509_new_null();
        int ok, err;

        sk_X509_push(untrusted, mid);
        assert_int_equal(X509_STORE_CTX_init(ctx, st, leaf, untrusted), 1);
        if (purpose)
                X509_STORE_CTX_set_purpose(ctx, purpose);
        ok = X509_verify_cert(ctx);
        err = ok == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
        if (err == 0 && ok != 1)
                err = -1;
        X509_STORE_CTX_free(ctx);
        sk_X509_free(untrusted);
        X509_STORE_free(st);
        return err;
}

static void new_device_key(struct imago_pubkey *pub, char id[IMAGO_DEVICE_ID_LEN + 1])
{
        struct imago_privkey k;

        assert_int_equal(imago_privkey_generate(IMAGO_KEY_P256, &k), IMAGO_OK);
        assert_int_equal(imago_privkey_public(&k, pub), IMAGO_OK);
        imago_privkey_free(&k);
        assert_int_equal(imago_pki_device_id(pub, id), IMAGO_OK);
}

static void load(struct fixture *f, enum imago_pki_role role, const char *pass,
                 struct imago_pki_ca *ca)
{
        assert_int_equal(imago_pki_ca_load(f->dir, role, pass, ca), IMAGO_OK);
}

static void test_hierarchy_chains_to_root(void **state)
{
        struct fixture *f = *state;
        struct imago_pki_ca root, factory, issuing, server;

        load(f, IMAGO_PKI_ROOT, PASS, &root);
        load(f, IMAGO_PKI_FACTORY, PASS, &factory);
        load(f, IMAGO_PKI_ISSUING, "cloud pass", &issuing);
        load(f, IMAGO_PKI_SERVER_CA, "cloud pass", &server);
        assert_int_equal(X509_check_ca(root.cert), 1);
        assert_int_equal(X509_check_issued(root.cert, factory.cert), X509_V_OK);
        assert_int_equal(X509_check_issued(root.cert, issuing.cert), X509_V_OK);
        assert_int_equal(X509_check_issued(root.cert, server.cert), X509_V_OK);
        /* Intermediates may not create further CAs. */
        assert_int_equal(X509_get_pathlen(factory.cert), 0);
        assert_int_equal(X509_get_pathlen(root.cert), 1);
        imago_pki_ca_free(&root);
        imago_pki_ca_free(&factory);
        imago_pki_ca_free(&issuing);
        imago_pki_ca_free(&server);
}

static void test_keys_encrypted_and_private(void **state)
{
        struct fixture *f = *state;
        char path[256];
        struct stat st;
        uint8_t *data;
        size_t len;

        for (int role = IMAGO_PKI_ROOT; role <= IMAGO_PKI_SERVER_CA; role++) {
                snprintf(path, sizeof(path), "%s/%s", f->dir, imago_pki_key_file(role));
                assert_int_equal(stat(path, &st), 0);
                assert_int_equal(st.st_mode & 0777, 0600);
                assert_int_equal(imago_file_read(path, 65536, &data, &len), IMAGO_OK);
                assert_non_null(strstr((char *)data, "BEGIN ENCRYPTED "
                                                     "PRIVATE KEY"));
                imago_file_free(data, len);
        }
}

static void test_wrong_passphrase_refused(void **state)
{
        struct fixture *f = *state;
        struct imago_pki_ca ca;

        assert_int_equal(imago_pki_ca_load(f->dir, IMAGO_PKI_ROOT, "wrong", &ca),
                         IMAGO_EKEY_PASSPHRASE);
        /* The factory key is under the root passphrase, the cloud keys under their own. */
        assert_int_equal(imago_pki_ca_load(f->dir, IMAGO_PKI_ISSUING, PASS, &ca),
                         IMAGO_EKEY_PASSPHRASE);
}

static void test_init_refuses_existing_ca(void **state)
{
        struct fixture *f = *state;
        struct imago_pki_init_opts o;

        memset(&o, 0, sizeof(o));
        o.dir = f->dir;
        o.root_passphrase = PASS;
        assert_int_equal(imago_pki_init(&o), IMAGO_EEXIST);
        o.root_passphrase = NULL;
        assert_int_equal(imago_pki_init(&o), IMAGO_EINVAL);
}

static void test_birth_certificate_profile(void **state)
{
        struct fixture *f = *state;
        struct imago_pki_ca root, factory;
        struct imago_pki_request req;
        struct imago_pubkey pub;
        char id[IMAGO_DEVICE_ID_LEN + 1], cn[64];
        X509 *cert = NULL;

        load(f, IMAGO_PKI_ROOT, PASS, &root);
        load(f, IMAGO_PKI_FACTORY, PASS, &factory);
        new_device_key(&pub, id);
        memset(&req, 0, sizeof(req));
        req.profile = IMAGO_PKI_BIRTH;
        req.common_name = id;
        req.pub = &pub;
        assert_int_equal(imago_pki_issue(&factory, &req, &cert), IMAGO_OK);
        assert_int_equal(chain_error(root.cert, factory.cert, cert, X509_PURPOSE_SSL_CLIENT), 0);
        /* Not valid for a TLS server. */
        assert_int_not_equal(chain_error(root.cert, factory.cert, cert, X509_PURPOSE_SSL_SERVER),
                             0);
        assert_int_equal(
            X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn)),
            IMAGO_DEVICE_ID_LEN);
        assert_string_equal(cn, id);
        assert_int_equal(X509_check_ca(cert), 0);
        X509_free(cert);
        imago_pki_ca_free(&root);
        imago_pki_ca_free(&factory);
}

/* A device certificate must name the key it certifies. */
static void test_device_cn_must_match_key(void **state)
{
        struct fixture *f = *state;
        struct imago_pki_ca factory;
        struct imago_pki_request req;
        struct imago_pubkey pub, other;
        char id[IMAGO_DEVICE_ID_LEN + 1], other_id[IMAGO_DEVICE_ID_LEN + 1];
        X509 *cert = NULL;

        load(f, IMAGO_PKI_FACTORY, PASS, &factory);
        new_device_key(&pub, id);
        new_device_key(&other, other_id);
        memset(&req, 0, sizeof(req));
        req.profile = IMAGO_PKI_BIRTH;
        req.common_name = other_id;
        req.pub = &pub;
        assert_int_equal(imago_pki_issue(&factory, &req, &cert), IMAGO_EPKI_NAME);
        req.common_name = "not-a-device-id";
        assert_int_equal(imago_pki_issue(&factory, &req, &cert), IMAGO_EPKI_NAME);
        assert_null(cert);
        imago_pki_ca_free(&factory);
}

static void test_profile_must_match_ca(void **state)
{
        struct fixture *f = *state;
        struct imago_pki_ca factory, server;
        struct imago_pki_request req;
        struct imago_pubkey pub;
        char id[IMAGO_DEVICE_ID_LEN + 1];
        X509 *cert = NULL;

        load(f, IMAGO_PKI_FACTORY, PASS, &factory);
        load(f, IMAGO_PKI_SERVER_CA, "cloud pass", &server);
        new_device_key(&pub, id);
        memset(&req, 0, sizeof(req));
        req.pub = &pub;
        req.common_name = id;
        req.profile = IMAGO_PKI_DEVICE; /* operational certs come only from the issuing CA */
        assert_int_equal(imago_pki_issue(&factory, &req, &cert), IMAGO_EPKI_PROFILE);
        req.profile = IMAGO_PKI_BIRTH;
        assert_int_equal(imago_pki_issue(&server, &req, &cert), IMAGO_EPKI_PROFILE);
        assert_null(cert);
        imago_pki_ca_free(&factory);
        imago_pki_ca_free(&server);
}

static void test_server_name_constraints(void **state)
{
        struct fixture *f = *state;
        struct imago_pki_ca root, server;
        struct imago_pki_request req;
        struct imago_pubkey pub;
        char id[IMAGO_DEVICE_ID_LEN + 1];
        const char *good[] = {"localhost", "127.0.0.1"};
        const char *evil[] = {"bank.example.com"};
        X509 *cert = NULL;

        load(f, IMAGO_PKI_ROOT, PASS, &root);
        load(f, IMAGO_PKI_SERVER_CA, "cloud pass", &server);
        new_device_key(&pub, id);
        memset(&req, 0, sizeof(req));
        req.profile = IMAGO_PKI_SERVER;
        req.common_name = "broker";
        req.pub = &pub;
        req.names = good;
        req.names_count = 2;
        assert_int_equal(imago_pki_issue(&server, &req, &cert), IMAGO_OK);
        assert_int_equal(chain_error(root.cert, server.cert, cert, X509_PURPOSE_SSL_SERVER), 0);
        assert_int_equal(X509_check_host(cert, "localhost", 0, 0, NULL), 1);
        assert_int_equal(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
        X509_free(cert);
        cert = NULL;
        /* Even if the server CA key signs a foreign name, verifiers refuse it. */
        req.names = evil;
        req.names_count = 1;
        assert_int_equal(imago_pki_issue(&server, &req, &cert), IMAGO_OK);
        assert_int_equal(chain_error(root.cert, server.cert, cert, X509_PURPOSE_SSL_SERVER),
                         X509_V_ERR_PERMITTED_VIOLATION);
        X509_free(cert);
        cert = NULL;
        req.names_count = 0;
        assert_int_equal(imago_pki_issue(&server, &req, &cert), IMAGO_EPKI_NAME);
        imago_pki_ca_free(&root);
        imago_pki_ca_free(&server);
}

static void test_serials_unique_and_fingerprints(void **state)
{
        struct fixture *f = *state;
        struct imago_pki_ca factory;
        struct imago_pki_request req;
        struct imago_pubkey pub;
        char id[IMAGO_DEVICE_ID_LEN + 1];
        char s1[41], s2[41], fp[65];
        X509 *a = NULL, *b = NULL;

        load(f, IMAGO_PKI_FACTORY, PASS, &factory);
        new_device_key(&pub, id);
        memset(&req, 0, sizeof(req));
        req.profile = IMAGO_PKI_BIRTH;
        req.common_name = id;
        req.pub = &pub;
        assert_int_equal(imago_pki_issue(&factory, &req, &a), IMAGO_OK);
        assert_int_equal(imago_pki_issue(&factory, &req, &b), IMAGO_OK);
        assert_int_equal(imago_pki_cert_serial(a, s1), IMAGO_OK);
        assert_int_equal(imago_pki_cert_serial(b, s2), IMAGO_OK);
        assert_int_equal(strlen(s1), 32);
        assert_string_not_equal(s1, s2);
        assert_int_equal(imago_pki_cert_fingerprint(a, fp), IMAGO_OK);
        assert_int_equal(strlen(fp), 64);
        X509_free(a);
        X509_free(b);
        imago_pki_ca_free(&factory);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_hierarchy_chains_to_root),
            cmocka_unit_test(test_keys_encrypted_and_private),
            cmocka_unit_test(test_wrong_passphrase_refused),
            cmocka_unit_test(test_init_refuses_existing_ca),
            cmocka_unit_test(test_birth_certificate_profile),
            cmocka_unit_test(test_device_cn_must_match_key),
            cmocka_unit_test(test_profile_must_match_ca),
            cmocka_unit_test(test_server_name_constraints),
            cmocka_unit_test(test_serials_unique_and_fingerprints),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
