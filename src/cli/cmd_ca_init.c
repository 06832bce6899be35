/* `imago ca init --dir DIR --passphrase-file F ...` */
#include "cli.h"

#include "base/err.h"
#include "pki/pki.h"

#include <stdio.h>
#include <string.h>

#define CMD       "ca init"
#define NAMES_MAX 16

static const char usage[] =
    "usage: imago ca init --dir DIR --passphrase-file F "
    "[--factory-passphrase-file F]\n"
    "                     [--cloud-passphrase-file F] [--org NAME] "
    "[--server-name NAME ...]\n"
    "\n"
    "Creates an offline root CA and, under it, the factory CA (birth "
    "certificates),\n"
    "the issuing CA (operational device certificates) and the server CA "
    "(broker and\n"
    "API servers; name-constrained to the --server-name DNS names and "
    "addresses,\n"
    "default localhost, 127.0.0.0/8 and ::1).  Keys are P-256, encrypted under "
    "the\n"
    "passphrases (root and factory: --passphrase-file, or "
    "IMAGO_KEY_PASSPHRASE;\n"
    "factory and cloud keys under their own when given).  See docs/pki.md.\n";

int imago_cli_ca_init(int argc, char **argv)
{
        const char *dir = NULL, *org = NULL, *pfile = NULL, *ffile = NULL, *cfile = NULL, *v;
        const char *names[NAMES_MAX];
        struct imago_pki_init_opts o;
        char *root_pass = NULL, *factory_pass = NULL, *cloud_pass = NULL;
        size_t nnames = 0;
        int i, m, r, rc = IMAGO_CLI_FAIL;

        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLI_OK;
                }
                if ((m = imago_cli_opt(argc, argv, &i, CMD, "--server-name", &v))) {
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        if (nnames == NAMES_MAX)
                                return imago_cli_usage("imago " CMD, "at most %d --server-name",
                                                       NAMES_MAX);
                        names[nnames++] = v;
                        continue;
                }
                if ((m = imago_cli_opt(argc, argv, &i, CMD, "--dir", &dir)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--org", &org)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--passphrase-file", &pfile)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--factory-passphrase-file", &ffile)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--cloud-passphrase-file", &cfile))) {
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        continue;
                }
                return imago_cli_usage("imago " CMD, "unexpected argument '%s'", argv[i]);
        }
        if (dir == NULL)
                return imago_cli_usage("imago " CMD, "--dir is required");
        if ((r = imago_cli_passphrase(pfile, &root_pass)) != IMAGO_OK) {
                imago_cli_fail(CMD, pfile, r);
                goto out;
        }
        if (root_pass == NULL) {
                imago_cli_fail(CMD, NULL, IMAGO_EKEY_PASSPHRASE);
                fprintf(stderr,
                        "imago: " CMD ": CA keys are always encrypted: give --passphrase-file "
                        "or IMAGO_KEY_PASSPHRASE\n");
                goto out;
        }
        if ((ffile != NULL && (r = imago_cli_passphrase(ffile, &factory_pass)) != IMAGO_OK) ||
            (cfile != NULL && (r = imago_cli_passphrase(cfile, &cloud_pass)) != IMAGO_OK)) {
                imago_cli_fail(CMD, NULL, r);
                goto out;
        }
        if (cloud_pass == NULL)
                fprintf(stderr, "imago: " CMD ": warning: the cloud CA keys share the root "
                                "passphrase; use --cloud-passphrase-file before they leave this "
                                "machine\n");
        memset(&o, 0, sizeof(o));
        o.dir = dir;
        o.org = org;
        o.root_passphrase = root_pass;
        o.factory_passphrase = factory_pass;
        o.cloud_passphrase = cloud_pass;
        o.server_names = names;
        o.server_names_count = nnames;
        if ((r = imago_pki_init(&o)) != IMAGO_OK) {
                imago_cli_fail(CMD, dir, r);
                goto out;
        }
        printf("CA hierarchy created in %s:\n"
               "  root.crt       trust anchor (root.key: keep offline)\n"
               "  factory.crt    birth certificates (factory.key: factory station)\n"
               "  issuing.crt    operational device certificates (issuing.key: "
               "imago-cloud)\n"
               "  server-ca.crt  broker and API servers (server-ca.key: imago-cloud)\n",
               dir);
        rc = IMAGO_CLI_OK;
out:
        imago_cli_passphrase_free(root_pass);
        imago_cli_passphrase_free(factory_pass);
        imago_cli_passphrase_free(cloud_pass);
        return rc;
}
