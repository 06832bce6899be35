/*
 * imago PKI: the certificate hierarchy of a fleet, and certificate issuing.
 *
 *   root CA (offline)
 *    +-- factory CA   issues birth certificates (CN = device id, OU = birth)
 *    +-- issuing CA   issues operational device certificates from CSRs (OU = device)
 *    +-- server CA    issues the broker/API server certificates and service identities
 *
 * Profiles (key usage, extended key usage, path length, name constraints,
 * lifetimes) are fixed here and documented in docs/pki.md; callers choose a
 * profile, never individual extensions.  All keys are ECDSA P-256, signatures
 * ECDSA with SHA-256.  Serial numbers are 127-bit random, so several
 * issuers never need to coordinate.
 *
 * Ownership: struct imago_pki_ca owns its certificate and key until
 * imago_pki_ca_free() (safe on a zeroed struct).  Issued certificates are
 * returned as X509 objects owned by the caller (X509_free), or written to
 * files.  Passphrases are borrowed and never copied or logged.
 *
 * Errors: IMAGO_EINVAL (bad argument), IMAGO_EEXIST (CA directory already
 * initialised), IMAGO_ENOTFOUND (missing CA file), IMAGO_EKEY_PASSPHRASE,
 * IMAGO_EKEY_FORMAT, IMAGO_EPKI_* (see base/err.h), IMAGO_ECRYPTO, IMAGO_EIO.
 */
#ifndef IMAGO_PKI_PKI_H
#define IMAGO_PKI_PKI_H

#include "base/hex.h"
#include "crypto/crypto.h"
#include "crypto/keys.h"

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

/* Device id: lowercase hex of the first 16 bytes of SHA-256(SPKI DER); IMAGO_DEVICE_ID_LEN in
 * base/hex.h. */

enum imago_pki_role {
        IMAGO_PKI_ROOT = 0,
        IMAGO_PKI_FACTORY = 1,
        IMAGO_PKI_ISSUING = 2,
        IMAGO_PKI_SERVER_CA = 3,
};

enum imago_pki_profile {
        IMAGO_PKI_BIRTH = 1,   /* factory CA: CN = device id, no expiry (99991231235959Z) */
        IMAGO_PKI_DEVICE = 2,  /* issuing CA: CN = device id, bounded lifetime */
        IMAGO_PKI_SERVER = 3,  /* server CA: TLS server, SAN from names */
        IMAGO_PKI_SERVICE = 4, /* server CA: the cloud's own client identity */
};

struct imago_pki_ca {
        enum imago_pki_role role;
        X509 *cert;
        struct imago_privkey key;
};

struct imago_pki_init_opts {
        const char *dir;                 /* created if missing; must not hold a CA already */
        const char *org;                 /* O= of every subject; default "imago" */
        const char *root_passphrase;     /* required: encrypts root.key */
        const char *factory_passphrase;  /* encrypts factory.key; NULL = root's */
        const char *cloud_passphrase;    /* encrypts issuing.key, server-ca.key; NULL = root's */
        const char *const *server_names; /* DNS names / IP addresses the server CA may certify */
        size_t server_names_count;       /* 0 = localhost, 127.0.0.0/8 and ::1 only */
        uint32_t root_days;              /* 0 = 7300 */
        uint32_t ca_days;                /* 0 = 3650 */
};

/* Create the four CAs in opts->dir (see docs/pki.md for the files). */
int imago_pki_init(const struct imago_pki_init_opts *opts);

/* File name (without directory) of a role's certificate or key. */
const char *imago_pki_cert_file(enum imago_pki_role role);
const char *imago_pki_key_file(enum imago_pki_role role);

/* Load a CA's certificate and decrypt its key. */
int imago_pki_ca_load(const char *dir, enum imago_pki_role role, const char *passphrase,
                      struct imago_pki_ca *ca);
void imago_pki_ca_free(struct imago_pki_ca *ca);

/* Device id of a public key; out gets IMAGO_DEVICE_ID_LEN chars and a NUL. */
int imago_pki_device_id(const struct imago_pubkey *pub, char out[IMAGO_DEVICE_ID_LEN + 1]);

struct imago_pki_request {
        enum imago_pki_profile profile;
        const char *common_name;        /* device id for BIRTH/DEVICE; host or service name */
        const struct imago_pubkey *pub; /* subject public key (P-256 or Ed25519) */
        const char *const *names;       /* SERVER: DNS names / IP addresses for the SAN */
        size_t names_count;
        uint32_t days; /* DEVICE/SERVER/SERVICE lifetime; 0 = profile default */
};

/* Issue a certificate under ca for the request; the profile must match the CA's role. */
int imago_pki_issue(const struct imago_pki_ca *ca, const struct imago_pki_request *req, X509 **out);

/* Write a certificate as PEM (atomic, mode 0644). */
int imago_pki_cert_save(X509 *cert, const char *path);

/* Read a PEM certificate file. */
int imago_pki_cert_load(const char *path, X509 **out);

/* SHA-256 fingerprint of the certificate's DER, lowercase hex (64 chars + NUL). */
int imago_pki_cert_fingerprint(X509 *cert, char out[65]);

/* Serial number as lowercase hex (at most 40 chars + NUL). */
int imago_pki_cert_serial(X509 *cert, char out[41]);

#endif
