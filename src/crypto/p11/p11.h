/*
 * imago_p11: key backend over any PKCS#11 module (SoftHSM2 on a development
 * machine; tpm2-pkcs11, a secure element or an HSM in production).
 *
 * Configuration is a module path and an RFC 7512 "pkcs11:" URI naming the
 * token (token, manufacturer, serial, model) and optionally an object
 * (object, id, type) and the PIN (pin-value or pin-source).  The URI is
 * untrusted configuration: imago_p11_uri_parse() is strict (see below).
 *
 * Ownership and lifetimes:
 * - imago_p11_open() returns a context that owns one R/W session, logged in
 *   as the user, on exactly one token.  imago_p11_close() closes the session
 *   and, with the last context of that module, finalizes and unloads it.
 *   Several contexts (on the same or other tokens) may be open at once.
 * - A context is not thread-safe: use one per thread or lock around it.
 * - Object handles (unsigned long) are valid while the context is open.
 * - PINs are copied into stack buffers that are wiped before return; they
 *   are never logged.  imago_p11_uri_wipe() wipes a parsed URI.
 *
 * Keys created here:
 * - P-256 identity key: private half CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE,
 *   !CKA_EXTRACTABLE, CKA_SIGN only; public half CKA_VERIFY.
 * - AES-256 store key: CKA_SENSITIVE, !CKA_EXTRACTABLE, CKA_ENCRYPT and
 *   CKA_DECRYPT only (no wrap, unwrap, sign or derive); AES-GCM runs inside
 *   the token.
 * - Monotonic counter: a private CKO_DATA token object whose CKA_VALUE is a
 *   64-bit little-endian number that imago_p11_counter_advance() only
 *   increases.  SoftHSM2 has no hardware counter; see docs/pkcs11.md.
 *
 * Errors: IMAGO_EP11_MODULE (dlopen / C_GetFunctionList / C_Initialize),
 * IMAGO_EP11_URI (URI syntax), IMAGO_EP11_TOKEN (no token, or several, match
 * the URI), IMAGO_EP11_PIN (wrong PIN), IMAGO_EP11_PIN_LOCKED,
 * IMAGO_EP11_KEY (object not found or ambiguous), IMAGO_EP11_EXISTS (label
 * in use), IMAGO_EP11_DECRYPT (AES-GCM tag mismatch), IMAGO_EP11_FAIL (any
 * other refusal by the token), IMAGO_EINVAL, IMAGO_ENOMEM.
 */
#ifndef IMAGO_CRYPTO_P11_H
#define IMAGO_CRYPTO_P11_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

#define IMAGO_P11_URI_MAX       1024
#define IMAGO_P11_PIN_MAX       64
#define IMAGO_P11_ID_MAX        64
#define IMAGO_P11_LABEL_MAX     64
#define IMAGO_P11_PATH_MAX      256
#define IMAGO_P11_SERIAL_LEN    16 /* CK_TOKEN_INFO.serialNumber, blank padded */
#define IMAGO_P11_GCM_IV_LEN    12
#define IMAGO_P11_GCM_TAG_LEN   16
#define IMAGO_P11_ECDSA_DER_MAX 72

enum imago_p11_objtype {
        IMAGO_P11_TYPE_ANY = 0,
        IMAGO_P11_TYPE_PUBLIC,
        IMAGO_P11_TYPE_PRIVATE,
        IMAGO_P11_TYPE_CERT,
        IMAGO_P11_TYPE_SECRET_KEY,
        IMAGO_P11_TYPE_DATA,
};

/* Bits of imago_p11_uri.has */
#define IMAGO_P11_URI_TOKEN        (1u << 0)
#define IMAGO_P11_URI_MANUFACTURER (1u << 1)
#define IMAGO_P11_URI_SERIAL       (1u << 2)
#define IMAGO_P11_URI_MODEL        (1u << 3)
#define IMAGO_P11_URI_OBJECT       (1u << 4)
#define IMAGO_P11_URI_ID           (1u << 5)
#define IMAGO_P11_URI_TYPE         (1u << 6)
#define IMAGO_P11_URI_PIN_VALUE    (1u << 7)
#define IMAGO_P11_URI_PIN_SOURCE   (1u << 8)
#define IMAGO_P11_URI_MODULE_PATH  (1u << 9)

/* A parsed URI; strings are percent-decoded and NUL-terminated. */
struct imago_p11_uri {
        unsigned has;
        char token[33];
        char manufacturer[33];
        char serial[17];
        char model[17];
        char object[IMAGO_P11_LABEL_MAX + 1];
        uint8_t id[IMAGO_P11_ID_MAX];
        size_t id_len;
        enum imago_p11_objtype type;
        char pin_value[IMAGO_P11_PIN_MAX + 1];
        char pin_source[IMAGO_P11_PATH_MAX + 1];
        char module_path[IMAGO_P11_PATH_MAX + 1];
};

/*
 * Parse s (len bytes, no NUL needed) into u.  Strict: "pkcs11:" scheme
 * (case-insensitive), path attributes token, manufacturer, serial, model,
 * object, id, type separated by ';', query attributes pin-value,
 * pin-source, module-path separated by '&'.  Unknown or duplicate
 * attributes, empty values, bad percent escapes, characters outside RFC
 * 7512's pchar/qchar sets, values longer than their PKCS#11 field, a NUL
 * in a text value, a type other than public|private|cert|secret-key|data,
 * or both pin-value and pin-source give IMAGO_EP11_URI (u is then wiped).
 */
