/*
 * Factory provisioning of one device at a time.
 *
 * For each device on the line: open its token (secure element), generate
 * the identity key inside it (P-256, non-extractable, label
 * IMAGO_IDENTITY_LABEL from device/identity/identity.h), derive the device id from the public key,
 * issue its birth certificate from the factory CA, draw a setup code, create
 * the device's secret store holding the birth certificate, the device id and
 * only a hash of the setup code, and add the device to the batch manifest.
 * The private key never leaves the token; the setup code leaves only in the
 * result, to be printed on the label once.
 *
 * Ownership: opts and its members are borrowed; *out is the caller's and
 * holds the setup code: wipe it (imago_factory_result_wipe) after printing.
 *
 * Errors: IMAGO_EEXIST (the token already holds an identity or a store: a
 * device is never provisioned twice), IMAGO_EP11_* from the token,
 * IMAGO_ESTORE_* from the store, IMAGO_EPKI_* and IMAGO_EMANIFEST_*.  On an
 * error nothing is added to the manifest; a key or store already created in
 * the token is removed again where the token allows it.
 */
#ifndef IMAGO_FACTORY_PROVISION_H
#define IMAGO_FACTORY_PROVISION_H

#include "device/identity/identity.h"
#include "factory/manifest.h"
#include "factory/setup_code.h"
#include "pki/pki.h"

#define IMAGO_QR_MAX 200

/* Store record names written at the factory. */
#define IMAGO_REC_BIRTH_CERT      "birth-cert"
#define IMAGO_REC_DEVICE_ID       "device-id"
#define IMAGO_REC_SETUP_CODE_HASH "setup-code-hash"

struct imago_factory_opts {
        const struct imago_pki_ca *factory; /* loaded factory CA */
        const char *module;                 /* PKCS#11 module path */
        const char *token_uri;              /* pkcs11: URI of this device's token */
        const char *pin;                    /* user PIN; NULL: from the URI */
        const char *store_path;             /* the device's store file (its flash partition) */
        const char *cert_path;              /* NULL, or where to write the birth cert PEM */
};

struct imago_factory_result {
        char id[IMAGO_DEVICE_ID_LEN + 1];
        char serial[41];
        char fingerprint[65]; /* SHA-256 of the birth certificate DER */
        char setup_code[IMAGO_SETUP_CODE_LEN + 1];
        char qr[IMAGO_QR_MAX]; /* "IMAGO:1:<id>:<setup code>:<fingerprint>" */
};

int imago_factory_provision(const struct imago_factory_opts *opts, struct imago_manifest *m,
                            struct imago_factory_result *out);

void imago_factory_result_wipe(struct imago_factory_result *r);

#endif
