/*
 * Host key files over OpenSSL 3; see keys.h.
 *
 * Policy on load: a private key file that group or others can read is
 * refused with IMAGO_EKEY_PERM (not just warned about), so a key copied
 * carelessly is noticed before it signs anything.  Fix with chmod 600.
 */
#define _POSIX_C_SOURCE 200809L
#include "keys.h"
#include "keys_openssl.h"

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/wipe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#define KEY_FILE_MAX (64U * 1024U)

/*
 * scrypt parameters for encrypted keys: N = 2^14, r = 8, p = 1 (16 MiB), the
 * defaults of `openssl pkcs8 -scrypt`.  N = 2^15 reaches OpenSSL's 32 MiB
 * scrypt memory cap, which fails (and crashed 3.0.19 in PKCS8_set0_pbe).
 */
#define SCRYPT_N 16384
#define SCRYPT_R 8
#define SCRYPT_P 1

int imago_key_type_from_name(const char *name, enum imago_key_type *type)
{
        if (name == NULL || type == NULL)
                return IMAGO_EINVAL;
        if (strcmp(name, "ed25519") == 0) {
                *type = IMAGO_KEY_ED25519;
                return IMAGO_OK;
        }
        if (strcmp(name, "p256") == 0 || strcmp(name, "ecdsa-p256") == 0) {
                *type = IMAGO_KEY_P256;
                return IMAGO_OK;
        }
        return IMAGO_EKEY_TYPE;
}

const char *imago_key_type_name(enum imago_key_type type)
{
        switch (type) {
        case IMAGO_KEY_ED25519:
                return "ed25519";
        case IMAGO_KEY_P256:
                return "p256";
        default:
                return "none";
        }
}

int imago_privkey_generate(enum imago_key_type type, struct imago_privkey *key)
{
        EVP_PKEY *pk;

        if (key == NULL)
                return IMAGO_EINVAL;
        memset(key, 0, sizeof(*key));
        if (type == IMAGO_KEY_ED25519)
                pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        else if (type == IMAGO_KEY_P256)
                pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        else
                return IMAGO_EKEY_TYPE;
        if (pk == NULL) {
                ERR_clear_error();
                return IMAGO_ECRYPTO;
        }
        key->type = type;
        key->impl = pk;
        return IMAGO_OK;
}

void imago_privkey_free(struct imago_privkey *key)
{
        if (key == NULL)
                return;
        EVP_PKEY_free(key->impl);
        key->impl = NULL;
        key->type = IMAGO_KEY_NONE;
}

/* Contents of a memory BIO written to a new file; the BIO's buffer is wiped. */
static int bio_to_new_file(BIO *bio, const char *path, mode_t mode)
{
        char *data = NULL;
        long n;
        int r;

        n = BIO_get_mem_data(bio, &data);
        if (n <= 0 || data == NULL)
                return IMAGO_ECRYPTO;
        r = imago_file_write_new(path, data, (size_t)n, mode);
        imago_wipe(data, (size_t)n);
        return r;
}

int imago_privkey_save(const struct imago_privkey *key, const char *path, const char *passphrase)
{
        PKCS8_PRIV_KEY_INFO *p8inf = NULL;
        X509_ALGOR *pbe = NULL;
        X509_SIG *p8 = NULL;
        BIO *bio = NULL;
        size_t plen;
        int r;

        if (key == NULL || key->impl == NULL || path == NULL)
                return IMAGO_EINVAL;
        if ((bio = BIO_new(BIO_s_secmem())) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        if ((p8inf = EVP_PKEY2PKCS8(key->impl)) == NULL) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        if (passphrase == NULL) {
                r = PEM_write_bio_PKCS8_PRIV_KEY_INFO(bio, p8inf) == 1 ? IMAGO_OK : IMAGO_ECRYPTO;
        } else {
                plen = strlen(passphrase);
                if (plen == 0 || plen > INT_MAX) {
                        r = IMAGO_EKEY_PASSPHRASE;
                        goto out;
                }
                pbe = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), NULL, 0, NULL, SCRYPT_N, SCRYPT_R,
                                            SCRYPT_P);
                if (pbe == NULL) {
                        r = IMAGO_ECRYPTO;
                        goto out;
                }
                p8 = PKCS8_set0_pbe(passphrase, (int)plen, p8inf, pbe);
                if (p8 == NULL) {
                        r = IMAGO_ECRYPTO;
                        goto out;
                }
                pbe = NULL; /* owned by p8 now */
                r = PEM_write_bio_PKCS8(bio, p8) == 1 ? IMAGO_OK : IMAGO_ECRYPTO;
        }
        if (r != IMAGO_OK)
                goto out;
        r = bio_to_new_file(bio, path, 0600);
