/* Blocking helper, library initialisation, PEM loading; see link.h. */
#define _GNU_SOURCE
#include "link_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <event2/event.h>

int imago_link_lib_init(void)
{
        static int done;

        if (done)
                return IMAGO_OK;
        if (mosquitto_lib_init() != MOSQ_ERR_SUCCESS)
                return IMAGO_EIO;
        done = 1;
        return IMAGO_OK;
}

/* PEM text into an anonymous in-memory file: "/proc/self/fd/N" (certificates only). */
static int memfile(const char *pem, int *fd, char *path, size_t size)
{
        size_t len = strlen(pem), off = 0;

        if ((*fd = memfd_create("imago-cert", MFD_CLOEXEC)) < 0)
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

int imago_link_identity_load_pem(struct imago_identity *id, const char *cert_pem,
                                 const char *chain_pem)
{
        char cp[64], chp[64];
        int cfd = -1, chfd = -1, r;

        if (id == NULL || cert_pem == NULL)
                return IMAGO_EINVAL;
        if ((r = memfile(cert_pem, &cfd, cp, sizeof(cp))) != IMAGO_OK ||
            (chain_pem != NULL && (r = memfile(chain_pem, &chfd, chp, sizeof(chp))) != IMAGO_OK))
                goto out;
        r = imago_identity_load_cert(id, cp, chain_pem != NULL ? chp : NULL);
out:
        if (cfd >= 0)
                close(cfd);
        if (chfd >= 0)
                close(chfd);
        return r;
}

struct run_ctx {
        struct imago_link *l;
        int timed_out, signalled;
};

static void run_timeout(evutil_socket_t fd, short what, void *arg)
{
        struct run_ctx *c = arg;

        (void)fd;
        (void)what;
        c->timed_out = 1;
        event_base_loopbreak(c->l->base);
}

static void run_signal(evutil_socket_t fd, short what, void *arg)
{
        struct run_ctx *c = arg;

        (void)what;
        IMAGO_INFO("link %s: signal %d, shutting down", c->l->id, (int)fd);
        c->signalled = 1;
        event_base_loopbreak(c->l->base);
}

int imago_link_run_blocking(struct imago_link *l, int until_online, uint32_t timeout_ms,
                            int handle_signals)
{
        struct run_ctx c = {.l = l};
        struct event *tev = NULL, *sterm = NULL, *sint = NULL;
        struct timeval tv = {.tv_sec = timeout_ms / 1000U,
                             .tv_usec = (suseconds_t)(timeout_ms % 1000U) * 1000};
        int r = IMAGO_ENOMEM;

        if (timeout_ms != 0 &&
            ((tev = evtimer_new(l->base, run_timeout, &c)) == NULL || event_add(tev, &tv) != 0))
                goto out;
        if (handle_signals && ((sterm = evsignal_new(l->base, SIGTERM, run_signal, &c)) == NULL ||
                               (sint = evsignal_new(l->base, SIGINT, run_signal, &c)) == NULL ||
                               event_add(sterm, NULL) != 0 || event_add(sint, NULL) != 0))
                goto out;
        l->run_active = 1;
        l->run_until_online = until_online;
        if (l->state == IMAGO_LINK_IDLE && (r = imago_link_start(l, 0)) != IMAGO_OK)
                goto out;
        if (!(until_online && l->state == IMAGO_LINK_ONLINE))
                event_base_dispatch(l->base);
        l->run_active = 0;
        if (until_online && l->state == IMAGO_LINK_ONLINE) {
                /* Let the DISCONNECT go out; then stop. */
                imago_link_stop(l);
                r = IMAGO_OK;
        } else if (c.signalled && l->state != IMAGO_LINK_FAILED) {
                imago_link_stop(l);
                r = IMAGO_OK;
        } else if (l->state == IMAGO_LINK_STOPPED && !until_online) {
                r = IMAGO_OK;
        } else {
                r = l->last_err != 0 ? l->last_err : IMAGO_ESTATE;
                if (c.timed_out)
                        IMAGO_WARN("link %s: timed out (%s)", l->id,
                                   imago_link_state_name(l->state));
                imago_link_stop(l);
        }
out:
        l->run_active = 0;
        if (tev != NULL)
                event_free(tev);
        if (sterm != NULL)
                event_free(sterm);
        if (sint != NULL)
                event_free(sint);
        return r;
}
