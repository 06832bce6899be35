/*
 * imago_tuf_client: the client workflow (spec 5.x) end to end over its
 * fetch interface, against a repository signed in the test and served from
 * memory (test_tuf_client_world.h), one test per attack, named after it.
 * Each checks the answer and what the metadata and target directories hold
 * afterwards (nothing unverified persisted, the previous state intact).
 */
#define _XOPEN_SOURCE 700

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/err.h"
#include "test_tuf_client_world.h"

#define HELLO "hello, world\n"

static void refresh_ok(struct world *w)
{
        assert_int_equal(w_refresh(w), IMAGO_OK);
}

/* Normal update: refresh persists the four top-level files exactly as served; download writes
 * the target under its encoded name; a second download is served from the target dir; a new
 * targets version is picked up by the next refresh. */
static void test_normal_update(void **state)
{
        struct world *w = w_new(0);
        size_t len;
        uint8_t *d;
        int cached = 0;
        const struct imago_tuf_target *t;

        (void)state;
        refresh_ok(w);
        assert_true(w_same(w, w->dir, "root.json", "m/1.root.json"));
        assert_true(w_same(w, w->dir, "timestamp.json", "m/timestamp.json"));
        assert_true(w_same(w, w->dir, "snapshot.json", "m/snapshot.json"));
        assert_true(w_same(w, w->dir, "targets.json", "m/targets.json"));
        assert_int_equal(w_fetched(w, "m/2.root.json"), 1);
        assert_int_equal(w_count(w->dir), 4);
        assert_int_equal(w_download(w, "file.txt"), IMAGO_OK);
        d = w_read(w->tdir, "file.txt", &len);
        assert_non_null(d);
        assert_int_equal(len, strlen(HELLO));
        assert_memory_equal(d, HELLO, len);
        imago_file_free(d, len);
        assert_int_equal(w_fetched(w, "t/file.txt"), 1);
        assert_int_equal(imago_tuf_client_find(&w->c, "file.txt", &t), IMAGO_OK);
        assert_int_equal(imago_tuf_client_download(&w->c, t, "mem://t/", w->tdir, &cached),
                         IMAGO_OK);
        assert_int_equal(cached, 1);
        assert_int_equal(w_fetched(w, "t/file.txt"), 1);
        assert_int_equal(imago_tuf_client_find(&w->c, "nope.txt", &t), IMAGO_ETUF_NOTARGET);

        /* Unchanged repository: the persisted snapshot and targets are used, not fetched. */
        refresh_ok(w);
        assert_int_equal(w_fetched(w, "m/timestamp.json"), 1);
        assert_int_equal(w_fetched(w, "m/snapshot.json"), 0);
        assert_int_equal(w_fetched(w, "m/targets.json"), 0);

        /* A new release. */
        w_target(w, w->targets, "dir/fw.bin", "firmware v2");
        w->tg_v = w->sn_v = w->ts_v = 2;
        w_publish(w);
        refresh_ok(w);
        assert_true(w_same(w, w->dir, "targets.json", "m/targets.json"));
        assert_int_equal(w_download(w, "dir/fw.bin"), IMAGO_OK);
        assert_true(w_exists(w->tdir, "dir%2Ffw.bin"));
        assert_int_equal(w_count(w->tdir), 2);
        w_free(w);
}

/* Key rotation in the root chain: v2 moves the root role to two new keys (signed by the old
 * and the new), v3 rotates the timestamp key (persisted timestamp and snapshot deleted, the
 * new ones fetched). */
static void test_key_rotation_root_chain(void **state)
{
        struct world *w = w_new(0);
        const struct imago_privkey *k12[2], *s2[3];

        (void)state;
        refresh_ok(w);
        k12[0] = &w->k.root[1];
        k12[1] = &w->k.root[2];
        s2[0] = &w->k.root[0];
        s2[1] = &w->k.root[1];
        s2[2] = &w->k.root[2];
        w_root(w, 2, k12, 2, 2, NULL, s2, 3);
        w_root(w, 3, k12, 2, 2, &w->k.ts2, k12, 2);
        w->ts_v = 2;
        w_publish_with(w, &w->k.ts2);
        refresh_ok(w);
        assert_int_equal(w->c.trusted.root.version, 3);
        assert_true(w_same(w, w->dir, "root.json", "m/3.root.json"));
        assert_true(w_same(w, w->dir, "timestamp.json", "m/timestamp.json"));
        assert_int_equal(w_fetched(w, "m/4.root.json"), 1);
        /* the snapshot was deleted with the timestamp (5.3.11) and fetched again */
        assert_int_equal(w_fetched(w, "m/snapshot.json"), 1);
        w_free(w);
}

