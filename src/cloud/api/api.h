/*
 * imago_api: the HTTPS API of imago-cloud for apps and operators (issue 5).
 * docs/api.md lists every endpoint with a curl example, the error format and
 * codes, the limits, the rate limits and the threat model.
 *
 * JSON in and out.  Errors: {"error":{"code":"IMAGO_E...","message":"..."}}
 * with the HTTP status of imago_https_status_of().  Request bodies are parsed
 * by the pure functions below (strict: src/json, unknown members refused,
 * every string length-checked); they are the fuzz target's surface.
 *
 * Authentication: "Authorization: Bearer <access token>" (imago_auth_token,
 * 5 minutes) checked on every request together with the revocation list in
 * app.db; refresh tokens rotate on every use; no Basic authentication.
 * Authorization on every object: the device's owner (appdb ownership) or a
 * grant in force on the device's group (its registry batch) that allows the
 * action.  An unknown device and another user's device both answer 404
 * IMAGO_ENOTFOUND.  Rate limits per client address (every request) and per
 * account (authenticated requests); log-in throttling by imago_auth_throttle
 * (429 with Retry-After).
 *
 * The image repository (GET /v1/repo/metadata/<file>, /v1/repo/targets/<path>) is
 * public: no authentication, files beneath DATA_DIR/repo only (no symbolic link, regular
 * files), one byte range per request (imago_api_parse_range); the devices verify all of it.
 *
 * Commands: the request stays pending until imago_api_cmd_done() reports its
 * result or wait_ms passes (then 202 with the command id); a client closing
 * its connection meanwhile is handled.
 *
 * Ownership: imago_api_new() borrows base and everything the config points at
 * (they outlive the api); the token secret is copied and wiped at free.
 * imago_api_free() closes the listener and every connection (pending command
 * requests are dropped).  One thread: the event loop's.
 *
 * Errors: IMAGO_EINVAL, IMAGO_ENOMEM, IMAGO_EIO (listen); the parsers:
 * IMAGO_ETOOBIG, IMAGO_EMALFORMED (not one JSON object, duplicate keys,
 * trailing bytes), IMAGO_EINVAL (a member missing, unknown, of the wrong type
 * or out of its range), IMAGO_ESTATE_DOC (desired patch not a state document).
 */
#ifndef IMAGO_CLOUD_API_H
#define IMAGO_CLOUD_API_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "cloud/auth/auth.h"
#include "cloud/rollout/rollout.h"
#include "net/https.h"

struct event_base;
struct imago_regtoken_key;
struct imago_appdb;
struct imago_audit;
struct imago_registry;
struct imago_devsvc;
struct imago_rollout;
struct imago_rollout_ops;
struct imago_api;

struct imago_api_config {
        const char *host;
        uint16_t port; /* port 0: ephemeral (tests) */
        SSL_CTX *ssl;  /* borrowed (imago_https_server_ctx) */
        struct imago_https_limits limits;
        uint8_t token_secret[32];
        const struct imago_regtoken_key *regkey;
        struct imago_appdb *db;
        struct imago_audit *audit;
        struct imago_registry *reg;
        struct imago_devsvc *ds;
        struct imago_auth_argon2 argon; /* imago_auth_argon2_defaults (zeroed: those) */
        int signup;                     /* POST /v1/users open to anyone */
        /* Issue 6 rollouts (src/cloud/rollout): NULL rollout = the rollout endpoints answer
         * 503; ops are the service's (director assignment + nudge, audit); data_dir is where
         * the image repository lives (targets are looked up in DIR/repo). All borrowed. */
        struct imago_rollout *rollout;
        const struct imago_rollout_ops *rollout_ops;
        const char *data_dir;
        int64_t (*now)(void); /* NULL: time() */
};

int imago_api_new(struct event_base *base, const struct imago_api_config *c,
                  struct imago_api **out);
uint16_t imago_api_port(const struct imago_api *api);
void imago_api_cmd_done(struct imago_api *api, uint64_t cmd_id); /* from devsvc ops.cmd_done */
void imago_api_free(struct imago_api *api);

/* ---- request body parsers (pure; tests and the fuzz target) ---- */

#define IMAGO_API_BODY_MAX    16384 /* request bodies, bytes (below limits.max_body) */
#define IMAGO_API_WAIT_MAX    30000 /* wait_ms */
#define IMAGO_API_WAIT_DEF    10000
#define IMAGO_API_CMD_TTL_DEF 300 /* command ttl when not given, s (1..3600) */

