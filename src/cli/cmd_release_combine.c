/* `imago release combine`: checked signatures into the metadata; see cmd_release.h. */
#include "cmd_release.h"

#include "base/err.h"
#include "cli.h"
#include "tuf/tuf.h"

#include <stdio.h>
#include <string.h>

#define CMD      "release combine"
#define SIGS_MAX 64

static const char usage[] =
    "usage: imago release combine --in META.json --sig SIG.json [--sig SIG.json ...]\n"
    "           [--root ROOT.json] [--prev-root OLD.json] --out SIGNED.json [--force]\n"
    "\n"
    "Checks each detached signature (imago release sign) and writes META with\n"
    "the signatures added to those it holds.  Refused, with nothing written: a\n"
    "signature that does not verify over META's signed part, two signatures by\n"
    "the same key, and a key the role does not authorise.  The authorised keys:\n"
    "  targets, snapshot, timestamp: that role's keys in --root ROOT.json;\n"
    "  root: its own root keys, and with --prev-root the previous root's root\n"
    "  keys (a new root needs a threshold of both: see 'root next').\n"
    "Prints the valid signatures against each threshold; 'imago release verify'\n"
    "gives the verdict.  SIGNED.json is never replaced unless --force.\n";

struct auth {
        const char *label; /* printed: "root version 2 (root keys)" */
        char text[96];
        json_t *keys;
        json_t *keyids;
        unsigned threshold;
        unsigned valid;
};

static int listed(const struct auth *a, const char *keyid)
{
        json_t *id;
        size_t i;

        json_array_foreach(a->keyids, i, id)
        {
                if (strcmp(json_string_value(id), keyid) == 0)
                        return 1;
        }
        return 0;
}

/* Check one signature object; prints the error line (file). */
static int check_one(json_t *signed_obj, json_t *sig, struct auth *auths, size_t nauth,
                     json_t *seen, const char *file, const char *role)
{
        const char *kid = json_string_value(json_object_get(sig, "keyid"));
        json_t *one = NULL, *ids = NULL;
        size_t i, n = 0;
        unsigned valid = 0;
        int r = IMAGO_OK;

        if (json_object_get(seen, kid) != NULL) {
                imago_rel_fail(CMD, file, IMAGO_EEXIST,
                               "a second signature by key %s (already from %s)", kid,
                               json_string_value(json_object_get(seen, kid)));
                return IMAGO_EEXIST;
        }
        for (i = 0; i < nauth; i++) {
                if (!listed(&auths[i], kid))
                        continue;
                n++;
                one = json_pack("[O]", sig);
                ids = json_pack("[s]", kid);
                if (one == NULL || ids == NULL)
                        r = IMAGO_ENOMEM;
                else
                        r = imago_tuf_verify_threshold(signed_obj, one, auths[i].keys, ids, 1,
                                                       &valid);
                json_decref(one);
                json_decref(ids);
                if (r == IMAGO_ENOMEM) {
                        imago_cli_fail(CMD, file, r);
                        return r;
                }
                if (r != IMAGO_OK || valid != 1) {
                        imago_rel_fail(CMD, file, IMAGO_EIMG_SIG_BAD,
                                       "the signature by key %s does not verify over this %s "
                                       "metadata's signed part (signed another version, or "
                                       "tampered with?)",
                                       kid, role);
                        return IMAGO_EIMG_SIG_BAD;
                }
                auths[i].valid++;
        }
        if (n == 0) {
                imago_rel_fail(CMD, file, IMAGO_EPERM,
                               "key %s is not authorised to sign %s metadata (%s%s)", kid, role,
                               auths[0].label, nauth > 1 ? ", nor the previous root" : "");
                return IMAGO_EPERM;
        }
        if (json_object_set_new(seen, kid, json_string(file)) != 0) {
                imago_cli_fail(CMD, file, IMAGO_ENOMEM);
                return IMAGO_ENOMEM;
        }
        return IMAGO_OK;
}

static int set_auth(struct auth *a, json_t *root_signed, const char *role, const char *what)
{
        int r;

        snprintf(a->text, sizeof(a->text), "the %s keys of %s version %lld", role, what,
                 (long long)json_integer_value(json_object_get(root_signed, "version")));
        a->label = a->text;
        a->valid = 0;
        if ((r = imago_rel_role_keys(root_signed, role, &a->keys, &a->keyids, &a->threshold)) !=
            IMAGO_OK)
                imago_cli_fail(CMD, NULL, r);
        return r;
}

