/*
 * imago-cloud service handlers without a broker: enrolment (issue, record,
 * idempotent retry, refusals), rotation and the seen event, and the
 * broker-hook request parsers and decisions.  One test per attack.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "base/err.h"
#include "cloud/registry/registry.h"
#include "cloud/svc_enrol.h"
#include "cloud/svc_hook.h"
#include "cloud/svc_priv.h"
#include "crypto/keys.h"
#include "crypto/keys_openssl.h"
#include "pki/pki.h"
#include "proto/proto.h"

#define PASS  "root pass"
#define CLOUD "cloud pass"
#define NONCE "00112233445566778899aabbccddeeff"

struct fixture {
        char dir[64];
        char uri[128];
        struct imago_svc_issuer iss;
        struct imago_registry *reg;
};

struct device {
        struct imago_privkey key;
        char id[IMAGO_DEVICE_ID_LEN + 1];
};

static int setup(void **state)
{
        static struct fixture f;
        struct imago_pki_init_opts o;

        memset(&f, 0, sizeof(f));
        snprintf(f.dir, sizeof(f.dir), "/tmp/imago-svc-XXXXXX");
        if (mkdtemp(f.dir) == NULL)
                return -1;
        memset(&o, 0, sizeof(o));
        o.dir = f.dir;
        o.root_passphrase = PASS;
        o.cloud_passphrase = CLOUD;
        if (imago_pki_init(&o) != IMAGO_OK)
                return -1;
        if (imago_svc_issuer_load(f.dir, CLOUD, 30, &f.iss) != IMAGO_OK)
                return -1;
        snprintf(f.uri, sizeof(f.uri), "sqlite:%s/registry.db", f.dir);
        if (imago_registry_open(f.uri, &f.reg) != IMAGO_OK)
                return -1;
        *state = &f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char cmd[128];

        imago_registry_close(f->reg);
        imago_svc_issuer_free(&f->iss);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        return system(cmd) == 0 ? 0 : -1;
}

static void device_new(struct device *d)
{
        struct imago_pubkey pub;

        assert_int_equal(imago_privkey_generate(IMAGO_KEY_P256, &d->key), IMAGO_OK);
        assert_int_equal(imago_privkey_public(&d->key, &pub), IMAGO_OK);
        assert_int_equal(imago_pki_device_id(&pub, d->id), IMAGO_OK);
}

static void device_import(struct fixture *f, struct device *d)
{
        assert_int_equal(imago_registry_import(f->reg, "batch-1", d->id, "01"), IMAGO_OK);
}

/* PEM CSR with subject CN=cn signed by key (malloc'd). */
static char *csr_pem(const struct imago_privkey *key, const char *cn)
{
        X509_REQ *req = X509_REQ_new();
        EVP_PKEY *pk = imago_privkey_evp(key);
        BIO *bio = BIO_new(BIO_s_mem());
        char *data, *out;
        long n;

        assert_non_null(req);
        assert_non_null(bio);
        assert_int_equal(X509_REQ_set_pubkey(req, pk), 1);
        assert_int_equal(X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN",
                                                    MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                                    0),
                         1);
        assert_true(X509_REQ_sign(req, pk, EVP_sha256()) > 0);
        assert_int_equal(PEM_write_bio_X509_REQ(bio, req), 1);
        n = BIO_get_mem_data(bio, &data);
        out = malloc((size_t)n + 1);
        assert_non_null(out);
        memcpy(out, data, (size_t)n);
        out[n] = '\0';
        BIO_free(bio);
        X509_REQ_free(req);
        return out;
}

static char *request(enum imago_proto_type t, const char *id, const char *csr, size_t *len)
{
        struct imago_proto_msg m;
        char *text = NULL;

        memset(&m, 0, sizeof(m));
        m.type = t;
        snprintf(m.id, sizeof(m.id), "%s", id);
        snprintf(m.nonce, sizeof(m.nonce), "%s", NONCE);
        m.csr = (char *)csr;
        assert_int_equal(imago_proto_build(&m, &text, len), IMAGO_OK);
        return text;
}

