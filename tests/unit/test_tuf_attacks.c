/*
 * imago_tuf: the trusted-set update rules (spec 5.3-5.6) against the attacks TUF defends from,
 * one test per attack, with metadata signed in the test by keys generated in the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_tuf_repo.h"

#define FW "firmware image v1"

/* A whole repository's metadata as bytes. */
struct bytes {
        uint8_t *p;
        size_t n;
};

struct meta4 {
        struct bytes root, ts, snap, tgt;
};

static void meta4_free(struct meta4 *m)
{
        free(m->root.p);
        free(m->ts.p);
        free(m->snap.p);
        free(m->tgt.p);
        memset(m, 0, sizeof(*m));
}

static struct bytes sign_free(json_t *s, const struct imago_privkey *k)
{
        struct bytes b;

        assert_non_null(s);
        b.p = tr_doc1(s, k, &b.n);
        json_decref(s);
        return b;
}

/* root v1 (root[0]), targets tgt_v with FW, snapshot snap_v listing targets tgt_v, timestamp ts_v.
 */
static void build(struct trepo *r, struct meta4 *m, uint64_t ts_v, uint64_t snap_v, uint64_t tgt_v,
                  const char *content)
{
        const struct imago_privkey *rk = &r->root[0];
        json_t *s;

        s = tr_root_signed(1, TR_FUTURE, &rk, 1, 1, &r->ts, &r->snap, &r->tgt);
        m->root = sign_free(s, &r->root[0]);
        s = tr_targets_signed(tgt_v, TR_FUTURE, json_pack("{s:o}", "fw.bin", tr_target(content)),
                              NULL);
        m->tgt = sign_free(s, &r->tgt);
        s = tr_snapshot_signed(
            snap_v, TR_FUTURE,
            json_pack("{s:o}", "targets.json", tr_metafile(tgt_v, m->tgt.p, m->tgt.n)));
        m->snap = sign_free(s, &r->snap);
        s = tr_timestamp_signed(ts_v, TR_FUTURE, snap_v, m->snap.p, m->snap.n);
        m->ts = sign_free(s, &r->ts);
}

static int setup(void **state)
{
        struct trepo *r = calloc(1, sizeof(*r));

        if (r == NULL)
                return -1;
        tr_init(r);
        *state = r;
        return 0;
}

static int teardown(void **state)
{
        tr_free(*state);
        free(*state);
        return 0;
}

static void load_all(struct imago_tuf_trusted *t, const struct meta4 *m)
{
        assert_int_equal(imago_tuf_trusted_init(t, m->root.p, m->root.n, NULL), IMAGO_OK);
        assert_int_equal(imago_tuf_update_timestamp(t, m->ts.p, m->ts.n, TR_NOW, NULL), IMAGO_OK);
        assert_int_equal(imago_tuf_update_snapshot(t, m->snap.p, m->snap.n, TR_NOW, 0), IMAGO_OK);
        assert_int_equal(imago_tuf_update_targets(t, "targets", "root", m->tgt.p, m->tgt.n, TR_NOW),
                         IMAGO_OK);
}

static void find(struct imago_tuf_trusted *t, const char *path, int want,
                 const struct imago_tuf_target **out)
{
        struct imago_tuf_walk w;

        assert_int_equal(imago_tuf_walk_start(&w, t, path), IMAGO_OK);
        assert_int_equal(imago_tuf_walk_next(&w, t, out), want);
        imago_tuf_walk_free(&w);
}

