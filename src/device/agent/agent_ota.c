/*
 * imago_agent: the update client wired into the agent (see agent.h, docs/ota.md "Device").
 * The loop thread owns the link: it publishes reports, resends them until acked, takes
 * ota/ack and ota/check, runs the timers and execs the bootloader for a reboot.  One worker
 * thread runs imago_ota (TUF, downloads over imago_blkc, delta, flash writes, the health check).
 * With ota_https_url set, the image repository's files ("image/...") go over imago_ota_https
 * instead; the director's files (per device) stay on the authenticated channel (imago_blkc).
 * Worker -> loop: one byte on a pipe ('r' a report is pending, 's' sign a digest, 'R' reboot).
 * Loop -> worker: flags under a mutex and a condition variable.  The identity is not
 * thread-safe and the link's TLS uses it on the loop thread, so reports are signed there too.
 */
#define _GNU_SOURCE
#include "device/agent/agent_priv.h"

#include "base/err.h"
#include "base/log.h"
#include "device/blkc/blkc.h"
#include "device/link/link.h"
#include "device/ota/ota.h"
#include "device/ota_https/ota_https.h"
#include "json/json.h"
#include "ota/vreport.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#define RESEND_S      10
#define NUDGE_MIN_MS  2000
#define REBOOT_ACK_MS 3000
#define BOOT_ARGS_MAX 64

struct imago_agent_ota {
        struct imago_agent *a;
        struct imago_blkc *blkc;
        struct imago_ota_https *https; /* NULL: everything over blkc */
        struct imago_ota *ota;
        pthread_t th;
        int started;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        int stop, want_check, online, rebooting, seen_online; /* under mu */
        int sign_req, sign_done, sign_r;                      /* under mu */
        uint8_t sign_digest[IMAGO_SHA256_LEN];
        uint8_t sign_sig[IMAGO_SIG_MAX_LEN];
        size_t sign_len;
        int pipe_rd, pipe_wr;
        struct event *ev_pipe, *ev_resend, *ev_check;
        uint64_t last_nudge_ms;
        const char *flash, *boot_prog; /* from the environment */
        char swap[16];
        int confirmed;
};

static void poke(struct imago_agent_ota *t, char c);

/* Worker: have the loop thread sign (the identity belongs to it). */
static int sign_cb(void *arg, const uint8_t digest[IMAGO_SHA256_LEN],
                   uint8_t sig[IMAGO_SIG_MAX_LEN], size_t *sig_len)
{
        struct imago_agent_ota *t = arg;
        int r;

        pthread_mutex_lock(&t->mu);
        memcpy(t->sign_digest, digest, IMAGO_SHA256_LEN);
        t->sign_req = 1;
        t->sign_done = 0;
        pthread_mutex_unlock(&t->mu);
        poke(t, 's');
        pthread_mutex_lock(&t->mu);
        while (!t->sign_done && !t->stop)
                pthread_cond_wait(&t->cv, &t->mu);
        r = t->sign_done ? t->sign_r : IMAGO_EIO;
        if (r == IMAGO_OK) {
                memcpy(sig, t->sign_sig, t->sign_len);
                *sig_len = t->sign_len;
        }
        t->sign_req = 0;
        t->sign_done = 0;
        pthread_mutex_unlock(&t->mu);
        return r;
}

/* Loop thread: a pending signature request. */
static void sign_now(struct imago_agent_ota *t)
{
        pthread_mutex_lock(&t->mu);
        if (t->sign_req && !t->sign_done) {
                t->sign_len = 0;
                t->sign_r =
                    imago_identity_sign_digest(t->a->id, t->sign_digest, t->sign_sig, &t->sign_len);
                t->sign_done = 1;
                pthread_cond_broadcast(&t->cv);
        }
        pthread_mutex_unlock(&t->mu);
}

/* The split transport: "image/..." over HTTPS when configured, the rest over blkc. */
static int is_image(const char *s)
{
        return s != NULL && strncmp(s, "image/", 6) == 0;
}

