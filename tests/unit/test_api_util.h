/*
 * Test fixture for imago_api: a real API server on 127.0.0.1:<ephemeral>
 * with a TLS certificate generated here, on an event_base run by a thread of
 * its own; a real appdb, audit log and registry in a temporary directory;
 * a real devsvc whose publish callback records the messages and, when asked,
 * plays the device: it verifies the signed command envelope with the
 * command public key and answers on the loop with a result built by
 * imago_cmdenv_result_build() through imago_devsvc_on_message().  The
 * client is imago_httpc_request() pinned to the certificate's fingerprint.
 * The test thread has its own database handles to set up and check rows.
 * The clock (config.now of the api and the devsvc) is fx_now.
 * Include after <cmocka.h>.
 */
#ifndef IMAGO_TEST_API_UTIL_H
#define IMAGO_TEST_API_UTIL_H

#include <event2/event.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "cloud/api/api.h"
#include "cloud/appdb/appdb.h"
#include "cloud/audit/audit.h"
#include "cloud/auth/auth.h"
#include "cloud/devsvc/devsvc.h"
#include "cloud/registry/registry.h"
#include "cmdenv/cmdenv.h"
#include "crypto/keys.h"
#include "net/https.h"
#include "regtoken/regtoken.h"

#define FX_T0       1800000000LL
#define FX_PASSWORD "correct horse battery staple"
#define FX_PUB_MAX  64

enum fx_answer {
        FX_SILENT = 0, /* the device never answers */
        FX_ANSWER = 1, /* answers "ok" after fx->answer_ms on the loop */
        FX_FAIL = 2,   /* answers "failed" */
};

struct fx {
        char dir[128];
        char cert[192], key[192];
        char pin[65];
        struct event_base *base;
        struct event *tick;
        SSL_CTX *ssl;
        struct imago_appdb *db;
        struct imago_audit *audit;
        struct imago_registry *reg;
        struct imago_devsvc *ds;
        struct imago_api *api;
        struct imago_regtoken_key regkey;
        struct imago_privkey cmdkey;
        struct imago_pubkey cmdpub;
        uint16_t port;
        pthread_t th;
        int halted;
        atomic_int stop;
        atomic_int answer;
        atomic_int answer_ms;
        /* what the devsvc published (loop thread writes, test thread reads after a request) */
        pthread_mutex_t mu;
        char topics[FX_PUB_MAX][96];
        atomic_int npub;
        /* a device message injected by the test thread, delivered on the loop */
        char inj_topic[96];
        char *inj_body;
        atomic_int inj_state; /* 0 none, 1 pending, 2 delivered */
        /* the test thread's own handles */
        struct imago_appdb *tdb;
        struct imago_audit *taudit;
        struct imago_registry *treg;
};

static _Atomic int64_t fx_now = FX_T0;

static inline int64_t fx_clock(void)
{
        return atomic_load(&fx_now);
}

static inline void fx_advance(int64_t s)
{
        atomic_fetch_add(&fx_now, s);
}

/* ---- the device played by the publish callback ---- */

struct fx_msg {
        struct fx *f;
        char topic[96];
        char *body;
};

static inline void fx_deliver(evutil_socket_t fd, short what, void *arg)
{
        struct fx_msg *m = arg;

        (void)fd;
        (void)what;
        imago_devsvc_on_message(m->f->ds, m->topic, (const uint8_t *)m->body, strlen(m->body));
        free(m->body);
        free(m);
}

