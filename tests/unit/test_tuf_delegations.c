/*
 * imago_tuf: targets delegations and the target search (preorder depth-first, visited set,
 * terminating, paths, path_hash_prefixes, depth bound), attack_extraneous_dependencies.
 * Metadata are signed in the test by keys generated in the test.
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

#define MAX_ROLES 12

/* A repository: top-level targets plus delegated roles, each a signed object and its key. */
struct drepo {
        struct trepo k;
        size_t n;
        char name[MAX_ROLES][32];
        json_t *sig[MAX_ROLES]; /* signed objects (owned) */
        const struct imago_privkey *key[MAX_ROLES];
        uint8_t *bytes[MAX_ROLES];
        size_t len[MAX_ROLES];
        uint8_t *root, *ts, *snap;
        size_t root_n, ts_n, snap_n;
};

static int setup(void **state)
{
        struct drepo *d = calloc(1, sizeof(*d));

        if (d == NULL)
                return -1;
        tr_init(&d->k);
        *state = d;
        return 0;
}

static void drepo_clear(struct drepo *d)
{
        size_t i;

        for (i = 0; i < d->n; i++) {
                json_decref(d->sig[i]);
                free(d->bytes[i]);
        }
        free(d->root);
        free(d->ts);
        free(d->snap);
        d->n = 0;
        d->root = d->ts = d->snap = NULL;
}

static int teardown(void **state)
{
        struct drepo *d = *state;

        drepo_clear(d);
        tr_free(&d->k);
        free(d);
        return 0;
}

/* A role: name, key, target names (content = name), delegations (stolen, may be NULL). */
static json_t *add_role(struct drepo *d, const char *name, const struct imago_privkey *key,
                        const char *const *targets, size_t n_targets, json_t *delegations)
{
        json_t *tg = json_object();
        size_t i;

        assert_true(d->n < MAX_ROLES);
        for (i = 0; i < n_targets; i++)
                json_object_set_new(tg, targets[i], tr_target(targets[i]));
        snprintf(d->name[d->n], sizeof(d->name[0]), "%s", name);
        d->sig[d->n] = tr_targets_signed(1, TR_FUTURE, tg, delegations);
        d->key[d->n] = key;
        return d->sig[d->n++];
}

/* Sign everything; snapshot lists every role. */
static void finish(struct drepo *d)
{
        const struct imago_privkey *rk = &d->k.root[0];
        json_t *meta = json_object(), *s;
        char file[64];
        size_t i;

        for (i = 0; i < d->n; i++) {
                d->bytes[i] = tr_doc1(d->sig[i], d->key[i], &d->len[i]);
                snprintf(file, sizeof(file), "%s.json", d->name[i]);
                json_object_set_new(meta, file, tr_metafile(1, d->bytes[i], d->len[i]));
        }
        s = tr_root_signed(1, TR_FUTURE, &rk, 1, 1, &d->k.ts, &d->k.snap, &d->k.tgt);
        d->root = tr_doc1(s, rk, &d->root_n);
        json_decref(s);
        s = tr_snapshot_signed(1, TR_FUTURE, meta);
        d->snap = tr_doc1(s, &d->k.snap, &d->snap_n);
        json_decref(s);
        s = tr_timestamp_signed(1, TR_FUTURE, 1, d->snap, d->snap_n);
        d->ts = tr_doc1(s, &d->k.ts, &d->ts_n);
        json_decref(s);
}

static void load(struct drepo *d, struct imago_tuf_trusted *t, const struct imago_tuf_limits *lim)
{
        assert_int_equal(imago_tuf_trusted_init(t, d->root, d->root_n, lim), IMAGO_OK);
        assert_int_equal(imago_tuf_update_timestamp(t, d->ts, d->ts_n, TR_NOW, NULL), IMAGO_OK);
        assert_int_equal(imago_tuf_update_snapshot(t, d->snap, d->snap_n, TR_NOW, 0), IMAGO_OK);
        assert_int_equal(
            imago_tuf_update_targets(t, "targets", "root", d->bytes[0], d->len[0], TR_NOW),
            IMAGO_OK);
}

/* Search path, loading roles as asked; returns the walk's result; *from: role that listed it;
 * visits (may be NULL): the roles loaded, in order, comma separated. */
