/* See p11.h.  Module loading, token selection, session and login. */
#define _POSIX_C_SOURCE 200809L
#include "p11_priv.h"

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/wipe.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/*
 * A module is initialized once per process however many contexts use it:
 * C_Initialize with the first context, C_Finalize with the last.
 */
#define P11_LOGINS_MAX 8

/*
 * PKCS#11 login state is per application and token: a second C_Login on a
 * token this process already logged into returns CKR_USER_ALREADY_LOGGED_IN
 * without checking the PIN.  So each successful login leaves a salted hash
 * of its PIN here, and a later open of the same token must match it.
 */
struct p11_login {
        CK_SLOT_ID slot;
        int used;
        uint8_t salt[16];
        uint8_t hash[IMAGO_SHA256_LEN];
};

struct p11_lib {
        void *dl;
        CK_FUNCTION_LIST_PTR f;
        unsigned refs;
        struct p11_login logins[P11_LOGINS_MAX];
};

#define P11_LIBS_MAX 4
static struct p11_lib libs[P11_LIBS_MAX];
static pthread_mutex_t libs_lock = PTHREAD_MUTEX_INITIALIZER;

int imago_p11_rv(CK_RV rv)
{
        switch (rv) {
        case CKR_OK:
                return IMAGO_OK;
        case CKR_HOST_MEMORY:
                return IMAGO_ENOMEM;
        case CKR_PIN_INCORRECT:
        case CKR_PIN_INVALID:
        case CKR_PIN_LEN_RANGE:
                return IMAGO_EP11_PIN;
        case CKR_PIN_LOCKED:
                return IMAGO_EP11_PIN_LOCKED;
        case CKR_ENCRYPTED_DATA_INVALID:
        case CKR_ENCRYPTED_DATA_LEN_RANGE:
                return IMAGO_EP11_DECRYPT;
        case CKR_TOKEN_NOT_PRESENT:
        case CKR_TOKEN_NOT_RECOGNIZED:
        case CKR_SLOT_ID_INVALID:
                return IMAGO_EP11_TOKEN;
        default:
                return IMAGO_EP11_FAIL;
        }
}

static int lib_acquire(const char *path, struct p11_lib **out)
{
        CK_C_INITIALIZE_ARGS args;
        CK_C_GetFunctionList getfl;
        CK_FUNCTION_LIST_PTR f = NULL;
        struct p11_lib *slot = NULL;
        void *dl;
        CK_RV rv;
        int r;

        pthread_mutex_lock(&libs_lock);
        dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (dl == NULL) {
                IMAGO_ERR("cannot load PKCS#11 module %s", path);
                r = IMAGO_EP11_MODULE;
                goto out;
        }
        for (size_t i = 0; i < P11_LIBS_MAX; i++) {
                if (libs[i].refs > 0 && libs[i].dl == dl) {
                        dlclose(dl); /* drop the extra reference dlopen took */
                        libs[i].refs++;
                        *out = &libs[i];
                        r = IMAGO_OK;
                        goto out;
                }
                if (libs[i].refs == 0 && slot == NULL)
                        slot = &libs[i];
        }
        if (slot == NULL) {
                dlclose(dl);
                r = IMAGO_ENOMEM;
                goto out;
        }
        *(void **)(&getfl) = dlsym(dl, "C_GetFunctionList");
        if (getfl == NULL || getfl(&f) != CKR_OK || f == NULL) {
                dlclose(dl);
                r = IMAGO_EP11_MODULE;
                goto out;
        }
        memset(&args, 0, sizeof(args));
        args.flags = CKF_OS_LOCKING_OK;
        rv = f->C_Initialize(&args);
        if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
                IMAGO_ERR("C_Initialize failed (0x%lx)", (unsigned long)rv);
                dlclose(dl);
                r = IMAGO_EP11_MODULE;
                goto out;
        }
        slot->dl = dl;
        slot->f = f;
        slot->refs = 1;
        *out = slot;
        r = IMAGO_OK;
out:
        pthread_mutex_unlock(&libs_lock);
        return r;
}

static int keep_modules;

void imago_p11_keep_modules(void)
{
        pthread_mutex_lock(&libs_lock);
        keep_modules = 1;
        pthread_mutex_unlock(&libs_lock);
}

