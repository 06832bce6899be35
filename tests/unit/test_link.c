/*
 * The device link's pure parts: reconnection backoff with full jitter
 * (bounds, growth, cap, reset) and the check of a `cert` answer: a good
 * operational certificate is accepted; one for another device (CN), for
 * another key, from another CA, a birth certificate, a chain that is not the
 * issuer, two certificates where one is expected and garbage are refused,
 * each with its error code.  Rotation timing: a third of the lifetime.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "base/err.h"
#include "crypto/keys.h"
#include "crypto/keys_openssl.h"
#include "device/link/link.h"
#include "pki/pki.h"

#include <event2/event.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#define PASS "link test passphrase"

static char dir[64], ours[128], other[128];
static struct imago_pki_ca issuing, factory, other_issuing;
static X509 *root;
static struct imago_privkey ka, kb;
static struct imago_pubkey pa, pb;
static char ida[IMAGO_DEVICE_ID_LEN + 1], idb[IMAGO_DEVICE_ID_LEN + 1];

static char *pem_of(X509 *x)
{
        BIO *b = BIO_new(BIO_s_mem());
        char *p, *out;
        long n;

        assert_non_null(b);
        assert_int_equal(PEM_write_bio_X509(b, x), 1);
        n = BIO_get_mem_data(b, &p);
        out = malloc((size_t)n + 1);
        assert_non_null(out);
        memcpy(out, p, (size_t)n);
        out[n] = '\0';
        BIO_free(b);
        return out;
}

static char *issue(const struct imago_pki_ca *ca, enum imago_pki_profile prof,
                   const struct imago_pubkey *pub, const char *cn, uint32_t days)
{
        struct imago_pki_request req;
        X509 *x = NULL;
        char *p;

        memset(&req, 0, sizeof(req));
        req.profile = prof;
        req.common_name = cn;
        req.pub = pub;
        req.days = days;
        assert_int_equal(imago_pki_issue(ca, &req, &x), IMAGO_OK);
        p = pem_of(x);
        X509_free(x);
        return p;
}

static int setup(void **state)
{
        struct imago_pki_init_opts o;
        char p[200];

        (void)state;
        snprintf(dir, sizeof(dir), "/tmp/imago-test-link-XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(ours, sizeof(ours), "%s/ca", dir);
        snprintf(other, sizeof(other), "%s/other", dir);
        memset(&o, 0, sizeof(o));
        o.root_passphrase = PASS;
        o.dir = ours;
        assert_int_equal(imago_pki_init(&o), IMAGO_OK);
        o.dir = other;
        assert_int_equal(imago_pki_init(&o), IMAGO_OK);
        assert_int_equal(imago_pki_ca_load(ours, IMAGO_PKI_ISSUING, PASS, &issuing), IMAGO_OK);
        assert_int_equal(imago_pki_ca_load(ours, IMAGO_PKI_FACTORY, PASS, &factory), IMAGO_OK);
        assert_int_equal(imago_pki_ca_load(other, IMAGO_PKI_ISSUING, PASS, &other_issuing),
                         IMAGO_OK);
        snprintf(p, sizeof(p), "%s/%s", ours, imago_pki_cert_file(IMAGO_PKI_ROOT));
        assert_int_equal(imago_pki_cert_load(p, &root), IMAGO_OK);
        assert_int_equal(imago_privkey_generate(IMAGO_KEY_P256, &ka), IMAGO_OK);
        assert_int_equal(imago_privkey_generate(IMAGO_KEY_P256, &kb), IMAGO_OK);
        assert_int_equal(imago_privkey_public(&ka, &pa), IMAGO_OK);
        assert_int_equal(imago_privkey_public(&kb, &pb), IMAGO_OK);
        assert_int_equal(imago_pki_device_id(&pa, ida), IMAGO_OK);
        assert_int_equal(imago_pki_device_id(&pb, idb), IMAGO_OK);
        return 0;
}

static int teardown(void **state)
{
        char cmd[128];

        (void)state;
        imago_pki_ca_free(&issuing);
        imago_pki_ca_free(&factory);
        imago_pki_ca_free(&other_issuing);
        X509_free(root);
        imago_privkey_free(&ka);
        imago_privkey_free(&kb);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_backoff_full_jitter_bounds(void **state)
{
        struct imago_link_backoff b = {.base_ms = 100, .cap_ms = 5000};
        uint32_t expect[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};

        (void)state;
        for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
                assert_int_equal(imago_link_backoff_ceiling(&b, (uint32_t)i), expect[i]);
        /* r = 0 gives 0, r = max gives the ceiling: the whole [0, ceiling] range. */
        for (uint32_t i = 0; i < 9; i++) {
                struct imago_link_backoff c = b;
                uint32_t d;

                c.attempt = i;
                assert_int_equal(imago_link_backoff_next(&c, 0), 0);
                c.attempt = i;
                d = imago_link_backoff_next(&c, UINT32_MAX);
                assert_int_equal(d, expect[i]);
                assert_int_equal(c.attempt, i + 1);
        }
        /* Random draws never exceed the ceiling; reset starts again from base. */
        srand(7);
        b.attempt = 0;
        for (int i = 0; i < 10000; i++) {
                uint32_t ceil = imago_link_backoff_ceiling(&b, b.attempt);
                uint32_t r = ((uint32_t)rand() << 16) ^ (uint32_t)rand();

                assert_true(imago_link_backoff_next(&b, r) <= ceil);
        }
        assert_int_equal(b.attempt, 10000);
        imago_link_backoff_reset(&b);
        assert_true(imago_link_backoff_next(&b, UINT32_MAX) <= 100);
}

