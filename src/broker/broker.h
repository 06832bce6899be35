/*
 * imago_broker: the Mosquitto 2.0 plugin (plugin API v5) that enforces
 * src/authz inside the broker.  See docs/broker.md for options, identity
 * rules, the control protocol and the deny file.
 *
 * This header is the plugin's internal interface, split so that every part
 * that handles untrusted bytes can be unit tested and fuzzed without a
 * broker:
 *   deny set   (broker_deny.c)    ids and serials refused; parsed strictly from
 *                                 the deny file (jansson, size and count limits)
 *   control    (broker_control.c) one control message from $CONTROL/imago/v1
 *   cert facts (broker_cert.c)    CN, OU, serial and issuing imago CA of a
 *                                 client certificate (OpenSSL)
 *   conn table (broker_conn.c)    identity of each authenticated client id
 *   plugin     (broker_plugin.c)  the Mosquitto glue (the only file that
 *                                 includes the broker headers)
 *
 * Prefix broker_.  Errors are negative IMAGO_E* codes (base/err.h).
 * Ownership: every *_free releases what the matching parse/init allocated;
 * pointers returned by lookups stay valid until the next change of the set.
 * Not thread-safe: Mosquitto 2.0 calls plugins from its single main thread.
 */
#ifndef IMAGO_BROKER_BROKER_H
#define IMAGO_BROKER_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "authz/authz.h"

#define BROKER_DENY_FILE_MAX (16u * 1024u * 1024u) /* bytes: room for both maxima */
#define BROKER_DENY_MAX      100000u               /* ids, and serials, each */
#define BROKER_CONTROL_MAX   1024u                 /* bytes of one control message */
#define BROKER_SERIAL_MAX    40u                   /* hex chars (20 bytes) */
#define BROKER_SEEN_TOPIC    "imago/v1/svc/seen"
#define BROKER_CONTROL_TOPIC "$CONTROL/imago/v1"

enum broker_deny_reason {
        BROKER_DENY_NONE = 0,
        BROKER_DENY_REVOKED = 1,
        BROKER_DENY_SUSPENDED = 2,
};

struct broker_deny_id {
        char id[IMAGO_AUTHZ_ID_LEN + 1];
        enum broker_deny_reason reason;
};

struct broker_deny_serial {
        char serial[BROKER_SERIAL_MAX + 1];
};

/* Sorted arrays (bsearch); empty set = all zero. */
struct broker_deny {
        struct broker_deny_id *ids;
        size_t n_ids, cap_ids;
        struct broker_deny_serial *serials;
        size_t n_serials, cap_serials;
};

/*
 * Parse a deny file: {"v": 1, "ids": {"<id>": "revoked"|"suspended"},
 * "serials": ["<hex>"]} and nothing else (duplicate keys, unknown fields,
 * ids that are not device ids, serials that are not 2..40 lowercase hex
 * digits of even length, over BROKER_DENY_MAX entries or BROKER_DENY_FILE_MAX
 * bytes are errors).  On success *out is replaced (caller frees with
 * broker_deny_free); on error *out is untouched.
 * Errors: IMAGO_ETOOBIG, IMAGO_EMALFORMED (not JSON), IMAGO_EPROTO_FIELD,
 * IMAGO_EPROTO_VERSION, IMAGO_ENOMEM.
 */
int broker_deny_parse(const uint8_t *buf, size_t len, struct broker_deny *out);

/* Read and parse path (regular file, at most BROKER_DENY_FILE_MAX bytes). */
int broker_deny_load(const char *path, struct broker_deny *out);

void broker_deny_free(struct broker_deny *d);

/* BROKER_DENY_NONE when id is not denied. */
enum broker_deny_reason broker_deny_id_reason(const struct broker_deny *d, const char *id);
int broker_deny_has_serial(const struct broker_deny *d, const char *serial);

/* Add (or update the reason of) an id / add a serial; remove an id.  0 or IMAGO_E*. */
int broker_deny_add_id(struct broker_deny *d, const char *id, enum broker_deny_reason reason);
int broker_deny_add_serial(struct broker_deny *d, const char *serial);
void broker_deny_remove_id(struct broker_deny *d, const char *id);

