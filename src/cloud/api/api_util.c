/* See api.h: replies, errors, bodies, authentication and the object checks. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/api/api_priv.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/wipe.h"
#include "cloud/audit/audit.h"

#include <event2/buffer.h>
#include <event2/http.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int imago_api_status(int err)
{
        /* one table for every HTTPS endpoint of imago (docs/https.md, docs/api.md) */
        return imago_https_status_of(err);
}

void imago_api_reply(struct evhttp_request *req, int status, json_t *body)
{
        char *text = NULL;

        if (body == NULL && status != 204) {
                imago_https_reply_error(req, 500, IMAGO_ENOMEM, NULL, 0);
                return;
        }
        if (body != NULL) {
                text = json_dumps(body, JSON_COMPACT);
                json_decref(body);
                if (text == NULL) {
                        imago_https_reply_error(req, 500, IMAGO_ENOMEM, NULL, 0);
                        return;
                }
        }
        imago_https_reply_json(req, status, text);
        if (text != NULL) {
                imago_wipe(text, strlen(text)); /* may hold tokens */
                free(text);
        }
}

void imago_api_error(struct evhttp_request *req, int err, const char *message)
{
        int status = imago_api_status(err);

        if (status == 500)
                IMAGO_ERR_R(err, "API request failed");
        imago_https_reply_error(req, status, err, message, 0);
}

int imago_api_body(struct evhttp_request *req, char **buf, size_t *len)
{
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t n = in != NULL ? evbuffer_get_length(in) : 0;
        int r;

        *buf = NULL;
        *len = 0;
        if (n > IMAGO_API_BODY_MAX) {
                r = IMAGO_ETOOBIG;
                goto out;
        }
        r = imago_https_body(req, IMAGO_API_BODY_MAX, buf, len);
out:
        /* the input may hold a password or a token: wipe what is left of it */
        if (in != NULL && (n = evbuffer_get_length(in)) > 0) {
                unsigned char *p = evbuffer_pullup(in, -1);

                if (p != NULL)
                        imago_wipe(p, n);
                evbuffer_drain(in, n);
        }
        return r;
}

void imago_api_body_free(char *buf, size_t len)
{
        if (buf == NULL)
                return;
        imago_wipe(buf, len);
        free(buf);
}

