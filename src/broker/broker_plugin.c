/* imago_broker: the Mosquitto glue (plugin API v5).  See broker.h and docs/broker.md. */
#define _POSIX_C_SOURCE 200809L
#include "broker/broker.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include "base/err.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT int mosquitto_plugin_version(int supported_version_count, const int *supported_versions);
EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
                                 struct mosquitto_opt *options, int option_count);
EXPORT int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options,
                                    int option_count);

struct plugin {
        mosquitto_plugin_id_t *pid;
        struct broker_cas cas;
        char *deny_file;
        char service_cn[IMAGO_AUTHZ_NAME_MAX + 1];
        struct broker_deny deny;
        struct broker_conns conns;
        int64_t last_reap;
};

#define BROKER_REAP_EVERY 10 /* seconds between sweeps of ended clean sessions */
#define BROKER_GONE_KEEP  60 /* seconds an ended clean session's identity is kept */

#define LOG(level, ...) mosquitto_log_printf((level), "imago: " __VA_ARGS__)

static const char *role_name(enum imago_authz_role role)
{
        switch (role) {
        case IMAGO_AUTHZ_BIRTH:
                return "birth";
        case IMAGO_AUTHZ_DEVICE:
                return "device";
        case IMAGO_AUTHZ_SERVICE:
                return "service";
        case IMAGO_AUTHZ_NONE:
        default:
                return "none";
        }
}

/* Denied by id (device and birth identities) or by certificate serial. */
static int is_denied(const struct plugin *p, const struct imago_authz_identity *who,
                     const char *serial)
{
        if (who->role != IMAGO_AUTHZ_SERVICE &&
            broker_deny_id_reason(&p->deny, who->name) != BROKER_DENY_NONE)
                return 1;
        return broker_deny_has_serial(&p->deny, serial);
}

static void publish_seen(const struct imago_authz_identity *who, const char *serial)
{
        char msg[160];
        int n;

        /* id and serial are lowercase hex (checked): no JSON escaping needed */
        n = snprintf(msg, sizeof(msg), "{\"v\":1,\"id\":\"%s\",\"role\":\"%s\",\"serial\":\"%s\"}",
                     who->name, role_name(who->role), serial);
        if (n <= 0 || (size_t)n >= sizeof(msg))
                return;
        if (mosquitto_broker_publish_copy(NULL, BROKER_SEEN_TOPIC, n, msg, 1, false, NULL) !=
            MOSQ_ERR_SUCCESS)
                LOG(MOSQ_LOG_WARNING, "seen event for %s not published", who->name);
}

/* Decide a connection; fills *e on success.  Returns an IMAGO_E* code. */
static int authenticate(struct plugin *p, struct mosquitto *client, struct broker_conn *e)
{
        struct broker_cert_facts f;
        enum imago_authz_role role;
        const char *client_id, *why = NULL;
        X509 *cert;
        int r;

        memset(e, 0, sizeof(*e));
        cert = mosquitto_client_certificate(client);
        if (cert == NULL) {
                LOG(MOSQ_LOG_NOTICE, "refused: no client certificate");
                return IMAGO_EPERM;
        }
        r = broker_cert_facts(cert, &p->cas, &f);
        X509_free(cert);
        if (r != IMAGO_OK) {
                LOG(MOSQ_LOG_NOTICE, "refused: certificate not usable (%s)", imago_errname(r));
                return r;
        }
        role = imago_authz_role_of(f.ou, f.issuer, f.cn);
        if (role == IMAGO_AUTHZ_SERVICE && strcmp(f.cn, p->service_cn) != 0)
                role = IMAGO_AUTHZ_NONE;
        if (imago_authz_identity_set(&e->who, role, f.cn) != IMAGO_AUTHZ_ALLOW) {
                LOG(MOSQ_LOG_NOTICE,
                    "refused: no imago identity (OU and issuer disagree or bad CN)");
                return IMAGO_EPERM;
        }
        client_id = mosquitto_client_id(client);
        if (client_id == NULL || strcmp(client_id, f.cn) != 0) {
                LOG(MOSQ_LOG_NOTICE, "refused %s: client id is not the certificate CN", f.cn);
                return IMAGO_EPERM;
        }
        if (imago_authz_connect(&e->who, is_denied(p, &e->who, f.serial), &why) !=
            IMAGO_AUTHZ_ALLOW) {
                LOG(MOSQ_LOG_NOTICE, "refused %s (serial %s): %s", f.cn, f.serial, why);
                return IMAGO_EPERM;
        }
        memcpy(e->client_id, f.cn, sizeof(e->client_id));
        memcpy(e->serial, f.serial, sizeof(e->serial));
        e->client = client;
        return IMAGO_OK;
}

