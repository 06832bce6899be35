/* `imago factory provision --ca DIR --token URI --count N --out DIR ...` */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include "base/err.h"
#include "base/file.h"
#include "base/num.h"
#include "base/wipe.h"
#include "factory/manifest.h"
#include "factory/provision.h"
#include "pki/pki.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CMD            "factory provision"
#define DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define COUNT_MAX      10000U

static const char usage[] =
    "usage: imago factory provision --ca DIR --token URI --count N --out DIR\n"
    "           [--first K] [--batch NAME] [--module PATH] [--passphrase-file "
    "F]\n"
    "           [--pin-file F]\n"
    "\n"
    "Provisions devices K .. K+N-1 (K defaults to 1).  URI is the pkcs11: URI "
    "of a\n"
    "device's token, where {n} stands for the device number, for example\n"
    "'pkcs11:token=line1-{n}?pin-source=file:/run/pin'.  For each device: a "
    "P-256\n"
    "identity key generated inside its token, its birth certificate from the "
    "factory\n"
    "CA in DIR (key decrypted with --passphrase-file or IMAGO_KEY_PASSPHRASE), "
    "its\n"
    "secret store OUT/devices/<n>.store, and its label, printed once.  Then "
    "the\n"
    "batch manifest OUT/manifest.json and its signature "
    "OUT/manifest.json.sig.\n"
    "Module default: " DEFAULT_MODULE ".\n";

/* tmpl with every "{n}" replaced by n. */
static int expand(const char *tmpl, uint32_t n, char *out, size_t size)
{
        size_t o = 0;

        for (const char *p = tmpl; *p != '\0';) {
                if (strncmp(p, "{n}", 3) == 0) {
                        int w = snprintf(out + o, size - o, "%u", n);

                        if (w < 0 || (size_t)w >= size - o)
                                return IMAGO_ETOOBIG;
                        o += (size_t)w;
                        p += 3;
                        continue;
                }
                if (o + 1 >= size)
                        return IMAGO_ETOOBIG;
                out[o++] = *p++;
        }
        out[o] = '\0';
        return IMAGO_OK;
}

static int write_manifest(const char *dir, const struct imago_manifest *m,
                          const struct imago_pki_ca *factory)
{
        char path[PATH_MAX], sigpath[PATH_MAX + 8];
        char *text = NULL;
        uint8_t *sig = NULL;
        size_t len = 0, sig_len = 0;
        int r;

        if (snprintf(path, sizeof(path), "%s/manifest.json", dir) >= (int)sizeof(path) ||
            snprintf(sigpath, sizeof(sigpath), "%s.sig", path) >= (int)sizeof(sigpath))
                return IMAGO_EINVAL;
        if ((r = imago_manifest_write(m, &text, &len)) != IMAGO_OK ||
            (r = imago_manifest_sign((uint8_t *)text, len, factory, &sig, &sig_len)) != IMAGO_OK)
                goto out;
        /* Signature first: a manifest file never exists without its signature. */
        if ((r = imago_file_write_atomic(sigpath, sig, sig_len, 0644)) != IMAGO_OK ||
            (r = imago_file_write_atomic(path, text, len, 0644)) != IMAGO_OK)
                goto out;
        printf("manifest: %s (%zu devices, batch %s), signature %s\n", path, m->count, m->batch,
               sigpath);
out:
        free(text);
        free(sig);
        return r;
}

static void print_label(uint32_t n, const struct imago_factory_result *res)
{
        printf("device %u\n"
               "  id           %s\n"
               "  setup code   %s   (printed on the label only; not stored anywhere)\n"
               "  birth cert   sha256 %s\n"
               "  QR           %s\n",
               n, res->id, res->setup_code, res->fingerprint, res->qr);
}

