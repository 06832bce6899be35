/* See api.h: users, log-in, refresh, logout, me. */
#include "cloud/api/api_priv.h"

#include "base/err.h"
#include "base/log.h"
#include "base/wipe.h"
#include "regtoken/regtoken.h"

#include <event2/http.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A password hash costs argon2id time on the service loop: at most API_HASH_RATE per second
 * per client address, successes included (the log-in throttle counts failures only).  0: go
 * on; else the 429 has been answered.
 */
static int hash_budget(struct api_ctx *x)
{
        uint64_t retry = 0;
        unsigned s;

        if (imago_ratelimit_take(x->api->rl_hash, x->peer, imago_api_now_ms(x->api), &retry) ==
            IMAGO_OK)
                return 0;
        s = (unsigned)((retry + 999) / 1000);
        imago_https_reply_error(x->req, 429, IMAGO_EAPI_RATE,
                                "too many password checks from this address", s > 0 ? s : 1);
        return IMAGO_EAPI_RATE;
}

void imago_api_h_signup(struct api_ctx *x)
{
        struct imago_api_creds cr;
        char hash[IMAGO_AUTH_HASH_MAX], *body = NULL;
        uint64_t id = 0;
        size_t len = 0;
        int r;

        memset(&cr, 0, sizeof(cr));
        memset(hash, 0, sizeof(hash));
        /* with a token (or signup off): only a security admin creates users */
        if (x->user != 0 && !imago_api_allowed_any(x, IMAGO_ACT_MANAGE_GRANTS)) {
                r = IMAGO_EAUTH_DENIED;
                goto out;
        }
        if ((r = imago_api_body(x->req, &body, &len)) != IMAGO_OK ||
            (r = imago_api_parse_creds((const uint8_t *)body, len, &cr)) != IMAGO_OK)
                goto out;
        if (!imago_regtoken_user_valid(cr.user)) {
                r = IMAGO_EINVAL;
                goto out;
        }
        if ((r = imago_auth_password_policy(cr.user, cr.password, cr.password_len)) != IMAGO_OK)
                goto out;
        if (hash_budget(x) != IMAGO_OK)
                goto out; /* answered; r is 0 */
        if ((r = imago_auth_password_hash(&x->api->c.argon, cr.password, cr.password_len, hash)) !=
            IMAGO_OK)
                goto out;
        if ((r = imago_appdb_user_add(x->api->c.db, cr.user, hash, x->now, &id)) != IMAGO_OK)
                goto out;
        imago_api_audit(x, "user.create", cr.user, json_pack("{s:I}", "id", (json_int_t)id));
        imago_api_reply(x->req, 201, json_pack("{s:I,s:s}", "id", (json_int_t)id, "user", cr.user));
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r,
                                r == IMAGO_EINVAL
                                    ? "user: 1..64 of [A-Za-z0-9_.@-]; password: a string"
                                    : NULL);
        imago_api_creds_wipe(&cr);
        imago_wipe(hash, sizeof(hash));
        imago_api_body_free(body, len);
}

/* Load the grants of user into x (for the roles summary of a new token). */
static uint32_t roles_of(struct api_ctx *x, uint64_t user)
{
        uint64_t keep = x->user;
        uint32_t roles = 0;

        x->user = user;
        if (imago_api_load_grants(x) == IMAGO_OK)
                roles = imago_auth_roles_summary(x->grants, x->ngrants, x->now);
        x->user = keep;
        return roles;
}

/* Answer the token pair: a new access token and the given refresh token. */
static int reply_tokens(struct api_ctx *x, uint64_t user, const char *refresh)
{
        char at[IMAGO_AUTH_TOKEN_LEN + 1];
        int r;

        memset(at, 0, sizeof(at));
        r = imago_auth_token_issue(x->api->c.token_secret, user, roles_of(x, user), x->now,
                                   API_ACCESS_TTL, at, NULL);
        if (r == IMAGO_OK)
                imago_api_reply(x->req, 200,
                                json_pack("{s:s,s:s,s:s,s:i}", "access_token", at, "refresh_token",
                                          refresh, "token_type", "Bearer", "expires_in",
                                          API_ACCESS_TTL));
        imago_wipe(at, sizeof(at));
        return r;
}

static int store_put(void *arg, const uint8_t hash[32], uint64_t user_id, int64_t expires)
{
        return imago_appdb_refresh_put(arg, hash, user_id, expires);
}