static int search(struct drepo *d, struct imago_tuf_trusted *t, const char *path,
                  const struct imago_tuf_target **out, char *visits, size_t vcap)
{
        struct imago_tuf_walk w;
        int r;

        if (visits != NULL)
                visits[0] = '\0';
        assert_int_equal(imago_tuf_walk_start(&w, t, path), IMAGO_OK);
        while ((r = imago_tuf_walk_next(&w, t, out)) == IMAGO_TUF_WALK_NEED) {
                size_t i;

                for (i = 0; i < d->n; i++) {
                        if (strcmp(d->name[i], w.need_role) == 0)
                                break;
                }
                assert_true(i < d->n);
                if (visits != NULL) {
                        strncat(visits, w.need_role, vcap - strlen(visits) - 1);
                        strncat(visits, ",", vcap - strlen(visits) - 1);
                }
                r = imago_tuf_update_targets(t, w.need_role, w.need_parent, d->bytes[i], d->len[i],
                                             TR_NOW);
                if (r != IMAGO_OK)
                        break;
        }
        imago_tuf_walk_free(&w);
        return r;
}

static json_t *delegs(json_t **keys_out)
{
        json_t *keys = json_object();

        *keys_out = keys;
        return json_pack("{s:o,s:[]}", "keys", keys, "roles");
}

static void add_deleg(json_t *dl, struct imago_privkey *k, const char *name,
                      const char *const *paths, size_t n, int terminating)
{
        json_t *keys = json_object_get(dl, "keys");

        json_array_append_new(json_object_get(dl, "roles"),
                              tr_deleg_role(keys, name, k, paths, n, terminating));
}

/* A delegated role lists targets outside the paths delegated to it: never found through it. */
static void attack_extraneous_dependencies(void **state)
{
        struct drepo *d = *state;
        static const char *const a_paths[] = {"a/*"};
        static const char *const g_paths[] = {"g/*"};
        static const char *const a_targets[] = {"a/x", "b/evil", "top.bin"};
        static const char *const top[] = {"top.bin"};
        const struct imago_tuf_target *tg;
        struct imago_tuf_trusted t;
        json_t *keys, *dl = delegs(&keys);
        char visits[256];

        add_deleg(dl, &d->k.deleg[0], "a", a_paths, 1, 0);
        add_deleg(dl, &d->k.deleg[0], "ghost", g_paths, 1, 0); /* not in the snapshot */
        add_role(d, "targets", &d->k.tgt, top, 1, dl);
        add_role(d, "a", &d->k.deleg[0], a_targets, 3, NULL);
        finish(d);
        load(d, &t, NULL);
        assert_int_equal(search(d, &t, "b/evil", &tg, visits, sizeof(visits)), IMAGO_ETUF_NOTARGET);
        assert_string_equal(visits, "");
        assert_int_equal(search(d, &t, "a/x", &tg, visits, sizeof(visits)), IMAGO_TUF_WALK_FOUND);
        assert_string_equal(visits, "a,");
        assert_string_equal(tg->name, "a/x");
        /* even once "a" is loaded, "b/evil" is not reached through it */
        assert_int_equal(search(d, &t, "b/evil", &tg, NULL, 0), IMAGO_ETUF_NOTARGET);
        /* the top-level entry wins over the delegated one */
        assert_int_equal(search(d, &t, "top.bin", &tg, NULL, 0), IMAGO_TUF_WALK_FOUND);
        assert_ptr_equal(tg, &imago_tuf_trusted_role(&t, "targets")->targets[0]);
        /* a delegated role the snapshot does not list; a role nobody delegates */
        assert_int_equal(
            imago_tuf_update_targets(&t, "ghost", "targets", d->bytes[1], d->len[1], TR_NOW),
            IMAGO_ETUF_CONSISTENCY);
        assert_int_equal(
            imago_tuf_update_targets(&t, "nobody", "targets", d->bytes[1], d->len[1], TR_NOW),
            IMAGO_ETUF_DELEGATION);
        /* a role loaded as delegated by someone who does not delegate it */
        imago_tuf_trusted_free(&t);
        load(d, &t, NULL);
        assert_int_equal(imago_tuf_update_targets(&t, "a", "a", d->bytes[1], d->len[1], TR_NOW),
                         IMAGO_ESTATE);
        assert_int_equal(
            imago_tuf_update_targets(&t, "zz", "targets", d->bytes[1], d->len[1], TR_NOW),
            IMAGO_ETUF_DELEGATION);
        assert_int_equal(imago_tuf_update_targets(&t, "a", "root", d->bytes[1], d->len[1], TR_NOW),
                         IMAGO_ETUF_DELEGATION);
        imago_tuf_trusted_free(&t);
}

