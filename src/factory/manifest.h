/*
 * Factory batch manifest: the list of devices a factory run provisioned, for
 * the cloud to import.
 *
 * File: JSON (UTF-8), at most IMAGO_MANIFEST_MAX_BYTES, with
 *   {"format": "imago-factory-manifest", "version": 1,
 *    "batch": "<1..64 of [A-Za-z0-9._-]>", "created": "<RFC 3339 UTC>",
 *    "devices": [{"id": "<32 hex>", "serial": "<hex>", "certificate": "<base64 DER>"}, ...]}
 * and a detached signature "<file>.sig": the factory CA's ECDSA P-256/SHA-256
 * signature (DER) over the file's exact bytes.  Unknown keys are refused,
 * duplicate keys and duplicate devices too.  See docs/pki.md.
 *
 * imago_manifest_parse() checks structure and fields only: it trusts
 * nothing.  imago_manifest_verify() then checks the signature, that the
 * factory certificate chains to the given root, and that every device's
 * certificate was issued by that factory CA, is a birth certificate, and
 * names the device id of its own public key.
 *
 * Ownership: a parsed manifest owns its device array and certificate bytes
 * until imago_manifest_free() (safe on a zeroed struct).  Inputs are
 * borrowed.
 *
 * Errors: IMAGO_EMANIFEST_FORMAT (not JSON, wrong format or version),
 * IMAGO_EMANIFEST_FIELD (a field missing, of the wrong type or invalid),
 * IMAGO_EMANIFEST_DUP, IMAGO_ETOOBIG (file or device count over the limits),
 * IMAGO_EMANIFEST_SIG, IMAGO_EMANIFEST_DEVICE, IMAGO_ENOMEM.
 */
#ifndef IMAGO_FACTORY_MANIFEST_H
#define IMAGO_FACTORY_MANIFEST_H

#include "pki/pki.h"

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#define IMAGO_MANIFEST_MAX_BYTES   (32U * 1024U * 1024U)
#define IMAGO_MANIFEST_MAX_DEVICES 100000U
#define IMAGO_MANIFEST_CERT_MAX    4096U

struct imago_manifest_device {
        char id[IMAGO_DEVICE_ID_LEN + 1];
        char serial[41];
        uint8_t *cert_der;
        size_t cert_len;
};

struct imago_manifest {
        char batch[65];
        char created[32];
        size_t count;
        struct imago_manifest_device *devices;
};

int imago_manifest_parse(const uint8_t *buf, size_t len, struct imago_manifest *m);
void imago_manifest_free(struct imago_manifest *m);

/* Append a device (copies cert_der); the manifest grows as needed. */
int imago_manifest_add(struct imago_manifest *m, const char *id, const char *serial,
                       const uint8_t *cert_der, size_t cert_len);

/* Serialise to JSON; *out is malloc'd, caller frees. */
int imago_manifest_write(const struct imago_manifest *m, char **out, size_t *len);

/* Sign the exact bytes with the factory CA; *sig is malloc'd, caller frees. */
int imago_manifest_sign(const uint8_t *buf, size_t len, const struct imago_pki_ca *factory,
                        uint8_t **sig, size_t *sig_len);

/* Trust check of a parsed manifest and its raw bytes; see above. */
int imago_manifest_verify(const uint8_t *buf, size_t len, const uint8_t *sig, size_t sig_len,
                          const struct imago_manifest *m, X509 *factory_cert, X509 *root_cert);

#endif
