/*
 * Factory provisioning against real SoftHSM2 tokens (one per device), the
 * batch manifest and its trust checks, setup codes, and the manifest
 * vectors under tests/vectors/manifest.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_p11_util.h"
#include "test_vectors.h"

#include "base/err.h"
#include "base/file.h"
#include "crypto/p11/p11.h"
#include "device/store/store.h"
#include "factory/manifest.h"
#include "factory/provision.h"
#include "factory/setup_code.h"
#include "pki/pki.h"

#define PIN     "1234"
#define CA_PASS "ca passphrase"
#define DEVICES 4

struct fx {
        struct tok_env env;
        char ca_dir[200];
        struct imago_pki_ca factory;
        struct imago_manifest m;
        struct imago_factory_result res[DEVICES];
};

static void store_path(const struct fx *f, int i, char *out, size_t n)
{
        snprintf(out, n, "%s/dev%d.store", f->env.dir, i);
}

static int provision(struct fx *f, int i, struct imago_factory_result *res)
{
        struct imago_factory_opts o;
        char label[32], uri[128], path[256];

        snprintf(label, sizeof(label), "dev%d", i);
        tok_uri(uri, sizeof(uri), label, PIN);
        store_path(f, i, path, sizeof(path));
        memset(&o, 0, sizeof(o));
        o.factory = &f->factory;
        o.module = TOK_MODULE;
        o.token_uri = uri;
        o.store_path = path;
        return imago_factory_provision(&o, &f->m, res);
}

static int setup(void **state)
{
        static struct fx f;
        struct imago_pki_init_opts o;
        char label[32];

        memset(&f, 0, sizeof(f));
        if (tok_env_init(&f.env) != 0)
                return -1;
        for (int i = 0; i < DEVICES + 1; i++) {
                snprintf(label, sizeof(label), "dev%d", i);
                if (tok_add(&f.env, label, PIN) != 0)
                        return -1;
        }
        snprintf(f.ca_dir, sizeof(f.ca_dir), "%s/ca", f.env.dir);
        memset(&o, 0, sizeof(o));
        o.dir = f.ca_dir;
        o.root_passphrase = CA_PASS;
        if (imago_pki_init(&o) != IMAGO_OK ||
            imago_pki_ca_load(f.ca_dir, IMAGO_PKI_FACTORY, CA_PASS, &f.factory) != IMAGO_OK)
                return -1;
        memcpy(f.m.batch, "test-batch", 11);
        memcpy(f.m.created, "2026-11-22T00:00:00Z", 21);
        for (int i = 0; i < DEVICES; i++) {
                if (provision(&f, i, &f.res[i]) != IMAGO_OK)
                        return -1;
        }
        *state = &f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;

        imago_manifest_free(&f->m);
        imago_pki_ca_free(&f->factory);
        tok_env_free(&f->env);
        return 0;
}

/* No two devices share a key, an id, a certificate or a setup code. */
static void test_batch_devices_are_unique(void **state)
{
        struct fx *f = *state;

        assert_int_equal(f->m.count, DEVICES);
        for (int i = 0; i < DEVICES; i++) {
                assert_int_equal(strlen(f->res[i].id), IMAGO_DEVICE_ID_LEN);
                assert_string_equal(f->m.devices[i].id, f->res[i].id);
                for (int j = 0; j < i; j++) {
                        assert_string_not_equal(f->res[i].id, f->res[j].id);
                        assert_string_not_equal(f->res[i].serial, f->res[j].serial);
                        assert_string_not_equal(f->res[i].fingerprint, f->res[j].fingerprint);
                        assert_string_not_equal(f->res[i].setup_code, f->res[j].setup_code);
                }
        }
}

/* The device stores its birth certificate and only a hash of its setup code. */
static void test_store_holds_identity_not_setup_code(void **state)
{
        struct fx *f = *state;
        struct imago_p11 *tok = NULL;
        struct imago_store *st = NULL;
        char uri[128], path[256];
        uint8_t buf[4096];
        size_t len = 0;
        uint8_t *raw;
        size_t raw_len;

        tok_uri(uri, sizeof(uri), "dev0", PIN);
        store_path(f, 0, path, sizeof(path));
        assert_int_equal(imago_p11_open(TOK_MODULE, uri, NULL, &tok), IMAGO_OK);
        assert_int_equal(imago_store_open(path, tok, imago_store_posix_ops(), &st), IMAGO_OK);
        assert_int_equal(imago_store_get(st, IMAGO_REC_DEVICE_ID, NULL, buf, sizeof(buf), &len),
                         IMAGO_OK);
        assert_int_equal(len, IMAGO_DEVICE_ID_LEN);
        assert_memory_equal(buf, f->res[0].id, len);
        assert_int_equal(
            imago_store_get(st, IMAGO_REC_SETUP_CODE_HASH, NULL, buf, sizeof(buf) - 1, &len),
            IMAGO_OK);
        buf[len] = 0;
        assert_null(strstr((char *)buf, f->res[0].setup_code));
        assert_int_equal(imago_setup_code_check(f->res[0].setup_code, (char *)buf), IMAGO_OK);
        assert_int_equal(imago_setup_code_check(f->res[1].setup_code, (char *)buf), IMAGO_EPERM);
        assert_int_equal(imago_store_get(st, IMAGO_REC_BIRTH_CERT, NULL, buf, sizeof(buf), &len),
                         IMAGO_OK);
        assert_int_equal(len, f->m.devices[0].cert_len);
        assert_memory_equal(buf, f->m.devices[0].cert_der, len);
        imago_store_close(st);
        imago_p11_close(tok);
        /* And the raw partition shows neither the code nor the id in clear. */
        assert_int_equal(imago_file_read(path, 1 << 20, &raw, &raw_len), IMAGO_OK);
        assert_null(memmem(raw, raw_len, f->res[0].setup_code, IMAGO_SETUP_CODE_LEN));
        assert_null(memmem(raw, raw_len, f->res[0].id, IMAGO_DEVICE_ID_LEN));
        imago_file_free(raw, raw_len);
}

