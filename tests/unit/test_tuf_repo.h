/*
 * Test helper for imago_tuf (and imago_tuf_client tests): a small TUF repository built in
 * memory with keys generated in the test, metadata signed by imago_tuf_sign().  Include after
 * <cmocka.h>.  Everything returned is owned by the caller (free() bytes, json_decref()
 * objects); tr_free() releases a repo's keys.
 */
#ifndef IMAGO_TEST_TUF_REPO_H
#define IMAGO_TEST_TUF_REPO_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "base/hex.h"
#include "crypto/keys.h"
#include "tuf/tuf.h"

#define TR_NOW    1800000000 /* 2027-01-15 */
#define TR_FUTURE "2100-01-01T00:00:00Z"
#define TR_PAST   "2020-01-01T00:00:00Z"

struct trepo {
        struct imago_privkey root[3], ts, snap, tgt, ts2, deleg[4];
};

static inline void tr_gen(struct imago_privkey *k, enum imago_key_type type)
{
        assert_int_equal(imago_privkey_generate(type, k), IMAGO_OK);
}

static inline void tr_init(struct trepo *r)
{
        size_t i;

        memset(r, 0, sizeof(*r));
        tr_gen(&r->root[0], IMAGO_KEY_ED25519);
        tr_gen(&r->root[1], IMAGO_KEY_P256);
        tr_gen(&r->root[2], IMAGO_KEY_ED25519);
        tr_gen(&r->ts, IMAGO_KEY_ED25519);
        tr_gen(&r->ts2, IMAGO_KEY_P256);
        tr_gen(&r->snap, IMAGO_KEY_P256);
        tr_gen(&r->tgt, IMAGO_KEY_ED25519);
        for (i = 0; i < 4; i++)
                tr_gen(&r->deleg[i], i % 2 ? IMAGO_KEY_P256 : IMAGO_KEY_ED25519);
}

static inline void tr_free(struct trepo *r)
{
        size_t i;

        for (i = 0; i < 3; i++)
                imago_privkey_free(&r->root[i]);
        imago_privkey_free(&r->ts);
        imago_privkey_free(&r->ts2);
        imago_privkey_free(&r->snap);
        imago_privkey_free(&r->tgt);
        for (i = 0; i < 4; i++)
                imago_privkey_free(&r->deleg[i]);
}

/* Key id of k; adds the key object to keys (if not NULL). */
static inline void tr_keyid(const struct imago_privkey *k, json_t *keys, char id[65])
{
        json_t *o = NULL;

        assert_int_equal(imago_tuf_key_public(k, &o), IMAGO_OK);
        assert_int_equal(imago_tuf_keyid(o, id), IMAGO_OK);
        if (keys != NULL)
                assert_int_equal(json_object_set(keys, id, o), 0);
        json_decref(o);
}

/* {"keyids":[...],"threshold":thr}, adding the keys to keys. */
static inline json_t *tr_role(json_t *keys, const struct imago_privkey *const *ks, size_t n,
                              unsigned thr)
{
        json_t *ids = json_array();
        char id[65];
        size_t i;

        for (i = 0; i < n; i++) {
                tr_keyid(ks[i], keys, id);
                json_array_append_new(ids, json_string(id));
        }
        return json_pack("{s:o,s:i}", "keyids", ids, "threshold", (int)thr);
}

static inline json_t *tr_root_signed(uint64_t version, const char *expires,
                                     const struct imago_privkey *const *root_keys, size_t n_root,
                                     unsigned root_thr, const struct imago_privkey *ts,
                                     const struct imago_privkey *snap,
                                     const struct imago_privkey *tgt)
{
        json_t *keys = json_object();
        json_t *roles =
            json_pack("{s:o,s:o,s:o,s:o}", "root", tr_role(keys, root_keys, n_root, root_thr),
                      "timestamp", tr_role(keys, &ts, 1, 1), "snapshot", tr_role(keys, &snap, 1, 1),
                      "targets", tr_role(keys, &tgt, 1, 1));

        return json_pack("{s:s,s:s,s:b,s:s,s:o,s:o,s:I}", "_type", "root", "spec_version", "1.0.31",
                         "consistent_snapshot", 1, "expires", expires, "keys", keys, "roles", roles,
                         "version", (json_int_t)version);
}

