/* `imago keys gen --type ed25519|p256 --out KEY [--passphrase-file F]` */
#include "cli.h"

#include "base/err.h"
#include "crypto/keys.h"

#include <stdio.h>
#include <unistd.h>

#define CMD "keys gen"

static const char usage[] =
    "usage: imago keys gen --type ed25519|p256 --out KEY [--passphrase-file F]\n"
    "\n"
    "Writes the private key KEY (PKCS#8 PEM, mode 0600) and its public key\n"
    "KEY.pub (SubjectPublicKeyInfo PEM).  With --passphrase-file, or else the\n"
    "environment variable IMAGO_KEY_PASSPHRASE, KEY is encrypted (PBES2,\n"
    "scrypt + AES-256-CBC).  Existing files are never overwritten.\n";

int imago_cli_keys_gen(int argc, char **argv)
{
        const char *type_s = NULL, *out = NULL, *pfile = NULL;
        struct imago_privkey key = {0};
        struct imago_pubkey pub;
        enum imago_key_type type;
        char pubpath[4096];
        char *pass = NULL;
        int i, m, n, r, rc = IMAGO_CLI_FAIL;

        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLI_OK;
                }
                if ((m = imago_cli_opt(argc, argv, &i, CMD, "--type", &type_s)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--out", &out)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--passphrase-file", &pfile))) {
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        continue;
                }
                return imago_cli_usage("imago " CMD, "unexpected argument '%s'", argv[i]);
        }
        if (type_s == NULL || out == NULL)
                return imago_cli_usage("imago " CMD, "--type and --out are required");
        if (imago_key_type_from_name(type_s, &type) != IMAGO_OK)
                return imago_cli_usage("imago " CMD, "unknown key type '%s'", type_s);
        n = snprintf(pubpath, sizeof(pubpath), "%s.pub", out);
        if (n < 0 || (size_t)n >= sizeof(pubpath))
                return imago_cli_fail(CMD, out, IMAGO_EINVAL);
        if (access(out, F_OK) == 0)
                return imago_cli_fail(CMD, out, IMAGO_EEXIST);
        if (access(pubpath, F_OK) == 0)
                return imago_cli_fail(CMD, pubpath, IMAGO_EEXIST);
        if ((r = imago_cli_passphrase(pfile, &pass)) != IMAGO_OK) {
                imago_cli_fail(CMD, pfile, r);
                goto out;
        }
        if ((r = imago_privkey_generate(type, &key)) != IMAGO_OK ||
            (r = imago_privkey_public(&key, &pub)) != IMAGO_OK) {
                imago_cli_fail(CMD, NULL, r);
                goto out;
        }
        if ((r = imago_privkey_save(&key, out, pass)) != IMAGO_OK) {
                imago_cli_fail(CMD, out, r);
                goto out;
        }
        if ((r = imago_pubkey_save(&pub, pubpath)) != IMAGO_OK) {
                imago_cli_fail(CMD, pubpath, r);
                goto out;
        }
        printf("%s key %s%s, public key %s\n", imago_key_type_name(type), out,
               pass != NULL ? " (encrypted)" : "", pubpath);
        rc = IMAGO_CLI_OK;
out:
        imago_privkey_free(&key);
        imago_cli_passphrase_free(pass);
        return rc;
}
