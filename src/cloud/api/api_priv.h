/* Module-internal parts of imago_api (see api.h). */
#ifndef IMAGO_CLOUD_API_PRIV_H
#define IMAGO_CLOUD_API_PRIV_H

#include "cloud/api/api.h"
#include "cloud/appdb/appdb.h"
#include "cloud/registry/registry.h"

#include <jansson.h>

#include <stddef.h>
#include <stdint.h>

struct event;
struct evhttp_request;

#define API_ACCESS_TTL       300           /* access token, s */
#define API_REFRESH_TTL      (14 * 86400)  /* refresh token, s */
#define API_REGTOKEN_TTL_DEF 3600          /* registration token when no ttl is given, s */
#define API_DECOMMISSION_MS  10000         /* wait for the wipe command's result */
#define API_WIPE_TTL         60            /* wipe command lifetime, s */
#define API_GRANT_LIFE_MAX   (366 * 86400) /* a grant expires within a year */
#define API_GRANTS_MAX       256           /* grants of one user considered */
#define API_AUDIT_LIMIT_DEF  100
#define API_AUDIT_LIMIT_MAX  1000
#define API_LIST_MAX         10000 /* devices in one list answer */
#define API_ADDR_RATE        50.0  /* requests per second per client address */
#define API_ADDR_BURST       200.0
#define API_USER_RATE        20.0 /* requests per second per account */
#define API_USER_BURST       100.0
#define API_HASH_RATE        2.0 /* password hashes (sign-up, log-in) per second per address */
#define API_HASH_BURST       20.0
#define API_RATE_KEYS        4096
#define API_THROTTLE_KEYS    4096

/* A request waiting for a command result (commands with wait_ms, decommission). */
struct api_waiter {
        struct imago_api *api;
        struct evhttp_request *req; /* NULL once the client went away */
        struct event *timer;
        uint64_t cmd_id;
        uint64_t user;
        int decommission;
        char device[IMAGO_REG_ID_LEN + 1];
        struct api_waiter *next;
};

struct imago_api {
        struct event_base *base;
        struct imago_api_config c;
        struct imago_https_server *srv;
        struct imago_ratelimit *rl_addr;
        struct imago_ratelimit *rl_user;
        struct imago_ratelimit *rl_hash;
        struct imago_auth_throttle *throttle;
        struct api_waiter *waiters;
};

/* The authenticated caller of one request. */
struct api_ctx {
        struct imago_api *api;
        struct evhttp_request *req;
        const char *peer;
        int64_t now;
        uint64_t user; /* 0: not authenticated */
        struct imago_auth_claims claims;
        char name[IMAGO_APPDB_USER_MAX + 1];
        struct imago_auth_grant grants[API_GRANTS_MAX];
        size_t ngrants;
};

/* A device the caller may act on. */
struct api_dev {
        struct imago_reg_device d;
        uint64_t owner;
        int is_owner;
};

int64_t imago_api_now(const struct imago_api *api);
uint64_t imago_api_now_ms(const struct imago_api *api);

/* Replies: JSON object (the reference is consumed), errors with the module's status mapping. */
void imago_api_reply(struct evhttp_request *req, int status, json_t *body);
void imago_api_error(struct evhttp_request *req, int err, const char *message);
int imago_api_status(int err);

/* Request body parsed by fn-specific callers: copies the body (limit IMAGO_API_BODY_MAX). */
int imago_api_body(struct evhttp_request *req, char **buf, size_t *len);
void imago_api_body_free(char *buf, size_t len);

/* Authentication of the bearer token (0, or the error to answer); loads the user's grants. */
int imago_api_authenticate(struct api_ctx *x);
/* Load x->grants from app.db (called by authenticate). */
int imago_api_load_grants(struct api_ctx *x);
/* 1 if some grant in force allows action in any group. */
int imago_api_allowed_any(const struct api_ctx *x, enum imago_auth_action action);

/* The device id if the caller may do action on it: 0, IMAGO_ENOTFOUND (unknown, or not
 * visible to the caller), IMAGO_EAUTH_DENIED (visible but the action is not allowed). */
int imago_api_device_access(struct api_ctx *x, const char *id, enum imago_auth_action action,
                            struct api_dev *out);
void imago_api_dev_free(struct api_dev *d);

/* Audit record by the caller (actor "user:<id>", or "anonymous"); failures are logged. */
void imago_api_audit(struct api_ctx *x, const char *action, const char *object, json_t *detail);

/* Endpoint handlers (x authenticated when the endpoint needs it). */
void imago_api_h_signup(struct api_ctx *x);
void imago_api_h_login(struct api_ctx *x);
void imago_api_h_refresh(struct api_ctx *x);
void imago_api_h_logout(struct api_ctx *x);
void imago_api_h_me(struct api_ctx *x);
void imago_api_h_regtoken(struct api_ctx *x);
void imago_api_h_devices(struct api_ctx *x);
void imago_api_h_device(struct api_ctx *x, const char *id);
void imago_api_h_state_get(struct api_ctx *x, const char *id);
void imago_api_h_state_patch(struct api_ctx *x, const char *id);
void imago_api_h_command(struct api_ctx *x, const char *id);
void imago_api_h_command_get(struct api_ctx *x, const char *id, const char *cid);
void imago_api_h_decommission(struct api_ctx *x, const char *id);
void imago_api_h_grants(struct api_ctx *x);
void imago_api_h_grant_add(struct api_ctx *x);
void imago_api_h_grant_delete(struct api_ctx *x, const char *gid);
void imago_api_h_audit(struct api_ctx *x);
/* Rollouts and device tags (api_rollouts.c, api_tags.c; 503 when c.rollout is NULL). */
void imago_api_h_rollouts(struct api_ctx *x);
void imago_api_h_rollout_create(struct api_ctx *x);
void imago_api_h_rollout(struct api_ctx *x, const char *id);
/* action: "pause", "resume" or "cancel" */
void imago_api_h_rollout_action(struct api_ctx *x, const char *id, const char *action);
void imago_api_h_tags_get(struct api_ctx *x, const char *id);
void imago_api_h_tags_put(struct api_ctx *x, const char *id);
/* The public image repository (api_repo.c): rel is the path after "/v1/repo/"; no
 * authentication (called before it). */
void imago_api_h_repo(struct imago_api *api, struct evhttp_request *req, const char *rel);

/* Command waiters (api_cmd.c). */
void imago_api_waiters_free(struct imago_api *api);
/* JSON of a recorded command ({"command_id","name","status","result","seq"}). */
json_t *imago_api_cmd_json(const struct imago_appdb_cmd *c);

/* JSON of a grant (with "in_force" at now). */
json_t *imago_api_grant_json(const struct imago_appdb_grant *g, int64_t now);

/* JSON of a rollout (docs/api.md "Rollouts"); NULL on no memory. */
struct imago_rollout_info;
json_t *imago_api_rollout_json(const struct imago_rollout_info *i);

/* Strict decimal id in a path (1..UINT64_MAX). */
int imago_api_parse_id(const char *s, uint64_t *out);

#endif