/* Send one request on topic; *ans parsed answer (caller frees); returns the result code. */
static int send_req(struct fixture *f, const char *topic, const char *payload, size_t len,
                    struct imago_proto_msg *ans, char serial[41])
{
        char *reply = NULL, rtopic[128];
        size_t rlen = 0;
        int result = 1;

        assert_int_equal(imago_svc_handle_request(&f->iss, f->reg, topic, (const uint8_t *)payload,
                                                  len, &reply, &rlen, rtopic, sizeof(rtopic),
                                                  &result, serial),
                         IMAGO_OK);
        assert_int_equal(imago_proto_parse((uint8_t *)reply, rlen, ans), IMAGO_OK);
        assert_string_equal(ans->nonce, NONCE);
        assert_non_null(strstr(rtopic, "/resp"));
        free(reply);
        return result;
}

static int enrol(struct fixture *f, struct device *d, const struct imago_privkey *signer,
                 const char *cn, struct imago_proto_msg *ans, char serial[41])
{
        char topic[128];
        char *csr = csr_pem(signer, cn);
        size_t len;
        char *msg = request(IMAGO_PROTO_ENROL, d->id, csr, &len);
        int r;

        assert_int_equal(imago_proto_topic(IMAGO_PROTO_ENROL, d->id, topic, sizeof(topic)),
                         IMAGO_OK);
        r = send_req(f, topic, msg, len, ans, serial);
        free(msg);
        free(csr);
        return r;
}

static X509 *pem_cert(const char *pem)
{
        BIO *bio = BIO_new_mem_buf(pem, -1);
        X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);

        BIO_free(bio);
        assert_non_null(x);
        return x;
}

static void test_enrol_issues_device_cert_with_birth_key(void **state)
{
        struct fixture *f = *state;
        struct imago_proto_msg ans;
        struct device d;
        char serial[41], serial2[41];
        X509 *cert, *ca;
        EVP_PKEY *capub;
        int count = 0;

        device_new(&d);
        device_import(f, &d);
        assert_int_equal(enrol(f, &d, &d.key, d.id, &ans, serial), IMAGO_OK);
        assert_int_equal(ans.type, IMAGO_PROTO_CERT);
        cert = pem_cert(ans.cert);
        ca = pem_cert(ans.chain);
        /* Signed by the issuing CA, for the birth key. */
        capub = X509_get0_pubkey(ca);
        assert_int_equal(X509_verify(cert, capub), 1);
        assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(cert), imago_privkey_evp(&d.key)), 1);
        X509_free(cert);
        X509_free(ca);
        imago_proto_free(&ans);

        /* The retry gets the same certificate, and nothing new is recorded. */
        assert_int_equal(enrol(f, &d, &d.key, d.id, &ans, serial2), IMAGO_OK);
        assert_string_equal(serial, serial2);
        imago_proto_free(&ans);
        assert_int_equal(imago_registry_cert_count(f->reg, d.id, &count), IMAGO_OK);
        assert_int_equal(count, 1);
        imago_privkey_free(&d.key);
}

static void test_enrol_unknown_device_refused(void **state)
{
        struct fixture *f = *state;
        struct imago_proto_msg ans;
        struct device d;
        char serial[41];

        device_new(&d);
        assert_int_equal(enrol(f, &d, &d.key, d.id, &ans, serial), IMAGO_EREG_UNKNOWN);
        assert_int_equal(ans.type, IMAGO_PROTO_ERROR);
        assert_string_equal(ans.code, "IMAGO_EREG_UNKNOWN");
        imago_proto_free(&ans);
        imago_privkey_free(&d.key);
}

static void test_enrol_csr_with_other_key_refused(void **state)
{
        struct fixture *f = *state;
        struct imago_proto_msg ans;
        struct device d, other;
        char serial[41];
        int count = -1;

        device_new(&d);
        device_new(&other);
        device_import(f, &d);
        assert_int_equal(enrol(f, &d, &other.key, d.id, &ans, serial), IMAGO_EREG_KEY);
        assert_string_equal(ans.code, "IMAGO_EREG_KEY");
        imago_proto_free(&ans);
        assert_int_equal(imago_registry_cert_count(f->reg, d.id, &count), IMAGO_OK);
        assert_int_equal(count, 0);
        imago_privkey_free(&d.key);
        imago_privkey_free(&other.key);
}

