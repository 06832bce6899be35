/*
 * imago_repo: publishing releases signed in the test (root 2 of 3, targets 2 of 3, the online
 * snapshot and timestamp keys) and checking every result with the client's trusted set
 * (imago_tuf_trusted: root chain, timestamp, snapshot, targets, target files); the refusals
 * (attack_threshold_not_met, root not chaining, online keys not the root's, rollback, a
 * target file that does not match, unsafe names, delegations, expiry) write nothing; a publish
 * stopped after every step leaves a repository the client updates from, and completes when run
 * again; refresh re-signs within the margins only.
 */
#define _XOPEN_SOURCE 700

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/hex.h"
#include "cloud/repo/repo.h"
#include "cloud/repo/repo_priv.h"
#include "crypto/keys.h"
#include "tuf/tuf.h"

#define DAY 86400

struct fx {
        char dir[64];   /* the repository */
        char files[80]; /* the images */
        struct imago_privkey r[4], t[3], sn, ts, other;
        struct imago_repo_keys k;
        struct imago_repo_opts o;
        char why[IMAGO_REPO_WHY_MAX];
};

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
        (void)st;
        (void)flag;
        (void)f;
        return remove(p);
}

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        size_t i;

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/test_repo_XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->files, sizeof(f->files), "%s.files", f->dir);
        assert_int_equal(mkdir(f->files, 0700), 0);
        for (i = 0; i < 4; i++)
                assert_int_equal(imago_privkey_generate(IMAGO_KEY_ED25519, &f->r[i]), 0);
        for (i = 0; i < 3; i++)
                assert_int_equal(
                    imago_privkey_generate(i == 2 ? IMAGO_KEY_P256 : IMAGO_KEY_ED25519, &f->t[i]),
                    0);
        assert_int_equal(imago_privkey_generate(IMAGO_KEY_ED25519, &f->sn), 0);
        assert_int_equal(imago_privkey_generate(IMAGO_KEY_ED25519, &f->ts), 0);
        assert_int_equal(imago_privkey_generate(IMAGO_KEY_ED25519, &f->other), 0);
        f->k.snapshot = &f->sn;
        f->k.timestamp = &f->ts;
        assert_int_equal(imago_repo_opts_load(NULL, &f->o), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        size_t i;

        nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        nftw(f->files, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        for (i = 0; i < 4; i++)
                imago_privkey_free(&f->r[i]);
        for (i = 0; i < 3; i++)
                imago_privkey_free(&f->t[i]);
        imago_privkey_free(&f->sn);
        imago_privkey_free(&f->ts);
        imago_privkey_free(&f->other);
        free(f);
        return 0;
}

/* ---- metadata made in the test ---------------------------------------------------------- */

static void when(int64_t t, char out[32])
{
        time_t tt = (time_t)t;
        struct tm tm;

        assert_non_null(gmtime_r(&tt, &tm));
        assert_int_equal(strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm), 20);
}

static void add_key(json_t *keys, json_t *ids, const struct imago_privkey *k)
{
        json_t *key = NULL;
        char id[65];

        assert_int_equal(imago_tuf_key_public(k, &key), 0);
        assert_int_equal(imago_tuf_keyid(key, id), 0);
        json_object_set_new(keys, id, key);
        json_array_append_new(ids, json_string(id));
}

static json_t *role(json_t *keys, const struct imago_privkey *const *ks, size_t n, int thr)
{
        json_t *ids = json_array();
        size_t i;

        for (i = 0; i < n; i++)
                add_key(keys, ids, ks[i]);
        return json_pack("{s:o,s:i}", "keyids", ids, "threshold", thr);
}