static int get(void *ctx, const char *url, uint64_t max, imago_tuf_sink_fn sink, void *sink_arg)
{
        struct imago_agent_ota *t = ctx;

        if (t->https != NULL && url != NULL && strncmp(url, "blk:", 4) == 0 && is_image(url + 4))
                return imago_ota_https_get(t->https, url, max, sink, sink_arg);
        return imago_blkc_get(t->blkc, url, max, sink, sink_arg);
}

static int fetch_file(void *ctx, const char *object, uint64_t length, const char *path,
                      uint64_t *resumed_from)
{
        struct imago_agent_ota *t = ctx;

        if (t->https != NULL && is_image(object))
                return imago_ota_https_fetch_file(t->https, object, length, path, resumed_from);
        return imago_blkc_fetch_file(t->blkc, object, length, path, resumed_from);
}

/* Worker: progress of the next fetches (called between them); the callback runs on the worker. */
static void set_progress(void *ctx, imago_ota_progress_fn fn, void *fn_arg)
{
        struct imago_agent_ota *t = ctx;

        imago_blkc_set_progress(t->blkc, fn, fn_arg);
        if (t->https != NULL)
                imago_ota_https_set_progress(t->https, fn, fn_arg);
}

static void poke(struct imago_agent_ota *t, char c)
{
        ssize_t n;

        do
                n = write(t->pipe_wr, &c, 1);
        while (n < 0 && errno == EINTR);
}

/* Worker: a report is built and persisted; the loop publishes it. */
static int report_cb(void *arg, const char *nonce, const uint8_t *msg, size_t len)
{
        (void)nonce;
        (void)msg;
        (void)len;
        poke(arg, 'r');
        return IMAGO_OK;
}

/* Worker: milestones go to stderr at the default log level, like the agent's own lines. */
static void notice_cb(void *arg, const char *msg)
{
        struct imago_agent_ota *t = arg;

        fprintf(stderr, "%s: update: %s\n", t->a->prog, msg);
}

/* Worker: the loop execs the bootloader; nothing more runs here meanwhile. */
static int reboot_cb(void *arg)
{
        struct imago_agent_ota *t = arg;

        pthread_mutex_lock(&t->mu);
        t->rebooting = 1;
        pthread_mutex_unlock(&t->mu);
        poke(t, 'R');
        return IMAGO_OK;
}

static void request_check(struct imago_agent_ota *t)
{
        pthread_mutex_lock(&t->mu);
        t->want_check = 1;
        pthread_cond_signal(&t->cv);
        pthread_mutex_unlock(&t->mu);
}

static void publish_pending(struct imago_agent_ota *t)
{
        uint8_t *msg = NULL;
        size_t len = 0;
        char nonce[33];
        int r;

        if (!t->a->link || imago_link_state(t->a->link) != IMAGO_LINK_ONLINE)
                return;
        if (imago_ota_pending(t->ota, nonce, &msg, &len) != IMAGO_OK || msg == NULL)
                return;
        r = imago_link_publish(t->a->link, "ota/report", msg, len);
        if (r != IMAGO_OK)
                IMAGO_WARN("ota/report not sent (%s): resent later", imago_errname(r));
        free(msg);
}

/* Loop thread: exec `$IMAGO_BOOT_PROGRAM run $IMAGO_BOOT_FLASH -- ARGS` (the host's reboot). */
static void do_reboot(struct imago_agent_ota *t)
{
        char *args[BOOT_ARGS_MAX + 6];
        int i, n = 0;

        args[n++] = (char *)t->boot_prog;
        args[n++] = "run";
        args[n++] = (char *)t->flash;
        args[n++] = "--";
        for (i = 1; i < t->a->argc && n < BOOT_ARGS_MAX + 4; i++)
                args[n++] = t->a->argv[i];
        args[n] = NULL;
        IMAGO_INFO("rebooting: %s run %s", t->boot_prog, t->flash);
        fflush(stdout);
        fflush(stderr);
        /* Nothing of this process (sockets, token sessions) leaks into the next boot. */
        (void)close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
        execv(t->boot_prog, args);
        IMAGO_ERR("cannot exec %s: %s", t->boot_prog, strerror(errno));
        t->a->rc = 1;
        event_base_loopexit(t->a->base, NULL);
}