static int store_consume(void *arg, const uint8_t hash[32], int64_t now, uint64_t *user_id)
{
        return imago_appdb_refresh_consume(arg, hash, now, user_id);
}

void imago_api_h_login(struct api_ctx *x)
{
        struct imago_api *api = x->api;
        struct imago_api_creds cr;
        struct imago_appdb_user u;
        char rt[IMAGO_AUTH_REFRESH_LEN + 1], *body = NULL;
        uint8_t rh[32];
        uint64_t retry = 0, now_ms = imago_api_now_ms(api);
        size_t len = 0;
        int r, known = 0, named;

        memset(&cr, 0, sizeof(cr));
        memset(&u, 0, sizeof(u));
        memset(rt, 0, sizeof(rt));
        memset(rh, 0, sizeof(rh));
        if ((r = imago_api_body(x->req, &body, &len)) != IMAGO_OK ||
            (r = imago_api_parse_creds((const uint8_t *)body, len, &cr)) != IMAGO_OK)
                goto out;
        named = imago_regtoken_user_valid(cr.user);
        if ((r = imago_auth_throttle_check(api->throttle, cr.user, x->peer, now_ms, &retry)) !=
            IMAGO_OK) {
                unsigned s = (unsigned)((retry + 999) / 1000);

                imago_https_reply_error(x->req, 429, r, NULL, s > 0 ? s : 1);
                imago_api_audit(x, "auth.login.fail", named ? cr.user : "",
                                json_pack("{s:s,s:s}", "address", x->peer, "reason", "throttled"));
                r = IMAGO_OK;
                goto done;
        }
        if (named) {
                r = imago_appdb_user_by_name(api->c.db, cr.user, &u);
                if (r == IMAGO_OK)
                        known = 1;
                else if (r != IMAGO_ENOTFOUND)
                        goto out;
        }
        if (hash_budget(x) != IMAGO_OK) {
                r = IMAGO_OK; /* answered */
                goto out;
        }
        /* an unknown user costs a hash too (no timing oracle) */
        r = imago_auth_password_verify(&api->c.argon, known ? u.pw_hash : NULL, cr.password,
                                       cr.password_len);
        if (r != IMAGO_OK) {
                if (r != IMAGO_EAUTH_PASSWORD)
                        IMAGO_WARN("stored hash of a user refused: %s", imago_errname(r));
                imago_auth_throttle_failure(api->throttle, cr.user, x->peer, now_ms);
                imago_api_audit(x, "auth.login.fail", named ? cr.user : "",
                                json_pack("{s:s,s:s}", "address", x->peer, "reason",
                                          known ? "password" : "user"));
                r = IMAGO_EAUTH_PASSWORD;
                goto out;
        }
        imago_auth_throttle_success(api->throttle, cr.user);
        if (imago_auth_password_needs_rehash(&api->c.argon, u.pw_hash) == 1) {
                char nh[IMAGO_AUTH_HASH_MAX];

                if (imago_auth_password_hash(&api->c.argon, cr.password, cr.password_len, nh) ==
                    IMAGO_OK)
                        (void)imago_appdb_user_set_hash(api->c.db, u.id, nh);
                imago_wipe(nh, sizeof(nh));
        }
        if ((r = imago_auth_refresh_new(rt, rh)) != IMAGO_OK ||
            (r = imago_appdb_refresh_put(api->c.db, rh, u.id, x->now + API_REFRESH_TTL)) !=
                IMAGO_OK)
                goto out;
        if ((r = reply_tokens(x, u.id, rt)) != IMAGO_OK)
                goto out;
        x->user = u.id;
        imago_api_audit(x, "auth.login", u.name, json_pack("{s:s}", "address", x->peer));
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, NULL);
done:
        imago_api_creds_wipe(&cr);
        imago_wipe(&u, sizeof(u));
        imago_wipe(rt, sizeof(rt));
        imago_wipe(rh, sizeof(rh));
        imago_api_body_free(body, len);
}

