/*
 * imago_director: per-device director metadata read by the real TUF client
 * (imago_tuf_client over a fetcher that serves imago_director_object()), the
 * image repository lookup (a repository published with imago_repo_publish),
 * and the version-report log.  One test per attack:
 * attack_replayed_version_report, older_counter_refused,
 * report_for_another_device, object_name_tricks; plus resend_is_dup,
 * expiry_resigning, assignment_changes_bump_versions.  Keys are generated
 * here (director keys through imago_director_keys_create); none is committed.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/err.h"
#include "base/file.h"
#include "cloud/director/director.h"
#include "cloud/repo/repo.h"
#include "tuf/client/client.h"
#include "tuf/tuf.h"

#define ID    "0123456789abcdef0123456789abcdef"
#define OTHER "fedcba9876543210fedcba9876543210"
#define PASS  "director test passphrase"
#define DAY   86400

struct fx {
        char dir[256];
        struct imago_director *d;
        struct imago_privkey dev, dev2; /* device identity keys (P-256) */
        struct imago_pubkey devpub, dev2pub;
        int64_t now;
        uint64_t counter;
        unsigned nonce;
};

static void rm_rf(const char *p)
{
        char cmd[600];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p);
        assert_int_equal(system(cmd), 0);
}

static void when(int64_t t, char out[32])
{
        time_t tt = (time_t)t;
        struct tm tm;

        assert_non_null(gmtime_r(&tt, &tm));
        assert_int_equal(strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm), 20);
}

static char *signed_doc(json_t *s, const struct imago_privkey *k, size_t *len)
{
        json_t *sig = NULL, *doc;
        char *out;

        assert_non_null(s);
        assert_int_equal(imago_tuf_sign(k, s, &sig), 0);
        doc = json_pack("{s:o,s:[o]}", "signed", s, "signatures", sig);
        out = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
        json_decref(doc);
        assert_non_null(out);
        *len = strlen(out);
        return out;
}

static json_t *role1(json_t *keys, const struct imago_privkey *k)
{
        json_t *key = NULL;
        char id[65];

        assert_int_equal(imago_tuf_key_public(k, &key), 0);
        assert_int_equal(imago_tuf_keyid(key, id), 0);
        json_object_set_new(keys, id, key);
        return json_pack("{s:[s],s:i}", "keyids", id, "threshold", 1);
}