/* Root version v: root keys rk (threshold 2), targets t0 t1 t2 (2), snapshot sn, timestamp ts. */
static json_t *root_signed(struct fx *f, uint64_t v, const struct imago_privkey *const *rk,
                           const struct imago_privkey *ts, int64_t expires, int consistent)
{
        const struct imago_privkey *tk[3] = {&f->t[0], &f->t[1], &f->t[2]};
        const struct imago_privkey *snk[1] = {&f->sn}, *tsk[1] = {ts};
        json_t *keys = json_object();
        char e[32];

        when(expires, e);
        return json_pack("{s:s,s:s,s:I,s:s,s:b,s:o,s:{s:o,s:o,s:o,s:o}}", "_type", "root",
                         "spec_version", "1.0.31", "version", (json_int_t)v, "expires", e,
                         "consistent_snapshot", consistent, "keys", keys, "roles", "root",
                         role(keys, rk, 3, 2), "targets", role(keys, tk, 3, 2), "snapshot",
                         role(keys, snk, 1, 1), "timestamp", role(keys, tsk, 1, 1));
}

/* Sign (consumes s) with n keys; *len bytes, malloc'd. */
static uint8_t *signed_doc(json_t *s, const struct imago_privkey *const *ks, size_t n, size_t *len)
{
        json_t *sigs = json_array(), *doc;
        char *out;
        size_t i;

        assert_non_null(s);
        for (i = 0; i < n; i++) {
                json_t *sig = NULL;

                assert_int_equal(imago_tuf_sign(ks[i], s, &sig), 0);
                json_array_append_new(sigs, sig);
        }
        doc = json_pack("{s:o,s:o}", "signed", s, "signatures", sigs);
        out = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
        json_decref(doc);
        assert_non_null(out);
        *len = strlen(out);
        return (uint8_t *)out;
}

static uint8_t *root_doc(struct fx *f, uint64_t v, size_t *len)
{
        const struct imago_privkey *rk[3] = {&f->r[0], &f->r[1], &f->r[2]};
        const struct imago_privkey *sk[2] = {&f->r[0], &f->r[1]};

        return signed_doc(root_signed(f, v, rk, &f->ts, f->o.now + 365 * DAY, 1), sk, 2, len);
}

/* A target file in f->files and its targets entry. */
static json_t *target(struct fx *f, const char *name, const char *content)
{
        uint8_t d[IMAGO_SHA256_LEN];
        char hex[65], path[256], dir[256];
        const char *slash = strrchr(name, '/');

        snprintf(path, sizeof(path), "%s/%s", f->files, name);
        if (slash != NULL) {
                snprintf(dir, sizeof(dir), "%s/%.*s", f->files, (int)(slash - name), name);
                mkdir(dir, 0700);
        }
        assert_int_equal(imago_file_write_atomic(path, content, strlen(content), 0600), 0);
        assert_int_equal(imago_sha256(content, strlen(content), d), 0);
        imago_hex_encode(d, sizeof(d), hex);
        return json_pack("{s:I,s:{s:s}}", "length", (json_int_t)strlen(content), "hashes", "sha256",
                         hex);
}

static json_t *targets_signed(struct fx *f, uint64_t v, const char *content, int64_t expires)
{
        char e[32];

        when(expires, e);
        return json_pack("{s:s,s:s,s:I,s:s,s:{s:o,s:o}}", "_type", "targets", "spec_version",
                         "1.0.31", "version", (json_int_t)v, "expires", e, "targets", "fw/app.bin",
                         target(f, "fw/app.bin", content), "notes.txt",
                         target(f, "notes.txt", "notes"));
}

static uint8_t *targets_doc(struct fx *f, uint64_t v, const char *content, size_t *len)
{
        const struct imago_privkey *tk[2] = {&f->t[0], &f->t[2]};

        return signed_doc(targets_signed(f, v, content, f->o.now + 90 * DAY), tk, 2, len);
}

/* ---- the client's view: imago_tuf_trusted over the files --------------------------------- */

static uint8_t *rd(struct fx *f, const char *name, size_t *len)
{
        uint8_t *b = NULL;

        if (imago_repo_read_meta(f->dir, name, 64 * 1024 * 1024, &b, len) != 0)
                return NULL;
        return b;
}