static void test_enrol_csr_cn_not_the_id_refused(void **state)
{
        struct fixture *f = *state;
        struct imago_proto_msg ans;
        struct device d;
        char serial[41];

        device_new(&d);
        device_import(f, &d);
        assert_int_equal(enrol(f, &d, &d.key, "ffffffffffffffffffffffffffffffff", &ans, serial),
                         IMAGO_EPROTO_FIELD);
        imago_proto_free(&ans);
        imago_privkey_free(&d.key);
}

static void test_enrol_for_another_id_refused(void **state)
{
        struct fixture *f = *state;
        struct imago_proto_msg ans;
        struct device a, b;
        char topic[128], serial[41];
        char *csr, *msg;
        size_t len;

        device_new(&a);
        device_new(&b);
        device_import(f, &a);
        device_import(f, &b);
        /* A publishes on its own topic a request naming B. */
        csr = csr_pem(&b.key, b.id);
        msg = request(IMAGO_PROTO_ENROL, b.id, csr, &len);
        assert_int_equal(imago_proto_topic(IMAGO_PROTO_ENROL, a.id, topic, sizeof(topic)),
                         IMAGO_OK);
        assert_int_equal(send_req(f, topic, msg, len, &ans, serial), IMAGO_EPROTO_FIELD);
        assert_string_equal(ans.id, a.id);
        imago_proto_free(&ans);
        free(msg);
        /* A rotate sent on the enrolment topic. */
        msg = request(IMAGO_PROTO_ROTATE, a.id, csr, &len);
        assert_int_equal(imago_proto_topic(IMAGO_PROTO_ENROL, a.id, topic, sizeof(topic)),
                         IMAGO_OK);
        assert_int_equal(send_req(f, topic, msg, len, &ans, serial), IMAGO_EPROTO_STATE);
        imago_proto_free(&ans);
        free(msg);
        free(csr);
        imago_privkey_free(&a.key);
        imago_privkey_free(&b.key);
}

static void test_garbage_gets_no_answer(void **state)
{
        struct fixture *f = *state;
        char *reply = (char *)"x", topic[128];
        size_t len = 1;

        assert_int_equal(imago_svc_handle_request(&f->iss, f->reg,
                                                  "imago/v1/prov/0123456789abcdef0123456789abcdef"
                                                  "/req",
                                                  (const uint8_t *)"{", 1, &reply, &len, topic,
                                                  sizeof(topic), NULL, NULL),
                         IMAGO_EMALFORMED);
        assert_null(reply);
        assert_int_equal(imago_svc_handle_request(&f->iss, f->reg, "imago/v1/svc/seen",
                                                  (const uint8_t *)"{}", 2, &reply, &len, topic,
                                                  sizeof(topic), NULL, NULL),
                         IMAGO_EPROTO_FIELD);
        assert_null(reply);
}

static void test_suspended_device_cannot_enrol_or_rotate(void **state)
{
        struct fixture *f = *state;
        struct imago_proto_msg ans;
        struct device d;
        char serial[41];

        device_new(&d);
        device_import(f, &d);
        assert_int_equal(imago_registry_revoke(f->reg, d.id, "stolen"), IMAGO_OK);
        assert_int_equal(enrol(f, &d, &d.key, d.id, &ans, serial), IMAGO_EREG_STATE);
        imago_proto_free(&ans);
        imago_privkey_free(&d.key);
}

static int count_pending(const char *id, int64_t at, void *arg)
{
        (void)id;
        (void)at;
        ++*(int *)arg;
        return 0;
}

static int rotate_pending(struct fixture *f)
{
        int n = 0;

        assert_int_equal(imago_registry_rotate_pending(f->reg, count_pending, &n), IMAGO_OK);
        return n;
}