/* DIR/repo published with fw/app.bin (custom complete) and bare.bin (no custom). */
static void publish_repo(struct fx *f)
{
        struct imago_privkey rk = {0}, tk = {0}, sn = {0}, ts = {0};
        struct imago_repo_keys k = {&sn, &ts};
        struct imago_repo_opts o;
        struct imago_repo_blob rb;
        char repo[400], files[300], e[32], why[512], hex[65];
        uint8_t dg[IMAGO_SHA256_LEN];
        const char *content = "firmware v2";
        json_t *keys = json_object();
        char *root, *tg;
        size_t rlen, tlen;

        assert_int_equal(imago_privkey_generate(IMAGO_KEY_ED25519, &rk), 0);
        assert_int_equal(imago_privkey_generate(IMAGO_KEY_ED25519, &tk), 0);
        assert_int_equal(imago_repo_keys_load(f->dir, PASS, 1, &sn, &ts), 0);
        when(f->now + 365 * DAY, e);
        root = signed_doc(json_pack("{s:s,s:s,s:i,s:s,s:b,s:o,s:{s:o,s:o,s:o,s:o}}", "_type",
                                    "root", "spec_version", "1.0.31", "version", 1, "expires", e,
                                    "consistent_snapshot", 1, "keys", keys, "roles", "root",
                                    role1(keys, &rk), "targets", role1(keys, &tk), "snapshot",
                                    role1(keys, &sn), "timestamp", role1(keys, &ts)),
                          &rk, &rlen);
        snprintf(files, sizeof(files), "%s/files", f->dir);
        mkdir(files, 0700);
        snprintf(repo, sizeof(repo), "%s/fw", files);
        mkdir(repo, 0700);
        snprintf(repo, sizeof(repo), "%s/fw/app.bin", files);
        assert_int_equal(imago_file_write_atomic(repo, content, strlen(content), 0600), 0);
        snprintf(repo, sizeof(repo), "%s/bare.bin", files);
        assert_int_equal(imago_file_write_atomic(repo, content, strlen(content), 0600), 0);
        assert_int_equal(imago_sha256(content, strlen(content), dg), 0);
        imago_hex_encode(dg, sizeof(dg), hex);
        tg = signed_doc(json_pack("{s:s,s:s,s:i,s:s,s:{s:{s:i,s:{s:s},s:{s:s,s:s,s:i}},"
                                  "s:{s:i,s:{s:s}}}}",
                                  "_type", "targets", "spec_version", "1.0.31", "version", 1,
                                  "expires", e, "targets", "fw/app.bin", "length",
                                  (int)strlen(content), "hashes", "sha256", hex, "custom",
                                  "hardware_id", "imago-sim", "version", "2.0.0",
                                  "security_counter", 3, "bare.bin", "length", (int)strlen(content),
                                  "hashes", "sha256", hex),
                        &tk, &tlen);
        assert_int_equal(imago_repo_opts_load(NULL, &o), 0);
        o.now = f->now;
        snprintf(repo, sizeof(repo), "%s/repo", f->dir);
        rb.buf = (const uint8_t *)root;
        rb.len = rlen;
        if (imago_repo_publish(repo, &k, &o, &rb, 1, (const uint8_t *)tg, tlen, files, why,
                               sizeof(why)) != 0)
                fail_msg("publish: %s", why);
        free(root);
        free(tg);
        imago_privkey_free(&rk);
        imago_privkey_free(&tk);
        imago_privkey_free(&sn);
        imago_privkey_free(&ts);
}

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));

        if (f == NULL)
                return -1;
        snprintf(f->dir, sizeof(f->dir), "/tmp/imago-test-director-XXXXXX");
        if (mkdtemp(f->dir) == NULL)
                return -1;
        f->now = (int64_t)time(NULL);
        f->counter = 1;
        if (imago_director_keys_create(f->dir, PASS) != 0 ||
            imago_director_open(f->dir, PASS, &f->d) != 0 ||
            imago_privkey_generate(IMAGO_KEY_P256, &f->dev) != 0 ||
            imago_privkey_generate(IMAGO_KEY_P256, &f->dev2) != 0 ||
            imago_privkey_public(&f->dev, &f->devpub) != 0 ||
            imago_privkey_public(&f->dev2, &f->dev2pub) != 0)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;

        imago_director_close(f->d);
        imago_privkey_free(&f->dev);
        imago_privkey_free(&f->dev2);
        rm_rf(f->dir);
        free(f);
        return 0;
}

/* ---- the real TUF client over imago_director_object() ----------------------------------- */

struct srv {
        struct imago_director *d;
        const char *device;
        int64_t now;
};

static int srv_get(void *ctx, const char *url, uint64_t max, imago_tuf_sink_fn sink, void *arg)
{
        struct srv *s = ctx;
        uint8_t *b = NULL;
        size_t len = 0;
        int r;

        if (strncmp(url, "blk:director/", 13) != 0)
                return IMAGO_ENOTFOUND;
        if ((r = imago_director_object(s->d, s->device, url + 13, s->now, &b, &len)) != 0)
                return r;
        r = len > max ? IMAGO_ETUF_LENGTH : sink(arg, b, len);
        free(b);
        return r;
}

/* A fresh client for device refreshed at now; returns 0 or the error; *t the target if any. */
static int client_check(struct fx *f, const char *device, int64_t now, const char *name,
                        struct imago_director_target *got, uint64_t *targets_version)
{
        struct srv s = {f->d, device, now};
        struct imago_tuf_fetcher fe = {srv_get, &s};
        struct imago_tuf_client c;
        const struct imago_tuf_target *t = NULL;
        char mdir[300], root[300];
        int r;

