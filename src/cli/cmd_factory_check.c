/* `imago factory check --ca-certs DIR MANIFEST` */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include "base/err.h"
#include "base/file.h"
#include "factory/manifest.h"
#include "pki/pki.h"

#include <limits.h>
#include <stdio.h>

#define CMD "factory check"

static const char usage[] = "usage: imago factory check --ca-certs DIR MANIFEST\n"
                            "\n"
                            "Verifies MANIFEST and MANIFEST.sig: the factory CA's signature "
                            "(DIR/factory.crt,\n"
                            "which must chain to DIR/root.crt), and that every device's birth "
                            "certificate\n"
                            "was issued by that CA to the device id it is listed under.  No key is "
                            "needed.\n";

int imago_cli_factory_check(int argc, char **argv)
{
        const char *dir = NULL, *file = NULL;
        char path[PATH_MAX], sigpath[PATH_MAX + 8];
        uint8_t *data = NULL, *sig = NULL;
        size_t len = 0, sig_len = 0;
        struct imago_manifest m = {0};
        X509 *root = NULL, *factory = NULL;
        const char *where;
        int i, mm, r = IMAGO_EINVAL;

        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLI_OK;
                }
                if ((mm = imago_cli_opt(argc, argv, &i, CMD, "--ca-certs", &dir))) {
                        if (mm < 0)
                                return IMAGO_CLI_USAGE;
                        continue;
                }
                if (argv[i][0] == '-' || file != NULL)
                        return imago_cli_usage("imago " CMD, "unexpected argument '%s'", argv[i]);
                file = argv[i];
        }
        if (dir == NULL || file == NULL)
                return imago_cli_usage("imago " CMD, "--ca-certs and MANIFEST are required");
        where = dir;
        if (snprintf(path, sizeof(path), "%s/root.crt", dir) >= (int)sizeof(path) ||
            (r = imago_pki_cert_load(path, &root)) != IMAGO_OK)
                goto out;
        if (snprintf(path, sizeof(path), "%s/factory.crt", dir) >= (int)sizeof(path) ||
            (r = imago_pki_cert_load(path, &factory)) != IMAGO_OK)
                goto out;
        where = file;
        if ((r = imago_file_read(file, IMAGO_MANIFEST_MAX_BYTES, &data, &len)) != IMAGO_OK)
                goto out;
        snprintf(sigpath, sizeof(sigpath), "%s.sig", file);
        where = sigpath;
        if ((r = imago_file_read(sigpath, 1024, &sig, &sig_len)) != IMAGO_OK)
                goto out;
        where = file;
        if ((r = imago_manifest_parse(data, len, &m)) != IMAGO_OK ||
            (r = imago_manifest_verify(data, len, sig, sig_len, &m, factory, root)) != IMAGO_OK)
                goto out;
        printf("OK %s: batch %s, created %s, %zu devices, signed by the factory CA\n", file,
               m.batch, m.created, m.count);
out:
        imago_manifest_free(&m);
        imago_file_free(data, len);
        imago_file_free(sig, sig_len);
        X509_free(root);
        X509_free(factory);
        return r == IMAGO_OK ? IMAGO_CLI_OK : imago_cli_fail(CMD, where, r);
}