out:
        if (r != IMAGO_OK)
                ERR_clear_error();
        X509_SIG_free(p8);
        X509_ALGOR_free(pbe);
        PKCS8_PRIV_KEY_INFO_free(p8inf);
        BIO_free(bio);
        return r;
}

struct pass_cb {
        const char *pass;
        int asked;
};

/* Never prompts: a missing passphrase makes the decode fail. */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
        struct pass_cb *pc = u;
        size_t n;

        (void)rwflag;
        pc->asked = 1;
        if (pc->pass == NULL || size <= 0)
                return -1;
        n = strlen(pc->pass);
        if (n > (size_t)size)
                return -1;
        memcpy(buf, pc->pass, n);
        return (int)n;
}

static int parse_private(const uint8_t *data, size_t len, const char *passphrase, EVP_PKEY **out)
{
        struct pass_cb pc = {passphrase, 0};
        EVP_PKEY *pk = NULL;
        BIO *bio = NULL;
        int r;

        if (len > INT_MAX)
                return IMAGO_EKEY_FORMAT;
        if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL)
                return IMAGO_ENOMEM;
        pk = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &pc);
        if (pk == NULL) {
                r = pc.asked ? IMAGO_EKEY_PASSPHRASE : IMAGO_EKEY_FORMAT;
                goto out;
        }
        if (imago_evp_key_type(pk) == IMAGO_KEY_NONE) {
                r = IMAGO_EKEY_FORMAT;
                goto out;
        }
        *out = pk;
        pk = NULL;
        r = IMAGO_OK;
out:
        ERR_clear_error();
        EVP_PKEY_free(pk);
        BIO_free(bio);
        return r;
}

int imago_privkey_load(const char *path, const char *passphrase, struct imago_privkey *key)
{
        struct stat st;
        uint8_t *data = NULL;
        size_t len = 0;
        EVP_PKEY *pk = NULL;
        int r;

        if (path == NULL || key == NULL)
                return IMAGO_EINVAL;
        memset(key, 0, sizeof(*key));
        if (stat(path, &st) != 0)
                return errno == ENOENT ? IMAGO_ENOTFOUND : IMAGO_EIO;
        if ((st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) != 0) {
                IMAGO_ERR("%s: private key file mode %03o; run chmod 600", path,
                          (unsigned)(st.st_mode & 0777));
                return IMAGO_EKEY_PERM;
        }
        if ((r = imago_file_read(path, KEY_FILE_MAX, &data, &len)) != IMAGO_OK)
                goto out;
        if ((r = parse_private(data, len, passphrase, &pk)) != IMAGO_OK)
                goto out;
        key->type = imago_evp_key_type(pk);
        key->impl = pk;
        r = IMAGO_OK;
out:
        imago_file_free(data, len);
        return r;
}

int imago_privkey_public(const struct imago_privkey *key, struct imago_pubkey *pub)
{
        unsigned char *der = NULL;
        int n, r;

        if (key == NULL || key->impl == NULL || pub == NULL)
                return IMAGO_EINVAL;
        n = i2d_PUBKEY(key->impl, &der);
        if (n <= 0) {
                ERR_clear_error();
                return IMAGO_ECRYPTO;
        }
        r = imago_pubkey_from_spki(pub, der, (size_t)n);
        OPENSSL_free(der);
        return r;
}

