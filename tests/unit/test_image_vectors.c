/*
 * Runs every image test vector in tests/vectors/image: <case>.bin is
 * verified against the keyring {key-ed25519.pub.pem, key-p256.pub.pem} and
 * must give the IMAGO_E* code named in <case>.expect.  The vectors are data
 * (see gen_vectors.py there), so a new attack is a new file, not new code.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <dirent.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/file.h"
#include "crypto/keys.h"
#include "image/image.h"
#include "image/image_dump.h"

#define VEC_DIR IMAGO_SOURCE_DIR "/tests/vectors/image"

static int run_vector(const char *name, const struct imago_image_keyring *kr)
{
        char path[1024], expect_name[64];
        uint8_t *bin = NULL, *exp = NULL;
        size_t bin_len = 0, exp_len = 0, n;
        struct imago_image_src src;
        struct imago_image_mem mem;
        struct imago_image_info info;
        struct imago_image_dump d;
        int want, got;

        snprintf(path, sizeof(path), "%s/%s.expect", VEC_DIR, name);
        assert_int_equal(imago_file_read(path, 256, &exp, &exp_len), IMAGO_OK);
        for (n = 0; n < exp_len && n + 1 < sizeof(expect_name) && exp[n] != '\n'; n++)
                expect_name[n] = (char)exp[n];
        expect_name[n] = '\0';
        imago_file_free(exp, exp_len);
        if (imago_err_from_name(expect_name, &want) != IMAGO_OK)
                fail_msg("%s: unknown error name '%s'", name, expect_name);

        snprintf(path, sizeof(path), "%s/%s.bin", VEC_DIR, name);
        assert_int_equal(imago_file_read(path, 1 << 20, &bin, &bin_len), IMAGO_OK);
        imago_image_src_mem(&src, &mem, bin, bin_len);
        got = imago_image_verify(&src, kr, &info);
        /* the inspector must survive every vector too */
        assert_int_equal(imago_image_dump(bin, bin_len, &d), IMAGO_OK);
        imago_file_free(bin, bin_len);
        if (got != want) {
                print_error("vector %s: expected %s, got %s\n", name, imago_errname(want),
                            imago_errname(got));
                return 1;
        }
        return 0;
}

static void test_all_vectors(void **state)
{
        struct imago_pubkey keys[2];
        struct imago_image_keyring kr = {keys, 2};
        struct dirent *e;
        DIR *dir;
        char name[256];
        int count = 0, failed = 0, ok = 0;
        size_t len;

        (void)state;
        assert_int_equal(imago_pubkey_load(VEC_DIR "/key-ed25519.pub.pem", &keys[0]), IMAGO_OK);
        assert_int_equal(imago_pubkey_load(VEC_DIR "/key-p256.pub.pem", &keys[1]), IMAGO_OK);
        assert_int_equal(keys[0].type, IMAGO_KEY_ED25519);
        assert_int_equal(keys[1].type, IMAGO_KEY_P256);
        dir = opendir(VEC_DIR);
        assert_non_null(dir);
        while ((e = readdir(dir)) != NULL) {
                len = strlen(e->d_name);
                if (len <= 7 || len - 7 >= sizeof(name) || strcmp(e->d_name + len - 7, ".expect"))
                        continue;
                memcpy(name, e->d_name, len - 7);
                name[len - 7] = '\0';
                failed += run_vector(name, &kr);
                count++;
                ok += strncmp(name, "valid-", 6) == 0;
        }
        closedir(dir);
        print_message("%d vectors (%d valid), %d failed\n", count, ok, failed);
        assert_true(count >= 30);
        assert_true(ok >= 3);
        assert_int_equal(failed, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_all_vectors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
