/* `imago release root next`: the next root version (key rotation, revocation); see cmd_release.h.
 */
#include "cmd_release.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/num.h"
#include "cli.h"
#include "tuf/tuf.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CMD     "release root next"
#define OPS_MAX 128

static const char usage[] =
    "usage: imago release root next --from ROOT.json --out NEXT.json\n"
    "           [--add-key ROLE PUB] [--remove-key ROLE KEYID|PUB] [--threshold ROLE K]\n"
    "           [--expires DAYS] [--force]\n"
    "\n"
    "Writes the next root metadata: version + 1, unsigned, with the changes\n"
    "applied in the order given (options may repeat).  ROLE is root, targets,\n"
    "snapshot or timestamp.  Revoking a compromised key is removing it here;\n"
    "a key no role lists any more leaves \"keys\".  Without --expires the old\n"
    "expiry is kept if it has not passed.\n"
    "\n"
    "The new root must be signed by a threshold of the OLD root's root keys AND\n"
    "a threshold of the NEW root's root keys (clients check both); combine with\n"
    "'imago release combine --prev-root ROOT.json', check with 'imago release\n"
    "verify --root ROOT.json NEXT.json'.  OUT is never replaced unless --force.\n";

enum op_kind { OP_ADD, OP_REMOVE, OP_THRESHOLD };

struct op {
        enum op_kind kind;
        const char *role;
        const char *arg;
};

static int known_role(const char *role)
{
        size_t i;

        for (i = 0; i < 4; i++)
                if (strcmp(role, imago_rel_roles[i]) == 0)
                        return 1;
        return 0;
}

static int apply(json_t *s, const struct op *o)
{
        json_t *key = NULL, *role;
        char kid[65];
        uint32_t th;
        int r;

        role = json_object_get(json_object_get(s, "roles"), o->role);
        switch (o->kind) {
        case OP_ADD:
                if ((r = imago_rel_pubkey(o->arg, &key, kid)) != IMAGO_OK) {
                        imago_cli_fail(CMD, o->arg, r);
                        return r;
                }
                r = imago_rel_root_add(s, o->role, key, kid);
                json_decref(key);
                if (r == IMAGO_EEXIST)
                        imago_rel_fail(CMD, o->arg, r, "key %s is already a %s key", kid, o->role);
                else if (r != IMAGO_OK)
                        imago_cli_fail(CMD, o->arg, r);
                else
                        printf("  + %-9s %s (%s)\n", o->role, kid, o->arg);
                return r;
        case OP_REMOVE:
                /* A key id, unless a file of that name exists. */
                if (imago_hex_is_lower(o->arg, 64, 64) && access(o->arg, F_OK) != 0) {
                        snprintf(kid, sizeof(kid), "%s", o->arg);
                } else {
                        if ((r = imago_rel_pubkey(o->arg, &key, kid)) != IMAGO_OK) {
                                imago_cli_fail(CMD, o->arg, r);
                                return r;
                        }
                        json_decref(key);
                }
                if ((r = imago_rel_root_remove(s, o->role, kid)) == IMAGO_ENOTFOUND)
                        imago_rel_fail(CMD, o->arg, r, "key %s is not a %s key", kid, o->role);
                else if (r != IMAGO_OK)
                        imago_cli_fail(CMD, o->arg, r);
                else
                        printf("  - %-9s %s\n", o->role, kid);
                return r;
        case OP_THRESHOLD:
        default:
                if (imago_parse_u32(o->arg, IMAGO_REL_KEYS_MAX, &th) != IMAGO_OK || th == 0) {
                        imago_cli_usage("imago " CMD, "--threshold %s: '%s' is not 1 to %u",
                                        o->role, o->arg, IMAGO_REL_KEYS_MAX);
                        return IMAGO_EUSAGE;
                }
                if (json_object_set_new(role, "threshold", json_integer(th)) != 0) {
                        imago_cli_fail(CMD, NULL, IMAGO_ENOMEM);
                        return IMAGO_ENOMEM;
                }
                printf("  = %-9s threshold %u\n", o->role, th);
                return IMAGO_OK;
        }
}

/* Every role's threshold within its number of keys; the offline/online split. */
static int check(json_t *s)
{
        const char *why = NULL, *kid = NULL;
        json_t *role;
        json_int_t th;
        size_t i, n;
        int r;

        for (i = 0; i < 4; i++) {
                role = json_object_get(json_object_get(s, "roles"), imago_rel_roles[i]);
                n = json_array_size(json_object_get(role, "keyids"));
                th = json_integer_value(json_object_get(role, "threshold"));
                if (n == 0 || th < 1 || (size_t)th > n) {
                        imago_rel_fail(CMD, NULL, IMAGO_EINVAL,
                                       "role %s would have threshold %lld with %zu keys: it "
                                       "could never be signed",
                                       imago_rel_roles[i], (long long)th, n);
                        return IMAGO_EINVAL;
                }
        }
        if ((r = imago_rel_root_policy(s, &why, &kid)) != IMAGO_OK) {
                imago_rel_fail(CMD, NULL, r, "key %s %s", kid, why);
                return r;
        }
        if ((r = imago_rel_check_root(s, &why)) != IMAGO_OK) {
                imago_rel_fail(CMD, NULL, r, "%s", why);
                return r;
        }
        return IMAGO_OK;
}

