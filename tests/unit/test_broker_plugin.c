/*
 * Unit tests of the Mosquitto glue of the broker plugin (src/broker/broker_plugin.c)
 * against a fake broker: the broker functions the plugin calls are defined
 * here, record what the plugin did and can be made to fail.  One test per
 * attack or failure; the real broker is exercised by tests/integration/broker_acl.sh.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/broker/broker_cert.c"
#include "../../src/broker/broker_conn.c"
#include "../../src/broker/broker_control.c"
#include "../../src/broker/broker_deny.c"
#include "../../src/broker/broker_plugin.c"

#include "crypto/keys.h"
#include "pki/pki.h"

#define PASS "broker plugin test passphrase"

/* --- the fake broker ---------------------------------------------------------------------- */

struct mosquitto {
        const char *id;
        char username[80];
        int has_username;
        X509 *cert; /* owned by the test; the plugin gets a new reference */
        bool clean;
};

static struct fake {
        MOSQ_FUNC_generic_callback cb[16];
        void *cb_user[16];
        int registered;
        int fail_set_username;
        char kicked_user[8][80];
        int n_kicked_user;
        char kicked_id[8][80];
        int n_kicked_id;
        char published_topic[64];
        char published[256];
        int n_published;
} fk;

int mosquitto_callback_register(mosquitto_plugin_id_t *identifier, int event,
                                MOSQ_FUNC_generic_callback cb_func, const void *event_data,
                                void *userdata)
{
        (void)identifier;
        if (event == MOSQ_EVT_CONTROL &&
            (event_data == NULL || strcmp(event_data, "$CONTROL/imago/v1") != 0))
                return MOSQ_ERR_INVAL;
        fk.cb[event] = cb_func;
        fk.cb_user[event] = userdata;
        fk.registered++;
        return MOSQ_ERR_SUCCESS;
}

int mosquitto_callback_unregister(mosquitto_plugin_id_t *identifier, int event,
                                  MOSQ_FUNC_generic_callback cb_func, const void *event_data)
{
        (void)identifier;
        (void)event_data;
        if (fk.cb[event] != cb_func)
                return MOSQ_ERR_NOT_FOUND;
        fk.cb[event] = NULL;
        fk.registered--;
        return MOSQ_ERR_SUCCESS;
}

void mosquitto_log_printf(int level, const char *fmt, ...)
{
        (void)level;
        (void)fmt;
}

const char *mosquitto_client_id(const struct mosquitto *client)
{
        return client->id;
}

const char *mosquitto_client_username(const struct mosquitto *client)
{
        return client->has_username ? client->username : NULL;
}

void *mosquitto_client_certificate(const struct mosquitto *client)
{
        if (client->cert == NULL)
                return NULL;
        X509_up_ref(client->cert);
        return client->cert;
}

bool mosquitto_client_clean_session(const struct mosquitto *client)
{
        return client->clean;
}

int mosquitto_set_username(struct mosquitto *client, const char *username)
{
        if (fk.fail_set_username)
                return MOSQ_ERR_NOMEM;
        snprintf(client->username, sizeof(client->username), "%s", username);
        client->has_username = 1;
        return MOSQ_ERR_SUCCESS;
}

int mosquitto_kick_client_by_clientid(const char *clientid, bool with_will)
{
        assert_false(with_will);
        snprintf(fk.kicked_id[fk.n_kicked_id++ % 8], 80, "%s", clientid);
        return MOSQ_ERR_SUCCESS;
}

int mosquitto_kick_client_by_username(const char *username, bool with_will)
{
        assert_false(with_will);
        snprintf(fk.kicked_user[fk.n_kicked_user++ % 8], 80, "%s", username);
        return MOSQ_ERR_SUCCESS;
}

int mosquitto_broker_publish_copy(const char *clientid, const char *topic, int payloadlen,
                                  const void *payload, int qos, bool retain,
                                  mosquitto_property *properties)
{
        assert_null(clientid);
        assert_int_equal(qos, 1);
        assert_false(retain);
        assert_null(properties);
        snprintf(fk.published_topic, sizeof(fk.published_topic), "%s", topic);
        snprintf(fk.published, sizeof(fk.published), "%.*s", payloadlen, (const char *)payload);
        fk.n_published++;
        return MOSQ_ERR_SUCCESS;
}

