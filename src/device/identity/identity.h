/*
 * imago_identity: the device's identity, i.e. its private key and the
 * certificate(s) issued for it, behind one interface with two backends.
 *
 * - PKCS#11 (the product): the P-256 key lives in a token (secure element,
 *   TPM through tpm2-pkcs11, SoftHSM2 on a development machine), is found by
 *   label and/or id (from the pkcs11: URI's object= / id=, default label
 *   IMAGO_IDENTITY_LABEL) and never leaves it.  Signatures run in the token;
 *   OpenSSL reaches the key through the pkcs11 engine (imago_p11_evp_load).
 * - File key (development and the fleet simulator only): a P-256 PKCS#8 PEM
 *   file read with imago_privkey_load().  With cfg->production set, opening
 *   a file-key identity fails with IMAGO_EPERM and logs
 *   IMAGO_IDENTITY_FILE_REFUSED: the agent refuses to start with it.
 *
 * Ownership and lifetimes:
 * - imago_identity_open() borrows cfg and every string in it for the call
 *   only.  The PIN is copied into a stack buffer, given to the token and to
 *   the engine, and wiped before return; it is never logged.  (The pkcs11
 *   engine keeps its own copy to log in again; see docs/identity.md.)
 * - The identity owns one imago_p11 session (PKCS#11) or one key (file) and
 *   one EVP_PKEY until imago_identity_close() (safe on NULL).
 * - imago_identity_evp() lends the EVP_PKEY: valid until close; use
 *   EVP_PKEY_up_ref() to keep it longer.  An SSL_CTX or X509_REQ returned
 *   here is the caller's (SSL_CTX_free / X509_REQ_free); it holds its own
 *   reference to the key and may outlive the identity (the token session
 *   behind an engine key is the engine's, not the identity's).
 * - An identity is not thread-safe: one per thread, or lock around it.
 *
 * Errors: IMAGO_EINVAL (bad argument or configuration), IMAGO_EPERM (file
 * key in production mode), IMAGO_EP11_MODULE, IMAGO_EP11_URI,
 * IMAGO_EP11_TOKEN, IMAGO_EP11_PIN (wrong or missing PIN),
 * IMAGO_EP11_PIN_LOCKED, IMAGO_EP11_KEY (no identity key in the token, or
 * several), IMAGO_EP11_FAIL, IMAGO_ENOTFOUND / IMAGO_EKEY_FORMAT /
 * IMAGO_EKEY_PASSPHRASE / IMAGO_EKEY_PERM (key file), IMAGO_EKEY_TYPE (a key
 * that is not P-256, or a certificate that is not for this identity's key),
 * IMAGO_EPKI_NAME (bad organisation or server name, or a certificate whose
 * CN is not the device id), IMAGO_EIO (certificate
 * or CA file unreadable), IMAGO_ETOOBIG (CSR buffer or certificate chain),
 * IMAGO_ESTATE (TLS without a certificate), IMAGO_ECRYPTO (OpenSSL refused),
 * IMAGO_ENOMEM.
 */
#ifndef IMAGO_DEVICE_IDENTITY_IDENTITY_H
#define IMAGO_DEVICE_IDENTITY_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"
#include "pki/pki.h"

/* Label of the identity key in the token (the factory generates it under this label). */
#define IMAGO_IDENTITY_LABEL "imago-identity"

/* Logged when production mode refuses a file key. */
#define IMAGO_IDENTITY_FILE_REFUSED                                                                \
        "file keys are for development and simulation; production devices keep their key in a "    \
        "secure element (PKCS#11)"

/* Largest CSR imago_identity_csr() writes (a P-256 CSR is about 400 bytes of DER). */
#define IMAGO_IDENTITY_CSR_MAX 2048
#define IMAGO_IDENTITY_ORG_MAX 64

enum imago_identity_backend {
        IMAGO_IDENTITY_PKCS11 = 1,
        IMAGO_IDENTITY_FILE = 2,
};

struct imago_identity_config {
        enum imago_identity_backend backend;
        int production; /* non-zero: only PKCS#11 is allowed */
        /* PKCS#11 */
        const char *module;    /* module path; NULL: the URI's module-path */
        const char *token_uri; /* pkcs11: URI of the token; object=/id= select the key */
        const char *pin;       /* user PIN; NULL: the URI's pin-value or pin-source */
        /* file key */
        const char *key_path;       /* P-256 PKCS#8 PEM, mode 0600 */
        const char *key_passphrase; /* NULL for an unencrypted key file */
};

struct imago_identity;

