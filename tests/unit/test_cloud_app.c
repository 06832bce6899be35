/*
 * imago-cloud's app side (src/cloud/svc_app.c, datadir_app.c) in-process, without a broker:
 * init makes the app files with their modes and encryption; the service starts the API on an
 * ephemeral port with the keys decrypted; a port in use, a wrong passphrase and a data
 * directory from before the app API are refused (and stop is safe after a failed start);
 * only the three device topics go to the devsvc.  Keys are generated here; none is committed.
 */
#define _DEFAULT_SOURCE
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
#include <event2/event.h>
#include "base/err.h"
#include "cloud/datadir.h"
#include "cloud/svc_priv.h"
#include "pki/pki.h"

#define PASS  "root pass"
#define CLOUD "cloud pass"

struct fixture {
        char tmp[64];
        char ca[96];
        char data[96];
};

static int setup(void **state)
{
        static struct fixture f;
        struct imago_pki_init_opts p;
        struct imago_cloud_init_opts o;

        memset(&f, 0, sizeof(f));
        snprintf(f.tmp, sizeof(f.tmp), "/tmp/imago-app-XXXXXX");
        if (mkdtemp(f.tmp) == NULL)
                return -1;
        snprintf(f.ca, sizeof(f.ca), "%s/ca", f.tmp);
        snprintf(f.data, sizeof(f.data), "%s/data", f.tmp);
        if (mkdir(f.ca, 0700) != 0)
                return -1;
        memset(&p, 0, sizeof(p));
        p.dir = f.ca;
        p.root_passphrase = PASS;
        p.cloud_passphrase = CLOUD;
        if (imago_pki_init(&p) != IMAGO_OK)
                return -1;
        memset(&o, 0, sizeof(o));
        o.data_dir = f.data;
        o.ca_dir = f.ca;
        o.cloud_passphrase = CLOUD;
        if (imago_cloud_datadir_init(&o) != IMAGO_OK)
                return -1;
        *state = &f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->tmp);
        return system(cmd) == 0 ? 0 : -1;
}

static mode_t mode_of(const struct fixture *f, const char *rel)
{
        char path[256];
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s", f->data, rel);
        assert_int_equal(stat(path, &st), 0);
        return st.st_mode & 07777;
}

static int file_starts(const struct fixture *f, const char *rel, const char *prefix)
{
        char path[256], buf[64] = "";
        FILE *fp;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s", f->data, rel);
        fp = fopen(path, "r");
        assert_non_null(fp);
        n = fread(buf, 1, sizeof(buf) - 1, fp);
        fclose(fp);
        buf[n] = '\0';
        return strncmp(buf, prefix, strlen(prefix)) == 0;
}

static void test_init_makes_the_app_files(void **state)
{
        static const char *const secret[] = {IMAGO_CLOUD_F_API_KEY, IMAGO_CLOUD_F_CMD_KEY,
                                             IMAGO_CLOUD_F_REGTOKEN_KEY};
        struct fixture *f = *state;
        const char *missing = "x";
        size_t i;

        assert_int_equal(imago_cloud_datadir_check_app(f->data, &missing), IMAGO_OK);
        assert_null(missing);
        assert_int_equal(mode_of(f, IMAGO_CLOUD_D_API), 0700);
        assert_int_equal(mode_of(f, IMAGO_CLOUD_D_KEYS), 0700);
        assert_int_equal(mode_of(f, IMAGO_CLOUD_F_API_CRT), 0644);
        assert_int_equal(mode_of(f, IMAGO_CLOUD_F_CMD_PUB), 0644);
        assert_int_equal(mode_of(f, IMAGO_CLOUD_F_APPDB), 0600);
        assert_int_equal(mode_of(f, IMAGO_CLOUD_F_AUDIT), 0600);
        /* every key the service reads is encrypted at rest */
        for (i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
                assert_int_equal(mode_of(f, secret[i]), 0600);
                assert_true(file_starts(f, secret[i],
                                        "-----BEGIN ENCRYPTED "
                                        "PRIVATE KEY-----"));
        }
        assert_true(file_starts(f, IMAGO_CLOUD_F_CMD_PUB, "-----BEGIN PUBLIC KEY-----"));
}

/* A service struct as imago_svc_run's setup makes it, with an ephemeral API port. */
static void svc_open(const struct fixture *f, struct imago_svc *s)
{
        memset(s, 0, sizeof(*s));
        s->sock = -1;
        snprintf(s->dir, sizeof(s->dir), "%s", f->data);
        assert_int_equal(imago_cloud_datadir_config(s->dir, &s->cfg, NULL), IMAGO_OK);
        assert_int_equal(imago_registry_open_existing(s->cfg.registry, &s->reg), IMAGO_OK);
        assert_non_null(s->base = event_base_new());
        s->cfg.api_port = 0;
}