int imago_cli_release_root_next(int argc, char **argv)
{
        struct op ops[OPS_MAX];
        const char *from = NULL, *out = NULL, *exp_s = NULL;
        json_t *old = NULL, *meta = NULL, *s;
        int i, m, force = 0, r, rc = IMAGO_CLI_FAIL;
        size_t nops = 0, j;
        uint32_t days = 0;
        json_int_t version;
        int64_t exp_t;

        for (i = 1; i < argc; i++) {
                enum op_kind kind;

                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLI_OK;
                }
                if (strcmp(argv[i], "--force") == 0) {
                        force = 1;
                        continue;
                }
                if ((m = imago_cli_opt(argc, argv, &i, "imago " CMD, "--from", &from)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD, "--out", &out)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD, "--expires", &exp_s))) {
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        continue;
                }
                if (strcmp(argv[i], "--add-key") == 0)
                        kind = OP_ADD;
                else if (strcmp(argv[i], "--remove-key") == 0)
                        kind = OP_REMOVE;
                else if (strcmp(argv[i], "--threshold") == 0)
                        kind = OP_THRESHOLD;
                else
                        return imago_cli_usage("imago " CMD, "unexpected argument '%s'", argv[i]);
                if (i + 2 >= argc)
                        return imago_cli_usage("imago " CMD, "option %s needs ROLE and a value",
                                               argv[i]);
                if (!known_role(argv[i + 1]))
                        return imago_cli_usage("imago " CMD,
                                               "%s: unknown role '%s' (root, targets, snapshot, "
                                               "timestamp)",
                                               argv[i], argv[i + 1]);
                if (nops == OPS_MAX)
                        return imago_cli_usage("imago " CMD, "at most %d changes", OPS_MAX);
                ops[nops].kind = kind;
                ops[nops].role = argv[i + 1];
                ops[nops].arg = argv[i + 2];
                nops++;
                i += 2;
        }
        if (from == NULL || out == NULL)
                return imago_cli_usage("imago " CMD, "--from and --out are required");
        if (exp_s != NULL && imago_rel_parse_days("imago " CMD, exp_s, &days) != IMAGO_OK)
                return IMAGO_CLI_USAGE;
        if (imago_rel_load(CMD, from, &old) != IMAGO_OK)
                goto out;
        if (strcmp(imago_rel_type(old), "root") != 0) {
                imago_rel_fail(CMD, from, IMAGO_ETUF_FORMAT, "not root metadata");
                goto out;
        }
        if ((s = json_deep_copy(json_object_get(old, "signed"))) == NULL ||
            (meta = json_pack("{s:o,s:[]}", "signed", s, "signatures")) == NULL) {
                imago_cli_fail(CMD, NULL, IMAGO_ENOMEM);
                goto out;
        }
        version = json_integer_value(json_object_get(s, "version"));
        if (version >= INT32_MAX ||
            json_object_set_new(s, "version", json_integer(version + 1)) != 0) {
                imago_cli_fail(CMD, from, IMAGO_ERANGE);
                goto out;
        }
        printf("root version %lld -> %lld\n", (long long)version, (long long)version + 1);
        for (j = 0; j < nops; j++) {
                if ((r = apply(s, &ops[j])) != IMAGO_OK) {
                        if (r == IMAGO_EUSAGE)
                                rc = IMAGO_CLI_USAGE;
                        goto out;
                }
        }
        if (exp_s != NULL) {
                if ((r = imago_rel_set_expires(s, days)) != IMAGO_OK) {
                        imago_cli_fail(CMD, NULL, r);
                        goto out;
                }
        } else if (imago_tuf_time_parse(json_string_value(json_object_get(s, "expires")), &exp_t) !=
                       IMAGO_OK ||
                   exp_t <= (int64_t)time(NULL)) {
                imago_rel_fail(CMD, from, IMAGO_ETUF_EXPIRED,
                               "its expiry has passed: give the new root --expires DAYS");
                goto out;
        }
        if (check(s) != IMAGO_OK)
                goto out;
        if (imago_rel_write(CMD, out, meta, force) != IMAGO_OK)
                goto out;
        printf("%s: root version %lld, expires %s, unsigned\n", out, (long long)version + 1,
               json_string_value(json_object_get(s, "expires")));
        printf(
            "sign it with %lld of the root keys of version %lld AND %lld of the root keys of "
            "version %lld\n",
            (long long)json_integer_value(json_object_get(
                json_object_get(json_object_get(json_object_get(old, "signed"), "roles"), "root"),
                "threshold")),
            (long long)version,
            (long long)json_integer_value(
                json_object_get(json_object_get(json_object_get(s, "roles"), "root"), "threshold")),
            (long long)version + 1);
        rc = IMAGO_CLI_OK;
out:
        json_decref(meta);
        json_decref(old);
        return rc;
}
