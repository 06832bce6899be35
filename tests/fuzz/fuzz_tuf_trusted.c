/*
 * libFuzzer target: the trusted-set update rules and the delegation walk behind the
 * signature check.  The first byte picks the role; the rest is the "signed" object, which is
 * signed here with the role's in-process key so the fuzzer reaches the rules (rollback, expiry,
 * consistency, delegations) and not only the parser.  0: timestamp over a trusted timestamp;
 * 1: snapshot after a timestamp naming snapshot v1; 2: top-level targets after a snapshot
 * naming targets v1, then a search for a few paths through its delegations.
 */
#include "tuf/tuf.h"

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1800000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct imago_privkey fz_root, fz_ts, fz_snap, fz_tgt;
static char *fz_root_doc, *fz_ts_doc, *fz_snap_doc;
static int fz_ready;

/* {"signed":s,"signatures":[sig by k]} as text, or NULL. */
static char *fz_doc(json_t *s, const struct imago_privkey *k)
{
        json_t *sig = NULL, *doc;
        char *out = NULL;

        if (s == NULL || imago_tuf_sign(k, s, &sig) != IMAGO_OK)
                return NULL;
        doc = json_pack("{s:O,s:[o]}", "signed", s, "signatures", sig);
        if (doc != NULL)
                out = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        return out;
}

static json_t *fz_role(json_t *keys, const struct imago_privkey *k)
{
        json_t *o = NULL;
        char id[65];

        if (imago_tuf_key_public(k, &o) != IMAGO_OK || imago_tuf_keyid(o, id) != IMAGO_OK)
                abort();
        json_object_set_new(keys, id, o);
        return json_pack("{s:[s],s:i}", "keyids", id, "threshold", 1);
}

static void fz_init(void)
{
        json_t *keys = json_object(), *s;

        if (imago_privkey_generate(IMAGO_KEY_ED25519, &fz_root) != IMAGO_OK ||
            imago_privkey_generate(IMAGO_KEY_ED25519, &fz_ts) != IMAGO_OK ||
            imago_privkey_generate(IMAGO_KEY_ED25519, &fz_snap) != IMAGO_OK ||
            imago_privkey_generate(IMAGO_KEY_ED25519, &fz_tgt) != IMAGO_OK)
                abort();
        s = json_pack("{s:s,s:s,s:b,s:s,s:o,s:{s:o,s:o,s:o,s:o},s:i}", "_type", "root",
                      "spec_version", "1.0.31", "consistent_snapshot", 0, "expires",
                      "2100-01-01T00:00:00Z", "keys", keys, "roles", "root",
                      fz_role(keys, &fz_root), "timestamp", fz_role(keys, &fz_ts), "snapshot",
                      fz_role(keys, &fz_snap), "targets", fz_role(keys, &fz_tgt), "version", 1);
        fz_root_doc = fz_doc(s, &fz_root);
        json_decref(s);
        s = json_pack("{s:s,s:s,s:s,s:i,s:{s:{s:i}}}", "_type", "timestamp", "spec_version",
                      "1.0.31", "expires", "2100-01-01T00:00:00Z", "version", 2, "meta",
                      "snapshot.json", "version", 1);
        fz_ts_doc = fz_doc(s, &fz_ts);
        json_decref(s);
        s = json_pack("{s:s,s:s,s:s,s:i,s:{s:{s:i}}}", "_type", "snapshot", "spec_version",
                      "1.0.31", "expires", "2100-01-01T00:00:00Z", "version", 1, "meta",
                      "targets.json", "version", 1);
        fz_snap_doc = fz_doc(s, &fz_snap);
        json_decref(s);
        if (fz_root_doc == NULL || fz_ts_doc == NULL || fz_snap_doc == NULL)
                abort();
        fz_ready = 1;
}

static void fz_walk(struct imago_tuf_trusted *t)
{
        static const char *const paths[] = {"fw.bin", "a/x", "a/b/c", "", "*"};
        const struct imago_tuf_target *out;
        struct imago_tuf_walk w;
        size_t i;

        for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                if (imago_tuf_walk_start(&w, t, paths[i]) != IMAGO_OK)
                        continue;
                (void)imago_tuf_walk_next(&w, t, &out);
                imago_tuf_walk_free(&w);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imago_tuf_trusted t;
        json_t *s = NULL;
        char *doc = NULL;
        int mode;

        if (!fz_ready)
                fz_init();
        if (size < 1 || size > 65536)
                return 0;
        mode = data[0] % 3;
        s = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
        if (s == NULL)
                return 0;
        doc = fz_doc(s, mode == 0 ? &fz_ts : mode == 1 ? &fz_snap : &fz_tgt);
        if (doc == NULL)
                goto out;
        if (imago_tuf_trusted_init(&t, (const uint8_t *)fz_root_doc, strlen(fz_root_doc), NULL) !=
            IMAGO_OK)
                abort();
        if (imago_tuf_update_timestamp(&t, (const uint8_t *)fz_ts_doc, strlen(fz_ts_doc), NOW,
                                       NULL) != IMAGO_OK)
                abort();
        if (mode == 0) {
                (void)imago_tuf_update_timestamp(&t, (const uint8_t *)doc, strlen(doc), NOW, NULL);
        } else if (mode == 1) {
                (void)imago_tuf_update_snapshot(&t, (const uint8_t *)doc, strlen(doc), NOW, 0);
        } else {
                if (imago_tuf_update_snapshot(&t, (const uint8_t *)fz_snap_doc, strlen(fz_snap_doc),
                                              NOW, 0) != IMAGO_OK)
                        abort();
                if (imago_tuf_update_targets(&t, "targets", "root", (const uint8_t *)doc,
                                             strlen(doc), NOW) == IMAGO_OK)
                        fz_walk(&t);
        }
        imago_tuf_trusted_free(&t);
out:
        free(doc);
        json_decref(s);
        return 0;
}