int imago_p11_uri_parse(struct imago_p11_uri *u, const char *s, size_t len);
void imago_p11_uri_wipe(struct imago_p11_uri *u);

/*
 * The PIN for a URI: pin if not NULL, else the URI's pin-value, else the
 * first line of its pin-source file ("file:" prefix optional).  out is
 * wiped by the caller after use.  IMAGO_EP11_PIN if none, empty or too long.
 */
int imago_p11_uri_pin(const struct imago_p11_uri *u, const char *pin,
                      char out[IMAGO_P11_PIN_MAX + 1]);

struct imago_p11;

/*
 * Load module (NULL: the URI's module-path), find the one token matching
 * uri and log in.  pin overrides the URI's pin-value / pin-source (NULL: use
 * the URI; neither gives IMAGO_EP11_PIN).
 */
int imago_p11_open(const char *module, const char *uri, const char *pin, struct imago_p11 **out);
void imago_p11_close(struct imago_p11 *p);

/* The token's serial number as in CK_TOKEN_INFO (16 bytes, blank padded). */
void imago_p11_token_serial(const struct imago_p11 *p, uint8_t serial[IMAGO_P11_SERIAL_LEN]);

/* n random bytes from the token's generator. */
int imago_p11_random(struct imago_p11 *p, uint8_t *buf, size_t n);

/* Destroy every object of the given type (not ANY) with that label. */
int imago_p11_destroy(struct imago_p11 *p, enum imago_p11_objtype type, const char *label);

/* --- P-256 identity keys --- */
struct imago_p11_key {
        unsigned long priv;
        unsigned long pub;
};

/* Generate a key pair with this label and id (id_len 1..IMAGO_P11_ID_MAX). */
int imago_p11_ec_generate(struct imago_p11 *p, const char *label, const uint8_t *id, size_t id_len,
                          struct imago_p11_key *key);
/* Find the pair by label and/or id (at least one; id NULL to ignore). */
int imago_p11_ec_find(struct imago_p11 *p, const char *label, const uint8_t *id, size_t id_len,
                      struct imago_p11_key *key);
/* The public key as SubjectPublicKeyInfo, parsed into out. */
int imago_p11_ec_pubkey(struct imago_p11 *p, const struct imago_p11_key *key,
                        struct imago_pubkey *out);
/* ECDSA (CKM_ECDSA) over a SHA-256 digest; DER signature into sig. */
int imago_p11_ec_sign_digest(struct imago_p11 *p, const struct imago_p11_key *key,
                             const uint8_t digest[IMAGO_SHA256_LEN],
                             uint8_t sig[IMAGO_P11_ECDSA_DER_MAX], size_t *sig_len);

/* --- AES-256 key for the secret store --- */
int imago_p11_aes_generate(struct imago_p11 *p, const char *label, unsigned long *key);
int imago_p11_aes_find(struct imago_p11 *p, const char *label, unsigned long *key);
/* AES-256-GCM in the token: out receives len bytes of ciphertext then the tag. */
int imago_p11_gcm_encrypt(struct imago_p11 *p, unsigned long key,
                          const uint8_t iv[IMAGO_P11_GCM_IV_LEN], const uint8_t *aad,
                          size_t aad_len, const uint8_t *in, size_t len, uint8_t *out);
/* in is ciphertext||tag (len >= 16); out receives len - 16 bytes. */
int imago_p11_gcm_decrypt(struct imago_p11 *p, unsigned long key,
                          const uint8_t iv[IMAGO_P11_GCM_IV_LEN], const uint8_t *aad,
                          size_t aad_len, const uint8_t *in, size_t len, uint8_t *out);

/* --- monotonic counter (CKO_DATA token object) --- */
int imago_p11_counter_create(struct imago_p11 *p, const char *label, uint64_t initial);
int imago_p11_counter_read(struct imago_p11 *p, const char *label, uint64_t *value);
/* Set the counter to value; IMAGO_EPERM if value is below the current one. */
int imago_p11_counter_advance(struct imago_p11 *p, const char *label, uint64_t value);

/* --- OpenSSL EVP_PKEY for a token key (CSRs, TLS client authentication) --- */
struct evp_pkey_st;

/*
 * An EVP_PKEY whose private operations run in the token, through OpenSSL's
 * pkcs11 engine (libengine-pkcs11-openssl), for the private key named by uri
 * (object and/or id; type=private implied).  The URI is checked with
 * imago_p11_uri_parse first.  The engine is loaded once per process for
 * module and stays loaded (a second module path gives IMAGO_EUNSUPPORTED).
 * pin: NULL to use the URI's pin-value.  The caller frees *out with
 * EVP_PKEY_free.  Errors: IMAGO_EP11_URI, IMAGO_EP11_MODULE (no engine or
 * module), IMAGO_EP11_KEY (no such key or wrong PIN), IMAGO_EINVAL.
 */
int imago_p11_evp_load(const char *module, const char *uri, const char *pin,
                       struct evp_pkey_st **out);

#endif