/* Everything verifies from 1.root.json; returns the targets version and checks fw/app.bin. */
static uint64_t client_view(struct fx *f, int64_t now, const char *content)
{
        struct imago_tuf_trusted t;
        const struct imago_tuf_meta *tg;
        char name[64], path[512];
        uint8_t *b;
        size_t len, i;
        uint64_t v;

        b = rd(f, "1.root.json", &len);
        assert_non_null(b);
        assert_int_equal(imago_tuf_trusted_init(&t, b, len, NULL), 0);
        free(b);
        for (v = 2;; v++) {
                snprintf(name, sizeof(name), "%llu.root.json", (unsigned long long)v);
                if ((b = rd(f, name, &len)) == NULL)
                        break;
                assert_int_equal(imago_tuf_update_root(&t, b, len), 0);
                free(b);
        }
        b = rd(f, "timestamp.json", &len);
        assert_non_null(b);
        assert_int_equal(imago_tuf_update_timestamp(&t, b, len, now, NULL), 0);
        free(b);
        snprintf(name, sizeof(name), "%llu.snapshot.json",
                 (unsigned long long)t.timestamp.meta[0].version);
        b = rd(f, name, &len);
        assert_non_null(b);
        assert_int_equal(imago_tuf_update_snapshot(&t, b, len, now, 0), 0);
        free(b);
        snprintf(name, sizeof(name), "%llu.targets.json",
                 (unsigned long long)t.snapshot.meta[0].version);
        b = rd(f, name, &len);
        assert_non_null(b);
        assert_int_equal(imago_tuf_update_targets(&t, "targets", "root", b, len, now), 0);
        free(b);
        tg = imago_tuf_trusted_role(&t, "targets");
        assert_non_null(tg);
        for (i = 0; i < tg->n_targets; i++) {
                const struct imago_tuf_target *x = &tg->targets[i];
                const char *slash = strrchr(x->name, '/');
                int dn = slash != NULL ? (int)(slash - x->name + 1) : 0;

                snprintf(path, sizeof(path), "%s/targets/%.*s%s.%s", f->dir, dn, x->name,
                         x->hashes.h[0].hex, x->name + dn);
                assert_int_equal(imago_file_read(path, x->length, &b, &len), 0);
                assert_int_equal(imago_tuf_check_file(b, len, 1, x->length, &x->hashes), 0);
                if (strcmp(x->name, "fw/app.bin") == 0 && content != NULL) {
                        assert_int_equal(len, strlen(content));
                        assert_memory_equal(b, content, len);
                }
                imago_file_free(b, len);
        }
        v = tg->version;
        imago_tuf_trusted_free(&t);
        return v;
}

static int publish(struct fx *f, const uint8_t *root, size_t root_len, const uint8_t *tg,
                   size_t tg_len)
{
        struct imago_repo_blob b = {root, root_len};

        return imago_repo_publish(f->dir, &f->k, &f->o, root != NULL ? &b : NULL,
                                  root != NULL ? 1 : 0, tg, tg_len, f->files, f->why,
                                  sizeof(f->why));
}

/* Files under the repository but the lock file (metadata and targets), for "nothing
 * written". */
static size_t n_files;
static int count_one(const char *p, const struct stat *st, int flag, struct FTW *w)
{
        (void)st;
        (void)w;
        if (flag == FTW_F && strcmp(p + strlen(p) - 6, "/.lock") != 0)
                n_files++;
        return 0;
}
static size_t count(struct fx *f)
{
        n_files = 0;
        nftw(f->dir, count_one, 16, FTW_PHYS);
        return n_files;
}

