/* `imago keys pub --key KEY --out PUB [--passphrase-file F]` */
#include "cli.h"

#include "base/err.h"
#include "crypto/keys.h"

#include <stdio.h>

#define CMD "keys pub"

static const char usage[] =
    "usage: imago keys pub --key KEY --out PUB [--passphrase-file F]\n"
    "\n"
    "Writes the public key of KEY (a private or public key PEM) to PUB as a\n"
    "SubjectPublicKeyInfo PEM.  An encrypted KEY needs its passphrase\n"
    "(--passphrase-file or IMAGO_KEY_PASSPHRASE).  PUB is never overwritten.\n";

int imago_cli_keys_pub(int argc, char **argv)
{
        const char *keyf = NULL, *out = NULL, *pfile = NULL;
        struct imago_privkey key = {0};
        struct imago_pubkey pub;
        char *pass = NULL;
        int i, m, r, rc = IMAGO_CLI_FAIL;

        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLI_OK;
                }
                if ((m = imago_cli_opt(argc, argv, &i, CMD, "--key", &keyf)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--out", &out)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--passphrase-file", &pfile))) {
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        continue;
                }
                return imago_cli_usage("imago " CMD, "unexpected argument '%s'", argv[i]);
        }
        if (keyf == NULL || out == NULL)
                return imago_cli_usage("imago " CMD, "--key and --out are required");
        r = imago_pubkey_load(keyf, &pub);
        if (r == IMAGO_EKEY_PASSPHRASE) {
                /* encrypted private key: decrypt it to get the public half */
                if ((r = imago_cli_passphrase(pfile, &pass)) != IMAGO_OK) {
                        imago_cli_fail(CMD, pfile, r);
                        goto out;
                }
                if ((r = imago_privkey_load(keyf, pass, &key)) == IMAGO_OK)
                        r = imago_privkey_public(&key, &pub);
        }
        if (r != IMAGO_OK) {
                imago_cli_fail(CMD, keyf, r);
                goto out;
        }
        if ((r = imago_pubkey_save(&pub, out)) != IMAGO_OK) {
                imago_cli_fail(CMD, out, r);
                goto out;
        }
        rc = IMAGO_CLI_OK;
out:
        imago_privkey_free(&key);
        imago_cli_passphrase_free(pass);
        return rc;
}
