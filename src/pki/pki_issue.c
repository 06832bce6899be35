/* CA loading and leaf certificate profiles; see pki.h and docs/pki.md. */
#define _POSIX_C_SOURCE 200809L
#include "pki.h"
#include "pki_priv.h"

#include "base/err.h"
#include "crypto/keys_openssl.h"

#include <limits.h>
#include <string.h>

#include <openssl/x509v3.h>

#define DEVICE_DAYS_DEFAULT  90U
#define SERVER_DAYS_DEFAULT  397U
#define SERVICE_DAYS_DEFAULT 397U
#define LEAF_DAYS_MAX        3650U

int imago_pki_ca_load(const char *dir, enum imago_pki_role role, const char *passphrase,
                      struct imago_pki_ca *ca)
{
        char path[PATH_MAX];
        struct imago_pubkey pub;
        EVP_PKEY *cert_key;
        int r;

        if (dir == NULL || ca == NULL || imago_pki_cert_file(role) == NULL)
                return IMAGO_EINVAL;
        memset(ca, 0, sizeof(*ca));
        ca->role = role;
        if ((r = pki_path(path, sizeof(path), dir, imago_pki_cert_file(role))) != IMAGO_OK ||
            (r = imago_pki_cert_load(path, &ca->cert)) != IMAGO_OK)
                goto out;
        if ((r = pki_path(path, sizeof(path), dir, imago_pki_key_file(role))) != IMAGO_OK ||
            (r = imago_privkey_load(path, passphrase, &ca->key)) != IMAGO_OK)
                goto out;
        /* The key must be the certificate's. */
        cert_key = X509_get0_pubkey(ca->cert);
        if ((r = imago_privkey_public(&ca->key, &pub)) != IMAGO_OK)
                goto out;
        if (cert_key == NULL || EVP_PKEY_eq(cert_key, imago_privkey_evp(&ca->key)) != 1) {
                r = IMAGO_EKEY_TYPE;
                goto out;
        }
        r = IMAGO_OK;
out:
        if (r != IMAGO_OK)
                imago_pki_ca_free(ca);
        return r;
}

void imago_pki_ca_free(struct imago_pki_ca *ca)
{
        if (ca == NULL)
                return;
        X509_free(ca->cert);
        ca->cert = NULL;
        imago_privkey_free(&ca->key);
}

static int profile_allowed(enum imago_pki_role role, enum imago_pki_profile profile)
{
        switch (profile) {
        case IMAGO_PKI_BIRTH:
                return role == IMAGO_PKI_FACTORY;
        case IMAGO_PKI_DEVICE:
                return role == IMAGO_PKI_ISSUING;
        case IMAGO_PKI_SERVER:
        case IMAGO_PKI_SERVICE:
                return role == IMAGO_PKI_SERVER_CA;
        }
        return 0;
}

int imago_pki_issue(const struct imago_pki_ca *ca, const struct imago_pki_request *req, X509 **out)
{
        struct pki_cert_spec spec;
        char org[128];
        char san[2048];
        EVP_PKEY *subject = NULL;
        const unsigned char *p;
        uint32_t days;
        int r;

        if (ca == NULL || ca->cert == NULL || req == NULL || out == NULL || req->pub == NULL ||
            req->common_name == NULL)
                return IMAGO_EINVAL;
        if (!profile_allowed(ca->role, req->profile))
                return IMAGO_EPKI_PROFILE;
        if ((req->profile == IMAGO_PKI_BIRTH || req->profile == IMAGO_PKI_DEVICE)) {
                char id[IMAGO_DEVICE_ID_LEN + 1];

                /* A device certificate names exactly the key it certifies. */
                if (!imago_device_id_valid(req->common_name))
                        return IMAGO_EPKI_NAME;
                if ((r = imago_pki_device_id(req->pub, id)) != IMAGO_OK)
                        return r;
                if (strcmp(id, req->common_name) != 0)
                        return IMAGO_EPKI_NAME;
        }
        if (req->days > LEAF_DAYS_MAX)
                return IMAGO_ERANGE;
        if ((r = pki_cert_org(ca->cert, org, sizeof(org))) != IMAGO_OK)
                return r;
        p = req->pub->spki;
        subject = d2i_PUBKEY(NULL, &p, (long)req->pub->spki_len);
        if (subject == NULL)
                return IMAGO_EKEY_FORMAT;

        memset(&spec, 0, sizeof(spec));
        spec.org = org;
        spec.cn = req->common_name;
        spec.subject_key = subject;
        spec.issuer = ca->cert;
        spec.issuer_key = imago_privkey_evp(&ca->key);
        spec.basic = "critical,CA:FALSE";
        spec.key_usage = "critical,digitalSignature";
        switch (req->profile) {
        case IMAGO_PKI_BIRTH:
                spec.ou = "birth";
                spec.ext_key_usage = "clientAuth";
                spec.days = 0;
                break;
        case IMAGO_PKI_DEVICE:
                days = req->days ? req->days : DEVICE_DAYS_DEFAULT;
                spec.ou = "device";
                spec.ext_key_usage = "clientAuth";
                spec.days = (long)days;
                break;
        case IMAGO_PKI_SERVER:
                days = req->days ? req->days : SERVER_DAYS_DEFAULT;
                spec.ou = "server";
                spec.ext_key_usage = "serverAuth";
                spec.days = (long)days;
                if (req->names_count == 0) {
                        r = IMAGO_EPKI_NAME;
                        goto out;
                }
                if ((r = pki_names_value(req->names, req->names_count, "", san, sizeof(san))) !=
                    IMAGO_OK)
                        goto out;
                spec.san = san;
                break;
        case IMAGO_PKI_SERVICE:
                days = req->days ? req->days : SERVICE_DAYS_DEFAULT;
                spec.ou = "service";
                spec.ext_key_usage = "clientAuth";
                spec.days = (long)days;
                break;
        }
        r = pki_cert_build(&spec, out);
out:
        EVP_PKEY_free(subject);
        return r;
}
