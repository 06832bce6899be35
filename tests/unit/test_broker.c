/*
 * Unit tests of the broker plugin's parts that need no broker: the deny file
 * and control message parsers (tests/vectors/broker/{deny,control}: <case>.json
 * with <case>.expect naming the IMAGO_E code), the deny set, the connection
 * table and the certificate facts (which imago CA issued a client certificate).
 *
 * The plugin is a MODULE library that tests cannot link, so its pure sources
 * are compiled in here (they include no Mosquitto header).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_vectors.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "../../src/broker/broker_cert.c"
#include "../../src/broker/broker_conn.c"
#include "../../src/broker/broker_control.c"
#include "../../src/broker/broker_deny.c"

#include "base/err.h"
#include "crypto/keys.h"
#include "crypto/keys_openssl.h"
#include "pki/pki.h"

#define ID_A "0123456789abcdef0123456789abcdef"
#define ID_B "fedcba9876543210fedcba9876543210"
#define PASS "broker unit test passphrase"

typedef int (*parse_fn)(const uint8_t *buf, size_t len, void *out);

static int parse_deny(const uint8_t *buf, size_t len, void *out)
{
        struct broker_deny d;
        int r;

        memset(&d, 0, sizeof(d));
        r = broker_deny_parse(buf, len, &d);
        broker_deny_free(&d);
        (void)out;
        return r;
}

static int parse_control(const uint8_t *buf, size_t len, void *out)
{
        struct broker_control c;

        (void)out;
        return broker_control_parse(buf, len, &c);
}

struct vec_run {
        const char *sub;
        parse_fn fn;
};

static void broker_case(const char *file, const uint8_t *data, size_t len, int want, void *arg)
{
        const struct vec_run *v = arg;
        int got = v->fn(data, len, NULL);

        if (got != want)
                fail_msg("%s/%s: expected %s, got %s", v->sub, file, imago_errname(want),
                         imago_errname(got));
}

static void run_vectors(const char *sub, parse_fn fn)
{
        struct vec_run v = {sub, fn};
        char dir[512];

        snprintf(dir, sizeof(dir), "%s/tests/vectors/broker/%s", IMAGO_SOURCE_DIR, sub);
        assert_true(test_vec_each(dir, ".json", broker_case, &v) > 20);
}

static void test_deny_file_vectors(void **state)
{
        (void)state;
        run_vectors("deny", parse_deny);
}

static void test_control_vectors(void **state)
{
        (void)state;
        run_vectors("control", parse_control);
}

static void test_deny_file_parsed_content(void **state)
{
        const char *text = "{\"v\": 1, \"ids\": {\"" ID_B "\": \"suspended\", \"" ID_A
                           "\": \"revoked\"}, \"serials\": [\"ff01\", \"0a\"]}";
        struct broker_deny d;

        (void)state;
        memset(&d, 0, sizeof(d));
        assert_int_equal(broker_deny_parse((const uint8_t *)text, strlen(text), &d), IMAGO_OK);
        assert_int_equal(d.n_ids, 2);
        assert_int_equal(broker_deny_id_reason(&d, ID_A), BROKER_DENY_REVOKED);
        assert_int_equal(broker_deny_id_reason(&d, ID_B), BROKER_DENY_SUSPENDED);
        assert_int_equal(broker_deny_id_reason(&d, "00000000000000000000000000000000"),
                         BROKER_DENY_NONE);
        assert_true(broker_deny_has_serial(&d, "0a"));
        assert_true(broker_deny_has_serial(&d, "ff01"));
        assert_false(broker_deny_has_serial(&d, "0b"));
        assert_false(broker_deny_has_serial(&d, "0A"));
        broker_deny_free(&d);
}

static void test_bad_deny_file_keeps_previous_set(void **state)
{
        const char *bad = "{\"v\": 1, \"ids\": {}, \"serials\": [], \"x\": 0}";
        struct broker_deny d;

        (void)state;
        memset(&d, 0, sizeof(d));
        assert_int_equal(broker_deny_add_id(&d, ID_A, BROKER_DENY_REVOKED), IMAGO_OK);
        assert_int_equal(broker_deny_parse((const uint8_t *)bad, strlen(bad), &d),
                         IMAGO_EPROTO_FIELD);
        assert_int_equal(broker_deny_id_reason(&d, ID_A), BROKER_DENY_REVOKED);
        assert_int_equal(broker_deny_load("/nonexistent/deny.json", &d), IMAGO_ENOTFOUND);
        assert_int_equal(broker_deny_id_reason(&d, ID_A), BROKER_DENY_REVOKED);
        broker_deny_free(&d);
}

static void test_oversized_deny_file_refused(void **state)
{
        size_t len = BROKER_DENY_FILE_MAX + 1;
        uint8_t *buf = malloc(len);
        struct broker_deny d;

        (void)state;
        assert_non_null(buf);
        memset(buf, ' ', len);
        memset(&d, 0, sizeof(d));
        assert_int_equal(broker_deny_parse(buf, len, &d), IMAGO_ETOOBIG);
        free(buf);
}

static void test_too_many_serials_refused(void **state)
{
        size_t n = BROKER_DENY_MAX + 1, i, len = 0, cap = n * 10 + 64;
        char *buf = malloc(cap);
        struct broker_deny d;

        (void)state;
        assert_non_null(buf);
        len += (size_t)snprintf(buf + len, cap - len, "{\"v\":1,\"ids\":{},\"serials\":[");
        for (i = 0; i < n; i++)
                len += (size_t)snprintf(buf + len, cap - len, "%s\"%06zx\"", i ? "," : "", i);
        len += (size_t)snprintf(buf + len, cap - len, "]}");
        memset(&d, 0, sizeof(d));
        assert_int_equal(broker_deny_parse((uint8_t *)buf, len, &d), IMAGO_ETOOBIG);
        /* the limit itself is accepted */
        len = (size_t)(strrchr(buf, ',') - buf);
        len += (size_t)snprintf(buf + len, cap - len, "]}");
        assert_int_equal(broker_deny_parse((uint8_t *)buf, len, &d), IMAGO_OK);
        assert_int_equal(d.n_serials, BROKER_DENY_MAX);
        assert_true(broker_deny_has_serial(&d, "01869e"));
        broker_deny_free(&d);
        free(buf);
}