static void test_rotation_then_seen_retires_old(void **state)
{
        struct fixture *f = *state;
        struct imago_proto_msg ans;
        struct imago_svc_seen seen;
        struct device d, other;
        char serial1[41], serial2[41], topic[128], json[256];
        char *csr, *msg;
        size_t len;
        int retired = -1, count = 0;

        device_new(&d);
        device_new(&other);
        device_import(f, &d);
        assert_int_equal(enrol(f, &d, &d.key, d.id, &ans, serial1), IMAGO_OK);
        imago_proto_free(&ans);

        assert_int_equal(imago_proto_topic(IMAGO_PROTO_ROTATE, d.id, topic, sizeof(topic)),
                         IMAGO_OK);
        /* An operator request (devices rotate) is pending until a new certificate is recorded. */
        assert_int_equal(imago_registry_rotate_request(f->reg, d.id), IMAGO_OK);
        assert_int_equal(rotate_pending(f), 1);
        /* Another key is refused under same-key. */
        csr = csr_pem(&other.key, d.id);
        msg = request(IMAGO_PROTO_ROTATE, d.id, csr, &len);
        assert_int_equal(send_req(f, topic, msg, len, &ans, serial2), IMAGO_EREG_KEY);
        imago_proto_free(&ans);
        free(msg);
        free(csr);
        assert_int_equal(rotate_pending(f), 1);

        csr = csr_pem(&d.key, d.id);
        msg = request(IMAGO_PROTO_ROTATE, d.id, csr, &len);
        assert_int_equal(send_req(f, topic, msg, len, &ans, serial2), IMAGO_OK);
        assert_string_not_equal(serial1, serial2);
        assert_int_equal(rotate_pending(f), 0);
        imago_proto_free(&ans);
        free(msg);
        free(csr);

        /* Seen with the old certificate: nothing retired. */
        snprintf(json, sizeof(json),
                 "{\"v\":1,\"id\":\"%s\",\"role\":\"device\",\"serial\":\"%s\"}", d.id, serial1);
        assert_int_equal(imago_svc_seen_parse((uint8_t *)json, strlen(json), &seen), IMAGO_OK);
        assert_int_equal(imago_svc_handle_seen(f->reg, &seen, &retired), IMAGO_OK);
        assert_int_equal(retired, 0);
        snprintf(json, sizeof(json),
                 "{\"v\":1,\"id\":\"%s\",\"role\":\"device\",\"serial\":\"%s\"}", d.id, serial2);
        assert_int_equal(imago_svc_seen_parse((uint8_t *)json, strlen(json), &seen), IMAGO_OK);
        assert_int_equal(imago_svc_handle_seen(f->reg, &seen, &retired), IMAGO_OK);
        assert_int_equal(retired, 1);
        assert_int_equal(imago_registry_cert_count(f->reg, d.id, &count), IMAGO_OK);
        assert_int_equal(count, 2);
        imago_privkey_free(&d.key);
        imago_privkey_free(&other.key);
}

static void test_seen_parser_strict(void **state)
{
        static const char *const bad[] = {
            "",
            "[]",
            "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"role\":\"device\"}",
            "{\"v\":2,\"id\":\"0123456789abcdef0123456789abcdef\",\"role\":\"device\",\"serial\":"
            "\"01\"}",
            "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"role\":\"root\",\"serial\":"
            "\"01\"}",
            "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"role\":\"device\",\"serial\":"
            "\"0X\"}",
            "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"role\":\"device\",\"serial\":"
            "\"01\",\"x\":1}",
            "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"id\":"
            "\"0123456789abcdef0123456789abcdef\",\"role\":\"device\",\"serial\":\"01\"}",
        };
        struct imago_svc_seen s;

        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_not_equal(
                    imago_svc_seen_parse((const uint8_t *)bad[i], strlen(bad[i]), &s), IMAGO_OK);
}

