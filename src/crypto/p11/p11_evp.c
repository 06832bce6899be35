/*
 * See p11.h.  OpenSSL EVP_PKEY for a token key through the pkcs11 engine.
 * The ENGINE API is deprecated in OpenSSL 3 but is what Debian 12's
 * libengine-pkcs11-openssl provides (no pkcs11 provider package there).
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "p11_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <openssl/engine.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

static ENGINE *engine;
static char engine_module[IMAGO_P11_PATH_MAX + 1];
static pthread_mutex_t engine_lock = PTHREAD_MUTEX_INITIALIZER;

/* The process's pkcs11 engine for module, loaded and initialised once. */
static int engine_get(const char *module, ENGINE **out)
{
        ENGINE *e = NULL;
        int r;

        pthread_mutex_lock(&engine_lock);
        if (engine != NULL) {
                r = strcmp(engine_module, module) == 0 ? IMAGO_OK : IMAGO_EUNSUPPORTED;
                *out = engine;
                goto out;
        }
        if (strlen(module) > IMAGO_P11_PATH_MAX) {
                r = IMAGO_EINVAL;
                goto out;
        }
        imago_p11_keep_modules();
        ENGINE_load_dynamic();
        e = ENGINE_by_id("pkcs11");
        if (e == NULL || !ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0) || !ENGINE_init(e)) {
                IMAGO_ERR("cannot load the OpenSSL pkcs11 engine for %s", module);
                if (e != NULL)
                        ENGINE_free(e);
                r = IMAGO_EP11_MODULE;
                goto out;
        }
        memcpy(engine_module, module, strlen(module) + 1);
        engine = e;
        *out = e;
        r = IMAGO_OK;
out:
        pthread_mutex_unlock(&engine_lock);
        return r;
}

int imago_p11_evp_load(const char *module, const char *uri, const char *pin,
                       struct evp_pkey_st **out)
{
        struct imago_p11_uri u;
        EVP_PKEY *pkey;
        ENGINE *e = NULL;
        int r;

        if (module == NULL || uri == NULL || out == NULL)
                return IMAGO_EINVAL;
        r = imago_p11_uri_parse(&u, uri, strlen(uri));
        if (r != IMAGO_OK)
                return r;
        if ((u.has & (IMAGO_P11_URI_OBJECT | IMAGO_P11_URI_ID)) == 0 ||
            ((u.has & IMAGO_P11_URI_TYPE) && u.type != IMAGO_P11_TYPE_PRIVATE)) {
                r = IMAGO_EINVAL;
                goto out;
        }
        r = engine_get(module, &e);
        if (r != IMAGO_OK)
                goto out;
        pthread_mutex_lock(&engine_lock);
        if (pin != NULL && !ENGINE_ctrl_cmd_string(e, "PIN", pin, 0)) {
                pthread_mutex_unlock(&engine_lock);
                r = IMAGO_EP11_FAIL;
                goto out;
        }
        pkey = ENGINE_load_private_key(e, uri, NULL, NULL);
        pthread_mutex_unlock(&engine_lock);
        if (pkey == NULL) {
                r = IMAGO_EP11_KEY;
                goto out;
        }
        *out = pkey;
        r = IMAGO_OK;
out:
        imago_p11_uri_wipe(&u);
        return r;
}