static void test_full_deny_file_fits_the_size_limit(void **state)
{
        size_t n = BROKER_DENY_MAX, i, len = 0, cap = BROKER_DENY_FILE_MAX;
        char *buf = malloc(cap);
        struct broker_deny d;

        (void)state;
        assert_non_null(buf);
        len += (size_t)snprintf(buf + len, cap - len, "{\"v\": 1, \"ids\": {");
        for (i = 0; i < n; i++)
                len += (size_t)snprintf(buf + len, cap - len, "%s\"%032zx\": \"suspended\"",
                                        i ? ", " : "", i);
        len += (size_t)snprintf(buf + len, cap - len, "}, \"serials\": [");
        for (i = 0; i < n; i++)
                len += (size_t)snprintf(buf + len, cap - len, "%s\"%040zx\"", i ? ", " : "", i);
        len += (size_t)snprintf(buf + len, cap - len, "]}");
        assert_true(len < cap - 1);
        memset(&d, 0, sizeof(d));
        assert_int_equal(broker_deny_parse((uint8_t *)buf, len, &d), IMAGO_OK);
        assert_int_equal(d.n_ids, n);
        assert_int_equal(d.n_serials, n);
        assert_int_equal(broker_deny_id_reason(&d, "0000000000000000000000000001869f"),
                         BROKER_DENY_SUSPENDED);
        broker_deny_free(&d);
        free(buf);
}

static void test_suspend_does_not_soften_revoke(void **state)
{
        struct broker_deny d;

        (void)state;
        memset(&d, 0, sizeof(d));
        assert_int_equal(broker_deny_add_id(&d, ID_A, BROKER_DENY_REVOKED), IMAGO_OK);
        assert_int_equal(broker_deny_add_id(&d, ID_A, BROKER_DENY_SUSPENDED), IMAGO_OK);
        assert_int_equal(broker_deny_id_reason(&d, ID_A), BROKER_DENY_REVOKED);
        assert_int_equal(broker_deny_add_id(&d, ID_B, BROKER_DENY_SUSPENDED), IMAGO_OK);
        assert_int_equal(d.n_ids, 2);
        broker_deny_remove_id(&d, ID_B);
        assert_int_equal(broker_deny_id_reason(&d, ID_B), BROKER_DENY_NONE);
        assert_int_equal(broker_deny_id_reason(&d, ID_A), BROKER_DENY_REVOKED);
        broker_deny_remove_id(&d, ID_B); /* absent: no effect */
        assert_int_equal(d.n_ids, 1);
        assert_int_equal(broker_deny_add_id(&d, "imago-cloud", BROKER_DENY_REVOKED), IMAGO_EINVAL);
        assert_int_equal(broker_deny_add_id(&d, ID_B, BROKER_DENY_NONE), IMAGO_EINVAL);
        assert_int_equal(broker_deny_add_serial(&d, "ABCD"), IMAGO_EINVAL);
        broker_deny_free(&d);
}

