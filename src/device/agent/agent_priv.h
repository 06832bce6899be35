/* imago_agent internals shared by its files (see agent.h). */
#ifndef IMAGO_DEVICE_AGENT_AGENT_PRIV_H
#define IMAGO_DEVICE_AGENT_AGENT_PRIV_H

#include "device/agent/agent.h"

#include "crypto/crypto.h"
#include "device/identity/identity.h"

#include <stddef.h>
#include <stdint.h>

struct event;
struct event_base;
struct imago_link;
struct imago_dev;
struct imago_store;
struct imago_agent_portal;
struct imago_agent_ota;

#define AGENT_PIN_MAX 256

struct imago_agent {
        const struct imago_agent_conf *conf; /* borrowed */
        const struct imago_agent_app *app;   /* borrowed, may be NULL */
        const char *prog;
        struct event_base *base;
        struct imago_identity *id;
        struct imago_store *store;
        struct imago_pubkey cmd_key;
        int have_cmd_key;
        char devid[IMAGO_DEVICE_ID_LEN + 1];
        char *birth; /* birth certificate PEM (public) */
        int once;
        uint32_t timeout_s;
        /* what runs now: the portal, or the link with its dev */
        struct imago_agent_portal *portal;
        struct imago_link *link;
        struct imago_dev *dev;
        struct event *ev_reset;      /* deferred factory reset (wipe command) */
        struct imago_agent_ota *ota; /* the update client, NULL when updates are off */
        int argc;                    /* the agent's arguments, for the reboot (borrowed) */
        char **argv;
        int rc; /* exit status */
};

/* agent_util.c */
int imago_agent_get_pem(struct imago_store *s, const char *name, char **out);
int imago_agent_read_text(const char *path, size_t max, char **out);
int imago_agent_read_pin(const char *path, char pin[AGENT_PIN_MAX]);
int imago_agent_get_u64(struct imago_store *s, const char *name, uint64_t *v);
int imago_agent_put_u64(struct imago_store *s, const char *name, uint64_t v);
/* The record as a NUL-terminated malloc'd string (*out NULL if absent); wipe+free by caller. */
int imago_agent_get_str(struct imago_store *s, const char *name, char **out, size_t *len);
void imago_agent_free_secret(char *s);
uint64_t imago_agent_now_ms(void);
/* jansson allocations are wiped when freed (json_set_alloc_funcs); idempotent. */
void imago_agent_json_wiping(void);

/* agent_portal.c */
int imago_agent_portal_open(struct imago_agent *a);
void imago_agent_portal_free(struct imago_agent_portal *p);

/* agent_ota.c: the update client on the link (docs/ota.md "Device"); start logs why updates
 * are off and returns 0 then; stop joins the worker (before the link is freed). */
int imago_agent_ota_start(struct imago_agent *a);
void imago_agent_ota_stop(struct imago_agent *a);
void imago_agent_ota_link_state(struct imago_agent *a, int online);

/* agent_run.c */
/* Portal or link, whichever the store calls for. */
int imago_agent_begin(struct imago_agent *a);
/* The link (enrolment/operational), its dev, the app's handlers, a pending registration. */
int imago_agent_link_open(struct imago_agent *a);
/* Free whatever runs (not from inside a link callback). */
void imago_agent_stop_all(struct imago_agent *a);
/* Stop everything, delete all but the factory records, begin again. */
int imago_agent_reset(struct imago_agent *a);

#endif