static void workflow_ok(void **state)
{
        struct imago_tuf_trusted t;
        const struct imago_tuf_target *tg;
        struct imago_tuf_filecheck c;
        struct meta4 m = {0};

        build(*state, &m, 1, 1, 1, FW);
        load_all(&t, &m);
        find(&t, "fw.bin", IMAGO_TUF_WALK_FOUND, &tg);
        assert_int_equal(tg->length, strlen(FW));
        assert_int_equal(imago_tuf_filecheck_init(&c, tg), IMAGO_OK);
        assert_int_equal(imago_tuf_filecheck_update(&c, (const uint8_t *)FW, 5), IMAGO_OK);
        assert_int_equal(imago_tuf_filecheck_update(&c, (const uint8_t *)FW + 5, strlen(FW) - 5),
                         IMAGO_OK);
        assert_int_equal(imago_tuf_filecheck_final(&c), IMAGO_OK);
        find(&t, "other.bin", IMAGO_ETUF_NOTARGET, &tg);
        /* out of order */
        assert_int_equal(imago_tuf_update_root(&t, m.root.p, m.root.n), IMAGO_ESTATE);
        assert_int_equal(imago_tuf_update_snapshot(&t, m.snap.p, m.snap.n, TR_NOW, 0),
                         IMAGO_ESTATE);
        imago_tuf_trusted_free(&t);
        assert_int_equal(imago_tuf_trusted_init(&t, m.root.p, m.root.n, NULL), IMAGO_OK);
        assert_int_equal(imago_tuf_update_snapshot(&t, m.snap.p, m.snap.n, TR_NOW, 0),
                         IMAGO_ESTATE);
        assert_int_equal(imago_tuf_update_targets(&t, "targets", "root", m.tgt.p, m.tgt.n, TR_NOW),
                         IMAGO_ESTATE);
        imago_tuf_trusted_free(&t);
        meta4_free(&m);
}

/* Signatures below the threshold, however they are multiplied. */
static void attack_threshold_not_met(void **state)
{
        struct trepo *r = *state;
        const struct imago_privkey *two[2] = {&r->root[0], &r->root[1]};
        const struct imago_privkey *same[2] = {&r->root[0], &r->root[0]};
        struct imago_tuf_trusted t;
        struct meta4 m = {0};
        json_t *s, *keyids;
        uint8_t *b;
        size_t n;
        char id[65];

        /* root 2-of-2 signed by one key, or twice by the same key */
        s = tr_root_signed(1, TR_FUTURE, two, 2, 2, &r->ts, &r->snap, &r->tgt);
        b = tr_doc1(s, &r->root[0], &n);
        assert_int_equal(imago_tuf_trusted_init(&t, b, n, NULL), IMAGO_ETUF_THRESHOLD);
        free(b);
        b = tr_doc(s, same, 2, &n);
        assert_int_equal(imago_tuf_trusted_init(&t, b, n, NULL), IMAGO_ETUF_THRESHOLD);
        free(b);
        b = tr_doc(s, two, 2, &n);
        assert_int_equal(imago_tuf_trusted_init(&t, b, n, NULL), IMAGO_OK);
        imago_tuf_trusted_free(&t);
        free(b);
        /* the same key id listed twice in the role does not count twice */
        tr_keyid(&r->root[0], NULL, id);
        keyids = json_object_get(json_object_get(json_object_get(s, "roles"), "root"), "keyids");
        json_array_clear(keyids);
        json_array_append_new(keyids, json_string(id));
        json_array_append_new(keyids, json_string(id));
        b = tr_doc(s, same, 2, &n);
        assert_int_equal(imago_tuf_trusted_init(&t, b, n, NULL), IMAGO_ETUF_THRESHOLD);
        free(b);
        /* the same public key under a second key id does not count twice */
        {
                json_t *keys = json_object_get(s, "keys");
                json_t *sigs = json_array(), *sig, *doc;
                char *txt;

                json_object_set(keys, "feedface", json_object_get(keys, id));
                json_array_clear(keyids);
                json_array_append_new(keyids, json_string(id));
                json_array_append_new(keyids, json_string("feedface"));
                assert_int_equal(imago_tuf_sign(&r->root[0], s, &sig), IMAGO_OK);
                json_array_append(sigs, sig);
                sig = json_copy(sig);
                json_object_set_new(sig, "keyid", json_string("feedface"));
                json_array_append_new(sigs, sig);
                json_decref(json_array_get(sigs, 0)); /* the extra reference taken above */
                doc = json_pack("{s:O,s:o}", "signed", s, "signatures", sigs);
                txt = json_dumps(doc, JSON_COMPACT);
                assert_int_equal(imago_tuf_trusted_init(&t, (uint8_t *)txt, strlen(txt), NULL),
                                 IMAGO_ETUF_THRESHOLD);
                free(txt);
                json_decref(doc);
        }
        json_decref(s);
        /* timestamp signed by a key root does not name for the timestamp role */
        build(r, &m, 1, 1, 1, FW);
        assert_int_equal(imago_tuf_trusted_init(&t, m.root.p, m.root.n, NULL), IMAGO_OK);
        s = tr_timestamp_signed(1, TR_FUTURE, 1, m.snap.p, m.snap.n);
        b = tr_doc1(s, &r->snap, &n);
        json_decref(s);
        assert_int_equal(imago_tuf_update_timestamp(&t, b, n, TR_NOW, NULL), IMAGO_ETUF_THRESHOLD);
        free(b);
        /* unsigned */
        s = tr_timestamp_signed(1, TR_FUTURE, 1, m.snap.p, m.snap.n);
        b = tr_doc(s, NULL, 0, &n);
        json_decref(s);
        assert_int_equal(imago_tuf_update_timestamp(&t, b, n, TR_NOW, NULL), IMAGO_ETUF_THRESHOLD);
        free(b);
        imago_tuf_trusted_free(&t);
        meta4_free(&m);
}

