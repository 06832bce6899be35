/*
 * imago_devsvc: the cloud's device-facing logic of issue 5 (registration,
 * state documents, signed commands, retirement) over imago_appdb,
 * imago_regtoken, imago_cmdenv, imago_audit and imago_registry.  No MQTT and
 * no HTTP here: messages come in through imago_devsvc_on_message() and go
 * out through ops->publish; the API (src/cloud/api) calls set_desired,
 * command and retire.  docs/protocol.md ("State", "Registration",
 * "Commands on the channel") and docs/state.md are the contract.
 *
 * Topics: imago/v1/d/<32 lowercase hex>/<suffix>, parsed strictly (no other
 * prefix, no extra level).  Incoming suffixes: reg/req, state/rep, cmd/res;
 * anything else is dropped.  A message is acted on only when the device is
 * ENROLLED in the registry: unknown, imported, suspended and revoked
 * devices' messages are dropped (logged, never answered).  A command result
 * whose device differs from the topic's is dropped.
 *
 * Registration (reg/req): the token is redeemed with imago_regtoken_redeem()
 * (replay store: imago_appdb_claim_nonce), the user (a name in the token) is
 * looked up and the device bound to it; the answer on reg/resp carries "ok"
 * or the error name (IMAGO_ECMD_TOKEN, IMAGO_ECMD_TOKEN_ALG,
 * IMAGO_ECMD_TOKEN_EXPIRED, IMAGO_EEXIST for a replay, IMAGO_EAPI_BOUND,
 * IMAGO_ENOTFOUND for a user that no longer exists, ...).  Every attempt is
 * audited (device.register, actor "device:<id>").
 * State (state/rep): version 0 replaces the reported document, another
 * version merges if it is the current one; state/ack answers (accepted or
 * stale with the current version); then state/delta is published when the
 * desired document differs from the reported one.
 * Commands: envelopes signed with the Ed25519 command key, seq from
 * imago_appdb_cmd_new (strictly increasing per device), published on
 * imago/v1/d/<id>/cmd; results (cmd/res) are recorded once and
 * ops->cmd_done is called with the command id.
 * Audit actions: device.register, device.state.desired, device.command,
 * device.decommission (actors "user:<id>" for API calls).
 *
 * Ownership: imago_devsvc_new() allocates; imago_devsvc_free() frees (NULL
 * fine).  Everything in the config is borrowed and must outlive the devsvc.
 * One thread (the service loop) uses a devsvc.  Tokens are wiped after use
 * and never logged.
 *
 * Errors: IMAGO_EINVAL (bad arguments: device id, command name, ttl outside
 * 1..3600, actor 0), IMAGO_ENOMEM, IMAGO_EREG_UNKNOWN (no such device),
 * IMAGO_EREG_STATE (device not ENROLLED), IMAGO_ESTATE_VERSION (stale
 * expected version; *new_version gets the current one), IMAGO_ESTATE_DOC,
 * IMAGO_EMALFORMED / IMAGO_ETOOBIG (patch or args text), and what the
 * modules below return (IMAGO_EREG_DB, IMAGO_EAUDIT_DB, publish errors).
 */
#ifndef IMAGO_CLOUD_DEVSVC_H
#define IMAGO_CLOUD_DEVSVC_H

#include <stddef.h>
#include <stdint.h>

struct imago_appdb;
struct imago_audit;
struct imago_registry;
struct imago_regtoken_key;
struct imago_privkey;
struct imago_devsvc;

struct imago_devsvc_ops {
        /* QoS 1 publish on the service's MQTT session */
        int (*publish)(void *arg, const char *topic, const void *buf, size_t len);
        /* registry revoke + deny file + control deny (kicks live sessions) */
        int (*revoke)(void *arg, const char *device, const char *reason);
        /* a command got its result (or expired): wake API waiters */
        void (*cmd_done)(void *arg, uint64_t cmd_id);
        void *arg;
};

struct imago_devsvc_config {
        struct imago_appdb *db;                  /* borrowed */
        struct imago_audit *audit;               /* borrowed */
        struct imago_registry *reg;              /* borrowed */
        const struct imago_regtoken_key *regkey; /* borrowed */
        const struct imago_privkey *cmd_key;     /* borrowed, Ed25519 */
        int64_t (*now)(void);                    /* NULL: time() */
};

int imago_devsvc_new(const struct imago_devsvc_config *c, const struct imago_devsvc_ops *ops,
                     struct imago_devsvc **out);
void imago_devsvc_free(struct imago_devsvc *ds);

/* MQTT message on imago/v1/d/<id>/{reg/req,state/rep,cmd/res}: parse strictly, act, answer.
 * Messages of unknown/revoked devices are dropped (logged). Never crashes on any bytes. */
void imago_devsvc_on_message(struct imago_devsvc *ds, const char *topic, const uint8_t *buf,
                             size_t len);

/* Desired state patch by actor (user id): conditional on expected_version; publishes the delta. */
int imago_devsvc_set_desired(struct imago_devsvc *ds, const char *device, uint64_t actor,
                             uint64_t expected_version, const char *patch, size_t len,
                             uint64_t *new_version);

/* Sign and publish a command (args: JSON object text or NULL); ttl 1..3600 s. */
int imago_devsvc_command(struct imago_devsvc *ds, const char *device, uint64_t actor,
                         const char *name, const char *args, int64_t ttl, uint64_t *cmd_id);

/* After the wipe command (answered or timed out): revoke, unbind, clear state, audit. */
int imago_devsvc_retire(struct imago_devsvc *ds, const char *device, uint64_t actor);

#endif