/* Release 1 published. */
static void first(struct fx *f)
{
        size_t rl, tl;
        uint8_t *r = root_doc(f, 1, &rl), *t = targets_doc(f, 1, "one", &tl);

        assert_int_equal(publish(f, r, rl, t, tl), 0);
        free(r);
        free(t);
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_publish_and_client_update(void **state)
{
        struct fx *f = *state;
        struct imago_repo_status st;
        size_t tl;
        uint8_t *t;

        first(f);
        assert_int_equal(client_view(f, f->o.now, "one"), 1);
        assert_int_equal(imago_repo_status(f->dir, &st), 0);
        assert_true(st.published);
        assert_int_equal(st.root_version, 1);
        assert_int_equal(st.snapshot_version, 1);
        assert_int_equal(st.timestamp_version, 1);
        assert_int_equal(st.n_targets, 2);
        assert_int_equal(st.timestamp_expires, f->o.now + DAY);
        assert_int_equal(st.snapshot_expires, f->o.now + 7 * DAY);

        t = targets_doc(f, 2, "two", &tl);
        assert_int_equal(publish(f, NULL, 0, t, tl), 0);
        free(t);
        assert_int_equal(client_view(f, f->o.now, "two"), 2);
        assert_int_equal(imago_repo_status(f->dir, &st), 0);
        assert_int_equal(st.snapshot_version, 2);
        assert_int_equal(st.timestamp_version, 2);
}

static void test_attack_threshold_not_met(void **state)
{
        struct fx *f = *state;
        const struct imago_privkey *one[1], *stranger[2];
        size_t tl, n;
        uint8_t *t;

        first(f);
        n = count(f);
        one[0] = &f->t[1];
        t = signed_doc(targets_signed(f, 2, "evil", f->o.now + DAY), one, 1, &tl);
        assert_int_equal(publish(f, NULL, 0, t, tl), IMAGO_ETUF_THRESHOLD);
        assert_non_null(strstr(f->why, "1 valid signatures"));
        free(t);
        /* a root key and a stranger do not count for targets */
        stranger[0] = &f->r[0];
        stranger[1] = &f->other;
        t = signed_doc(targets_signed(f, 2, "evil", f->o.now + DAY), stranger, 2, &tl);
        assert_int_equal(publish(f, NULL, 0, t, tl), IMAGO_ETUF_THRESHOLD);
        free(t);
        assert_int_equal(count(f), n);
        assert_int_equal(client_view(f, f->o.now, "one"), 1);
}

static void test_root_chain(void **state)
{
        struct fx *f = *state;
        const struct imago_privkey *rk2[3] = {&f->r[0], &f->r[1], &f->r[3]};
        const struct imago_privkey *old_only[2] = {&f->r[0], &f->r[2]};
        const struct imago_privkey *new_only[2] = {&f->r[3], &f->r[1]};
        const struct imago_privkey *both[3] = {&f->r[0], &f->r[2], &f->r[3]};
        uint8_t *r, *t, *r1;
        size_t rl, tl, r1l, n;

        first(f);
        n = count(f);
        t = targets_doc(f, 2, "two", &tl);
        /* r2 swaps r[2] for r[3]: signed by 2 old keys but only 1 of its own (r[0]) */
        r = signed_doc(root_signed(f, 2, rk2, &f->ts, f->o.now + DAY, 1), old_only, 2, &rl);
        assert_int_equal(publish(f, r, rl, t, tl), IMAGO_ETUF_THRESHOLD);
        free(r);
        /* 1 of 2 old keys (r[1]); 2 new */
        r = signed_doc(root_signed(f, 2, rk2, &f->ts, f->o.now + DAY, 1), new_only, 2, &rl);
        assert_int_equal(publish(f, r, rl, t, tl), IMAGO_ETUF_THRESHOLD);
        free(r);
        /* version 3 with 2 missing */
        r = signed_doc(root_signed(f, 3, rk2, &f->ts, f->o.now + DAY, 1), both, 3, &rl);
        assert_int_equal(publish(f, r, rl, t, tl), IMAGO_ETUF_CONSISTENCY);
        free(r);
        /* version 1 again with other bytes */
        r = signed_doc(root_signed(f, 1, rk2, &f->ts, f->o.now + DAY, 1), both, 3, &rl);
        assert_int_equal(publish(f, r, rl, t, tl), IMAGO_ETUF_ROLLBACK);
        free(r);
        assert_int_equal(count(f), n);
        /* the published version 1 given again is accepted (a publish run again) */
        r1 = rd(f, "1.root.json", &r1l);
        assert_int_equal(publish(f, r1, r1l, t, tl), 0);
        free(r1);
        free(t);
        /* a good root 2: both thresholds */
        t = targets_doc(f, 3, "three", &tl);
        r = signed_doc(root_signed(f, 2, rk2, &f->ts, f->o.now + DAY, 1), both, 3, &rl);
        assert_int_equal(publish(f, r, rl, t, tl), 0);
        free(r);
        free(t);
        assert_int_equal(client_view(f, f->o.now, "three"), 3);
}

static void test_fresh_repository_root(void **state)
{
        struct fx *f = *state;
        const struct imago_privkey *rk[3] = {&f->r[0], &f->r[1], &f->r[2]};
        const struct imago_privkey *one[1] = {&f->r[0]};
        size_t rl, tl;
        uint8_t *r, *t = targets_doc(f, 1, "one", &tl);

        assert_int_equal(publish(f, NULL, 0, t, tl), IMAGO_ENOTFOUND);
        r = root_doc(f, 2, &rl);
        assert_int_equal(publish(f, r, rl, t, tl), IMAGO_ETUF_CONSISTENCY);
        free(r);
        r = signed_doc(root_signed(f, 1, rk, &f->ts, f->o.now + DAY, 1), one, 1, &rl);
        assert_int_equal(publish(f, r, rl, t, tl), IMAGO_ETUF_THRESHOLD);
        free(r);
        r = signed_doc(root_signed(f, 1, rk, &f->ts, f->o.now + DAY, 0), rk, 2, &rl);
        assert_int_equal(publish(f, r, rl, t, tl), IMAGO_ETUF_FORMAT); /* not consistent */
        assert_non_null(strstr(f->why, "consistent_snapshot"));
        free(r);
        r = signed_doc(root_signed(f, 1, rk, &f->ts, f->o.now - 1, 1), rk, 2, &rl);
        assert_int_equal(publish(f, r, rl, t, tl), IMAGO_ETUF_EXPIRED);
        free(r);
        free(t);
        assert_int_equal(count(f), 0);
}

static void test_online_keys_not_in_root(void **state)
{
        struct fx *f = *state;
        const struct imago_privkey *rk[3] = {&f->r[0], &f->r[1], &f->r[2]};
        size_t rl, tl;
        uint8_t *r, *t = targets_doc(f, 1, "one", &tl);

        r = signed_doc(root_signed(f, 1, rk, &f->other, f->o.now + DAY, 1), rk, 2, &rl);
        assert_int_equal(publish(f, r, rl, t, tl), IMAGO_EPERM);
        assert_non_null(strstr(f->why, "timestamp key"));
        free(r);
        /* the server's snapshot key used as its timestamp key: the root names another one */
        f->k.timestamp = &f->sn;
        r = root_doc(f, 1, &rl);
        assert_int_equal(publish(f, r, rl, t, tl), IMAGO_EPERM);
        free(r);
        free(t);
        assert_int_equal(count(f), 0);
}

static void test_targets_refused(void **state)
{
        struct fx *f = *state;
        const struct imago_privkey *tk[2] = {&f->t[0], &f->t[1]};
        json_t *s;
        size_t tl, n;
        uint8_t *t;

        first(f);
        n = count(f);
        /* rollback: version 1 again */
        t = targets_doc(f, 1, "one again", &tl);
        assert_int_equal(publish(f, NULL, 0, t, tl), IMAGO_ETUF_ROLLBACK);
        free(t);
        /* expired */
        t = signed_doc(targets_signed(f, 2, "two", f->o.now - 1), tk, 2, &tl);
        assert_int_equal(publish(f, NULL, 0, t, tl), IMAGO_ETUF_EXPIRED);
        free(t);
        /* a file that is not what targets lists (attack_arbitrary_software): nothing written */
        t = targets_doc(f, 2, "two", &tl);
        {
                char path[256];

                snprintf(path, sizeof(path), "%s/fw/app.bin", f->files);
                assert_int_equal(imago_file_write_atomic(path, "twO", 3, 0600), 0);
        }
        assert_int_equal(publish(f, NULL, 0, t, tl), IMAGO_ETUF_HASH);
        assert_non_null(strstr(f->why, "fw/app.bin"));
        free(t);
        /* delegations */
        s = targets_signed(f, 2, "two", f->o.now + DAY);
        json_object_set_new(s, "delegations",
                            json_pack("{s:{},s:[{s:s,s:[],s:i,s:b,s:[s]}]}", "keys", "roles",
                                      "name", "r", "keyids", "threshold", 1, "terminating", 0,
                                      "paths", "*"));
        t = signed_doc(s, tk, 2, &tl);
        assert_int_equal(publish(f, NULL, 0, t, tl), IMAGO_ETUF_DELEGATION);
        free(t);
        /* unsafe names */
        s = targets_signed(f, 2, "two", f->o.now + DAY);
        json_object_set(json_object_get(s, "targets"), "../escape",
                        json_object_get(json_object_get(s, "targets"), "notes.txt"));
        t = signed_doc(s, tk, 2, &tl);
        assert_int_equal(publish(f, NULL, 0, t, tl), IMAGO_ETUF_FORMAT);
        assert_non_null(strstr(f->why, "../escape"));
        free(t);
        assert_int_equal(count(f), n);
        assert_int_equal(client_view(f, f->o.now, "one"), 1);
}

static void test_name_safe(void **state)
{
        static const char *const bad[] = {"",    "/abs", "a//b", "a/./b", "..",   "a/..",
                                          "./a", "a/",   "a\\b", "a\nb",  "\x7f", "\xc3\xa9"};
        static const char *const good[] = {"a", "fw/app.bin", "a b", "..a", "a/.b/c-1.2_x"};
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_false(imago_repo_name_safe(bad[i]));
        for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                assert_true(imago_repo_name_safe(good[i]));
        assert_false(imago_repo_name_safe(NULL));
}

/* Stopped after each step, the published release is still the old one and verifies; the same
 * publish run again completes.  Steps 4 and 5 with a new root. */
static void test_crash_after_every_step(void **state)
{
        struct fx *f = *state;
        const struct imago_privkey *rk[3] = {&f->r[0], &f->r[1], &f->r[2]};
        char content[16], prev[16];
        unsigned k;
        uint64_t v = 1, rv = 1;

        first(f);
        snprintf(prev, sizeof(prev), "one");
        for (k = 1; k <= 5; k++) {
                uint8_t *t, *r = NULL;
                size_t tl, rl = 0;

                v++;
                snprintf(content, sizeof(content), "release %llu", (unsigned long long)v);
                t = targets_doc(f, v, content, &tl);
                if (k >= 4)
                        r = signed_doc(root_signed(f, ++rv, rk, &f->ts, f->o.now + DAY, 1), rk, 2,
                                       &rl);
                f->o.stop_after = k;
                assert_int_equal(publish(f, r, rl, t, tl), IMAGO_ESTATE);
                assert_int_equal(client_view(f, f->o.now, prev), v - 1);
                f->o.stop_after = 0;
                assert_int_equal(publish(f, r, rl, t, tl), 0);
                assert_int_equal(client_view(f, f->o.now, content), v);
                snprintf(prev, sizeof(prev), "%s", content);
                free(t);
                free(r);
        }
}

static void test_refresh_margins(void **state)
{
        struct fx *f = *state;
        struct imago_repo_status st;
        int64_t t0;
        int did = -1;

        assert_int_equal(imago_repo_refresh(f->dir, &f->k, &f->o, 1, &did, f->why, sizeof(f->why)),
                         IMAGO_ENOTFOUND);
        first(f);
        t0 = f->o.now;
        /* fresh: nothing; forced: the timestamp */
        assert_int_equal(imago_repo_refresh(f->dir, &f->k, &f->o, 0, &did, NULL, 0), 0);
        assert_int_equal(did, 0);
        assert_int_equal(imago_repo_refresh(f->dir, &f->k, &f->o, 1, &did, NULL, 0), 0);
        assert_int_equal(did, 1);
        /* within the timestamp margin (12 h left) */
        f->o.now = t0 + DAY / 2 + 10;
        assert_int_equal(imago_repo_refresh(f->dir, &f->k, &f->o, 0, &did, NULL, 0), 0);
        assert_int_equal(did, 1);
        assert_int_equal(imago_repo_status(f->dir, &st), 0);
        assert_int_equal(st.timestamp_version, 3);
        assert_int_equal(st.snapshot_version, 1);
        assert_int_equal(st.timestamp_expires, f->o.now + DAY);
        assert_int_equal(client_view(f, f->o.now, "one"), 1);
        /* expired timestamp (2 days later): re-signed, the client accepts it again */
        f->o.now = t0 + 2 * DAY;
        assert_int_equal(imago_repo_refresh(f->dir, &f->k, &f->o, 0, &did, NULL, 0), 0);
        assert_int_equal(did, 1);
        assert_int_equal(client_view(f, f->o.now, "one"), 1);
        /* snapshot within its margin (3.5 days): new snapshot, same targets, new timestamp */
        f->o.now = t0 + 4 * DAY;
        assert_int_equal(imago_repo_refresh(f->dir, &f->k, &f->o, 0, &did, NULL, 0), 0);
        assert_int_equal(did, 2);
        assert_int_equal(imago_repo_status(f->dir, &st), 0);
        assert_int_equal(st.snapshot_version, 2);
        assert_int_equal(st.targets_version, 1);
        assert_int_equal(client_view(f, f->o.now, "one"), 1);
        /* keys the root does not name */
        f->k.timestamp = &f->other;
        assert_int_equal(imago_repo_refresh(f->dir, &f->k, &f->o, 1, &did, f->why, sizeof(f->why)),
                         IMAGO_EPERM);
}

static void test_conf(void **state)
{
        struct fx *f = *state;
        struct imago_repo_opts o;
        char path[128];
        static const struct {
                const char *text;
                int r;
        } cases[] = {
            {"timestamp_expiry 3600\nsnapshot_expiry 86400\n", 0},
            {"# c\ntimestamp_expiry 120", 0},
            {"timestamp_expiry 59\n", IMAGO_ECONF_VALUE},
            {"timestamp_expiry 99999999\n", IMAGO_ECONF_VALUE},
            {"timestamp_expiry -1\n", IMAGO_ECONF_VALUE},
            {"timestamp_expiry\n", IMAGO_ECONF_SYNTAX},
            {"targets_expiry 100\n", IMAGO_ECONF_KEY},
        };
        size_t i;

        snprintf(path, sizeof(path), "%s/%s", f->dir, IMAGO_REPO_F_CONF);
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                assert_int_equal(
                    imago_file_write_atomic(path, cases[i].text, strlen(cases[i].text), 0600), 0);
                assert_int_equal(imago_repo_opts_load(f->dir, &o), cases[i].r);
        }
        assert_int_equal(imago_file_write_atomic(path, cases[0].text, strlen(cases[0].text), 0600),
                         0);
        assert_int_equal(imago_repo_opts_load(f->dir, &o), 0);
        assert_int_equal(o.timestamp_expiry, 3600);
        assert_int_equal(o.snapshot_expiry, 86400);
        assert_int_equal(o.timestamp_margin, 1800);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_publish_and_client_update, setup, teardown),
            cmocka_unit_test_setup_teardown(test_attack_threshold_not_met, setup, teardown),
            cmocka_unit_test_setup_teardown(test_root_chain, setup, teardown),
            cmocka_unit_test_setup_teardown(test_fresh_repository_root, setup, teardown),
            cmocka_unit_test_setup_teardown(test_online_keys_not_in_root, setup, teardown),
            cmocka_unit_test_setup_teardown(test_targets_refused, setup, teardown),
            cmocka_unit_test(test_name_safe),
            cmocka_unit_test_setup_teardown(test_crash_after_every_step, setup, teardown),
            cmocka_unit_test_setup_teardown(test_refresh_margins, setup, teardown),
            cmocka_unit_test_setup_teardown(test_conf, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