/* Older metadata replayed after newer was trusted. */
static void attack_rollback(void **state)
{
        struct trepo *r = *state;
        struct imago_tuf_trusted t;
        struct meta4 new = {0}, old = {0};
        int kept;

        build(r, &new, 5, 5, 5, FW);
        build(r, &old, 4, 4, 4, FW);
        /* timestamp version lower */
        assert_int_equal(imago_tuf_trusted_init(&t, new.root.p, new.root.n, NULL), IMAGO_OK);
        assert_int_equal(imago_tuf_update_timestamp(&t, new.ts.p, new.ts.n, TR_NOW, NULL),
                         IMAGO_OK);
        assert_int_equal(imago_tuf_update_timestamp(&t, old.ts.p, old.ts.n, TR_NOW, NULL),
                         IMAGO_ETUF_ROLLBACK);
        /* equal version: the trusted one is kept */
        assert_int_equal(imago_tuf_update_timestamp(&t, new.ts.p, new.ts.n, TR_NOW, &kept),
                         IMAGO_OK);
        assert_int_equal(kept, 1);
        imago_tuf_trusted_free(&t);
        /* higher timestamp naming a lower snapshot version */
        {
                json_t *s = tr_timestamp_signed(6, TR_FUTURE, 4, old.snap.p, old.snap.n);
                struct bytes b = sign_free(s, &r->ts);

                assert_int_equal(imago_tuf_trusted_init(&t, new.root.p, new.root.n, NULL),
                                 IMAGO_OK);
                assert_int_equal(imago_tuf_update_timestamp(&t, new.ts.p, new.ts.n, TR_NOW, NULL),
                                 IMAGO_OK);
                assert_int_equal(imago_tuf_update_timestamp(&t, b.p, b.n, TR_NOW, NULL),
                                 IMAGO_ETUF_ROLLBACK);
                imago_tuf_trusted_free(&t);
                free(b.p);
        }
        /* snapshot listing targets at a lower version than the trusted (local) snapshot */
        {
                json_t *s = tr_snapshot_signed(
                    6, TR_FUTURE,
                    json_pack("{s:o}", "targets.json", tr_metafile(4, old.tgt.p, old.tgt.n)));
                struct bytes snap = sign_free(s, &r->snap);
                struct bytes ts;

                s = tr_timestamp_signed(6, TR_FUTURE, 6, snap.p, snap.n);
                ts = sign_free(s, &r->ts);
                assert_int_equal(imago_tuf_trusted_init(&t, new.root.p, new.root.n, NULL),
                                 IMAGO_OK);
                /* as a client does: the persisted timestamp and snapshot first, then new ones */
                assert_int_equal(imago_tuf_update_timestamp(&t, new.ts.p, new.ts.n, TR_NOW, NULL),
                                 IMAGO_OK);
                assert_int_equal(imago_tuf_update_snapshot(&t, new.snap.p, new.snap.n, TR_NOW, 1),
                                 IMAGO_OK);
                imago_tuf_trusted_free(&t);
                assert_int_equal(imago_tuf_trusted_init(&t, new.root.p, new.root.n, NULL),
                                 IMAGO_OK);
                assert_int_equal(imago_tuf_update_timestamp(&t, new.ts.p, new.ts.n, TR_NOW, NULL),
                                 IMAGO_OK);
                assert_int_equal(imago_tuf_update_timestamp(&t, ts.p, ts.n, TR_NOW, NULL),
                                 IMAGO_OK);
                /* the local snapshot v5 is not the one the timestamp names: kept for rollback */
                assert_int_equal(imago_tuf_update_snapshot(&t, new.snap.p, new.snap.n, TR_NOW, 1),
                                 IMAGO_ETUF_CONSISTENCY);
                assert_int_equal(imago_tuf_update_snapshot(&t, snap.p, snap.n, TR_NOW, 0),
                                 IMAGO_ETUF_ROLLBACK);
                imago_tuf_trusted_free(&t);
                free(snap.p);
                free(ts.p);
        }
        /* snapshot that drops a role the trusted snapshot lists */
        {
                json_t *s = tr_snapshot_signed(6, TR_FUTURE, json_object());
                struct bytes snap = sign_free(s, &r->snap), ts;

                s = tr_timestamp_signed(6, TR_FUTURE, 6, snap.p, snap.n);
                ts = sign_free(s, &r->ts);
                assert_int_equal(imago_tuf_trusted_init(&t, new.root.p, new.root.n, NULL),
                                 IMAGO_OK);
                assert_int_equal(imago_tuf_update_timestamp(&t, ts.p, ts.n, TR_NOW, NULL),
                                 IMAGO_OK);
                assert_int_equal(imago_tuf_update_snapshot(&t, new.snap.p, new.snap.n, TR_NOW, 1),
                                 IMAGO_ETUF_CONSISTENCY);
                assert_int_equal(imago_tuf_update_snapshot(&t, snap.p, snap.n, TR_NOW, 0),
                                 IMAGO_ETUF_ROLLBACK);
                imago_tuf_trusted_free(&t);
                free(snap.p);
                free(ts.p);
        }
        /* root: the same version again */
        assert_int_equal(imago_tuf_trusted_init(&t, new.root.p, new.root.n, NULL), IMAGO_OK);
        assert_int_equal(imago_tuf_update_root(&t, new.root.p, new.root.n), IMAGO_ETUF_ROLLBACK);
        /* root: a version skipped, properly signed */
        {
                const struct imago_privkey *rk = &r->root[0];
                json_t *s = tr_root_signed(3, TR_FUTURE, &rk, 1, 1, &r->ts, &r->snap, &r->tgt);
                struct bytes b = sign_free(s, rk);

                assert_int_equal(imago_tuf_update_root(&t, b.p, b.n), IMAGO_ETUF_CONSISTENCY);
                assert_int_equal(t.root.version, 1);
                free(b.p);
        }
        imago_tuf_trusted_free(&t);
        meta4_free(&new);
        meta4_free(&old);
}