static inline int fx_publish(void *arg, const char *topic, const void *buf, size_t len)
{
        struct fx *f = arg;
        struct imago_cmdenv env;
        struct fx_msg *m;
        struct timeval tv;
        const char *dev;
        json_t *res;
        int n = atomic_load(&f->npub), mode = atomic_load(&f->answer);
        size_t tl = strlen(topic);

        pthread_mutex_lock(&f->mu);
        if (n < FX_PUB_MAX) {
                snprintf(f->topics[n], sizeof(f->topics[n]), "%s", topic);
                atomic_store(&f->npub, n + 1);
        }
        pthread_mutex_unlock(&f->mu);
        /* imago/v1/d/<id>/cmd */
        if (mode == FX_SILENT || tl != 11 + 32 + 4 || strcmp(topic + tl - 4, "/cmd") != 0)
                return 0;
        dev = topic + 11;
        memset(&env, 0, sizeof(env));
        {
                char id[33];

                memcpy(id, dev, 32);
                id[32] = '\0';
                assert_int_equal(
                    imago_cmdenv_verify(buf, len, &f->cmdpub, id, 0, fx_clock(), 60, &env),
                    IMAGO_OK);
                m = calloc(1, sizeof(*m));
                assert_non_null(m);
                m->f = f;
                snprintf(m->topic, sizeof(m->topic), "imago/v1/d/%s/cmd/res", id);
                res = json_pack("{s:s}", "ran", env.name);
                assert_int_equal(imago_cmdenv_result_build(id, env.seq,
                                                           mode == FX_FAIL ? IMAGO_CMDENV_FAILED
                                                                           : IMAGO_CMDENV_OK,
                                                           res, &m->body),
                                 IMAGO_OK);
                json_decref(res);
        }
        imago_cmdenv_release(&env);
        tv.tv_sec = atomic_load(&f->answer_ms) / 1000;
        tv.tv_usec = (atomic_load(&f->answer_ms) % 1000) * 1000;
        assert_int_equal(event_base_once(f->base, -1, EV_TIMEOUT, fx_deliver, m, &tv), 0);
        return 0;
}

static inline int fx_revoke(void *arg, const char *device, const char *reason)
{
        struct fx *f = arg;

        return imago_registry_revoke(f->reg, device, reason);
}

static inline void fx_cmd_done(void *arg, uint64_t cmd_id)
{
        struct fx *f = arg;

        imago_api_cmd_done(f->api, cmd_id);
}

/* Number of messages published on topics ending with suffix. */
static inline int fx_published(struct fx *f, const char *suffix)
{
        int i, n = 0, total = atomic_load(&f->npub);
        size_t sl = strlen(suffix);

        pthread_mutex_lock(&f->mu);
        for (i = 0; i < total; i++) {
                size_t tl = strlen(f->topics[i]);

                if (tl >= sl && strcmp(f->topics[i] + tl - sl, suffix) == 0)
                        n++;
        }
        pthread_mutex_unlock(&f->mu);
        return n;
}

/* ---- TLS certificate for 127.0.0.1 ---- */

static inline void fx_make_cert(struct fx *f)
{
        EVP_PKEY *pk = EVP_EC_gen("P-256");
        X509 *x = X509_new();
        X509_NAME *nm;
        X509_EXTENSION *ext;
        X509V3_CTX ctx;
        FILE *fp;
        int fd;

        assert_non_null(pk);
        assert_non_null(x);
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), -3600);
        X509_gmtime_adj(X509_getm_notAfter(x), 86400);
        X509_set_pubkey(x, pk);
        nm = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1,
                                   -1, 0);
        X509_set_issuer_name(x, nm);
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
        assert_non_null(ext);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
        assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
        fp = fopen(f->cert, "w");
        assert_non_null(fp);
        PEM_write_X509(fp, x);
        fclose(fp);
        fd = open(f->key, O_WRONLY | O_CREAT | O_EXCL, 0600);
        assert_true(fd >= 0);
        fp = fdopen(fd, "w");
        assert_non_null(fp);
        PEM_write_PrivateKey(fp, pk, NULL, NULL, 0, NULL, NULL);
        fclose(fp);
        X509_free(x);
        EVP_PKEY_free(pk);
        assert_int_equal(imago_https_cert_fingerprint(f->cert, f->pin), IMAGO_OK);
}

/* ---- the loop thread ---- */

static inline void fx_tick(evutil_socket_t fd, short what, void *arg)
{
        struct fx *f = arg;

        (void)fd;
        (void)what;
        if (atomic_load(&f->inj_state) == 1) {
                imago_devsvc_on_message(f->ds, f->inj_topic, (const uint8_t *)f->inj_body,
                                        strlen(f->inj_body));
                atomic_store(&f->inj_state, 2);
        }
        if (atomic_load(&f->stop))
                event_base_loopbreak(f->base);
}

static inline void fx_sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

        nanosleep(&ts, NULL);
}

/* Deliver a device message to the devsvc on the loop thread and wait for it. */
static inline void fx_inject(struct fx *f, const char *topic, const char *body)
{
        int i;

        snprintf(f->inj_topic, sizeof(f->inj_topic), "%s", topic);
        f->inj_body = strdup(body);
        assert_non_null(f->inj_body);
        atomic_store(&f->inj_state, 1);
        for (i = 0; i < 1000 && atomic_load(&f->inj_state) != 2; i++)
                fx_sleep_ms(5);
        assert_int_equal(atomic_load(&f->inj_state), 2);
        atomic_store(&f->inj_state, 0);
        free(f->inj_body);
        f->inj_body = NULL;
}