static int on_basic_auth(int event, void *event_data, void *userdata)
{
        struct mosquitto_evt_basic_auth *ed = event_data;
        struct plugin *p = userdata;
        struct broker_conn e;

        (void)event;
        if (authenticate(p, ed->client, &e) != IMAGO_OK)
                return MOSQ_ERR_AUTH;
        /* The CN is the username, whatever the client sent. */
        if (mosquitto_set_username(ed->client, e.who.name) != MOSQ_ERR_SUCCESS ||
            broker_conns_put(&p->conns, &e) != IMAGO_OK) {
                LOG(MOSQ_LOG_ERR, "refused %s: out of memory", e.who.name);
                return MOSQ_ERR_AUTH;
        }
        LOG(MOSQ_LOG_INFO, "%s connected as %s (serial %s)", e.who.name, role_name(e.who.role),
            e.serial);
        if (e.who.role != IMAGO_AUTHZ_SERVICE)
                publish_seen(&e.who, e.serial);
        return MOSQ_ERR_SUCCESS;
}

/* The entry of an authenticated client, or NULL. */
static struct broker_conn *conn_of(struct plugin *p, struct mosquitto *client)
{
        const char *username = mosquitto_client_username(client);
        struct broker_conn *e = broker_conns_get(&p->conns, mosquitto_client_id(client));

        if (e == NULL || username == NULL || strcmp(username, e->who.name) != 0)
                return NULL;
        return e;
}

/* A client-chosen topic made safe for one log line (control bytes replaced, bounded). */
static const char *log_topic(const char *topic, char out[IMAGO_AUTHZ_TOPIC_MAX + 4])
{
        size_t i;

        for (i = 0; topic[i] != '\0' && i < IMAGO_AUTHZ_TOPIC_MAX; i++) {
                unsigned char c = (unsigned char)topic[i];

                out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
        }
        if (topic[i] != '\0') {
                memcpy(out + i, "...", 3);
                i += 3;
        }
        out[i] = '\0';
        return out;
}

static int on_acl_check(int event, void *event_data, void *userdata)
{
        struct mosquitto_evt_acl_check *ed = event_data;
        struct plugin *p = userdata;
        enum imago_authz_action action;
        struct broker_conn *e;
        const char *why = NULL;
        char shown[IMAGO_AUTHZ_TOPIC_MAX + 4];

        (void)event;
        e = conn_of(p, ed->client);
        if (e == NULL || ed->topic == NULL || is_denied(p, &e->who, e->serial))
                return MOSQ_ERR_ACL_DENIED;
        switch (ed->access) {
        case MOSQ_ACL_WRITE:
                action = IMAGO_AUTHZ_PUBLISH;
                break;
        case MOSQ_ACL_SUBSCRIBE:
        case MOSQ_ACL_UNSUBSCRIBE:
        case MOSQ_ACL_READ: /* delivery: decided as a subscription to that exact topic */
                action = IMAGO_AUTHZ_SUBSCRIBE;
                break;
        default:
                return MOSQ_ERR_ACL_DENIED;
        }
        if (imago_authz_topic(&e->who, action, ed->topic, strlen(ed->topic), &why) !=
            IMAGO_AUTHZ_ALLOW) {
                LOG(MOSQ_LOG_NOTICE, "denied %s access %d to '%s': %s", e->who.name, ed->access,
                    log_topic(ed->topic, shown), why);
                return MOSQ_ERR_ACL_DENIED;
        }
        return MOSQ_ERR_SUCCESS;
}

struct kick_list {
        char (*ids)[IMAGO_AUTHZ_NAME_MAX + 1];
        size_t n, cap;
        const struct plugin *p;
        const char *serial; /* only entries with this serial; NULL: every denied entry */
};

static void collect(struct broker_conn *e, void *arg)
{
        struct kick_list *k = arg;
        void *grown;

        if (k->serial != NULL ? strcmp(e->serial, k->serial) != 0
                              : !is_denied(k->p, &e->who, e->serial))
                return;
        if (k->n == k->cap) {
                size_t ncap = k->cap == 0 ? 16 : k->cap * 2;

                grown = realloc(k->ids, ncap * sizeof(*k->ids));
                if (grown == NULL)
                        return; /* the ACL check still denies everything it does */
                k->ids = grown;
                k->cap = ncap;
        }
        memcpy(k->ids[k->n++], e->client_id, sizeof(k->ids[0]));
}

/* Kick the matching clients; collected first since a kick may call on_disconnect. */
static void kick_matching(struct plugin *p, const char *serial)
{
        struct kick_list k;
        size_t i;

        memset(&k, 0, sizeof(k));
        k.p = p;
        k.serial = serial;
        broker_conns_each(&p->conns, collect, &k);
        for (i = 0; i < k.n; i++) {
                LOG(MOSQ_LOG_NOTICE, "kicking %s", k.ids[i]);
                mosquitto_kick_client_by_clientid(k.ids[i], false);
        }
        free(k.ids);
}