int imago_pubkey_load(const char *path, struct imago_pubkey *pub)
{
        struct imago_privkey priv = {0};
        uint8_t *data = NULL;
        unsigned char *der = NULL;
        size_t len = 0;
        EVP_PKEY *pk = NULL;
        BIO *bio = NULL;
        int r, n;

        if (path == NULL || pub == NULL)
                return IMAGO_EINVAL;
        if ((r = imago_file_read(path, KEY_FILE_MAX, &data, &len)) != IMAGO_OK)
                return r;
        if (len > INT_MAX) {
                r = IMAGO_EKEY_FORMAT;
                goto out;
        }
        if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        if (pk != NULL) {
                n = i2d_PUBKEY(pk, &der);
                r = n > 0 ? imago_pubkey_from_spki(pub, der, (size_t)n) : IMAGO_EKEY_FORMAT;
                goto out;
        }
        /* Not a PUBLIC KEY: an unencrypted private key will do. */
        if ((r = parse_private(data, len, NULL, &pk)) != IMAGO_OK) {
                r = r == IMAGO_EKEY_PASSPHRASE ? IMAGO_EKEY_PASSPHRASE : IMAGO_EKEY_FORMAT;
                goto out;
        }
        priv.type = imago_evp_key_type(pk);
        priv.impl = pk;
        pk = NULL;
        r = imago_privkey_public(&priv, pub);
out:
        ERR_clear_error();
        imago_privkey_free(&priv);
        OPENSSL_free(der);
        EVP_PKEY_free(pk);
        BIO_free(bio);
        imago_file_free(data, len);
        return r;
}

int imago_pubkey_save(const struct imago_pubkey *pub, const char *path)
{
        const unsigned char *p;
        EVP_PKEY *pk = NULL;
        BIO *bio = NULL;
        int r;

        if (pub == NULL || path == NULL || pub->spki_len == 0 || pub->spki_len > IMAGO_SPKI_MAX_LEN)
                return IMAGO_EINVAL;
        p = pub->spki;
        if ((pk = d2i_PUBKEY(NULL, &p, (long)pub->spki_len)) == NULL) {
                r = IMAGO_EKEY_FORMAT;
                goto out;
        }
        if ((bio = BIO_new(BIO_s_mem())) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        if (PEM_write_bio_PUBKEY(bio, pk) != 1) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        r = bio_to_new_file(bio, path, 0644);
out:
        ERR_clear_error();
        BIO_free(bio);
        EVP_PKEY_free(pk);
        return r;
}

int imago_privkey_sign_digest(const struct imago_privkey *key,
                              const uint8_t digest[IMAGO_SHA256_LEN], uint8_t *sig, size_t *sig_len)
{
        uint8_t buf[256];
        size_t n = sizeof(buf);
        EVP_MD_CTX *mctx = NULL;
        EVP_PKEY_CTX *pctx = NULL;
        int r, ok;

        if (key == NULL || key->impl == NULL || digest == NULL || sig == NULL || sig_len == NULL)
                return IMAGO_EINVAL;
        if (key->type == IMAGO_KEY_ED25519) {
                if ((mctx = EVP_MD_CTX_new()) == NULL) {
                        r = IMAGO_ENOMEM;
                        goto out;
                }
                ok = EVP_DigestSignInit_ex(mctx, NULL, NULL, NULL, NULL, key->impl, NULL) == 1 &&
                     EVP_DigestSign(mctx, buf, &n, digest, IMAGO_SHA256_LEN) == 1;
        } else if (key->type == IMAGO_KEY_P256) {
                if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->impl, NULL)) == NULL) {
                        r = IMAGO_ENOMEM;
                        goto out;
                }
                ok = EVP_PKEY_sign_init(pctx) == 1 &&
                     EVP_PKEY_sign(pctx, buf, &n, digest, IMAGO_SHA256_LEN) == 1;
        } else {
                r = IMAGO_EKEY_TYPE;
                goto out;
        }
        if (!ok || n == 0 || n > IMAGO_SIG_MAX_LEN) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        memcpy(sig, buf, n);
        *sig_len = n;
        r = IMAGO_OK;
out:
        if (r != IMAGO_OK)
                ERR_clear_error();
        EVP_PKEY_CTX_free(pctx);
        EVP_MD_CTX_free(mctx);
        return r;
}
