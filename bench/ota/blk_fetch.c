/*
 * imago-bench-blk-fetch: fetch one object over the device channel with
 * imago_blkc (docs/blk.md "Over the link"), as an enrolled device whose
 * identity, store and broker come from an agent configuration file
 * (docs/agent.md).  Prints one line:
 *   object=OBJ bytes=N seconds=S mbps=M resumed=R result=ok|<IMAGO_E name>
 * (mbps: 10^6 bytes per second; seconds: from ONLINE to the last byte).
 * Exit 0 on success, 1 when the fetch failed, 2 on a usage or setup error.
 *
 *   --config FILE     agent configuration (identity, store, broker, CA)
 *   --object OBJ      object name: director/..., image/metadata/..., image/targets/...
 *   --out PATH        write the bytes there (without --length: imago_blkc_get)
 *   --length N        resumable file fetch into --out (imago_blkc_fetch_file)
 *   --max N           largest object accepted by get (default 1 GiB)
 *   --block N --window N --timeout-ms N --idle-ms N   imago_blkc_config
 *   --max-failures N  connection attempts in a row before giving up (default 0: never)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/err.h"
#include "base/log.h"
#include "base/num.h"
#include "base/wipe.h"
#include "blk/blk.h"
#include "crypto/p11/p11.h"
#include "device/agent/agent_priv.h"
#include "device/blkc/blkc.h"
#include "device/link/link.h"
#include "device/store/store.h"

struct bench {
        struct event_base *base;
        struct imago_link *link;
        struct imago_blkc *blkc;
        const char *object, *out;
        uint64_t length, max;
        int have_length;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        int online, quit;
        int done_fd[2];
        /* results */
        int rc;
        uint64_t bytes, resumed;
        double seconds;
        FILE *fp;
};

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_state(void *arg, enum imago_link_state st, int err)
{
        struct bench *b = arg;

        (void)err;
        imago_blkc_link_state(b->blkc, st == IMAGO_LINK_ONLINE);
        pthread_mutex_lock(&b->mu);
        b->online = st == IMAGO_LINK_ONLINE;
        if (st == IMAGO_LINK_FAILED || st == IMAGO_LINK_STOPPED)
                b->quit = 1;
        pthread_cond_broadcast(&b->cv);
        pthread_mutex_unlock(&b->mu);
}

static int store_cert(void *arg, const char *cert, const char *chain)
{
        (void)arg;
        (void)cert;
        (void)chain;
        return IMAGO_EPERM; /* a bench never replaces the device's certificate */
}

static int sink(void *arg, const uint8_t *data, size_t len)
{
        struct bench *b = arg;

        if (b->fp != NULL && fwrite(data, 1, len, b->fp) != len)
                return IMAGO_EIO;
        b->bytes += len;
        return IMAGO_OK;
}