static void svc_close(struct imago_svc *s)
{
        imago_svc_app_stop(s);
        assert_null(s->app);
        event_base_free(s->base);
        imago_registry_close(s->reg);
}

static void test_app_starts_and_stops(void **state)
{
        struct fixture *f = *state;
        struct imago_svc s;

        svc_open(f, &s);
        assert_int_equal(imago_svc_app_check(&s), IMAGO_OK);
        assert_int_equal(imago_svc_app_start(&s, CLOUD), IMAGO_OK);
        assert_non_null(s.app);
        /* a message before any MQTT session: handed to the devsvc, dropped, no crash */
        imago_svc_app_message(&s, "imago/v1/d/00112233445566778899aabbccddeeff/state/rep", "{}", 2);
        imago_svc_app_message(&s, "imago/v1/d/00112233445566778899aabbccddeeff/reg/req", "\xff", 1);
        svc_close(&s);
        /* stop twice is harmless */
        imago_svc_app_stop(&s);
}

static void test_wrong_passphrase_refused(void **state)
{
        struct fixture *f = *state;
        struct imago_svc s;

        svc_open(f, &s);
        assert_int_equal(imago_svc_app_start(&s, "not the cloud passphrase"),
                         IMAGO_EKEY_PASSPHRASE);
        svc_close(&s);
        svc_open(f, &s);
        assert_int_equal(imago_svc_app_start(&s, NULL), IMAGO_EKEY_PASSPHRASE);
        svc_close(&s);
}

static void test_data_dir_from_before_the_app_api_refused(void **state)
{
        struct fixture *f = *state;
        char from[256], to[256];
        const char *missing = NULL;
        struct imago_svc s;

        snprintf(from, sizeof(from), "%s/%s", f->data, IMAGO_CLOUD_F_REGTOKEN_KEY);
        snprintf(to, sizeof(to), "%s/regtoken.key.away", f->tmp);
        assert_int_equal(rename(from, to), 0);
        assert_int_equal(imago_cloud_datadir_check_app(f->data, &missing), IMAGO_ENOTFOUND);
        assert_string_equal(missing, IMAGO_CLOUD_F_REGTOKEN_KEY);
        svc_open(f, &s);
        assert_int_equal(imago_svc_app_check(&s), IMAGO_ENOTFOUND);
        /* and if started anyway, the key load fails cleanly */
        assert_int_not_equal(imago_svc_app_start(&s, CLOUD), IMAGO_OK);
        svc_close(&s);
        assert_int_equal(rename(to, from), 0);
        assert_int_equal(imago_cloud_datadir_check_app(f->data, NULL), IMAGO_OK);
}

static void test_api_port_in_use_refused(void **state)
{
        struct fixture *f = *state;
        struct imago_svc a, b;

        svc_open(f, &a);
        assert_int_equal(imago_svc_app_start(&a, CLOUD), IMAGO_OK);
        assert_int_not_equal(imago_svc_app_port(&a), 0);
        svc_open(f, &b);
        b.cfg.api_port = imago_svc_app_port(&a);
        assert_int_equal(imago_svc_app_start(&b, CLOUD), IMAGO_EIO);
        assert_int_equal(imago_svc_app_port(&b), 0);
        svc_close(&b);
        svc_close(&a);
}

static void test_only_device_topics_go_to_the_devsvc(void **state)
{
        static const char *const yes[] = {
            "imago/v1/d/00112233445566778899aabbccddeeff/reg/req",
            "imago/v1/d/00112233445566778899aabbccddeeff/state/rep",
            "imago/v1/d/00112233445566778899aabbccddeeff/cmd/res",
        };
        static const char *const no[] = {
            "imago/v1/d/00112233445566778899aabbccddeeff/rot/req",
            "imago/v1/d/00112233445566778899aabbccddeeff/reg/resp",
            "imago/v1/d/00112233445566778899aabbccddeeff/state/rep/x",
            "imago/v1/d/0011223344556677/state/rep",
            "imago/v1/d/00112233445566778899aabbccddee/x/state/rep",
            "imago/v1/d//state/rep",
            "imago/v1/prov/00112233445566778899aabbccddeeff/req",
            "imago/v1/svc/seen",
            "imago/v2/d/00112233445566778899aabbccddeeff/state/rep",
            "",
        };
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
                assert_true(imago_svc_app_topic(yes[i]));
        for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
                assert_false(imago_svc_app_topic(no[i]));
        assert_false(imago_svc_app_topic(NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_init_makes_the_app_files),
            cmocka_unit_test(test_app_starts_and_stops),
            cmocka_unit_test(test_wrong_passphrase_refused),
            cmocka_unit_test(test_data_dir_from_before_the_app_api_refused),
            cmocka_unit_test(test_api_port_in_use_refused),
            cmocka_unit_test(test_only_device_topics_go_to_the_devsvc),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