/* Syntax checks shared by the parsers. */
int broker_is_device_id(const char *s);
int broker_is_serial(const char *s);

enum broker_op {
        BROKER_OP_DENY = 1,
        BROKER_OP_ALLOW = 2,
        BROKER_OP_DENY_SERIAL = 3,
        BROKER_OP_RELOAD = 4,
};

struct broker_control {
        enum broker_op op;
        char id[IMAGO_AUTHZ_ID_LEN + 1];    /* DENY, ALLOW */
        enum broker_deny_reason reason;     /* DENY */
        char serial[BROKER_SERIAL_MAX + 1]; /* DENY_SERIAL */
};

/*
 * Parse one control message (see docs/protocol.md): exactly the fields of
 * its op, no others.  Errors: IMAGO_ETOOBIG, IMAGO_EMALFORMED, IMAGO_EPROTO_FIELD.
 */
int broker_control_parse(const uint8_t *buf, size_t len, struct broker_control *out);

/* The facts the plugin takes from a client certificate. */
struct broker_cert_facts {
        enum imago_authz_issuer issuer;
        char cn[IMAGO_AUTHZ_NAME_MAX + 1];
        char ou[16];
        char serial[BROKER_SERIAL_MAX + 1];
};

/* The three imago CAs a client certificate may come from (NULL when not configured). */
struct broker_cas {
        X509 *factory, *issuing, *server;
};

/*
 * Fill *f from cert: issuer = the configured CA that issued it (name match
 * and signature check), exactly one CN and one OU (no NUL, bounded),
 * serial as lowercase hex.  Errors: IMAGO_EPKI_CHAIN (no imago CA issued
 * it), IMAGO_EPKI_NAME (CN/OU missing, repeated, too long), IMAGO_ECRYPTO.
 */
int broker_cert_facts(X509 *cert, const struct broker_cas *cas, struct broker_cert_facts *f);

/* Load one PEM certificate file.  Errors: IMAGO_EIO, IMAGO_EPKI_NAME. */
int broker_cert_load(const char *path, X509 **out);

/* Identity of each authenticated connection, keyed by client id (= CN). */
struct broker_conn {
        char client_id[IMAGO_AUTHZ_NAME_MAX + 1];
        const void
            *client; /* Mosquitto's context at authentication (compared, never dereferenced) */
        struct imago_authz_identity who;
        char serial[BROKER_SERIAL_MAX + 1];
        int64_t gone_at; /* 0 while connected; else when a clean session ended (seconds) */
        struct broker_conn *next;
};

#define BROKER_CONN_BUCKETS 4096u

struct broker_conns {
        struct broker_conn *bucket[BROKER_CONN_BUCKETS];
        size_t count;
};

/* Insert or replace the entry of e->client_id (copied).  0 or IMAGO_ENOMEM. */
int broker_conns_put(struct broker_conns *t, const struct broker_conn *e);
struct broker_conn *broker_conns_get(struct broker_conns *t, const char *client_id);
/* Remove client_id's entry; when client is not NULL only if the entry belongs to it. */
void broker_conns_remove(struct broker_conns *t, const char *client_id, const void *client);
/*
 * A clean session ended: mark client_id's entry gone at now (only if it belongs to
 * client).  The entry stays for the checks that follow a disconnect (the will
 * message, published after Mosquitto's DISCONNECT event) until
 * broker_conns_reap() removes entries gone for at least min_age seconds.
 */
void broker_conns_mark_gone(struct broker_conns *t, const char *client_id, const void *client,
                            int64_t now);
void broker_conns_reap(struct broker_conns *t, int64_t now, int64_t min_age);
/* Call fn for every entry (fn must not change the table). */
void broker_conns_each(struct broker_conns *t, void (*fn)(struct broker_conn *e, void *arg),
                       void *arg);
void broker_conns_free(struct broker_conns *t);

#endif