/* --- fixture: a CA hierarchy, certificates, the plugin loaded ---------------------------- */

struct fixture {
        char dir[64];
        char deny[96], fac[96], iss[96], srv[96];
        struct imago_pki_ca factory, issuing, server;
        X509 *dev_a, *dev_a2, *birth_a, *dev_b, *svc, *svc_other;
        char a[IMAGO_DEVICE_ID_LEN + 1], b[IMAGO_DEVICE_ID_LEN + 1];
        char serial_a[41], serial_a2[41];
        void *plugin;
};

static X509 *issue(const struct imago_pki_ca *ca, enum imago_pki_profile profile, const char *cn,
                   struct imago_pubkey *pub_in, char id[IMAGO_DEVICE_ID_LEN + 1])
{
        struct imago_privkey k;
        struct imago_pubkey pub;
        struct imago_pki_request req;
        X509 *x = NULL;

        if (pub_in != NULL) {
                pub = *pub_in;
        } else {
                assert_int_equal(imago_privkey_generate(IMAGO_KEY_P256, &k), IMAGO_OK);
                assert_int_equal(imago_privkey_public(&k, &pub), IMAGO_OK);
                imago_privkey_free(&k);
        }
        assert_int_equal(imago_pki_device_id(&pub, id), IMAGO_OK);
        memset(&req, 0, sizeof(req));
        req.profile = profile;
        req.common_name = cn != NULL ? cn : id;
        req.pub = &pub;
        assert_int_equal(imago_pki_issue(ca, &req, &x), IMAGO_OK);
        return x;
}

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static int load_plugin(struct fixture *f, const char *service_cn)
{
        struct mosquitto_opt o[5] = {
            {"factory_ca", f->fac},
            {"issuing_ca", f->iss},
            {"server_ca", f->srv},
            {"deny_file", f->deny},
            {"service_cn", (char *)service_cn},
        };

        return mosquitto_plugin_init(NULL, &f->plugin, o, 5);
}

static int setup(void **state)
{
        static struct fixture f;
        struct imago_pki_init_opts o;
        struct imago_privkey k;
        struct imago_pubkey pub_a;
        char id[IMAGO_DEVICE_ID_LEN + 1];

        memset(&f, 0, sizeof(f));
        memset(&fk, 0, sizeof(fk));
        snprintf(f.dir, sizeof(f.dir), "/tmp/imago-plugin-XXXXXX");
        if (mkdtemp(f.dir) == NULL)
                return -1;
        memset(&o, 0, sizeof(o));
        o.root_passphrase = PASS;
        o.dir = f.dir;
        if (imago_pki_init(&o) != IMAGO_OK ||
            imago_pki_ca_load(f.dir, IMAGO_PKI_FACTORY, PASS, &f.factory) != IMAGO_OK ||
            imago_pki_ca_load(f.dir, IMAGO_PKI_ISSUING, PASS, &f.issuing) != IMAGO_OK ||
            imago_pki_ca_load(f.dir, IMAGO_PKI_SERVER_CA, PASS, &f.server) != IMAGO_OK)
                return -1;
        snprintf(f.deny, sizeof(f.deny), "%s/deny.json", f.dir);
        snprintf(f.fac, sizeof(f.fac), "%s/%s", f.dir, imago_pki_cert_file(IMAGO_PKI_FACTORY));
        snprintf(f.iss, sizeof(f.iss), "%s/%s", f.dir, imago_pki_cert_file(IMAGO_PKI_ISSUING));
        snprintf(f.srv, sizeof(f.srv), "%s/%s", f.dir, imago_pki_cert_file(IMAGO_PKI_SERVER_CA));
        if (imago_privkey_generate(IMAGO_KEY_P256, &k) != IMAGO_OK ||
            imago_privkey_public(&k, &pub_a) != IMAGO_OK)
                return -1;
        imago_privkey_free(&k);
        f.dev_a = issue(&f.issuing, IMAGO_PKI_DEVICE, NULL, &pub_a, f.a);
        f.dev_a2 = issue(&f.issuing, IMAGO_PKI_DEVICE, NULL, &pub_a, f.a);
        f.birth_a = issue(&f.factory, IMAGO_PKI_BIRTH, NULL, &pub_a, f.a);
        f.dev_b = issue(&f.issuing, IMAGO_PKI_DEVICE, NULL, NULL, f.b);
        f.svc = issue(&f.server, IMAGO_PKI_SERVICE, "imago-cloud", NULL, id);
        f.svc_other = issue(&f.server, IMAGO_PKI_SERVICE, "other-service", NULL, id);
        if (imago_pki_cert_serial(f.dev_a, f.serial_a) != IMAGO_OK ||
            imago_pki_cert_serial(f.dev_a2, f.serial_a2) != IMAGO_OK)
                return -1;
        *state = &f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char cmd[128];

        X509_free(f->dev_a);
        X509_free(f->dev_a2);
        X509_free(f->birth_a);
        X509_free(f->dev_b);
        X509_free(f->svc);
        X509_free(f->svc_other);
        imago_pki_ca_free(&f->factory);
        imago_pki_ca_free(&f->issuing);
        imago_pki_ca_free(&f->server);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        return system(cmd) == 0 ? 0 : -1;
}

