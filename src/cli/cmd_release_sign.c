/* `imago release sign`: one holder's detached signature; see cmd_release.h. */
#include "cmd_release.h"

#include "base/err.h"
#include "cli.h"
#include "crypto/keys.h"
#include "tuf/tuf.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define CMD "release sign"

static const char usage[] =
    "usage: imago release sign --key PRIVATE.key [--passphrase-file F] --in META.json\n"
    "           --out SIG.json [--force]\n"
    "\n"
    "Signs the canonical JSON of META's \"signed\" part with one private key and\n"
    "writes the detached signature {\"keyid\": ..., \"sig\": ...} to SIG.json.  Each\n"
    "key holder runs this on their own machine: only META.json goes there and\n"
    "only SIG.json comes back; the private key never leaves it.  Before signing,\n"
    "compare the printed digest of the signed part with the release manager's\n"
    "(over a second channel).  An encrypted key takes its passphrase from\n"
    "--passphrase-file or else IMAGO_KEY_PASSPHRASE.  SIG.json is never\n"
    "replaced unless --force.\n";

/* Which roles of a root document list keyid (for the information line). */
static void print_roles(json_t *root_signed, const char *keyid)
{
        json_t *ids, *id;
        size_t i, j;
        int any = 0;

        for (i = 0; i < 4; i++) {
                ids = json_object_get(
                    json_object_get(json_object_get(root_signed, "roles"), imago_rel_roles[i]),
                    "keyids");
                json_array_foreach(ids, j, id)
                {
                        if (strcmp(json_string_value(id), keyid) == 0) {
                                printf("%s%s", any ? ", " : " (this root's ", imago_rel_roles[i]);
                                any = 1;
                        }
                }
        }
        printf("%s", any ? " key)" : " (not a key of this root: a key of the previous root?)");
}

int imago_cli_release_sign(int argc, char **argv)
{
        const char *keyfile = NULL, *pfile = NULL, *in = NULL, *out = NULL;
        struct imago_privkey key = {0};
        json_t *meta = NULL, *sig = NULL, *s;
        char digest[65];
        char *pass = NULL;
        int i, m, force = 0, r, rc = IMAGO_CLI_FAIL;
        int64_t exp = 0;

        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLI_OK;
                }
                if (strcmp(argv[i], "--force") == 0) {
                        force = 1;
                        continue;
                }
                if ((m = imago_cli_opt(argc, argv, &i, "imago " CMD, "--key", &keyfile)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD, "--passphrase-file",
                                       &pfile)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD, "--in", &in)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago " CMD, "--out", &out))) {
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        continue;
                }
                return imago_cli_usage("imago " CMD, "unexpected argument '%s'", argv[i]);
        }
        if (keyfile == NULL || in == NULL || out == NULL)
                return imago_cli_usage("imago " CMD, "--key, --in and --out are required");
        if (imago_rel_load(CMD, in, &meta) != IMAGO_OK)
                goto out;
        s = json_object_get(meta, "signed");
        if ((r = imago_rel_digest(s, digest)) != IMAGO_OK) {
                imago_cli_fail(CMD, in, r);
                goto out;
        }
        if ((r = imago_cli_passphrase(pfile, &pass)) != IMAGO_OK) {
                imago_cli_fail(CMD, pfile, r);
                goto out;
        }
        if ((r = imago_privkey_load(keyfile, pass, &key)) != IMAGO_OK) {
                imago_cli_fail(CMD, keyfile, r);
                goto out;
        }
        if ((r = imago_tuf_sign(&key, s, &sig)) != IMAGO_OK) {
                imago_cli_fail(CMD, keyfile, r);
                goto out;
        }
        if (imago_rel_write(CMD, out, sig, force) != IMAGO_OK)
                goto out;
        printf("%s: %s version %lld, expires %s\n", in, imago_rel_type(meta),
               (long long)json_integer_value(json_object_get(s, "version")),
               json_string_value(json_object_get(s, "expires")));
        printf("  signed part sha256 %s\n", digest);
        if (imago_tuf_time_parse(json_string_value(json_object_get(s, "expires")), &exp) ==
                IMAGO_OK &&
            exp <= (int64_t)time(NULL))
                fprintf(stderr, "imago: " CMD ": warning: %s has expired: clients will refuse it\n",
                        in);
        printf("%s: signature by key %s", out, json_string_value(json_object_get(sig, "keyid")));
        if (strcmp(imago_rel_type(meta), "root") == 0)
                print_roles(s, json_string_value(json_object_get(sig, "keyid")));
        printf("\n");
        rc = IMAGO_CLI_OK;
out:
        imago_privkey_free(&key);
        imago_cli_passphrase_free(pass);
        json_decref(sig);
        json_decref(meta);
        return rc;
}