/* Hooks: registry state from a fixed table. */
#define DEV   "0123456789abcdef0123456789abcdef"
#define BIRTH "11111111111111111111111111111111"
#define SUSP  "22222222222222222222222222222222"

static int state_of(void *arg, const char *id)
{
        (void)arg;
        if (strcmp(id, DEV) == 0)
                return IMAGO_REG_ENROLLED;
        if (strcmp(id, BIRTH) == 0)
                return IMAGO_REG_IMPORTED;
        if (strcmp(id, SUSP) == 0)
                return IMAGO_REG_SUSPENDED;
        return 0;
}

static enum imago_authz_result hook(enum imago_svc_hook h, const char *body)
{
        struct imago_svc_hookreq req;
        const char *why = NULL;
        enum imago_authz_result res;

        assert_int_equal(imago_svc_hook_parse(h, (const uint8_t *)body, strlen(body), &req),
                         IMAGO_OK);
        res = imago_svc_hook_decide(&req, "imago-cloud", state_of, NULL, &why);
        assert_non_null(why);
        return res;
}

static void test_hook_emqx_decisions(void **state)
{
        (void)state;
        assert_int_equal(hook(IMAGO_SVC_EMQX_AUTHN,
                              "{\"clientid\":\"" DEV "\",\"username\":\"spoof\",\"cert_subject\":"
                              "\"CN=" DEV ",OU=device,O=imago\",\"cert_common_name\":\"" DEV "\"}"),
                         IMAGO_AUTHZ_ALLOW);
        /* A device certificate for an id the registry has not enrolled. */
        assert_int_equal(hook(IMAGO_SVC_EMQX_AUTHN,
                              "{\"clientid\":\"" BIRTH "\",\"username\":\"\",\"cert_subject\":"
                              "\"CN=" BIRTH ",OU=device,O=imago\",\"cert_common_name\":\"" BIRTH
                              "\"}"),
                         IMAGO_AUTHZ_DENY);
        /* Client id different from the CN. */
        assert_int_equal(hook(IMAGO_SVC_EMQX_AUTHN,
                              "{\"clientid\":\"x\",\"username\":\"\",\"cert_subject\":"
                              "\"/O=imago/OU=device/CN=" DEV "\",\"cert_common_name\":\"" DEV
                              "\"}"),
                         IMAGO_AUTHZ_DENY);
        /* Suspended. */
        assert_int_equal(hook(IMAGO_SVC_EMQX_AUTHN,
                              "{\"clientid\":\"" SUSP "\",\"username\":\"\",\"cert_subject\":"
                              "\"CN=" SUSP ",OU=device\",\"cert_common_name\":\"" SUSP "\"}"),
                         IMAGO_AUTHZ_DENY);
        assert_int_equal(hook(IMAGO_SVC_EMQX_AUTHZ,
                              "{\"clientid\":\"" DEV "\",\"username\":\"" DEV
                              "\",\"cert_subject\":\"CN=" DEV ", OU = device\",\"topic\":"
                              "\"imago/v1/d/" DEV "/state\",\"action\":\"publish\"}"),
                         IMAGO_AUTHZ_ALLOW);
        assert_int_equal(hook(IMAGO_SVC_EMQX_AUTHZ,
                              "{\"clientid\":\"" DEV "\",\"username\":\"" DEV
                              "\",\"cert_subject\":\"CN=" DEV ",OU=device\",\"topic\":"
                              "\"imago/v1/d/" BIRTH "/state\",\"action\":\"publish\"}"),
                         IMAGO_AUTHZ_DENY);
        assert_int_equal(hook(IMAGO_SVC_EMQX_AUTHZ,
                              "{\"clientid\":\"" BIRTH "\",\"username\":\"" BIRTH
                              "\",\"cert_subject\":\"CN=" BIRTH ",OU=birth\",\"topic\":"
                              "\"imago/v1/prov/" BIRTH "/req\",\"action\":\"publish\"}"),
                         IMAGO_AUTHZ_ALLOW);
        assert_int_equal(hook(IMAGO_SVC_EMQX_AUTHZ,
                              "{\"clientid\":\"" BIRTH "\",\"username\":\"" BIRTH
                              "\",\"cert_subject\":\"CN=" BIRTH ",OU=birth\",\"topic\":"
                              "\"imago/v1/d/" BIRTH "/x\",\"action\":\"publish\"}"),
                         IMAGO_AUTHZ_DENY);
        /* The service name with a device OU is nobody. */
        assert_int_equal(hook(IMAGO_SVC_EMQX_AUTHZ,
                              "{\"clientid\":\"imago-cloud\",\"username\":\"imago-cloud\","
                              "\"cert_subject\":\"CN=imago-cloud,OU=device\",\"topic\":"
                              "\"imago/v1/x\",\"action\":\"publish\"}"),
                         IMAGO_AUTHZ_DENY);
}

