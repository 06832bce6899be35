/*
 * imago_dev: the device library a firmware team uses to register command
 * handlers and state fields in a few lines, over imago_link.  How to use it:
 * docs/device-app.md; the messages: src/state/state.h, src/cmdenv/cmdenv.h,
 * docs/commands.md, docs/protocol.md.
 *
 * imago_dev_new() registers handlers on the link for the suffixes cmd,
 * state/ack, state/delta and reg/resp (imago_link_handle); every message goes
 * through imago_dev_on_message().
 *
 * Commands (topic cmd): imago_cmdenv_verify() against the pinned command key,
 * this device's id, the last accepted sequence (load_seq), the clock and the
 * skew.  On success the sequence is persisted (save_seq) BEFORE the handler
 * runs, so a crash never lets a command run twice; then the answer on cmd/res
 * (imago_cmdenv_result_build) is:
 *   ok        the handler returned 0 (its result, or {})
 *   failed    the handler returned an error (its result, or {"error":"<IMAGO_E name>"})
 *   unknown   no handler of that name (the sequence is consumed all the same)
 *   rejected  the envelope is authentic (signature verified), addressed to this
 *             device, with a sequence above the last accepted, but outside its
 *             time window (IMAGO_ECMD_EXPIRED, IMAGO_ECMD_NOTYET): the sequence is
 *             persisted first, so "rejected" is final.
 * Nothing is answered (the message is dropped and logged by error name) for an
 * envelope that is malformed, too large, forged or signed by another key, for
 * another device, or a replay (sequence not above the last accepted: also a
 * QoS 1 redelivery, whose first answer stands), nor when no command key is
 * pinned or save_seq fails (then the handler does not run).  So bytes that do
 * not carry the command key's signature never make the device publish.
 *
 * State (src/state): fields are named members of the reported document.
 *   imago_dev_online(): full report {"version":0,"state":{every field's get()}}.
 *   state/ack accepted: the version is remembered; accepted=false (stale): full
 *   report again.  state/delta: for each member naming a writable field, set()
 *   is called with the desired value (an object value: the delta's members
 *   merged into a copy of get(), so set() sees the whole object); the accepted
 *   fields whose get() now differs from what was last reported go out as one
 *   patch report with the last acked version (a full report if no ack came
 *   since online).  Members naming no field or a read-only field are ignored.
 *   imago_dev_state_changed(name): a patch report of that field.
 *
 * Registration: imago_dev_register() keeps a copy of the token (wiped when the
 * answer arrives and on free).  On every online (and at once if the link is
 * online) it publishes reg/req with a fresh random nonce and retries with that
 * nonce every IMAGO_DEV_REG_RETRY_S seconds until a reg/resp with that nonce
 * arrives (answers with another nonce are ignored); then, for "ok", a full
 * state report and done(arg, 0); else done(arg, code) with the IMAGO_E code
 * named in the answer (imago_err_from_name).  done may register again.  The
 * retries run on cfg->base's timer when given, and on imago_dev_tick().
 *
 * Ownership and lifetimes: imago_dev_new() borrows c->link, c->cmd_key and
 * c->base (they must outlive the dev) and copies the rest.  The link keeps the
 * dev as its handlers' argument and has no way to drop handlers: free the link
 * (or stop its loop for good) before imago_dev_free().  If imago_dev_new()
 * fails with an error of imago_link_handle (no room: the link takes 16
 * handlers, the dev needs 4), some handlers may be on the link already: free
 * the link without running it.  Names are copied;
 * handler and field arguments are borrowed.  Handlers run on the link's loop
 * thread; the args json_t given to a handler is borrowed for the call; a result
 * or get() value is a new reference the dev releases.  The answer is published
 * after the handler returns: work that must follow it (wipe, reboot) is
 * scheduled on the loop, and no callback may free the dev or the link.
 * Not thread-safe.
 * Logs carry error names, command names and sequences, never arguments, state
 * values or tokens.
 *
 * Errors: IMAGO_EINVAL (bad arguments or names), IMAGO_ENOMEM, IMAGO_EEXIST (a
 * command or field registered twice), IMAGO_ETOOBIG (more than
 * IMAGO_DEV_MAX_COMMANDS / IMAGO_DEV_MAX_FIELDS, or a token over
 * IMAGO_STATE_TOKEN_MAX), IMAGO_ENOTFOUND (state_changed of an unknown
 * field; IMAGO_EINVAL if its get() gives nothing reportable), IMAGO_ESTATE (a registration already
 * pending), errors of imago_link_handle.
 */
