/* `imago-cloud import-batch --data DIR MANIFEST [--sig SIG]`: verify, then import every device. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/main/cloud_main.h"

#include "base/err.h"
#include "base/file.h"
#include "cloud/datadir.h"
#include "factory/manifest.h"
#include "pki/pki.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD     "import-batch"
#define SIG_MAX 1024U

static const char usage[] =
    "usage: imago-cloud import-batch --data DIR [--sig SIG] MANIFEST\n"
    "\n"
    "Verifies MANIFEST and its signature (SIG, default MANIFEST.sig) against\n"
    "DIR/ca/root.crt and DIR/ca/factory.crt (every birth certificate issued by the\n"
    "factory CA for its own device id), then imports all its devices in one\n"
    "transaction.  Importing the same batch again changes nothing; a device already\n"
    "known from another batch refuses the whole batch.\n";

static int load_ca(const char *data_dir, const char *rel, X509 **out)
{
        char path[PATH_MAX];
        int r;

        if ((r = imago_cloud_datadir_path(path, sizeof(path), data_dir, rel)) != 0)
                return r;
        return imago_pki_cert_load(path, out);
}

static int import(const char *data_dir, const char *file, const char *sig_file)
{
        struct imago_reg_import_item *items = NULL;
        struct imago_registry *reg = NULL;
        struct imago_cloud_config cfg;
        struct imago_manifest m;
        X509 *root = NULL, *factory = NULL;
        uint8_t *buf = NULL, *sig = NULL;
        size_t len = 0, sig_len = 0, i, added = 0, conflict = 0;
        char what[PATH_MAX + 64];
        int r, rc = IMAGO_CLOUD_EXIT_FAIL;

        memset(&m, 0, sizeof(m));
        if ((rc = imago_cloud_open(CMD, data_dir, &cfg, &reg)) != IMAGO_CLOUD_EXIT_OK)
                goto out;
        rc = IMAGO_CLOUD_EXIT_FAIL;
        if ((r = load_ca(data_dir, IMAGO_CLOUD_F_ROOT_CRT, &root)) != 0 ||
            (r = load_ca(data_dir, IMAGO_CLOUD_F_FACTORY_CRT, &factory)) != 0) {
                imago_cloud_fail(CMD, "CA certificates", r);
                goto out;
        }
        if ((r = imago_file_read(file, IMAGO_MANIFEST_MAX_BYTES, &buf, &len)) != 0) {
                imago_cloud_fail(CMD, file, r);
                goto out;
        }
        if ((r = imago_file_read(sig_file, SIG_MAX, &sig, &sig_len)) != 0) {
                imago_cloud_fail(CMD, sig_file, r);
                goto out;
        }
        if ((r = imago_manifest_parse(buf, len, &m)) != 0 ||
            (r = imago_manifest_verify(buf, len, sig, sig_len, &m, factory, root)) != 0) {
                imago_cloud_fail(CMD, file, r);
                goto out;
        }
        if (m.count > 0 && (items = calloc(m.count, sizeof(*items))) == NULL) {
                imago_cloud_fail(CMD, NULL, IMAGO_ENOMEM);
                goto out;
        }
        for (i = 0; i < m.count; i++) {
                items[i].id = m.devices[i].id;
                items[i].birth_serial = m.devices[i].serial;
        }
        r = imago_registry_import_batch(reg, m.batch, items, m.count, &added, &conflict);
        if (r != 0) {
                if ((r == IMAGO_EEXIST || r == IMAGO_EINVAL) && conflict < m.count)
                        snprintf(what, sizeof(what), "device %s", m.devices[conflict].id);
                else
                        snprintf(what, sizeof(what), "batch %s", m.batch);
                imago_cloud_fail(CMD, what, r);
                goto out;
        }
        printf("batch %s: %zu devices, %zu imported, %zu already present\n", m.batch, m.count,
               added, m.count - added);
        rc = IMAGO_CLOUD_EXIT_OK;
out:
        free(items);
        imago_manifest_free(&m);
        imago_file_free(buf, len);
        imago_file_free(sig, sig_len);
        X509_free(root);
        X509_free(factory);
        imago_registry_close(reg);
        return rc;
}

int imago_cloud_cmd_import(int argc, char **argv)
{
        const char *data_dir = NULL, *sig = NULL, *file = NULL;
        char sig_path[PATH_MAX];
        int i, m, n;

        for (i = 1; i < argc; i++) {
                if (imago_cloud_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLOUD_EXIT_OK;
                }
                if ((m = imago_cloud_opt(argc, argv, &i, CMD, "--data", &data_dir)) ||
                    (m = imago_cloud_opt(argc, argv, &i, CMD, "--sig", &sig))) {
                        if (m < 0)
                                return IMAGO_CLOUD_EXIT_USAGE;
                        continue;
                }
                if (argv[i][0] == '-' || file != NULL)
                        return imago_cloud_usage(CMD, "unexpected argument '%s'", argv[i]);
                file = argv[i];
        }
        if (data_dir == NULL || file == NULL)
                return imago_cloud_usage(CMD, "--data and MANIFEST are required");
        if (sig == NULL) {
                n = snprintf(sig_path, sizeof(sig_path), "%s.sig", file);
                if (n < 0 || (size_t)n >= sizeof(sig_path))
                        return imago_cloud_fail(CMD, file, IMAGO_EINVAL);
                sig = sig_path;
        }
        return import(data_dir, file, sig);
}
