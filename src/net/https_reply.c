/* See https.h: reply helpers, the status of an error, request body and bearer token. */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/log.h"
#include "net/https.h"

#define MESSAGE_MAX 512

static const char *reason_of(int status)
{
        switch (status) {
        case 200:
                return "OK";
        case 201:
                return "Created";
        case 202:
                return "Accepted";
        case 204:
                return "No Content";
        case 400:
                return "Bad Request";
        case 401:
                return "Unauthorized";
        case 403:
                return "Forbidden";
        case 404:
                return "Not Found";
        case 405:
                return "Method Not Allowed";
        case 409:
                return "Conflict";
        case 413:
                return "Payload Too Large";
        case 414:
                return "URI Too Long";
        case 423:
                return "Locked";
        case 429:
                return "Too Many Requests";
        case 500:
                return "Internal Server Error";
        case 502:
                return "Bad Gateway";
        case 503:
                return "Service Unavailable";
        case 504:
                return "Gateway Timeout";
        default:
                return status >= 200 && status < 300 ? "OK" : "Error";
        }
}

static void common_headers(struct evhttp_request *req)
{
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);

        evhttp_remove_header(h, "Content-Type");
        evhttp_add_header(h, "Content-Type", "application/json");
        evhttp_add_header(h, "Cache-Control", "no-store");
        evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
}

void imago_https_reply_json(struct evhttp_request *req, int status, const char *body)
{
        struct evbuffer *out = NULL;

        if (req == NULL)
                return;
        common_headers(req);
        if (body == NULL) {
                evhttp_send_reply(req, status == 200 ? 204 : status, reason_of(status), NULL);
                return;
        }
        if ((out = evbuffer_new()) == NULL || evbuffer_add(out, body, strlen(body)) != 0) {
                evbuffer_free(out);
                evhttp_send_reply(req, 500, reason_of(500), NULL);
                return;
        }
        evhttp_send_reply(req, status, reason_of(status), out);
        evbuffer_free(out);
}

/* Append s as the content of a JSON string (quotes not included): control bytes escaped, bytes
 * above 0x7f (maybe a cut or invalid UTF-8 sequence) replaced with '?', so the answer is always
 * valid JSON. */
static int json_escape(struct evbuffer *b, const char *s)
{
        const unsigned char *p;
        int r = 0;

        for (p = (const unsigned char *)s; *p != '\0' && r == 0; p++) {
                if (*p == '"' || *p == '\\')
                        r = evbuffer_add_printf(b, "\\%c", *p) < 0 ? -1 : 0;
                else if (*p < 0x20 || *p == 0x7f)
                        r = evbuffer_add_printf(b, "\\u%04x", *p) < 0 ? -1 : 0;
                else if (*p > 0x7f)
                        r = evbuffer_add(b, "?", 1);
                else
                        r = evbuffer_add(b, p, 1);
        }
        return r;
}

void imago_https_reply_error(struct evhttp_request *req, int status, int err, const char *message,
                             unsigned retry_after_s)
{
        struct evbuffer *out = NULL;
        char msg[MESSAGE_MAX], ra[16];

        if (req == NULL)
                return;
        if (message == NULL)
                message = imago_strerror(err);
        snprintf(msg, sizeof(msg), "%s", message);
        common_headers(req);
        if (retry_after_s > 0) {
                snprintf(ra, sizeof(ra), "%u", retry_after_s);
                evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", ra);
        }
        if ((out = evbuffer_new()) == NULL ||
            evbuffer_add_printf(out, "{\"error\":{\"code\":\"%s\",\"message\":\"",
                                imago_errname(err)) < 0 ||
            json_escape(out, msg) != 0 || evbuffer_add_printf(out, "\"}}") < 0) {
                evbuffer_free(out);
                evhttp_send_reply(req, 500, reason_of(500), NULL);
                return;
        }
        evhttp_send_reply(req, status, reason_of(status), out);
        evbuffer_free(out);
}

int imago_https_status_of(int err)
{
        switch (err) {
        case IMAGO_OK:
                return 200;
        case IMAGO_EINVAL:
        case IMAGO_EMALFORMED:
        case IMAGO_ETRAILING:
        case IMAGO_ERANGE:
        case IMAGO_ESTATE_DOC:
        case IMAGO_EAUTH_POLICY:
        case IMAGO_ECMD_MALFORMED:
                return 400;
        case IMAGO_EAPI_AUTH:
        case IMAGO_EAUTH_PASSWORD:
        case IMAGO_EAUTH_TOKEN_FORMAT:
        case IMAGO_EAUTH_TOKEN_SIG:
        case IMAGO_EAUTH_TOKEN_EXPIRED:
        case IMAGO_EAUTH_TOKEN_NOTYET:
        case IMAGO_EAUTH_REFRESH:
                return 401;
        case IMAGO_EAUTH_DENIED:
        case IMAGO_EPERM:
        case IMAGO_ESETUP_CODE:
                return 403;
        case IMAGO_ENOTFOUND:
        case IMAGO_EAPI_ROUTE:
                return 404;
        case IMAGO_EAPI_METHOD:
                return 405;
        case IMAGO_EEXIST:
        case IMAGO_ESTATE_VERSION:
        case IMAGO_EAPI_BOUND:
        case IMAGO_ESTATE:
        case IMAGO_EREG_STATE:
        case IMAGO_EROLLOUT_STATE:
                return 409;
        case IMAGO_ETOOBIG:
                return 413;
        case IMAGO_ESETUP_LOCKED:
                return 423;
        case IMAGO_EAPI_RATE:
        case IMAGO_EAUTH_THROTTLED:
                return 429;
        case IMAGO_EAPI_TIMEOUT:
                return 504;
        default:
                return 500;
        }
}

int imago_https_body(struct evhttp_request *req, size_t max, char **out, size_t *len)
{
        struct evbuffer *in;
        size_t n;
        char *buf = NULL;
        int r = IMAGO_EINVAL;

        if (out == NULL)
                return IMAGO_EINVAL;
        *out = NULL;
        if (len != NULL)
                *len = 0;
        if (req == NULL || (in = evhttp_request_get_input_buffer(req)) == NULL)
                goto out;
        n = evbuffer_get_length(in);
        if (n > max) {
                r = IMAGO_ETOOBIG;
                goto out;
        }
        r = IMAGO_ENOMEM;
        if ((buf = malloc(n + 1)) == NULL)
                goto out;
        if (n > 0 && evbuffer_copyout(in, buf, n) != (ev_ssize_t)n) {
                r = IMAGO_EIO;
                goto out;
        }
        buf[n] = '\0';
        if (memchr(buf, '\0', n) != NULL) {
                r = IMAGO_EMALFORMED;
                goto out;
        }
        *out = buf;
        buf = NULL;
        if (len != NULL)
                *len = n;
        r = IMAGO_OK;
out:
        free(buf);
        return r;
}

const char *imago_https_bearer(struct evhttp_request *req)
{
        const char *v, *t;

        if (req == NULL)
                return NULL;
        v = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
        if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0)
                return NULL;
        t = v + 7;
        if (*t == '\0' || strpbrk(t, " \t\r\n") != NULL)
                return NULL;
        return t;
}