static void test_backoff_defaults_and_saturation(void **state)
{
        struct imago_link_backoff b = {0};

        (void)state;
        assert_int_equal(imago_link_backoff_ceiling(&b, 0), 500);
        assert_int_equal(imago_link_backoff_ceiling(&b, 40), 60000);
        assert_int_equal(imago_link_backoff_ceiling(&b, UINT32_MAX), 60000);
        b.attempt = UINT32_MAX;
        assert_true(imago_link_backoff_next(&b, UINT32_MAX) <= 60000);
        assert_int_equal(b.attempt, UINT32_MAX);
        /* base above cap: the cap */
        b.base_ms = 9000;
        b.cap_ms = 1000;
        assert_int_equal(imago_link_backoff_ceiling(&b, 0), 1000);
}

static char *issuing_pem(const struct imago_pki_ca *ca)
{
        return pem_of(ca->cert);
}

static void test_cert_answer_good_accepted(void **state)
{
        char *cert = issue(&issuing, IMAGO_PKI_DEVICE, &pa, ida, 0);
        char *chain = issuing_pem(&issuing);
        X509 *c = NULL, *ch = NULL;

        (void)state;
        assert_int_equal(
            imago_link_cert_check(cert, chain, root, ida, imago_privkey_evp(&ka), 0, &c, &ch),
            IMAGO_OK);
        assert_non_null(c);
        assert_int_equal(X509_cmp(ch, issuing.cert), 0);
        X509_free(c);
        X509_free(ch);
        free(cert);
        free(chain);
}

static void test_cert_answer_for_another_device_refused(void **state)
{
        char *cert = issue(&issuing, IMAGO_PKI_DEVICE, &pa, ida, 0);
        char *chain = issuing_pem(&issuing);
        X509 *c = (X509 *)1;

        (void)state;
        /* Device B receives A's certificate (wrong CN for B). */
        assert_int_equal(
            imago_link_cert_check(cert, chain, root, idb, imago_privkey_evp(&ka), 0, &c, NULL),
            IMAGO_EPKI_NAME);
        assert_null(c);
        free(cert);
        free(chain);
}

