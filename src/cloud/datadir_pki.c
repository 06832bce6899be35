/* See datadir_priv.h: CA files copied into a data directory; broker and service certificates. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/datadir.h"
#include "cloud/datadir_priv.h"

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "crypto/keys.h"
#include "pki/pki.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#define CA_FILE_MAX (64U * 1024U)

static const char enc_hdr[] = "-----BEGIN ENCRYPTED "
                              "PRIVATE KEY-----";

static int copy_file(const char *from_dir, const char *name, const char *to_dir, mode_t mode,
                     int key)
{
        char from[PATH_MAX], to[PATH_MAX];
        uint8_t *data = NULL;
        size_t len = 0;
        int r;

        if ((r = imago_cloud_datadir_path(from, sizeof(from), from_dir, name)) != 0 ||
            (r = imago_cloud_datadir_path(to, sizeof(to), to_dir, name)) != 0)
                goto out;
        if ((r = imago_file_read(from, CA_FILE_MAX, &data, &len)) != 0) {
                IMAGO_ERR_R(r, "%s", from);
                goto out;
        }
        /* a cloud CA key must stay encrypted at rest, whatever copy it is */
        if (key && (len < sizeof(enc_hdr) - 1 || memcmp(data, enc_hdr, sizeof(enc_hdr) - 1) != 0)) {
                IMAGO_ERR("%s: CA key is not encrypted", from);
                r = IMAGO_EKEY_FORMAT;
                goto out;
        }
        if ((r = imago_file_write_atomic(to, data, len, mode)) != 0)
                IMAGO_ERR_R(r, "%s", to);
out:
        imago_file_free(data, len);
        return r;
}

int imago_cloud_datadir_copy_ca(const char *ca_dir, const char *dir)
{
        static const enum imago_pki_role certs[] = {IMAGO_PKI_ROOT, IMAGO_PKI_FACTORY,
                                                    IMAGO_PKI_ISSUING, IMAGO_PKI_SERVER_CA};
        static const enum imago_pki_role keys[] = {IMAGO_PKI_ISSUING, IMAGO_PKI_SERVER_CA};
        char to[PATH_MAX];
        size_t i;
        int r;

        if ((r = imago_cloud_datadir_path(to, sizeof(to), dir, IMAGO_CLOUD_D_CA)) != 0)
                return r;
        for (i = 0; i < sizeof(certs) / sizeof(certs[0]); i++)
                if ((r = copy_file(ca_dir, imago_pki_cert_file(certs[i]), to, 0644, 0)) != 0)
                        return r;
        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                if ((r = copy_file(ca_dir, imago_pki_key_file(keys[i]), to, 0600, 1)) != 0)
                        return r;
        return 0;
}

/* Append the PEM of cert to a memory BIO. */
static int pem_append(BIO *b, X509 *cert)
{
        return PEM_write_bio_X509(b, cert) == 1 ? 0 : IMAGO_ECRYPTO;
}

static int write_bio(BIO *b, const char *dir, const char *rel, mode_t mode)
{
        char path[PATH_MAX];
        char *p = NULL;
        long n = BIO_get_mem_data(b, &p);
        int r;

        if (n <= 0)
                return IMAGO_ECRYPTO;
        if ((r = imago_cloud_datadir_path(path, sizeof(path), dir, rel)) != 0)
                return r;
        return imago_file_write_atomic(path, p, (size_t)n, mode);
}

/* New P-256 key saved at dir/rel_key (encrypted when pass != NULL), certificate issued for it. */
static int issue_one(const struct imago_pki_ca *ca, struct imago_pki_request *req, const char *dir,
                     const char *rel_key, const char *pass, X509 **cert)
{
        struct imago_privkey key;
        struct imago_pubkey pub;
        char path[PATH_MAX];
        int r;

        memset(&key, 0, sizeof(key));
        if ((r = imago_cloud_datadir_path(path, sizeof(path), dir, rel_key)) != 0)
                goto out;
        if ((r = imago_privkey_generate(IMAGO_KEY_P256, &key)) != 0 ||
            (r = imago_privkey_public(&key, &pub)) != 0 ||
            (r = imago_privkey_save(&key, path, pass)) != 0)
                goto out;
        req->pub = &pub;
        r = imago_pki_issue(ca, req, cert);
        req->pub = NULL;
out:
        imago_privkey_free(&key);
        return r;
}