/* Each test starts with a freshly loaded plugin and an empty deny file. */
static int plugin_up(void **state)
{
        struct fixture *f = *state;

        memset(&fk, 0, sizeof(fk));
        write_file(f->deny, "{\"v\": 1, \"ids\": {}, \"serials\": []}");
        return load_plugin(f, "imago-cloud") == MOSQ_ERR_SUCCESS ? 0 : -1;
}

static int plugin_down(void **state)
{
        struct fixture *f = *state;

        mosquitto_plugin_cleanup(f->plugin, NULL, 0);
        return fk.registered == 0 ? 0 : -1;
}

static int auth(struct mosquitto *c, const char *id, X509 *cert, const char *sent_username)
{
        struct mosquitto_evt_basic_auth ev;

        memset(c, 0, sizeof(*c));
        c->id = id;
        c->cert = cert;
        c->clean = true;
        if (sent_username != NULL) {
                snprintf(c->username, sizeof(c->username), "%s", sent_username);
                c->has_username = 1;
        }
        memset(&ev, 0, sizeof(ev));
        ev.client = c;
        return fk.cb[MOSQ_EVT_BASIC_AUTH](MOSQ_EVT_BASIC_AUTH, &ev,
                                          fk.cb_user[MOSQ_EVT_BASIC_AUTH]);
}

static int acl(struct mosquitto *c, int access, const char *topic)
{
        struct mosquitto_evt_acl_check ev;

        memset(&ev, 0, sizeof(ev));
        ev.client = c;
        ev.topic = topic;
        ev.access = access;
        return fk.cb[MOSQ_EVT_ACL_CHECK](MOSQ_EVT_ACL_CHECK, &ev, fk.cb_user[MOSQ_EVT_ACL_CHECK]);
}

static int control(struct mosquitto *c, const char *msg)
{
        struct mosquitto_evt_control ev;

        memset(&ev, 0, sizeof(ev));
        ev.client = c;
        ev.topic = "$CONTROL/imago/v1";
        ev.payload = msg;
        ev.payloadlen = (uint32_t)strlen(msg);
        return fk.cb[MOSQ_EVT_CONTROL](MOSQ_EVT_CONTROL, &ev, fk.cb_user[MOSQ_EVT_CONTROL]);
}

static void topic_of(char *out, size_t n, const char *id, const char *rest)
{
        snprintf(out, n, "imago/v1/d/%s/%s", id, rest);
}

/* --- tests ------------------------------------------------------------------------------- */

static void test_options_required_and_strict(void **state)
{
        struct fixture *f = *state;
        struct mosquitto_opt missing[1] = {{"factory_ca", f->fac}};
        struct mosquitto_opt unknown[6] = {
            {"factory_ca", f->fac}, {"issuing_ca", f->iss},        {"server_ca", f->srv},
            {"deny_file", f->deny}, {"service_cn", "imago-cloud"}, {"allow_all", "true"},
        };
        void *ud = NULL;

        memset(&fk, 0, sizeof(fk));
        write_file(f->deny, "{\"v\": 1, \"ids\": {}, \"serials\": []}");
        assert_int_equal(mosquitto_plugin_init(NULL, &ud, missing, 1), MOSQ_ERR_INVAL);
        assert_int_equal(mosquitto_plugin_init(NULL, &ud, unknown, 6), MOSQ_ERR_INVAL);
        assert_int_equal(load_plugin(f, "imago/cloud"), MOSQ_ERR_INVAL);
        assert_int_equal(load_plugin(f, "#"), MOSQ_ERR_INVAL);
        assert_int_equal(fk.registered, 0);
        assert_int_equal(mosquitto_plugin_version(2, (const int[]){4, 5}), 5);
        assert_int_equal(mosquitto_plugin_version(1, (const int[]){4}), -1);
}