static inline void *fx_loop(void *arg)
{
        struct fx *f = arg;

        event_base_dispatch(f->base);
        return NULL;
}

static inline struct fx *fx_start(int signup)
{
        struct fx *f = calloc(1, sizeof(*f));
        struct imago_devsvc_config dc;
        struct imago_devsvc_ops ops;
        struct imago_api_config ac;
        struct timeval tv = {0, 10000};
        char path[256];

        assert_non_null(f);
        atomic_store(&fx_now, FX_T0);
        pthread_mutex_init(&f->mu, NULL);
        snprintf(f->dir, sizeof(f->dir), "/tmp/test_api.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->cert, sizeof(f->cert), "%s/api.crt", f->dir);
        snprintf(f->key, sizeof(f->key), "%s/api.key", f->dir);
        fx_make_cert(f);
        assert_int_equal(imago_https_server_ctx(f->cert, f->key, NULL, NULL, &f->ssl), IMAGO_OK);

        snprintf(path, sizeof(path), "%s/app.db", f->dir);
        assert_int_equal(imago_appdb_open(path, &f->db), IMAGO_OK);
        assert_int_equal(imago_appdb_open(path, &f->tdb), IMAGO_OK);
        snprintf(path, sizeof(path), "%s/audit.db", f->dir);
        assert_int_equal(imago_audit_open(path, &f->audit), IMAGO_OK);
        assert_int_equal(imago_audit_open(path, &f->taudit), IMAGO_OK);
        snprintf(path, sizeof(path), "sqlite:%s/registry.db", f->dir);
        assert_int_equal(imago_registry_open(path, &f->reg), IMAGO_OK);
        assert_int_equal(imago_registry_open(path, &f->treg), IMAGO_OK);
        assert_int_equal(imago_regtoken_key_generate(&f->regkey), IMAGO_OK);
        assert_int_equal(imago_privkey_generate(IMAGO_KEY_ED25519, &f->cmdkey), IMAGO_OK);
        assert_int_equal(imago_privkey_public(&f->cmdkey, &f->cmdpub), IMAGO_OK);

        f->base = event_base_new();
        assert_non_null(f->base);
        memset(&dc, 0, sizeof(dc));
        dc.db = f->db;
        dc.audit = f->audit;
        dc.reg = f->reg;
        dc.regkey = &f->regkey;
        dc.cmd_key = &f->cmdkey;
        dc.now = fx_clock;
        memset(&ops, 0, sizeof(ops));
        ops.publish = fx_publish;
        ops.revoke = fx_revoke;
        ops.cmd_done = fx_cmd_done;
        ops.arg = f;
        assert_int_equal(imago_devsvc_new(&dc, &ops, &f->ds), IMAGO_OK);

        memset(&ac, 0, sizeof(ac));
        ac.host = "127.0.0.1";
        ac.port = 0;
        ac.ssl = f->ssl;
        ac.limits.max_body = 32768;
        memset(ac.token_secret, 0x5a, sizeof(ac.token_secret));
        ac.regkey = &f->regkey;
        ac.db = f->db;
        ac.audit = f->audit;
        ac.reg = f->reg;
        ac.ds = f->ds;
        imago_auth_argon2_defaults(&ac.argon);
        ac.argon.t_cost = 1;
        ac.argon.m_kib = 64; /* cheap hashes: tests, not production */
        ac.signup = signup;
        ac.now = fx_clock;
#ifdef FX_API_CONFIG
        FX_API_CONFIG(f, &ac); /* a test's own additions (test_api_rollouts.c: rollouts) */
#endif
        assert_int_equal(imago_api_new(f->base, &ac, &f->api), IMAGO_OK);
        f->port = imago_api_port(f->api);
        assert_true(f->port != 0);

        f->tick = event_new(f->base, -1, EV_PERSIST, fx_tick, f);
        assert_non_null(f->tick);
        event_add(f->tick, &tv);
        assert_int_equal(pthread_create(&f->th, NULL, fx_loop, f), 0);
        return f;
}

static inline void fx_rm(const char *dir)
{
        static const char *const files[] = {
            "api.crt",        "api.key",         "app.db",          "app.db-wal",
            "app.db-shm",     "audit.db",        "audit.db-wal",    "audit.db-shm",
            "registry.db",    "registry.db-wal", "registry.db-shm", "registry.db-journal",
            "app.db-journal", "audit.db-journal"};
        char p[256];
        size_t i;

        for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
                unlink(p);
        }
        rmdir(dir);
}