static int reload_deny(struct plugin *p)
{
        int r = broker_deny_load(p->deny_file, &p->deny);

        if (r != IMAGO_OK) {
                LOG(MOSQ_LOG_ERR, "deny file %s not loaded (%s); keeping the previous deny set",
                    p->deny_file, imago_errname(r));
                return r;
        }
        LOG(MOSQ_LOG_NOTICE, "deny file loaded: %zu ids, %zu serials", p->deny.n_ids,
            p->deny.n_serials);
        kick_matching(p, NULL);
        return IMAGO_OK;
}

static int apply_control(struct plugin *p, const struct broker_control *c)
{
        int r = IMAGO_OK;

        switch (c->op) {
        case BROKER_OP_DENY:
                r = broker_deny_add_id(&p->deny, c->id, c->reason);
                if (r == IMAGO_OK) {
                        LOG(MOSQ_LOG_NOTICE, "deny %s (%s)", c->id,
                            c->reason == BROKER_DENY_REVOKED ? "revoked" : "suspended");
                        mosquitto_kick_client_by_username(c->id, false);
                }
                break;
        case BROKER_OP_ALLOW:
                LOG(MOSQ_LOG_NOTICE, "allow %s", c->id);
                broker_deny_remove_id(&p->deny, c->id);
                break;
        case BROKER_OP_DENY_SERIAL:
                r = broker_deny_add_serial(&p->deny, c->serial);
                if (r == IMAGO_OK) {
                        LOG(MOSQ_LOG_NOTICE, "deny serial %s", c->serial);
                        kick_matching(p, c->serial);
                }
                break;
        case BROKER_OP_RELOAD:
                r = reload_deny(p);
                break;
        default:
                r = IMAGO_EINVAL;
                break;
        }
        return r;
}

static int on_control(int event, void *event_data, void *userdata)
{
        struct mosquitto_evt_control *ed = event_data;
        struct plugin *p = userdata;
        struct broker_control c;
        struct broker_conn *e;
        int r;

        (void)event;
        e = conn_of(p, ed->client);
        if (e == NULL || e->who.role != IMAGO_AUTHZ_SERVICE ||
            strcmp(e->who.name, p->service_cn) != 0) {
                LOG(MOSQ_LOG_WARNING, "control message from a non-service client ignored");
                return MOSQ_ERR_ACL_DENIED;
        }
        r = broker_control_parse(ed->payload, ed->payloadlen, &c);
        if (r == IMAGO_OK)
                r = apply_control(p, &c);
        if (r != IMAGO_OK)
                LOG(MOSQ_LOG_ERR, "control message not applied (%s)", imago_errname(r));
        /* The service's connection is not dropped for a bad message. */
        return MOSQ_ERR_SUCCESS;
}

static int on_disconnect(int event, void *event_data, void *userdata)
{
        struct mosquitto_evt_disconnect *ed = event_data;
        struct plugin *p = userdata;

        (void)event;
        /*
         * A persistent session keeps its identity: messages queued for it are still
         * checked.  A clean one is reaped later: its will is published (and checked)
         * after this event.
         */
        if (mosquitto_client_clean_session(ed->client))
                broker_conns_mark_gone(&p->conns, mosquitto_client_id(ed->client), ed->client,
                                       (int64_t)time(NULL));
        return MOSQ_ERR_SUCCESS;
}

static int on_tick(int event, void *event_data, void *userdata)
{
        struct plugin *p = userdata;
        int64_t now = (int64_t)time(NULL);

        (void)event;
        (void)event_data;
        if (now - p->last_reap >= BROKER_REAP_EVERY) {
                broker_conns_reap(&p->conns, now, BROKER_GONE_KEEP);
                p->last_reap = now;
        }
        return MOSQ_ERR_SUCCESS;
}

static int on_reload(int event, void *event_data, void *userdata)
{
        (void)event;
        (void)event_data;
        reload_deny(userdata);
        return MOSQ_ERR_SUCCESS;
}

EXPORT int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
        int i;

        for (i = 0; i < supported_version_count; i++)
                if (supported_versions[i] == 5)
                        return 5;
        return -1;
}

static void plugin_free(struct plugin *p)
{
        X509_free(p->cas.factory);
        X509_free(p->cas.issuing);
        X509_free(p->cas.server);
        free(p->deny_file);
        broker_deny_free(&p->deny);
        broker_conns_free(&p->conns);
        memset(p, 0, sizeof(*p));
}