        snprintf(mdir, sizeof(mdir), "%s/client-%s", f->dir, device);
        rm_rf(mdir);
        assert_int_equal(mkdir(mdir, 0700), 0);
        snprintf(root, sizeof(root), "%s/director/metadata/root.json", f->dir);
        assert_int_equal(imago_tuf_client_init_dir(mdir, root), 0);
        assert_int_equal(imago_tuf_client_open(&c, mdir, "blk:director/", &fe, NULL), 0);
        c.now = now;
        if ((r = imago_tuf_client_refresh(&c)) != 0)
                goto out;
        if (targets_version != NULL)
                *targets_version = imago_tuf_trusted_role(&c.trusted, "targets")->version;
        if (name == NULL) {
                assert_int_equal(imago_tuf_trusted_role(&c.trusted, "targets")->n_targets, 0);
                goto out;
        }
        if ((r = imago_tuf_client_find(&c, name, &t)) != 0)
                goto out;
        memset(got, 0, sizeof(*got));
        got->length = t->length;
        assert_string_equal(t->hashes.h[0].alg, "sha256");
        assert_int_equal(imago_hex_decode(t->hashes.h[0].hex, got->sha256, 32), 0);
        assert_string_equal(json_string_value(json_object_get(t->custom, "device")), device);
        snprintf(got->hardware_id, sizeof(got->hardware_id), "%s",
                 json_string_value(json_object_get(t->custom, "hardware_id")));
        snprintf(got->version, sizeof(got->version), "%s",
                 json_string_value(json_object_get(t->custom, "version")));
        got->security_counter =
            (uint32_t)json_integer_value(json_object_get(t->custom, "security_counter"));
out:
        imago_tuf_client_close(&c);
        return r;
}

static void test_target_from_repo_and_client(void **state)
{
        struct fx *f = *state;
        struct imago_director_target t, got;
        struct imago_director_device dv;
        uint64_t v1 = 0;

        publish_repo(f);
        assert_int_equal(imago_director_target_from_repo(f->dir, "fw/app.bin", &t), 0);
        assert_string_equal(t.name, "fw/app.bin");
        assert_true(t.length == strlen("firmware v2"));
        assert_string_equal(t.hardware_id, "imago-sim");
        assert_string_equal(t.version, "2.0.0");
        assert_int_equal(t.security_counter, 3);
        assert_int_equal(imago_director_target_from_repo(f->dir, "nope.bin", &t), IMAGO_ENOTFOUND);
        assert_int_equal(imago_director_target_from_repo(f->dir, "bare.bin", &t),
                         IMAGO_ETUF_FORMAT);
        assert_int_equal(imago_director_target_from_repo(f->dir, "fw/app.bin", &t), 0);

        /* No assignment: the client accepts metadata with no targets. */
        assert_int_equal(client_check(f, ID, f->now, NULL, NULL, &v1), 0);
        t.rollout = 9;
        assert_int_equal(imago_director_assign(f->d, ID, &t, f->now), 0);
        assert_int_equal(client_check(f, ID, f->now, "fw/app.bin", &got, NULL), 0);
        assert_true(got.length == t.length);
        assert_memory_equal(got.sha256, t.sha256, 32);
        assert_string_equal(got.hardware_id, "imago-sim");
        assert_string_equal(got.version, "2.0.0");
        assert_int_equal(got.security_counter, 3);
        /* Another device's metadata does not list it. */
        assert_int_equal(client_check(f, OTHER, f->now, "fw/app.bin", &got, NULL),
                         IMAGO_ETUF_NOTARGET);
        assert_int_equal(imago_director_device(f->d, ID, &dv), 0);
        assert_true(dv.assigned && dv.target.rollout == 9);
        assert_string_equal(dv.target.name, "fw/app.bin");
}