static void test_broker_refuses_to_start_without_valid_deny_file(void **state)
{
        struct fixture *f = *state;

        memset(&fk, 0, sizeof(fk));
        unlink(f->deny);
        assert_int_equal(load_plugin(f, "imago-cloud"), MOSQ_ERR_INVAL);
        write_file(f->deny, "{\"v\": 1, \"ids\": {}}");
        assert_int_equal(load_plugin(f, "imago-cloud"), MOSQ_ERR_INVAL);
        assert_int_equal(fk.registered, 0);
}

static void test_device_gets_cn_as_username_and_seen_event(void **state)
{
        struct fixture *f = *state;
        struct mosquitto c;
        char want[200], t[128];

        assert_int_equal(auth(&c, f->a, f->dev_a, f->b), MOSQ_ERR_SUCCESS);
        assert_string_equal(c.username, f->a); /* the username A sent (B's id) is replaced */
        assert_int_equal(fk.n_published, 1);
        assert_string_equal(fk.published_topic, "imago/v1/svc/seen");
        snprintf(want, sizeof(want),
                 "{\"v\":1,\"id\":\"%s\",\"role\":\"device\",\"serial\":\"%s\"}", f->a,
                 f->serial_a);
        assert_string_equal(fk.published, want);
        topic_of(t, sizeof(t), f->a, "state");
        assert_int_equal(acl(&c, MOSQ_ACL_WRITE, t), MOSQ_ERR_SUCCESS);
        topic_of(t, sizeof(t), f->b, "state");
        assert_int_equal(acl(&c, MOSQ_ACL_WRITE, t), MOSQ_ERR_ACL_DENIED);
        assert_int_equal(acl(&c, MOSQ_ACL_READ, t), MOSQ_ERR_ACL_DENIED);
        assert_int_equal(acl(&c, MOSQ_ACL_SUBSCRIBE, "imago/v1/d/+/state"), MOSQ_ERR_ACL_DENIED);
        assert_int_equal(acl(&c, 0x40, t), MOSQ_ERR_ACL_DENIED); /* unknown access */
}

static void test_no_certificate_refused(void **state)
{
        struct fixture *f = *state;
        struct mosquitto c;

        assert_int_equal(auth(&c, f->a, NULL, f->a), MOSQ_ERR_AUTH);
        assert_int_equal(fk.n_published, 0);
}

static void test_client_id_other_than_cn_refused(void **state)
{
        struct fixture *f = *state;
        struct mosquitto c;

        assert_int_equal(auth(&c, f->b, f->dev_a, NULL), MOSQ_ERR_AUTH);
        assert_int_equal(auth(&c, "anything", f->dev_a, NULL), MOSQ_ERR_AUTH);
        assert_int_equal(auth(&c, NULL, f->dev_a, NULL), MOSQ_ERR_AUTH);
        assert_int_equal(c.has_username, 0);
}

static void test_set_username_failure_refuses(void **state)
{
        struct fixture *f = *state;
        struct mosquitto c;
        char t[128];

        fk.fail_set_username = 1;
        assert_int_equal(auth(&c, f->a, f->dev_a, NULL), MOSQ_ERR_AUTH);
        fk.fail_set_username = 0;
        topic_of(t, sizeof(t), f->a, "state");
        assert_int_equal(acl(&c, MOSQ_ACL_WRITE, t), MOSQ_ERR_ACL_DENIED);
}

static void test_other_service_name_refused(void **state)
{
        struct fixture *f = *state;
        struct mosquitto c;

        assert_int_equal(auth(&c, "other-service", f->svc_other, NULL), MOSQ_ERR_AUTH);
        assert_int_equal(auth(&c, "imago-cloud", f->svc, NULL), MOSQ_ERR_SUCCESS);
        assert_int_equal(fk.n_published, 0); /* no seen event for the service */
}

