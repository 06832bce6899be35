/* imago_agent at run time: the link with its dev, registration, wipe and factory reset
 * (see agent.h). */
#define _POSIX_C_SOURCE 200809L
#include "device/agent/agent_priv.h"

#include "base/err.h"
#include "base/log.h"
#include "device/app/dev.h"
#include "device/link/link.h"
#include "device/store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#define WIPE_DELAY_MS 1000 /* lets the "ok" answer of the wipe command go out first */

static int store_cert(void *arg, const char *cert_pem, const char *chain_pem)
{
        struct imago_agent *a = arg;
        int r;

        /* Chain first: a certificate is never stored without its issuer. */
        if ((r = imago_store_put(a->store, IMAGO_AGENT_REC_CHAIN, IMAGO_STORE_CERT,
                                 (const uint8_t *)chain_pem, strlen(chain_pem))) != IMAGO_OK ||
            (r = imago_store_put(a->store, IMAGO_AGENT_REC_CERT, IMAGO_STORE_CERT,
                                 (const uint8_t *)cert_pem, strlen(cert_pem))) != IMAGO_OK)
                IMAGO_ERR_R(r, "cannot write the certificate to the store");
        return r;
}

static void on_state(void *arg, enum imago_link_state st, int err)
{
        struct imago_agent *a = arg;

        imago_agent_ota_link_state(a, st == IMAGO_LINK_ONLINE);

        if (st == IMAGO_LINK_WAITING && err != 0) {
                IMAGO_WARN("connection: %s", imago_strerror(err));
        } else if (st == IMAGO_LINK_ONLINE) {
                IMAGO_INFO("online");
                if (a->dev != NULL)
                        imago_dev_online(a->dev);
        } else if (st == IMAGO_LINK_FAILED && !a->once) {
                fprintf(stderr, "%s: the link gave up: %s (%s)\n", a->prog, imago_strerror(err),
                        imago_errname(err));
                a->rc = 1;
                event_base_loopexit(a->base, NULL);
        }
}

static int load_seq(void *arg, uint64_t *seq)
{
        struct imago_agent *a = arg;

        return imago_agent_get_u64(a->store, IMAGO_AGENT_REC_SEQ, seq);
}

static int save_seq(void *arg, uint64_t seq)
{
        struct imago_agent *a = arg;

        return imago_agent_put_u64(a->store, IMAGO_AGENT_REC_SEQ, seq);
}

static void registered(void *arg, int result)
{
        struct imago_agent *a = arg;
        int r;

        /* Answered either way: the token is single-use, so no copy is kept. */
        r = imago_store_delete(a->store, IMAGO_AGENT_REC_TOKEN);
        if (r != IMAGO_OK && r != IMAGO_ENOTFOUND)
                IMAGO_ERR_R(r, "cannot delete the registration token");
        fprintf(stderr, "%s: registration answered: %s\n", a->prog,
                result == 0 ? "ok" : imago_errname(result));
}

static void reset_cb(evutil_socket_t fd, short what, void *arg)
{
        struct imago_agent *a = arg;
        int r;

        (void)fd;
        (void)what;
        if ((r = imago_agent_reset(a)) != IMAGO_OK) {
                a->rc = 1;
                event_base_loopexit(a->base, NULL);
        }
}

/* Built-in command "wipe" (decommission): answer ok, then the factory reset. */
static int cmd_wipe(void *arg, const char *name, json_t *args, json_t **result)
{
        struct imago_agent *a = arg;
        struct timeval tv = {WIPE_DELAY_MS / 1000, (WIPE_DELAY_MS % 1000) * 1000};

        (void)name;
        (void)args;
        (void)result;
        /* The link cannot be freed from inside its own callback: reset from a timer. */
        if (a->ev_reset == NULL && (a->ev_reset = evtimer_new(a->base, reset_cb, a)) == NULL)
                return IMAGO_ENOMEM;
        if (evtimer_add(a->ev_reset, &tv) != 0)
                return IMAGO_ENOMEM;
        fprintf(stderr, "%s: wipe command: factory reset in %u ms\n", a->prog,
                (unsigned)WIPE_DELAY_MS);
        return IMAGO_OK;
}

static int open_dev(struct imago_agent *a)
{
        struct imago_dev_config dc;
        char *token = NULL;
        int r;

        memset(&dc, 0, sizeof(dc));
        dc.link = a->link;
        dc.cmd_key = a->have_cmd_key ? &a->cmd_key : NULL;
        dc.load_seq = load_seq;
        dc.save_seq = save_seq;
        dc.seq_arg = a;
        dc.base = a->base;
        if ((r = imago_dev_new(&dc, &a->dev)) != IMAGO_OK ||
            (r = imago_dev_command(a->dev, "wipe", cmd_wipe, a)) != IMAGO_OK)
                goto out;
        if (a->app != NULL && a->app->setup != NULL &&
            (r = a->app->setup(a->app->arg, a->dev)) != IMAGO_OK) {
                fprintf(stderr, "%s: the application's setup failed: %s (%s)\n", a->prog,
                        imago_strerror(r), imago_errname(r));
                goto out;
        }
        if (!a->have_cmd_key)
                IMAGO_WARN("no command_key configured: commands are refused");
        if ((r = imago_agent_get_str(a->store, IMAGO_AGENT_REC_TOKEN, &token, NULL)) != IMAGO_OK)
                goto out;
        /* imago_dev keeps its own copy until the answer, and wipes it. */
        if (token != NULL && (r = imago_dev_register(a->dev, token, registered, a)) == IMAGO_OK)
                IMAGO_INFO("registration token pending: forwarded once online");
out:
        imago_agent_free_secret(token);
        return r;
}