static int read_options(struct plugin *p, const struct mosquitto_opt *o, int n)
{
        const char *service_cn = NULL;
        int i, r = IMAGO_OK;

        for (i = 0; i < n && r == IMAGO_OK; i++) {
                if (strcmp(o[i].key, "factory_ca") == 0 && p->cas.factory == NULL)
                        r = broker_cert_load(o[i].value, &p->cas.factory);
                else if (strcmp(o[i].key, "issuing_ca") == 0 && p->cas.issuing == NULL)
                        r = broker_cert_load(o[i].value, &p->cas.issuing);
                else if (strcmp(o[i].key, "server_ca") == 0 && p->cas.server == NULL)
                        r = broker_cert_load(o[i].value, &p->cas.server);
                else if (strcmp(o[i].key, "deny_file") == 0 && p->deny_file == NULL)
                        r = (p->deny_file = strdup(o[i].value)) == NULL ? IMAGO_ENOMEM : IMAGO_OK;
                else if (strcmp(o[i].key, "service_cn") == 0 && service_cn == NULL)
                        service_cn = o[i].value;
                else
                        r = IMAGO_EUSAGE; /* unknown or repeated option */
                if (r != IMAGO_OK)
                        LOG(MOSQ_LOG_ERR, "plugin_opt_%s: %s", o[i].key, imago_errname(r));
        }
        if (r != IMAGO_OK)
                return r;
        if (p->cas.factory == NULL || p->cas.issuing == NULL || p->cas.server == NULL ||
            p->deny_file == NULL || service_cn == NULL) {
                LOG(MOSQ_LOG_ERR, "plugin options factory_ca, issuing_ca, server_ca, deny_file "
                                  "and service_cn are all required");
                return IMAGO_EUSAGE;
        }
        if (imago_authz_role_of("service", IMAGO_AUTHZ_ISSUER_SERVER, service_cn) !=
            IMAGO_AUTHZ_SERVICE) {
                LOG(MOSQ_LOG_ERR, "plugin_opt_service_cn is not a valid service name");
                return IMAGO_EUSAGE;
        }
        memcpy(p->service_cn, service_cn, strlen(service_cn) + 1);
        return IMAGO_OK;
}

EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
                                 struct mosquitto_opt *options, int option_count)
{
        struct plugin *p;
        int r;

        /* one state per plugin line: a second "plugin" line gets its own */
        p = calloc(1, sizeof(*p));
        if (p == NULL)
                return MOSQ_ERR_NOMEM;
        p->pid = identifier;
        r = read_options(p, options, option_count);
        if (r != IMAGO_OK)
                goto out;
        /* Fail closed: the broker does not start without a valid deny file. */
        r = broker_deny_load(p->deny_file, &p->deny);
        if (r != IMAGO_OK) {
                LOG(MOSQ_LOG_ERR, "deny file %s: %s", p->deny_file, imago_errname(r));
                goto out;
        }
        if (mosquitto_callback_register(identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, p) ||
            mosquitto_callback_register(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, p) ||
            mosquitto_callback_register(identifier, MOSQ_EVT_CONTROL, on_control,
                                        BROKER_CONTROL_TOPIC, p) ||
            mosquitto_callback_register(identifier, MOSQ_EVT_DISCONNECT, on_disconnect, NULL, p) ||
            mosquitto_callback_register(identifier, MOSQ_EVT_RELOAD, on_reload, NULL, p) ||
            mosquitto_callback_register(identifier, MOSQ_EVT_TICK, on_tick, NULL, p)) {
                LOG(MOSQ_LOG_ERR, "cannot register callbacks");
                r = IMAGO_ESTATE;
                goto out;
        }
        *userdata = p;
        LOG(MOSQ_LOG_NOTICE, "plugin ready (service %s, %zu denied ids, %zu denied serials)",
            p->service_cn, p->deny.n_ids, p->deny.n_serials);
out:
        if (r != IMAGO_OK) {
                plugin_free(p);
                free(p);
                return MOSQ_ERR_INVAL;
        }
        return MOSQ_ERR_SUCCESS;
}

EXPORT int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
        struct plugin *p = userdata;

        (void)options;
        (void)option_count;
        if (p == NULL)
                return MOSQ_ERR_SUCCESS;
        mosquitto_callback_unregister(p->pid, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
        mosquitto_callback_unregister(p->pid, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
        mosquitto_callback_unregister(p->pid, MOSQ_EVT_CONTROL, on_control, BROKER_CONTROL_TOPIC);
        mosquitto_callback_unregister(p->pid, MOSQ_EVT_DISCONNECT, on_disconnect, NULL);
        mosquitto_callback_unregister(p->pid, MOSQ_EVT_RELOAD, on_reload, NULL);
        mosquitto_callback_unregister(p->pid, MOSQ_EVT_TICK, on_tick, NULL);
        plugin_free(p);
        free(p);
        return MOSQ_ERR_SUCCESS;
}