static void lib_release(struct p11_lib *l)
{
        pthread_mutex_lock(&libs_lock);
        if (l->refs > 0 && --l->refs == 0) {
                if (keep_modules) {
                        l->refs = 1; /* stays initialised and loaded for the engine */
                } else {
                        l->f->C_Finalize(NULL);
                        dlclose(l->dl);
                        imago_wipe(l, sizeof(*l));
                }
        }
        pthread_mutex_unlock(&libs_lock);
}

/* A blank-padded CK_TOKEN_INFO field equals the URI value. */
static int field_eq(const unsigned char *field, size_t width, const char *want)
{
        size_t n = strlen(want);

        if (n > width || memcmp(field, want, n) != 0)
                return 0;
        for (size_t i = n; i < width; i++) {
                if (field[i] != ' ')
                        return 0;
        }
        return 1;
}

static int token_matches(const CK_TOKEN_INFO *ti, const struct imago_p11_uri *u)
{
        if ((ti->flags & CKF_TOKEN_INITIALIZED) == 0)
                return 0;
        if ((u->has & IMAGO_P11_URI_TOKEN) && !field_eq(ti->label, sizeof(ti->label), u->token))
                return 0;
        if ((u->has & IMAGO_P11_URI_MANUFACTURER) &&
            !field_eq(ti->manufacturerID, sizeof(ti->manufacturerID), u->manufacturer))
                return 0;
        if ((u->has & IMAGO_P11_URI_SERIAL) &&
            !field_eq(ti->serialNumber, sizeof(ti->serialNumber), u->serial))
                return 0;
        if ((u->has & IMAGO_P11_URI_MODEL) && !field_eq(ti->model, sizeof(ti->model), u->model))
                return 0;
        return 1;
}