static void test_deny_set_sorted_inserts(void **state)
{
        struct broker_deny d;
        char id[IMAGO_AUTHZ_ID_LEN + 1], serial[8];
        unsigned i;

        (void)state;
        memset(&d, 0, sizeof(d));
        for (i = 0; i < 300; i++) {
                unsigned v = (i * 7919u) % 1000u;

                snprintf(id, sizeof(id), "%032x", v);
                snprintf(serial, sizeof(serial), "%06x", v);
                assert_int_equal(broker_deny_add_id(&d, id, BROKER_DENY_SUSPENDED), IMAGO_OK);
                assert_int_equal(broker_deny_add_serial(&d, serial), IMAGO_OK);
        }
        for (i = 0; i < 300; i++) {
                unsigned v = (i * 7919u) % 1000u;

                snprintf(id, sizeof(id), "%032x", v);
                snprintf(serial, sizeof(serial), "%06x", v);
                assert_int_equal(broker_deny_id_reason(&d, id), BROKER_DENY_SUSPENDED);
                assert_true(broker_deny_has_serial(&d, serial));
        }
        for (i = 1; i < d.n_ids; i++)
                assert_true(strcmp(d.ids[i - 1].id, d.ids[i].id) < 0);
        broker_deny_free(&d);
}

static void test_control_message_fields(void **state)
{
        const char *m = "{\"op\": \"deny\", \"id\": \"" ID_A "\", \"reason\": \"suspended\"}";
        const char *s = "{\"op\": \"deny-serial\", \"serial\": \"0a1b\"}";
        struct broker_control c;

        (void)state;
        assert_int_equal(broker_control_parse((const uint8_t *)m, strlen(m), &c), IMAGO_OK);
        assert_int_equal(c.op, BROKER_OP_DENY);
        assert_string_equal(c.id, ID_A);
        assert_int_equal(c.reason, BROKER_DENY_SUSPENDED);
        assert_int_equal(broker_control_parse((const uint8_t *)s, strlen(s), &c), IMAGO_OK);
        assert_int_equal(c.op, BROKER_OP_DENY_SERIAL);
        assert_string_equal(c.serial, "0a1b");
}

