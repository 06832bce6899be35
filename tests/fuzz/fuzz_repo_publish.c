/*
 * libFuzzer target: the checks of imago_repo_publish() behind the signature check.  The first
 * byte picks what the rest is: 0: the "signed" object of targets, signed here with the targets
 * key (version, expiry, delegations, target names, hashes, files); 1: the "signed" object of a
 * root, signed with the root key, published before a fixed valid targets (chain, online keys,
 * consistent snapshots, expiry).  A repository with root 1 and targets 1 is made once; every
 * publish stops after step 1 (the test hook) and no image directory is given, so the
 * repository never changes between inputs.
 */
#define _XOPEN_SOURCE 700
#include "cloud/repo/repo.h"

#include "base/err.h"
#include "tuf/tuf.h"

#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1800000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct imago_privkey fz_root, fz_tgt, fz_sn, fz_ts;
static struct imago_repo_keys fz_keys;
static struct imago_repo_opts fz_opts;
static char fz_dir[64];
static char *fz_targets2;
static int fz_ready;

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

static char *fz_root_doc(void)
{
        json_t *keys = json_object(), *s;
        char *out;

        s = json_pack("{s:s,s:s,s:i,s:s,s:b,s:O,s:{s:o,s:o,s:o,s:o}}", "_type", "root",
                      "spec_version", "1.0.31", "version", 1, "expires", "2100-01-01T00:00:00Z",
                      "consistent_snapshot", 1, "keys", keys, "roles", "root",
                      fz_role(keys, &fz_root), "targets", fz_role(keys, &fz_tgt), "snapshot",
                      fz_role(keys, &fz_sn), "timestamp", fz_role(keys, &fz_ts));
        out = fz_doc(s, &fz_root);
        json_decref(s);
        json_decref(keys);
        return out;
}

static char *fz_targets_doc(int version)
{
        json_t *s =
            json_pack("{s:s,s:s,s:i,s:s,s:{}}", "_type", "targets", "spec_version", "1.0.31",
                      "version", version, "expires", "2100-01-01T00:00:00Z", "targets");
        char *out = fz_doc(s, &fz_tgt);

        json_decref(s);
        return out;
}

static int fz_rm(const char *p, const struct stat *st, int flag, struct FTW *f)
{
        (void)st;
        (void)flag;
        (void)f;
        return remove(p);
}

static void fz_cleanup(void)
{
        nftw(fz_dir, fz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static void fz_setup(void)
{
        struct imago_repo_blob root;
        char *r1, *t1;

        snprintf(fz_dir, sizeof(fz_dir), "/tmp/fuzz_repo_XXXXXX");
        if (mkdtemp(fz_dir) == NULL || imago_privkey_generate(IMAGO_KEY_ED25519, &fz_root) != 0 ||
            imago_privkey_generate(IMAGO_KEY_ED25519, &fz_tgt) != 0 ||
            imago_privkey_generate(IMAGO_KEY_ED25519, &fz_sn) != 0 ||
            imago_privkey_generate(IMAGO_KEY_ED25519, &fz_ts) != 0 ||
            imago_repo_opts_load(NULL, &fz_opts) != 0)
                abort();
        atexit(fz_cleanup);
        fz_keys.snapshot = &fz_sn;
        fz_keys.timestamp = &fz_ts;
        fz_opts.now = NOW;
        r1 = fz_root_doc();
        t1 = fz_targets_doc(1);
        fz_targets2 = fz_targets_doc(2);
        if (r1 == NULL || t1 == NULL || fz_targets2 == NULL)
                abort();
        root.buf = (const uint8_t *)r1;
        root.len = strlen(r1);
        if (imago_repo_publish(fz_dir, &fz_keys, &fz_opts, &root, 1, (const uint8_t *)t1,
                               strlen(t1), NULL, NULL, 0) != 0)
                abort();
        free(r1);
        free(t1);
        fz_opts.stop_after = 1;
        fz_ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imago_repo_blob root;
        json_t *s;
        char *doc, why[IMAGO_REPO_WHY_MAX];

        if (!fz_ready)
                fz_setup();
        if (size < 1 || size > 64 * 1024)
                return 0;
        s = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
        if (s == NULL)
                return 0;
        doc = fz_doc(s, data[0] & 1 ? &fz_root : &fz_tgt);
        json_decref(s);
        if (doc == NULL)
                return 0;
        if (data[0] & 1) {
                root.buf = (const uint8_t *)doc;
                root.len = strlen(doc);
                (void)imago_repo_publish(fz_dir, &fz_keys, &fz_opts, &root, 1,
                                         (const uint8_t *)fz_targets2, strlen(fz_targets2), NULL,
                                         why, sizeof(why));
        } else {
                (void)imago_repo_publish(fz_dir, &fz_keys, &fz_opts, NULL, 0, (const uint8_t *)doc,
                                         strlen(doc), NULL, why, sizeof(why));
        }
        free(doc);
        return 0;
}
