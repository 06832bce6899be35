/*
 * Unit tests of key files: passphrases, file modes, no overwrite, and the
 * refusal to load a private key others can read.
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

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "crypto/keys.h"

static char dir[256];

static int setup(void **state)
{
        (void)state;
        snprintf(dir, sizeof(dir), "/tmp/imago-keys-XXXXXX");
        if (mkdtemp(dir) == NULL)
                return -1;
        imago_log_set_level(IMAGO_LOG_ERROR);
        return 0;
}

static int teardown(void **state)
{
        char cmd[512];

        (void)state;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static void path(char *out, size_t n, const char *name)
{
        snprintf(out, n, "%s/%s", dir, name);
}

static void sign_and_check(const struct imago_privkey *k, const struct imago_pubkey *pub)
{
        uint8_t digest[32], sig[IMAGO_SIG_MAX_LEN];
        size_t len = 0;

        memset(digest, 0xab, sizeof(digest));
        assert_int_equal(imago_privkey_sign_digest(k, digest, sig, &len), IMAGO_OK);
        assert_int_equal(imago_sig_verify_digest(pub, digest, sig, len), IMAGO_OK);
        digest[0] ^= 1;
        assert_int_equal(imago_sig_verify_digest(pub, digest, sig, len), IMAGO_EIMG_SIG_BAD);
}

static void save_load(enum imago_key_type type, const char *pass, const char *name)
{
        struct imago_privkey k = {0}, k2 = {0};
        struct imago_pubkey pub, pub2, pub3;
        char p[512], pp[600];
        struct stat st;

        path(p, sizeof(p), name);
        snprintf(pp, sizeof(pp), "%s.pub", p);
        assert_int_equal(imago_privkey_generate(type, &k), IMAGO_OK);
        assert_int_equal(imago_privkey_public(&k, &pub), IMAGO_OK);
        assert_int_equal(imago_privkey_save(&k, p, pass), IMAGO_OK);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(imago_privkey_load(p, pass, &k2), IMAGO_OK);
        assert_int_equal(k2.type, type);
        assert_int_equal(imago_privkey_public(&k2, &pub2), IMAGO_OK);
        assert_memory_equal(pub.spki, pub2.spki, pub.spki_len);
        sign_and_check(&k2, &pub);
        assert_int_equal(imago_pubkey_save(&pub, pp), IMAGO_OK);
        assert_int_equal(imago_pubkey_load(pp, &pub3), IMAGO_OK);
        assert_memory_equal(pub.keyhash, pub3.keyhash, 32);
        /* refuse to overwrite either file */
        assert_int_equal(imago_privkey_save(&k, p, pass), IMAGO_EEXIST);
        assert_int_equal(imago_pubkey_save(&pub, pp), IMAGO_EEXIST);
        imago_privkey_free(&k);
        imago_privkey_free(&k2);
}

static void test_plain_keys_round_trip(void **state)
{
        (void)state;
        save_load(IMAGO_KEY_ED25519, NULL, "ed.pem");
        save_load(IMAGO_KEY_P256, NULL, "ec.pem");
}

static void test_encrypted_keys_round_trip(void **state)
{
        (void)state;
        save_load(IMAGO_KEY_ED25519, "correct horse", "ed-enc.pem");
        save_load(IMAGO_KEY_P256, "correct horse", "ec-enc.pem");
}

static void test_attack_wrong_or_missing_passphrase(void **state)
{
        struct imago_privkey k = {0};
        struct imago_pubkey pub;
        char p[512];
        uint8_t *data = NULL;
        size_t len = 0;

        (void)state;
        path(p, sizeof(p), "enc.pem");
        assert_int_equal(imago_privkey_generate(IMAGO_KEY_ED25519, &k), IMAGO_OK);
        assert_int_equal(imago_privkey_save(&k, p, "s3cret"), IMAGO_OK);
        imago_privkey_free(&k);
        assert_int_equal(imago_privkey_load(p, "wrong", &k), IMAGO_EKEY_PASSPHRASE);
        assert_null(k.impl);
        assert_int_equal(imago_privkey_load(p, NULL, &k), IMAGO_EKEY_PASSPHRASE);
        assert_int_equal(imago_pubkey_load(p, &pub), IMAGO_EKEY_PASSPHRASE);
        /* PBES2 with scrypt, and the passphrase is not in the file */
        assert_int_equal(imago_file_read(p, 65536, &data, &len), IMAGO_OK);
        assert_non_null(strstr((char *)data, "BEGIN ENCRYPTED "
                                             "PRIVATE KEY"));
        for (size_t i = 0; i + 6 <= len; i++)
                assert_false(memcmp(data + i, "s3cret", 6) == 0);
        imago_file_free(data, len);
}

