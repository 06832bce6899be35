/*
 * `imago release root init`: unsigned root metadata, version 1, and the
 * root editing helpers `root next` shares; see cmd_release.h.
 */
#include "cmd_release.h"

#include "base/err.h"
#include "base/num.h"
#include "cli.h"
#include "json/json.h"

#include <stdio.h>
#include <string.h>

#define CMD "release root init"

static const char usage[] =
    "usage: imago release root init --out ROOT.json --expires DAYS\n"
    "           --root-key PUB [--root-key PUB ...] --root-threshold K\n"
    "           --targets-key PUB [--targets-key PUB ...] --targets-threshold K\n"
    "           --snapshot-key PUB [--snapshot-threshold K]\n"
    "           --timestamp-key PUB [--timestamp-threshold K]\n"
    "           [--consistent-snapshot] [--force]\n"
    "\n"
    "Writes unsigned TUF root metadata, version 1: {\"signed\": ..., \"signatures\": []}.\n"
    "PUB is a public key file (imago keys gen writes KEY.pub), ed25519 or P-256.\n"
    "The root and targets keys are offline keys (held by the release desk, each\n"
    "on its own machine); the snapshot and timestamp keys are online keys (the\n"
    "repository server re-signs those roles): one key cannot serve both kinds.\n"
    "Thresholds are 1 to the number of keys of the role (snapshot and timestamp\n"
    "default to 1).  Then each root key holder runs 'imago release sign' and\n"
    "'imago release combine' puts the signatures in.  OUT is never replaced\n"
    "unless --force.\n";

int imago_rel_root_add(json_t *s, const char *role, json_t *key, const char *keyid)
{
        json_t *ids = json_object_get(json_object_get(json_object_get(s, "roles"), role), "keyids");
        json_t *keys = json_object_get(s, "keys"), *id;
        size_t i;

        if (!json_is_array(ids) || !json_is_object(keys))
                return IMAGO_ETUF_FORMAT;
        json_array_foreach(ids, i, id)
        {
                if (strcmp(json_string_value(id), keyid) == 0)
                        return IMAGO_EEXIST;
        }
        if (json_array_size(ids) >= IMAGO_REL_KEYS_MAX)
                return IMAGO_ETOOBIG;
        if (json_object_get(keys, keyid) == NULL && json_object_set(keys, keyid, key) != 0)
                return IMAGO_ENOMEM;
        if (json_array_append_new(ids, json_string(keyid)) != 0)
                return IMAGO_ENOMEM;
        return IMAGO_OK;
}

int imago_rel_root_remove(json_t *s, const char *role, const char *keyid)
{
        json_t *roles = json_object_get(s, "roles"), *ids, *id;
        size_t i, j, found = SIZE_MAX;

        ids = json_object_get(json_object_get(roles, role), "keyids");
        json_array_foreach(ids, i, id)
        {
                if (strcmp(json_string_value(id), keyid) == 0)
                        found = i;
        }
        if (found == SIZE_MAX)
                return IMAGO_ENOTFOUND;
        if (json_array_remove(ids, found) != 0)
                return IMAGO_ENOMEM;
        /* Drop the key object when no role lists it any more. */
        for (i = 0; i < 4; i++) {
                ids = json_object_get(json_object_get(roles, imago_rel_roles[i]), "keyids");
                json_array_foreach(ids, j, id)
                {
                        if (strcmp(json_string_value(id), keyid) == 0)
                                return IMAGO_OK;
                }
        }
        json_object_del(json_object_get(s, "keys"), keyid);
        return IMAGO_OK;
}

int imago_rel_root_policy(json_t *s, const char **why, const char **keyid)
{
        json_t *roles = json_object_get(s, "roles"), *a, *b;
        size_t i, j, x, y;

        for (i = 0; i < 4; i++) {
                if (!imago_rel_role_offline(imago_rel_roles[i]))
                        continue;
                for (j = 0; j < 4; j++) {
                        if (imago_rel_role_offline(imago_rel_roles[j]))
                                continue;
                        json_array_foreach(
                            json_object_get(json_object_get(roles, imago_rel_roles[i]), "keyids"),
                            x, a)
                        {
                                json_array_foreach(
                                    json_object_get(json_object_get(roles, imago_rel_roles[j]),
                                                    "keyids"),
                                    y, b)
                                {
                                        if (json_equal(a, b)) {
                                                *keyid = json_string_value(a);
                                                *why = "is both an offline key (root/targets) and "
                                                       "an online key (snapshot/timestamp)";
                                                return IMAGO_EINVAL;
                                        }
                                }
                        }
                }
        }
        return IMAGO_OK;
}

