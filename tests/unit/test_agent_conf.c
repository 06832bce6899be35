/*
 * imago-agent's configuration parser against the vectors in
 * tests/vectors/agent/ (first line "# expect: IMAGO_E..." names the expected
 * result), plus the values of a full valid file and that a failed parse
 * leaves nothing allocated (ASan build).
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"

#include "device/agent/agent.h"

#define VEC_DIR IMAGO_SOURCE_DIR "/tests/vectors/agent"

static int expected(const uint8_t *buf, size_t len, int *want)
{
        char name[64];
        size_t i = 0;
        const char *p = "# expect: ";

        if (len < strlen(p) || memcmp(buf, p, strlen(p)) != 0)
                return -1;
        for (size_t j = strlen(p); j < len && buf[j] != '\n' && i + 1 < sizeof(name); j++)
                name[i++] = (char)buf[j];
        name[i] = '\0';
        return imago_err_from_name(name, want) == IMAGO_OK ? 0 : -1;
}

static void test_vectors(void **state)
{
        DIR *d = opendir(VEC_DIR);
        struct dirent *e;
        int n = 0;

        (void)state;
        assert_non_null(d);
        while ((e = readdir(d)) != NULL) {
                char path[512], err[200];
                uint8_t *buf = NULL;
                size_t len = 0;
                struct imago_agent_conf c;
                int want = 0, got;

                if (strstr(e->d_name, ".conf") == NULL)
                        continue;
                snprintf(path, sizeof(path), "%s/%s", VEC_DIR, e->d_name);
                assert_int_equal(imago_file_read(path, 1 << 20, &buf, &len), IMAGO_OK);
                assert_int_equal(expected(buf, len, &want), 0);
                got = imago_agent_conf_parse((const char *)buf, len, &c, err, sizeof(err));
                if (got != want)
                        fail_msg("%s: expected %s, got %s (%s)", e->d_name, imago_errname(want),
                                 imago_errname(got), err);
                if (got != IMAGO_OK) {
                        assert_true(err[0] != '\0');
                        assert_null(c.token);
                } else {
                        imago_agent_conf_free(&c);
                }
                free(buf);
                n++;
        }
        closedir(d);
        assert_true(n >= 20);
}

static void test_full_values(void **state)
{
        static const char text[] = "mode = development\n"
                                   "token = pkcs11:token=a\n"
                                   "key_file = /k.pem\n"
                                   "store = /s\n"
                                   "host = 127.0.0.1\n"
                                   "port = 8883\n"
                                   "ca = /ca.crt\n"
                                   "root_ca = /root.crt\n"
                                   "server_name = localhost\n"
                                   "keepalive = 3600\n"
                                   "backoff_max = 1\n";
        struct imago_agent_conf c;
        char err[100];

        (void)state;
        assert_int_equal(imago_agent_conf_parse(text, strlen(text), &c, err, sizeof(err)),
                         IMAGO_OK);
        assert_int_equal(c.production, 0);
        assert_string_equal(c.key_file, "/k.pem");
        assert_string_equal(c.module, IMAGO_AGENT_DEFAULT_MODULE);
        assert_int_equal(c.port, 8883);
        assert_int_equal(c.keepalive, 3600);
        assert_int_equal(c.backoff_max, 1);
        assert_null(c.pin_file);
        assert_null(c.ota_dir);
        assert_int_equal(c.health_timeout, 60);
        assert_int_equal(c.ota_interval, 3600);
        imago_agent_conf_free(&c);
        /* production is the default */
        assert_int_equal(imago_agent_conf_parse(text + strlen("mode = development\n"),
                                                strlen(text) - strlen("mode = development\n"), &c,
                                                err, sizeof(err)),
                         IMAGO_OK);
        assert_int_equal(c.production, 1);
        imago_agent_conf_free(&c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_vectors),
            cmocka_unit_test(test_full_values),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