/* attack_key_revoked_by_root_rotation: after v2 drops root[0], a v3 signed by root[0] alone is
 * refused, root.json stays v2. */
static void test_attack_key_revoked_by_root_rotation(void **state)
{
        struct world *w = w_new(0);
        const struct imago_privkey *k1 = &w->k.root[1], *s2[2] = {&w->k.root[0], &w->k.root[1]};

        (void)state;
        w_root(w, 2, &k1, 1, 1, NULL, s2, 2);
        refresh_ok(w);
        w_root(w, 3, NULL, 0, 0, NULL, NULL, 0); /* root[0] again, signed by root[0] */
        assert_int_equal(w_refresh(w), IMAGO_ETUF_THRESHOLD);
        assert_true(w_same(w, w->dir, "root.json", "m/2.root.json"));
        w_free(w);
}

/* attack_threshold_not_met: root v2 with threshold 2 signed by one key; a timestamp signed by
 * a key the root does not list. */
static void test_attack_threshold_not_met(void **state)
{
        struct world *w = w_new(0);
        const struct imago_privkey *k01[2] = {&w->k.root[0], &w->k.root[1]};
        const struct imago_privkey *s0 = &w->k.root[0];

        (void)state;
        w_root(w, 2, k01, 2, 2, NULL, &s0, 1);
        assert_int_equal(w_refresh(w), IMAGO_ETUF_THRESHOLD);
        assert_true(w_same(w, w->dir, "root.json", "m/1.root.json"));
        assert_false(w_exists(w->dir, "timestamp.json"));

        w_del(w, "m/2.root.json");
        w->ts_v = 2;
        w_publish_with(w, &w->k.ts2);
        assert_int_equal(w_refresh(w), IMAGO_ETUF_THRESHOLD);
        assert_false(w_exists(w->dir, "timestamp.json"));
        w_free(w);
}

/* attack_rollback: after v3 the repository serves an older (validly signed) timestamp, then a
 * snapshot whose targets version went down. */
static void test_attack_rollback(void **state)
{
        struct world *w = w_new(0);
        struct wfile *old;
        uint8_t *oldts;
        size_t oldlen;

        (void)state;
        w->ts_v = 2;
        w_publish(w);
        old = w_find(w, "m/timestamp.json");
        oldlen = old->len;
        oldts = malloc(oldlen);
        memcpy(oldts, old->data, oldlen);
        w->ts_v = 3;
        w->sn_v = 3;
        w->tg_v = 3;
        w_publish(w);
        refresh_ok(w);
        w_put(w, "m/timestamp.json", oldts, oldlen);
        assert_int_equal(w_refresh(w), IMAGO_ETUF_ROLLBACK);
        assert_int_equal(w->c.trusted.timestamp.version, 3);

        /* snapshot v4 lists targets v2 < the trusted v3 */
        w->ts_v = 4;
        w->sn_v = 4;
        w->tg_v = 2;
        w_publish(w);
        assert_int_equal(w_refresh(w), IMAGO_ETUF_ROLLBACK);
        {
                struct imago_tuf_meta m;
                size_t len;
                uint8_t *d = w_read(w->dir, "snapshot.json", &len);

                assert_non_null(d);
                assert_int_equal(imago_tuf_meta_parse(IMAGO_TUF_SNAPSHOT, d, len, NULL, &m),
                                 IMAGO_OK);
                assert_int_equal(m.version, 3);
                imago_tuf_meta_free(&m);
                imago_file_free(d, len);
        }
        free(oldts);
        w_free(w);
}

/* attack_indefinite_freeze: the repository keeps serving metadata past its expiry: refused at
 * the time it expired, whatever is persisted. */
