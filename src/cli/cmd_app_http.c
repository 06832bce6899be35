/* `imago app` HTTP calls: API (CA-pinned, bearer, refresh) and portal (fingerprint); see cmd_app.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "cmd_app.h"

#include "base/err.h"
#include "base/wipe.h"
#include "json/json.h"
#include "net/https.h"

#include <stdlib.h>
#include <string.h>

#define MESSAGE_MAX 300U
#define ERRCODE_MAX 64U

void imago_app_resp_clear(struct imago_app_resp *r)
{
        json_decref(r->json);
        memset(r, 0, sizeof(*r));
}

int imago_app_fail(const struct imago_app *a, const char *what, int r)
{
        if (what != NULL)
                fprintf(stderr, "imago: %s: %s: %s (%s)\n", a->cmd, what, imago_strerror(r),
                        imago_errname(r));
        else
                fprintf(stderr, "imago: %s: %s (%s)\n", a->cmd, imago_strerror(r),
                        imago_errname(r));
        return r;
}

static int code_ok(const char *c)
{
        size_t i;

        if (c == NULL || strncmp(c, "IMAGO_E", 7) != 0 || strlen(c) > ERRCODE_MAX)
                return 0;
        for (i = 7; c[i] != '\0'; i++)
                if (!((c[i] >= 'A' && c[i] <= 'Z') || (c[i] >= '0' && c[i] <= '9') || c[i] == '_'))
                        return 0;
        return 1;
}

/* A non-2xx answer: print the API's error code and message; return the code. */
static int api_error(const struct imago_app *a, const struct imago_app_resp *resp)
{
        json_t *e = resp->json != NULL ? json_object_get(resp->json, "error") : NULL;
        const char *code = json_is_object(e) ? imago_json_str(e, "code", NULL) : NULL;
        const char *msg = json_is_object(e) ? imago_json_str(e, "message", NULL) : NULL;
        char m[MESSAGE_MAX + 1];
        int r = IMAGO_EHTTP;

        if (!code_ok(code)) {
                fprintf(stderr, "imago: %s: HTTP %d without an error object (IMAGO_EHTTP)\n",
                        a->cmd, resp->status);
                return IMAGO_EHTTP;
        }
        if (imago_err_from_name(code, &r) != IMAGO_OK || r == IMAGO_OK)
                r = IMAGO_EHTTP;
        if (msg == NULL)
                msg = imago_strerror(r);
        snprintf(m, sizeof(m), "%s", msg);
        fprintf(stderr, "imago: %s: HTTP %d: ", a->cmd, resp->status);
        imago_app_print_safe(stderr, m);
        fprintf(stderr, " (%s)\n", code);
        return r;
}

/* The exchange itself; transport errors are returned unprinted, any HTTP status is IMAGO_OK. */
static int exchange(const struct imago_httpc *c, const char *method, const char *path,
                    const char *bearer, json_t *body, struct imago_app_resp *out)
{
        struct imago_httpc_resp hr;
        char *text = NULL;
        int r;

        memset(&hr, 0, sizeof(hr));
        memset(out, 0, sizeof(*out));
        if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL)
                return IMAGO_ENOMEM;
        r = imago_httpc_request(c, method, path, bearer, text, text != NULL ? strlen(text) : 0,
                                &hr);
        if (r != IMAGO_OK)
                goto out;
        out->status = hr.status;
        if (hr.body != NULL && hr.len > 0) {
                if (imago_json_object((const uint8_t *)hr.body, hr.len, IMAGO_HTTPC_BODY_MAX,
                                      &out->json) != IMAGO_OK) {
                        /* An error page that is not JSON still gets its status reported. */
                        if (hr.status >= 200 && hr.status < 300)
                                r = IMAGO_EHTTP;
                        out->json = NULL;
                }
        }
out:
        if (hr.body != NULL)
                imago_wipe(hr.body, hr.len);
        imago_httpc_resp_free(&hr);
        if (text != NULL)
                imago_app_json_free(text);
        if (r != IMAGO_OK)
                imago_app_resp_clear(out);
        return r;
}

static void api_client(const struct imago_app *a, uint32_t timeout_ms, struct imago_httpc *c)
{
        memset(c, 0, sizeof(*c));
        c->host = a->host;
        c->port = a->port;
        c->ca_path = a->ca;
        c->timeout_ms = timeout_ms != 0 ? timeout_ms : IMAGO_APP_TIMEOUT_MS;
}

static int finish(struct imago_app *a, const char *where, int r, struct imago_app_resp *out)
{
        if (r != IMAGO_OK)
                return imago_app_fail(a, where, r);
        if (out->status < 200 || out->status > 299) {
                r = api_error(a, out);
                imago_app_resp_clear(out);
        }
        return r;
}

int imago_app_call(struct imago_app *a, const char *method, const char *path, json_t *body,
                   uint32_t timeout_ms, struct imago_app_resp *out)
{
        struct imago_httpc c;

        api_client(a, timeout_ms, &c);
        return finish(a, a->api, exchange(&c, method, path, NULL, body, out), out);
}