/* Expired metadata (a repository frozen in the past) is refused at every level. */
static void attack_indefinite_freeze(void **state)
{
        struct trepo *r = *state;
        const struct imago_privkey *rk = &r->root[0];
        struct imago_tuf_trusted t;
        struct meta4 m = {0};
        struct bytes b;
        json_t *s;

        build(r, &m, 1, 1, 1, FW);
        /* expired timestamp */
        s = tr_timestamp_signed(1, TR_PAST, 1, m.snap.p, m.snap.n);
        b = sign_free(s, &r->ts);
        assert_int_equal(imago_tuf_trusted_init(&t, m.root.p, m.root.n, NULL), IMAGO_OK);
        assert_int_equal(imago_tuf_update_timestamp(&t, b.p, b.n, TR_NOW, NULL),
                         IMAGO_ETUF_EXPIRED);
        /* kept for rollback checks, but the snapshot cannot be loaded over it */
        assert_int_equal(imago_tuf_update_snapshot(&t, m.snap.p, m.snap.n, TR_NOW, 0),
                         IMAGO_ETUF_EXPIRED);
        imago_tuf_trusted_free(&t);
        free(b.p);
        /* expired snapshot */
        {
                struct bytes snap, ts;

                s = tr_snapshot_signed(
                    1, TR_PAST,
                    json_pack("{s:o}", "targets.json", tr_metafile(1, m.tgt.p, m.tgt.n)));
                snap = sign_free(s, &r->snap);
                s = tr_timestamp_signed(1, TR_FUTURE, 1, snap.p, snap.n);
                ts = sign_free(s, &r->ts);
                assert_int_equal(imago_tuf_trusted_init(&t, m.root.p, m.root.n, NULL), IMAGO_OK);
                assert_int_equal(imago_tuf_update_timestamp(&t, ts.p, ts.n, TR_NOW, NULL),
                                 IMAGO_OK);
                assert_int_equal(imago_tuf_update_snapshot(&t, snap.p, snap.n, TR_NOW, 0),
                                 IMAGO_ETUF_EXPIRED);
                assert_int_equal(
                    imago_tuf_update_targets(&t, "targets", "root", m.tgt.p, m.tgt.n, TR_NOW),
                    IMAGO_ETUF_EXPIRED);
                imago_tuf_trusted_free(&t);
                free(snap.p);
                free(ts.p);
        }
        /* expired targets */
        {
                struct meta4 e = {0};

                s = tr_targets_signed(1, TR_PAST, json_pack("{s:o}", "fw.bin", tr_target(FW)),
                                      NULL);
                e.tgt = sign_free(s, &r->tgt);
                s = tr_snapshot_signed(
                    1, TR_FUTURE,
                    json_pack("{s:o}", "targets.json", tr_metafile(1, e.tgt.p, e.tgt.n)));
                e.snap = sign_free(s, &r->snap);
                s = tr_timestamp_signed(1, TR_FUTURE, 1, e.snap.p, e.snap.n);
                e.ts = sign_free(s, &r->ts);
                assert_int_equal(imago_tuf_trusted_init(&t, m.root.p, m.root.n, NULL), IMAGO_OK);
                assert_int_equal(imago_tuf_update_timestamp(&t, e.ts.p, e.ts.n, TR_NOW, NULL),
                                 IMAGO_OK);
                assert_int_equal(imago_tuf_update_snapshot(&t, e.snap.p, e.snap.n, TR_NOW, 0),
                                 IMAGO_OK);
                assert_int_equal(
                    imago_tuf_update_targets(&t, "targets", "root", e.tgt.p, e.tgt.n, TR_NOW),
                    IMAGO_ETUF_EXPIRED);
                assert_null(imago_tuf_trusted_role(&t, "targets"));
                imago_tuf_trusted_free(&t);
                meta4_free(&e);
        }
        /* expired final root */
        s = tr_root_signed(1, TR_PAST, &rk, 1, 1, &r->ts, &r->snap, &r->tgt);
        b = sign_free(s, &r->root[0]);
        assert_int_equal(imago_tuf_trusted_init(&t, b.p, b.n, NULL), IMAGO_OK);
        assert_int_equal(imago_tuf_update_timestamp(&t, m.ts.p, m.ts.n, TR_NOW, NULL),
                         IMAGO_ETUF_EXPIRED);
        imago_tuf_trusted_free(&t);
        free(b.p);
        meta4_free(&m);
}