/* Open the identity cfg describes; *out is the caller's (imago_identity_close). */
int imago_identity_open(const struct imago_identity_config *cfg, struct imago_identity **out);
void imago_identity_close(struct imago_identity *id);

enum imago_identity_backend imago_identity_backend(const struct imago_identity *id);

/* The public key (P-256 SubjectPublicKeyInfo); copied into out. */
void imago_identity_pubkey(const struct imago_identity *id, struct imago_pubkey *out);

/* The device id of the public key (imago_pki_device_id). */
void imago_identity_device_id(const struct imago_identity *id, char out[IMAGO_DEVICE_ID_LEN + 1]);

/* ECDSA P-256 over a SHA-256 digest, DER signature (at most IMAGO_SIG_MAX_LEN bytes). */
int imago_identity_sign_digest(struct imago_identity *id, const uint8_t digest[IMAGO_SHA256_LEN],
                               uint8_t sig[IMAGO_SIG_MAX_LEN], size_t *sig_len);

/* The key as an OpenSSL EVP_PKEY, borrowed (see above). */
EVP_PKEY *imago_identity_evp(const struct imago_identity *id);

/*
 * CSR profile: version 1, subject O=org (optional, NULL or "" for none),
 * CN=device id, the identity's public key, no attributes or extensions,
 * ecdsa-with-SHA256 signed by the identity key (in the token for PKCS#11).
 * The CSR is verified with its own key and its key compared with the
 * identity's before it is returned.  org: 1..IMAGO_IDENTITY_ORG_MAX printable
 * characters (no control characters), else IMAGO_EPKI_NAME.
 */
int imago_identity_csr(struct imago_identity *id, const char *org, X509_REQ **out);

enum imago_identity_fmt {
        IMAGO_IDENTITY_PEM = 1,
        IMAGO_IDENTITY_DER = 2,
};

/* The same CSR encoded into buf (cap bytes); IMAGO_ETOOBIG if it does not fit. */
int imago_identity_csr_encode(struct imago_identity *id, const char *org,
                              enum imago_identity_fmt fmt, uint8_t *buf, size_t cap, size_t *len);

/*
 * Load the identity's certificate: the first PEM certificate of cert_path
 * (birth or operational), which must carry the identity's public key
 * (IMAGO_EKEY_TYPE) and exactly one CN equal to the device id
 * (IMAGO_EPKI_NAME); further certificates in cert_path, then those of
 * chain_path (NULL for none), form the chain sent after it (at most 8 in
 * all, IMAGO_ETOOBIG).  Replaces a certificate loaded before; on error the
 * identity keeps the previous one.  IMAGO_EIO: unreadable or no certificate.
 */
int imago_identity_load_cert(struct imago_identity *id, const char *cert_path,
                             const char *chain_path);

/* The loaded certificate, borrowed (valid until the next load or close); NULL if none. */
X509 *imago_identity_cert(const struct imago_identity *id);

struct imago_identity_tls {
        const char *cert_path;   /* NULL: the certificate already loaded; else loaded first */
        const char *chain_path;  /* with cert_path: intermediates sent after it (issuing CA) */
        const char *ca_path;     /* PEM: the pinned trust anchors (e.g. server-ca.crt), required */
        const char *server_name; /* DNS name or IP address the server certificate must carry */
};

/*
 * A TLS client context for the device link (libmosquitto: MOSQ_OPT_SSL_CTX).
 * Settings (docs/identity.md): TLS 1.2 minimum (1.3 negotiated whenever the
 * server has it); TLS 1.3 suites AES-256-GCM, CHACHA20-POLY1305,
 * AES-128-GCM; TLS 1.2 ECDHE-ECDSA with AEAD only; groups X25519, P-256;
 * ECDSA/Ed25519 signatures only; no renegotiation, no compression; the
 * identity's certificate and chain (t->cert_path loaded as by
 * imago_identity_load_cert, or the one loaded before; neither gives
 * IMAGO_ESTATE) and the identity's key; peer verification required against
 * t->ca_path only (no system trust store; a pinned intermediate such as
 * server-ca.crt is a valid anchor), purpose TLS server, strict X.509, and
 * the server certificate must match t->server_name (SAN IP if it parses as
 * an address, else SAN DNS without partial wildcards; other characters than
 * letters, digits, '.', '-', ':' give IMAGO_EPKI_NAME).  Callers still set
 * SNI per connection (libmosquitto does).
 */
int imago_identity_tls_ctx(struct imago_identity *id, const struct imago_identity_tls *t,
                           SSL_CTX **out);

#endif
