/*
 * Host key files (not for the boot core): generate, store, load, sign.
 *
 * Formats: private keys are PKCS#8 PEM ("PRIVATE KEY", or "ENCRYPTED PRIVATE
 * KEY" when a passphrase is given: PBES2, scrypt + AES-256-CBC), written
 * atomically with mode 0600; public keys are SubjectPublicKeyInfo PEM
 * ("PUBLIC KEY").  This is the same PEM imgtool reads and writes.
 *
 * Ownership: struct imago_privkey holds a backend object; release it with
 * imago_privkey_free(), which is safe on a zeroed struct.  Passphrases are
 * borrowed for the call and never copied or logged.
 *
 * Errors: IMAGO_ENOTFOUND (no file), IMAGO_EKEY_FORMAT (not an Ed25519 or
 * P-256 key), IMAGO_EKEY_PASSPHRASE (encrypted and the passphrase is missing
 * or wrong), IMAGO_EKEY_PERM (private key file readable by group/others),
 * IMAGO_EEXIST (refusing to overwrite), IMAGO_EIO, IMAGO_ECRYPTO.
 *
 * Policy: imago_privkey_load() refuses (IMAGO_EKEY_PERM, not a warning) a
 * file whose mode lets group or others read or write it.  Saving never
 * replaces an existing file (temporary file + link()).  Encrypted keys use
 * scrypt N=2^14, r=8, p=1.  Loading never prompts for a passphrase.
 */
#ifndef IMAGO_CRYPTO_KEYS_H
#define IMAGO_CRYPTO_KEYS_H

#include "crypto/crypto.h"

#include <stddef.h>
#include <stdint.h>

struct imago_privkey {
        enum imago_key_type type;
        void *impl;
};

/* New key of the given type, inside the process. */
int imago_privkey_generate(enum imago_key_type type, struct imago_privkey *key);

/* Write key to path (must not exist), PEM, mode 0600; encrypted when passphrase != NULL. */
int imago_privkey_save(const struct imago_privkey *key, const char *path, const char *passphrase);

/* Load a private key PEM; passphrase may be NULL for an unencrypted file. */
int imago_privkey_load(const char *path, const char *passphrase, struct imago_privkey *key);

void imago_privkey_free(struct imago_privkey *key);

/* The public half. */
int imago_privkey_public(const struct imago_privkey *key, struct imago_pubkey *pub);

/* Load a public key from a PEM file holding a PUBLIC KEY, or an unencrypted private key. */
int imago_pubkey_load(const char *path, struct imago_pubkey *pub);

/* Write pub as PUBLIC KEY PEM, mode 0644. */
int imago_pubkey_save(const struct imago_pubkey *pub, const char *path);

/*
 * Sign a SHA-256 digest the MCUboot way (see imago_sig_verify_digest()).
 * sig must hold IMAGO_SIG_MAX_LEN bytes; *sig_len receives the length.
 */
int imago_privkey_sign_digest(const struct imago_privkey *key,
                              const uint8_t digest[IMAGO_SHA256_LEN], uint8_t *sig,
                              size_t *sig_len);

/* Key type from "ed25519" or "p256" (also "ecdsa-p256"). */
int imago_key_type_from_name(const char *name, enum imago_key_type *type);
const char *imago_key_type_name(enum imago_key_type type);

#endif
