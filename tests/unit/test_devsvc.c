/*
 * imago_devsvc over real SQLite files (app.db, audit.db, registry.db), a
 * real registration-token key and a real Ed25519 command key, all made
 * here.  The ops collect what the service publishes, revoke in the real
 * registry and count finished commands.  Tests of attacks are named after
 * them; every test ends by verifying the audit chain.
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

#include "base/err.h"
#include "base/log.h"
#include "cloud/appdb/appdb.h"
#include "cloud/audit/audit.h"
#include "cloud/devsvc/devsvc.h"
#include "cloud/registry/registry.h"
#include "cmdenv/cmdenv.h"
#include "crypto/keys.h"
#include "regtoken/regtoken.h"
#include "state/state.h"

#define DEV_A   "0123456789abcdef0123456789abcdef"
#define DEV_B   "fedcba9876543210fedcba9876543210"
#define DEV_S   "5555555555555555aaaaaaaaaaaaaaaa" /* suspended */
#define DEV_R   "7777777777777777bbbbbbbbbbbbbbbb" /* revoked */
#define DEV_U   "99999999999999999999999999999999" /* not in the registry */
#define NONCE   "00112233445566778899aabbccddeeff"
#define HASH    "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
#define PEM     "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
#define T0      1800000000
#define MAX_MSG 64

struct msg {
        char topic[128];
        char *body;
        size_t len;
};

struct fx {
        char dir[64];
        struct imago_appdb *db;
        struct imago_audit *audit;
        struct imago_registry *reg;
        struct imago_regtoken_key regkey, other_key;
        struct imago_privkey cmd_key;
        struct imago_pubkey cmd_pub;
        struct imago_devsvc *ds;
        uint64_t alice, bob;
        struct msg msgs[MAX_MSG];
        size_t n;
        int fail_publish;
        int revoked;
        char revoked_dev[33];
        uint64_t done[16];
        size_t n_done;
};

static int64_t g_now = T0;

static int64_t fx_now(void)
{
        return g_now;
}

static int fx_publish(void *arg, const char *topic, const void *buf, size_t len)
{
        struct fx *f = arg;
        struct msg *m;

        if (f->n == MAX_MSG || f->fail_publish)
                return IMAGO_EIO;
        m = &f->msgs[f->n++];
        snprintf(m->topic, sizeof(m->topic), "%s", topic);
        m->body = malloc(len + 1);
        assert_non_null(m->body);
        memcpy(m->body, buf, len);
        m->body[len] = '\0';
        m->len = len;
        return 0;
}

static int fx_revoke(void *arg, const char *device, const char *reason)
{
        struct fx *f = arg;

        f->revoked++;
        snprintf(f->revoked_dev, sizeof(f->revoked_dev), "%s", device);
        return imago_registry_revoke(f->reg, device, reason);
}

static void fx_cmd_done(void *arg, uint64_t id)
{
        struct fx *f = arg;

        assert_true(f->n_done < 16);
        f->done[f->n_done++] = id;
}

static void fx_clear(struct fx *f)
{
        size_t i;

        for (i = 0; i < f->n; i++)
                free(f->msgs[i].body);
        f->n = 0;
}