#ifndef IMAGO_DEVICE_APP_DEV_H
#define IMAGO_DEVICE_APP_DEV_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/crypto.h"
#include "device/link/link.h"

#define IMAGO_DEV_MAX_COMMANDS 32
#define IMAGO_DEV_MAX_FIELDS   32
#define IMAGO_DEV_REG_RETRY_S  10

struct event_base;

struct imago_dev_config {
        struct imago_link *link; /* borrowed; handlers registered in imago_dev_new */
        const struct imago_pubkey
            *cmd_key; /* pinned Ed25519 command key, borrowed; NULL: commands refused */
        int64_t skew; /* allowed clock skew, s (0 = 300) */
        int (*load_seq)(void *arg, uint64_t *seq); /* last accepted command sequence (0 none) */
        int (*save_seq)(void *arg, uint64_t seq);  /* persisted before a handler runs */
        void *seq_arg;
        /* Optional additions (zero: the defaults). */
        struct event_base *base; /* borrowed: runs the registration retry timer; NULL: none */
        int64_t (*now)(void);    /* clock, unix s; NULL: time() */
        /* Test hooks: publish instead of imago_link_publish (link may then be NULL and is not
         * subscribed), and the device id to use instead of imago_link_device_id(link). */
        int (*publish)(void *arg, const char *suffix, const uint8_t *buf, size_t len);
        void *publish_arg;
        const char *device_id;
};

struct imago_dev;

int imago_dev_new(const struct imago_dev_config *c, struct imago_dev **out);
void imago_dev_free(struct imago_dev *d);

/* handler: 0 = ok (result may be set, a new reference), else failed (result may explain) */
typedef int (*imago_dev_cmd_fn)(void *arg, const char *name, json_t *args, json_t **result);
int imago_dev_command(struct imago_dev *d, const char *name, imago_dev_cmd_fn fn, void *arg);

typedef json_t *(*imago_dev_get_fn)(void *arg);              /* current value, new reference */
typedef int (*imago_dev_set_fn)(void *arg, json_t *desired); /* 0 accepted (then reported) */
int imago_dev_state_field(struct imago_dev *d, const char *name, imago_dev_get_fn get,
                          imago_dev_set_fn set /* NULL: read-only */, void *arg);
int imago_dev_state_changed(struct imago_dev *d, const char *name); /* report it now */

/* Forward a registration token once online; done(arg, 0 | IMAGO_E*) on the answer; the copy is
 * wiped. */
int imago_dev_register(struct imago_dev *d, const char *token, void (*done)(void *arg, int result),
                       void *arg);

/* The owner of the link's on_state calls this on every ONLINE: full report (version 0), pending
 * register. */
void imago_dev_online(struct imago_dev *d);

/* A message on imago/v1/d/<id>/<suffix> (the link handlers call this; tests and fuzzers too).
 * Never fails: what cannot be used is dropped and logged. */
void imago_dev_on_message(struct imago_dev *d, const char *suffix, const uint8_t *buf, size_t len);

/* Retry a pending registration if IMAGO_DEV_REG_RETRY_S passed since the last send
 * (called by the timer of cfg->base; call it yourself without one). */
void imago_dev_tick(struct imago_dev *d);

#endif