static void test_unauthenticated_client_gets_nothing(void **state)
{
        struct fixture *f = *state;
        struct mosquitto c;
        char t[128];

        memset(&c, 0, sizeof(c));
        c.id = f->a;
        snprintf(c.username, sizeof(c.username), "%s", f->a);
        c.has_username = 1;
        topic_of(t, sizeof(t), f->a, "state");
        assert_int_equal(acl(&c, MOSQ_ACL_WRITE, t), MOSQ_ERR_ACL_DENIED);
        assert_int_equal(control(&c, "{\"op\":\"reload\"}"), MOSQ_ERR_ACL_DENIED);
}

static void test_device_on_control_has_no_effect(void **state)
{
        struct fixture *f = *state;
        struct mosquitto a, b;
        char msg[128], t[128];

        assert_int_equal(auth(&a, f->a, f->dev_a, "imago-cloud"), MOSQ_ERR_SUCCESS);
        assert_int_equal(auth(&b, f->b, f->dev_b, NULL), MOSQ_ERR_SUCCESS);
        assert_int_equal(acl(&a, MOSQ_ACL_WRITE, "$CONTROL/imago/v1"), MOSQ_ERR_ACL_DENIED);
        snprintf(msg, sizeof(msg), "{\"op\":\"deny\",\"id\":\"%s\",\"reason\":\"revoked\"}", f->b);
        assert_int_equal(control(&a, msg), MOSQ_ERR_ACL_DENIED);
        assert_int_equal(fk.n_kicked_user, 0);
        topic_of(t, sizeof(t), f->b, "state");
        assert_int_equal(acl(&b, MOSQ_ACL_WRITE, t), MOSQ_ERR_SUCCESS);
}

static void test_device_named_like_the_service_cannot_control(void **state)
{
        struct fixture *f = *state;
        struct mosquitto a;
        char msg[128];

        /* a service name that is also a device id: the role, not only the name, decides */
        mosquitto_plugin_cleanup(f->plugin, NULL, 0);
        assert_int_equal(load_plugin(f, f->a), MOSQ_ERR_SUCCESS);
        assert_int_equal(auth(&a, f->a, f->dev_a, NULL), MOSQ_ERR_SUCCESS);
        assert_int_equal(acl(&a, MOSQ_ACL_WRITE, "$CONTROL/imago/v1"), MOSQ_ERR_ACL_DENIED);
        snprintf(msg, sizeof(msg), "{\"op\":\"deny\",\"id\":\"%s\",\"reason\":\"revoked\"}", f->b);
        assert_int_equal(control(&a, msg), MOSQ_ERR_ACL_DENIED);
        assert_int_equal(fk.n_kicked_user, 0);
}

static void test_deny_kicks_and_refuses_then_allow_resumes(void **state)
{
        struct fixture *f = *state;
        struct mosquitto a, svc, b;
        char msg[128], t[128];

        assert_int_equal(auth(&a, f->a, f->dev_a, NULL), MOSQ_ERR_SUCCESS);
        assert_int_equal(auth(&b, f->b, f->dev_b, NULL), MOSQ_ERR_SUCCESS);
        assert_int_equal(auth(&svc, "imago-cloud", f->svc, NULL), MOSQ_ERR_SUCCESS);
        snprintf(msg, sizeof(msg), "{\"op\":\"deny\",\"id\":\"%s\",\"reason\":\"suspended\"}",
                 f->a);
        assert_int_equal(control(&svc, msg), MOSQ_ERR_SUCCESS);
        assert_int_equal(fk.n_kicked_user, 1);
        assert_string_equal(fk.kicked_user[0], f->a);
        /* until the kick lands, the session gets nothing; queued deliveries neither */
        topic_of(t, sizeof(t), f->a, "state");
        assert_int_equal(acl(&a, MOSQ_ACL_WRITE, t), MOSQ_ERR_ACL_DENIED);
        assert_int_equal(acl(&a, MOSQ_ACL_READ, t), MOSQ_ERR_ACL_DENIED);
        assert_int_equal(auth(&a, f->a, f->dev_a, NULL), MOSQ_ERR_AUTH);
        assert_int_equal(auth(&a, f->a, f->birth_a, NULL), MOSQ_ERR_AUTH); /* birth too */
        topic_of(t, sizeof(t), f->b, "state");
        assert_int_equal(acl(&b, MOSQ_ACL_WRITE, t), MOSQ_ERR_SUCCESS);
        snprintf(msg, sizeof(msg), "{\"op\":\"allow\",\"id\":\"%s\"}", f->a);
        assert_int_equal(control(&svc, msg), MOSQ_ERR_SUCCESS);
        assert_int_equal(auth(&a, f->a, f->dev_a, NULL), MOSQ_ERR_SUCCESS);
}