int imago_cli_release_combine(int argc, char **argv)
{
        const char *sigfiles[SIGS_MAX];
        const char *in = NULL, *out = NULL, *root_f = NULL, *prev_f = NULL, *type, *v = NULL;
        json_t *meta = NULL, *root = NULL, *prev = NULL, *seen = NULL, *sig, *s, *sigs;
        json_t *add[SIGS_MAX];
        struct auth auths[2];
        size_t nsig = 0, nauth = 0, j;
        int i, m, force = 0, rc = IMAGO_CLI_FAIL;
        json_int_t version;

        memset(auths, 0, sizeof(auths));
        memset(add, 0, sizeof(add));
        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLI_OK;
                }
                if (strcmp(argv[i], "--force") == 0) {
                        force = 1;
                        continue;
                }
                if ((m = imago_cli_opt(argc, argv, &i, "imago " CMD, "--sig", &v)) > 0) {
                        if (nsig == SIGS_MAX)
                                return imago_cli_usage("imago " CMD, "at most %d --sig", SIGS_MAX);
                        sigfiles[nsig++] = v;
                        continue;
                }
                if (m < 0)
                        return IMAGO_CLI_USAGE;
                if ((m = imago_cli_opt(argc, argv, &i, "imago " CMD, "--in", &in)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD, "--out", &out)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD, "--root", &root_f)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD, "--prev-root", &prev_f))) {
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        continue;
                }
                return imago_cli_usage("imago " CMD, "unexpected argument '%s'", argv[i]);
        }
        if (in == NULL || out == NULL || nsig == 0)
                return imago_cli_usage("imago " CMD,
                                       "--in, --out and at least one --sig are required");
        if (imago_rel_load(CMD, in, &meta) != IMAGO_OK)
                goto out;
        type = imago_rel_type(meta);
        s = json_object_get(meta, "signed");
        version = json_integer_value(json_object_get(s, "version"));
        if (strcmp(type, "root") == 0) {
                if (root_f != NULL) {
                        rc =
                            imago_cli_usage("imago " CMD, "root metadata is signed by its own root "
                                                          "keys: give the previous root with "
                                                          "--prev-root, not --root");
                        goto out;
                }
                if (set_auth(&auths[nauth++], s, "root", "this root,") != IMAGO_OK)
                        goto out;
                if (prev_f != NULL) {
                        if (imago_rel_load(CMD, prev_f, &prev) != IMAGO_OK)
                                goto out;
                        if (strcmp(imago_rel_type(prev), "root") != 0 ||
                            json_integer_value(json_object_get(json_object_get(prev, "signed"),
                                                               "version")) != version - 1) {
                                imago_rel_fail(CMD, prev_f, IMAGO_ETUF_CONSISTENCY,
                                               "not the root version %lld that %s follows",
                                               (long long)version - 1, in);
                                goto out;
                        }
                        if (set_auth(&auths[nauth++], json_object_get(prev, "signed"), "root",
                                     "the previous root,") != IMAGO_OK)
                                goto out;
                }
        } else {
                if (root_f == NULL || prev_f != NULL) {
                        rc = imago_cli_usage("imago " CMD,
                                             "%s metadata: give the root that "
                                             "authorises its keys with --root (and no "
                                             "--prev-root)",
                                             type);
                        goto out;
                }
                if (imago_rel_load(CMD, root_f, &root) != IMAGO_OK)
                        goto out;
                if (strcmp(imago_rel_type(root), "root") != 0) {
                        imago_rel_fail(CMD, root_f, IMAGO_ETUF_FORMAT, "not root metadata");
                        goto out;
                }
                if (set_auth(&auths[nauth++], json_object_get(root, "signed"), type, "root") !=
                    IMAGO_OK)
                        goto out;
        }
        if ((seen = json_object()) == NULL) {
                imago_cli_fail(CMD, NULL, IMAGO_ENOMEM);
                goto out;
        }
        sigs = json_object_get(meta, "signatures");
        json_array_foreach(sigs, j, sig)
        {
                if (check_one(s, sig, auths, nauth, seen, in, type) != IMAGO_OK)
                        goto out;
        }
        for (j = 0; j < nsig; j++) {
                if (imago_rel_load_sig(CMD, sigfiles[j], &add[j]) != IMAGO_OK ||
                    check_one(s, add[j], auths, nauth, seen, sigfiles[j], type) != IMAGO_OK)
                        goto out;
        }
        for (j = 0; j < nsig; j++) {
                if (json_array_size(sigs) >= IMAGO_REL_SIGS_MAX ||
                    json_array_append(sigs, add[j]) != 0) {
                        imago_cli_fail(CMD, NULL, IMAGO_ETOOBIG);
                        goto out;
                }
        }
        if (imago_rel_write(CMD, out, meta, force) != IMAGO_OK)
                goto out;
        printf("%s: %s version %lld, %zu signatures\n", out, type, (long long)version,
               json_array_size(sigs));
        for (j = 0; j < nauth; j++)
                printf("  %u of threshold %u valid from %s: %s\n", auths[j].valid,
                       auths[j].threshold, auths[j].label,
                       auths[j].valid >= auths[j].threshold
                           ? "threshold met"
                           : "below threshold: more signatures needed");
        if (strcmp(type, "root") == 0 && version > 1 && prev_f == NULL)
                printf("  a new root also needs a threshold of the previous root's keys: give "
                       "--prev-root\n");
        rc = IMAGO_CLI_OK;
out:
        for (j = 0; j < SIGS_MAX; j++)
                json_decref(add[j]);
        for (j = 0; j < 2; j++) {
                json_decref(auths[j].keys);
                json_decref(auths[j].keyids);
        }
        json_decref(seen);
        json_decref(prev);
        json_decref(root);
        json_decref(meta);
        return rc;
}
