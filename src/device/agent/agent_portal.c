/* The setup portal: HTTPS with the birth certificate, only while unconfigured (see agent.h). */
#define _GNU_SOURCE /* memfd_create */
#include "device/agent/agent_priv.h"

#include "base/err.h"
#include "base/log.h"
#include "base/wipe.h"
#include "device/store/store.h"
#include "factory/provision.h"
#include "factory/setup_code.h"
#include "net/https.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#define CLOSE_POLL_MS 100
#define CLOSE_POLLS   10 /* free the portal at most 1 s after the answer */

struct imago_agent_portal {
        struct imago_agent *a;
        SSL_CTX *ssl;
        struct imago_https_server *srv;
        struct event *ev_close;
        unsigned polls;
        uint64_t failures;
        uint64_t last_try_ms;
        int tried;
        int configured; /* answered 200: closing */
};

static void reply_info(struct imago_agent_portal *p, struct evhttp_request *req)
{
        char body[256];
        uint64_t left =
            p->failures >= IMAGO_AGENT_SETUP_TRIES ? 0 : IMAGO_AGENT_SETUP_TRIES - p->failures;

        snprintf(body, sizeof(body), "{\"device\":\"%s\",\"state\":\"%s\",\"attempts_left\":%u}",
                 p->a->devid, left == 0 ? "locked" : "unconfigured", (unsigned)left);
        imago_https_reply_json(req, 200, body);
}

/* Overwrite libevent's copy of the request body (it held the code and the secrets). */
static void wipe_input(struct evhttp_request *req)
{
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t n = in != NULL ? evbuffer_get_length(in) : 0;
        unsigned char *d;

        if (n > 0 && (d = evbuffer_pullup(in, -1)) != NULL)
                imago_wipe(d, n);
}

static void close_cb(evutil_socket_t fd, short what, void *arg);

/* The code was right: keep the network and the token, answer, then close the portal. */
static int configured(struct imago_agent_portal *p, struct evhttp_request *req,
                      const struct imago_agent_configure *cf)
{
        struct imago_store *s = p->a->store;
        struct timeval tv = {0, CLOSE_POLL_MS * 1000};
        char body[160];
        int r;

        /* Token first, network last: net-config is what marks the device configured. */
        if ((r = imago_store_put(s, IMAGO_AGENT_REC_TOKEN, IMAGO_STORE_TOKEN,
                                 (const uint8_t *)cf->token, strlen(cf->token))) != IMAGO_OK ||
            (r = imago_store_put(s, IMAGO_AGENT_REC_NET, IMAGO_STORE_WIFI,
                                 (const uint8_t *)cf->net_json, cf->net_json_len)) != IMAGO_OK) {
                IMAGO_ERR_R(r, "cannot write the configuration to the store");
                return r;
        }
        r = imago_store_delete(s, IMAGO_AGENT_REC_FAILURES);
        if (r != IMAGO_OK && r != IMAGO_ENOTFOUND)
                IMAGO_WARN("cannot clear the failure count: %s", imago_errname(r));
        p->failures = 0;
        p->configured = 1;
        snprintf(body, sizeof(body), "{\"device\":\"%s\",\"status\":\"configured\"}", p->a->devid);
        imago_https_reply_json(req, 200, body);
        fprintf(stderr, "%s: configured through the setup portal; closing it\n", p->a->prog);
        if ((p->ev_close = evtimer_new(p->a->base, close_cb, p)) == NULL ||
            evtimer_add(p->ev_close, &tv) != 0)
                IMAGO_ERR("cannot schedule the portal's close");
        return IMAGO_OK;
}