static void test_attack_indefinite_freeze(void **state)
{
        struct world *w = w_new(0);

        (void)state;
        w->expires_ts = "2027-01-16T00:00:00Z"; /* TR_NOW is 2027-01-15 */
        w->ts_v = 2;
        w_publish(w);
        refresh_ok(w);
        /* a week later, the same timestamp */
        assert_int_equal(w_open(w, TR_NOW + 7 * 86400), IMAGO_OK);
        assert_int_equal(imago_tuf_client_refresh(&w->c), IMAGO_ETUF_EXPIRED);
        /* an expired snapshot behind a fresh timestamp */
        w->expires_ts = TR_FUTURE;
        w->expires_sn = "2027-01-16T00:00:00Z";
        w->ts_v = 3;
        w->sn_v = 2;
        w_publish(w);
        assert_int_equal(w_open(w, TR_NOW + 7 * 86400), IMAGO_OK);
        assert_int_equal(imago_tuf_client_refresh(&w->c), IMAGO_ETUF_EXPIRED);
        assert_int_equal(
            imago_tuf_client_find(&w->c, "file.txt", &(const struct imago_tuf_target *){NULL}),
            IMAGO_ESTATE);
        w_free(w);
}

/* attack_endless_data: files longer than their bound are cut at the bound and refused. */
static void test_attack_endless_data(void **state)
{
        struct world *w = w_new(0);
        struct wfile *f;
        uint8_t *big;
        size_t n = IMAGO_TUF_TIMESTAMP_MAX + 4096;

        (void)state;
        /* a timestamp.json far over its limit */
        big = malloc(n);
        memset(big, ' ', n);
        f = w_find(w, "m/timestamp.json");
        memcpy(big, f->data, f->len);
        w_put(w, "m/timestamp.json", big, n);
        assert_int_equal(w_refresh(w), IMAGO_ETUF_LENGTH);
        assert_false(w_exists(w->dir, "timestamp.json"));
        free(big);

        /* a snapshot longer than the timestamp says */
        w->ts_v = 2;
        w_publish(w);
        f = w_find(w, "m/snapshot.json");
        big = malloc(f->len + 100);
        memcpy(big, f->data, f->len);
        memset(big + f->len, ' ', 100);
        w_put(w, "m/snapshot.json", big, f->len + 100);
        free(big);
        assert_int_equal(w_refresh(w), IMAGO_ETUF_LENGTH);
        assert_false(w_exists(w->dir, "snapshot.json"));

        /* a target longer than its length: nothing left in the target dir */
        w->ts_v = 3;
        w_publish(w);
        refresh_ok(w);
        w_put(w, "t/file.txt", HELLO "and more and more", strlen(HELLO) + 17);
        assert_int_equal(w_download(w, "file.txt"), IMAGO_ETUF_LENGTH);
        assert_int_equal(w_count(w->tdir), 0);
        w_free(w);
}

/* attack_arbitrary_software: the target's bytes replaced (same length), and a targets document
 * signed by a key the root does not trust. */
static void test_attack_arbitrary_software(void **state)
{
        struct world *w = w_new(0);
        char evil[sizeof(HELLO)];
        size_t n;

        (void)state;
        refresh_ok(w);
        memcpy(evil, HELLO, sizeof(HELLO));
        evil[0] = 'j';
        w_put(w, "t/file.txt", evil, strlen(evil));
        assert_int_equal(w_download(w, "file.txt"), IMAGO_ETUF_HASH);
        assert_int_equal(w_count(w->tdir), 0);

        /* targets v2 signed by the snapshot key */
        {
                json_t *tg = tr_targets_signed(2, TR_FUTURE, json_object(), NULL);
                uint8_t *b = tr_doc1(tg, &w->k.snap, &n);

                w->tg_v = w->sn_v = w->ts_v = 2;
                w_publish(w);
                w_put(w, "m/targets.json", b, n);
                json_decref(tg);
                free(b);
        }
        assert_int_equal(w_refresh(w), IMAGO_ETUF_THRESHOLD);
        /* the trusted targets.json is still v1 */
        {
                struct imago_tuf_meta m;
                size_t len;
                uint8_t *d = w_read(w->dir, "targets.json", &len);

                assert_int_equal(imago_tuf_meta_parse(IMAGO_TUF_TARGETS, d, len, NULL, &m),
                                 IMAGO_OK);
                assert_int_equal(m.version, 1);
                imago_tuf_meta_free(&m);
                imago_file_free(d, len);
        }
        w_free(w);
}

/* attack_mix_and_match: a snapshot of another version than the timestamp names, and a targets
 * document of another version than the snapshot names. */
