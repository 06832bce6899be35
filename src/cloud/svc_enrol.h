/*
 * imago-cloud: the enrolment and rotation handlers (docs/protocol.md
 * "Enrolment", "Rotation") and the seen event, independent of MQTT.
 *
 * imago_svc_handle_request() takes one message from a request topic and
 * produces the answer to publish on the request's resp topic: a `cert`
 * (issued now, or the certificate already recorded when a device retries)
 * or an `error` naming the IMAGO_E code.  Checks, in order: the topic is a
 * request topic, the message parses (proto), its type fits the topic, the
 * message id equals the topic id, the registry state, the CSR (PEM, one CN
 * equal to the id, signature verifies, P-256 key), the key policy same-key
 * (enrol: the CSR key's device id is the id, i.e. the birth key, unless
 * new_key; rotate: the CSR key is the enrolled key).  Then it issues a DEVICE certificate from
 * the issuing CA and records it (imago_registry_enrol / _rotate) before
 * answering: a certificate is answered only once recorded, and a retry gets
 * the recorded one.
 *
 * Ownership: the issuer (CA, chain PEM) is the caller's; *reply is malloc'd
 * JSON the caller frees.  A message that cannot be answered (no parsable
 * nonce, or a topic that is not a request topic) returns its error and no
 * reply.
 *
 * Errors: the answer carries the refusal; the return value is IMAGO_OK when
 * a reply was produced (cert or error), else the reason none was.
 */
#ifndef IMAGO_CLOUD_SVC_ENROL_H
#define IMAGO_CLOUD_SVC_ENROL_H

#include "cloud/registry/registry.h"
#include "pki/pki.h"

#include <stddef.h>
#include <stdint.h>

struct imago_svc_issuer {
        struct imago_pki_ca ca; /* issuing CA, key loaded */
        char *chain_pem;        /* the issuing CA certificate as PEM */
        uint32_t device_days;   /* DEVICE certificate lifetime; 0 = profile default */
        int new_key;            /* policy new-key: an enrol CSR may carry another key */
};

/* Load the issuing CA from ca_dir (issuing.crt/.key) and its chain PEM. */
int imago_svc_issuer_load(const char *ca_dir, const char *passphrase, uint32_t device_days,
                          struct imago_svc_issuer *iss);
void imago_svc_issuer_free(struct imago_svc_issuer *iss);

/*
 * One request. *reply_topic (size >= 128) gets the resp topic; *result
 * (may be NULL) the outcome: IMAGO_OK for a certificate, else the code
 * sent in the error.  *serial (>= 41 bytes, may be NULL) the answered serial.
 */
int imago_svc_handle_request(const struct imago_svc_issuer *iss, struct imago_registry *reg,
                             const char *topic, const uint8_t *payload, size_t len, char **reply,
                             size_t *reply_len, char *reply_topic, size_t topic_size, int *result,
                             char *serial);

/* Seen event {"v":1,"id","role","serial"}; strict.  role: 1 birth, 2 device. */
struct imago_svc_seen {
        char id[IMAGO_REG_ID_LEN + 1];
        int role;
        char serial[IMAGO_REG_SERIAL_MAX + 1];
};
int imago_svc_seen_parse(const uint8_t *buf, size_t len, struct imago_svc_seen *s);

/*
 * A device seen with its current certificate: retire the older ones.
 * *retired gets how many were retired (the caller then refreshes the deny set).
 */
int imago_svc_handle_seen(struct imago_registry *reg, const struct imago_svc_seen *s, int *retired);

#endif