static void test_assignment_changes_bump_versions(void **state)
{
        struct fx *f = *state;
        struct imago_director_target t = {0};
        uint64_t v0 = 0, v1 = 0, v2 = 0, v3 = 0;

        snprintf(t.name, sizeof(t.name), "fw/a.bin");
        t.length = 10;
        memset(t.sha256, 1, 32);
        snprintf(t.hardware_id, sizeof(t.hardware_id), "hw");
        snprintf(t.version, sizeof(t.version), "1.0.0");
        assert_int_equal(client_check(f, ID, f->now, NULL, NULL, &v0), 0);
        assert_int_equal(imago_director_assign(f->d, ID, &t, f->now), 0);
        assert_int_equal(
            client_check(f, ID, f->now, "fw/a.bin", &(struct imago_director_target){0}, &v1), 0);
        assert_true(v1 == v0 + 1);
        /* The same assignment again changes nothing. */
        assert_int_equal(imago_director_assign(f->d, ID, &t, f->now), 0);
        assert_int_equal(
            client_check(f, ID, f->now, "fw/a.bin", &(struct imago_director_target){0}, &v2), 0);
        assert_true(v2 == v1);
        assert_int_equal(imago_director_clear(f->d, ID, f->now), 0);
        assert_int_equal(client_check(f, ID, f->now, NULL, NULL, &v3), 0);
        assert_true(v3 == v2 + 1);
        /* A bad target is refused. */
        snprintf(t.name, sizeof(t.name), "../etc/passwd");
        assert_int_equal(imago_director_assign(f->d, ID, &t, f->now), IMAGO_EINVAL);
}

static void test_expiry_resigning(void **state)
{
        struct fx *f = *state;
        uint64_t v0 = 0, v1 = 0;
        uint8_t *b = NULL;
        size_t len = 0;
        char name[32];

        assert_int_equal(client_check(f, ID, f->now, NULL, NULL, &v0), 0);
        /* Ten days later the old targets would have expired: asking for the timestamp re-signs. */
        assert_int_equal(client_check(f, ID, f->now + 10 * DAY, NULL, NULL, &v1), 0);
        assert_true(v1 > v0);
        /* The old version is gone, the current one is served. */
        snprintf(name, sizeof(name), "%llu.targets.json", (unsigned long long)v0);
        assert_int_equal(imago_director_object(f->d, ID, name, f->now + 10 * DAY, &b, &len),
                         IMAGO_ENOTFOUND);
        snprintf(name, sizeof(name), "%llu.targets.json", (unsigned long long)v1);
        assert_int_equal(imago_director_object(f->d, ID, name, f->now + 10 * DAY, &b, &len), 0);
        free(b);
}

static void test_object_name_tricks(void **state)
{
        static const char *const bad[] = {"../director.db",    "/etc/passwd",
                                          "director.db",       "0.root.json",
                                          "01.root.json",      "1.root.json/../../director.db",
                                          "2.root.json",       "snapshot.json",
                                          "targets.json",      "1.snapshot.json.bak",
                                          "x.targets.json",    "-1.targets.json",
                                          "99.targets.json",   "18446744073709551616.root.json",
                                          "keys/director.key", "",
                                          "timestamp.json/",   "..",
                                          "1..root.json",      "+1.root.json",
                                          " 1.root.json"};
        struct fx *f = *state;
        uint8_t *b = NULL;
        size_t len = 0, i;

        assert_int_equal(imago_director_object(f->d, ID, "timestamp.json", f->now, &b, &len), 0);
        free(b);
        assert_int_equal(imago_director_object(f->d, ID, "1.root.json", f->now, &b, &len), 0);
        free(b);
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int r = imago_director_object(f->d, ID, bad[i], f->now, &b, &len);
                if (r != IMAGO_ENOTFOUND)
                        fail_msg("object '%s': %s", bad[i], imago_errname(r));
                assert_null(b);
        }
        assert_int_equal(imago_director_object(f->d, "../x", "root.json", f->now, &b, &len),
                         IMAGO_EINVAL);
}