static void test_attack_mix_and_match(void **state)
{
        struct world *w = w_new(0);
        struct wfile *f;
        uint8_t *sn1;
        size_t n1;

        (void)state;
        refresh_ok(w);
        f = w_find(w, "m/snapshot.json");
        n1 = f->len;
        sn1 = malloc(n1);
        memcpy(sn1, f->data, n1);
        /* timestamp v2 names snapshot v2 (no length/hash check possible without them: strip) */
        w->ts_v = 2;
        w->sn_v = 2;
        w_publish(w);
        {
                json_t *ts = tr_timestamp_signed(3, TR_FUTURE, 2, NULL, 0);
                size_t n;
                uint8_t *b = tr_doc1(ts, &w->k.ts, &n);

                w_put(w, "m/timestamp.json", b, n);
                json_decref(ts);
                free(b);
        }
        w_put(w, "m/snapshot.json", sn1, n1); /* the old one, validly signed */
        assert_int_equal(w_refresh(w), IMAGO_ETUF_CONSISTENCY);
        assert_true(w_exists(w->dir, "snapshot.json"));
        free(sn1);

        /* snapshot v3 names targets v3, the repository serves targets v2 */
        w->ts_v = 4;
        w->sn_v = 3;
        w->tg_v = 2;
        w_publish(w);
        f = w_find(w, "m/targets.json");
        n1 = f->len;
        sn1 = malloc(n1);
        memcpy(sn1, f->data, n1);
        w->ts_v = 5;
        w->sn_v = 4;
        w->tg_v = 3;
        w_publish(w);
        w_put(w, "m/targets.json", sn1, n1);
        assert_int_equal(w_refresh(w), IMAGO_ETUF_CONSISTENCY);
        free(sn1);
        w_free(w);
}

/* Consistent snapshots: VERSION.snapshot.json, VERSION.targets.json, VERSION.ROLE.json and
 * DIR/HASH.NAME are what the client fetches; an unusual delegated role name is encoded. */
static void test_consistent_snapshots(void **state)
{
        struct world *w = w_new(1);
        char q[64];

        (void)state;
        w->dg_targets = json_object();
        w->dg_name = "../deleg ated";
        w->dg_path = "apps/*";
        w_target(w, w->dg_targets, "apps/a.bin", "delegated app");
        w_target(w, w->targets, "sub/dir/fw.bin", "firmware");
        w->ts_v = w->sn_v = w->tg_v = 2;
        w_publish(w);
        refresh_ok(w);
        assert_int_equal(w_fetched(w, "m/2.snapshot.json"), 1);
        assert_int_equal(w_fetched(w, "m/2.targets.json"), 1);
        assert_int_equal(w_fetched(w, "m/snapshot.json"), 0);
        assert_int_equal(w_download(w, "sub/dir/fw.bin"), IMAGO_OK);
        assert_int_equal(w_download(w, "apps/a.bin"), IMAGO_OK);
        assert_int_equal(w_fetched(w, "m/1...%2Fdeleg%20ated.json"), 1);
        assert_int_equal(imago_tuf_quote(w->dg_name, "", q, sizeof(q)), IMAGO_OK);
        strncat(q, ".json", sizeof(q) - strlen(q) - 1);
        assert_true(w_exists(w->dir, q));
        assert_true(w_exists(w->tdir, "apps%2Fa.bin"));
        assert_true(w_exists(w->tdir, "sub%2Fdir%2Ffw.bin"));
        assert_int_equal(w_count(w->dir), 5);
        /* a target not delegated to the role is not found through it */
        {
                const struct imago_tuf_target *t;

                assert_int_equal(imago_tuf_client_find(&w->c, "other/a.bin", &t),
                                 IMAGO_ETUF_NOTARGET);
        }
        /* the next refresh uses the persisted delegated role */
        refresh_ok(w);
        assert_int_equal(w_download(w, "apps/a.bin"), IMAGO_OK);
        assert_int_equal(w_fetched(w, "m/1...%2Fdeleg%20ated.json"), 0);
        w_free(w);
}

/* A crash (or failure) between steps leaves DIR consistent: the files persisted so far verify,
 * and the next refresh completes. */