/* Files that are not what the metadata describe. */
static void attack_arbitrary_software(void **state)
{
        struct trepo *r = *state;
        const struct imago_tuf_target *tg;
        struct imago_tuf_trusted t;
        struct meta4 m = {0}, evil = {0};
        const char *bad = "firmware image v!";
        const char *longer = "firmware image v1 and more";

        build(r, &m, 1, 1, 1, FW);
        load_all(&t, &m);
        find(&t, "fw.bin", IMAGO_TUF_WALK_FOUND, &tg);
        /* same length, other bytes */
        assert_int_equal(
            imago_tuf_check_file((const uint8_t *)bad, strlen(bad), 1, tg->length, &tg->hashes),
            IMAGO_ETUF_HASH);
        assert_int_equal(imago_tuf_check_file((const uint8_t *)longer, strlen(longer), 1,
                                              tg->length, &tg->hashes),
                         IMAGO_ETUF_LENGTH);
        assert_int_equal(
            imago_tuf_check_file((const uint8_t *)FW, strlen(FW), 1, tg->length, &tg->hashes),
            IMAGO_OK);
        imago_tuf_trusted_free(&t);
        /* snapshot and targets that differ from what timestamp/snapshot hash */
        build(r, &evil, 1, 1, 1, "evil image");
        assert_int_equal(imago_tuf_trusted_init(&t, m.root.p, m.root.n, NULL), IMAGO_OK);
        assert_int_equal(imago_tuf_update_timestamp(&t, m.ts.p, m.ts.n, TR_NOW, NULL), IMAGO_OK);
        assert_int_equal(imago_tuf_update_snapshot(&t, evil.snap.p, evil.snap.n, TR_NOW, 0),
                         evil.snap.n == m.snap.n ? IMAGO_ETUF_HASH : IMAGO_ETUF_LENGTH);
        assert_int_equal(imago_tuf_update_snapshot(&t, m.snap.p, m.snap.n, TR_NOW, 0), IMAGO_OK);
        assert_int_equal(
            imago_tuf_update_targets(&t, "targets", "root", evil.tgt.p, evil.tgt.n, TR_NOW),
            evil.tgt.n == m.tgt.n ? IMAGO_ETUF_HASH : IMAGO_ETUF_LENGTH);
        imago_tuf_trusted_free(&t);
        meta4_free(&m);
        meta4_free(&evil);
}

