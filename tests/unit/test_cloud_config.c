/* Unit tests of src/cloud/config: defaults, every key, and the negative vectors. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/file.h"
#include "cloud/config.h"
#include "cloud/datadir.h"

#define VEC IMAGO_SOURCE_DIR "/tests/vectors/cloud_config/"

static int parse_str(const char *s, struct imago_cloud_config *c, unsigned *line)
{
        return imago_cloud_config_parse((const uint8_t *)s, strlen(s), c, line);
}

static void test_defaults_are_safe(void **state)
{
        struct imago_cloud_config c;
        unsigned line = 9;

        (void)state;
        assert_int_equal(parse_str("", &c, &line), 0);
        assert_int_equal(line, 0);
        assert_string_equal(c.data_dir, "/var/lib/imago-cloud");
        assert_string_equal(c.registry, "sqlite:/var/lib/imago-cloud/registry.db");
        assert_string_equal(c.mqtt_host, "127.0.0.1");
        assert_int_equal(c.mqtt_port, 8883);
        assert_string_equal(c.http_host, "127.0.0.1");
        assert_int_equal(c.http_port, 8884);
        assert_string_equal(c.service_cn, "imago-cloud");
        assert_int_equal(c.cert_days, 90);
        assert_int_equal(c.enrol_key_policy, IMAGO_CLOUD_SAME_KEY);
        assert_int_equal(c.log_level, IMAGO_LOG_INFO);
        assert_string_equal(c.mosquitto_path, "/usr/sbin/mosquitto");
        assert_string_equal(c.plugin_path, "/usr/lib/imago/imago_broker.so");
        /* the app API listens on loopback unless the operator says otherwise */
        assert_string_equal(c.api_host, "127.0.0.1");
        assert_int_equal(c.api_port, 8443);
        assert_int_equal(c.api_signup, 1);
}

static void test_registry_follows_data_dir(void **state)
{
        struct imago_cloud_config c;

        (void)state;
        assert_int_equal(parse_str("data_dir = /srv/x\n", &c, NULL), 0);
        assert_string_equal(c.registry, "sqlite:/srv/x/registry.db");
}

static void test_every_key_parsed(void **state)
{
        struct imago_cloud_config c;
        uint8_t *buf = NULL;
        size_t len = 0;
        unsigned line = 7;

        (void)state;
        assert_int_equal(imago_file_read(VEC "good_full.conf", 65536, &buf, &len), 0);
        assert_int_equal(imago_cloud_config_parse(buf, len, &c, &line), 0);
        imago_file_free(buf, len);
        assert_int_equal(line, 0);
        assert_string_equal(c.data_dir, "/srv/imago");
        assert_string_equal(c.registry, "sqlite:/srv/imago/reg.db");
        assert_string_equal(c.mqtt_host, "::1");
        assert_int_equal(c.mqtt_port, 18883);
        assert_string_equal(c.http_host, "localhost");
        assert_int_equal(c.http_port, 18884);
        assert_string_equal(c.service_cn, "fleet-svc.1");
        assert_int_equal(c.cert_days, 825);
        assert_int_equal(c.enrol_key_policy, IMAGO_CLOUD_NEW_KEY);
        assert_int_equal(c.log_level, IMAGO_LOG_DEBUG);
        assert_string_equal(c.mosquitto_path, "/opt/mosquitto/sbin/mosquitto");
        assert_string_equal(c.plugin_path, "/opt/imago/lib/imago_broker.so");
        assert_string_equal(c.api_host, "::1");
        assert_int_equal(c.api_port, 9443);
        assert_int_equal(c.api_signup, 0);
}

static void test_format_round_trips(void **state)
{
        struct imago_cloud_config a, b;
        char *text = NULL;
        size_t len = 0;

        (void)state;
        assert_int_equal(parse_str("data_dir = /d\nregistry = postgres:host=db dbname=imago\n"
                                   "mqtt_port = 1\nenrol_key_policy = new-key\nlog_level = warn\n"
                                   "api_host = api.example\napi_port = 443\napi_signup = off\n",
                                   &a, NULL),
                         0);
        assert_int_equal(imago_cloud_config_format(&a, &text, &len), 0);
        assert_int_equal(strlen(text), len);
        assert_int_equal(imago_cloud_config_parse((const uint8_t *)text, len, &b, NULL), 0);
        assert_memory_equal(&a, &b, sizeof(a));
        free(text);
}

static void test_failed_parse_leaves_config_untouched(void **state)
{
        struct imago_cloud_config c;
        unsigned line = 0;

        (void)state;
        memset(&c, 0x5a, sizeof(c));
        assert_int_equal(parse_str("mqtt_port = 1\nnope = 2\n", &c, &line), IMAGO_ECONF_KEY);
        assert_int_equal(line, 2);
        assert_int_equal(((unsigned char *)&c)[0], 0x5a);
        assert_int_equal(c.mqtt_port, 0x5a5a);
}