static int find_slot(struct imago_p11 *p, const struct imago_p11_uri *u)
{
        CK_SLOT_ID *slots = NULL;
        CK_ULONG n = 0, found = 0;
        CK_TOKEN_INFO ti;
        int r;

        if (p->f->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK) {
                r = IMAGO_EP11_FAIL;
                goto out;
        }
        if (n == 0) {
                r = IMAGO_EP11_TOKEN;
                goto out;
        }
        slots = calloc(n, sizeof(*slots));
        if (slots == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        if (p->f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK) {
                r = IMAGO_EP11_FAIL;
                goto out;
        }
        for (CK_ULONG i = 0; i < n; i++) {
                if (p->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK || !token_matches(&ti, u))
                        continue;
                if (found++ == 0) {
                        p->slot = slots[i];
                        p->info = ti;
                }
        }
        if (found != 1) {
                IMAGO_ERR("%lu tokens match the URI (want exactly one)", (unsigned long)found);
                r = IMAGO_EP11_TOKEN;
                goto out;
        }
        r = IMAGO_OK;
out:
        free(slots);
        return r;
}

static int pin_hash(const uint8_t salt[16], const char *pin, uint8_t out[IMAGO_SHA256_LEN])
{
        struct imago_sha256 h;
        int r;

        memset(&h, 0, sizeof(h));
        r = imago_sha256_init(&h);
        if (r == IMAGO_OK)
                r = imago_sha256_update(&h, salt, 16);
        if (r == IMAGO_OK)
                r = imago_sha256_update(&h, pin, strlen(pin));
        if (r == IMAGO_OK)
                return imago_sha256_final(&h, out);
        imago_sha256_abort(&h);
        return r;
}

static int login_record(struct imago_p11 *p, const char *pin)
{
        struct p11_login *slot = NULL;
        int r;

        pthread_mutex_lock(&libs_lock);
        for (size_t i = 0; i < P11_LOGINS_MAX; i++) {
                struct p11_login *l = &p->lib->logins[i];

                if ((l->used && l->slot == p->slot) || (!l->used && slot == NULL))
                        slot = l;
        }
        if (slot == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        r = imago_p11_rv(p->f->C_GenerateRandom(p->session, slot->salt, sizeof(slot->salt)));
        if (r == IMAGO_OK)
                r = pin_hash(slot->salt, pin, slot->hash);
        slot->used = r == IMAGO_OK;
        slot->slot = p->slot;
out:
        pthread_mutex_unlock(&libs_lock);
        return r;
}

static int login_check(struct imago_p11 *p, const char *pin)
{
        uint8_t h[IMAGO_SHA256_LEN];
        int r = IMAGO_EP11_PIN, known = 0;

        pthread_mutex_lock(&libs_lock);
        for (size_t i = 0; i < P11_LOGINS_MAX; i++) {
                struct p11_login *l = &p->lib->logins[i];
                uint8_t diff = 0;

                if (!l->used || l->slot != p->slot || pin_hash(l->salt, pin, h) != IMAGO_OK)
                        continue;
                for (size_t k = 0; k < sizeof(h); k++)
                        diff |= (uint8_t)(h[k] ^ l->hash[k]);
                r = diff == 0 ? IMAGO_OK : IMAGO_EP11_PIN;
                known = 1;
        }
        pthread_mutex_unlock(&libs_lock);
        if (!known) {
                /* logged in by other code in this process (the pkcs11 engine): cannot check */
                IMAGO_WARN("token already logged in outside imago_p11; PIN not checked");
                r = IMAGO_OK;
        }
        imago_wipe(h, sizeof(h));
        return r;
}

int imago_p11_open(const char *module, const char *uri, const char *pin, struct imago_p11 **out)
{
        struct imago_p11_uri u;
        struct imago_p11 *p = NULL;
        char pinbuf[IMAGO_P11_PIN_MAX + 1];
        CK_RV rv;
        int r;

        memset(pinbuf, 0, sizeof(pinbuf));
        if (uri == NULL || out == NULL)
                return IMAGO_EINVAL;
        r = imago_p11_uri_parse(&u, uri, strlen(uri));
        if (r != IMAGO_OK)
                goto out;
        if (module == NULL)
                module = (u.has & IMAGO_P11_URI_MODULE_PATH) ? u.module_path : NULL;
        if (module == NULL) {
                r = IMAGO_EINVAL;
                goto out;
        }
        p = calloc(1, sizeof(*p));
        if (p == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        r = lib_acquire(module, &p->lib);
        if (r != IMAGO_OK)
                goto out;
        p->f = p->lib->f;
        r = find_slot(p, &u);
        if (r != IMAGO_OK)
                goto out;
        rv = p->f->C_OpenSession(p->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
                                 &p->session);
        if (rv != CKR_OK) {
                r = imago_p11_rv(rv);
                goto out;
        }
        p->has_session = 1;
        /* a token that reports a locked PIN is not asked again */
        if (p->f->C_GetTokenInfo(p->slot, &p->info) == CKR_OK &&
            (p->info.flags & CKF_USER_PIN_LOCKED) != 0) {
                r = IMAGO_EP11_PIN_LOCKED;
                goto out;
        }
        r = imago_p11_uri_pin(&u, pin, pinbuf);
        if (r != IMAGO_OK)
                goto out;
        rv = p->f->C_Login(p->session, CKU_USER, (CK_UTF8CHAR_PTR)pinbuf, strlen(pinbuf));
        if (rv == CKR_USER_ALREADY_LOGGED_IN)
                r = login_check(p, pinbuf);
        else if (rv == CKR_OK)
                r = login_record(p, pinbuf);
        else
                r = imago_p11_rv(rv);
        if (r != IMAGO_OK) {
                IMAGO_ERR_R(r, "login refused");
                goto out;
        }
        *out = p;
        p = NULL;
        r = IMAGO_OK;
out:
        imago_wipe(pinbuf, sizeof(pinbuf));
        imago_p11_uri_wipe(&u);
        imago_p11_close(p);
        return r;
}

void imago_p11_close(struct imago_p11 *p)
{
        if (p == NULL)
                return;
        if (p->has_session)
                p->f->C_CloseSession(p->session);
        if (p->lib != NULL)
                lib_release(p->lib);
        imago_wipe(p, sizeof(*p));
        free(p);
}

void imago_p11_token_serial(const struct imago_p11 *p, uint8_t serial[IMAGO_P11_SERIAL_LEN])
{
        memcpy(serial, p->info.serialNumber, IMAGO_P11_SERIAL_LEN);
}

int imago_p11_random(struct imago_p11 *p, uint8_t *buf, size_t n)
{
        return imago_p11_rv(p->f->C_GenerateRandom(p->session, buf, n));
}