/* More bytes than the metadata allow are refused as they arrive. */
static void attack_endless_data(void **state)
{
        struct imago_tuf_trusted t;
        const struct imago_tuf_target *tg;
        struct imago_tuf_filecheck c;
        struct meta4 m = {0};
        uint8_t chunk[4096] = {0};
        struct imago_tuf_limits lim;

        build(*state, &m, 1, 1, 1, FW);
        load_all(&t, &m);
        find(&t, "fw.bin", IMAGO_TUF_WALK_FOUND, &tg);
        assert_int_equal(imago_tuf_filecheck_init(&c, tg), IMAGO_OK);
        assert_int_equal(imago_tuf_filecheck_update(&c, (const uint8_t *)FW, strlen(FW)), IMAGO_OK);
        assert_int_equal(imago_tuf_filecheck_update(&c, chunk, 1), IMAGO_ETUF_LENGTH);
        imago_tuf_filecheck_abort(&c);
        assert_int_equal(imago_tuf_filecheck_init(&c, tg), IMAGO_OK);
        assert_int_equal(imago_tuf_filecheck_update(&c, chunk, sizeof(chunk)), IMAGO_ETUF_LENGTH);
        imago_tuf_filecheck_abort(&c);
        /* short file */
        assert_int_equal(imago_tuf_filecheck_init(&c, tg), IMAGO_OK);
        assert_int_equal(imago_tuf_filecheck_update(&c, (const uint8_t *)FW, 3), IMAGO_OK);
        assert_int_equal(imago_tuf_filecheck_final(&c), IMAGO_ETUF_LENGTH);
        imago_tuf_trusted_free(&t);
        /* metadata over their size limits */
        imago_tuf_limits_default(&lim);
        lim.timestamp_max = m.ts.n - 1;
        assert_int_equal(imago_tuf_trusted_init(&t, m.root.p, m.root.n, &lim), IMAGO_OK);
        assert_int_equal(imago_tuf_update_timestamp(&t, m.ts.p, m.ts.n, TR_NOW, NULL),
                         IMAGO_ETOOBIG);
        imago_tuf_trusted_free(&t);
        lim.timestamp_max = IMAGO_TUF_TIMESTAMP_MAX;
        lim.root_max = m.root.n - 1;
        assert_int_equal(imago_tuf_trusted_init(&t, m.root.p, m.root.n, &lim), IMAGO_ETOOBIG);
        meta4_free(&m);
}