static void test_cert_answer_wrong_key_refused(void **state)
{
        char *cert = issue(&issuing, IMAGO_PKI_DEVICE, &pa, ida, 0);
        char *chain = issuing_pem(&issuing);

        (void)state;
        /* Right CN, but the certificate does not carry this device's key. */
        assert_int_equal(
            imago_link_cert_check(cert, chain, root, ida, imago_privkey_evp(&kb), 0, NULL, NULL),
            IMAGO_EKEY_TYPE);
        free(cert);
        free(chain);
}

static void test_cert_answer_other_ca_refused(void **state)
{
        char *cert = issue(&other_issuing, IMAGO_PKI_DEVICE, &pa, ida, 0);
        char *chain = issuing_pem(&other_issuing);
        char *ourchain = issuing_pem(&issuing);

        (void)state;
        /* A complete chain from another fleet's root. */
        assert_int_equal(
            imago_link_cert_check(cert, chain, root, ida, imago_privkey_evp(&ka), 0, NULL, NULL),
            IMAGO_EPKI_CHAIN);
        /* Our issuing CA named as the chain, but it did not sign the certificate. */
        assert_int_equal(
            imago_link_cert_check(cert, ourchain, root, ida, imago_privkey_evp(&ka), 0, NULL, NULL),
            IMAGO_EPKI_CHAIN);
        free(cert);
        free(chain);
        free(ourchain);
}

static void test_cert_answer_birth_cert_refused(void **state)
{
        char *cert = issue(&factory, IMAGO_PKI_BIRTH, &pa, ida, 0);
        char *chain = pem_of(factory.cert);

        (void)state;
        /* Chains to the root through the factory CA, but it is not an operational certificate. */
        assert_int_equal(
            imago_link_cert_check(cert, chain, root, ida, imago_privkey_evp(&ka), 0, NULL, NULL),
            IMAGO_EPKI_NAME);
        free(cert);
        free(chain);
}

static void test_cert_answer_expired_refused(void **state)
{
        char *cert = issue(&issuing, IMAGO_PKI_DEVICE, &pa, ida, 1);
        char *chain = issuing_pem(&issuing);

        (void)state;
        assert_int_equal(imago_link_cert_check(cert, chain, root, ida, imago_privkey_evp(&ka),
                                               time(NULL) + 3 * 86400, NULL, NULL),
                         IMAGO_EPKI_CHAIN);
        free(cert);
        free(chain);
}

static void test_cert_answer_garbage_refused(void **state)
{
        char *cert = issue(&issuing, IMAGO_PKI_DEVICE, &pa, ida, 0);
        char *chain = issuing_pem(&issuing);
        size_t n = strlen(cert);
        char *two = malloc(2 * n + 1);

        (void)state;
        assert_non_null(two);
        memcpy(two, cert, n);
        memcpy(two + n, cert, n + 1);
        assert_int_equal(
            imago_link_cert_check(two, chain, root, ida, imago_privkey_evp(&ka), 0, NULL, NULL),
            IMAGO_EMALFORMED);
        assert_int_equal(imago_link_cert_check("-----BEGIN CERTIFICATE-----\nAAAA\n", chain, root,
                                               ida, imago_privkey_evp(&ka), 0, NULL, NULL),
                         IMAGO_EMALFORMED);
        assert_int_equal(
            imago_link_cert_check(cert, "", root, ida, imago_privkey_evp(&ka), 0, NULL, NULL),
            IMAGO_EMALFORMED);
        assert_int_equal(
            imago_link_cert_check(NULL, chain, root, ida, imago_privkey_evp(&ka), 0, NULL, NULL),
            IMAGO_EMALFORMED);
        assert_int_equal(
            imago_link_cert_check(cert, chain, NULL, ida, imago_privkey_evp(&ka), 0, NULL, NULL),
            IMAGO_EINVAL);
        free(two);
        free(cert);
        free(chain);
}