/* Stop the loop and free the api (requests still waiting are dropped). */
static inline void fx_halt(struct fx *f)
{
        if (f->halted)
                return;
        f->halted = 1;
        atomic_store(&f->stop, 1);
        pthread_join(f->th, NULL);
        imago_api_free(f->api);
        f->api = NULL;
        /* let libevent run what freeing the connections deferred (bufferevent finalizers),
         * else event_base_free may leave a connection's memory behind */
        event_base_loop(f->base, EVLOOP_NONBLOCK);
        event_base_loop(f->base, EVLOOP_NONBLOCK);
}

static inline void fx_stop(struct fx *f)
{
        if (f == NULL)
                return;
        fx_halt(f);
        imago_devsvc_free(f->ds);
        event_free(f->tick);
        event_base_free(f->base);
        SSL_CTX_free(f->ssl);
        imago_appdb_close(f->db);
        imago_appdb_close(f->tdb);
        imago_audit_close(f->audit);
        imago_audit_close(f->taudit);
        imago_registry_close(f->reg);
        imago_registry_close(f->treg);
        imago_regtoken_key_free(&f->regkey);
        imago_privkey_free(&f->cmdkey);
        pthread_mutex_destroy(&f->mu);
        fx_rm(f->dir);
        free(f);
}

/* ---- the client ---- */

struct fx_resp {
        int status;
        json_t *j; /* parsed body or NULL */
        char *body;
};

static inline void fx_resp_free(struct fx_resp *r)
{
        json_decref(r->j);
        free(r->body);
        memset(r, 0, sizeof(*r));
}

/* One request; the answer's status and JSON (an error body is checked for its shape). */
static inline int fx_req(struct fx *f, const char *method, const char *path, const char *bearer,
                         const char *body, size_t len, struct fx_resp *out)
{
        struct imago_httpc c;
        struct imago_httpc_resp r;
        int rc;

        memset(&c, 0, sizeof(c));
        memset(&r, 0, sizeof(r));
        memset(out, 0, sizeof(*out));
        c.host = "127.0.0.1";
        c.port = f->port;
        c.pin_sha256 = f->pin;
        c.timeout_ms = 40000;
        rc = imago_httpc_request(&c, method, path, bearer, body, len, &r);
        if (rc != IMAGO_OK)
                return rc;
        out->status = r.status;
        out->body = r.body;
        r.body = NULL;
        if (out->body != NULL && out->body[0] != '\0')
                out->j = json_loads(out->body, JSON_REJECT_DUPLICATES, NULL);
        /* every error in the one format (but a 413 of evhttp's own body limit, see
         * attack_oversized_json) */
        if (out->status >= 400 && !(out->status == 413 && out->j == NULL)) {
                json_t *e = json_object_get(out->j, "error");

                assert_non_null(e);
                assert_true(json_is_string(json_object_get(e, "code")));
                assert_true(json_is_string(json_object_get(e, "message")));
        }
        imago_httpc_resp_free(&r);
        return IMAGO_OK;
}

/* Status of a request with a text body (NULL: none); *out kept if not NULL. */
static inline int fx_call(struct fx *f, const char *method, const char *path, const char *bearer,
                          const char *body, struct fx_resp *out)
{
        struct fx_resp tmp;
        int st;

        assert_int_equal(fx_req(f, method, path, bearer, body, body != NULL ? strlen(body) : 0,
                                out != NULL ? out : &tmp),
                         IMAGO_OK);
        st = out != NULL ? out->status : tmp.status;
        if (out == NULL)
                fx_resp_free(&tmp);
        return st;
}

/* The error code of an error answer ("" if none). */
static inline const char *fx_code(const struct fx_resp *r)
{
        const char *s = json_string_value(json_object_get(json_object_get(r->j, "error"), "code"));

        return s != NULL ? s : "";
}

struct fx_user {
        uint64_t id;
        char name[65];
        char access[IMAGO_AUTH_TOKEN_LEN + 1];
        char refresh[IMAGO_AUTH_REFRESH_LEN + 1];
};