static void *worker(void *arg)
{
        struct bench *b = arg;
        char url[IMAGO_BLK_OBJ_MAX + 8];
        double t0;
        uint8_t c = 1;
        int quit;

        pthread_mutex_lock(&b->mu);
        while (!b->online && !b->quit)
                pthread_cond_wait(&b->cv, &b->mu);
        quit = b->quit;
        pthread_mutex_unlock(&b->mu);
        if (quit) {
                b->rc = IMAGO_EIO;
                goto out;
        }
        t0 = now_s();
        if (b->have_length) {
                b->rc = imago_blkc_fetch_file(b->blkc, b->object, b->length, b->out, &b->resumed);
                if (b->rc == IMAGO_OK)
                        b->bytes = b->length - b->resumed;
        } else {
                snprintf(url, sizeof(url), "blk:%s", b->object);
                if (b->out != NULL && (b->fp = fopen(b->out, "wb")) == NULL) {
                        b->rc = IMAGO_EIO;
                        goto out;
                }
                b->rc = imago_blkc_get(b->blkc, url, b->max, sink, b);
                if (b->fp != NULL && fclose(b->fp) != 0 && b->rc == IMAGO_OK)
                        b->rc = IMAGO_EIO;
                b->fp = NULL;
        }
        b->seconds = now_s() - t0;
out:
        if (write(b->done_fd[1], &c, 1) < 0)
                b->rc = b->rc != IMAGO_OK ? b->rc : IMAGO_EIO;
        return NULL;
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
        struct bench *b = arg;

        (void)fd;
        (void)what;
        imago_link_stop(b->link);
        event_base_loopbreak(b->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
        struct bench *b = arg;

        (void)sig;
        (void)what;
        imago_blkc_cancel(b->blkc, 1);
        pthread_mutex_lock(&b->mu);
        b->quit = 1;
        pthread_cond_broadcast(&b->cv);
        pthread_mutex_unlock(&b->mu);
}

static int num_opt(const char *v, uint64_t max, uint64_t *out)
{
        return v != NULL && imago_parse_u64(v, max, out) == IMAGO_OK;
}

int main(int argc, char **argv)
{
        struct bench b;
        struct imago_agent_conf conf;
        struct imago_blkc_config bc;
        struct imago_identity_config ic;
        struct imago_link_config lc;
        struct imago_link_callbacks cb;
        struct imago_identity *id = NULL;
        struct imago_p11 *tok = NULL;
        struct imago_store *store = NULL;
        struct event *ev_done = NULL, *ev_int = NULL, *ev_term = NULL;
        const char *config = NULL;
        char *text = NULL, *cert = NULL, *chain = NULL;
        char pin[AGENT_PIN_MAX], err[256];
        uint64_t v, max_failures = 0;
        pthread_t th;
        int i, r, have_pin = 0, started = 0, ret = 2;

        memset(&b, 0, sizeof(b));
        memset(&conf, 0, sizeof(conf));
        memset(&bc, 0, sizeof(bc));
        memset(pin, 0, sizeof(pin));
        b.max = IMAGO_BLK_LENGTH_MAX;
        b.done_fd[0] = b.done_fd[1] = -1;
        pthread_mutex_init(&b.mu, NULL);
        pthread_cond_init(&b.cv, NULL);
        for (i = 1; i < argc; i++) {
                const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

                if (val == NULL)
                        goto usage;
                i++;
                if (strcmp(o, "--config") == 0)
                        config = val;
                else if (strcmp(o, "--object") == 0)
                        b.object = val;
                else if (strcmp(o, "--out") == 0)
                        b.out = val;
                else if (strcmp(o, "--length") == 0 && num_opt(val, IMAGO_BLK_LENGTH_MAX, &v))
                        b.length = v, b.have_length = 1;
                else if (strcmp(o, "--max") == 0 && num_opt(val, UINT64_MAX, &v))
                        b.max = v;
                else if (strcmp(o, "--block") == 0 && num_opt(val, IMAGO_BLK_BLOCK_MAX, &v))
                        bc.block = (uint32_t)v;
                else if (strcmp(o, "--window") == 0 && num_opt(val, IMAGO_BLK_WINDOW_MAX, &v))
                        bc.window = (uint32_t)v;
                else if (strcmp(o, "--timeout-ms") == 0 && num_opt(val, 3600000, &v))
                        bc.timeout_ms = (uint32_t)v;
                else if (strcmp(o, "--idle-ms") == 0 && num_opt(val, 3600000, &v))
                        bc.idle_ms = (uint32_t)v;
                else if (strcmp(o, "--max-failures") == 0 && num_opt(val, 1000000, &v))
                        max_failures = v;
                else
                        goto usage;
        }
        if (config == NULL || b.object == NULL || (b.have_length && b.out == NULL))
                goto usage;
        if ((r = imago_agent_read_text(config, IMAGO_AGENT_CONF_MAX, &text)) != IMAGO_OK ||
            (r = imago_agent_conf_parse(text, strlen(text), &conf, err, sizeof(err))) != IMAGO_OK) {
                fprintf(stderr, "blk-fetch: config %s: %s\n", config, imago_errname(r));
                goto out;
        }
        if (conf.pin_file != NULL) {
                if ((r = imago_agent_read_pin(conf.pin_file, pin)) != IMAGO_OK)
                        goto fail;
                have_pin = 1;
        }
        memset(&ic, 0, sizeof(ic));
        ic.production = conf.production;
        if (conf.key_file != NULL) {
                ic.backend = IMAGO_IDENTITY_FILE;
                ic.key_path = conf.key_file;
        } else {
                ic.backend = IMAGO_IDENTITY_PKCS11;
                ic.module = conf.module;
                ic.token_uri = conf.token;
                ic.pin = have_pin ? pin : NULL;
        }
        if ((r = imago_identity_open(&ic, &id)) != IMAGO_OK ||
            (r = imago_p11_open(conf.module, conf.token, have_pin ? pin : NULL, &tok)) !=
                IMAGO_OK ||
            (r = imago_store_open(conf.store, tok, imago_store_posix_ops(), &store)) != IMAGO_OK ||
            (r = imago_agent_get_pem(store, IMAGO_AGENT_REC_CERT, &cert)) != IMAGO_OK ||
            (r = imago_agent_get_pem(store, IMAGO_AGENT_REC_CHAIN, &chain)) != IMAGO_OK)
                goto fail;
        r = IMAGO_ENOTFOUND;
        if (cert == NULL || chain == NULL)
                goto fail; /* not enrolled */
        r = IMAGO_ENOMEM;
        if (imago_link_lib_init() != IMAGO_OK || (b.base = event_base_new()) == NULL ||
            pipe2(b.done_fd, O_CLOEXEC) != 0)
                goto fail;
        memset(&lc, 0, sizeof(lc));
        lc.identity = id;
        lc.host = conf.host;
        lc.port = conf.port;
        lc.ca_path = conf.ca;
        lc.server_name = conf.server_name;
        lc.root_path = conf.root_ca;
        lc.cert_pem = cert;
        lc.chain_pem = chain;
        lc.keepalive_s = (uint16_t)conf.keepalive;
        lc.backoff_base_ms = 200;
        lc.backoff_cap_ms = 1000;
        lc.max_failures = (uint32_t)max_failures;
        memset(&cb, 0, sizeof(cb));
        cb.store_cert = store_cert;
        cb.on_state = on_state;
        cb.arg = &b;
        if ((r = imago_link_new(b.base, &lc, &cb, &b.link)) != IMAGO_OK)
                goto fail;
        bc.base = b.base;
        bc.link = b.link;
        if ((r = imago_blkc_new(&bc, &b.blkc)) != IMAGO_OK)
                goto fail;
        r = IMAGO_ENOMEM;
        if ((ev_done = event_new(b.base, b.done_fd[0], EV_READ, on_done, &b)) == NULL ||
            (ev_int = evsignal_new(b.base, SIGINT, on_signal, &b)) == NULL ||
            (ev_term = evsignal_new(b.base, SIGTERM, on_signal, &b)) == NULL ||
            event_add(ev_done, NULL) != 0 || event_add(ev_int, NULL) != 0 ||
            event_add(ev_term, NULL) != 0)
                goto fail;
        if ((r = imago_link_start(b.link, 0)) != IMAGO_OK)
                goto fail;
        r = IMAGO_ENOMEM;
        if (pthread_create(&th, NULL, worker, &b) != 0)
                goto fail;
        started = 1;
        event_base_dispatch(b.base);
        pthread_join(th, NULL);
        if (b.resumed > 0)
                fprintf(stderr, "blk-fetch: resumed at offset %llu\n",
                        (unsigned long long)b.resumed);
        printf("object=%s bytes=%llu seconds=%.3f mbps=%.2f resumed=%llu result=%s\n", b.object,
               (unsigned long long)b.bytes, b.seconds,
               b.seconds > 0 ? (double)b.bytes / b.seconds / 1e6 : 0.0,
               (unsigned long long)b.resumed, b.rc == IMAGO_OK ? "ok" : imago_errname(b.rc));
        ret = b.rc == IMAGO_OK ? 0 : 1;
        goto out;
fail:
        fprintf(stderr, "blk-fetch: setup: %s (%s)\n", imago_strerror(r), imago_errname(r));
out:
        (void)started;
        if (ev_done != NULL)
                event_free(ev_done);
        if (ev_int != NULL)
                event_free(ev_int);
        if (ev_term != NULL)
                event_free(ev_term);
        imago_blkc_free(b.blkc);
        imago_link_free(b.link);
        if (b.base != NULL)
                event_base_free(b.base);
        for (i = 0; i < 2; i++)
                if (b.done_fd[i] >= 0)
                        close(b.done_fd[i]);
        imago_store_close(store);
        imago_p11_close(tok);
        imago_identity_close(id);
        imago_agent_conf_free(&conf);
        imago_wipe(pin, sizeof(pin));
        free(text);
        free(cert);
        free(chain);
        return ret;
usage:
        fprintf(stderr,
                "usage: %s --config FILE --object OBJ [--out PATH [--length N]] [--max N] "
                "[--block N] [--window N] [--timeout-ms N] [--idle-ms N] [--max-failures N]\n",
                argv[0]);
        goto out;
}