static void on_pipe(evutil_socket_t fd, short what, void *arg)
{
        struct imago_agent_ota *t = arg;
        char buf[64];
        ssize_t n, i;
        int reboot = 0;

        (void)what;
        n = read(fd, buf, sizeof(buf));
        for (i = 0; i < n; i++)
                if (buf[i] == 'R')
                        reboot = 1;
        sign_now(t);
        publish_pending(t);
        if (reboot)
                do_reboot(t);
}

static void on_resend(evutil_socket_t fd, short what, void *arg)
{
        (void)fd;
        (void)what;
        publish_pending(arg);
}

static void on_timer_check(evutil_socket_t fd, short what, void *arg)
{
        (void)fd;
        (void)what;
        request_check(arg);
}

static void on_ack(void *arg, const char *topic, const uint8_t *payload, size_t len)
{
        struct imago_agent_ota *t = arg;
        char nonce[33];
        int result = 0, r;

        (void)topic;
        r = imago_vreport_ack_parse(payload, len, nonce, &result);
        if (r != IMAGO_OK) {
                IMAGO_WARN("ota/ack refused (%s)", imago_errname(r));
                return;
        }
        if (result != 0)
                IMAGO_WARN("the cloud refused report %s: %s", nonce, imago_errname(result));
        imago_ota_ack(t->ota, nonce);
}

/* ota/check: {"v":1}; no authority, at most one check per NUDGE_MIN_MS. */
static void on_nudge(void *arg, const char *topic, const uint8_t *payload, size_t len)
{
        static const char *const keys[] = {"v"};
        struct imago_agent_ota *t = arg;
        json_t *j = NULL, *v;
        uint64_t now = imago_agent_now_ms();

        (void)topic;
        if (imago_json_object(payload, len, 256, &j) != IMAGO_OK)
                return;
        v = json_object_get(j, "v");
        if (imago_json_only_keys(j, keys, 1) && json_is_integer(v) && json_integer_value(v) == 1 &&
            now - t->last_nudge_ms >= NUDGE_MIN_MS) {
                t->last_nudge_ms = now;
                request_check(t);
        }
        json_decref(j);
}

static uint64_t mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int stopping(void *arg)
{
        struct imago_agent_ota *t = arg;
        int s;

        pthread_mutex_lock(&t->mu);
        s = t->stop;
        pthread_mutex_unlock(&t->mu);
        return s;
}

/* Worker: ONLINE and the health command, within health_timeout.  1 when stopping. */
static int health(struct imago_agent_ota *t, int *err)
{
        const struct imago_agent_conf *c = t->a->conf;
        uint64_t end = mono_ms() + (uint64_t)c->health_timeout * 1000u, now;
        struct timespec ts;
        int online, stop;

        pthread_mutex_lock(&t->mu);
        while (!t->online && !t->stop && (now = mono_ms()) < end) {
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += 1;
                pthread_cond_timedwait(&t->cv, &t->mu, &ts);
        }
        online = t->online;
        stop = t->stop;
        pthread_mutex_unlock(&t->mu);
        if (stop)
                return 1;
        if (!online) {
                IMAGO_ERR("health: the link did not come online within %u s", c->health_timeout);
                *err = IMAGO_EOTA_HEALTH;
                return 0;
        }
        *err = IMAGO_OK;
        now = mono_ms();
        if (c->health_cmd)
                *err = imago_ota_health_cmd(c->health_cmd, now < end ? (uint32_t)(end - now) : 1u,
                                            stopping, t);
        if (stopping(t))
                return 1; /* stopped, not failed: no verdict (the bootloader decides later) */
        return 0;
}