/* A delegated role signed by another key than the delegation names. */
static void delegated_wrong_key(void **state)
{
        struct drepo *d = *state;
        static const char *const a_paths[] = {"a/*"};
        static const char *const a_targets[] = {"a/x"};
        const struct imago_tuf_target *tg;
        struct imago_tuf_trusted t;
        json_t *keys, *dl = delegs(&keys);

        add_deleg(dl, &d->k.deleg[0], "a", a_paths, 1, 0);
        add_role(d, "targets", &d->k.tgt, NULL, 0, dl);
        add_role(d, "a", &d->k.deleg[1], a_targets, 1, NULL);
        finish(d);
        load(d, &t, NULL);
        assert_int_equal(search(d, &t, "a/x", &tg, NULL, 0), IMAGO_ETUF_THRESHOLD);
        imago_tuf_trusted_free(&t);
}

/* Preorder: a role's children before its siblings; a terminating role ends the search. */
static void preorder_and_terminating(void **state)
{
        struct drepo *d = *state;
        static const char *const fw[] = {"fw/*"};
        static const char *const tx[] = {"fw/x"};
        const struct imago_tuf_target *tg;
        struct imago_tuf_trusted t;
        json_t *keys, *dl = delegs(&keys), *dla, *keys_a;
        char visits[256];

        /* targets -> [A (terminating: T), B]; A -> [A1]; only B lists fw/x */
        add_deleg(dl, &d->k.deleg[0], "A", fw, 1, 0);
        add_deleg(dl, &d->k.deleg[1], "B", fw, 1, 0);
        add_role(d, "targets", &d->k.tgt, NULL, 0, dl);
        dla = delegs(&keys_a);
        add_deleg(dla, &d->k.deleg[2], "A1", fw, 1, 0);
        add_role(d, "A", &d->k.deleg[0], NULL, 0, dla);
        add_role(d, "B", &d->k.deleg[1], tx, 1, NULL);
        add_role(d, "A1", &d->k.deleg[2], NULL, 0, NULL);
        finish(d);
        load(d, &t, NULL);
        assert_int_equal(search(d, &t, "fw/x", &tg, visits, sizeof(visits)), IMAGO_TUF_WALK_FOUND);
        assert_string_equal(visits, "A,A1,B,");
        imago_tuf_trusted_free(&t);
        drepo_clear(d);

        /* the same with A terminating: B is never visited */
        dl = delegs(&keys);
        add_deleg(dl, &d->k.deleg[0], "A", fw, 1, 1);
        add_deleg(dl, &d->k.deleg[1], "B", fw, 1, 0);
        add_role(d, "targets", &d->k.tgt, NULL, 0, dl);
        dla = delegs(&keys_a);
        add_deleg(dla, &d->k.deleg[2], "A1", fw, 1, 0);
        add_role(d, "A", &d->k.deleg[0], NULL, 0, dla);
        add_role(d, "B", &d->k.deleg[1], tx, 1, NULL);
        add_role(d, "A1", &d->k.deleg[2], NULL, 0, NULL);
        finish(d);
        load(d, &t, NULL);
        assert_int_equal(search(d, &t, "fw/x", &tg, visits, sizeof(visits)), IMAGO_ETUF_NOTARGET);
        assert_string_equal(visits, "A,A1,");
        imago_tuf_trusted_free(&t);
}

/* Cycles (A -> B -> A, A -> A) end; a chain deeper than max_depth is not followed. */
static void cycles_and_depth(void **state)
{
        struct drepo *d = *state;
        static const char *const all[] = {"*"};
        static const char *const deep[] = {"deep.bin"};
        const struct imago_tuf_target *tg;
        struct imago_tuf_trusted t;
        struct imago_tuf_limits lim;
        json_t *keys, *dl = delegs(&keys), *dla, *dlb;
        char visits[256];

        add_deleg(dl, &d->k.deleg[0], "A", all, 1, 0);
        add_role(d, "targets", &d->k.tgt, NULL, 0, dl);
        dla = delegs(&keys);
        add_deleg(dla, &d->k.deleg[0], "A", all, 1, 0);
        add_deleg(dla, &d->k.deleg[1], "B", all, 1, 0);
        add_role(d, "A", &d->k.deleg[0], NULL, 0, dla);
        dlb = delegs(&keys);
        add_deleg(dlb, &d->k.deleg[0], "A", all, 1, 0);
        add_deleg(dlb, &d->k.deleg[2], "C", all, 1, 0);
        add_role(d, "B", &d->k.deleg[1], NULL, 0, dlb);
        add_role(d, "C", &d->k.deleg[2], deep, 1, NULL);
        finish(d);
        load(d, &t, NULL);
        assert_int_equal(search(d, &t, "none.bin", &tg, visits, sizeof(visits)),
                         IMAGO_ETUF_NOTARGET);
        assert_string_equal(visits, "A,B,C,");
        assert_int_equal(search(d, &t, "deep.bin", &tg, NULL, 0), IMAGO_TUF_WALK_FOUND);
        imago_tuf_trusted_free(&t);
        /* C is at depth 3 */
        imago_tuf_limits_default(&lim);
        lim.max_depth = 2;
        load(d, &t, &lim);
        assert_int_equal(search(d, &t, "deep.bin", &tg, visits, sizeof(visits)),
                         IMAGO_ETUF_NOTARGET);
        assert_string_equal(visits, "A,B,");
        imago_tuf_trusted_free(&t);
        lim.max_depth = 8;
        lim.max_visits = 3;
        load(d, &t, &lim);
        assert_int_equal(search(d, &t, "deep.bin", &tg, NULL, 0), IMAGO_ETUF_NOTARGET);
        imago_tuf_trusted_free(&t);
        /* the trusted set keeps at most max_loaded_roles delegated documents */
        lim.max_visits = 32;
        lim.max_loaded_roles = 2;
        load(d, &t, &lim);
        assert_int_equal(search(d, &t, "deep.bin", &tg, NULL, 0), IMAGO_ETOOBIG);
        imago_tuf_trusted_free(&t);
}