static void configure(struct imago_agent_portal *p, struct evhttp_request *req)
{
        struct imago_agent_configure cf = {0};
        char *body = NULL, *hash = NULL;
        size_t len = 0;
        uint64_t now;
        int r;

        if (p->failures >= IMAGO_AGENT_SETUP_TRIES) {
                wipe_input(req);
                imago_https_reply_error(req, 423, IMAGO_ESETUP_LOCKED, NULL, 0);
                return;
        }
        r = imago_https_body(req, IMAGO_AGENT_CONFIGURE_MAX, &body, &len);
        wipe_input(req);
        if (r == IMAGO_OK)
                r = imago_agent_configure_parse((const uint8_t *)body, len, &cf);
        if (body != NULL) {
                imago_wipe(body, len);
                free(body);
        }
        if (r != IMAGO_OK) {
                imago_https_reply_error(req, r == IMAGO_ETOOBIG ? 413 : 400, r, NULL, 0);
                goto out;
        }
        now = imago_agent_now_ms();
        if (p->tried && now - p->last_try_ms < IMAGO_AGENT_TRY_INTERVAL_MS) {
                uint64_t wait = IMAGO_AGENT_TRY_INTERVAL_MS - (now - p->last_try_ms);

                imago_https_reply_error(req, 429, IMAGO_EAPI_RATE, "one try per 2 seconds",
                                        (unsigned)((wait + 999) / 1000));
                goto out;
        }
        p->tried = 1;
        p->last_try_ms = now;
        /* Count the try before checking it: a crash or power cut cannot give a free guess. */
        if ((r = imago_agent_put_u64(p->a->store, IMAGO_AGENT_REC_FAILURES, p->failures + 1)) !=
            IMAGO_OK) {
                IMAGO_ERR_R(r, "cannot record the setup attempt");
                imago_https_reply_error(req, 500, r, NULL, 0);
                goto out;
        }
        p->failures++;
        if ((r = imago_agent_get_str(p->a->store, IMAGO_REC_SETUP_CODE_HASH, &hash, NULL)) !=
                IMAGO_OK ||
            hash == NULL) {
                IMAGO_ERR("the store holds no setup-code hash (%s)", imago_errname(r));
                imago_https_reply_error(req, 500, r != IMAGO_OK ? r : IMAGO_ENOTFOUND, NULL, 0);
                goto out;
        }
        r = imago_setup_code_check(cf.setup_code, hash);
        if (r == IMAGO_EPERM || r == IMAGO_EINVAL) {
                fprintf(stderr, "%s: wrong setup code (%u of %u)%s\n", p->a->prog,
                        (unsigned)p->failures, (unsigned)IMAGO_AGENT_SETUP_TRIES,
                        p->failures >= IMAGO_AGENT_SETUP_TRIES ? ": portal locked" : "");
                imago_https_reply_error(req, 403, IMAGO_ESETUP_CODE, NULL, 0);
        } else if (r != IMAGO_OK) {
                IMAGO_ERR_R(r, "setup code check failed");
                imago_https_reply_error(req, 500, r, NULL, 0);
        } else if ((r = configured(p, req, &cf)) != IMAGO_OK) {
                imago_https_reply_error(req, 500, r, NULL, 0);
        }
out:
        imago_agent_free_secret(hash);
        imago_agent_configure_free(&cf);
}

static void handle(struct evhttp_request *req, const char *peer, void *arg)
{
        struct imago_agent_portal *p = arg;
        const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
        const char *path = u != NULL ? evhttp_uri_get_path(u) : NULL;
        enum evhttp_cmd_type m = evhttp_request_get_command(req);
        int info, conf;

        (void)peer;
        if (path == NULL || evhttp_uri_get_query(u) != NULL) {
                imago_https_reply_error(req, 404, IMAGO_EAPI_ROUTE, NULL, 0);
                return;
        }
        info = strcmp(path, "/v1/info") == 0;
        conf = strcmp(path, "/v1/configure") == 0;
        if (p->configured)
                imago_https_reply_error(req, 409, IMAGO_ESTATE, "configured", 0);
        else if (info && m == EVHTTP_REQ_GET)
                reply_info(p, req);
        else if (conf && m == EVHTTP_REQ_POST)
                configure(p, req);
        else if (info || conf)
                imago_https_reply_error(req, 405, IMAGO_EAPI_METHOD, NULL, 0);
        else
                imago_https_reply_error(req, 404, IMAGO_EAPI_ROUTE, NULL, 0);
}