/* Metadata of different versions combined: each must be the version the referrer names. */
static void attack_mix_and_match(void **state)
{
        struct trepo *r = *state;
        struct imago_tuf_trusted t;
        struct meta4 v1 = {0}, v2 = {0};
        struct bytes snap, ts;
        json_t *s;

        build(r, &v1, 1, 1, 1, FW);
        build(r, &v2, 2, 2, 2, "firmware image v2");
        /* snapshot v2 names targets v2 (no hashes), a valid targets v1 is served */
        s = tr_snapshot_signed(2, TR_FUTURE,
                               json_pack("{s:o}", "targets.json", tr_metafile(2, NULL, 0)));
        snap = sign_free(s, &r->snap);
        s = tr_timestamp_signed(2, TR_FUTURE, 2, NULL, 0);
        ts = sign_free(s, &r->ts);
        assert_int_equal(imago_tuf_trusted_init(&t, v1.root.p, v1.root.n, NULL), IMAGO_OK);
        assert_int_equal(imago_tuf_update_timestamp(&t, ts.p, ts.n, TR_NOW, NULL), IMAGO_OK);
        assert_int_equal(imago_tuf_update_snapshot(&t, snap.p, snap.n, TR_NOW, 0), IMAGO_OK);
        assert_int_equal(
            imago_tuf_update_targets(&t, "targets", "root", v1.tgt.p, v1.tgt.n, TR_NOW),
            IMAGO_ETUF_CONSISTENCY);
        assert_int_equal(
            imago_tuf_update_targets(&t, "targets", "root", v2.tgt.p, v2.tgt.n, TR_NOW), IMAGO_OK);
        imago_tuf_trusted_free(&t);
        /* timestamp v2 names snapshot v2 (no hashes), snapshot v1 is served */
        assert_int_equal(imago_tuf_trusted_init(&t, v1.root.p, v1.root.n, NULL), IMAGO_OK);
        assert_int_equal(imago_tuf_update_timestamp(&t, ts.p, ts.n, TR_NOW, NULL), IMAGO_OK);
        assert_int_equal(imago_tuf_update_snapshot(&t, v1.snap.p, v1.snap.n, TR_NOW, 0),
                         IMAGO_ETUF_CONSISTENCY);
        /* and no targets can be loaded over an inconsistent snapshot */
        assert_int_equal(
            imago_tuf_update_targets(&t, "targets", "root", v1.tgt.p, v1.tgt.n, TR_NOW),
            IMAGO_ETUF_CONSISTENCY);
        imago_tuf_trusted_free(&t);
        free(snap.p);
        free(ts.p);
        meta4_free(&v1);
        meta4_free(&v2);
}

/* Root rotation: revoked keys no longer sign; the new root needs old and new thresholds; a
 * timestamp signed by a revoked key is refused, and the rollback state it held is dropped
 * (fast-forward attack recovery). */