static void test_interrupted_refresh(void **state)
{
        struct world *w = w_new(0);
        struct wfile *f;
        uint8_t *tg;
        size_t n;

        (void)state;
        refresh_ok(w);
        w->ts_v = w->sn_v = w->tg_v = 2;
        w_publish(w);
        f = w_find(w, "m/targets.json");
        n = f->len;
        tg = malloc(n);
        memcpy(tg, f->data, n);
        w_del(w, "m/targets.json"); /* the repository loses targets mid-way */
        assert_int_equal(w_refresh(w), IMAGO_ETUF_CONSISTENCY);
        assert_true(w_same(w, w->dir, "timestamp.json", "m/timestamp.json"));
        assert_true(w_same(w, w->dir, "snapshot.json", "m/snapshot.json"));
        w_put(w, "m/targets.json", tg, n);
        refresh_ok(w);
        assert_true(w_same(w, w->dir, "targets.json", "m/targets.json"));
        assert_int_equal(w_count(w->dir), 4);
        free(tg);
        w_free(w);
}

/* A failure at every fetch in turn (a crash or a lost network at that point) of an update that
 * rotates the root and the timestamp key, releases new targets and a delegated role: the
 * directory holds only verified files, and the next run completes the update. */
static void test_fail_at_every_step(void **state)
{
        unsigned k, total = 0;

        (void)state;
        for (k = 1;; k++) {
                struct world *w = w_new(1);
                const struct imago_privkey *k1 = &w->k.root[1];
                const struct imago_privkey *s01[2] = {&w->k.root[0], &w->k.root[1]};
                int r;

                refresh_ok(w);
                w_root(w, 2, &k1, 1, 1, &w->k.ts2, s01, 2);
                w->dg_targets = json_object();
                w->dg_name = "apps";
                w->dg_path = "apps/*";
                w_target(w, w->dg_targets, "apps/a.bin", "delegated app");
                w->ts_v = w->sn_v = w->tg_v = 2;
                w_publish_with(w, &w->k.ts2);
                w->fetches = 0;
                w->fail_at = k;
                r = w_refresh(w);
                if (r == IMAGO_OK)
                        r = w_download(w, "apps/a.bin");
                if (r == IMAGO_OK) {
                        total = k - 1;
                        w_free(w);
                        break;
                }
                assert_int_equal(r, IMAGO_EIO);
                /* what is there verifies: a fresh client opens it, and completes the update */
                w->fail_at = 0;
                refresh_ok(w);
                assert_int_equal(w_download(w, "apps/a.bin"), IMAGO_OK);
                assert_true(w_same(w, w->dir, "root.json", "m/2.root.json"));
                assert_true(w_same(w, w->dir, "timestamp.json", "m/timestamp.json"));
                assert_true(w_same(w, w->dir, "snapshot.json", "m/2.snapshot.json"));
                assert_true(w_same(w, w->dir, "targets.json", "m/2.targets.json"));
                assert_true(w_same(w, w->dir, "apps.json", "m/1.apps.json"));
                assert_int_equal(w_count(w->dir), 5);
                assert_int_equal(w_count(w->tdir), 1);
                w_free(w);
                assert_true(k < 50);
        }
        assert_true(total >= 6); /* 2 roots, timestamp, snapshot, targets, role, target */
}

/* Usage errors: no root, find before refresh, refresh twice. */
static void test_misuse(void **state)
{
        struct world *w = w_new(0);
        const struct imago_tuf_target *t;
        struct imago_tuf_client c;

        (void)state;
        assert_int_equal(imago_tuf_client_open(&c, w->tdir, "mem://m/", &w->fetch, NULL),
                         IMAGO_ENOTFOUND);
        assert_int_equal(w_open(w, TR_NOW), IMAGO_OK);
        assert_int_equal(imago_tuf_client_find(&w->c, "file.txt", &t), IMAGO_ESTATE);
        assert_int_equal(imago_tuf_client_refresh(&w->c), IMAGO_OK);
        assert_int_equal(imago_tuf_client_refresh(&w->c), IMAGO_ESTATE);
        w_free(w);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_normal_update),
            cmocka_unit_test(test_key_rotation_root_chain),
            cmocka_unit_test(test_attack_key_revoked_by_root_rotation),
            cmocka_unit_test(test_attack_threshold_not_met),
            cmocka_unit_test(test_attack_rollback),
            cmocka_unit_test(test_attack_indefinite_freeze),
            cmocka_unit_test(test_attack_endless_data),
            cmocka_unit_test(test_attack_arbitrary_software),
            cmocka_unit_test(test_attack_mix_and_match),
            cmocka_unit_test(test_consistent_snapshots),
            cmocka_unit_test(test_interrupted_refresh),
            cmocka_unit_test(test_fail_at_every_step),
            cmocka_unit_test(test_misuse),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