void imago_api_h_refresh(struct api_ctx *x)
{
        struct imago_auth_refresh_store st = {store_consume, store_put, x->api->c.db};
        struct imago_appdb_user u;
        char old[IMAGO_AUTH_REFRESH_LEN + 1], rt[IMAGO_AUTH_REFRESH_LEN + 1], *body = NULL;
        uint64_t user = 0;
        size_t len = 0;
        int r;

        memset(&u, 0, sizeof(u));
        memset(old, 0, sizeof(old));
        memset(rt, 0, sizeof(rt));
        if ((r = imago_api_body(x->req, &body, &len)) != IMAGO_OK ||
            (r = imago_api_parse_refresh((const uint8_t *)body, len, old)) != IMAGO_OK)
                goto out;
        if ((r = imago_auth_refresh_rotate(&st, old, x->now, API_REFRESH_TTL, rt, &user)) !=
            IMAGO_OK)
                goto out;
        if ((r = imago_appdb_user_get(x->api->c.db, user, &u)) != IMAGO_OK) {
                if (r == IMAGO_ENOTFOUND)
                        r = IMAGO_EAUTH_REFRESH;
                goto out;
        }
        r = reply_tokens(x, user, rt);
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, NULL);
        imago_wipe(&u, sizeof(u));
        imago_wipe(old, sizeof(old));
        imago_wipe(rt, sizeof(rt));
        imago_api_body_free(body, len);
}

void imago_api_h_logout(struct api_ctx *x)
{
        char tok[IMAGO_AUTH_REFRESH_LEN + 1], *body = NULL;
        uint8_t h[32];
        uint64_t owner = 0;
        size_t len = 0;
        int r, rr;

        memset(tok, 0, sizeof(tok));
        memset(h, 0, sizeof(h));
        /* the access token dies first, whatever the body holds */
        if ((r = imago_appdb_token_revoke(x->api->c.db, x->claims.token_id, x->claims.expires)) !=
            IMAGO_OK)
                goto out;
        if ((r = imago_api_body(x->req, &body, &len)) != IMAGO_OK ||
            (r = imago_api_parse_refresh((const uint8_t *)body, len, tok)) != IMAGO_OK)
                goto out;
        if ((r = imago_auth_refresh_hash(tok, h)) != IMAGO_OK)
                goto out;
        /* already used or expired: logged out anyway */
        rr = imago_appdb_refresh_consume(x->api->c.db, h, x->now, &owner);
        if (rr != IMAGO_OK && rr != IMAGO_EAUTH_REFRESH) {
                r = rr;
                goto out;
        }
        if (rr == IMAGO_OK && owner != x->user)
                IMAGO_WARN("logout of user %llu presented another user's refresh token (now dead)",
                           (unsigned long long)x->user);
        imago_api_audit(x, "auth.logout", x->name, NULL);
        imago_api_reply(x->req, 204, NULL);
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, NULL);
        imago_wipe(tok, sizeof(tok));
        imago_wipe(h, sizeof(h));
        imago_api_body_free(body, len);
}

json_t *imago_api_grant_json(const struct imago_appdb_grant *g, int64_t now)
{
        const char *role = imago_auth_role_name((enum imago_auth_role)g->role);

        return json_pack("{s:I,s:I,s:s,s:s,s:I,s:I,s:I,s:b}", "id", (json_int_t)g->id, "user",
                         (json_int_t)g->user, "role", role != NULL ? role : "?", "group", g->group,
                         "not_before", (json_int_t)g->not_before, "expires", (json_int_t)g->expires,
                         "granted_by", (json_int_t)g->granted_by, "in_force",
                         g->not_before <= now && now < g->expires);
}

struct me_acc {
        json_t *arr;
        int64_t now;
};

static int me_cb(const struct imago_appdb_grant *g, void *arg)
{
        struct me_acc *a = arg;
        json_t *j = imago_api_grant_json(g, a->now);

        if (j == NULL || json_array_append_new(a->arr, j) != 0)
                return IMAGO_ENOMEM;
        return 0;
}

void imago_api_h_me(struct api_ctx *x)
{
        struct me_acc a = {json_array(), x->now};
        int r;

        if (a.arr == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        if ((r = imago_appdb_grant_list(x->api->c.db, x->user, me_cb, &a)) != IMAGO_OK)
                goto out;
        imago_api_reply(x->req, 200,
                        json_pack("{s:I,s:s,s:O}", "id", (json_int_t)x->user, "user", x->name,
                                  "grants", a.arr));
out:
        if (r != IMAGO_OK)
                imago_api_error(x->req, r, NULL);
        json_decref(a.arr);
}
