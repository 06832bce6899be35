/* See api.h: creation, the listener and the router. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/api/api_priv.h"

#include "base/err.h"
#include "base/log.h"
#include "base/wipe.h"

#include <event2/event.h>
#include <event2/http.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define API_SEGS 6

int64_t imago_api_now(const struct imago_api *api)
{
        return api->c.now != NULL ? api->c.now() : (int64_t)time(NULL);
}

uint64_t imago_api_now_ms(const struct imago_api *api)
{
        struct timespec ts;

        if (api->c.now != NULL) {
                int64_t s = api->c.now();

                return s > 0 ? (uint64_t)s * 1000U : 0;
        }
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
}

/* Split "/v1/a/b" into segments (at most API_SEGS, none empty); buf holds the copy. */
static int split_path(const char *path, char *buf, size_t cap, char **seg, size_t *n)
{
        size_t len = strlen(path), i;
        char *p;

        *n = 0;
        if (len == 0 || len >= cap || path[0] != '/')
                return IMAGO_EAPI_ROUTE;
        memcpy(buf, path + 1, len);
        p = buf;
        for (i = 0;; i++) {
                char *slash = strchr(p, '/');

                if (i >= API_SEGS)
                        return IMAGO_EAPI_ROUTE;
                if (slash != NULL)
                        *slash = '\0';
                if (*p == '\0')
                        return IMAGO_EAPI_ROUTE;
                seg[i] = p;
                if (slash == NULL)
                        break;
                p = slash + 1;
        }
        *n = i + 1;
        return IMAGO_OK;
}

