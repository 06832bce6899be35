/* See provision.h. */
#include "provision.h"

#include "base/err.h"
#include "base/log.h"
#include "base/wipe.h"
#include "crypto/p11/p11.h"
#include "device/store/store.h"

#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

/* Issue, record and store everything for a device whose key is in tok. */
static int enrol(const struct imago_factory_opts *o, struct imago_p11 *tok,
                 const struct imago_pubkey *pub, struct imago_manifest *m,
                 struct imago_factory_result *res)
{
        struct imago_pki_request req;
        struct imago_store *st = NULL;
        unsigned char *der = NULL;
        char hash[IMAGO_SETUP_HASH_MAX + 1];
        uint8_t raw[7];
        X509 *cert = NULL;
        int n, r;

        memset(&req, 0, sizeof(req));
        req.profile = IMAGO_PKI_BIRTH;
        req.common_name = res->id;
        req.pub = pub;
        if ((r = imago_pki_issue(o->factory, &req, &cert)) != IMAGO_OK)
                goto out;
        if ((r = imago_pki_cert_serial(cert, res->serial)) != IMAGO_OK ||
            (r = imago_pki_cert_fingerprint(cert, res->fingerprint)) != IMAGO_OK)
                goto out;
        n = i2d_X509(cert, &der);
        if (n <= 0) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        /* The setup code comes from the device's own token RNG. */
        if ((r = imago_p11_random(tok, raw, sizeof(raw))) != IMAGO_OK ||
            (r = imago_setup_code_format(raw, res->setup_code)) != IMAGO_OK ||
            (r = imago_setup_code_hash(res->setup_code, hash)) != IMAGO_OK)
                goto out;
        snprintf(res->qr, sizeof(res->qr), "IMAGO:1:%s:%s:%s", res->id, res->setup_code,
                 res->fingerprint);

        if ((r = imago_store_create(o->store_path, tok, imago_store_posix_ops())) != IMAGO_OK)
                goto out;
        if ((r = imago_store_open(o->store_path, tok, imago_store_posix_ops(), &st)) != IMAGO_OK)
                goto out;
        if ((r = imago_store_put(st, IMAGO_REC_BIRTH_CERT, IMAGO_STORE_CERT, der, (size_t)n)) !=
                IMAGO_OK ||
            (r = imago_store_put(st, IMAGO_REC_DEVICE_ID, IMAGO_STORE_CONFIG,
                                 (const uint8_t *)res->id, strlen(res->id))) != IMAGO_OK ||
            (r = imago_store_put(st, IMAGO_REC_SETUP_CODE_HASH, IMAGO_STORE_CONFIG,
                                 (const uint8_t *)hash, strlen(hash))) != IMAGO_OK)
                goto out;
        if (o->cert_path != NULL && (r = imago_pki_cert_save(cert, o->cert_path)) != IMAGO_OK)
                goto out;
        r = imago_manifest_add(m, res->id, res->serial, der, (size_t)n);
out:
        if (st != NULL)
                imago_store_close(st);
        imago_wipe(raw, sizeof(raw));
        imago_wipe(hash, sizeof(hash));
        OPENSSL_free(der);
        X509_free(cert);
        return r;
}

int imago_factory_provision(const struct imago_factory_opts *o, struct imago_manifest *m,
                            struct imago_factory_result *res)
{
        struct imago_p11 *tok = NULL;
        struct imago_p11_key key;
        struct imago_pubkey pub;
        uint8_t key_id[16];
        int r, created = 0;

        if (o == NULL || o->factory == NULL || o->token_uri == NULL || o->store_path == NULL ||
            m == NULL || res == NULL)
                return IMAGO_EINVAL;
        memset(res, 0, sizeof(*res));
        if ((r = imago_p11_open(o->module, o->token_uri, o->pin, &tok)) != IMAGO_OK)
                return r;
        /* A device is provisioned once: an existing identity means a reused token. */
        r = imago_p11_ec_find(tok, IMAGO_IDENTITY_LABEL, NULL, 0, &key);
        if (r == IMAGO_OK) {
                r = IMAGO_EEXIST;
                goto out;
        }
        if (r != IMAGO_EP11_KEY)
                goto out;
        if ((r = imago_p11_random(tok, key_id, sizeof(key_id))) != IMAGO_OK ||
            (r = imago_p11_ec_generate(tok, IMAGO_IDENTITY_LABEL, key_id, sizeof(key_id), &key)) !=
                IMAGO_OK)
                goto out;
        created = 1;
        if ((r = imago_p11_ec_pubkey(tok, &key, &pub)) != IMAGO_OK ||
            (r = imago_pki_device_id(&pub, res->id)) != IMAGO_OK)
                goto out;
        r = enrol(o, tok, &pub, m, res);
out:
        if (r != IMAGO_OK && created) {
                /* Leave the token as it came: no half-provisioned identity. */
                imago_p11_destroy(tok, IMAGO_P11_TYPE_PRIVATE, IMAGO_IDENTITY_LABEL);
                imago_p11_destroy(tok, IMAGO_P11_TYPE_PUBLIC, IMAGO_IDENTITY_LABEL);
        }
        if (r != IMAGO_OK)
                imago_factory_result_wipe(res);
        imago_p11_close(tok);
        return r;
}

void imago_factory_result_wipe(struct imago_factory_result *res)
{
        imago_wipe(res, sizeof(*res));
}