/* path_hash_prefixes select by the SHA-256 of the path. */
static void hash_prefixes(void **state)
{
        struct drepo *d = *state;
        static const char *const tx[] = {"h/file"};
        const struct imago_tuf_target *tg;
        struct imago_tuf_trusted t;
        json_t *keys, *dl = delegs(&keys), *role, *pref;
        uint8_t h[32];
        char hex[65], good[3], bad[3];
        char visits[256];

        assert_int_equal(imago_sha256("h/file", 6, h), IMAGO_OK);
        imago_hex_encode(h, 32, hex);
        snprintf(good, sizeof(good), "%.2s", hex);
        snprintf(bad, sizeof(bad), "%02x", (unsigned)(h[0] ^ 0xff));
        role = tr_deleg_role(keys, "bad", &d->k.deleg[1], NULL, 0, 0);
        json_object_del(role, "paths");
        pref = json_array();
        json_array_append_new(pref, json_string(bad));
        json_object_set_new(role, "path_hash_prefixes", pref);
        json_array_append_new(json_object_get(dl, "roles"), role);
        role = tr_deleg_role(keys, "good", &d->k.deleg[0], NULL, 0, 0);
        json_object_del(role, "paths");
        pref = json_array();
        json_array_append_new(pref, json_string(good));
        json_object_set_new(role, "path_hash_prefixes", pref);
        json_array_append_new(json_object_get(dl, "roles"), role);
        add_role(d, "targets", &d->k.tgt, NULL, 0, dl);
        add_role(d, "bad", &d->k.deleg[1], tx, 1, NULL);
        add_role(d, "good", &d->k.deleg[0], tx, 1, NULL);
        finish(d);
        load(d, &t, NULL);
        assert_int_equal(search(d, &t, "h/file", &tg, visits, sizeof(visits)),
                         IMAGO_TUF_WALK_FOUND);
        assert_string_equal(visits, "good,");
        imago_tuf_trusted_free(&t);
}

static int match(const char *pattern, const char *path)
{
        struct imago_tuf_delegation dg;
        const char *p[1] = {pattern};

        memset(&dg, 0, sizeof(dg));
        dg.has_paths = 1;
        dg.paths = p;
        dg.n_paths = 1;
        return imago_tuf_delegation_matches(&dg, path);
}

/* Path patterns as python-tuf: same number of '/' parts, each matched like fnmatch. */
static void path_patterns(void **state)
{
        (void)state;
        assert_true(match("*.bin", "x.bin"));
        assert_false(match("*.bin", "dir/x.bin"));
        assert_true(match("dir/*.bin", "dir/x.bin"));
        assert_false(match("dir/*.bin", "dir/sub/x.bin"));
        assert_true(match("dir/*/*", "dir/sub/x.bin"));
        assert_true(match("f?.img", "f1.img"));
        assert_false(match("f?.img", "f12.img"));
        assert_true(match("f[ab].img", "fa.img"));
        assert_false(match("f[!ab].img", "fa.img"));
        assert_true(match("a\\b", "a\\b"));
        assert_false(match("", "x"));
        assert_true(match("*", ".hidden"));
        assert_false(match("a/", "a"));
        assert_true(match("a/", "a/"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(attack_extraneous_dependencies, setup, teardown),
            cmocka_unit_test_setup_teardown(delegated_wrong_key, setup, teardown),
            cmocka_unit_test_setup_teardown(preorder_and_terminating, setup, teardown),
            cmocka_unit_test_setup_teardown(cycles_and_depth, setup, teardown),
            cmocka_unit_test_setup_teardown(hash_prefixes, setup, teardown),
            cmocka_unit_test(path_patterns),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