int imago_api_parse_id(const char *s, uint64_t *out)
{
        uint64_t v = 0;
        size_t i;

        if (s == NULL || s[0] < '1' || s[0] > '9' || strlen(s) > 20)
                return IMAGO_EINVAL;
        for (i = 0; s[i] != '\0'; i++) {
                unsigned d;

                if (s[i] < '0' || s[i] > '9')
                        return IMAGO_EINVAL;
                d = (unsigned)(s[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return IMAGO_EINVAL;
                v = v * 10 + d;
        }
        *out = v;
        return IMAGO_OK;
}

struct grant_acc {
        struct api_ctx *x;
        int overflow;
};

static int grant_cb(const struct imago_appdb_grant *g, void *arg)
{
        struct grant_acc *a = arg;
        struct imago_auth_grant *o;

        if (a->x->ngrants >= API_GRANTS_MAX) {
                a->overflow = 1;
                return 0;
        }
        if (imago_auth_role_name((enum imago_auth_role)g->role) == NULL)
                return 0;
        o = &a->x->grants[a->x->ngrants++];
        o->role = (enum imago_auth_role)g->role;
        snprintf(o->group, sizeof(o->group), "%s", g->group);
        o->not_before = g->not_before;
        o->expires = g->expires;
        return 0;
}

int imago_api_load_grants(struct api_ctx *x)
{
        struct grant_acc a = {x, 0};
        int r;

        x->ngrants = 0;
        r = imago_appdb_grant_list(x->api->c.db, x->user, grant_cb, &a);
        if (a.overflow)
                IMAGO_WARN("user %llu has more than %d grants; the rest are ignored",
                           (unsigned long long)x->user, API_GRANTS_MAX);
        return r;
}

int imago_api_allowed_any(const struct api_ctx *x, enum imago_auth_action action)
{
        size_t i;

        for (i = 0; i < x->ngrants; i++)
                if (imago_auth_allowed(&x->grants[i], 1, x->now, x->grants[i].group, action))
                        return 1;
        return 0;
}

int imago_api_authenticate(struct api_ctx *x)
{
        struct imago_appdb_user u;
        const char *tok = imago_https_bearer(x->req);
        int r;

        memset(&u, 0, sizeof(u));
        x->user = 0;
        if (tok == NULL || strnlen(tok, IMAGO_AUTH_TOKEN_LEN + 1) > IMAGO_AUTH_TOKEN_LEN) {
                r = IMAGO_EAPI_AUTH;
                goto out;
        }
        r = imago_auth_token_verify(x->api->c.token_secret, tok, x->now, &x->claims);
        if (r == IMAGO_EAUTH_TOKEN_EXPIRED)
                goto out;
        if (r != IMAGO_OK) {
                r = IMAGO_EAPI_AUTH;
                goto out;
        }
        r = imago_appdb_token_revoked(x->api->c.db, x->claims.token_id);
        if (r < 0)
                goto out;
        if (r == 1) {
                r = IMAGO_EAPI_AUTH;
                goto out;
        }
        r = imago_appdb_user_get(x->api->c.db, x->claims.user_id, &u);
        if (r == IMAGO_ENOTFOUND)
                r = IMAGO_EAPI_AUTH;
        if (r != IMAGO_OK)
                goto out;
        x->user = u.id;
        snprintf(x->name, sizeof(x->name), "%s", u.name);
        r = imago_api_load_grants(x);
out:
        if (r != IMAGO_OK)
                x->user = 0;
        imago_wipe(&u, sizeof(u));
        return r;
}

void imago_api_dev_free(struct api_dev *d)
{
        if (d != NULL)
                imago_registry_device_free(&d->d);
}

int imago_api_device_access(struct api_ctx *x, const char *id, enum imago_auth_action action,
                            struct api_dev *out)
{
        int r;

        memset(out, 0, sizeof(*out));
        if (id == NULL || !imago_hex_is_lower(id, IMAGO_REG_ID_LEN, IMAGO_REG_ID_LEN))
                return IMAGO_ENOTFOUND;
        r = imago_registry_get(x->api->c.reg, id, &out->d);
        if (r == IMAGO_EREG_UNKNOWN || r == IMAGO_ENOTFOUND)
                r = IMAGO_ENOTFOUND;
        if (r != IMAGO_OK)
                goto out;
        if ((r = imago_appdb_owner(x->api->c.db, id, &out->owner)) != IMAGO_OK)
                goto out;
        out->is_owner = out->owner != 0 && out->owner == x->user;
        if (out->is_owner && action != IMAGO_ACT_RELEASE)
                goto out;
        if (imago_auth_allowed(x->grants, x->ngrants, x->now, out->d.batch, action))
                goto out;
        /* visible but not allowed: 403; invisible: 404 like an unknown device */
        if (out->is_owner ||
            imago_auth_allowed(x->grants, x->ngrants, x->now, out->d.batch, IMAGO_ACT_VIEW))
                r = IMAGO_EAUTH_DENIED;
        else
                r = IMAGO_ENOTFOUND;
out:
        if (r != IMAGO_OK)
                imago_api_dev_free(out);
        return r;
}

void imago_api_audit(struct api_ctx *x, const char *action, const char *object, json_t *detail)
{
        char actor[32], *d = NULL;
        int r;

        if (x->user != 0)
                snprintf(actor, sizeof(actor), "user:%llu", (unsigned long long)x->user);
        else
                snprintf(actor, sizeof(actor), "anonymous");
        if (detail != NULL) {
                d = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
                json_decref(detail);
        }
        r = imago_audit_append(x->api->c.audit, x->now, actor, action, object != NULL ? object : "",
                               d != NULL ? d : "{}", NULL, NULL);
        if (r != IMAGO_OK)
                IMAGO_ERR_R(r, "audit %s %s", action, object != NULL ? object : "");
        free(d);
}
