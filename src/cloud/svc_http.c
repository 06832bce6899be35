/* See svc.h: the broker-hook HTTP endpoint (evhttp). */
#include "cloud/svc_priv.h"

#include "base/err.h"
#include "cloud/svc_hook.h"
#include "cloud/svc_log.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <string.h>

#define HTTP_TIMEOUT_S    5
#define HTTP_BODY_LIMIT   (2 * IMAGO_SVC_HOOK_MAX) /* evhttp answers 413 beyond; 400 above MAX */
#define HTTP_HEADER_LIMIT 8192

static int state_of(void *arg, const char *id)
{
        struct imago_svc *s = arg;
        struct imago_reg_device d;
        int state = 0;

        memset(&d, 0, sizeof(d));
        if (imago_registry_get(s->reg, id, &d) == IMAGO_OK)
                state = (int)d.state;
        imago_registry_device_free(&d);
        return state;
}

static void reply(struct evhttp_request *req, int code, const char *reason, const char *body)
{
        struct evbuffer *out = evbuffer_new();

        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "application/json");
        evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
        if (out != NULL)
                evbuffer_add(out, body, strlen(body));
        evhttp_send_reply(req, code, reason, out);
        if (out != NULL)
                evbuffer_free(out);
}

static void reply_error(struct evhttp_request *req, int code, const char *reason, int r)
{
        char body[256];

        snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}",
                 imago_errname(r), imago_strerror(r));
        reply(req, code, reason, body);
}

static void on_request(struct evhttp_request *req, void *arg)
{
        struct imago_svc *s = arg;
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
        struct imago_svc_hookreq hr;
        enum imago_svc_hook hook;
        enum imago_authz_result res;
        const char *why = "";
        unsigned char *body;
        size_t len;
        int r;

        if (path == NULL || imago_svc_hook_from_path(path, &hook) != IMAGO_OK) {
                reply_error(req, HTTP_NOTFOUND, "Not Found", IMAGO_ENOTFOUND);
                return;
        }
        if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
                reply_error(req, 405, "Method Not Allowed", IMAGO_EINVAL);
                return;
        }
        len = evbuffer_get_length(in);
        if (len > IMAGO_SVC_HOOK_MAX) {
                imago_svc_log(IMAGO_LOG_WARN, "hook", "path=%s result=400 reason=IMAGO_ETOOBIG",
                              path);
                reply_error(req, HTTP_BADREQUEST, "Bad Request", IMAGO_ETOOBIG);
                return;
        }
        body = len > 0 ? evbuffer_pullup(in, (ev_ssize_t)len) : (unsigned char *)"";
        if (body == NULL) {
                reply_error(req, HTTP_INTERNAL, "Internal Server Error", IMAGO_ENOMEM);
                return;
        }
        if ((r = imago_svc_hook_parse(hook, body, len, &hr)) != IMAGO_OK) {
                imago_svc_log(IMAGO_LOG_WARN, "hook", "path=%s result=400 reason=%s", path,
                              imago_errname(r));
                reply_error(req, HTTP_BADREQUEST, "Bad Request", r);
                return;
        }
        res = imago_svc_hook_decide(&hr, s->cfg.service_cn, state_of, s, &why);
        imago_svc_log(res == IMAGO_AUTHZ_ALLOW ? IMAGO_LOG_DEBUG : IMAGO_LOG_INFO, "hook",
                      "path=%s id=%.64s result=%s why=\"%s\"", path,
                      hook == IMAGO_SVC_EMQX_AUTHN ? hr.cn : hr.username,
                      res == IMAGO_AUTHZ_ALLOW ? "allow" : "deny", why);
        reply(req, HTTP_OK, "OK", imago_svc_hook_answer(hook, res));
}

int imago_svc_http_start(struct imago_svc *s)
{
        if ((s->http = evhttp_new(s->base)) == NULL)
                return IMAGO_ENOMEM;
        evhttp_set_timeout(s->http, HTTP_TIMEOUT_S);
        evhttp_set_max_body_size(s->http, HTTP_BODY_LIMIT);
        evhttp_set_max_headers_size(s->http, HTTP_HEADER_LIMIT);
        evhttp_set_allowed_methods(s->http, EVHTTP_REQ_POST | EVHTTP_REQ_GET);
        evhttp_set_default_content_type(s->http, "application/json");
        evhttp_set_gencb(s->http, on_request, s);
        if (evhttp_bind_socket_with_handle(s->http, s->cfg.http_host, s->cfg.http_port) == NULL) {
                imago_svc_log(IMAGO_LOG_ERROR, "http_start", "result=IMAGO_EIO host=%s port=%u",
                              s->cfg.http_host, (unsigned)s->cfg.http_port);
                return IMAGO_EIO;
        }
        imago_svc_log(IMAGO_LOG_INFO, "http_start", "result=ok host=%s port=%u", s->cfg.http_host,
                      (unsigned)s->cfg.http_port);
        return IMAGO_OK;
}

void imago_svc_http_stop(struct imago_svc *s)
{
        if (s->http != NULL)
                evhttp_free(s->http);
        s->http = NULL;
}
