/* `imago-sim factory`: a simulated factory batch with file keys (docs/sim.md). */
#define _POSIX_C_SOURCE 200809L
#include "sim.h"

#include "base/err.h"
#include "base/file.h"
#include "base/num.h"
#include "crypto/keys.h"
#include "factory/manifest.h"
#include "pki/pki.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/x509.h>

static int one_device(const char *out, uint32_t n, const struct imago_pki_ca *factory,
                      struct imago_manifest *m)
{
        struct imago_privkey key;
        struct imago_pubkey pub;
        struct imago_pki_request req;
        char id[IMAGO_DEVICE_ID_LEN + 1], serial[41], kp[PATH_MAX], cp[PATH_MAX];
        X509 *cert = NULL;
        unsigned char *der = NULL;
        int len, r;

        memset(&key, 0, sizeof(key));
        if ((r = sim_dev_path(out, n, ".key", kp, sizeof(kp))) != IMAGO_OK ||
            (r = sim_dev_path(out, n, ".crt", cp, sizeof(cp))) != IMAGO_OK ||
            (r = imago_privkey_generate(IMAGO_KEY_P256, &key)) != IMAGO_OK ||
            (r = imago_privkey_public(&key, &pub)) != IMAGO_OK ||
            (r = imago_pki_device_id(&pub, id)) != IMAGO_OK)
                goto out;
        memset(&req, 0, sizeof(req));
        req.profile = IMAGO_PKI_BIRTH;
        req.common_name = id;
        req.pub = &pub;
        if ((r = imago_pki_issue(factory, &req, &cert)) != IMAGO_OK ||
            (r = imago_privkey_save(&key, kp, NULL)) != IMAGO_OK ||
            (r = imago_pki_cert_save(cert, cp)) != IMAGO_OK ||
            (r = imago_pki_cert_serial(cert, serial)) != IMAGO_OK)
                goto out;
        r = IMAGO_ECRYPTO;
        if ((len = i2d_X509(cert, &der)) <= 0)
                goto out;
        r = imago_manifest_add(m, id, serial, der, (size_t)len);
out:
        OPENSSL_free(der);
        X509_free(cert);
        imago_privkey_free(&key);
        return r;
}

static int write_manifest(const char *dir, const struct imago_manifest *m,
                          const struct imago_pki_ca *factory)
{
        char path[PATH_MAX], sigpath[PATH_MAX + 8];
        char *text = NULL;
        uint8_t *sig = NULL;
        size_t len = 0, sig_len = 0;
        int r = IMAGO_ETOOBIG;

        if (snprintf(path, sizeof(path), "%s/manifest.json", dir) >= (int)sizeof(path) ||
            snprintf(sigpath, sizeof(sigpath), "%s.sig", path) >= (int)sizeof(sigpath))
                goto out;
        if ((r = imago_manifest_write(m, &text, &len)) != IMAGO_OK ||
            (r = imago_manifest_sign((uint8_t *)text, len, factory, &sig, &sig_len)) != IMAGO_OK ||
            (r = imago_file_write_atomic(sigpath, sig, sig_len, 0644)) != IMAGO_OK ||
            (r = imago_file_write_atomic(path, text, len, 0644)) != IMAGO_OK)
                goto out;
out:
        free(text);
        free(sig);
        return r;
}

int sim_factory(int argc, char **argv)
{
        const char *ca = NULL, *pfile = NULL, *count_s = NULL, *out = NULL, *batch = NULL;
        struct imago_pki_ca factory;
        struct imago_manifest m;
        char devdir[PATH_MAX], *pass = NULL;
        uint32_t count = 0;
        time_t now;
        struct tm tm;
        int r = IMAGO_OK, rc = 1;

        memset(&factory, 0, sizeof(factory));
        memset(&m, 0, sizeof(m));
        for (int i = 1; i < argc; i++) {
                const char **slot = strcmp(argv[i], "--ca") == 0                ? &ca
                                    : strcmp(argv[i], "--passphrase-file") == 0 ? &pfile
                                    : strcmp(argv[i], "--count") == 0           ? &count_s
                                    : strcmp(argv[i], "--out") == 0             ? &out
                                    : strcmp(argv[i], "--batch") == 0           ? &batch
                                                                                : NULL;
                if (slot == NULL || i + 1 >= argc || *slot != NULL) {
                        fprintf(stderr, "imago-sim factory: bad or repeated argument '%s'\n",
                                argv[i]);
                        return 2;
                }
                *slot = argv[++i];
        }
        if (ca == NULL || count_s == NULL || out == NULL ||
            imago_parse_u32(count_s, SIM_COUNT_MAX, &count) != IMAGO_OK || count == 0) {
                fprintf(stderr, "imago-sim factory: --ca, --count 1..%u and --out are required\n",
                        SIM_COUNT_MAX);
                return 2;
        }
        if (snprintf(devdir, sizeof(devdir), "%s/devices", out) >= (int)sizeof(devdir) ||
            (mkdir(out, 0755) != 0 && errno != EEXIST) || mkdir(devdir, 0700) != 0) {
                fprintf(stderr, "imago-sim factory: cannot create %s (must not exist)\n", devdir);
                goto out;
        }
        if ((r = sim_passphrase(pfile, &pass)) != IMAGO_OK ||
            (r = imago_pki_ca_load(ca, IMAGO_PKI_FACTORY, pass, &factory)) != IMAGO_OK)
                goto out;
        now = time(NULL);
        gmtime_r(&now, &tm);
        snprintf(m.batch, sizeof(m.batch), "%s", batch != NULL ? batch : "sim");
        strftime(m.created, sizeof(m.created), "%Y-%m-%dT%H:%M:%SZ", &tm);
        for (uint32_t n = 1; n <= count; n++)
                if ((r = one_device(out, n, &factory, &m)) != IMAGO_OK)
                        goto out;
        if ((r = write_manifest(out, &m, &factory)) != IMAGO_OK)
                goto out;
        printf("imago-sim: %u devices in %s/devices, manifest %s/manifest.json (batch %s)\n", count,
               out, out, m.batch);
        rc = 0;
out:
        if (r != IMAGO_OK)
                fprintf(stderr, "imago-sim factory: %s (%s)\n", imago_strerror(r),
                        imago_errname(r));
        sim_secret_free(pass);
        imago_pki_ca_free(&factory);
        imago_manifest_free(&m);
        return rc;
}