int imago_cli_factory_provision(int argc, char **argv)
{
        const char *ca_dir = NULL, *tmpl = NULL, *count_s = NULL, *first_s = NULL, *out = NULL;
        const char *batch = NULL, *module = DEFAULT_MODULE, *pfile = NULL, *pinfile = NULL;
        struct imago_pki_ca factory;
        struct imago_manifest m;
        struct imago_factory_result res;
        struct imago_factory_opts o;
        char devdir[PATH_MAX], store[PATH_MAX], cert[PATH_MAX], uri[1024], mpath[PATH_MAX];
        char *pass = NULL, *pin = NULL;
        uint32_t count = 0, first = 1;
        struct tm tm;
        time_t now;
        int i, mm, r, rc = IMAGO_CLI_FAIL;

        memset(&factory, 0, sizeof(factory));
        memset(&m, 0, sizeof(m));
        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLI_OK;
                }
                if ((mm = imago_cli_opt(argc, argv, &i, CMD, "--ca", &ca_dir)) ||
                    (mm = imago_cli_opt(argc, argv, &i, CMD, "--token", &tmpl)) ||
                    (mm = imago_cli_opt(argc, argv, &i, CMD, "--count", &count_s)) ||
                    (mm = imago_cli_opt(argc, argv, &i, CMD, "--first", &first_s)) ||
                    (mm = imago_cli_opt(argc, argv, &i, CMD, "--out", &out)) ||
                    (mm = imago_cli_opt(argc, argv, &i, CMD, "--batch", &batch)) ||
                    (mm = imago_cli_opt(argc, argv, &i, CMD, "--module", &module)) ||
                    (mm = imago_cli_opt(argc, argv, &i, CMD, "--passphrase-file", &pfile)) ||
                    (mm = imago_cli_opt(argc, argv, &i, CMD, "--pin-file", &pinfile))) {
                        if (mm < 0)
                                return IMAGO_CLI_USAGE;
                        continue;
                }
                return imago_cli_usage("imago " CMD, "unexpected argument '%s'", argv[i]);
        }
        if (ca_dir == NULL || tmpl == NULL || count_s == NULL || out == NULL)
                return imago_cli_usage("imago " CMD,
                                       "--ca, --token, --count and --out are required");
        if (imago_parse_u32(count_s, COUNT_MAX, &count) != IMAGO_OK || count == 0)
                return imago_cli_usage("imago " CMD, "--count must be 1..%u", COUNT_MAX);
        if (first_s != NULL && imago_parse_u32(first_s, UINT32_MAX - COUNT_MAX, &first) != IMAGO_OK)
                return imago_cli_usage("imago " CMD, "bad --first '%s'", first_s);
        if (count > 1 && strstr(tmpl, "{n}") == NULL)
                return imago_cli_usage("imago " CMD, "--token needs {n} to name %u tokens", count);

        now = time(NULL);
        gmtime_r(&now, &tm);
        strftime(m.created, sizeof(m.created), "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (batch != NULL) {
                if (strlen(batch) >= sizeof(m.batch))
                        return imago_cli_usage("imago " CMD, "--batch is too long");
                memcpy(m.batch, batch, strlen(batch) + 1);
        } else {
                strftime(m.batch, sizeof(m.batch), "batch-%Y%m%dT%H%M%SZ", &tm);
        }
        if (snprintf(devdir, sizeof(devdir), "%s/devices", out) >= (int)sizeof(devdir) ||
            snprintf(mpath, sizeof(mpath), "%s/manifest.json", out) >= (int)sizeof(mpath))
                return imago_cli_fail(CMD, out, IMAGO_EINVAL);
        if (access(mpath, F_OK) == 0)
                return imago_cli_fail(CMD, mpath, IMAGO_EEXIST);
        if ((mkdir(out, 0700) != 0 && errno != EEXIST) ||
            (mkdir(devdir, 0700) != 0 && errno != EEXIST))
                return imago_cli_fail(CMD, out, IMAGO_EIO);

        if ((r = imago_cli_passphrase(pfile, &pass)) != IMAGO_OK) {
                imago_cli_fail(CMD, pfile, r);
                goto out;
        }
        if (pinfile != NULL && (r = imago_cli_passphrase(pinfile, &pin)) != IMAGO_OK) {
                imago_cli_fail(CMD, pinfile, r);
                goto out;
        }
        if ((r = imago_pki_ca_load(ca_dir, IMAGO_PKI_FACTORY, pass, &factory)) != IMAGO_OK) {
                imago_cli_fail(CMD, ca_dir, r);
                goto out;
        }
        for (uint32_t n = first; n < first + count; n++) {
                if ((r = expand(tmpl, n, uri, sizeof(uri))) != IMAGO_OK ||
                    snprintf(store, sizeof(store), "%s/%u.store", devdir, n) >=
                        (int)sizeof(store) ||
                    snprintf(cert, sizeof(cert), "%s/%u.crt", devdir, n) >= (int)sizeof(cert)) {
                        imago_cli_fail(CMD, out, r ? r : IMAGO_EINVAL);
                        break;
                }
                memset(&o, 0, sizeof(o));
                o.factory = &factory;
                o.module = module;
                o.token_uri = uri;
                o.pin = pin;
                o.store_path = store;
                o.cert_path = cert;
                r = imago_factory_provision(&o, &m, &res);
                if (r != IMAGO_OK) {
                        char what[64];

                        snprintf(what, sizeof(what), "device %u", n);
                        imago_cli_fail(CMD, what, r);
                        break;
                }
                print_label(n, &res);
                imago_factory_result_wipe(&res);
        }
        imago_wipe(uri, sizeof(uri));
        /* The devices provisioned so far are real: record them even after a failure.
         */
        if (m.count > 0) {
                int w = write_manifest(out, &m, &factory);

                if (w != IMAGO_OK) {
                        imago_cli_fail(CMD, mpath, w);
                        goto out;
                }
        }
        if (r == IMAGO_OK)
                rc = IMAGO_CLI_OK;
out:
        imago_manifest_free(&m);
        imago_pki_ca_free(&factory);
        imago_cli_passphrase_free(pass);
        imago_cli_passphrase_free(pin);
        return rc;
}