static void test_hook_vernemq_decisions(void **state)
{
        (void)state;
        assert_int_equal(hook(IMAGO_SVC_VMQ_REGISTER,
                              "{\"client_id\":\"" DEV "\",\"username\":\"" DEV
                              "\",\"peer_addr\":\"127.0.0.1\","
                              "\"mountpoint\":\"\"}"),
                         IMAGO_AUTHZ_ALLOW);
        assert_int_equal(hook(IMAGO_SVC_VMQ_REGISTER, "{\"client_id\":\"ffffffffffffffffffffffffff"
                                                      "ffffff\",\"username\":\"ffffffffffffffffff"
                                                      "ffffffffffffff\"}"),
                         IMAGO_AUTHZ_DENY);
        assert_int_equal(hook(IMAGO_SVC_VMQ_PUBLISH,
                              "{\"client_id\":\"" DEV "\",\"username\":\"" DEV
                              "\",\"topic\":\"imago/v1/d/" DEV
                              "/t\",\"qos\":1,\"payload\":\"eA==\"}"),
                         IMAGO_AUTHZ_ALLOW);
        assert_int_equal(hook(IMAGO_SVC_VMQ_PUBLISH,
                              "{\"client_id\":\"" DEV "\",\"username\":\"" DEV
                              "\",\"topic\":\"imago/v1/d/+/t\"}"),
                         IMAGO_AUTHZ_DENY);
        assert_int_equal(hook(IMAGO_SVC_VMQ_SUBSCRIBE,
                              "{\"client_id\":\"" DEV "\",\"username\":\"" DEV
                              "\",\"topics\":[{\"topic\":\"imago/v1/d/" DEV "/#\",\"qos\":1}]}"),
                         IMAGO_AUTHZ_ALLOW);
        /* One bad filter among good ones denies the whole subscribe. */
        assert_int_equal(hook(IMAGO_SVC_VMQ_SUBSCRIBE,
                              "{\"client_id\":\"" DEV "\",\"username\":\"" DEV
                              "\",\"topics\":[{\"topic\":\"imago/v1/d/" DEV
                              "/#\",\"qos\":1},{\"topic\":\"#\",\"qos\":0}]}"),
                         IMAGO_AUTHZ_DENY);
        assert_int_equal(hook(IMAGO_SVC_VMQ_PUBLISH,
                              "{\"client_id\":\"imago-cloud\",\"username\":"
                              "\"imago-cloud\",\"topic\":\"imago/v1/prov/" DEV "/resp\"}"),
                         IMAGO_AUTHZ_ALLOW);
        assert_string_equal(imago_svc_hook_answer(IMAGO_SVC_VMQ_PUBLISH, IMAGO_AUTHZ_DENY),
                            "{\"result\":{\"error\":\"not_allowed\"}}");
}

