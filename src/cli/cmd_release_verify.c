/* `imago release verify`: signatures against thresholds, versions, expiry; see cmd_release.h. */
#include "cmd_release.h"

#include "base/err.h"
#include "cli.h"
#include "tuf/tuf.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define CMD "release verify"

static const char usage[] =
    "usage: imago release verify --root ROOT.json [--prev-root OLD.json] META.json\n"
    "\n"
    "Checks META.json the way a client does, and prints each check:\n"
    "  ROOT.json is signed by a threshold of its own root keys, and with\n"
    "  --prev-root it is OLD's next version, signed by a threshold of OLD's root\n"
    "  keys too (a root rotation);\n"
    "  META of type targets, snapshot or timestamp: a threshold of valid\n"
    "  signatures by that role's keys in ROOT.json;\n"
    "  META of type root (other than ROOT.json itself): ROOT's next version,\n"
    "  signed by a threshold of ROOT's root keys AND of its own root keys;\n"
    "  META, and the newest root, not expired.\n"
    "Exit 0 when every check holds, 1 otherwise (the first failure is named).\n";

/* Count META's valid signatures by role's keys in root_signed; print the line. */
static int check_sigs(json_t *meta, const char *name, json_t *root_signed, const char *root_name,
                      const char *role)
{
        json_t *keys = NULL, *keyids = NULL;
        unsigned th = 0, valid = 0;
        int r;

        if ((r = imago_rel_role_keys(root_signed, role, &keys, &keyids, &th)) != IMAGO_OK)
                goto out;
        r = imago_tuf_verify_threshold(json_object_get(meta, "signed"),
                                       json_object_get(meta, "signatures"), keys, keyids, th,
                                       &valid);
        printf("  %s: %u of threshold %u valid signatures by the %s keys of %s (version %lld): "
               "%s\n",
               name, valid, th, role, root_name,
               (long long)json_integer_value(json_object_get(root_signed, "version")),
               r == IMAGO_OK ? "ok" : "FAIL");
out:
        json_decref(keys);
        json_decref(keyids);
        return r;
}

static int check_next(json_t *old, const char *old_name, json_t *next, const char *next_name)
{
        json_int_t ov =
            json_integer_value(json_object_get(json_object_get(old, "signed"), "version"));
        json_int_t nv =
            json_integer_value(json_object_get(json_object_get(next, "signed"), "version"));

        if (nv == ov + 1) {
                printf("  %s: version %lld follows %s version %lld: ok\n", next_name, (long long)nv,
                       old_name, (long long)ov);
                return IMAGO_OK;
        }
        printf("  %s: version %lld does not follow %s version %lld: FAIL\n", next_name,
               (long long)nv, old_name, (long long)ov);
        return nv <= ov ? IMAGO_ETUF_ROLLBACK : IMAGO_ETUF_CONSISTENCY;
}

static int check_expiry(json_t *meta, const char *name, int64_t now)
{
        const char *e =
            json_string_value(json_object_get(json_object_get(meta, "signed"), "expires"));
        int64_t t = 0;

        if (imago_tuf_time_parse(e, &t) != IMAGO_OK)
                return IMAGO_ETUF_FORMAT;
        printf("  %s: expires %s: %s\n", name, e, t > now ? "ok" : "EXPIRED");
        return t > now ? IMAGO_OK : IMAGO_ETUF_EXPIRED;
}

/* Keep the first error. */
static void keep(int *first, int r)
{
        if (*first == IMAGO_OK && r != IMAGO_OK)
                *first = r;
}

int imago_cli_release_verify(int argc, char **argv)
{
        const char *root_f = NULL, *prev_f = NULL, *meta_f = NULL, *type;
        json_t *root = NULL, *prev = NULL, *meta = NULL, *rs, *newest;
        int i, m, first = IMAGO_OK, rc = IMAGO_CLI_FAIL;
        int64_t now = (int64_t)time(NULL);

        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLI_OK;
                }
                if ((m = imago_cli_opt(argc, argv, &i, "imago " CMD, "--root", &root_f)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD, "--prev-root", &prev_f))) {
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        continue;
                }
                if (argv[i][0] == '-' || meta_f != NULL)
                        return imago_cli_usage("imago " CMD, "unexpected argument '%s'", argv[i]);
                meta_f = argv[i];
        }
        if (root_f == NULL || meta_f == NULL)
                return imago_cli_usage("imago " CMD, "--root and META.json are required");
        if (imago_rel_load(CMD, root_f, &root) != IMAGO_OK)
                goto out;
        if (strcmp(imago_rel_type(root), "root") != 0) {
                imago_rel_fail(CMD, root_f, IMAGO_ETUF_FORMAT, "--root: not root metadata");
                goto out;
        }
        if (prev_f != NULL) {
                if (imago_rel_load(CMD, prev_f, &prev) != IMAGO_OK)
                        goto out;
                if (strcmp(imago_rel_type(prev), "root") != 0) {
                        imago_rel_fail(CMD, prev_f, IMAGO_ETUF_FORMAT,
                                       "--prev-root: not root metadata");
                        goto out;
                }
        }
        if (imago_rel_load(CMD, meta_f, &meta) != IMAGO_OK)
                goto out;
        type = imago_rel_type(meta);
        rs = json_object_get(root, "signed");
        printf("%s: %s version %lld, expires %s\n", meta_f, type,
               (long long)json_integer_value(
                   json_object_get(json_object_get(meta, "signed"), "version")),
               json_string_value(json_object_get(json_object_get(meta, "signed"), "expires")));
        if (prev != NULL) {
                keep(&first, check_next(prev, prev_f, root, root_f));
                keep(&first,
                     check_sigs(root, root_f, json_object_get(prev, "signed"), prev_f, "root"));
        }
        keep(&first, check_sigs(root, root_f, rs, root_f, "root"));
        newest = root;
        if (strcmp(type, "root") == 0) {
                if (!json_equal(json_object_get(meta, "signed"), rs)) {
                        /* A rotation: META is ROOT's successor. */
                        keep(&first, check_next(root, root_f, meta, meta_f));
                        keep(&first, check_sigs(meta, meta_f, rs, root_f, "root"));
                        keep(&first, check_sigs(meta, meta_f, json_object_get(meta, "signed"),
                                                meta_f, "root"));
                        newest = meta;
                } else if (!json_equal(json_object_get(meta, "signatures"),
                                       json_object_get(root, "signatures"))) {
                        /* Same signed part, other signatures: count META's own. */
                        keep(&first, check_sigs(meta, meta_f, rs, root_f, "root"));
                }
        } else {
                keep(&first, check_sigs(meta, meta_f, rs, root_f, type));
                keep(&first, check_expiry(meta, meta_f, now));
        }
        keep(&first, check_expiry(newest, newest == root ? root_f : meta_f, now));
        if (first != IMAGO_OK) {
                imago_rel_fail(CMD, meta_f, first, "does not verify: %s", imago_strerror(first));
                goto out;
        }
        printf("%s: verified\n", meta_f);
        rc = IMAGO_CLI_OK;
out:
        json_decref(meta);
        json_decref(prev);
        json_decref(root);
        return rc;
}