int imago_rel_set_expires(json_t *s, uint32_t days)
{
        char exp[IMAGO_REL_EXPIRES_LEN + 1];
        int r;

        if ((r = imago_rel_expires_in(days, exp)) != IMAGO_OK)
                return r;
        return json_object_set_new(s, "expires", json_string(exp)) == 0 ? IMAGO_OK : IMAGO_ENOMEM;
}

static json_t *new_root(int consistent)
{
        json_t *s = json_object(), *roles = json_object(), *role;
        size_t i;
        int bad = s == NULL || roles == NULL;

        for (i = 0; i < 4 && !bad; i++) {
                role = json_pack("{s:[],s:I}", "keyids", "threshold", (json_int_t)1);
                bad = role == NULL || json_object_set_new(roles, imago_rel_roles[i], role) != 0;
        }
        if (bad || json_object_set_new(s, "_type", json_string("root")) != 0 ||
            json_object_set_new(s, "spec_version", json_string(IMAGO_REL_SPEC)) != 0 ||
            json_object_set_new(s, "version", json_integer(1)) != 0 ||
            json_object_set_new(s, "consistent_snapshot", json_boolean(consistent)) != 0 ||
            json_object_set_new(s, "keys", json_object()) != 0 ||
            json_object_set(s, "roles", roles) != 0) {
                json_decref(roles);
                json_decref(s);
                return NULL;
        }
        json_decref(roles);
        return s;
}