int imago_cloud_datadir_issue_api(const char *dir, const char *passphrase, const char *const *names,
                                  size_t nnames)
{
        static const char *const default_names[] = {"127.0.0.1", "localhost"};
        struct imago_pki_ca server_ca;
        struct imago_pki_request req;
        char ca_dir[PATH_MAX];
        X509 *api = NULL;
        BIO *b = NULL;
        int r;

        memset(&server_ca, 0, sizeof(server_ca));
        if ((r = imago_cloud_datadir_path(ca_dir, sizeof(ca_dir), dir, IMAGO_CLOUD_D_CA)) != 0 ||
            (r = imago_pki_ca_load(ca_dir, IMAGO_PKI_SERVER_CA, passphrase, &server_ca)) != 0)
                goto out;
        memset(&req, 0, sizeof(req));
        req.profile = IMAGO_PKI_SERVER;
        req.common_name = nnames > 0 ? names[0] : default_names[0];
        req.names = nnames > 0 ? names : default_names;
        req.names_count = nnames > 0 ? nnames : 2;
        /* unlike the broker's, this key is read by imago-cloud itself: encrypted */
        if ((r = issue_one(&server_ca, &req, dir, IMAGO_CLOUD_F_API_KEY, passphrase, &api)) != 0)
                goto out;
        if ((b = BIO_new(BIO_s_mem())) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        if ((r = pem_append(b, api)) != 0 || (r = pem_append(b, server_ca.cert)) != 0 ||
            (r = write_bio(b, dir, IMAGO_CLOUD_F_API_CRT, 0644)) != 0)
                goto out;
out:
        if (r != 0)
                IMAGO_ERR_R(r, "issuing the API certificate");
        BIO_free(b);
        X509_free(api);
        imago_pki_ca_free(&server_ca);
        return r;
}

int imago_cloud_datadir_issue(const char *dir, const struct imago_cloud_config *c,
                              const char *passphrase, const char *const *names, size_t nnames)
{
        static const char *const default_names[] = {"127.0.0.1", "localhost"};
        static const enum imago_pki_role bundle[] = {IMAGO_PKI_ROOT, IMAGO_PKI_FACTORY,
                                                     IMAGO_PKI_ISSUING, IMAGO_PKI_SERVER_CA};
        struct imago_pki_ca server_ca, issuing;
        struct imago_pki_request req;
        char ca_dir[PATH_MAX], path[PATH_MAX];
        X509 *server = NULL, *service = NULL, *other = NULL;
        BIO *b = NULL;
        size_t i;
        int r;

        memset(&server_ca, 0, sizeof(server_ca));
        memset(&issuing, 0, sizeof(issuing));
        if ((r = imago_cloud_datadir_path(ca_dir, sizeof(ca_dir), dir, IMAGO_CLOUD_D_CA)) != 0)
                goto out;
        /* both cloud CA keys must open with the passphrase the service will be given */
        if ((r = imago_pki_ca_load(ca_dir, IMAGO_PKI_ISSUING, passphrase, &issuing)) != 0 ||
            (r = imago_pki_ca_load(ca_dir, IMAGO_PKI_SERVER_CA, passphrase, &server_ca)) != 0)
                goto out;

        memset(&req, 0, sizeof(req));
        req.profile = IMAGO_PKI_SERVER;
        req.common_name = nnames > 0 ? names[0] : default_names[0];
        req.names = nnames > 0 ? names : default_names;
        req.names_count = nnames > 0 ? nnames : 2;
        if ((r = issue_one(&server_ca, &req, dir, IMAGO_CLOUD_F_SERVER_KEY, NULL, &server)) != 0)
                goto out;
        if ((b = BIO_new(BIO_s_mem())) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        if ((r = pem_append(b, server)) != 0 || (r = pem_append(b, server_ca.cert)) != 0 ||
            (r = write_bio(b, dir, IMAGO_CLOUD_F_SERVER_CRT, 0644)) != 0)
                goto out;

        memset(&req, 0, sizeof(req));
        req.profile = IMAGO_PKI_SERVICE;
        req.common_name = c->service_cn;
        if ((r = issue_one(&server_ca, &req, dir, IMAGO_CLOUD_F_SERVICE_KEY, passphrase,
                           &service)) != 0)
                goto out;
        if ((r = imago_cloud_datadir_path(path, sizeof(path), dir, IMAGO_CLOUD_F_SERVICE_CRT)) !=
                0 ||
            (r = imago_pki_cert_save(service, path)) != 0)
                goto out;

        BIO_free(b);
        if ((b = BIO_new(BIO_s_mem())) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        for (i = 0; i < sizeof(bundle) / sizeof(bundle[0]); i++) {
                char name[PATH_MAX];

                if ((r = imago_cloud_datadir_path(name, sizeof(name), ca_dir,
                                                  imago_pki_cert_file(bundle[i]))) != 0 ||
                    (r = imago_pki_cert_load(name, &other)) != 0 || (r = pem_append(b, other)) != 0)
                        goto out;
                X509_free(other);
                other = NULL;
        }
        r = write_bio(b, dir, IMAGO_CLOUD_F_CA_BUNDLE, 0644);
out:
        if (r != 0)
                IMAGO_ERR_R(r, "issuing the broker and service certificates");
        BIO_free(b);
        X509_free(server);
        X509_free(service);
        X509_free(other);
        imago_pki_ca_free(&server_ca);
        imago_pki_ca_free(&issuing);
        return r;
}
