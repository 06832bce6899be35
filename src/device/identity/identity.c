/*
 * See identity.h.  Opening an identity: the PKCS#11 and file-key backends,
 * the production policy, and signing a digest.
 */
#define _POSIX_C_SOURCE 200809L
#include "identity_priv.h"

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/wipe.h"
#include "crypto/keys_openssl.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* Room for a key URI: every attribute percent-encoded (x3) plus names. */
#define KEY_URI_MAX (IMAGO_P11_URI_MAX + 3 * IMAGO_P11_ID_MAX)

/* Append "<sep><name>=<value percent-encoded>" to buf; IMAGO_ETOOBIG if it does not fit. */
static int uri_add(char *buf, size_t cap, size_t *pos, const char *name, const uint8_t *v, size_t n)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t i, need, p = *pos;
        uint8_t c;

        need = 1 + strlen(name) + 1 + 3 * n + 1;
        if (need > cap - p)
                return IMAGO_ETOOBIG;
        buf[p] = p == 6 ? ':' : ';';
        p++;
        memcpy(buf + p, name, strlen(name));
        p += strlen(name);
        buf[p++] = '=';
        for (i = 0; i < n; i++) {
                c = v[i];
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_') {
                        buf[p++] = (char)c;
                } else {
                        buf[p++] = '%';
                        buf[p++] = hex[c >> 4];
                        buf[p++] = hex[c & 15];
                }
        }
        buf[p] = 0;
        *pos = p;
        return IMAGO_OK;
}

static int uri_add_str(char *buf, size_t cap, size_t *pos, const char *name, const char *v)
{
        return uri_add(buf, cap, pos, name, (const uint8_t *)v, strlen(v));
}

/*
 * The engine's URI for the key we found: the exact token we opened (its
 * serial, plus the label/manufacturer/model of the configured URI), the
 * key's label and/or id, type=private.  No PIN in it.
 */
static int key_uri(const struct imago_identity *id, const struct imago_p11_uri *u,
                   const char *label, char *buf, size_t cap)
{
        uint8_t serial[IMAGO_P11_SERIAL_LEN];
        size_t n = IMAGO_P11_SERIAL_LEN, pos;
        int r;

        memcpy(buf, "pkcs11", 7);
        pos = 6;
        imago_p11_token_serial(id->p11, serial);
        while (n > 0 && serial[n - 1] == ' ')
                n--;
        r = IMAGO_OK;
        if (u->has & IMAGO_P11_URI_TOKEN)
                r = uri_add_str(buf, cap, &pos, "token", u->token);
        if (r == IMAGO_OK && (u->has & IMAGO_P11_URI_MANUFACTURER))
                r = uri_add_str(buf, cap, &pos, "manufacturer", u->manufacturer);
        if (r == IMAGO_OK && (u->has & IMAGO_P11_URI_MODEL))
                r = uri_add_str(buf, cap, &pos, "model", u->model);
        if (r == IMAGO_OK && n > 0)
                r = uri_add(buf, cap, &pos, "serial", serial, n);
        if (r == IMAGO_OK && label != NULL)
                r = uri_add_str(buf, cap, &pos, "object", label);
        if (r == IMAGO_OK && (u->has & IMAGO_P11_URI_ID))
                r = uri_add(buf, cap, &pos, "id", u->id, u->id_len);
        if (r == IMAGO_OK)
                r = uri_add_str(buf, cap, &pos, "type", "private");
        return r;
}

static int open_p11(struct imago_identity *id, const struct imago_identity_config *cfg)
{
        struct imago_p11_uri u;
        char pin[IMAGO_P11_PIN_MAX + 1];
        char uri[KEY_URI_MAX];
        const char *module = cfg->module;
        const char *label = NULL;
        int r;

        memset(&u, 0, sizeof(u));
        memset(pin, 0, sizeof(pin));
        if (cfg->token_uri == NULL) {
                r = IMAGO_EINVAL;
                goto out;
        }
        r = imago_p11_uri_parse(&u, cfg->token_uri, strlen(cfg->token_uri));
        if (r != IMAGO_OK)
                goto out;
        if (module == NULL && (u.has & IMAGO_P11_URI_MODULE_PATH))
                module = u.module_path;
        if (module == NULL || ((u.has & IMAGO_P11_URI_TYPE) && u.type != IMAGO_P11_TYPE_PRIVATE &&
                               u.type != IMAGO_P11_TYPE_ANY)) {
                r = IMAGO_EINVAL;
                goto out;
        }
        r = imago_p11_uri_pin(&u, cfg->pin, pin);
        if (r != IMAGO_OK)
                goto out;
        r = imago_p11_open(module, cfg->token_uri, pin, &id->p11);
        if (r != IMAGO_OK)
                goto out;
        if (u.has & IMAGO_P11_URI_OBJECT)
                label = u.object;
        else if ((u.has & IMAGO_P11_URI_ID) == 0)
                label = IMAGO_IDENTITY_LABEL;
        r = imago_p11_ec_find(id->p11, label, (u.has & IMAGO_P11_URI_ID) ? u.id : NULL, u.id_len,
                              &id->key);
        if (r != IMAGO_OK)
                goto out;
        r = imago_p11_ec_pubkey(id->p11, &id->key, &id->pub);
        if (r != IMAGO_OK)
                goto out;
        r = key_uri(id, &u, label, uri, sizeof(uri));
        if (r != IMAGO_OK) {
                r = IMAGO_EINVAL;
                goto out;
        }
        r = imago_p11_evp_load(module, uri, pin, &id->evp);
out:
        imago_wipe(pin, sizeof(pin));
        imago_p11_uri_wipe(&u);
        return r;
}