static void test_deny_serial_cuts_only_that_certificate(void **state)
{
        struct fixture *f = *state;
        struct mosquitto a, svc, b;
        char msg[128];

        assert_int_equal(auth(&a, f->a, f->dev_a, NULL), MOSQ_ERR_SUCCESS);
        assert_int_equal(auth(&b, f->b, f->dev_b, NULL), MOSQ_ERR_SUCCESS);
        assert_int_equal(auth(&svc, "imago-cloud", f->svc, NULL), MOSQ_ERR_SUCCESS);
        snprintf(msg, sizeof(msg), "{\"op\":\"deny-serial\",\"serial\":\"%s\"}", f->serial_a);
        assert_int_equal(control(&svc, msg), MOSQ_ERR_SUCCESS);
        assert_int_equal(fk.n_kicked_id, 1);
        assert_string_equal(fk.kicked_id[0], f->a);
        assert_int_equal(auth(&a, f->a, f->dev_a, NULL), MOSQ_ERR_AUTH);
        assert_int_equal(auth(&a, f->a, f->dev_a2, NULL), MOSQ_ERR_SUCCESS);
        /* A now runs with its new certificate: denying the old serial again kicks nobody */
        assert_int_equal(control(&svc, msg), MOSQ_ERR_SUCCESS);
        assert_int_equal(fk.n_kicked_id, 1);
}

static void test_reload_kicks_denied_and_bad_file_keeps_set(void **state)
{
        struct fixture *f = *state;
        struct mosquitto a, svc, b;
        char text[256];

        assert_int_equal(auth(&a, f->a, f->dev_a, NULL), MOSQ_ERR_SUCCESS);
        assert_int_equal(auth(&b, f->b, f->dev_b, NULL), MOSQ_ERR_SUCCESS);
        assert_int_equal(auth(&svc, "imago-cloud", f->svc, NULL), MOSQ_ERR_SUCCESS);
        snprintf(text, sizeof(text), "{\"v\": 1, \"ids\": {\"%s\": \"revoked\"}, \"serials\": []}",
                 f->b);
        write_file(f->deny, text);
        assert_int_equal(control(&svc, "{\"op\":\"reload\"}"), MOSQ_ERR_SUCCESS);
        assert_int_equal(fk.n_kicked_id, 1);
        assert_string_equal(fk.kicked_id[0], f->b);
        write_file(f->deny, "not json");
        assert_int_equal(control(&svc, "{\"op\":\"reload\"}"), MOSQ_ERR_SUCCESS);
        assert_int_equal(auth(&b, f->b, f->dev_b, NULL), MOSQ_ERR_AUTH);
        /* a malformed control message changes nothing and keeps the service connected */
        assert_int_equal(control(&svc, "{\"op\":\"allow\"}"), MOSQ_ERR_SUCCESS);
        assert_int_equal(auth(&b, f->b, f->dev_b, NULL), MOSQ_ERR_AUTH);
        /* SIGHUP */
        write_file(f->deny, "{\"v\": 1, \"ids\": {}, \"serials\": []}");
        assert_int_equal(fk.cb[MOSQ_EVT_RELOAD](MOSQ_EVT_RELOAD, NULL, fk.cb_user[MOSQ_EVT_RELOAD]),
                         MOSQ_ERR_SUCCESS);
        assert_int_equal(auth(&b, f->b, f->dev_b, NULL), MOSQ_ERR_SUCCESS);
}