static void *worker(void *arg)
{
        struct imago_agent_ota *t = arg;
        struct imago_ota_boot_env env = {t->swap, t->confirmed};
        enum imago_ota_boot_action act = IMAGO_OTA_BOOT_NONE;
        enum imago_ota_outcome oc;
        int r, err = 0;

        r = imago_ota_boot_start(t->ota, &env, &act);
        if (r != IMAGO_OK)
                IMAGO_ERR_R(r, "update state after boot");
        if (act == IMAGO_OTA_BOOT_HEALTH && health(t, &err) == 0) {
                r = imago_ota_boot_health(t->ota, err);
                if (r != IMAGO_OK)
                        IMAGO_ERR_R(r, "health result");
        }
        pthread_mutex_lock(&t->mu);
        for (;;) {
                while (!t->stop && (!t->want_check || t->rebooting))
                        pthread_cond_wait(&t->cv, &t->mu);
                if (t->stop)
                        break;
                t->want_check = 0;
                pthread_mutex_unlock(&t->mu);
                r = imago_ota_check(t->ota, &oc);
                if (r != IMAGO_OK)
                        IMAGO_WARN("update check: %s (%s)", imago_strerror(r), imago_errname(r));
                pthread_mutex_lock(&t->mu);
        }
        pthread_mutex_unlock(&t->mu);
        return NULL;
}

/* Why updates are off, or NULL. */
static const char *off_reason(const struct imago_agent_conf *c)
{
        if (!c->ota_dir || !c->director_root || !c->image_root || !c->hardware_id)
                return "ota_dir, director_root, image_root and hardware_id are not all set";
        if (!getenv("IMAGO_BOOT_FLASH") || !getenv("IMAGO_BOOT_PROGRAM"))
                return "not running under imago-boot (IMAGO_BOOT_FLASH, IMAGO_BOOT_PROGRAM)";
        return NULL;
}

void imago_agent_ota_stop(struct imago_agent *a)
{
        struct imago_agent_ota *t = a->ota;

        if (!t)
                return;
        pthread_mutex_lock(&t->mu);
        t->stop = 1;
        pthread_cond_broadcast(&t->cv);
        pthread_mutex_unlock(&t->mu);
        if (t->blkc)
                imago_blkc_cancel(t->blkc, 1);
        if (t->https)
                imago_ota_https_cancel(t->https, 1);
        if (t->started)
                pthread_join(t->th, NULL);
        if (t->ev_pipe)
                event_free(t->ev_pipe);
        if (t->ev_resend)
                event_free(t->ev_resend);
        if (t->ev_check)
                event_free(t->ev_check);
        if (t->pipe_rd >= 0)
                close(t->pipe_rd);
        if (t->pipe_wr >= 0)
                close(t->pipe_wr);
        imago_ota_free(t->ota);
        imago_blkc_free(t->blkc);
        imago_ota_https_free(t->https);
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
        free(t);
        a->ota = NULL;
}