static void attack_key_revoked_by_root_rotation(void **state)
{
        struct trepo *r = *state;
        const struct imago_privkey *old_rk = &r->root[0], *new_rk = &r->root[1];
        const struct imago_privkey *both[2] = {&r->root[0], &r->root[1]};
        struct imago_tuf_trusted t;
        struct meta4 m = {0};
        struct bytes root2, root2_new_only, root2_old_only, root3, ff_ts, ts_new;
        json_t *s;

        build(r, &m, 1, 1, 1, FW);
        /* root v2: root key root[0] -> root[1]; timestamp key ts -> ts2 */
        s = tr_root_signed(2, TR_FUTURE, &new_rk, 1, 1, &r->ts2, &r->snap, &r->tgt);
        root2.p = tr_doc(s, both, 2, &root2.n);
        root2_new_only.p = tr_doc1(s, new_rk, &root2_new_only.n);
        root2_old_only.p = tr_doc1(s, old_rk, &root2_old_only.n);
        json_decref(s);
        s = tr_root_signed(3, TR_FUTURE, &new_rk, 1, 1, &r->ts2, &r->snap, &r->tgt);
        root3 = sign_free(s, new_rk);
        /* a timestamp fast-forwarded by the attacker who held ts: version 1000 */
        s = tr_timestamp_signed(1000, TR_FUTURE, 1000, NULL, 0);
        ff_ts = sign_free(s, &r->ts);
        /* the repository's timestamp after recovery, signed by the new key */
        s = tr_timestamp_signed(2, TR_FUTURE, 1, m.snap.p, m.snap.n);
        ts_new = sign_free(s, &r->ts2);

        assert_int_equal(imago_tuf_trusted_init(&t, m.root.p, m.root.n, NULL), IMAGO_OK);
        /* skipping a version */
        assert_int_equal(imago_tuf_update_root(&t, root3.p, root3.n), IMAGO_ETUF_THRESHOLD);
        /* signed only by the new key (not the trusted root's threshold), or only the old */
        assert_int_equal(imago_tuf_update_root(&t, root2_new_only.p, root2_new_only.n),
                         IMAGO_ETUF_THRESHOLD);
        assert_int_equal(imago_tuf_update_root(&t, root2_old_only.p, root2_old_only.n),
                         IMAGO_ETUF_THRESHOLD);
        assert_int_equal(imago_tuf_update_root(&t, root2.p, root2.n), IMAGO_OK);
        assert_int_equal(t.root.version, 2);
        assert_int_equal(imago_tuf_update_root(&t, root3.p, root3.n), IMAGO_OK);
        assert_int_equal(t.root.version, 3);
        /* the persisted fast-forwarded timestamp no longer verifies: ignored by the client */
        assert_int_equal(imago_tuf_update_timestamp(&t, ff_ts.p, ff_ts.n, TR_NOW, NULL),
                         IMAGO_ETUF_THRESHOLD);
        /* the revoked key's timestamp is refused, the new key's accepted despite its version */
        assert_int_equal(imago_tuf_update_timestamp(&t, m.ts.p, m.ts.n, TR_NOW, NULL),
                         IMAGO_ETUF_THRESHOLD);
        assert_int_equal(imago_tuf_update_timestamp(&t, ts_new.p, ts_new.n, TR_NOW, NULL),
                         IMAGO_OK);
        assert_int_equal(imago_tuf_update_snapshot(&t, m.snap.p, m.snap.n, TR_NOW, 0), IMAGO_OK);
        imago_tuf_trusted_free(&t);
        /* without the rotation the fast-forwarded timestamp would block every update */
        assert_int_equal(imago_tuf_trusted_init(&t, m.root.p, m.root.n, NULL), IMAGO_OK);
        assert_int_equal(imago_tuf_update_timestamp(&t, ff_ts.p, ff_ts.n, TR_NOW, NULL), IMAGO_OK);
        assert_int_equal(imago_tuf_update_timestamp(&t, m.ts.p, m.ts.n, TR_NOW, NULL),
                         IMAGO_ETUF_ROLLBACK);
        imago_tuf_trusted_free(&t);
        free(root2.p);
        free(root2_new_only.p);
        free(root2_old_only.p);
        free(root3.p);
        free(ff_ts.p);
        free(ts_new.p);
        meta4_free(&m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(workflow_ok, setup, teardown),
            cmocka_unit_test_setup_teardown(attack_threshold_not_met, setup, teardown),
            cmocka_unit_test_setup_teardown(attack_rollback, setup, teardown),
            cmocka_unit_test_setup_teardown(attack_indefinite_freeze, setup, teardown),
            cmocka_unit_test_setup_teardown(attack_arbitrary_software, setup, teardown),
            cmocka_unit_test_setup_teardown(attack_endless_data, setup, teardown),
            cmocka_unit_test_setup_teardown(attack_mix_and_match, setup, teardown),
            cmocka_unit_test_setup_teardown(attack_key_revoked_by_root_rotation, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