static void test_rotation_due_at_two_thirds(void **state)
{
        char *pem = issue(&issuing, IMAGO_PKI_DEVICE, &pa, ida, 90);
        BIO *b = BIO_new_mem_buf(pem, -1);
        X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
        time_t now = time(NULL);
        long due;

        (void)state;
        assert_non_null(x);
        due = imago_link_rotate_due(x, now);
        /* 90 days: rotate after 60 days (a third, 30 days, left); allow clock slack. */
        assert_true(due > 60L * 86400L - 600 && due <= 60L * 86400L + 600);
        assert_true(imago_link_rotate_due(x, now + 61L * 86400L) <= 0);
        assert_true(imago_link_rotate_due(x, now + 59L * 86400L) > 0);
        X509_free(x);
        BIO_free(b);
        free(pem);
}

/* A file-key identity for device A with its birth certificate loaded. */
static struct imago_identity *open_a(char **birth)
{
        struct imago_identity_config ic = {.backend = IMAGO_IDENTITY_FILE};
        struct imago_identity *id = NULL;
        char kp[200];

        snprintf(kp, sizeof(kp), "%s/a.key", dir);
        if (access(kp, F_OK) != 0)
                assert_int_equal(imago_privkey_save(&ka, kp, NULL), IMAGO_OK);
        ic.key_path = kp;
        assert_int_equal(imago_identity_open(&ic, &id), IMAGO_OK);
        *birth = issue(&factory, IMAGO_PKI_BIRTH, &pa, ida, 0);
        return id;
}

static void base_cfg(struct imago_link_config *c, struct imago_identity *id, const char *birth,
                     char *ca, char *rootp, uint16_t port)
{
        memset(c, 0, sizeof(*c));
        snprintf(ca, 200, "%s/ca/%s", dir, imago_pki_cert_file(IMAGO_PKI_SERVER_CA));
        snprintf(rootp, 200, "%s/ca/%s", dir, imago_pki_cert_file(IMAGO_PKI_ROOT));
        c->identity = id;
        c->host = "127.0.0.1";
        c->port = port;
        c->ca_path = ca;
        c->server_name = "localhost";
        c->root_path = rootp;
        c->birth_pem = birth;
}

static void noop(void *arg, const char *topic, const uint8_t *p, size_t n)
{
        (void)arg;
        (void)topic;
        (void)p;
        (void)n;
}

