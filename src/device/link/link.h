/*
 * imago_link: the device's one outbound MQTT/TLS connection to its fleet
 * (docs/device-link.md, docs/protocol.md).
 *
 * - libmosquitto in its non-threaded form: the link drives
 *   mosquitto_loop_read/write/misc from a libevent event_base, so many links
 *   can share one loop (imago-sim) or one link can run alone
 *   (imago_link_run_blocking, imago-agent).  Nothing listens.
 * - TLS through MOSQ_OPT_SSL_CTX with the SSL_CTX of imago_identity_tls_ctx
 *   (token or file key, pinned server CA, server name check); client id =
 *   device id; no username (the broker takes the certificate's CN); MQTT
 *   3.1.1, QoS 1, keepalive.
 * - Reconnects with exponential backoff and full jitter, capped; the
 *   backoff resets after a connection stayed up for stable_ms.
 * - Provisioning by claim: without an operational certificate the link
 *   connects with the birth certificate, subscribes imago/v1/prov/<id>/resp,
 *   publishes `enrol` with a CSR of the identity key and waits for `cert`
 *   with its nonce (timeout, retry with the same nonce).  The answer is
 *   checked (imago_link_cert_check), handed to cb->store_cert, loaded, and
 *   the link reconnects with it at once.
 * - Rotation: on `rotate-now` (imago/v1/d/<id>/rot/now), on
 *   imago_link_rotate(), or when less than a third of the certificate's
 *   lifetime is left, `rotate` with a CSR over the operational connection;
 *   the `cert` answer is checked, stored and used for an immediate
 *   reconnection; handlers registered with imago_link_handle stay.
 *
 * Ownership and lifetimes:
 * - imago_link_new() borrows cfg->identity and base (both must outlive the
 *   link) and copies every string of cfg.  imago_link_free() disconnects and
 *   frees (safe on NULL); it must not be called from inside a callback of
 *   the same link (use imago_link_stop there).
 * - Callbacks run on the event loop thread.  PEM strings given to callbacks
 *   are borrowed for the call.  Not thread-safe: one loop thread.
 * - Logs carry the device id, states and error names; never key material,
 *   PINs or message bodies.
 *
 * Errors: IMAGO_EINVAL (bad configuration), IMAGO_ENOMEM, IMAGO_EIO (MQTT
 * library refused, connection refused, lost or not up within 10 s),
 * IMAGO_ECRYPTO (TLS handshake failed), IMAGO_EPKI_CHAIN / IMAGO_EPKI_NAME
 * (the broker's certificate refused by the pinned CA / the server name;
 * or a `cert` answer that fails the check, like IMAGO_EKEY_TYPE),
 * IMAGO_EPERM (CONNACK or SUBACK refused), IMAGO_EPROTO_STATE (no answer
 * after 3 sends), the IMAGO_E* code named in an `error` answer, errors of
 * imago_identity and imago_proto.  The reason of a failed attempt reaches
 * on_state (WAITING or FAILED) and imago_link_run_blocking().
 */
#ifndef IMAGO_DEVICE_LINK_LINK_H
#define IMAGO_DEVICE_LINK_LINK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "device/identity/identity.h"

struct event_base;

/* ---- backoff (pure) ---- */

struct imago_link_backoff {
        uint32_t base_ms; /* first ceiling; 0 = 500 */
        uint32_t cap_ms;  /* largest ceiling; 0 = 60000 */
        uint32_t attempt; /* failures since the last stable connection */
};

/*
 * Delay before the next attempt: uniform in [0, min(cap, base * 2^attempt)]
 * ("full jitter"), r a uniform 32-bit random number; attempt is then
 * incremented (saturating).  imago_link_backoff_reset() after a stable
 * connection.
 */
uint32_t imago_link_backoff_next(struct imago_link_backoff *b, uint32_t r);
void imago_link_backoff_reset(struct imago_link_backoff *b);
/* The ceiling for a given attempt number (for tests and docs). */
uint32_t imago_link_backoff_ceiling(const struct imago_link_backoff *b, uint32_t attempt);

/* ---- check of a `cert` answer (pure: no I/O) ---- */

/*
 * Accept cert_pem (exactly one certificate) as this device's operational
 * certificate only if: it verifies (strict X.509, purpose TLS client, at
 * time now, or the current time if now is 0) through the first certificate
 * of chain_pem (the issuing CA, which must be its direct issuer; further
 * certificates in chain_pem are ignored) to root, a trust anchor pinned in
 * the device; its subject has OU=device and exactly one CN equal to id; and
 * its public key is key.  On success *out_cert and *out_chain (the issuing
 * CA) are the caller's (X509_free); NULL may be passed for either.
 * Errors: IMAGO_EMALFORMED (not PEM / not one certificate), IMAGO_EPKI_CHAIN,
 * IMAGO_EPKI_NAME, IMAGO_EKEY_TYPE, IMAGO_ENOMEM.
 */