int imago_agent_link_open(struct imago_agent *a)
{
        const struct imago_agent_conf *c = a->conf;
        struct imago_link_config lc;
        struct imago_link_callbacks cb = {.store_cert = store_cert, .on_state = on_state, .arg = a};
        char *cert = NULL, *chain = NULL;
        int r;

        if ((r = imago_agent_get_pem(a->store, IMAGO_AGENT_REC_CERT, &cert)) != IMAGO_OK ||
            (r = imago_agent_get_pem(a->store, IMAGO_AGENT_REC_CHAIN, &chain)) != IMAGO_OK) {
                fprintf(stderr, "%s: cannot read the store: %s (%s)\n", a->prog, imago_strerror(r),
                        imago_errname(r));
                goto out;
        }
        if (cert != NULL && chain == NULL) {
                IMAGO_WARN("operational certificate without its chain: enrolling again");
                free(cert);
                cert = NULL;
        }
        if (cert == NULL && a->birth == NULL) {
                fprintf(stderr,
                        "%s: the store holds neither an operational nor a birth "
                        "certificate\n",
                        a->prog);
                r = IMAGO_ENOTFOUND;
                goto out;
        }
        fprintf(stderr, "%s: device %s, %s\n", a->prog, a->devid,
                cert != NULL ? "operational certificate" : "birth certificate: enrolling");
        memset(&lc, 0, sizeof(lc));
        lc.identity = a->id;
        lc.host = c->host;
        lc.port = c->port;
        lc.ca_path = c->ca;
        lc.server_name = c->server_name;
        lc.root_path = c->root_ca;
        lc.birth_pem = a->birth;
        lc.cert_pem = cert;
        lc.chain_pem = cert != NULL ? chain : NULL;
        lc.keepalive_s = (uint16_t)c->keepalive;
        lc.backoff_cap_ms = c->backoff_max * 1000U;
        lc.max_failures = a->once ? 3 : 0;
        if ((r = imago_link_new(a->base, &lc, &cb, &a->link)) != IMAGO_OK) {
                fprintf(stderr, "%s: %s (%s)\n", a->prog, imago_strerror(r), imago_errname(r));
                goto out;
        }
        if ((r = open_dev(a)) != IMAGO_OK) {
                fprintf(stderr, "%s: device library: %s (%s)\n", a->prog, imago_strerror(r),
                        imago_errname(r));
                goto out;
        }
        if (!a->once && (r = imago_agent_ota_start(a)) != IMAGO_OK)
                goto out;
        if (!a->once && (r = imago_link_start(a->link, 0)) != IMAGO_OK)
                fprintf(stderr, "%s: %s (%s)\n", a->prog, imago_strerror(r), imago_errname(r));
out:
        if (r != IMAGO_OK)
                imago_agent_stop_all(a);
        free(cert);
        free(chain);
        return r;
}

void imago_agent_stop_all(struct imago_agent *a)
{
        /* The update worker uses the link (through blkc): it stops first. */
        imago_agent_ota_stop(a);
        if (a->ev_reset != NULL) {
                event_free(a->ev_reset);
                a->ev_reset = NULL;
        }
        /* The link holds the dev as its handlers' argument: the link goes first. */
        imago_link_free(a->link);
        a->link = NULL;
        imago_dev_free(a->dev);
        a->dev = NULL;
        imago_agent_portal_free(a->portal);
        a->portal = NULL;
}

int imago_agent_begin(struct imago_agent *a)
{
        char *net = NULL;
        int r;

        if (a->conf->portal_host == NULL)
                return imago_agent_link_open(a);
        if ((r = imago_agent_get_str(a->store, IMAGO_AGENT_REC_NET, &net, NULL)) != IMAGO_OK) {
                fprintf(stderr, "%s: cannot read the store: %s (%s)\n", a->prog, imago_strerror(r),
                        imago_errname(r));
                return r;
        }
        if (net != NULL) {
                imago_agent_free_secret(net);
                return imago_agent_link_open(a);
        }
        if (a->once) {
                fprintf(stderr,
                        "%s: not configured yet: run without --once for the setup "
                        "portal\n",
                        a->prog);
                return IMAGO_ESTATE;
        }
        return imago_agent_portal_open(a);
}

int imago_agent_reset(struct imago_agent *a)
{
        size_t n = 0;
        int r;

        imago_agent_stop_all(a);
        if ((r = imago_agent_factory_reset(a->store, &n)) != IMAGO_OK) {
                fprintf(stderr, "%s: factory reset failed: %s (%s)\n", a->prog, imago_strerror(r),
                        imago_errname(r));
                return r;
        }
        fprintf(stderr, "%s: factory reset: %zu records deleted\n", a->prog, n);
        return imago_agent_begin(a);
}