/* After the answer went out: free the portal (no listening socket is left), open the link. */
static void close_cb(evutil_socket_t fd, short what, void *arg)
{
        struct imago_agent_portal *p = arg;
        struct imago_agent *a = p->a;
        struct timeval tv = {0, CLOSE_POLL_MS * 1000};
        int r;

        (void)fd;
        (void)what;
        if (++p->polls < CLOSE_POLLS && imago_https_server_conns(p->srv) > 0) {
                evtimer_add(p->ev_close, &tv);
                return;
        }
        imago_agent_portal_free(p);
        a->portal = NULL;
        IMAGO_INFO("setup portal closed");
        if ((r = imago_agent_link_open(a)) != IMAGO_OK) {
                fprintf(stderr, "%s: %s (%s)\n", a->prog, imago_strerror(r), imago_errname(r));
                a->rc = 1;
                event_base_loopexit(a->base, NULL);
        }
}

/* The birth certificate as a file path for imago_https_server_ctx (a memfd: nothing on disk). */
static int memfile(const char *pem, int *fd, char *path, size_t size)
{
        size_t len = strlen(pem), off = 0;

        if ((*fd = memfd_create("imago-portal-cert", MFD_CLOEXEC)) < 0)
                return IMAGO_EIO;
        while (off < len) {
                ssize_t w = write(*fd, pem + off, len - off);

                if (w <= 0)
                        return IMAGO_EIO;
                off += (size_t)w;
        }
        if (snprintf(path, size, "/proc/self/fd/%d", *fd) >= (int)size)
                return IMAGO_EIO;
        return IMAGO_OK;
}

int imago_agent_portal_open(struct imago_agent *a)
{
        struct imago_agent_portal *p;
        struct imago_https_limits lim = {
            .max_body = IMAGO_AGENT_CONFIGURE_MAX,
            .max_headers = 4096,
            .max_url = 256,
            .request_deadline_ms = 10000,
            .idle_timeout_s = 30,
            .max_conns = 16,
            .max_conns_per_addr = 4,
        };
        char path[64];
        int fd = -1, r;

        if (a->birth == NULL) {
                fprintf(stderr, "%s: no birth certificate for the setup portal\n", a->prog);
                return IMAGO_ENOTFOUND;
        }
        if ((p = calloc(1, sizeof(*p))) == NULL)
                return IMAGO_ENOMEM;
        p->a = a;
        if ((r = imago_agent_get_u64(a->store, IMAGO_AGENT_REC_FAILURES, &p->failures)) !=
            IMAGO_OK) {
                /* An unreadable count locks: it must never read as zero. */
                IMAGO_WARN("unreadable setup failure count (%s): portal locked", imago_errname(r));
                p->failures = IMAGO_AGENT_SETUP_TRIES;
        }
        if ((r = memfile(a->birth, &fd, path, sizeof(path))) != IMAGO_OK ||
            (r = imago_https_server_ctx(path, NULL, NULL, imago_identity_evp(a->id), &p->ssl)) !=
                IMAGO_OK ||
            (r = imago_https_server_new(a->base, p->ssl, a->conf->portal_host, a->conf->portal_port,
                                        &lim, handle, p, &p->srv)) != IMAGO_OK) {
                fprintf(stderr, "%s: cannot open the setup portal: %s (%s)\n", a->prog,
                        imago_strerror(r), imago_errname(r));
                goto out;
        }
        a->portal = p;
        p = NULL;
        fprintf(stderr, "%s: device %s: setup portal on %s:%u (%s)\n", a->prog, a->devid,
                a->conf->portal_host, (unsigned)imago_https_server_port(a->portal->srv),
                a->portal->failures >= IMAGO_AGENT_SETUP_TRIES ? "locked" : "unconfigured");
out:
        if (fd >= 0)
                close(fd);
        imago_agent_portal_free(p);
        return r;
}

void imago_agent_portal_free(struct imago_agent_portal *p)
{
        if (p == NULL)
                return;
        if (p->ev_close != NULL)
                event_free(p->ev_close);
        imago_https_server_free(p->srv);
        SSL_CTX_free(p->ssl);
        free(p);
}