int imago_cli_release_root_init(int argc, char **argv)
{
        const char *keys[4][IMAGO_REL_KEYS_MAX];
        const char *th_s[4] = {NULL, NULL, NULL, NULL};
        size_t nkeys[4] = {0, 0, 0, 0};
        const char *out = NULL, *exp_s = NULL, *why = NULL, *bad_id = NULL;
        json_t *s = NULL, *meta = NULL, *key = NULL;
        char opt[32], kid[65];
        int i, m, consistent = 0, force = 0, r, rc = IMAGO_CLI_FAIL;
        uint32_t days = 0, th, ths[4];
        size_t j, k;

        for (i = 1; i < argc; i++) {
                const char *v = NULL;

                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLI_OK;
                }
                if (strcmp(argv[i], "--consistent-snapshot") == 0) {
                        consistent = 1;
                        continue;
                }
                if (strcmp(argv[i], "--force") == 0) {
                        force = 1;
                        continue;
                }
                if ((m = imago_cli_opt(argc, argv, &i, "imago " CMD, "--out", &out)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD, "--expires", &exp_s))) {
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        continue;
                }
                for (j = 0, m = 0; j < 4 && m == 0; j++) {
                        snprintf(opt, sizeof(opt), "--%s-key", imago_rel_roles[j]);
                        if ((m = imago_cli_opt(argc, argv, &i, "imago " CMD, opt, &v)) > 0) {
                                if (nkeys[j] == IMAGO_REL_KEYS_MAX)
                                        return imago_cli_usage("imago " CMD,
                                                               "at most %u keys per role",
                                                               IMAGO_REL_KEYS_MAX);
                                keys[j][nkeys[j]++] = v;
                                break;
                        }
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        snprintf(opt, sizeof(opt), "--%s-threshold", imago_rel_roles[j]);
                        if ((m = imago_cli_opt(argc, argv, &i, "imago " CMD, opt, &th_s[j])) < 0)
                                return IMAGO_CLI_USAGE;
                }
                if (m > 0)
                        continue;
                return imago_cli_usage("imago " CMD, "unexpected argument '%s'", argv[i]);
        }
        if (out == NULL || exp_s == NULL)
                return imago_cli_usage("imago " CMD, "--out and --expires are required");
        if (imago_rel_parse_days("imago " CMD, exp_s, &days) != IMAGO_OK)
                return IMAGO_CLI_USAGE;
        for (j = 0; j < 4; j++) {
                if (nkeys[j] == 0)
                        return imago_cli_usage("imago " CMD, "--%s-key is required",
                                               imago_rel_roles[j]);
                if (th_s[j] == NULL && imago_rel_role_offline(imago_rel_roles[j]))
                        return imago_cli_usage("imago " CMD, "--%s-threshold is required",
                                               imago_rel_roles[j]);
                th = 1;
                if (th_s[j] != NULL &&
                    (imago_parse_u32(th_s[j], IMAGO_REL_KEYS_MAX, &th) != IMAGO_OK || th == 0 ||
                     th > nkeys[j]))
                        return imago_cli_usage("imago " CMD,
                                               "--%s-threshold must be 1 to the number of %s "
                                               "keys (%zu)",
                                               imago_rel_roles[j], imago_rel_roles[j], nkeys[j]);
                if (th == 1 && nkeys[j] > 1 && imago_rel_role_offline(imago_rel_roles[j]))
                        fprintf(stderr,
                                "imago: " CMD ": note: threshold 1 for %s: any one of its "
                                "%zu keys alone can sign\n",
                                imago_rel_roles[j], nkeys[j]);
                ths[j] = th;
        }
        if ((s = new_root(consistent)) == NULL) {
                imago_cli_fail(CMD, NULL, IMAGO_ENOMEM);
                goto out;
        }
        for (j = 0; j < 4; j++) {
                if (json_object_set_new(
                        json_object_get(json_object_get(s, "roles"), imago_rel_roles[j]),
                        "threshold", json_integer(ths[j])) != 0) {
                        imago_cli_fail(CMD, NULL, IMAGO_ENOMEM);
                        goto out;
                }
                for (k = 0; k < nkeys[j]; k++) {
                        if ((r = imago_rel_pubkey(keys[j][k], &key, kid)) != IMAGO_OK) {
                                imago_cli_fail(CMD, keys[j][k], r);
                                goto out;
                        }
                        r = imago_rel_root_add(s, imago_rel_roles[j], key, kid);
                        json_decref(key);
                        key = NULL;
                        if (r == IMAGO_EEXIST) {
                                imago_rel_fail(CMD, keys[j][k], r, "given twice for the %s role",
                                               imago_rel_roles[j]);
                                goto out;
                        }
                        if (r != IMAGO_OK) {
                                imago_cli_fail(CMD, keys[j][k], r);
                                goto out;
                        }
                }
        }
        if ((r = imago_rel_root_policy(s, &why, &bad_id)) != IMAGO_OK) {
                imago_rel_fail(CMD, NULL, r, "key %s %s", bad_id, why);
                goto out;
        }
        if ((r = imago_rel_set_expires(s, days)) != IMAGO_OK ||
            (r = imago_rel_check_root(s, &why)) != IMAGO_OK) {
                imago_rel_fail(CMD, NULL, r, "%s", why != NULL ? why : imago_strerror(r));
                goto out;
        }
        if ((meta = json_pack("{s:O,s:[]}", "signed", s, "signatures")) == NULL) {
                imago_cli_fail(CMD, NULL, IMAGO_ENOMEM);
                goto out;
        }
        if (imago_rel_write(CMD, out, meta, force) != IMAGO_OK)
                goto out;
        printf("%s: root version 1, expires %s, unsigned\n", out,
               json_string_value(json_object_get(s, "expires")));
        for (j = 0; j < 4; j++)
                printf("  %-9s threshold %lld of %zu keys\n", imago_rel_roles[j],
                       (long long)json_integer_value(json_object_get(
                           json_object_get(json_object_get(s, "roles"), imago_rel_roles[j]),
                           "threshold")),
                       nkeys[j]);
        printf("next: each root key holder runs 'imago release sign --key KEY --in %s --out "
               "SIG.json'; then 'imago release combine'\n",
               out);
        rc = IMAGO_CLI_OK;
out:
        json_decref(key);
        json_decref(meta);
        json_decref(s);
        return rc;
}