static void test_last_line_without_newline(void **state)
{
        struct imago_cloud_config c;

        (void)state;
        assert_int_equal(parse_str("# c\n  \n\tmqtt_port=2", &c, NULL), 0);
        assert_int_equal(c.mqtt_port, 2);
}

static void test_oversized_file_refused(void **state)
{
        struct imago_cloud_config c;
        size_t n = IMAGO_CLOUD_CONF_MAX + 1;
        uint8_t *buf = malloc(n);

        (void)state;
        assert_non_null(buf);
        memset(buf, '\n', n);
        assert_int_equal(imago_cloud_config_parse(buf, n, &c, NULL), IMAGO_ETOOBIG);
        free(buf);
}

static void test_setter_checks_like_the_parser(void **state)
{
        struct imago_cloud_config c;

        (void)state;
        imago_cloud_config_defaults(&c);
        assert_int_equal(imago_cloud_config_set(&c, "mqtt_port", "1883"), 0);
        assert_int_equal(c.mqtt_port, 1883);
        assert_int_equal(imago_cloud_config_set(&c, "mqtt_port", "1883x"), IMAGO_ECONF_VALUE);
        assert_int_equal(imago_cloud_config_set(&c, "plugin_path", "/a b"), IMAGO_ECONF_VALUE);
        assert_int_equal(imago_cloud_config_set(&c, "nope", "1"), IMAGO_ECONF_KEY);
        assert_int_equal(c.mqtt_port, 1883);
        assert_int_equal(imago_cloud_config_set(&c, "api_port", "9443"), 0);
        assert_int_equal(c.api_port, 9443);
        assert_int_equal(imago_cloud_config_set(&c, "api_signup", "off"), 0);
        assert_int_equal(c.api_signup, 0);
        assert_int_equal(imago_cloud_config_set(&c, "api_signup", "1"), IMAGO_ECONF_VALUE);
        assert_int_equal(imago_cloud_config_set(&c, "api_host", "a b"), IMAGO_ECONF_VALUE);
        assert_int_equal(c.api_signup, 0);
}

static void test_negative_vectors(void **state)
{
        char text[256], file[128], name[64], path[256];
        struct imago_cloud_config c;
        unsigned want_line, line;
        uint8_t *buf = NULL;
        size_t len = 0;
        int want, n = 0;
        FILE *idx;

        (void)state;
        idx = fopen(VEC "index.txt", "r");
        assert_non_null(idx);
        while (fgets(text, sizeof(text), idx) != NULL) {
                if (text[0] == '#' || text[0] == '\n')
                        continue;
                assert_int_equal(sscanf(text, "%127s %63s %u", file, name, &want_line), 3);
                assert_int_equal(imago_err_from_name(name, &want), 0);
                snprintf(path, sizeof(path), VEC "%s", file);
                assert_int_equal(imago_file_read(path, 1 << 20, &buf, &len), 0);
                line = 12345;
                if (imago_cloud_config_parse(buf, len, &c, &line) != want || line != want_line) {
                        print_error("%s: got %d line %u\n", file,
                                    imago_cloud_config_parse(buf, len, &c, &line), line);
                        fail();
                }
                imago_file_free(buf, len);
                n++;
        }
        fclose(idx);
        assert_true(n >= 30);
}

static void test_broker_conf_from_config(void **state)
{
        struct imago_cloud_config c;
        char *text = NULL;
        size_t len = 0;

        (void)state;
        assert_int_equal(parse_str("data_dir = /srv/d\nmqtt_port = 18883\n", &c, NULL), 0);
        assert_int_equal(imago_cloud_datadir_mosquitto_conf(&c, "imago", &text, &len), 0);
        assert_int_equal(strlen(text), len);
        assert_non_null(strstr(text, "\nlistener 18883 127.0.0.1\n"));
        assert_non_null(strstr(text, "\nuser imago\n"));
        assert_non_null(strstr(text, "\nrequire_certificate true\n"));
        assert_non_null(strstr(text, "\nuse_identity_as_username false\n"));
        assert_non_null(strstr(text, "\nplugin_opt_deny_file /srv/d/broker/deny.json\n"));
        assert_non_null(strstr(text, "\nplugin /usr/lib/imago/imago_broker.so\n"));
        free(text);
        /* the one value that does not come from the checked config cannot inject a directive */
        assert_int_equal(
            imago_cloud_datadir_mosquitto_conf(&c, "x\nallow_anonymous true", &text, &len),
            IMAGO_EINVAL);
        assert_int_equal(imago_cloud_datadir_mosquitto_conf(&c, "", &text, &len), IMAGO_EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_defaults_are_safe),
            cmocka_unit_test(test_registry_follows_data_dir),
            cmocka_unit_test(test_every_key_parsed),
            cmocka_unit_test(test_format_round_trips),
            cmocka_unit_test(test_failed_parse_leaves_config_untouched),
            cmocka_unit_test(test_last_line_without_newline),
            cmocka_unit_test(test_oversized_file_refused),
            cmocka_unit_test(test_setter_checks_like_the_parser),
            cmocka_unit_test(test_negative_vectors),
            cmocka_unit_test(test_broker_conf_from_config),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
