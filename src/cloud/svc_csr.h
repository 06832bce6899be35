/*
 * imago-cloud: checks of a CSR received in an enrol or rotate message, and
 * issuing the DEVICE certificate for it.  Private to src/cloud.
 *
 * imago_svc_csr_check(): PEM (one CSR, nothing after it), signature
 * verifies, subject has exactly one CN and it equals id, key P-256; *pub
 * gets its key.  Errors: IMAGO_EPROTO_FIELD (not a CSR, trailing data, bad
 * CN), IMAGO_ECRYPTO (signature), IMAGO_EKEY_TYPE, IMAGO_ENOMEM.
 *
 * imago_svc_csr_issue(): DEVICE certificate for (id, pub) from the issuer;
 * *pem malloc'd (caller frees), serial (41 bytes), not_after unix seconds.
 */
#ifndef IMAGO_CLOUD_SVC_CSR_H
#define IMAGO_CLOUD_SVC_CSR_H

#include "cloud/svc_enrol.h"
#include "crypto/crypto.h"

#include <stdint.h>

int imago_svc_csr_check(const char *pem, const char *id, struct imago_pubkey *pub);
int imago_svc_csr_issue(const struct imago_svc_issuer *iss, const char *id,
                        const struct imago_pubkey *pub, char **pem, char serial[41],
                        int64_t *not_after);

/* PEM text of a certificate (malloc'd). */
int imago_svc_cert_pem(X509 *cert, char **pem);

#endif