static void test_birth_takeover_of_device_session_reads_nothing(void **state)
{
        struct fixture *f = *state;
        struct mosquitto dev, birth;
        char t[128];

        assert_int_equal(auth(&dev, f->a, f->dev_a, NULL), MOSQ_ERR_SUCCESS);
        dev.clean = false;
        assert_int_equal(auth(&birth, f->a, f->birth_a, NULL), MOSQ_ERR_SUCCESS);
        /* a delivery to the inherited session, whichever context the broker passes */
        topic_of(t, sizeof(t), f->a, "rot/now");
        assert_int_equal(acl(&birth, MOSQ_ACL_READ, t), MOSQ_ERR_ACL_DENIED);
        assert_int_equal(acl(&dev, MOSQ_ACL_READ, t), MOSQ_ERR_ACL_DENIED);
        snprintf(t, sizeof(t), "imago/v1/prov/%s/resp", f->a);
        assert_int_equal(acl(&birth, MOSQ_ACL_READ, t), MOSQ_ERR_SUCCESS);
}

static void test_will_checked_after_disconnect_then_reaped(void **state)
{
        struct fixture *f = *state;
        struct mosquitto a;
        struct mosquitto_evt_disconnect ev;
        struct mosquitto_evt_tick tick;
        char own[128], other[128];

        assert_int_equal(auth(&a, f->a, f->dev_a, NULL), MOSQ_ERR_SUCCESS);
        memset(&ev, 0, sizeof(ev));
        ev.client = &a;
        assert_int_equal(
            fk.cb[MOSQ_EVT_DISCONNECT](MOSQ_EVT_DISCONNECT, &ev, fk.cb_user[MOSQ_EVT_DISCONNECT]),
            MOSQ_ERR_SUCCESS);
        topic_of(own, sizeof(own), f->a, "lwt");
        topic_of(other, sizeof(other), f->b, "state");
        assert_int_equal(acl(&a, MOSQ_ACL_WRITE, own), MOSQ_ERR_SUCCESS);
        assert_int_equal(acl(&a, MOSQ_ACL_WRITE, other), MOSQ_ERR_ACL_DENIED);
        memset(&tick, 0, sizeof(tick));
        assert_int_equal(fk.cb[MOSQ_EVT_TICK](MOSQ_EVT_TICK, &tick, fk.cb_user[MOSQ_EVT_TICK]),
                         MOSQ_ERR_SUCCESS);
        /* still there within the grace period */
        assert_int_equal(acl(&a, MOSQ_ACL_WRITE, own), MOSQ_ERR_SUCCESS);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_options_required_and_strict),
            cmocka_unit_test(test_broker_refuses_to_start_without_valid_deny_file),
            cmocka_unit_test_setup_teardown(test_device_gets_cn_as_username_and_seen_event,
                                            plugin_up, plugin_down),
            cmocka_unit_test_setup_teardown(test_no_certificate_refused, plugin_up, plugin_down),
            cmocka_unit_test_setup_teardown(test_client_id_other_than_cn_refused, plugin_up,
                                            plugin_down),
            cmocka_unit_test_setup_teardown(test_set_username_failure_refuses, plugin_up,
                                            plugin_down),
            cmocka_unit_test_setup_teardown(test_other_service_name_refused, plugin_up,
                                            plugin_down),
            cmocka_unit_test_setup_teardown(test_unauthenticated_client_gets_nothing, plugin_up,
                                            plugin_down),
            cmocka_unit_test_setup_teardown(test_device_on_control_has_no_effect, plugin_up,
                                            plugin_down),
            cmocka_unit_test_setup_teardown(test_device_named_like_the_service_cannot_control,
                                            plugin_up, plugin_down),
            cmocka_unit_test_setup_teardown(test_deny_kicks_and_refuses_then_allow_resumes,
                                            plugin_up, plugin_down),
            cmocka_unit_test_setup_teardown(test_deny_serial_cuts_only_that_certificate, plugin_up,
                                            plugin_down),
            cmocka_unit_test_setup_teardown(test_reload_kicks_denied_and_bad_file_keeps_set,
                                            plugin_up, plugin_down),
            cmocka_unit_test_setup_teardown(test_birth_takeover_of_device_session_reads_nothing,
                                            plugin_up, plugin_down),
            cmocka_unit_test_setup_teardown(test_will_checked_after_disconnect_then_reaped,
                                            plugin_up, plugin_down),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