/* {"version":v[,"length":n,"hashes":{"sha256":..}]} of bytes (NULL: version only). */
static inline json_t *tr_metafile(uint64_t version, const uint8_t *bytes, size_t len)
{
        uint8_t d[32];
        char hex[65];

        if (bytes == NULL)
                return json_pack("{s:I}", "version", (json_int_t)version);
        assert_int_equal(imago_sha256(bytes, len, d), IMAGO_OK);
        imago_hex_encode(d, 32, hex);
        return json_pack("{s:I,s:I,s:{s:s}}", "version", (json_int_t)version, "length",
                         (json_int_t)len, "hashes", "sha256", hex);
}

static inline json_t *tr_timestamp_signed(uint64_t version, const char *expires,
                                          uint64_t snap_version, const uint8_t *snap,
                                          size_t snap_len)
{
        return json_pack("{s:s,s:s,s:s,s:I,s:{s:o}}", "_type", "timestamp", "spec_version",
                         "1.0.31", "expires", expires, "version", (json_int_t)version, "meta",
                         "snapshot.json", tr_metafile(snap_version, snap, snap_len));
}

/* meta: a new object of "<role>.json" -> metafile (stolen). */
static inline json_t *tr_snapshot_signed(uint64_t version, const char *expires, json_t *meta)
{
        return json_pack("{s:s,s:s,s:s,s:I,s:o}", "_type", "snapshot", "spec_version", "1.0.31",
                         "expires", expires, "version", (json_int_t)version, "meta", meta);
}

/* A target entry for content. */
static inline json_t *tr_target(const char *content)
{
        uint8_t d[32];
        char hex[65];

        assert_int_equal(imago_sha256(content, strlen(content), d), IMAGO_OK);
        imago_hex_encode(d, 32, hex);
        return json_pack("{s:I,s:{s:s}}", "length", (json_int_t)strlen(content), "hashes", "sha256",
                         hex);
}

/* targets: a new object (stolen); delegations: NULL or a new object (stolen). */
static inline json_t *tr_targets_signed(uint64_t version, const char *expires, json_t *targets,
                                        json_t *delegations)
{
        json_t *o =
            json_pack("{s:s,s:s,s:s,s:I,s:o}", "_type", "targets", "spec_version", "1.0.31",
                      "expires", expires, "version", (json_int_t)version, "targets", targets);

        if (delegations != NULL)
                json_object_set_new(o, "delegations", delegations);
        return o;
}

/* A delegated role entry {name, keyids, threshold, terminating, paths}; adds keys. */
static inline json_t *tr_deleg_role(json_t *keys, const char *name, const struct imago_privkey *k,
                                    const char *const *paths, size_t n_paths, int terminating)
{
        json_t *role = tr_role(keys, &k, 1, 1), *p = json_array();
        size_t i;

        for (i = 0; i < n_paths; i++)
                json_array_append_new(p, json_string(paths[i]));
        json_object_set_new(role, "name", json_string(name));
        json_object_set_new(role, "terminating", json_boolean(terminating));
        json_object_set_new(role, "paths", p);
        return role;
}

/* {"signed":signed,"signatures":[...]} serialized; signed is not stolen. */
static inline uint8_t *tr_doc(const json_t *signed_obj, const struct imago_privkey *const *ks,
                              size_t n, size_t *len)
{
        json_t *sigs = json_array(), *doc, *s;
        char *out;
        size_t i;

        for (i = 0; i < n; i++) {
                assert_int_equal(imago_tuf_sign(ks[i], signed_obj, &s), IMAGO_OK);
                json_array_append_new(sigs, s);
        }
        doc = json_pack("{s:O,s:o}", "signed", signed_obj, "signatures", sigs);
        assert_non_null(doc);
        out = json_dumps(doc, JSON_COMPACT);
        assert_non_null(out);
        *len = strlen(out);
        json_decref(doc);
        return (uint8_t *)out;
}

/* tr_doc with one key. */
static inline uint8_t *tr_doc1(const json_t *signed_obj, const struct imago_privkey *k, size_t *len)
{
        return tr_doc(signed_obj, &k, 1, len);
}

#endif