static void test_conn_table_session_takeover(void **state)
{
        struct broker_conns *t = calloc(1, sizeof(*t));
        struct broker_conn e, *got;
        int old_ctx, new_ctx;

        (void)state;
        assert_non_null(t);
        memset(&e, 0, sizeof(e));
        snprintf(e.client_id, sizeof(e.client_id), "%s", ID_A);
        assert_int_equal(imago_authz_identity_set(&e.who, IMAGO_AUTHZ_BIRTH, ID_A),
                         IMAGO_AUTHZ_ALLOW);
        e.client = &old_ctx;
        snprintf(e.serial, sizeof(e.serial), "0a");
        assert_int_equal(broker_conns_put(t, &e), IMAGO_OK);
        /* the same id connects again with its operational certificate */
        assert_int_equal(imago_authz_identity_set(&e.who, IMAGO_AUTHZ_DEVICE, ID_A),
                         IMAGO_AUTHZ_ALLOW);
        e.client = &new_ctx;
        snprintf(e.serial, sizeof(e.serial), "0b");
        assert_int_equal(broker_conns_put(t, &e), IMAGO_OK);
        assert_int_equal(t->count, 1);
        /* the old connection's disconnect does not remove the new identity */
        broker_conns_remove(t, ID_A, &old_ctx);
        got = broker_conns_get(t, ID_A);
        assert_non_null(got);
        assert_int_equal(got->who.role, IMAGO_AUTHZ_DEVICE);
        assert_string_equal(got->serial, "0b");
        /* a clean session that ends keeps its identity for its will, then is reaped */
        broker_conns_mark_gone(t, ID_A, &old_ctx, 1000); /* not its connection: no effect */
        assert_int_equal(broker_conns_get(t, ID_A)->gone_at, 0);
        broker_conns_mark_gone(t, ID_A, &new_ctx, 1000);
        broker_conns_reap(t, 1059, 60);
        assert_non_null(broker_conns_get(t, ID_A));
        /* reconnecting before the reap makes it live again */
        e.client = &new_ctx;
        assert_int_equal(broker_conns_put(t, &e), IMAGO_OK);
        broker_conns_reap(t, 5000, 60);
        assert_non_null(broker_conns_get(t, ID_A));
        broker_conns_mark_gone(t, ID_A, &new_ctx, 5000);
        broker_conns_reap(t, 5060, 60);
        assert_null(broker_conns_get(t, ID_A));
        assert_int_equal(t->count, 0);
        assert_int_equal(broker_conns_put(t, &e), IMAGO_OK);
        broker_conns_remove(t, ID_A, &new_ctx);
        assert_null(broker_conns_get(t, ID_A));
        assert_int_equal(t->count, 0);
        broker_conns_free(t);
        free(t);
}

/* --- certificate facts -------------------------------------------------------------------- */

struct pki_fixture {
        char dir[64], other[64];
        struct imago_pki_ca factory, issuing, server, other_issuing;
        struct broker_cas cas;
};

static int pki_setup(void **state)
{
        static struct pki_fixture f;
        struct imago_pki_init_opts o;

        memset(&f, 0, sizeof(f));
        snprintf(f.dir, sizeof(f.dir), "/tmp/imago-broker-XXXXXX");
        snprintf(f.other, sizeof(f.other), "/tmp/imago-broker-XXXXXX");
        if (mkdtemp(f.dir) == NULL || mkdtemp(f.other) == NULL)
                return -1;
        memset(&o, 0, sizeof(o));
        o.root_passphrase = PASS;
        o.dir = f.dir;
        if (imago_pki_init(&o) != IMAGO_OK)
                return -1;
        o.dir = f.other; /* a foreign hierarchy with the very same CA names */
        if (imago_pki_init(&o) != IMAGO_OK)
                return -1;
        if (imago_pki_ca_load(f.dir, IMAGO_PKI_FACTORY, PASS, &f.factory) != IMAGO_OK ||
            imago_pki_ca_load(f.dir, IMAGO_PKI_ISSUING, PASS, &f.issuing) != IMAGO_OK ||
            imago_pki_ca_load(f.dir, IMAGO_PKI_SERVER_CA, PASS, &f.server) != IMAGO_OK ||
            imago_pki_ca_load(f.other, IMAGO_PKI_ISSUING, PASS, &f.other_issuing) != IMAGO_OK)
                return -1;
        f.cas.factory = f.factory.cert;
        f.cas.issuing = f.issuing.cert;
        f.cas.server = f.server.cert;
        *state = &f;
        return 0;
}

static void rm_tree(const char *dir)
{
        char cmd[160];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", dir);
}

static int pki_teardown(void **state)
{
        struct pki_fixture *f = *state;

        imago_pki_ca_free(&f->factory);
        imago_pki_ca_free(&f->issuing);
        imago_pki_ca_free(&f->server);
        imago_pki_ca_free(&f->other_issuing);
        rm_tree(f->dir);
        rm_tree(f->other);
        return 0;
}

static X509 *issue(const struct imago_pki_ca *ca, enum imago_pki_profile profile, const char *cn,
                   char id[IMAGO_DEVICE_ID_LEN + 1])
{
        static const char *const names[] = {"localhost"};
        struct imago_privkey k;
        struct imago_pubkey pub;
        struct imago_pki_request req;
        X509 *x = NULL;

        assert_int_equal(imago_privkey_generate(IMAGO_KEY_P256, &k), IMAGO_OK);
        assert_int_equal(imago_privkey_public(&k, &pub), IMAGO_OK);
        imago_privkey_free(&k);
        assert_int_equal(imago_pki_device_id(&pub, id), IMAGO_OK);
        memset(&req, 0, sizeof(req));
        req.profile = profile;
        req.common_name = cn != NULL ? cn : id;
        req.pub = &pub;
        req.names = names;
        req.names_count = profile == IMAGO_PKI_SERVER ? 1 : 0;
        assert_int_equal(imago_pki_issue(ca, &req, &x), IMAGO_OK);
        return x;
}