int imago_app_take_tokens(struct imago_app *a, json_t *resp)
{
        const char *acc = resp != NULL ? imago_json_str(resp, "access_token", NULL) : NULL;
        const char *ref = resp != NULL ? imago_json_str(resp, "refresh_token", NULL) : NULL;
        char *na, *nr;

        if (!imago_app_token_ok(acc) || !imago_app_token_ok(ref))
                return IMAGO_EHTTP;
        na = strdup(acc);
        nr = strdup(ref);
        if (na == NULL || nr == NULL) {
                imago_app_str_free(na);
                imago_app_str_free(nr);
                return IMAGO_ENOMEM;
        }
        imago_app_str_free(a->s.access);
        imago_app_str_free(a->s.refresh);
        a->s.access = na;
        a->s.refresh = nr;
        return IMAGO_OK;
}

/*
 * New tokens for the refresh token (the old one is dead after this); the
 * session is saved.  A body that carries the refresh token (logout) gets
 * the new one.
 */
static int refresh(struct imago_app *a, json_t *body_of_call)
{
        struct imago_app_resp resp;
        struct imago_app_session cur;
        json_t *body;
        int r, lock = -1;

        memset(&resp, 0, sizeof(resp));
        memset(&cur, 0, sizeof(cur));
        /* One refresh at a time per session file: a refresh token works once. */
        if ((r = imago_app_session_lock(a->session_path, &lock)) != IMAGO_OK) {
                imago_app_fail(a, a->session_path, r);
                goto out;
        }
        /* Another run refreshed meanwhile: its tokens are the live ones. */
        if (imago_app_session_load(a->session_path, &cur) == IMAGO_OK &&
            strcmp(cur.api, a->s.api) == 0 && strcmp(cur.user, a->s.user) == 0 &&
            strcmp(cur.refresh, a->s.refresh) != 0 && cur.access != NULL) {
                imago_app_session_clear(&a->s);
                a->s = cur;
                memset(&cur, 0, sizeof(cur));
                goto body;
        }
        if ((body = json_pack("{s:s}", "refresh_token", a->s.refresh)) == NULL) {
                r = imago_app_fail(a, NULL, IMAGO_ENOMEM);
                goto out;
        }
        r = imago_app_call(a, "POST", "/v1/auth/refresh", body, 0, &resp);
        json_decref(body);
        if (r != IMAGO_OK) {
                fprintf(stderr,
                        "imago: %s: the session could not be refreshed; run 'imago app "
                        "login' again\n",
                        a->cmd);
                goto out;
        }
        if ((r = imago_app_take_tokens(a, resp.json)) != IMAGO_OK) {
                imago_app_fail(a, "refresh answer", r);
                goto out;
        }
        if ((r = imago_app_session_save(a->session_path, &a->s, a->session_default)) != IMAGO_OK) {
                imago_app_fail(a, a->session_path, r);
                goto out;
        }
body:
        if (json_object_get(body_of_call, "refresh_token") != NULL &&
            json_object_set_new(body_of_call, "refresh_token", json_string(a->s.refresh)) != 0)
                r = imago_app_fail(a, NULL, IMAGO_ENOMEM);
out:
        imago_app_session_unlock(lock);
        imago_app_session_clear(&cur);
        imago_app_resp_clear(&resp);
        return r;
}

int imago_app_call_auth(struct imago_app *a, const char *method, const char *path, json_t *body,
                        uint32_t timeout_ms, struct imago_app_resp *out)
{
        struct imago_httpc c;
        int r, refreshed = 0;

        memset(out, 0, sizeof(*out));
        if (!a->have_session) {
                fprintf(stderr,
                        "imago: %s: not logged in to %s; run 'imago app login' (IMAGO_EAPI_AUTH)\n",
                        a->cmd, a->api);
                return IMAGO_EAPI_AUTH;
        }
        if (a->s.access == NULL) {
                if ((r = refresh(a, body)) != IMAGO_OK)
                        return r;
                refreshed = 1;
        }
        api_client(a, timeout_ms, &c);
        r = exchange(&c, method, path, a->s.access, body, out);
        if (r == IMAGO_OK && out->status == 401 && !refreshed) {
                /* Expired (or the service restarted with a new secret): refresh once, retry. */
                imago_app_resp_clear(out);
                if ((r = refresh(a, body)) != IMAGO_OK)
                        return r;
                r = exchange(&c, method, path, a->s.access, body, out);
        }
        return finish(a, a->api, r, out);
}

int imago_app_call_pinned(struct imago_app *a, const char *host, uint16_t port, const char *pin,
                          const char *method, const char *path, json_t *body,
                          struct imago_app_resp *out)
{
        struct imago_httpc c;
        char where[IMAGO_APP_HOST_MAX + 16];

        memset(&c, 0, sizeof(c));
        c.host = host;
        c.port = port;
        c.pin_sha256 = pin;
        c.timeout_ms = IMAGO_APP_TIMEOUT_MS;
        snprintf(where, sizeof(where), "portal %s:%u", host, (unsigned)port);
        return finish(a, where, exchange(&c, method, path, NULL, body, out), out);
}
