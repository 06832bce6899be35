/* `imago ca issue --ca DIR --profile P (--key K | --csr C) --out CERT ...` */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include "base/err.h"
#include "base/file.h"
#include "base/num.h"
#include "crypto/keys.h"
#include "pki/pki.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#define CMD       "ca issue"
#define NAMES_MAX 16

static const char usage[] =
    "usage: imago ca issue --ca DIR --profile birth|device|server|service\n"
    "                      (--key KEY.pem | --csr CSR.pem) --out CERT.pem\n"
    "                      [--cn NAME] [--name DNS_OR_IP ...] [--days N] [--passphrase-file F]\n"
    "\n"
    "Issues one certificate from the CA of DIR that owns the profile: birth from the\n"
    "factory CA, device from the issuing CA, server and service from the server CA.\n"
    "The subject key comes from a PEM public key (or unencrypted private key) or from\n"
    "a CSR, whose signature is checked.  For birth and device certificates the CN is\n"
    "the device id of the key (--cn, if given, must equal it).  Server certificates\n"
    "need at least one --name.  The CA key is decrypted with --passphrase-file or\n"
    "IMAGO_KEY_PASSPHRASE.  See docs/pki.md for the profiles.\n";

static int profile_of(const char *s, enum imago_pki_profile *p, enum imago_pki_role *role)
{
        static const struct {
                const char *name;
                enum imago_pki_profile profile;
                enum imago_pki_role role;
        } map[] = {
            {"birth", IMAGO_PKI_BIRTH, IMAGO_PKI_FACTORY},
            {"device", IMAGO_PKI_DEVICE, IMAGO_PKI_ISSUING},
            {"server", IMAGO_PKI_SERVER, IMAGO_PKI_SERVER_CA},
            {"service", IMAGO_PKI_SERVICE, IMAGO_PKI_SERVER_CA},
        };

        for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
                if (strcmp(s, map[i].name) == 0) {
                        *p = map[i].profile;
                        *role = map[i].role;
                        return IMAGO_OK;
                }
        }
        return IMAGO_EINVAL;
}

/* Public key and CN of a CSR whose signature verifies. */
static int load_csr(const char *path, struct imago_pubkey *pub, char *cn, size_t cn_size)
{
        uint8_t *data = NULL;
        size_t len = 0;
        BIO *bio = NULL;
        X509_REQ *req = NULL;
        EVP_PKEY *key;
        unsigned char *spki = NULL;
        int n, r;

        if ((r = imago_file_read(path, 64 * 1024, &data, &len)) != IMAGO_OK)
                return r;
        r = IMAGO_EMALFORMED;
        if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL ||
            (req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL)) == NULL)
                goto out;
        key = X509_REQ_get0_pubkey(req);
        if (key == NULL || X509_REQ_verify(req, key) != 1) {
                r = IMAGO_EIMG_SIG_BAD;
                goto out;
        }
        n = i2d_PUBKEY(key, &spki);
        if (n <= 0 || (r = imago_pubkey_from_spki(pub, spki, (size_t)n)) != IMAGO_OK)
                goto out;
        cn[0] = '\0';
        n = X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn,
                                      (int)cn_size);
        if (n >= (int)cn_size - 1)
                cn[0] = '\0';
        r = IMAGO_OK;
out:
        OPENSSL_free(spki);
        X509_REQ_free(req);
        BIO_free(bio);
        imago_file_free(data, len);
        return r;
}

int imago_cli_ca_issue(int argc, char **argv)
{
        const char *dir = NULL, *profile_s = NULL, *key = NULL, *csr = NULL, *out = NULL;
        const char *cn = NULL, *days_s = NULL, *pfile = NULL, *v;
        const char *names[NAMES_MAX];
        char csr_cn[128], id[IMAGO_DEVICE_ID_LEN + 1], serial[41];
        struct imago_pki_request req;
        struct imago_pki_ca ca;
        struct imago_pubkey pub;
        enum imago_pki_profile profile;
        enum imago_pki_role role;
        uint32_t days = 0;
        size_t nnames = 0;
        char *pass = NULL;
        X509 *cert = NULL;
        int i, m, r, rc = IMAGO_CLI_FAIL;

        memset(&ca, 0, sizeof(ca));
        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLI_OK;
                }
                if ((m = imago_cli_opt(argc, argv, &i, CMD, "--name", &v))) {
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        if (nnames == NAMES_MAX)
                                return imago_cli_usage("imago " CMD, "at most %d --name",
                                                       NAMES_MAX);
                        names[nnames++] = v;
                        continue;
                }
                if ((m = imago_cli_opt(argc, argv, &i, CMD, "--ca", &dir)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--profile", &profile_s)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--key", &key)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--csr", &csr)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--out", &out)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--cn", &cn)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--days", &days_s)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--passphrase-file", &pfile))) {
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        continue;
                }
                return imago_cli_usage("imago " CMD, "unexpected argument '%s'", argv[i]);
        }
        if (dir == NULL || profile_s == NULL || out == NULL || (key == NULL) == (csr == NULL))
                return imago_cli_usage(
                    "imago " CMD, "--ca, --profile, --out and one of --key or --csr are required");
        if (profile_of(profile_s, &profile, &role) != IMAGO_OK)
                return imago_cli_usage("imago " CMD, "unknown profile '%s'", profile_s);
        if (days_s != NULL && imago_parse_u32(days_s, 3650, &days) != IMAGO_OK)
                return imago_cli_usage("imago " CMD, "--days must be 1..3650");
        if (access(out, F_OK) == 0)
                return imago_cli_fail(CMD, out, IMAGO_EEXIST);

        if (key != NULL)
                r = imago_pubkey_load(key, &pub);
        else
                r = load_csr(csr, &pub, csr_cn, sizeof(csr_cn));
        if (r != IMAGO_OK) {
                imago_cli_fail(CMD, key != NULL ? key : csr, r);
                goto out;
        }
        if (cn == NULL && csr != NULL && csr_cn[0] != '\0')
                cn = csr_cn;
        if (profile == IMAGO_PKI_BIRTH || profile == IMAGO_PKI_DEVICE) {
                if ((r = imago_pki_device_id(&pub, id)) != IMAGO_OK) {
                        imago_cli_fail(CMD, NULL, r);
                        goto out;
                }
                if (cn == NULL)
                        cn = id;
        }
        if (cn == NULL) {
                rc =
                    imago_cli_usage("imago " CMD, "--cn is required for the %s profile", profile_s);
                goto out;
        }
        if ((r = imago_cli_passphrase(pfile, &pass)) != IMAGO_OK) {
                imago_cli_fail(CMD, pfile, r);
                goto out;
        }
        if ((r = imago_pki_ca_load(dir, role, pass, &ca)) != IMAGO_OK) {
                imago_cli_fail(CMD, dir, r);
                goto out;
        }
        memset(&req, 0, sizeof(req));
        req.profile = profile;
        req.common_name = cn;
        req.pub = &pub;
        req.names = names;
        req.names_count = nnames;
        req.days = days;
        if ((r = imago_pki_issue(&ca, &req, &cert)) != IMAGO_OK ||
            (r = imago_pki_cert_save(cert, out)) != IMAGO_OK ||
            (r = imago_pki_cert_serial(cert, serial)) != IMAGO_OK) {
                imago_cli_fail(CMD, out, r);
                goto out;
        }
        printf("%s certificate %s: CN=%s, serial %s\n", profile_s, out, cn, serial);
        rc = IMAGO_CLI_OK;
out:
        X509_free(cert);
        imago_pki_ca_free(&ca);
        imago_cli_passphrase_free(pass);
        return rc;
}
