/*
 * imago_dev over a real imago_link (not connected: no broker here): the dev
 * takes the link's device id, registers its four handlers on the link, and
 * while the link is not online nothing it publishes goes out (the link says
 * IMAGO_ESTATE) without harm; a link without room for the handlers makes
 * imago_dev_new fail.  The connected paths run in the agent's end-to-end tests.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "base/err.h"
#include "crypto/keys.h"
#include "device/app/dev.h"
#include "device/link/link.h"
#include "pki/pki.h"

#define PASS "dev link test passphrase"

static char dir[64];
static struct imago_pki_ca factory;
static struct imago_privkey key;
static struct imago_pubkey pub;
static char id[IMAGO_DEVICE_ID_LEN + 1];
static char *birth;
static struct imago_identity *ident;

static void noop(void *arg, const char *topic, const uint8_t *p, size_t n)
{
        (void)arg;
        (void)topic;
        (void)p;
        (void)n;
}

static json_t *get_empty(void *arg)
{
        (void)arg;
        return json_object();
}

static char *birth_pem(void)
{
        struct imago_pki_request req;
        X509 *x = NULL;
        BIO *b = BIO_new(BIO_s_mem());
        char *p, *out;
        long n;

        memset(&req, 0, sizeof(req));
        req.profile = IMAGO_PKI_BIRTH;
        req.common_name = id;
        req.pub = &pub;
        assert_int_equal(imago_pki_issue(&factory, &req, &x), IMAGO_OK);
        assert_non_null(b);
        assert_int_equal(PEM_write_bio_X509(b, x), 1);
        n = BIO_get_mem_data(b, &p);
        out = malloc((size_t)n + 1);
        assert_non_null(out);
        memcpy(out, p, (size_t)n);
        out[n] = '\0';
        BIO_free(b);
        X509_free(x);
        return out;
}

static int setup(void **state)
{
        struct imago_pki_init_opts o;
        struct imago_identity_config ic = {.backend = IMAGO_IDENTITY_FILE};
        char ca[128], kp[128];

        (void)state;
        snprintf(dir, sizeof(dir), "/tmp/imago-test-dev-link-XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(ca, sizeof(ca), "%s/ca", dir);
        memset(&o, 0, sizeof(o));
        o.root_passphrase = PASS;
        o.dir = ca;
        assert_int_equal(imago_pki_init(&o), IMAGO_OK);
        assert_int_equal(imago_pki_ca_load(ca, IMAGO_PKI_FACTORY, PASS, &factory), IMAGO_OK);
        assert_int_equal(imago_privkey_generate(IMAGO_KEY_P256, &key), IMAGO_OK);
        assert_int_equal(imago_privkey_public(&key, &pub), IMAGO_OK);
        assert_int_equal(imago_pki_device_id(&pub, id), IMAGO_OK);
        snprintf(kp, sizeof(kp), "%s/dev.key", dir);
        assert_int_equal(imago_privkey_save(&key, kp, NULL), IMAGO_OK);
        ic.key_path = kp;
        assert_int_equal(imago_identity_open(&ic, &ident), IMAGO_OK);
        birth = birth_pem();
        return 0;
}

static int teardown(void **state)
{
        char cmd[128];

        (void)state;
        imago_identity_close(ident);
        imago_pki_ca_free(&factory);
        imago_privkey_free(&key);
        free(birth);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static struct imago_link *new_link(struct event_base *base)
{
        static char ca[200], rootp[200];
        struct imago_link_config c;
        struct imago_link *l = NULL;

        memset(&c, 0, sizeof(c));
        snprintf(ca, sizeof(ca), "%s/ca/%s", dir, imago_pki_cert_file(IMAGO_PKI_SERVER_CA));
        snprintf(rootp, sizeof(rootp), "%s/ca/%s", dir, imago_pki_cert_file(IMAGO_PKI_ROOT));
        c.identity = ident;
        c.host = "127.0.0.1";
        c.port = 1;
        c.ca_path = ca;
        c.server_name = "localhost";
        c.root_path = rootp;
        c.birth_pem = birth;
        assert_int_equal(imago_link_new(base, &c, NULL, &l), IMAGO_OK);
        return l;
}

static void done_cb(void *arg, int result)
{
        (void)result;
        (*(int *)arg)++;
}

static void dev_on_a_link_not_online(void **state)
{
        struct event_base *base = event_base_new();
        struct imago_link *l;
        struct imago_dev_config c;
        struct imago_dev *d = NULL;
        char suffix[16];
        int done = 0;

        (void)state;
        assert_non_null(base);
        l = new_link(base);
        memset(&c, 0, sizeof(c));
        c.link = l;
        c.base = base;
        assert_int_equal(imago_dev_new(&c, &d), IMAGO_OK);
        /* its four handlers are on the link: 12 of the link's 16 places are left */
        for (int i = 0; i < 12; i++) {
                snprintf(suffix, sizeof(suffix), "x%d", i);
                assert_int_equal(imago_link_handle(l, suffix, noop, NULL), IMAGO_OK);
        }
        assert_int_equal(imago_link_handle(l, "x12", noop, NULL), IMAGO_ETOOBIG);
        /* not online: reports and the registration wait, nothing breaks */
        assert_int_equal(imago_dev_state_field(d, "f", get_empty, NULL, NULL), IMAGO_OK);
        imago_dev_online(d);
        assert_int_equal(imago_dev_register(d, "a.b.c", done_cb, &done), IMAGO_OK);
        imago_dev_tick(d);
        assert_int_equal(imago_dev_state_changed(d, "f"), IMAGO_OK);
        assert_int_equal(done, 0);
        /* the order of release: the link (which holds the dev as its handlers' argument) first */
        imago_link_free(l);
        imago_dev_free(d);
        event_base_free(base);
}

static void dev_new_fails_without_room_on_the_link(void **state)
{
        struct event_base *base = event_base_new();
        struct imago_link *l;
        struct imago_dev_config c;
        struct imago_dev *d = (struct imago_dev *)1;
        char suffix[16];

        (void)state;
        assert_non_null(base);
        l = new_link(base);
        for (int i = 0; i < 14; i++) {
                snprintf(suffix, sizeof(suffix), "x%d", i);
                assert_int_equal(imago_link_handle(l, suffix, noop, NULL), IMAGO_OK);
        }
        memset(&c, 0, sizeof(c));
        c.link = l;
        assert_int_equal(imago_dev_new(&c, &d), IMAGO_ETOOBIG);
        assert_null(d);
        imago_link_free(l);
        event_base_free(base);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(dev_on_a_link_not_online),
            cmocka_unit_test(dev_new_fails_without_room_on_the_link),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