/* ---- version reports -------------------------------------------------------------------- */

static int sign_cb(void *arg, const uint8_t digest[IMAGO_SHA256_LEN],
                   uint8_t sig[IMAGO_SIG_MAX_LEN], size_t *sig_len)
{
        return imago_privkey_sign_digest(arg, digest, sig, sig_len);
}

static char *report(struct fx *f, const char *device, const struct imago_privkey *k,
                    uint64_t counter, int64_t t, size_t *len)
{
        struct imago_vreport r = {0};
        char *msg = NULL;

        snprintf(r.device, sizeof(r.device), "%s", device);
        snprintf(r.nonce, sizeof(r.nonce), "%032x", ++f->nonce);
        r.counter = counter;
        r.time = t;
        r.installed_length = 11;
        snprintf(r.installed_version, sizeof(r.installed_version), "1.0.0");
        snprintf(r.hardware_id, sizeof(r.hardware_id), "imago-sim");
        r.state = IMAGO_OTA_SUCCEEDED;
        assert_int_equal(imago_vreport_build(&r, sign_cb, (void *)k, &msg, len), 0);
        return msg;
}

static void test_attack_replayed_version_report(void **state)
{
        struct fx *f = *state;
        struct imago_vreport r;
        struct imago_director_device dv;
        char *a, *b;
        size_t alen, blen;
        int dup = -1;

        a = report(f, ID, &f->dev, 5, f->now, &alen);
        b = report(f, ID, &f->dev, 6, f->now, &blen);
        assert_int_equal(
            imago_director_report(f->d, ID, (uint8_t *)a, alen, &f->devpub, f->now, &r, &dup), 0);
        assert_int_equal(dup, 0);
        assert_int_equal(
            imago_director_report(f->d, ID, (uint8_t *)b, blen, &f->devpub, f->now, &r, &dup), 0);
        /* The older report comes back (recorded by someone on the path): refused. */
        assert_int_equal(
            imago_director_report(f->d, ID, (uint8_t *)a, alen, &f->devpub, f->now, &r, &dup),
            IMAGO_EOTA_REPLAY);
        assert_int_equal(imago_director_device(f->d, ID, &dv), 0);
        assert_true(dv.reported && dv.last.counter == 6);
        free(a);
        free(b);
}

static void test_older_counter_refused(void **state)
{
        struct fx *f = *state;
        struct imago_vreport r;
        char *a, *b, *c;
        size_t alen, blen, clen;
        int dup;

        a = report(f, ID, &f->dev, 10, f->now, &alen);
        b = report(f, ID, &f->dev, 9, f->now, &blen);  /* fresh nonce, older counter */
        c = report(f, ID, &f->dev, 10, f->now, &clen); /* fresh nonce, same counter */
        assert_int_equal(
            imago_director_report(f->d, ID, (uint8_t *)a, alen, &f->devpub, f->now, &r, &dup), 0);
        assert_int_equal(
            imago_director_report(f->d, ID, (uint8_t *)b, blen, &f->devpub, f->now, &r, &dup),
            IMAGO_EOTA_REPLAY);
        assert_int_equal(
            imago_director_report(f->d, ID, (uint8_t *)c, clen, &f->devpub, f->now, &r, &dup),
            IMAGO_EOTA_REPLAY);
        free(a);
        free(b);
        free(c);
        /* A time far off the server's clock is refused. */
        a = report(f, ID, &f->dev, 11, f->now - 2 * DAY, &alen);
        assert_int_equal(
            imago_director_report(f->d, ID, (uint8_t *)a, alen, &f->devpub, f->now, &r, &dup),
            IMAGO_EOTA_REPORT);
        free(a);
}