static void test_cert_facts_of_each_profile(void **state)
{
        struct pki_fixture *f = *state;
        struct broker_cert_facts facts;
        char id[IMAGO_DEVICE_ID_LEN + 1], serial[41];
        X509 *x;

        x = issue(&f->factory, IMAGO_PKI_BIRTH, NULL, id);
        assert_int_equal(broker_cert_facts(x, &f->cas, &facts), IMAGO_OK);
        assert_int_equal(facts.issuer, IMAGO_AUTHZ_ISSUER_FACTORY);
        assert_string_equal(facts.cn, id);
        assert_string_equal(facts.ou, "birth");
        assert_int_equal(imago_pki_cert_serial(x, serial), IMAGO_OK);
        assert_string_equal(facts.serial, serial);
        assert_true(broker_is_serial(facts.serial));
        assert_int_equal(imago_authz_role_of(facts.ou, facts.issuer, facts.cn), IMAGO_AUTHZ_BIRTH);
        X509_free(x);

        x = issue(&f->issuing, IMAGO_PKI_DEVICE, NULL, id);
        assert_int_equal(broker_cert_facts(x, &f->cas, &facts), IMAGO_OK);
        assert_int_equal(facts.issuer, IMAGO_AUTHZ_ISSUER_ISSUING);
        assert_int_equal(imago_authz_role_of(facts.ou, facts.issuer, facts.cn), IMAGO_AUTHZ_DEVICE);
        X509_free(x);

        x = issue(&f->server, IMAGO_PKI_SERVICE, "imago-cloud", id);
        assert_int_equal(broker_cert_facts(x, &f->cas, &facts), IMAGO_OK);
        assert_int_equal(facts.issuer, IMAGO_AUTHZ_ISSUER_SERVER);
        assert_string_equal(facts.cn, "imago-cloud");
        assert_int_equal(imago_authz_role_of(facts.ou, facts.issuer, facts.cn),
                         IMAGO_AUTHZ_SERVICE);
        X509_free(x);

        /* the broker's own server certificate is no client identity */
        x = issue(&f->server, IMAGO_PKI_SERVER, "localhost", id);
        assert_int_equal(broker_cert_facts(x, &f->cas, &facts), IMAGO_OK);
        assert_int_equal(imago_authz_role_of(facts.ou, facts.issuer, facts.cn), IMAGO_AUTHZ_NONE);
        X509_free(x);
}

static void test_foreign_ca_with_same_name_refused(void **state)
{
        struct pki_fixture *f = *state;
        struct broker_cert_facts facts;
        char id[IMAGO_DEVICE_ID_LEN + 1];
        X509 *x = issue(&f->other_issuing, IMAGO_PKI_DEVICE, NULL, id);

        assert_int_equal(
            X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(f->issuing.cert)), 0);
        assert_int_equal(broker_cert_facts(x, &f->cas, &facts), IMAGO_EPKI_CHAIN);
        assert_int_equal(facts.issuer, IMAGO_AUTHZ_ISSUER_UNKNOWN);
        X509_free(x);
}

/* Re-sign x under ca after editing its subject. */
static void resign(X509 *x, const struct imago_pki_ca *ca)
{
        assert_true(X509_sign(x, imago_privkey_evp(&ca->key), EVP_sha256()) > 0);
}

static void test_two_common_names_refused(void **state)
{
        struct pki_fixture *f = *state;
        struct broker_cert_facts facts;
        char id[IMAGO_DEVICE_ID_LEN + 1];
        X509 *x = issue(&f->issuing, IMAGO_PKI_DEVICE, NULL, id);
        X509_NAME *subj = X509_get_subject_name(x);

        assert_true(X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC,
                                               (const unsigned char *)ID_B, -1, -1, 0));
        resign(x, &f->issuing);
        assert_int_equal(broker_cert_facts(x, &f->cas, &facts), IMAGO_EPKI_NAME);
        X509_free(x);
}

