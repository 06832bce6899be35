/* See svc.h: setup, the event loop, and teardown. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/svc_priv.h"

#include "base/err.h"
#include "cloud/svc_log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int imago_svc_path(const struct imago_svc *s, const char *rel, char *buf, size_t size)
{
        int n = snprintf(buf, size, "%s/%s", s->dir, rel);

        return (n < 0 || (size_t)n >= size) ? IMAGO_EINVAL : IMAGO_OK;
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
        struct imago_svc *s = arg;

        (void)what;
        imago_svc_log(IMAGO_LOG_INFO, "signal", "sig=%d action=stop", (int)sig);
        event_base_loopbreak(s->base);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
        struct imago_svc *s = arg;
        int r = imago_svc_deny_reload(s);

        (void)sig;
        (void)what;
        imago_svc_log(r == IMAGO_OK ? IMAGO_LOG_INFO : IMAGO_LOG_ERROR, "deny_reload", "result=%s",
                      r == IMAGO_OK ? "ok" : imago_errname(r));
        /* `devices rotate` signals too: send the pending requests */
        imago_svc_rotate_send(s, "sighup");
}

/* The broker died under us: stop (a supervisor restarts the whole service). */
static void on_chld(evutil_socket_t sig, short what, void *arg)
{
        struct imago_svc *s = arg;
        int status;

        (void)sig;
        (void)what;
        if (s->broker > 0 && waitpid(s->broker, &status, WNOHANG) == s->broker) {
                imago_svc_log(IMAGO_LOG_ERROR, "broker_exit", "pid=%ld status=%d action=stop",
                              (long)s->broker, status);
                s->broker = 0;
                event_base_loopbreak(s->base);
        }
}

static int setup(struct imago_svc *s, const struct imago_svc_opts *o)
{
        char path[IMAGO_CLOUD_PATH_MAX + 32];
        unsigned line = 0;
        int r;

        if (snprintf(s->dir, sizeof(s->dir), "%s", o->data_dir) >= (int)sizeof(s->dir))
                return IMAGO_EINVAL;
        if ((r = imago_cloud_datadir_config(s->dir, &s->cfg, &line)) != IMAGO_OK) {
                imago_svc_log(IMAGO_LOG_ERROR, "config", "result=%s dir=%s line=%u",
                              imago_errname(r), s->dir, line);
                return r;
        }
        imago_log_set_level(s->cfg.log_level);
        if ((r = imago_svc_app_check(s)) != IMAGO_OK)
                return r;
        if ((r = imago_registry_open_existing(s->cfg.registry, &s->reg)) != IMAGO_OK) {
                imago_svc_log(IMAGO_LOG_ERROR, "registry_open", "result=%s", imago_errname(r));
                return r;
        }
        if ((r = imago_svc_path(s, IMAGO_CLOUD_D_CA, path, sizeof(path))) != 0)
                return r;
        if ((r = imago_svc_issuer_load(path, o->passphrase, s->cfg.cert_days, &s->iss)) != 0) {
                imago_svc_log(IMAGO_LOG_ERROR, "issuing_ca", "result=%s", imago_errname(r));
                return r;
        }
        s->iss.new_key = s->cfg.enrol_key_policy == IMAGO_CLOUD_NEW_KEY;
        if ((s->base = event_base_new()) == NULL)
                return IMAGO_ENOMEM;
        if ((s->ev_term = evsignal_new(s->base, SIGTERM, on_stop, s)) == NULL ||
            (s->ev_int = evsignal_new(s->base, SIGINT, on_stop, s)) == NULL ||
            (s->ev_hup = evsignal_new(s->base, SIGHUP, on_hup, s)) == NULL ||
            (s->ev_chld = evsignal_new(s->base, SIGCHLD, on_chld, s)) == NULL)
                return IMAGO_ENOMEM;
        if (event_add(s->ev_term, NULL) != 0 || event_add(s->ev_int, NULL) != 0 ||
            event_add(s->ev_hup, NULL) != 0 || event_add(s->ev_chld, NULL) != 0)
                return IMAGO_EIO;
        return IMAGO_OK;
}

static void teardown(struct imago_svc *s)
{
        imago_svc_http_stop(s);
        imago_svc_app_stop(s);
        imago_svc_mqtt_stop(s);
        imago_svc_rotate_stop(s);
        imago_svc_broker_stop(s);
        if (s->ev_term != NULL)
                event_free(s->ev_term);
        if (s->ev_int != NULL)
                event_free(s->ev_int);
        if (s->ev_hup != NULL)
                event_free(s->ev_hup);
        if (s->ev_chld != NULL)
                event_free(s->ev_chld);
        if (s->base != NULL)
                event_base_free(s->base);
        imago_svc_issuer_free(&s->iss);
        imago_registry_close(s->reg);
}

int imago_svc_run(const struct imago_svc_opts *o)
{
        struct imago_svc *s = NULL;
        char pidfile[IMAGO_CLOUD_PATH_MAX + 32];
        int r, pid_written = 0;

        if (o == NULL || o->data_dir == NULL)
                return IMAGO_EINVAL;
        if ((s = calloc(1, sizeof(*s))) == NULL)
                return IMAGO_ENOMEM;
        s->sock = -1;
        signal(SIGPIPE, SIG_IGN);
        if (imago_log_get_level() < IMAGO_LOG_INFO)
                imago_log_set_level(IMAGO_LOG_INFO);
        if ((r = setup(s, o)) != IMAGO_OK)
                goto out;
        if ((r = imago_svc_path(s, IMAGO_CLOUD_F_PID, pidfile, sizeof(pidfile))) != 0)
                goto out;
        if ((r = imago_svc_pid_write(pidfile)) != IMAGO_OK) {
                imago_svc_log(IMAGO_LOG_ERROR, "pid_file", "result=%s file=%s", imago_errname(r),
                              pidfile);
                goto out;
        }
        pid_written = 1;
        if (!o->no_broker && (r = imago_svc_broker_start(s)) != IMAGO_OK)
                goto out;
        if ((r = imago_svc_http_start(s)) != IMAGO_OK)
                goto out;
        if ((r = imago_svc_app_start(s, o->passphrase)) != IMAGO_OK)
                goto out;
        if ((r = imago_svc_rotate_start(s)) != IMAGO_OK ||
            (r = imago_svc_mqtt_start(s, o->passphrase)) != IMAGO_OK)
                goto out;
        imago_svc_log(IMAGO_LOG_INFO, "started", "pid=%ld data=%s broker=%s", (long)getpid(),
                      s->dir, o->no_broker ? "external" : "child");
        if (event_base_dispatch(s->base) < 0)
                r = IMAGO_EIO;
        else
                r = s->broker == 0 && !o->no_broker ? IMAGO_EIO : IMAGO_OK;
out:
        /* A broker that died is an error exit; a signal is a clean one. */
        teardown(s);
        if (pid_written)
                imago_svc_pid_remove(pidfile);
        imago_svc_log(r == IMAGO_OK ? IMAGO_LOG_INFO : IMAGO_LOG_ERROR, "stopped", "result=%s",
                      r == IMAGO_OK ? "ok" : imago_errname(r));
        free(s);
        return r;
}