static int open_file(struct imago_identity *id, const struct imago_identity_config *cfg)
{
        EVP_PKEY *evp;
        int r;

        if (cfg->key_path == NULL) {
                r = IMAGO_EINVAL;
                goto out;
        }
        r = imago_privkey_load(cfg->key_path, cfg->key_passphrase, &id->file);
        if (r != IMAGO_OK)
                goto out;
        if (id->file.type != IMAGO_KEY_P256) {
                r = IMAGO_EKEY_TYPE;
                goto out;
        }
        r = imago_privkey_public(&id->file, &id->pub);
        if (r != IMAGO_OK)
                goto out;
        evp = imago_privkey_evp(&id->file);
        if (evp == NULL || EVP_PKEY_up_ref(evp) != 1) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        id->evp = evp;
out:
        return r; /* on error, imago_identity_close() frees what was loaded */
}

/* The EVP_PKEY's public key must be the identity's (a wrong engine object would be caught here). */
static int evp_matches(const struct imago_identity *id)
{
        uint8_t *der = NULL;
        int n, ok;

        n = i2d_PUBKEY(id->evp, &der);
        ok = n > 0 && (size_t)n == id->pub.spki_len && memcmp(der, id->pub.spki, (size_t)n) == 0;
        OPENSSL_free(der);
        return ok;
}

int imago_identity_open(const struct imago_identity_config *cfg, struct imago_identity **out)
{
        struct imago_identity *id = NULL;
        int r;

        if (cfg == NULL || out == NULL)
                return IMAGO_EINVAL;
        *out = NULL;
        if (cfg->backend == IMAGO_IDENTITY_FILE && cfg->production) {
                r = IMAGO_EPERM;
                IMAGO_ERR_R(r, "%s", IMAGO_IDENTITY_FILE_REFUSED);
                goto out;
        }
        if (cfg->backend != IMAGO_IDENTITY_PKCS11 && cfg->backend != IMAGO_IDENTITY_FILE) {
                r = IMAGO_EINVAL;
                goto out;
        }
        id = calloc(1, sizeof(*id));
        if (id == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        id->backend = cfg->backend;
        if (cfg->backend == IMAGO_IDENTITY_PKCS11)
                r = open_p11(id, cfg);
        else
                r = open_file(id, cfg);
        if (r != IMAGO_OK) {
                IMAGO_ERR_R(r, "cannot open the %s identity",
                            cfg->backend == IMAGO_IDENTITY_PKCS11 ? "PKCS#11" : "file-key");
                goto out;
        }
        if (id->pub.type != IMAGO_KEY_P256) {
                r = IMAGO_EKEY_TYPE;
                goto out;
        }
        if (!evp_matches(id)) {
                r = IMAGO_EKEY_TYPE;
                IMAGO_ERR_R(r, "OpenSSL key does not match the identity key");
                goto out;
        }
        r = imago_pki_device_id(&id->pub, id->device_id);
        if (r != IMAGO_OK)
                goto out;
        if (cfg->backend == IMAGO_IDENTITY_FILE)
                IMAGO_WARN("device %s uses a file key: development or simulation only",
                           id->device_id);
        *out = id;
        id = NULL;
out:
        imago_identity_close(id);
        return r;
}

void imago_identity_close(struct imago_identity *id)
{
        if (id == NULL)
                return;
        EVP_PKEY_free(id->evp);
        X509_free(id->cert);
        sk_X509_pop_free(id->chain, X509_free);
        imago_privkey_free(&id->file);
        if (id->p11 != NULL)
                imago_p11_close(id->p11);
        imago_wipe(id, sizeof(*id));
        free(id);
}

enum imago_identity_backend imago_identity_backend(const struct imago_identity *id)
{
        return id->backend;
}

void imago_identity_pubkey(const struct imago_identity *id, struct imago_pubkey *out)
{
        *out = id->pub;
}

void imago_identity_device_id(const struct imago_identity *id, char out[IMAGO_DEVICE_ID_LEN + 1])
{
        memcpy(out, id->device_id, IMAGO_DEVICE_ID_LEN + 1);
}

EVP_PKEY *imago_identity_evp(const struct imago_identity *id)
{
        return id->evp;
}

int imago_identity_sign_digest(struct imago_identity *id, const uint8_t digest[IMAGO_SHA256_LEN],
                               uint8_t sig[IMAGO_SIG_MAX_LEN], size_t *sig_len)
{
        uint8_t der[IMAGO_P11_ECDSA_DER_MAX];
        size_t n = sizeof(der);
        int r;

        if (id == NULL || digest == NULL || sig == NULL || sig_len == NULL)
                return IMAGO_EINVAL;
        if (id->backend == IMAGO_IDENTITY_FILE)
                return imago_privkey_sign_digest(&id->file, digest, sig, sig_len);
        r = imago_p11_ec_sign_digest(id->p11, &id->key, digest, der, &n);
        if (r != IMAGO_OK)
                return r;
        if (n > IMAGO_SIG_MAX_LEN)
                return IMAGO_ECRYPTO;
        memcpy(sig, der, n);
        *sig_len = n;
        return IMAGO_OK;
}
