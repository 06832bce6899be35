/* Names, fingerprints and certificate files; see pki.h. */
#include "pki.h"
#include "pki_priv.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/file.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/pem.h>

static const char *const cert_files[] = {"root.crt", "factory.crt", "issuing.crt", "server-ca.crt"};
static const char *const key_files[] = {"root.key", "factory.key", "issuing.key", "server-ca.key"};

const char *imago_pki_cert_file(enum imago_pki_role role)
{
        return (unsigned)role < 4 ? cert_files[role] : NULL;
}

const char *imago_pki_key_file(enum imago_pki_role role)
{
        return (unsigned)role < 4 ? key_files[role] : NULL;
}

int imago_pki_device_id(const struct imago_pubkey *pub, char out[IMAGO_DEVICE_ID_LEN + 1])
{
        uint8_t h[IMAGO_SHA256_LEN];
        int r;

        if (pub == NULL || out == NULL || pub->spki_len == 0)
                return IMAGO_EINVAL;
        r = imago_sha256(pub->spki, pub->spki_len, h);
        if (r != IMAGO_OK)
                return r;
        imago_hex_encode(h, IMAGO_DEVICE_ID_LEN / 2, out);
        return IMAGO_OK;
}

int imago_pki_cert_fingerprint(X509 *cert, char out[65])
{
        unsigned char *der = NULL;
        uint8_t h[IMAGO_SHA256_LEN];
        int n, r;

        if (cert == NULL || out == NULL)
                return IMAGO_EINVAL;
        n = i2d_X509(cert, &der);
        if (n <= 0)
                return IMAGO_ECRYPTO;
        r = imago_sha256(der, (size_t)n, h);
        OPENSSL_free(der);
        if (r == IMAGO_OK)
                imago_hex_encode(h, sizeof(h), out);
        return r;
}

int imago_pki_cert_serial(X509 *cert, char out[41])
{
        BIGNUM *bn;
        uint8_t buf[20];
        int n;

        if (cert == NULL || out == NULL)
                return IMAGO_EINVAL;
        bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
        if (bn == NULL)
                return IMAGO_ECRYPTO;
        n = BN_num_bytes(bn);
        if (n <= 0 || n > (int)sizeof(buf)) {
                BN_free(bn);
                return IMAGO_EPKI_NAME;
        }
        BN_bn2bin(bn, buf);
        BN_free(bn);
        imago_hex_encode(buf, (size_t)n, out);
        return IMAGO_OK;
}

int imago_pki_cert_save(X509 *cert, const char *path)
{
        BIO *bio;
        char *data = NULL;
        long len;
        int r = IMAGO_ECRYPTO;

        if (cert == NULL || path == NULL)
                return IMAGO_EINVAL;
        if ((bio = BIO_new(BIO_s_mem())) == NULL)
                return IMAGO_ENOMEM;
        if (PEM_write_bio_X509(bio, cert) == 1) {
                len = BIO_get_mem_data(bio, &data);
                if (len > 0)
                        r = imago_file_write_atomic(path, data, (size_t)len, 0644);
        }
        BIO_free(bio);
        return r;
}

int imago_pki_cert_load(const char *path, X509 **out)
{
        uint8_t *data = NULL;
        size_t len = 0;
        BIO *bio = NULL;
        X509 *cert = NULL;
        int r;

        if (path == NULL || out == NULL)
                return IMAGO_EINVAL;
        r = imago_file_read(path, 64 * 1024, &data, &len);
        if (r != IMAGO_OK)
                return r;
        bio = BIO_new_mem_buf(data, (int)len);
        if (bio == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (cert == NULL) {
                r = IMAGO_EMALFORMED;
                goto out;
        }
        *out = cert;
        r = IMAGO_OK;
out:
        BIO_free(bio);
        imago_file_free(data, len);
        return r;
}

int pki_path(char *buf, size_t size, const char *dir, const char *file)
{
        int n = snprintf(buf, size, "%s/%s", dir, file);

        return n < 0 || (size_t)n >= size ? IMAGO_EINVAL : IMAGO_OK;
}