static void test_token_provisioned_twice_refused(void **state)
{
        struct fx *f = *state;
        struct imago_factory_result res;

        assert_int_equal(provision(f, 0, &res), IMAGO_EEXIST);
        assert_int_equal(f->m.count, DEVICES);
}

static void load_ca_certs(struct fx *f, X509 **root, X509 **factory)
{
        char path[300];

        snprintf(path, sizeof(path), "%s/root.crt", f->ca_dir);
        assert_int_equal(imago_pki_cert_load(path, root), IMAGO_OK);
        snprintf(path, sizeof(path), "%s/factory.crt", f->ca_dir);
        assert_int_equal(imago_pki_cert_load(path, factory), IMAGO_OK);
}

static void test_manifest_signed_round_trip(void **state)
{
        struct fx *f = *state;
        struct imago_manifest back;
        char *text = NULL;
        size_t len = 0, sig_len = 0;
        uint8_t *sig = NULL;
        X509 *root, *factory;

        load_ca_certs(f, &root, &factory);
        assert_int_equal(imago_manifest_write(&f->m, &text, &len), IMAGO_OK);
        assert_int_equal(imago_manifest_sign((uint8_t *)text, len, &f->factory, &sig, &sig_len),
                         IMAGO_OK);
        assert_int_equal(imago_manifest_parse((uint8_t *)text, len, &back), IMAGO_OK);
        assert_int_equal(back.count, DEVICES);
        assert_int_equal(
            imago_manifest_verify((uint8_t *)text, len, sig, sig_len, &back, factory, root),
            IMAGO_OK);
        /* One changed byte anywhere breaks the signature. */
        text[len / 2] ^= 1;
        assert_int_equal(
            imago_manifest_verify((uint8_t *)text, len, sig, sig_len, &back, factory, root),
            IMAGO_EMANIFEST_SIG);
        text[len / 2] ^= 1;
        /* A signature by the factory CA cannot vouch for a certificate it did not issue. */
        memcpy(back.devices[1].id, back.devices[0].id, IMAGO_DEVICE_ID_LEN);
        assert_int_equal(
            imago_manifest_verify((uint8_t *)text, len, sig, sig_len, &back, factory, root),
            IMAGO_EMANIFEST_DEVICE);
        /* Signed by another CA (here: the root itself is no factory signer). */
        assert_int_equal(
            imago_manifest_verify((uint8_t *)text, len, sig, sig_len, &back, root, factory),
            IMAGO_EMANIFEST_SIG);
        imago_manifest_free(&back);
        free(text);
        free(sig);
        X509_free(root);
        X509_free(factory);
}

static void test_setup_code_format(void **state)
{
        static const uint8_t raw[7] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        char code[IMAGO_SETUP_CODE_LEN + 1], hash[IMAGO_SETUP_HASH_MAX + 1];

        (void)state;
        assert_int_equal(imago_setup_code_format(raw, code), IMAGO_OK);
        assert_string_equal(code, "ZZZZZ-ZZZZZ");
        assert_int_equal(imago_setup_code_hash("0ABCD-EFGH1", hash), IMAGO_OK);
        /* People type codes loosely: case, spaces, I/L/O. */
        assert_int_equal(imago_setup_code_check("oabcd efghl", hash), IMAGO_OK);
        assert_int_equal(imago_setup_code_check("0ABCD-EFGH2", hash), IMAGO_EPERM);
        assert_int_equal(imago_setup_code_check("0ABCD", hash), IMAGO_EPERM);
        assert_int_equal(imago_setup_code_hash("0ABCD-EFGU1", hash), IMAGO_EINVAL);
        /* A forged stored hash cannot ask for huge scrypt work. */
        assert_int_equal(imago_setup_code_check("0ABCD-EFGH1", "scrypt$1073741824$8$1$00$00"),
                         IMAGO_EMALFORMED);
        assert_int_equal(imago_setup_code_check("0ABCD-EFGH1", "md5$x"), IMAGO_EMALFORMED);
}

static void manifest_case(const char *file, const uint8_t *data, size_t len, int want, void *arg)
{
        struct imago_manifest m;
        int got = imago_manifest_parse(data, len, &m);

        (void)arg;
        if (got != want)
                fail_msg("%s: expected %s, got %s", file, imago_errname(want), imago_errname(got));
        imago_manifest_free(&m);
}

static void test_manifest_vectors(void **state)
{
        (void)state;
        assert_true(test_vec_each(IMAGO_SOURCE_DIR "/tests/vectors/manifest", ".json",
                                  manifest_case, NULL) >= 20);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_batch_devices_are_unique),
            cmocka_unit_test(test_store_holds_identity_not_setup_code),
            cmocka_unit_test(test_token_provisioned_twice_refused),
            cmocka_unit_test(test_manifest_signed_round_trip),
            cmocka_unit_test(test_setup_code_format),
            cmocka_unit_test(test_manifest_vectors),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