static int is(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

enum route {
        R_NONE = 0,
        R_USERS,
        R_LOGIN,
        R_REFRESH,
        R_LOGOUT,
        R_ME,
        R_REGTOKENS,
        R_DEVICES,
        R_DEVICE,
        R_STATE,
        R_COMMANDS,
        R_COMMAND,
        R_DECOMMISSION,
        R_GRANTS,
        R_GRANT,
        R_AUDIT,
        R_ROLLOUTS,
        R_ROLLOUT,
        R_ROLLOUT_ACTION,
        R_TAGS,
};

static enum route route_of(char **s, size_t n)
{
        if (n < 2 || !is(s[0], "v1"))
                return R_NONE;
        if (n == 2 && is(s[1], "users"))
                return R_USERS;
        if (n == 3 && is(s[1], "auth"))
                return is(s[2], "login")     ? R_LOGIN
                       : is(s[2], "refresh") ? R_REFRESH
                       : is(s[2], "logout")  ? R_LOGOUT
                                             : R_NONE;
        if (n == 2 && is(s[1], "me"))
                return R_ME;
        if (n == 2 && is(s[1], "registration-tokens"))
                return R_REGTOKENS;
        if (n == 2 && is(s[1], "grants"))
                return R_GRANTS;
        if (n == 3 && is(s[1], "grants"))
                return R_GRANT;
        if (n == 2 && is(s[1], "audit"))
                return R_AUDIT;
        if (n == 2 && is(s[1], "rollouts"))
                return R_ROLLOUTS;
        if (n == 3 && is(s[1], "rollouts"))
                return R_ROLLOUT;
        if (n == 4 && is(s[1], "rollouts") &&
            (is(s[3], "pause") || is(s[3], "resume") || is(s[3], "cancel")))
                return R_ROLLOUT_ACTION;
        if (!is(s[1], "devices"))
                return R_NONE;
        if (n == 2)
                return R_DEVICES;
        if (n == 3)
                return R_DEVICE;
        if (n == 4 && is(s[3], "state"))
                return R_STATE;
        if (n == 4 && is(s[3], "commands"))
                return R_COMMANDS;
        if (n == 5 && is(s[3], "commands"))
                return R_COMMAND;
        if (n == 4 && is(s[3], "decommission"))
                return R_DECOMMISSION;
        if (n == 4 && is(s[3], "tags"))
                return R_TAGS;
        return R_NONE;
}

/* The methods a route takes ("GET", "POST"...; second may be NULL). */
static void methods_of(enum route rt, enum evhttp_cmd_type *m1, enum evhttp_cmd_type *m2,
                       const char **allow)
{
        *m2 = 0;
        switch (rt) {
        case R_ME:
        case R_DEVICES:
        case R_DEVICE:
        case R_COMMAND:
        case R_AUDIT:
        case R_ROLLOUT:
                *m1 = EVHTTP_REQ_GET;
                *allow = "GET";
                break;
        case R_STATE:
                *m1 = EVHTTP_REQ_GET;
                *m2 = EVHTTP_REQ_PATCH;
                *allow = "GET, PATCH";
                break;
        case R_GRANTS:
        case R_ROLLOUTS:
                *m1 = EVHTTP_REQ_GET;
                *m2 = EVHTTP_REQ_POST;
                *allow = "GET, POST";
                break;
        case R_TAGS:
                *m1 = EVHTTP_REQ_GET;
                *m2 = EVHTTP_REQ_PUT;
                *allow = "GET, PUT";
                break;
        case R_GRANT:
                *m1 = EVHTTP_REQ_DELETE;
                *allow = "DELETE";
                break;
        default:
                *m1 = EVHTTP_REQ_POST;
                *allow = "POST";
                break;
        }
}

static void dispatch(struct api_ctx *x, enum route rt, char **s, enum evhttp_cmd_type m)
{
        switch (rt) {
        case R_USERS:
                imago_api_h_signup(x);
                break;
        case R_ME:
                imago_api_h_me(x);
                break;
        case R_LOGOUT:
                imago_api_h_logout(x);
                break;
        case R_REGTOKENS:
                imago_api_h_regtoken(x);
                break;
        case R_DEVICES:
                imago_api_h_devices(x);
                break;
        case R_DEVICE:
                imago_api_h_device(x, s[2]);
                break;
        case R_STATE:
                if (m == EVHTTP_REQ_GET)
                        imago_api_h_state_get(x, s[2]);
                else
                        imago_api_h_state_patch(x, s[2]);
                break;
        case R_COMMANDS:
                imago_api_h_command(x, s[2]);
                break;
        case R_COMMAND:
                imago_api_h_command_get(x, s[2], s[4]);
                break;
        case R_DECOMMISSION:
                imago_api_h_decommission(x, s[2]);
                break;
        case R_GRANTS:
                if (m == EVHTTP_REQ_GET)
                        imago_api_h_grants(x);
                else
                        imago_api_h_grant_add(x);
                break;
        case R_GRANT:
                imago_api_h_grant_delete(x, s[2]);
                break;
        case R_AUDIT:
                imago_api_h_audit(x);
                break;
        case R_ROLLOUTS:
                if (m == EVHTTP_REQ_GET)
                        imago_api_h_rollouts(x);
                else
                        imago_api_h_rollout_create(x);
                break;
        case R_ROLLOUT:
                imago_api_h_rollout(x, s[2]);
                break;
        case R_ROLLOUT_ACTION:
                imago_api_h_rollout_action(x, s[2], s[3]);
                break;
        case R_TAGS:
                if (m == EVHTTP_REQ_GET)
                        imago_api_h_tags_get(x, s[2]);
                else
                        imago_api_h_tags_put(x, s[2]);
                break;
        default:
                imago_api_error(x->req, IMAGO_EAPI_ROUTE, NULL);
                break;
        }
}

static void rate_error(struct evhttp_request *req, uint64_t retry_ms)
{
        unsigned s = (unsigned)((retry_ms + 999) / 1000);

        if (s == 0)
                s = 1;
        imago_https_reply_error(req, 429, IMAGO_EAPI_RATE, NULL, s);
}

static void on_request(struct evhttp_request *req, const char *peer, void *arg)
{
        struct imago_api *api = arg;
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
        const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
        enum evhttp_cmd_type m = evhttp_request_get_command(req), m1, m2;
        struct api_ctx *x = NULL;
        char buf[512], *seg[API_SEGS], key[48];
        const char *allow;
        uint64_t retry = 0;
        enum route rt;
        size_t n = 0;
        int r;

        if (imago_ratelimit_take(api->rl_addr, peer != NULL ? peer : "?", imago_api_now_ms(api),
                                 &retry) != IMAGO_OK) {
                rate_error(req, retry);
                goto out;
        }
        /* the public image repository: no authentication, GET only, no query */
        if (path != NULL && strncmp(path, "/v1/repo/", 9) == 0) {
                if (m != EVHTTP_REQ_GET) {
                        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
                        imago_api_error(req, IMAGO_EAPI_METHOD, NULL);
                } else if (evhttp_uri_get_query(uri) != NULL) {
                        imago_api_error(req, IMAGO_EINVAL, "no query parameters here");
                } else {
                        imago_api_h_repo(api, req, path + 9);
                }
                goto out;
        }
        if (path == NULL || split_path(path, buf, sizeof(buf), seg, &n) != IMAGO_OK ||
            (rt = route_of(seg, n)) == R_NONE) {
                imago_api_error(req, IMAGO_EAPI_ROUTE, NULL);
                goto out;
        }
        /* only the audit log takes a query */
        if (rt != R_AUDIT && evhttp_uri_get_query(uri) != NULL) {
                imago_api_error(req, IMAGO_EINVAL, "no query parameters here");
                goto out;
        }
        methods_of(rt, &m1, &m2, &allow);
        if (m != m1 && (m2 == 0 || m != m2)) {
                evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
                imago_api_error(req, IMAGO_EAPI_METHOD, NULL);
                goto out;
        }
        if ((x = calloc(1, sizeof(*x))) == NULL) {
                imago_api_error(req, IMAGO_ENOMEM, NULL);
                goto out;
        }
        x->api = api;
        x->req = req;
        x->peer = peer != NULL ? peer : "?";
        x->now = imago_api_now(api);
        switch (rt) {
        case R_LOGIN:
                imago_api_h_login(x);
                goto out;
        case R_REFRESH:
                imago_api_h_refresh(x);
                goto out;
        case R_USERS:
                /* signup: open when configured; else a security admin's token */
                if (api->c.signup && imago_https_bearer(req) == NULL) {
                        imago_api_h_signup(x);
                        goto out;
                }
                break;
        default:
                break;
        }
        if ((r = imago_api_authenticate(x)) != IMAGO_OK) {
                if (r == IMAGO_EAPI_AUTH || r == IMAGO_EAUTH_TOKEN_EXPIRED)
                        evhttp_add_header(evhttp_request_get_output_headers(req),
                                          "WWW-Authenticate", "Bearer");
                imago_api_error(req, r, NULL);
                goto out;
        }
        snprintf(key, sizeof(key), "u:%llu", (unsigned long long)x->user);
        if (imago_ratelimit_take(api->rl_user, key, imago_api_now_ms(api), &retry) != IMAGO_OK) {
                rate_error(req, retry);
                goto out;
        }
        dispatch(x, rt, seg, m);
out:
        if (x != NULL) {
                imago_wipe(x, sizeof(*x));
                free(x);
        }
}

int imago_api_new(struct event_base *base, const struct imago_api_config *c, struct imago_api **out)
{
        struct imago_auth_throttle_cfg acc, addr;
        struct imago_api *api = NULL;
        int r;

        if (out != NULL)
                *out = NULL;
        if (base == NULL || c == NULL || out == NULL || c->ssl == NULL || c->db == NULL ||
            c->audit == NULL || c->reg == NULL || c->ds == NULL || c->regkey == NULL ||
            c->host == NULL)
                return IMAGO_EINVAL;
        if ((api = calloc(1, sizeof(*api))) == NULL)
                return IMAGO_ENOMEM;
        api->base = base;
        api->c = *c;
        if (api->c.argon.t_cost == 0)
                imago_auth_argon2_defaults(&api->c.argon);
        imago_auth_throttle_defaults(&acc, &addr);
        if ((r = imago_ratelimit_new(API_ADDR_RATE, API_ADDR_BURST, API_RATE_KEYS,
                                     &api->rl_addr)) != IMAGO_OK ||
            (r = imago_ratelimit_new(API_USER_RATE, API_USER_BURST, API_RATE_KEYS,
                                     &api->rl_user)) != IMAGO_OK ||
            (r = imago_ratelimit_new(API_HASH_RATE, API_HASH_BURST, API_RATE_KEYS,
                                     &api->rl_hash)) != IMAGO_OK ||
            (r = imago_auth_throttle_new(&acc, &addr, API_THROTTLE_KEYS, &api->throttle)) !=
                IMAGO_OK)
                goto out;
        if ((r = imago_https_server_new(base, c->ssl, c->host, c->port, &c->limits, on_request, api,
                                        &api->srv)) != IMAGO_OK) {
                IMAGO_ERR_R(r, "API listener on %s:%u", c->host, (unsigned)c->port);
                goto out;
        }
        *out = api;
        api = NULL;
        r = IMAGO_OK;
out:
        imago_api_free(api);
        return r;
}

uint16_t imago_api_port(const struct imago_api *api)
{
        return api != NULL && api->srv != NULL ? imago_https_server_port(api->srv) : 0;
}

void imago_api_free(struct imago_api *api)
{
        if (api == NULL)
                return;
        imago_api_waiters_free(api);
        imago_https_server_free(api->srv);
        imago_ratelimit_free(api->rl_addr);
        imago_ratelimit_free(api->rl_user);
        imago_ratelimit_free(api->rl_hash);
        imago_auth_throttle_free(api->throttle);
        imago_wipe(api, sizeof(*api));
        free(api);
}