static void test_link_config_and_api_refusals(void **state)
{
        struct event_base *base = event_base_new();
        char *birth = NULL, ca[200], rootp[200], suffix[80];
        struct imago_identity *id = open_a(&birth);
        struct imago_link_config c;
        struct imago_link *l = NULL;
        char *otherdev = issue(&issuing, IMAGO_PKI_DEVICE, &pb, idb, 0);
        char *chain = issuing_pem(&issuing);

        (void)state;
        base_cfg(&c, id, birth, ca, rootp, 1);
        c.root_path = NULL;
        assert_int_equal(imago_link_new(base, &c, NULL, &l), IMAGO_EINVAL);
        base_cfg(&c, id, birth, ca, rootp, 1);
        c.birth_pem = NULL;
        assert_int_equal(imago_link_new(base, &c, NULL, &l), IMAGO_EINVAL);
        /* A stored operational certificate that is another device's is refused. */
        base_cfg(&c, id, birth, ca, rootp, 1);
        c.cert_pem = otherdev;
        c.chain_pem = chain;
        assert_int_not_equal(imago_link_new(base, &c, NULL, &l), IMAGO_OK);
        assert_null(l);

        base_cfg(&c, id, birth, ca, rootp, 1);
        assert_int_equal(imago_link_new(base, &c, NULL, &l), IMAGO_OK);
        assert_string_equal(imago_link_device_id(l), ida);
        assert_int_equal(imago_link_enrolled(l), 0);
        assert_int_equal(imago_link_state(l), IMAGO_LINK_IDLE);
        /* Handlers: only below the device's own prefix, never the rotation topics. */
        assert_int_equal(imago_link_handle(l, "cmd/#", noop, NULL), IMAGO_OK);
        assert_int_equal(imago_link_handle(l, "rot/now", noop, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_link_handle(l, "rot", noop, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_link_handle(l, "a/+/b", noop, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_link_handle(l, "a/#/b", noop, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_link_handle(l, "/abs", noop, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_link_handle(l, "", noop, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_link_handle(l, "../x", noop, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_link_handle(l, "x", NULL, NULL), IMAGO_EINVAL);
        memset(suffix, 'a', 65);
        suffix[65] = '\0';
        assert_int_equal(imago_link_handle(l, suffix, noop, NULL), IMAGO_EINVAL);
        for (int i = 1; i < 16; i++) {
                snprintf(suffix, sizeof(suffix), "h%d", i);
                assert_int_equal(imago_link_handle(l, suffix, noop, NULL), IMAGO_OK);
        }
        assert_int_equal(imago_link_handle(l, "one-too-many", noop, NULL), IMAGO_ETOOBIG);
        /* Publishing needs an operational connection. */
        assert_int_equal(imago_link_publish(l, "state", (const uint8_t *)"{}", 2), IMAGO_ESTATE);
        assert_int_equal(imago_link_publish(l, "state/#", (const uint8_t *)"{}", 2), IMAGO_EINVAL);
        imago_link_free(l);
        imago_identity_close(id);
        event_base_free(base);
        free(birth);
        free(otherdev);
        free(chain);
}

struct states {
        int waiting, connecting, failed;
        int last_err;
};

static void count_state(void *arg, enum imago_link_state st, int err)
{
        struct states *s = arg;

        s->waiting += st == IMAGO_LINK_WAITING && err != 0;
        s->connecting += st == IMAGO_LINK_CONNECTING;
        s->failed += st == IMAGO_LINK_FAILED;
        if (err != 0)
                s->last_err = err;
}

static void test_link_gives_up_after_failures_with_backoff(void **state)
{
        struct event_base *base = event_base_new();
        char *birth = NULL, ca[200], rootp[200];
        struct imago_identity *id = open_a(&birth);
        struct imago_link_config c;
        struct imago_link_callbacks cb = {.on_state = count_state};
        struct imago_link *l = NULL;
        struct states st = {0};
        struct sockaddr_in sa = {.sin_family = AF_INET};
        socklen_t sl = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct timespec t0, t1;
        long ms;

        (void)state;
        /* A port with nothing listening: bind, read the port, close. */
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
        close(fd);
        base_cfg(&c, id, birth, ca, rootp, ntohs(sa.sin_port));
        c.backoff_base_ms = 50;
        c.backoff_cap_ms = 100;
        c.max_failures = 4;
        cb.arg = &st;
        assert_int_equal(imago_link_new(base, &c, &cb, &l), IMAGO_OK);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(imago_link_run_blocking(l, 1, 10000, 0), IMAGO_EIO);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ms = (t1.tv_sec - t0.tv_sec) * 1000L + (t1.tv_nsec - t0.tv_nsec) / 1000000L;
        /* four attempts, three backoff waits of at most 50, 100, 100 ms */
        assert_int_equal(st.connecting, 4);
        assert_int_equal(st.waiting, 3);
        assert_int_equal(st.failed, 1);
        assert_int_equal(st.last_err, IMAGO_EIO);
        assert_true(ms < 2000);
        imago_link_free(l);
        imago_identity_close(id);
        event_base_free(base);
        free(birth);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_backoff_full_jitter_bounds),
            cmocka_unit_test(test_backoff_defaults_and_saturation),
            cmocka_unit_test(test_cert_answer_good_accepted),
            cmocka_unit_test(test_cert_answer_for_another_device_refused),
            cmocka_unit_test(test_cert_answer_wrong_key_refused),
            cmocka_unit_test(test_cert_answer_other_ca_refused),
            cmocka_unit_test(test_cert_answer_birth_cert_refused),
            cmocka_unit_test(test_cert_answer_expired_refused),
            cmocka_unit_test(test_cert_answer_garbage_refused),
            cmocka_unit_test(test_rotation_due_at_two_thirds),
            cmocka_unit_test(test_link_config_and_api_refusals),
            cmocka_unit_test(test_link_gives_up_after_failures_with_backoff),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