static void test_missing_ou_refused(void **state)
{
        struct pki_fixture *f = *state;
        struct broker_cert_facts facts;
        char id[IMAGO_DEVICE_ID_LEN + 1];
        X509 *x = issue(&f->issuing, IMAGO_PKI_DEVICE, NULL, id);
        X509_NAME *subj = X509_get_subject_name(x);
        int pos = X509_NAME_get_index_by_NID(subj, NID_organizationalUnitName, -1);

        assert_true(pos >= 0);
        X509_NAME_ENTRY_free(X509_NAME_delete_entry(subj, pos));
        resign(x, &f->issuing);
        assert_int_equal(broker_cert_facts(x, &f->cas, &facts), IMAGO_EPKI_NAME);
        X509_free(x);
}

static void test_cn_with_nul_refused(void **state)
{
        struct pki_fixture *f = *state;
        struct broker_cert_facts facts;
        char id[IMAGO_DEVICE_ID_LEN + 1];
        static const unsigned char evil[] = ID_A "\0"
                                                 "x";
        X509 *x = issue(&f->issuing, IMAGO_PKI_DEVICE, NULL, id);
        X509_NAME *subj = X509_get_subject_name(x);
        int pos = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);

        X509_NAME_ENTRY_free(X509_NAME_delete_entry(subj, pos));
        assert_true(X509_NAME_add_entry_by_NID(subj, NID_commonName, V_ASN1_UTF8STRING, evil,
                                               (int)sizeof(evil) - 1, -1, 0));
        resign(x, &f->issuing);
        assert_int_equal(broker_cert_facts(x, &f->cas, &facts), IMAGO_EPKI_NAME);
        X509_free(x);
}

static void test_device_ou_from_factory_ca_gets_no_role(void **state)
{
        struct pki_fixture *f = *state;
        struct broker_cert_facts facts;
        char id[IMAGO_DEVICE_ID_LEN + 1];
        X509 *x = issue(&f->factory, IMAGO_PKI_BIRTH, NULL, id);
        X509_NAME *subj = X509_get_subject_name(x);
        int pos = X509_NAME_get_index_by_NID(subj, NID_organizationalUnitName, -1);

        /* a factory that signs OU=device does not get an operational identity */
        X509_NAME_ENTRY_free(X509_NAME_delete_entry(subj, pos));
        assert_true(X509_NAME_add_entry_by_txt(subj, "OU", MBSTRING_ASC,
                                               (const unsigned char *)"device", -1, -1, 0));
        resign(x, &f->factory);
        assert_int_equal(broker_cert_facts(x, &f->cas, &facts), IMAGO_OK);
        assert_int_equal(facts.issuer, IMAGO_AUTHZ_ISSUER_FACTORY);
        assert_int_equal(imago_authz_role_of(facts.ou, facts.issuer, facts.cn), IMAGO_AUTHZ_NONE);
        X509_free(x);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_deny_file_vectors),
            cmocka_unit_test(test_control_vectors),
            cmocka_unit_test(test_deny_file_parsed_content),
            cmocka_unit_test(test_bad_deny_file_keeps_previous_set),
            cmocka_unit_test(test_oversized_deny_file_refused),
            cmocka_unit_test(test_too_many_serials_refused),
            cmocka_unit_test(test_full_deny_file_fits_the_size_limit),
            cmocka_unit_test(test_suspend_does_not_soften_revoke),
            cmocka_unit_test(test_deny_set_sorted_inserts),
            cmocka_unit_test(test_control_message_fields),
            cmocka_unit_test(test_conn_table_session_takeover),
        };
        const struct CMUnitTest cert_tests[] = {
            cmocka_unit_test(test_cert_facts_of_each_profile),
            cmocka_unit_test(test_foreign_ca_with_same_name_refused),
            cmocka_unit_test(test_two_common_names_refused),
            cmocka_unit_test(test_missing_ou_refused),
            cmocka_unit_test(test_cn_with_nul_refused),
            cmocka_unit_test(test_device_ou_from_factory_ca_gets_no_role),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);

        return r | cmocka_run_group_tests_name("cert", cert_tests, pki_setup, pki_teardown);
}