/* POST /v1/users, /v1/auth/login: {"user","password"}.  password: 1..IMAGO_AUTH_PASSWORD_MAX
 * bytes (policy checked by the handler); wipe with imago_api_creds_wipe. */
struct imago_api_creds {
        char user[65];
        char password[IMAGO_AUTH_PASSWORD_MAX + 1];
        size_t password_len;
};
int imago_api_parse_creds(const uint8_t *buf, size_t len, struct imago_api_creds *out);
void imago_api_creds_wipe(struct imago_api_creds *c);

/* POST /v1/auth/refresh, /v1/auth/logout: {"refresh_token"}; a string not of the refresh-token
 * format: IMAGO_EAUTH_REFRESH (401, like an unknown one).  tok is wiped on failure. */
int imago_api_parse_refresh(const uint8_t *buf, size_t len, char tok[IMAGO_AUTH_REFRESH_LEN + 1]);

/* POST /v1/registration-tokens: {} or {"ttl": 1..86400}; empty body = {}. *ttl = 0 when absent. */
int imago_api_parse_regtoken(const uint8_t *buf, size_t len, int64_t *ttl);

/* PATCH /v1/devices/{id}/state: {"desired":{patch},"version":N}; *patch = compact text
 * (malloc'd, sorted keys) of a valid state patch. */
int imago_api_parse_state(const uint8_t *buf, size_t len, char **patch, uint64_t *version);

/* POST /v1/devices/{id}/commands: {"name","args"?,"ttl"?,"wait_ms"?}; *args = compact text of
 * an object (malloc'd) or NULL. */
struct imago_api_cmd_req {
        char name[33];
        char *args;
        int64_t ttl;      /* 1..3600, default IMAGO_API_CMD_TTL_DEF */
        uint32_t wait_ms; /* 0..IMAGO_API_WAIT_MAX, default IMAGO_API_WAIT_DEF */
};
int imago_api_parse_command(const uint8_t *buf, size_t len, struct imago_api_cmd_req *out);
void imago_api_cmd_req_free(struct imago_api_cmd_req *r);

/* POST /v1/grants: {"user":name,"role":name,"group","expires":unix s, "not_before"?}. */
struct imago_api_grant_req {
        char user[65];
        enum imago_auth_role role;
        char group[IMAGO_AUTH_GROUP_MAX + 1];
        int64_t not_before; /* 0 when absent: now */
        int64_t expires;
};
int imago_api_parse_grant(const uint8_t *buf, size_t len, struct imago_api_grant_req *out);

/* POST /v1/rollouts: {"name"?,"target","group"?,"tag"?,"stages"?,"max_concurrent"?,
 * "abort_percent"?,"abort_min"?,"device_timeout_s"?}; at least one of group and tag.  Defaults:
 * stages [100], max_concurrent 10, abort_percent 20, abort_min 5, device_timeout_s 3600.  Names:
 * name 0..64 printable ASCII, target 1..IMAGO_VREPORT_TARGET_MAX printable ASCII without spaces,
 * "..", a leading '/' or a backslash; group and tag [A-Za-z0-9._-]{1,64}; the numbers and stages in
 * the limits of imago_rollout_spec_check (which *out passes). */
int imago_api_parse_rollout(const uint8_t *buf, size_t len, struct imago_rollout_spec *out);

/* PUT /v1/devices/{id}/tags: {"tags":[tag,...]}: 0..IMAGO_ROLLOUT_TAGS_MAX distinct tags of
 * [A-Za-z0-9._-]{1,64} (an empty list clears). */
struct imago_api_tags {
        char tags[IMAGO_ROLLOUT_TAGS_MAX][IMAGO_ROLLOUT_TAG_MAX + 1];
        size_t n;
};
int imago_api_parse_tags(const uint8_t *buf, size_t len, struct imago_api_tags *out);
/* 1 if s is a valid tag (or group) name: [A-Za-z0-9._-]{1,64}. */
int imago_api_tag_valid(const char *s);

/* GET /v1/repo/... (no authentication): a range answer carries at most this many bytes. */
#define IMAGO_API_REPO_RANGE_MAX (1024U * 1024U)

/* The value of a Range header: exactly "bytes=START-END" (END >= START) or "bytes=START-"
 * (*end = UINT64_MAX); decimal, 1..19 digits, no sign, space or leading zero.  IMAGO_EINVAL
 * for anything else (suffix ranges, several ranges, other units); *start and *end are 0 then. */
int imago_api_parse_range(const char *s, size_t len, uint64_t *start, uint64_t *end);

#endif