static void test_hook_bad_requests(void **state)
{
        static const char *const bad[] = {
            "",
            "null",
            "[]",
            "{\"clientid\":1,\"username\":\"a\",\"cert_subject\":\"OU=device\",\"topic\":\"t\","
            "\"action\":\"publish\"}",
            "{\"clientid\":\"a\",\"clientid\":\"b\",\"username\":\"a\",\"cert_subject\":\"OU="
            "device\",\"topic\":\"t\",\"action\":\"publish\"}",
            "{\"clientid\":\"a\",\"username\":\"a\",\"cert_subject\":\"OU=device\",\"topic\":\"t\","
            "\"action\":\"delete\"}",
            "{\"clientid\":\"a\",\"username\":\"a\",\"cert_subject\":\"OU=device,OU=birth\","
            "\"topic\":\"t\",\"action\":\"publish\"}",
            "{\"clientid\":\"a\",\"username\":\"a\",\"cert_subject\":\"CN=a\",\"topic\":\"t\","
            "\"action\":\"publish\"}",
            "{\"clientid\":\"a\",\"username\":\"a\",\"cert_subject\":\"OU=device\",\"topic\":"
            "\"t\"}",
        };
        struct imago_svc_hookreq req;
        uint8_t *big;
        enum imago_svc_hook h;

        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_not_equal(imago_svc_hook_parse(IMAGO_SVC_EMQX_AUTHZ,
                                                          (const uint8_t *)bad[i], strlen(bad[i]),
                                                          &req),
                                     IMAGO_OK);
        big = calloc(1, IMAGO_SVC_HOOK_MAX + 1);
        assert_non_null(big);
        assert_int_equal(
            imago_svc_hook_parse(IMAGO_SVC_EMQX_AUTHZ, big, IMAGO_SVC_HOOK_MAX + 1, &req),
            IMAGO_ETOOBIG);
        free(big);
        assert_int_equal(imago_svc_hook_from_path("/broker/v1/emqx/authz", &h), IMAGO_OK);
        assert_int_equal(h, IMAGO_SVC_EMQX_AUTHZ);
        assert_int_equal(imago_svc_hook_from_path("/broker/v1/emqx/authz/", &h), IMAGO_ENOTFOUND);
}

static void test_pid_file_refuses_a_live_owner(void **state)
{
        struct fixture *f = *state;
        char path[128], text[32];
        FILE *fp;

        snprintf(path, sizeof(path), "%s/imago-cloud.pid", f->dir);
        /* A live process (our parent) holds it: refused, file untouched. */
        fp = fopen(path, "w");
        assert_non_null(fp);
        fprintf(fp, "%ld\n", (long)getppid());
        fclose(fp);
        assert_int_equal(imago_svc_pid_write(path), IMAGO_EEXIST);
        /* A stale pid (no such process) is replaced by ours. */
        fp = fopen(path, "w");
        assert_non_null(fp);
        fprintf(fp, "2147483646\n");
        fclose(fp);
        assert_int_equal(imago_svc_pid_write(path), IMAGO_OK);
        fp = fopen(path, "r");
        assert_non_null(fp);
        assert_non_null(fgets(text, sizeof(text), fp));
        fclose(fp);
        assert_int_equal(strtol(text, NULL, 10), (long)getpid());
        /* Garbage is stale too. */
        fp = fopen(path, "w");
        assert_non_null(fp);
        fprintf(fp, "not a pid");
        fclose(fp);
        assert_int_equal(imago_svc_pid_write(path), IMAGO_OK);
        imago_svc_pid_remove(path);
        assert_int_not_equal(access(path, F_OK), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_enrol_issues_device_cert_with_birth_key),
            cmocka_unit_test(test_enrol_unknown_device_refused),
            cmocka_unit_test(test_enrol_csr_with_other_key_refused),
            cmocka_unit_test(test_enrol_csr_cn_not_the_id_refused),
            cmocka_unit_test(test_enrol_for_another_id_refused),
            cmocka_unit_test(test_garbage_gets_no_answer),
            cmocka_unit_test(test_suspended_device_cannot_enrol_or_rotate),
            cmocka_unit_test(test_rotation_then_seen_retires_old),
            cmocka_unit_test(test_seen_parser_strict),
            cmocka_unit_test(test_hook_emqx_decisions),
            cmocka_unit_test(test_hook_vernemq_decisions),
            cmocka_unit_test(test_hook_bad_requests),
            cmocka_unit_test(test_pid_file_refuses_a_live_owner),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