static char logbuf[4096];

static void capture(enum imago_log_level level, const char *line, void *arg)
{
        size_t n = strlen(logbuf);

        (void)level;
        (void)arg;
        snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", line);
}

/* Failed and successful loads never log the passphrase. */
static void test_passphrase_never_logged(void **state)
{
        struct imago_privkey k = {0};
        char p[512];

        (void)state;
        path(p, sizeof(p), "logged.pem");
        logbuf[0] = '\0';
        imago_log_set_level(IMAGO_LOG_DEBUG);
        imago_log_set_sink(capture, NULL);
        assert_int_equal(imago_privkey_generate(IMAGO_KEY_P256, &k), IMAGO_OK);
        assert_int_equal(imago_privkey_save(&k, p, "hunter2-secret"), IMAGO_OK);
        imago_privkey_free(&k);
        assert_int_equal(imago_privkey_load(p, "hunter3-wrong", &k), IMAGO_EKEY_PASSPHRASE);
        assert_int_equal(chmod(p, 0644), 0);
        assert_int_equal(imago_privkey_load(p, "hunter2-secret", &k), IMAGO_EKEY_PERM);
        assert_int_equal(chmod(p, 0600), 0);
        assert_int_equal(imago_privkey_load(p, "hunter2-secret", &k), IMAGO_OK);
        imago_privkey_free(&k);
        imago_log_set_sink(NULL, NULL);
        imago_log_set_level(IMAGO_LOG_ERROR);
        assert_non_null(strstr(logbuf, "chmod 600")); /* the sink did capture */
        assert_null(strstr(logbuf, "hunter"));
}

static void test_attack_group_readable_private_key(void **state)
{
        struct imago_privkey k = {0};
        char p[512];

        (void)state;
        path(p, sizeof(p), "loose.pem");
        assert_int_equal(imago_privkey_generate(IMAGO_KEY_P256, &k), IMAGO_OK);
        assert_int_equal(imago_privkey_save(&k, p, NULL), IMAGO_OK);
        imago_privkey_free(&k);
        assert_int_equal(chmod(p, 0640), 0);
        assert_int_equal(imago_privkey_load(p, NULL, &k), IMAGO_EKEY_PERM);
        assert_int_equal(chmod(p, 0604), 0);
        assert_int_equal(imago_privkey_load(p, NULL, &k), IMAGO_EKEY_PERM);
        assert_int_equal(chmod(p, 0600), 0);
        assert_int_equal(imago_privkey_load(p, NULL, &k), IMAGO_OK);
        imago_privkey_free(&k);
}

static void test_not_a_key(void **state)
{
        struct imago_privkey k = {0};
        struct imago_pubkey pub;
        char p[512];
        enum imago_key_type t;

        (void)state;
        path(p, sizeof(p), "junk.pem");
        assert_int_equal(imago_file_write_atomic(p, "hello\n", 6, 0600), IMAGO_OK);
        assert_int_equal(imago_privkey_load(p, NULL, &k), IMAGO_EKEY_FORMAT);
        assert_int_equal(imago_pubkey_load(p, &pub), IMAGO_EKEY_FORMAT);
        path(p, sizeof(p), "missing.pem");
        assert_int_equal(imago_privkey_load(p, NULL, &k), IMAGO_ENOTFOUND);
        assert_int_equal(imago_key_type_from_name("ed25519", &t), IMAGO_OK);
        assert_int_equal(t, IMAGO_KEY_ED25519);
        assert_int_equal(imago_key_type_from_name("ecdsa-p256", &t), IMAGO_OK);
        assert_int_equal(t, IMAGO_KEY_P256);
        assert_int_equal(imago_key_type_from_name("rsa", &t), IMAGO_EKEY_TYPE);
        assert_string_equal(imago_key_type_name(IMAGO_KEY_P256), "p256");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_plain_keys_round_trip),
            cmocka_unit_test(test_encrypted_keys_round_trip),
            cmocka_unit_test(test_attack_wrong_or_missing_passphrase),
            cmocka_unit_test(test_attack_group_readable_private_key),
            cmocka_unit_test(test_passphrase_never_logged),
            cmocka_unit_test(test_not_a_key),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
