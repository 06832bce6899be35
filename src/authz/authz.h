/*
 * imago_authz: the one connect/publish/subscribe decision of the fleet.
 *
 * Used by the Mosquitto plugin (src/broker) and by imago-cloud's HTTP
 * authorization endpoint (EMQX / VerneMQ shape), so every broker enforces
 * exactly the same rules.  Pure C: no I/O, no allocation, no OpenSSL; the
 * caller extracts the facts from the certificate (CN, OU, which imago CA
 * issued it, serial) and keeps the deny set.  See docs/broker.md.
 *
 * Identities (role from the certificate's OU and its issuing CA, both must agree):
 *   BIRTH    OU=birth,   issued by the factory CA, CN = device id
 *   DEVICE   OU=device,  issued by the issuing CA, CN = device id
 *   SERVICE  OU=service, issued by the server CA,  CN = the service name
 * Topics (device id = 32 lowercase hex):
 *   BIRTH:   publish   imago/v1/prov/<id>/req      subscribe imago/v1/prov/<id>/resp
 *   DEVICE:  publish and subscribe under imago/v1/d/<id>/  (filters may use + and #
 *            only below that prefix)
 *   SERVICE: publish and subscribe under imago/v1/, and publish $CONTROL/imago/v1
 * Everything else is denied, including $SYS and any topic with a NUL or with
 * wildcards in a publish.
 *
 * Syntax of every topic and filter: 1..IMAGO_AUTHZ_TOPIC_MAX bytes, no NUL or
 * control byte, no empty level (leading, trailing or double '/'), at most 32
 * levels, '+' and '#' only as a whole level and '#' only last, none at all in
 * a publish.  Prefix levels are compared literally, so a wildcard never stands
 * for a prefix level or a device id.  The only '$' topic allowed is the
 * service's publish to $CONTROL/imago/v1.
 *
 * Delivery of a message to a subscriber (Mosquitto's MOSQ_ACL_READ, and the
 * same check in other brokers) should be decided as IMAGO_AUTHZ_SUBSCRIBE of
 * the message's exact topic by the receiving identity.
 *
 * Errors: none; functions return IMAGO_AUTHZ_ALLOW or IMAGO_AUTHZ_DENY and,
 * through *why, a static reason for logs.
 */
#ifndef IMAGO_AUTHZ_AUTHZ_H
#define IMAGO_AUTHZ_AUTHZ_H

#include <stddef.h>

#define IMAGO_AUTHZ_ID_LEN    32 /* = IMAGO_DEVICE_ID_LEN (base/hex.h) */
#define IMAGO_AUTHZ_NAME_MAX  64
#define IMAGO_AUTHZ_TOPIC_MAX 256

enum imago_authz_result {
        IMAGO_AUTHZ_DENY = 0,
        IMAGO_AUTHZ_ALLOW = 1,
};

enum imago_authz_role {
        IMAGO_AUTHZ_NONE = 0,
        IMAGO_AUTHZ_BIRTH = 1,
        IMAGO_AUTHZ_DEVICE = 2,
        IMAGO_AUTHZ_SERVICE = 3,
};

/* Which imago CA issued the certificate (checked by the caller cryptographically). */
enum imago_authz_issuer {
        IMAGO_AUTHZ_ISSUER_UNKNOWN = 0,
        IMAGO_AUTHZ_ISSUER_FACTORY = 1,
        IMAGO_AUTHZ_ISSUER_ISSUING = 2,
        IMAGO_AUTHZ_ISSUER_SERVER = 3,
};

enum imago_authz_action {
        IMAGO_AUTHZ_PUBLISH = 1,
        IMAGO_AUTHZ_SUBSCRIBE = 2,
};

/* The identity of a connection, as established at connect time. */
struct imago_authz_identity {
        enum imago_authz_role role;
        char name[IMAGO_AUTHZ_NAME_MAX + 1]; /* CN: device id or service name */
};

/*
 * Role of a certificate from its OU and issuer; IMAGO_AUTHZ_NONE when they
 * disagree, the OU is unknown, or a device CN is not a device id.
 */
enum imago_authz_role imago_authz_role_of(const char *ou, enum imago_authz_issuer issuer,
                                          const char *cn);

/* Connect decision: role known, name valid, and not denied by the caller's deny set. */
enum imago_authz_result imago_authz_connect(const struct imago_authz_identity *who, int denied,
                                            const char **why);

/* Publish or subscribe decision for one topic (or topic filter when subscribing). */
enum imago_authz_result imago_authz_topic(const struct imago_authz_identity *who,
                                          enum imago_authz_action action, const char *topic,
                                          size_t topic_len, const char **why);

/* Fill who from role and CN; IMAGO_AUTHZ_DENY if the CN does not fit the role. */
enum imago_authz_result imago_authz_identity_set(struct imago_authz_identity *who,
                                                 enum imago_authz_role role, const char *cn);

#endif