static void fx_enrol(struct fx *f, const char *id, uint8_t k)
{
        uint8_t hash[32];
        char serial[8], birth[8];
        char *pem = NULL;

        memset(hash, k, sizeof(hash));
        snprintf(serial, sizeof(serial), "a%02x", k);
        snprintf(birth, sizeof(birth), "b%02x", k);
        assert_int_equal(imago_registry_import(f->reg, "batch-1", id, birth), 0);
        assert_int_equal(imago_registry_enrol(f->reg, id, hash, serial, PEM, T0 + 86400, &pem), 0);
        free(pem);
}

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        struct imago_devsvc_config c;
        struct imago_devsvc_ops ops;
        char path[128];

        assert_non_null(f);
        g_now = T0;
        snprintf(f->dir, sizeof(f->dir), "/tmp/imago-devsvc-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(path, sizeof(path), "%s/app.db", f->dir);
        assert_int_equal(imago_appdb_open(path, &f->db), 0);
        snprintf(path, sizeof(path), "%s/audit.db", f->dir);
        assert_int_equal(imago_audit_open(path, &f->audit), 0);
        snprintf(path, sizeof(path), "sqlite:%s/registry.db", f->dir);
        assert_int_equal(imago_registry_open(path, &f->reg), 0);
        assert_int_equal(imago_regtoken_key_generate(&f->regkey), 0);
        assert_int_equal(imago_regtoken_key_generate(&f->other_key), 0);
        assert_int_equal(imago_privkey_generate(IMAGO_KEY_ED25519, &f->cmd_key), 0);
        assert_int_equal(imago_privkey_public(&f->cmd_key, &f->cmd_pub), 0);
        assert_int_equal(imago_appdb_user_add(f->db, "alice", HASH, T0, &f->alice), 0);
        assert_int_equal(imago_appdb_user_add(f->db, "bob", HASH, T0, &f->bob), 0);
        fx_enrol(f, DEV_A, 1);
        fx_enrol(f, DEV_B, 2);
        fx_enrol(f, DEV_S, 3);
        fx_enrol(f, DEV_R, 4);
        assert_int_equal(imago_registry_suspend(f->reg, DEV_S, "test"), 0);
        assert_int_equal(imago_registry_revoke(f->reg, DEV_R, "test"), 0);
        memset(&c, 0, sizeof(c));
        c.db = f->db;
        c.audit = f->audit;
        c.reg = f->reg;
        c.regkey = &f->regkey;
        c.cmd_key = &f->cmd_key;
        c.now = fx_now;
        memset(&ops, 0, sizeof(ops));
        ops.publish = fx_publish;
        ops.revoke = fx_revoke;
        ops.cmd_done = fx_cmd_done;
        ops.arg = f;
        assert_int_equal(imago_devsvc_new(&c, &ops, &f->ds), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        struct imago_audit_report rep;
        char cmd[160];

        /* every test leaves an intact audit chain */
        assert_int_equal(imago_audit_verify(f->audit, 0, NULL, &rep), 0);
        assert_true(rep.bad_seq == 0);
        fx_clear(f);
        imago_devsvc_free(f->ds);
        imago_registry_close(f->reg);
        imago_audit_close(f->audit);
        imago_appdb_close(f->db);
        imago_regtoken_key_free(&f->regkey);
        imago_regtoken_key_free(&f->other_key);
        imago_privkey_free(&f->cmd_key);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

static void send(struct fx *f, const char *dev, const char *suffix, const char *body)
{
        char topic[128];

        snprintf(topic, sizeof(topic), "imago/v1/d/%s/%s", dev, suffix);
        imago_devsvc_on_message(f->ds, topic, (const uint8_t *)body, strlen(body));
}

/* The last message published on imago/v1/d/<dev>/<suffix>, or NULL. */
static const struct msg *last(struct fx *f, const char *dev, const char *suffix)
{
        char topic[128];
        size_t i;

        snprintf(topic, sizeof(topic), "imago/v1/d/%s/%s", dev, suffix);
        for (i = f->n; i > 0; i--) {
                if (strcmp(f->msgs[i - 1].topic, topic) == 0)
                        return &f->msgs[i - 1];
        }
        return NULL;
}

static size_t count(struct fx *f, const char *dev, const char *suffix)
{
        char topic[128];
        size_t i, n = 0;

        snprintf(topic, sizeof(topic), "imago/v1/d/%s/%s", dev, suffix);
        for (i = 0; i < f->n; i++)
                n += strcmp(f->msgs[i].topic, topic) == 0;
        return n;
}

static char *token_for(const struct imago_regtoken_key *key, const char *user, int64_t ttl)
{
        char *t = NULL;

        assert_int_equal(imago_regtoken_issue(key, user, g_now, ttl, &t), 0);
        return t;
}

/* Send reg/req with token from dev; returns the result of the answer (static buffer). */
static const char *do_register(struct fx *f, const char *dev, const char *token)
{
        static char result[48];
        struct imago_state_msg m, a;
        const struct msg *ans;
        char *text = NULL;
        size_t len;

        memset(&m, 0, sizeof(m));
        m.type = IMAGO_STATE_MSG_REGISTER;
        memcpy(m.nonce, NONCE, 33);
        snprintf(m.token, sizeof(m.token), "%s", token);
        assert_int_equal(imago_state_msg_build(&m, &text, &len), 0);
        fx_clear(f);
        send(f, dev, "reg/req", text);
        free(text);
        imago_state_msg_free(&m);
        if ((ans = last(f, dev, "reg/resp")) == NULL)
                return NULL;
        assert_int_equal(imago_state_msg_parse(IMAGO_STATE_MSG_REGISTERED,
                                               (const uint8_t *)ans->body, ans->len, &a),
                         0);
        assert_string_equal(a.nonce, NONCE);
        snprintf(result, sizeof(result), "%s", a.result);
        imago_state_msg_free(&a);
        return result;
}

static uint64_t owner(struct fx *f, const char *dev)
{
        uint64_t u = 99;

        assert_int_equal(imago_appdb_owner(f->db, dev, &u), 0);
        return u;
}

/* How many audit records have this action (and object, if not NULL). */
static int audited(struct fx *f, const char *action, const char *object)
{
        struct imago_audit_record rec;
        uint64_t seq, last_seq;
        uint8_t h[32];
        int n = 0;

        assert_int_equal(imago_audit_head(f->audit, &last_seq, h), 0);
        for (seq = 1; seq <= last_seq; seq++) {
                assert_int_equal(imago_audit_read(f->audit, seq, &rec), 0);
                if (strcmp(rec.action, action) == 0 &&
                    (object == NULL || strcmp(rec.object, object) == 0))
                        n++;
                imago_audit_record_free(&rec);
        }
        return n;
}

/* ---- registration ---- */

static void test_register_ok(void **state)
{
        struct fx *f = *state;
        char *t = token_for(&f->regkey, "alice", 600);

        assert_string_equal(do_register(f, DEV_A, t), "ok");
        assert_true(owner(f, DEV_A) == f->alice);
        assert_int_equal(audited(f, "device.register", DEV_A), 1);
        free(t);
}

static void attack_replayed_registration_token(void **state)
{
        struct fx *f = *state;
        char *t = token_for(&f->regkey, "alice", 600);

        assert_string_equal(do_register(f, DEV_A, t), "ok");
        /* the same device again (its answer was lost): ok, nothing changes */
        assert_string_equal(do_register(f, DEV_A, t), "ok");
        assert_true(owner(f, DEV_A) == f->alice);
        assert_int_equal(audited(f, "device.register", DEV_A), 2);
        /* once unbound (decommissioned), the same device cannot bind again with it */
        assert_int_equal(imago_appdb_unbind(f->db, DEV_A), 0);
        assert_string_equal(do_register(f, DEV_A, t), "IMAGO_EEXIST");
        assert_true(owner(f, DEV_A) == 0);
        free(t);
}

static void attack_expired_registration_token(void **state)
{
        struct fx *f = *state;
        char *t = token_for(&f->regkey, "alice", 60);

        g_now += 61;
        assert_string_equal(do_register(f, DEV_A, t), "IMAGO_ECMD_TOKEN_EXPIRED");
        assert_true(owner(f, DEV_A) == 0);
        free(t);
}

static void attack_token_forwarded_by_two_devices(void **state)
{
        struct fx *f = *state;
        char *t = token_for(&f->regkey, "alice", 600);

        assert_string_equal(do_register(f, DEV_A, t), "ok");
        assert_string_equal(do_register(f, DEV_B, t), "IMAGO_EEXIST");
        assert_true(owner(f, DEV_A) == f->alice);
        assert_true(owner(f, DEV_B) == 0);
        free(t);
}

static void attack_token_from_another_cloud(void **state)
{
        struct fx *f = *state;
        char *t = token_for(&f->other_key, "alice", 600);

        assert_string_equal(do_register(f, DEV_A, t), "IMAGO_ECMD_TOKEN");
        assert_true(owner(f, DEV_A) == 0);
        free(t);
}

static void attack_tampered_registration_token(void **state)
{
        struct fx *f = *state;
        char *t = token_for(&f->regkey, "alice", 600);
        size_t n = strlen(t);

        t[n - 3] = t[n - 3] == 'A' ? 'B' : 'A'; /* the tag */
        assert_string_equal(do_register(f, DEV_A, t), "IMAGO_ECMD_TOKEN");
        assert_true(owner(f, DEV_A) == 0);
        free(t);
}

static void attack_device_bound_to_another_user(void **state)
{
        struct fx *f = *state;
        char *ta = token_for(&f->regkey, "alice", 600);
        char *tb = token_for(&f->regkey, "bob", 600);

        assert_string_equal(do_register(f, DEV_A, ta), "ok");
        assert_string_equal(do_register(f, DEV_A, tb), "IMAGO_EAPI_BOUND");
        assert_true(owner(f, DEV_A) == f->alice);
        free(ta);
        free(tb);
}

static void test_register_same_user_again(void **state)
{
        struct fx *f = *state;
        char *t1 = token_for(&f->regkey, "alice", 600);
        char *t2 = token_for(&f->regkey, "alice", 600);

        assert_string_equal(do_register(f, DEV_A, t1), "ok");
        assert_string_equal(do_register(f, DEV_A, t2), "ok");
        assert_true(owner(f, DEV_A) == f->alice);
        free(t1);
        free(t2);
}

static void attack_token_for_unknown_user(void **state)
{
        struct fx *f = *state;
        char *t = token_for(&f->regkey, "mallory", 600);

        assert_string_equal(do_register(f, DEV_A, t), "IMAGO_ENOTFOUND");
        assert_true(owner(f, DEV_A) == 0);
        free(t);
}

static void attack_malformed_registration_gets_no_answer(void **state)
{
        struct fx *f = *state;

        send(f, DEV_A, "reg/req", "{\"v\":1,\"nonce\":\"" NONCE "\",\"token\":\"a b\"}");
        send(f, DEV_A, "reg/req", "{\"v\":1,\"nonce\":\"" NONCE "\",\"token\":\"x\",\"user\":1}");
        send(f, DEV_A, "reg/req", "not json");
        assert_int_equal(f->n, 0);
        /* well formed but not a token: answered, refused */
        send(f, DEV_A, "reg/req", "{\"v\":1,\"nonce\":\"" NONCE "\",\"token\":\"a.b.c.d.e\"}");
        assert_non_null(last(f, DEV_A, "reg/resp"));
        assert_non_null(strstr(last(f, DEV_A, "reg/resp")->body, "IMAGO_ECMD_TOKEN"));
        assert_true(owner(f, DEV_A) == 0);
}

/* ---- state ---- */

static void report(struct fx *f, const char *dev, uint64_t version, const char *patch)
{
        char body[1024];

        snprintf(body, sizeof(body), "{\"v\":1,\"version\":%llu,\"state\":%s}",
                 (unsigned long long)version, patch);
        send(f, dev, "state/rep", body);
}

static void assert_ack(struct fx *f, const char *dev, uint64_t version, int accepted)
{
        const struct msg *a = last(f, dev, "state/ack");
        struct imago_state_msg m;

        assert_non_null(a);
        assert_int_equal(
            imago_state_msg_parse(IMAGO_STATE_MSG_ACK, (const uint8_t *)a->body, a->len, &m), 0);
        assert_true(m.version == version);
        assert_int_equal(m.accepted, accepted);
        imago_state_msg_free(&m);
}

static void assert_reported(struct fx *f, const char *dev, const char *doc, uint64_t version)
{
        struct imago_appdb_state st;

        assert_int_equal(imago_appdb_state_get(f->db, dev, &st), 0);
        assert_string_equal(st.reported, doc);
        assert_true(st.reported_version == version);
        imago_appdb_state_free(&st);
}

/* The last delta sent to dev: its state as compact sorted text, and its version. */
static void assert_delta(struct fx *f, const char *dev, const char *want, uint64_t version)
{
        const struct msg *d = last(f, dev, "state/delta");
        struct imago_state_msg m;
        char *text = NULL;

        assert_non_null(d);
        assert_int_equal(
            imago_state_msg_parse(IMAGO_STATE_MSG_DELTA, (const uint8_t *)d->body, d->len, &m), 0);
        assert_int_equal(imago_state_doc_dump(m.state, &text), 0);
        assert_string_equal(text, want);
        assert_true(m.version == version);
        free(text);
        imago_state_msg_free(&m);
}

static void test_state_report_version_0_replaces(void **state)
{
        struct fx *f = *state;

        report(f, DEV_A, 0, "{\"a\":1,\"b\":{\"c\":2}}");
        assert_ack(f, DEV_A, 1, 1);
        assert_reported(f, DEV_A, "{\"a\":1,\"b\":{\"c\":2}}", 1);
        report(f, DEV_A, 0, "{\"z\":true,\"gone\":null}");
        assert_ack(f, DEV_A, 2, 1);
        assert_reported(f, DEV_A, "{\"z\":true}", 2);
        /* nothing desired: no delta */
        assert_int_equal(count(f, DEV_A, "state/delta"), 0);
}

static void test_state_patch_merges(void **state)
{
        struct fx *f = *state;

        report(f, DEV_A, 0, "{\"a\":1,\"b\":{\"c\":2,\"d\":3}}");
        report(f, DEV_A, 1, "{\"a\":null,\"b\":{\"c\":5},\"e\":[1,2]}");
        assert_ack(f, DEV_A, 2, 1);
        assert_reported(f, DEV_A, "{\"b\":{\"c\":5,\"d\":3},\"e\":[1,2]}", 2);
}

static void attack_stale_state_report(void **state)
{
        struct fx *f = *state;

        report(f, DEV_A, 0, "{\"a\":1}");
        report(f, DEV_A, 1, "{\"a\":2}");
        assert_ack(f, DEV_A, 2, 1);
        report(f, DEV_A, 1, "{\"a\":3}"); /* stale */
        assert_ack(f, DEV_A, 2, 0);
        report(f, DEV_A, 9, "{\"a\":4}"); /* from the future */
        assert_ack(f, DEV_A, 2, 0);
        assert_reported(f, DEV_A, "{\"a\":2}", 2);
}

static void attack_state_report_over_the_limit(void **state)
{
        struct fx *f = *state;
        char *body = malloc(IMAGO_STATE_DOC_MAX + 64), *big = malloc(IMAGO_STATE_DOC_MAX);

        assert_non_null(body);
        assert_non_null(big);
        memset(big, 'x', IMAGO_STATE_DOC_MAX / 2 + 100);
        big[IMAGO_STATE_DOC_MAX / 2 + 100] = '\0';
        snprintf(body, IMAGO_STATE_DOC_MAX + 64, "{\"v\":1,\"version\":0,\"state\":{\"a\":\"%s\"}}",
                 big);
        send(f, DEV_A, "state/rep", body);
        assert_ack(f, DEV_A, 1, 1);
        /* each patch fits, the merged document would not: refused, nothing written */
        snprintf(body, IMAGO_STATE_DOC_MAX + 64, "{\"v\":1,\"version\":1,\"state\":{\"b\":\"%s\"}}",
                 big);
        send(f, DEV_A, "state/rep", body);
        assert_ack(f, DEV_A, 1, 0);
        /* bad member names, deep documents, wrong types: dropped without an answer */
        fx_clear(f);
        report(f, DEV_A, 1, "{\"a b\":1}");
        report(f, DEV_A, 1, "{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}");
        report(f, DEV_A, 1, "[1]");
        send(f, DEV_A, "state/rep", "{\"v\":1,\"version\":-1,\"state\":{}}");
        assert_int_equal(f->n, 0);
        free(body);
        free(big);
}

static void test_delta_after_set_desired_and_report(void **state)
{
        struct fx *f = *state;
        uint64_t v = 0;
        static const char patch[] = "{\"t\":22,\"mode\":\"eco\"}";

        report(f, DEV_A, 0, "{\"t\":20,\"mode\":\"eco\",\"fw\":\"1.0\"}");
        assert_int_equal(count(f, DEV_A, "state/delta"), 0);
        assert_int_equal(
            imago_devsvc_set_desired(f->ds, DEV_A, f->alice, 0, patch, strlen(patch), &v), 0);
        assert_true(v == 1);
        /* only the difference travels */
        assert_delta(f, DEV_A, "{\"t\":22}", 1);
        assert_int_equal(audited(f, "device.state.desired", DEV_A), 1);
        /* a report that leaves a difference gets a delta again */
        fx_clear(f);
        report(f, DEV_A, 1, "{\"t\":21}");
        assert_ack(f, DEV_A, 2, 1);
        assert_delta(f, DEV_A, "{\"t\":22}", 1);
        /* a report that settles it gets none */
        fx_clear(f);
        report(f, DEV_A, 2, "{\"t\":22}");
        assert_ack(f, DEV_A, 3, 1);
        assert_int_equal(count(f, DEV_A, "state/delta"), 0);
        /* a desired change equal to the reported state: no delta either */
        assert_int_equal(
            imago_devsvc_set_desired(f->ds, DEV_A, f->alice, 1, "{\"fw\":\"1.0\"}", 12, &v), 0);
        assert_true(v == 2);
        assert_int_equal(count(f, DEV_A, "state/delta"), 0);
        /* a full report (reconnect) gets the delta if anything differs */
        report(f, DEV_A, 0, "{\"t\":18}");
        assert_delta(f, DEV_A, "{\"fw\":\"1.0\",\"mode\":\"eco\",\"t\":22}", 2);
}

static void attack_stale_desired_version(void **state)
{
        struct fx *f = *state;
        uint64_t v = 0;
        struct imago_appdb_state st;

        assert_int_equal(imago_devsvc_set_desired(f->ds, DEV_A, f->alice, 0, "{\"a\":1}", 7, &v),
                         0);
        assert_true(v == 1);
        assert_int_equal(imago_devsvc_set_desired(f->ds, DEV_A, f->bob, 0, "{\"a\":2}", 7, &v),
                         IMAGO_ESTATE_VERSION);
        assert_true(v == 1);
        assert_int_equal(imago_devsvc_set_desired(f->ds, DEV_A, f->bob, 5, "{\"a\":2}", 7, &v),
                         IMAGO_ESTATE_VERSION);
        assert_int_equal(imago_appdb_state_get(f->db, DEV_A, &st), 0);
        assert_string_equal(st.desired, "{\"a\":1}");
        assert_true(st.desired_version == 1);
        imago_appdb_state_free(&st);
        assert_int_equal(audited(f, "device.state.desired", DEV_A), 1);
}

static void attack_bad_desired_patches(void **state)
{
        struct fx *f = *state;
        static const char *const docs[] = {"{\"a b\":1}",
                                           "{\"$x\":1}",
                                           "[]",
                                           "{",
                                           "",
                                           "{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}",
                                           "{\"a\":1,\"a\":2}",
                                           "{\"a\":[null]}"};
        static const int want[] = {IMAGO_ESTATE_DOC, IMAGO_ESTATE_DOC, IMAGO_EMALFORMED,
                                   IMAGO_EMALFORMED, IMAGO_EMALFORMED, IMAGO_ESTATE_DOC,
                                   IMAGO_EMALFORMED, IMAGO_ESTATE_DOC};
        uint64_t v = 7;
        size_t i;

        for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
                assert_int_equal(imago_devsvc_set_desired(f->ds, DEV_A, f->alice, 0, docs[i],
                                                          strlen(docs[i]), &v),
                                 want[i]);
                assert_true(v == 0);
        }
        assert_int_equal(imago_devsvc_set_desired(f->ds, DEV_S, f->alice, 0, "{}", 2, &v),
                         IMAGO_EREG_STATE);
        assert_int_equal(imago_devsvc_set_desired(f->ds, DEV_R, f->alice, 0, "{}", 2, &v),
                         IMAGO_EREG_STATE);
        assert_int_equal(imago_devsvc_set_desired(f->ds, DEV_U, f->alice, 0, "{}", 2, &v),
                         IMAGO_EREG_UNKNOWN);
        assert_int_equal(imago_devsvc_set_desired(f->ds, "../../etc", f->alice, 0, "{}", 2, &v),
                         IMAGO_EINVAL);
        assert_int_equal(imago_devsvc_set_desired(f->ds, DEV_A, 0, 0, "{}", 2, &v), IMAGO_EINVAL);
        assert_int_equal(f->n, 0);
        assert_int_equal(audited(f, "device.state.desired", NULL), 0);
}

/* ---- commands ---- */

static void verify_cmd(struct fx *f, const struct msg *m, uint64_t last_seq, struct imago_cmdenv *c)
{
        assert_int_equal(imago_cmdenv_verify((const uint8_t *)m->body, m->len, &f->cmd_pub, DEV_A,
                                             last_seq, g_now, 30, c),
                         0);
}

static void test_command_envelope_verifies_with_increasing_seq(void **state)
{
        struct fx *f = *state;
        struct imago_cmdenv c1, c2;
        struct imago_appdb_cmd rec;
        uint64_t id1 = 0, id2 = 0;
        struct imago_cmdenv bad;

        assert_int_equal(
            imago_devsvc_command(f->ds, DEV_A, f->alice, "reboot", "{\"delay\":5}", 60, &id1), 0);
        verify_cmd(f, last(f, DEV_A, "cmd"), 0, &c1);
        assert_string_equal(c1.name, "reboot");
        assert_int_equal(json_integer_value(json_object_get(c1.args, "delay")), 5);
        assert_true(c1.exp == g_now + 60);
        assert_int_equal(imago_devsvc_command(f->ds, DEV_A, f->bob, "ping", NULL, 10, &id2), 0);
        verify_cmd(f, last(f, DEV_A, "cmd"), c1.seq, &c2);
        assert_true(c2.seq > c1.seq);
        assert_true(id2 != id1);
        assert_int_equal(json_object_size(c2.args), 0);
        /* the first envelope replayed after the second is refused by the device */
        assert_int_equal(imago_cmdenv_verify((const uint8_t *)f->msgs[0].body, f->msgs[0].len,
                                             &f->cmd_pub, DEV_A, c2.seq, g_now, 30, &bad),
                         IMAGO_ECMD_REPLAY);
        /* and it is addressed to DEV_A only */
        assert_int_equal(imago_cmdenv_verify((const uint8_t *)f->msgs[0].body, f->msgs[0].len,
                                             &f->cmd_pub, DEV_B, 0, g_now, 30, &bad),
                         IMAGO_ECMD_DEVICE);
        assert_int_equal(imago_appdb_cmd_get_at(f->db, id1, g_now, &rec), 0);
        assert_true(rec.seq == c1.seq);
        assert_true(rec.user == f->alice);
        assert_int_equal(rec.status, IMAGO_APPDB_CMD_SENT);
        assert_string_equal(rec.args, "{\"delay\":5}");
        imago_appdb_cmd_free(&rec);
        assert_int_equal(audited(f, "device.command", DEV_A), 2);
        imago_cmdenv_release(&c1);
        imago_cmdenv_release(&c2);
}

static void attack_bad_command_requests(void **state)
{
        struct fx *f = *state;
        struct imago_cmdenv c;
        uint64_t id = 5;
        char *big = malloc(IMAGO_CMDENV_PAYLOAD_MAX + 16);

        assert_non_null(big);
        assert_int_equal(imago_devsvc_command(f->ds, DEV_A, f->alice, "Reboot", NULL, 60, &id),
                         IMAGO_EINVAL);
        assert_true(id == 0);
        assert_int_equal(
            imago_devsvc_command(f->ds, DEV_A, f->alice, "x'; DROP TABLE", NULL, 60, &id),
            IMAGO_EINVAL);
        assert_int_equal(imago_devsvc_command(f->ds, DEV_A, f->alice, "reboot", NULL, 0, &id),
                         IMAGO_EINVAL);
        assert_int_equal(imago_devsvc_command(f->ds, DEV_A, f->alice, "reboot", NULL, 3601, &id),
                         IMAGO_EINVAL);
        assert_int_equal(imago_devsvc_command(f->ds, DEV_A, f->alice, "reboot", "[1]", 60, &id),
                         IMAGO_EMALFORMED);
        assert_int_equal(
            imago_devsvc_command(f->ds, DEV_A, f->alice, "reboot", "{\"a\":1,\"a\":2}", 60, &id),
            IMAGO_EMALFORMED);
        /* args that fit the text limit but not the signed payload */
        memset(big, 'x', IMAGO_CMDENV_PAYLOAD_MAX + 16);
        memcpy(big, "{\"a\":\"", 6);
        memcpy(big + IMAGO_CMDENV_PAYLOAD_MAX - 50, "\"}", 3);
        assert_int_equal(imago_devsvc_command(f->ds, DEV_A, f->alice, "reboot", big, 60, &id),
                         IMAGO_ETOOBIG);
        assert_int_equal(imago_devsvc_command(f->ds, DEV_S, f->alice, "reboot", NULL, 60, &id),
                         IMAGO_EREG_STATE);
        assert_int_equal(imago_devsvc_command(f->ds, DEV_R, f->alice, "reboot", NULL, 60, &id),
                         IMAGO_EREG_STATE);
        assert_int_equal(imago_devsvc_command(f->ds, DEV_U, f->alice, "reboot", NULL, 60, &id),
                         IMAGO_EREG_UNKNOWN);
        assert_int_equal(f->n, 0);
        /* none of that spent a sequence number */
        assert_int_equal(imago_devsvc_command(f->ds, DEV_A, f->alice, "reboot", NULL, 60, &id), 0);
        verify_cmd(f, last(f, DEV_A, "cmd"), 0, &c);
        assert_true(c.seq == 1);
        imago_cmdenv_release(&c);
        free(big);
}

static void send_result(struct fx *f, const char *topic_dev, const char *dev, uint64_t seq,
                        enum imago_cmdenv_status st, const char *result)
{
        json_t *res = result != NULL ? json_loads(result, 0, NULL) : NULL;
        char *text = NULL;

        assert_int_equal(imago_cmdenv_result_build(dev, seq, st, res, &text), 0);
        send(f, topic_dev, "cmd/res", text);
        free(text);
        json_decref(res);
}

static void test_command_result_recorded_once(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_cmd rec;
        struct imago_cmdenv c;
        uint64_t id = 0;

        assert_int_equal(imago_devsvc_command(f->ds, DEV_A, f->alice, "ping", NULL, 60, &id), 0);
        verify_cmd(f, last(f, DEV_A, "cmd"), 0, &c);
        send_result(f, DEV_A, DEV_A, c.seq, IMAGO_CMDENV_OK, "{\"pong\":1}");
        assert_int_equal(f->n_done, 1);
        assert_true(f->done[0] == id);
        assert_int_equal(imago_appdb_cmd_get_at(f->db, id, g_now, &rec), 0);
        assert_int_equal(rec.status, IMAGO_APPDB_CMD_OK);
        assert_string_equal(rec.result, "{\"pong\":1}");
        imago_appdb_cmd_free(&rec);
        /* a second answer changes nothing and wakes nobody */
        send_result(f, DEV_A, DEV_A, c.seq, IMAGO_CMDENV_FAILED, "{\"pong\":2}");
        assert_int_equal(f->n_done, 1);
        assert_int_equal(imago_appdb_cmd_get_at(f->db, id, g_now, &rec), 0);
        assert_int_equal(rec.status, IMAGO_APPDB_CMD_OK);
        assert_string_equal(rec.result, "{\"pong\":1}");
        imago_appdb_cmd_free(&rec);
        /* a result for a sequence never sent */
        send_result(f, DEV_A, DEV_A, c.seq + 1, IMAGO_CMDENV_OK, NULL);
        assert_int_equal(f->n_done, 1);
        imago_cmdenv_release(&c);
}

static void test_command_statuses(void **state)
{
        static const enum imago_cmdenv_status in[] = {IMAGO_CMDENV_FAILED, IMAGO_CMDENV_REJECTED,
                                                      IMAGO_CMDENV_UNKNOWN};
        static const enum imago_appdb_cmd_status out[] = {
            IMAGO_APPDB_CMD_FAILED, IMAGO_APPDB_CMD_REJECTED, IMAGO_APPDB_CMD_UNKNOWN};
        struct fx *f = *state;
        struct imago_appdb_cmd rec;
        uint64_t id;
        size_t i;

        for (i = 0; i < 3; i++) {
                assert_int_equal(imago_devsvc_command(f->ds, DEV_A, f->alice, "x", NULL, 60, &id),
                                 0);
                send_result(f, DEV_A, DEV_A, i + 1, in[i], NULL);
                assert_int_equal(imago_appdb_cmd_get_at(f->db, id, g_now, &rec), 0);
                assert_int_equal(rec.status, out[i]);
                imago_appdb_cmd_free(&rec);
        }
        assert_int_equal(f->n_done, 3);
}

static void attack_result_with_another_device_id(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_cmd rec;
        struct imago_cmdenv c;
        uint64_t id = 0;

        assert_int_equal(imago_devsvc_command(f->ds, DEV_A, f->alice, "unlock", NULL, 60, &id), 0);
        verify_cmd(f, last(f, DEV_A, "cmd"), 0, &c);
        /* DEV_B answers for DEV_A */
        send_result(f, DEV_B, DEV_A, c.seq, IMAGO_CMDENV_FAILED, "{\"forged\":true}");
        /* DEV_B answers in its own name with DEV_A's sequence number */
        send_result(f, DEV_B, DEV_B, c.seq, IMAGO_CMDENV_FAILED, "{\"forged\":true}");
        assert_int_equal(f->n_done, 0);
        assert_int_equal(imago_appdb_cmd_get_at(f->db, id, g_now, &rec), 0);
        assert_int_equal(rec.status, IMAGO_APPDB_CMD_SENT);
        assert_null(rec.result);
        imago_appdb_cmd_free(&rec);
        imago_cmdenv_release(&c);
}

static void test_command_publish_failure_closes_it(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_cmd rec;
        struct imago_cmdenv c;
        uint64_t id = 9;

        f->fail_publish = 1;
        assert_int_equal(imago_devsvc_command(f->ds, DEV_A, f->alice, "ping", NULL, 60, &id),
                         IMAGO_EIO);
        assert_true(id == 0);
        f->fail_publish = 0;
        /* the sequence number is spent and the command closed as failed, nobody waits for it */
        assert_int_equal(imago_devsvc_command(f->ds, DEV_A, f->alice, "ping", NULL, 60, &id), 0);
        verify_cmd(f, last(f, DEV_A, "cmd"), 0, &c);
        assert_true(c.seq == 2);
        assert_int_equal(imago_appdb_cmd_get_at(f->db, id - 1, g_now, &rec), 0);
        assert_true(rec.seq == 1);
        assert_int_equal(rec.status, IMAGO_APPDB_CMD_FAILED);
        assert_string_equal(rec.result, "{\"error\":\"IMAGO_EIO\"}");
        imago_appdb_cmd_free(&rec);
        imago_cmdenv_release(&c);
}

/* ---- devices not allowed to talk ---- */

static void attack_message_from_revoked_device(void **state)
{
        struct fx *f = *state;
        char *t = token_for(&f->regkey, "alice", 600);
        static const char *const devs[] = {DEV_R, DEV_S, DEV_U};
        size_t i;

        for (i = 0; i < 3; i++) {
                assert_null(do_register(f, devs[i], t));
                report(f, devs[i], 0, "{\"a\":1}");
                send_result(f, devs[i], devs[i], 1, IMAGO_CMDENV_OK, NULL);
                assert_true(owner(f, devs[i]) == 0);
                assert_reported(f, devs[i], "{}", 0);
        }
        assert_int_equal(f->n, 0);
        assert_int_equal(audited(f, "device.register", NULL), 0);
        /* the token was not spent by the refused devices */
        assert_string_equal(do_register(f, DEV_A, t), "ok");
        free(t);
}

static void attack_bad_topics(void **state)
{
        static const char *const topics[] = {
            "imago/v1/d/" DEV_A "/reg/req/x",
            "imago/v1/d/" DEV_A "/reg/req/",
            "imago/v1/d/" DEV_A "/reg",
            "imago/v1/d/" DEV_A "/",
            "imago/v1/d/" DEV_A,
            "imago/v1/d/" DEV_A "//reg/req",
            "imago/v1/d/0123456789ABCDEF0123456789abcdef/reg/req",
            "imago/v1/d/0123456789abcdef0123456789abcde/reg/req",
            "imago/v1/d/0123456789abcdef0123456789abcdef0/reg/req",
            "imago/v1/d/+/reg/req",
            "imago/v1/d/#",
            "imago/v2/d/" DEV_A "/reg/req",
            "/imago/v1/d/" DEV_A "/reg/req",
            "imago/v1/prov/" DEV_A "/req",
            "imago/v1/d/" DEV_A "/cmd",
            "imago/v1/d/" DEV_A "/state/ack",
            "imago/v1/d/" DEV_A "/state/delta",
            "imago/v1/d/" DEV_A "/reg/resp",
            "imago/v1/d/" DEV_A "/rot/req",
            "",
        };
        struct fx *f = *state;
        char *t = token_for(&f->regkey, "alice", 600);
        char body[IMAGO_STATE_TOKEN_MAX + 128];
        size_t i;

        snprintf(body, sizeof(body), "{\"v\":1,\"nonce\":\"" NONCE "\",\"token\":\"%s\"}", t);
        for (i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
                imago_devsvc_on_message(f->ds, topics[i], (const uint8_t *)body, strlen(body));
        imago_devsvc_on_message(f->ds, NULL, (const uint8_t *)body, strlen(body));
        imago_devsvc_on_message(NULL, topics[0], (const uint8_t *)body, strlen(body));
        imago_devsvc_on_message(f->ds, "imago/v1/d/" DEV_A "/reg/req", NULL, 0);
        assert_int_equal(f->n, 0);
        assert_true(owner(f, DEV_A) == 0);
        free(t);
}

/* ---- retirement ---- */

static void test_retire_revokes_unbinds_and_clears(void **state)
{
        struct fx *f = *state;
        char *t = token_for(&f->regkey, "alice", 600);
        struct imago_reg_device d;
        struct imago_appdb_state st;
        uint64_t v;

        assert_string_equal(do_register(f, DEV_A, t), "ok");
        report(f, DEV_A, 0, "{\"a\":1}");
        assert_int_equal(imago_devsvc_set_desired(f->ds, DEV_A, f->alice, 0, "{\"a\":2}", 7, &v),
                         0);
        assert_int_equal(imago_devsvc_retire(f->ds, DEV_A, f->alice), 0);
        assert_int_equal(f->revoked, 1);
        assert_string_equal(f->revoked_dev, DEV_A);
        memset(&d, 0, sizeof(d));
        assert_int_equal(imago_registry_get(f->reg, DEV_A, &d), 0);
        assert_int_equal(d.state, IMAGO_REG_REVOKED);
        imago_registry_device_free(&d);
        assert_true(owner(f, DEV_A) == 0);
        assert_int_equal(imago_appdb_state_get(f->db, DEV_A, &st), 0);
        assert_string_equal(st.reported, "{}");
        assert_string_equal(st.desired, "{}");
        imago_appdb_state_free(&st);
        assert_int_equal(audited(f, "device.decommission", DEV_A), 1);
        /* the retired device is not heard any more */
        fx_clear(f);
        report(f, DEV_A, 0, "{\"a\":1}");
        assert_int_equal(f->n, 0);
        assert_int_equal(imago_devsvc_command(f->ds, DEV_A, f->alice, "ping", NULL, 60, &v),
                         IMAGO_EREG_STATE);
        /* retiring again does not revoke twice */
        assert_int_equal(imago_devsvc_retire(f->ds, DEV_A, f->alice), 0);
        assert_int_equal(f->revoked, 1);
        assert_int_equal(imago_devsvc_retire(f->ds, DEV_U, f->alice), IMAGO_EREG_UNKNOWN);
        assert_int_equal(imago_devsvc_retire(f->ds, "x", f->alice), IMAGO_EINVAL);
        free(t);
}

static void test_audit_records_every_action(void **state)
{
        struct fx *f = *state;
        char *t = token_for(&f->regkey, "alice", 600);
        struct imago_audit_record rec;
        struct imago_audit_report rep;
        uint64_t v, id;

        assert_string_equal(do_register(f, DEV_A, t), "ok");
        assert_string_equal(do_register(f, DEV_B, t), "IMAGO_EEXIST");
        assert_int_equal(imago_devsvc_set_desired(f->ds, DEV_A, f->alice, 0, "{\"a\":2}", 7, &v),
                         0);
        assert_int_equal(imago_devsvc_command(f->ds, DEV_A, f->alice, "wipe", NULL, 60, &id), 0);
        assert_int_equal(imago_devsvc_retire(f->ds, DEV_A, f->alice), 0);
        assert_int_equal(imago_audit_verify(f->audit, 0, NULL, &rep), 0);
        assert_true(rep.records == 5);
        assert_int_equal(imago_audit_read(f->audit, 1, &rec), 0);
        assert_string_equal(rec.actor, "device:" DEV_A);
        assert_string_equal(rec.action, "device.register");
        assert_non_null(strstr(rec.detail, "\"result\":\"ok\""));
        imago_audit_record_free(&rec);
        assert_int_equal(imago_audit_read(f->audit, 2, &rec), 0);
        assert_non_null(strstr(rec.detail, "IMAGO_EEXIST"));
        imago_audit_record_free(&rec);
        assert_int_equal(imago_audit_read(f->audit, 4, &rec), 0);
        assert_string_equal(rec.action, "device.command");
        assert_non_null(strstr(rec.actor, "user:"));
        assert_non_null(strstr(rec.detail, "\"name\":\"wipe\""));
        imago_audit_record_free(&rec);
        assert_int_equal(audited(f, "device.state.desired", DEV_A), 1);
        assert_int_equal(audited(f, "device.decommission", DEV_A), 1);
        /* the token never reaches the log */
        for (v = 1; v <= 5; v++) {
                assert_int_equal(imago_audit_read(f->audit, v, &rec), 0);
                assert_null(strstr(rec.detail, t));
                imago_audit_record_free(&rec);
        }
        free(t);
}

static char g_log[16384];

static void log_sink(enum imago_log_level level, const char *line, void *arg)
{
        size_t n = strlen(g_log);

        (void)level;
        (void)arg;
        snprintf(g_log + n, sizeof(g_log) - n, "%s\n", line);
}

static void test_token_never_logged(void **state)
{
        struct fx *f = *state;
        char *t = token_for(&f->regkey, "alice", 600);
        char *other = token_for(&f->other_key, "alice", 600);

        g_log[0] = '\0';
        imago_log_set_level(IMAGO_LOG_DEBUG);
        imago_log_set_sink(log_sink, NULL);
        assert_string_equal(do_register(f, DEV_A, t), "ok");
        assert_string_equal(do_register(f, DEV_B, t), "IMAGO_EEXIST");
        assert_string_equal(do_register(f, DEV_B, other), "IMAGO_ECMD_TOKEN");
        assert_null(do_register(f, DEV_R, t));
        imago_log_set_sink(NULL, NULL);
        imago_log_set_level(IMAGO_LOG_WARN);
        assert_non_null(strstr(g_log, "IMAGO_EEXIST"));
        assert_null(strstr(g_log, t));
        assert_null(strstr(g_log, other));
        assert_null(strstr(g_log, "alice"));
        free(t);
        free(other);
}

static void test_new_refuses_missing_parts(void **state)
{
        struct fx *f = *state;
        struct imago_devsvc_config c;
        struct imago_devsvc_ops ops;
        struct imago_devsvc *ds = (struct imago_devsvc *)1;

        memset(&c, 0, sizeof(c));
        memset(&ops, 0, sizeof(ops));
        c.db = f->db;
        c.audit = f->audit;
        c.reg = f->reg;
        c.regkey = &f->regkey;
        ops.publish = fx_publish;
        ops.revoke = fx_revoke;
        assert_int_equal(imago_devsvc_new(&c, &ops, &ds), IMAGO_EINVAL); /* no command key */
        assert_null(ds);
        c.cmd_key = &f->cmd_key;
        ops.revoke = NULL;
        assert_int_equal(imago_devsvc_new(&c, &ops, &ds), IMAGO_EINVAL);
        ops.revoke = fx_revoke;
        assert_int_equal(imago_devsvc_new(&c, &ops, &ds), 0);
        imago_devsvc_free(ds);
        imago_devsvc_free(NULL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
            T(test_register_ok),
            T(attack_replayed_registration_token),
            T(attack_expired_registration_token),
            T(attack_token_forwarded_by_two_devices),
            T(attack_token_from_another_cloud),
            T(attack_tampered_registration_token),
            T(attack_device_bound_to_another_user),
            T(test_register_same_user_again),
            T(attack_token_for_unknown_user),
            T(attack_malformed_registration_gets_no_answer),
            T(test_state_report_version_0_replaces),
            T(test_state_patch_merges),
            T(attack_stale_state_report),
            T(attack_state_report_over_the_limit),
            T(test_delta_after_set_desired_and_report),
            T(attack_stale_desired_version),
            T(attack_bad_desired_patches),
            T(test_command_envelope_verifies_with_increasing_seq),
            T(attack_bad_command_requests),
            T(test_command_result_recorded_once),
            T(test_command_statuses),
            T(attack_result_with_another_device_id),
            T(test_command_publish_failure_closes_it),
            T(attack_message_from_revoked_device),
            T(attack_bad_topics),
            T(test_retire_revokes_unbinds_and_clears),
            T(test_audit_records_every_action),
            T(test_token_never_logged),
            T(test_new_refuses_missing_parts),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
