/* imago_regtoken: the cloud's registration key, a P-256 JWK file (see regtoken.h). */
#define _POSIX_C_SOURCE 200809L
#include "regtoken/regtoken.h"

#include "base/err.h"
#include "base/file.h"
#include "base/wipe.h"
#include "json/json.h"

#include <cjose/cjose.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int imago_regtoken_key_generate(struct imago_regtoken_key *key)
{
        cjose_err e;

        if (key == NULL)
                return IMAGO_EINVAL;
        key->pkey = NULL;
        key->jwk = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &e);
        if (key->jwk == NULL || imago_regtoken_key_pkey(key) != 0) {
                imago_regtoken_key_free(key);
                return IMAGO_ECRYPTO;
        }
        return 0;
}

void imago_regtoken_key_free(struct imago_regtoken_key *key)
{
        if (key == NULL)
                return;
        if (key->jwk != NULL)
                cjose_jwk_release(key->jwk);
        EVP_PKEY_free(key->pkey);
        key->jwk = NULL;
        key->pkey = NULL;
}

int imago_regtoken_key_save(const struct imago_regtoken_key *key, const char *path)
{
        char *json = NULL;
        cjose_err e;
        int r = IMAGO_EINVAL;

        if (key == NULL || key->jwk == NULL || path == NULL)
                goto out;
        r = IMAGO_ECRYPTO;
        if ((json = cjose_jwk_to_json(key->jwk, true, &e)) == NULL)
                goto out;
        r = imago_file_write_new(path, json, strlen(json), 0600);
out:
        if (json != NULL) {
                imago_wipe(json, strlen(json));
                cjose_get_dealloc()(json);
        }
        return r;
}

/* Read a regular file only the owner can read, at most max bytes, without following links. */
static int regtoken_read_private(const char *path, char *buf, size_t max, size_t *len)
{
        struct stat st;
        ssize_t n;
        size_t got = 0;
        int fd, r = IMAGO_EIO;

        if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
                return errno == ENOENT ? IMAGO_ENOTFOUND : IMAGO_EIO;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
                goto out;
        r = IMAGO_EKEY_PERM;
        if ((st.st_mode & 077) != 0)
                goto out;
        r = IMAGO_ETOOBIG;
        if (st.st_size < 0 || (size_t)st.st_size > max)
                goto out;
        r = IMAGO_EIO;
        while (got < max) {
                n = read(fd, buf + got, max - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        goto out;
                if (n == 0)
                        break;
                got += (size_t)n;
        }
        r = IMAGO_ETOOBIG;
        if (got == max)
                goto out;
        *len = got;
        r = 0;
out:
        close(fd);
        return r;
}

int imago_regtoken_key_load(const char *path, struct imago_regtoken_key *key)
{
        static const char *const keys[] = {"kty", "crv", "x", "y", "d", "kid"};
        char buf[IMAGO_REGTOKEN_KEYFILE_MAX];
        const char *kty, *crv;
        json_t *obj = NULL;
        size_t len = 0;
        cjose_err e;
        int r = IMAGO_EINVAL;

        if (key != NULL) {
                key->jwk = NULL;
                key->pkey = NULL;
        }
        if (path == NULL || key == NULL)
                goto out;
        if ((r = regtoken_read_private(path, buf, sizeof(buf), &len)) != 0)
                goto out;
        r = IMAGO_EKEY_FORMAT;
        if (imago_json_object((const uint8_t *)buf, len, sizeof(buf), &obj) != 0 ||
            !imago_json_only_keys(obj, keys, 6))
                goto out;
        kty = imago_json_str(obj, "kty", NULL);
        crv = imago_json_str(obj, "crv", NULL);
        if (kty == NULL || strcmp(kty, "EC") != 0 || crv == NULL || strcmp(crv, "P-256") != 0 ||
            imago_json_str(obj, "d", NULL) == NULL)
                goto out;
        if ((key->jwk = cjose_jwk_import(buf, len, &e)) == NULL)
                goto out;
        if (cjose_jwk_get_kty(key->jwk, &e) != CJOSE_JWK_KTY_EC ||
            cjose_jwk_EC_get_curve(key->jwk, &e) != CJOSE_JWK_EC_P_256 ||
            imago_regtoken_key_pkey(key) != 0) {
                imago_regtoken_key_free(key);
                goto out;
        }
        r = 0;
out:
        if (obj != NULL) {
                /* jansson holds a copy of d: overwrite it before the object goes. */
                json_t *d = json_object_get(obj, "d");
                if (json_is_string(d))
                        imago_wipe((char *)json_string_value(d), json_string_length(d));
                json_decref(obj);
        }
        imago_wipe(buf, sizeof(buf));
        return r;
}