static void test_resend_is_dup(void **state)
{
        struct fx *f = *state;
        struct imago_vreport r;
        struct imago_director_device dv;
        char *a;
        size_t alen;
        int dup = -1;

        a = report(f, ID, &f->dev, 1, f->now, &alen);
        assert_int_equal(
            imago_director_report(f->d, ID, (uint8_t *)a, alen, &f->devpub, f->now, &r, &dup), 0);
        assert_int_equal(dup, 0);
        assert_int_equal(
            imago_director_report(f->d, ID, (uint8_t *)a, alen, &f->devpub, f->now + 5, &r, &dup),
            0);
        assert_int_equal(dup, 1);
        assert_true(r.counter == 1);
        assert_int_equal(imago_director_device(f->d, ID, &dv), 0);
        assert_true(dv.reported_at == f->now); /* nothing changed */
        free(a);
}

static void test_report_for_another_device(void **state)
{
        struct fx *f = *state;
        struct imago_vreport r;
        struct imago_director_device dv;
        char *a;
        size_t alen;
        int dup;

        /* OTHER's own report, sent on ID's topic (with ID's key): refused. */
        a = report(f, OTHER, &f->dev2, 1, f->now, &alen);
        assert_int_equal(
            imago_director_report(f->d, ID, (uint8_t *)a, alen, &f->devpub, f->now, &r, &dup),
            IMAGO_EOTA_REPORT);
        /* ...and with OTHER's key on ID's topic still refused (the id is signed). */
        assert_int_equal(
            imago_director_report(f->d, ID, (uint8_t *)a, alen, &f->dev2pub, f->now, &r, &dup),
            IMAGO_EOTA_REPORT);
        /* ID's report signed by another key. */
        free(a);
        a = report(f, ID, &f->dev2, 1, f->now, &alen);
        assert_int_equal(
            imago_director_report(f->d, ID, (uint8_t *)a, alen, &f->devpub, f->now, &r, &dup),
            IMAGO_EOTA_REPORT);
        assert_int_equal(imago_director_device(f->d, ID, &dv), IMAGO_ENOTFOUND);
        free(a);
}

static void test_read_only(void **state)
{
        struct fx *f = *state;
        struct imago_director *ro = NULL;
        struct imago_director_target t = {0};
        uint8_t *b = NULL;
        size_t len = 0;
        struct stat st;
        char path[300];

        snprintf(path, sizeof(path), "%s/director.db", f->dir);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(imago_director_open(f->dir, "wrong", &ro), IMAGO_EKEY_PASSPHRASE);
        assert_int_equal(imago_director_open_ro(f->dir, &ro), 0);
        snprintf(t.name, sizeof(t.name), "a.bin");
        t.length = 1;
        snprintf(t.hardware_id, sizeof(t.hardware_id), "hw");
        snprintf(t.version, sizeof(t.version), "1.0.0");
        assert_int_equal(imago_director_assign(ro, ID, &t, f->now), IMAGO_EPERM);
        assert_int_equal(imago_director_object(ro, ID, "root.json", f->now, &b, &len), 0);
        free(b);
        imago_director_close(ro);
        assert_int_equal(imago_director_keys_create(f->dir, PASS), IMAGO_EEXIST);
        assert_int_equal(imago_director_keys_exist(f->dir), 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_target_from_repo_and_client, setup, teardown),
            cmocka_unit_test_setup_teardown(test_assignment_changes_bump_versions, setup, teardown),
            cmocka_unit_test_setup_teardown(test_expiry_resigning, setup, teardown),
            cmocka_unit_test_setup_teardown(test_object_name_tricks, setup, teardown),
            cmocka_unit_test_setup_teardown(test_attack_replayed_version_report, setup, teardown),
            cmocka_unit_test_setup_teardown(test_older_counter_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(test_resend_is_dup, setup, teardown),
            cmocka_unit_test_setup_teardown(test_report_for_another_device, setup, teardown),
            cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
