/*
 * libFuzzer target: the device's check of a `cert` answer
 * (imago_link_cert_check) on untrusted PEM.  Input: certificate PEM, a NUL
 * byte, chain PEM.  The root and the device key are fixed per process.
 * Nothing may be accepted: the fuzzer cannot forge the root's signature.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/err.h"
#include "device/link/link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static X509 *root;
static EVP_PKEY *key;

static void init(void)
{
        EVP_PKEY *rk = EVP_EC_gen("P-256");
        X509_NAME *n;

        key = EVP_EC_gen("P-256");
        root = X509_new();
        if (rk == NULL || key == NULL || root == NULL)
                abort();
        X509_set_version(root, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(root), 1);
        X509_gmtime_adj(X509_getm_notBefore(root), 0);
        X509_gmtime_adj(X509_getm_notAfter(root), 86400);
        X509_set_pubkey(root, rk);
        n = X509_get_subject_name(root);
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"fuzz root", -1,
                                   -1, 0);
        X509_set_issuer_name(root, n);
        if (X509_sign(root, rk, EVP_sha256()) <= 0)
                abort();
        EVP_PKEY_free(rk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *buf, *chain;
        int r;

        if (root == NULL)
                init();
        if (size > 20000)
                return 0;
        if ((buf = malloc(size + 2)) == NULL)
                return 0;
        memcpy(buf, data, size);
        buf[size] = '\0';
        buf[size + 1] = '\0';
        chain = buf + strlen(buf) + 1;
        r = imago_link_cert_check(buf, chain, root, "00112233445566778899aabbccddeeff", key, 0,
                                  NULL, NULL);
        if (r == IMAGO_OK)
                abort();
        free(buf);
        return 0;
}