static inline void fx_login(struct fx *f, struct fx_user *u)
{
        struct fx_resp r;
        char body[256];

        snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"%s\"}", u->name, FX_PASSWORD);
        assert_int_equal(fx_call(f, "POST", "/v1/auth/login", NULL, body, &r), 200);
        snprintf(u->access, sizeof(u->access), "%s",
                 json_string_value(json_object_get(r.j, "access_token")));
        snprintf(u->refresh, sizeof(u->refresh), "%s",
                 json_string_value(json_object_get(r.j, "refresh_token")));
        assert_string_equal(json_string_value(json_object_get(r.j, "token_type")), "Bearer");
        assert_int_equal(json_integer_value(json_object_get(r.j, "expires_in")), 300);
        fx_resp_free(&r);
}

/* Sign up (through the API) and log in. */
static inline void fx_user_new(struct fx *f, const char *name, struct fx_user *u)
{
        struct fx_resp r;
        char body[256];

        memset(u, 0, sizeof(*u));
        snprintf(u->name, sizeof(u->name), "%s", name);
        snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"%s\"}", name, FX_PASSWORD);
        assert_int_equal(fx_call(f, "POST", "/v1/users", NULL, body, &r), 201);
        u->id = (uint64_t)json_integer_value(json_object_get(r.j, "id"));
        assert_true(u->id > 0);
        fx_resp_free(&r);
        fx_login(f, u);
}

/* A user made directly in app.db (signup off), logged in through the API. */
static inline void fx_user_db(struct fx *f, const char *name, struct fx_user *u)
{
        struct imago_auth_argon2 p;
        char hash[IMAGO_AUTH_HASH_MAX];

        memset(u, 0, sizeof(*u));
        snprintf(u->name, sizeof(u->name), "%s", name);
        imago_auth_argon2_defaults(&p);
        p.t_cost = 1;
        p.m_kib = 64;
        assert_int_equal(imago_auth_password_hash(&p, FX_PASSWORD, strlen(FX_PASSWORD), hash),
                         IMAGO_OK);
        assert_int_equal(imago_appdb_user_add(f->tdb, name, hash, fx_clock(), &u->id), IMAGO_OK);
        fx_login(f, u);
}

/* A grant written directly in app.db. */
static inline void fx_grant(struct fx *f, const struct fx_user *u, enum imago_auth_role role,
                            const char *group, int64_t expires)
{
        struct imago_appdb_grant g;
        uint64_t id;

        memset(&g, 0, sizeof(g));
        g.user = u->id;
        g.role = (int)role;
        snprintf(g.group, sizeof(g.group), "%s", group);
        g.not_before = expires <= fx_clock() ? expires - 3600 : fx_clock() - 1;
        g.expires = expires;
        g.granted_by = u->id;
        assert_int_equal(imago_appdb_grant_add(f->tdb, &g, &id), IMAGO_OK);
}

/* An enrolled device of group (batch), bound to owner (0: nobody). */
static inline void fx_device(struct fx *f, const char *id, const char *group, uint64_t owner)
{
        static const char pem[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        uint8_t kh[32];
        char serial[41], *old = NULL;

        memset(kh, 0, sizeof(kh));
        memcpy(kh, id, 16);
        snprintf(serial, sizeof(serial), "%.16s", id);
        assert_int_equal(imago_registry_import(f->treg, group, id, serial), IMAGO_OK);
        serial[0] = serial[0] == 'f' ? 'e' : 'f';
        assert_int_equal(
            imago_registry_enrol(f->treg, id, kh, serial, pem, FX_T0 + 86400 * 365, &old),
            IMAGO_OK);
        free(old);
        if (owner != 0)
                assert_int_equal(imago_appdb_bind(f->tdb, id, owner, fx_clock()), IMAGO_OK);
}

/* Audit records with action, read with the test thread's handle. */
static inline int fx_audit_count(struct fx *f, const char *action)
{
        struct imago_audit_record rec;
        uint8_t h[32];
        uint64_t head = 0, s;
        int n = 0;

        assert_int_equal(imago_audit_head(f->taudit, &head, h), IMAGO_OK);
        for (s = 1; s <= head; s++) {
                memset(&rec, 0, sizeof(rec));
                assert_int_equal(imago_audit_read(f->taudit, s, &rec), IMAGO_OK);
                if (strcmp(rec.action, action) == 0)
                        n++;
                imago_audit_record_free(&rec);
        }
        return n;
}

#endif