int imago_agent_ota_start(struct imago_agent *a)
{
        const struct imago_agent_conf *c = a->conf;
        const char *why = off_reason(c), *e;
        struct imago_agent_ota *t;
        struct imago_blkc_config bc;
        struct imago_ota_config oc;
        struct imago_ota_ops ops;
        struct timeval resend = {RESEND_S, 0}, every = {(time_t)c->ota_interval, 0};
        int fds[2], r;

        if (why) {
                IMAGO_INFO("updates off: %s", why);
                return IMAGO_OK;
        }
        t = calloc(1, sizeof(*t));
        if (!t)
                return IMAGO_ENOMEM;
        t->a = a;
        t->pipe_rd = t->pipe_wr = -1;
        pthread_mutex_init(&t->mu, NULL);
        pthread_cond_init(&t->cv, NULL);
        a->ota = t;
        t->flash = getenv("IMAGO_BOOT_FLASH");
        t->boot_prog = getenv("IMAGO_BOOT_PROGRAM");
        e = getenv("IMAGO_BOOT_SWAP");
        snprintf(t->swap, sizeof(t->swap), "%s", e ? e : "none");
        e = getenv("IMAGO_BOOT_CONFIRMED");
        t->confirmed = e && strcmp(e, "1") == 0;

        memset(&bc, 0, sizeof(bc));
        bc.base = a->base;
        bc.link = a->link;
        bc.block = c->ota_block;   /* 0: the default */
        bc.window = c->ota_window; /* 0: the default */
        if ((r = imago_blkc_new(&bc, &t->blkc)) != IMAGO_OK)
                goto fail;
        if (c->ota_https_url != NULL) {
                struct imago_ota_https_config hc;

                memset(&hc, 0, sizeof(hc));
                hc.url = c->ota_https_url;
                hc.ca_path = c->ota_https_ca;
                if ((r = imago_ota_https_new(&hc, &t->https)) != IMAGO_OK)
                        goto fail;
                IMAGO_INFO("image repository over %s", c->ota_https_url);
        }
        memset(&oc, 0, sizeof(oc));
        memset(&ops, 0, sizeof(ops));
        oc.dir = c->ota_dir;
        oc.director_root = c->director_root;
        oc.image_root = c->image_root;
        oc.flash = t->flash;
        oc.device_id = a->devid;
        oc.hardware_id = c->hardware_id;
        oc.production = c->production;
        oc.ack_wait_ms = REBOOT_ACK_MS;
        ops.tr.get = get;
        ops.tr.fetch_file = fetch_file;
        ops.tr.set_progress = set_progress;
        ops.tr.ctx = t;
        ops.report = report_cb;
        ops.reboot = reboot_cb;
        ops.notice = notice_cb;
        ops.sign = sign_cb;
        ops.sign_arg = t;
        ops.arg = t;
        if ((r = imago_ota_open(&oc, &ops, &t->ota)) != IMAGO_OK)
                goto fail;
        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
                r = IMAGO_EIO;
                goto fail;
        }
        t->pipe_rd = fds[0];
        t->pipe_wr = fds[1];
        t->ev_pipe = event_new(a->base, t->pipe_rd, EV_READ | EV_PERSIST, on_pipe, t);
        t->ev_resend = event_new(a->base, -1, EV_PERSIST, on_resend, t);
        t->ev_check = event_new(a->base, -1, EV_PERSIST, on_timer_check, t);
        if (!t->ev_pipe || !t->ev_resend || !t->ev_check || event_add(t->ev_pipe, NULL) != 0 ||
            event_add(t->ev_resend, &resend) != 0 || event_add(t->ev_check, &every) != 0) {
                r = IMAGO_ENOMEM;
                goto fail;
        }
        if ((r = imago_link_handle(a->link, "ota/ack", on_ack, t)) != IMAGO_OK ||
            (r = imago_link_handle(a->link, "ota/check", on_nudge, t)) != IMAGO_OK)
                goto fail;
        if (pthread_create(&t->th, NULL, worker, t) != 0) {
                r = IMAGO_ENOMEM;
                goto fail;
        }
        t->started = 1;
        IMAGO_INFO("updates on: %s, hardware %s, check every %u s", c->ota_dir, c->hardware_id,
                   c->ota_interval);
        return IMAGO_OK;
fail:
        IMAGO_ERR_R(r, "updates off: the update client did not start");
        imago_agent_ota_stop(a);
        return IMAGO_OK; /* the agent runs on without updates */
}

void imago_agent_ota_link_state(struct imago_agent *a, int online)
{
        struct imago_agent_ota *t = a->ota;
        int first = 0;

        if (!t)
                return;
        if (t->blkc)
                imago_blkc_link_state(t->blkc, online);
        pthread_mutex_lock(&t->mu);
        t->online = online;
        if (online && !t->seen_online) {
                t->seen_online = 1;
                first = 1;
        }
        pthread_cond_broadcast(&t->cv);
        pthread_mutex_unlock(&t->mu);
        if (online) {
                publish_pending(t);
                if (first)
                        request_check(t);
        }
}