int imago_link_cert_check(const char *cert_pem, const char *chain_pem, X509 *root, const char *id,
                          EVP_PKEY *key, time_t now, X509 **out_cert, X509 **out_chain);

/* Seconds from now until a third of cert's lifetime is left (<= 0: rotate now). */
long imago_link_rotate_due(X509 *cert, time_t now);

/* ---- the link ---- */

enum imago_link_state {
        IMAGO_LINK_IDLE = 0,
        IMAGO_LINK_CONNECTING = 1,
        IMAGO_LINK_ENROLLING = 2, /* connected with the birth certificate */
        IMAGO_LINK_ONLINE = 3,    /* connected with the operational certificate */
        IMAGO_LINK_WAITING = 4,   /* backoff before the next attempt */
        IMAGO_LINK_STOPPED = 5,
        IMAGO_LINK_FAILED = 6, /* gave up (enrolment refused or out of tries) */
};

const char *imago_link_state_name(enum imago_link_state s);

struct imago_link_callbacks {
        /*
         * A checked operational certificate (and its issuing CA): persist it
         * (the agent writes the secret store).  Return IMAGO_OK to use it; an
         * error keeps the old certificate and the link retries later.
         */
        int (*store_cert)(void *arg, const char *cert_pem, const char *chain_pem);
        /* State changes; err is the reason for WAITING/FAILED (0 otherwise). */
        void (*on_state)(void *arg, enum imago_link_state st, int err);
        void *arg;
};

struct imago_link_config {
        struct imago_identity *identity; /* borrowed */
        const char *host;                /* broker address */
        uint16_t port;
        const char *ca_path;     /* pinned server CA (PEM) for TLS */
        const char *server_name; /* name the broker certificate must carry */
        const char *root_path;   /* pinned root CA (PEM): anchor for issued certificates */
        const char *birth_pem;   /* birth certificate PEM (enrolment), or NULL */
        const char *cert_pem;    /* operational certificate PEM, or NULL: enrol first */
        const char *chain_pem;   /* its issuing CA PEM (with cert_pem) */
        uint16_t keepalive_s;    /* 0 = 60 */
        uint32_t backoff_base_ms, backoff_cap_ms; /* 0 = 500, 60000 */
        uint32_t stable_ms;         /* connection time that resets the backoff; 0 = 30000 */
        uint32_t answer_timeout_ms; /* enrol/rotate answer; 0 = 10000 */
        uint32_t max_failures;      /* consecutive failed attempts before FAILED; 0 = never */
};

struct imago_link;

int imago_link_new(struct event_base *base, const struct imago_link_config *cfg,
                   const struct imago_link_callbacks *cb, struct imago_link **out);
void imago_link_free(struct imago_link *l);

/* Start connecting (now, or after delay_ms). */
int imago_link_start(struct imago_link *l, uint32_t delay_ms);
/* Disconnect and stay stopped (state STOPPED); safe from callbacks. */
void imago_link_stop(struct imago_link *l);

enum imago_link_state imago_link_state(const struct imago_link *l);
const char *imago_link_device_id(const struct imago_link *l);
/* Has an operational certificate (enrolled). */
int imago_link_enrolled(const struct imago_link *l);

/* Ask for a new certificate now (sent once ONLINE). */
void imago_link_rotate(struct imago_link *l);

/*
 * Message handler for imago/v1/d/<id>/<suffix> (suffix: 1..64 chars of
 * [A-Za-z0-9/_-], may end with "/#"); subscribed on every operational
 * connection.  At most 16 handlers.  The payload is borrowed for the call.
 */
typedef void (*imago_link_handler)(void *arg, const char *topic, const uint8_t *payload,
                                   size_t len);
int imago_link_handle(struct imago_link *l, const char *suffix, imago_link_handler fn, void *arg);

/* QoS 1 publish to imago/v1/d/<id>/<suffix> (ONLINE only, else IMAGO_ESTATE). */
int imago_link_publish(struct imago_link *l, const char *suffix, const uint8_t *payload,
                       size_t len);

/*
 * Blocking helper: run l's event_base until the link is STOPPED or FAILED,
 * or, with until_online set, until it is ONLINE (then stop it), or until
 * timeout_ms (0 = none) or SIGTERM/SIGINT when handle_signals is set.
 * Returns IMAGO_OK when the goal was met (ONLINE for until_online, a
 * clean stop otherwise), else the last error or IMAGO_ESTATE.
 */
int imago_link_run_blocking(struct imago_link *l, int until_online, uint32_t timeout_ms,
                            int handle_signals);

/* Load certificate PEM (+ chain PEM or NULL) into an identity (through memfd). */
int imago_link_identity_load_pem(struct imago_identity *id, const char *cert_pem,
                                 const char *chain_pem);

/* Call once per process before any link (mosquitto_lib_init); idempotent. */
int imago_link_lib_init(void);

#endif
