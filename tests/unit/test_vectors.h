/*
 * Test helper: negative cases as data.  A vector directory holds, for each
 * case, <case><ext> (the input) and <case>.expect (the IMAGO_E* name the
 * code under test must return, on the first line).  test_vec_each() calls
 * fn for every case with the input bytes and the expected code, and returns
 * how many cases it ran.  Include after <cmocka.h>.
 */
#ifndef IMAGO_TEST_VECTORS_H
#define IMAGO_TEST_VECTORS_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"

typedef void (*test_vec_fn)(const char *file, const uint8_t *data, size_t len, int want, void *arg);

static inline int test_vec_each(const char *dir, const char *ext, test_vec_fn fn, void *arg)
{
        size_t el = strlen(ext);
        struct dirent *de;
        DIR *d = opendir(dir);
        int n = 0;

        assert_non_null(d);
        while ((de = readdir(d)) != NULL) {
                size_t nl = strlen(de->d_name), exp_len, len;
                char path[1024], name[128];
                uint8_t *exp, *data;
                int want;

                if (nl <= el || strcmp(de->d_name + nl - el, ext) != 0)
                        continue;
                snprintf(path, sizeof(path), "%s/%.*s.expect", dir, (int)(nl - el), de->d_name);
                assert_int_equal(imago_file_read(path, 256, &exp, &exp_len), IMAGO_OK);
                snprintf(name, sizeof(name), "%.*s", (int)strcspn((char *)exp, "\r\n "),
                         (char *)exp);
                imago_file_free(exp, exp_len);
                if (imago_err_from_name(name, &want) != IMAGO_OK)
                        fail_msg("%s: unknown expected code '%s'", de->d_name, name);
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                assert_int_equal(imago_file_read(path, 1 << 20, &data, &len), IMAGO_OK);
                fn(de->d_name, data, len, want, arg);
                imago_file_free(data, len);
                n++;
        }
        closedir(d);
        return n;
}

#endif
