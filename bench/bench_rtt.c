/*
 * bench_rtt: HTTPS request latency and throughput with imago's client
 * (src/net), for bench/api/ and bench/cmd/.  Two modes:
 *   --rate R (R > 0): open loop, one request every 1/R s for --seconds,
 *     latency percentiles (a late request is started at once, so queueing
 *     shows in the figures);
 *   --rate 0: closed loop, --threads T clients as fast as they can, requests/s.
 * Every request is a new TLS connection (the client is one request per
 * connection), the same for the API and the baseline it is compared with.
 * Output: one line "n=... errors=... rps=... p50_ms=... p90_ms=... p99_ms=... max_ms=...".
 * A request counts as an error unless its status is --expect (default 200).
 */
#define _POSIX_C_SOURCE 200809L
#include "base/err.h"
#include "base/file.h"
#include "base/num.h"
#include "base/wipe.h"
#include "net/https.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SAMPLES 200000

struct opts {
        struct imago_httpc c;
        const char *method, *path, *body;
        char bearer[512];
        int has_bearer;
        unsigned rate, seconds, threads;
        int expect;
};

struct shared {
        const struct opts *o;
        pthread_mutex_t mu;
        double *lat;
        size_t n, errors;
        double deadline;
};

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int one(const struct opts *o, double *ms)
{
        struct imago_httpc_resp resp;
        double t0 = now_s();
        int r;

        memset(&resp, 0, sizeof(resp));
        r = imago_httpc_request(&o->c, o->method, o->path, o->has_bearer ? o->bearer : NULL,
                                o->body, o->body != NULL ? strlen(o->body) : 0, &resp);
        *ms = (now_s() - t0) * 1000.0;
        if (r == IMAGO_OK && resp.status != o->expect)
                r = IMAGO_EHTTP;
        imago_httpc_resp_free(&resp);
        return r;
}

static void record(struct shared *sh, double ms, int r)
{
        pthread_mutex_lock(&sh->mu);
        if (r != IMAGO_OK)
                sh->errors++;
        else if (sh->n < MAX_SAMPLES)
                sh->lat[sh->n++] = ms;
        pthread_mutex_unlock(&sh->mu);
}

static void *closed_loop(void *arg)
{
        struct shared *sh = arg;
        double ms;

        while (now_s() < sh->deadline) {
                int r = one(sh->o, &ms);
                record(sh, ms, r);
        }
        return NULL;
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
        size_t i;

        if (n == 0)
                return 0;
        i = (size_t)(p * (double)(n - 1) + 0.5);
        return v[i < n ? i : n - 1];
}

static int usage(void)
{
        fprintf(stderr,
                "usage: bench_rtt --host H --port P --ca FILE [--server-name N]\n"
                "  [--bearer-file F] [--method M] --path P [--body JSON] [--expect STATUS]\n"
                "  [--rate R] [--seconds S] [--threads T]\n");
        return 2;
}

static int num(const char *s, uint32_t max, unsigned *out)
{
        uint32_t v;

        if (imago_parse_u32(s, max, &v) != IMAGO_OK)
                return -1;
        *out = v;
        return 0;
}

int main(int argc, char **argv)
{
        struct opts o;
        struct shared sh;
        pthread_t th[64];
        const char *bearer_file = NULL;
        unsigned port = 0, expect = 200;
        double t_start, elapsed;
        int i, rc = 1;

        memset(&o, 0, sizeof(o));
        memset(&sh, 0, sizeof(sh));
        o.method = "GET";
        o.seconds = 5;
        o.threads = 1;
        if (argc % 2 != 1)
                return usage(); /* options come in pairs */
        for (i = 1; i + 1 < argc; i += 2) {
                const char *a = argv[i], *v = argv[i + 1];
                if (strcmp(a, "--host") == 0)
                        o.c.host = v;
                else if (strcmp(a, "--port") == 0) {
                        if (num(v, 65535, &port) != 0)
                                return usage();
                } else if (strcmp(a, "--ca") == 0)
                        o.c.ca_path = v;
                else if (strcmp(a, "--server-name") == 0)
                        o.c.server_name = v;
                else if (strcmp(a, "--bearer-file") == 0)
                        bearer_file = v;
                else if (strcmp(a, "--method") == 0)
                        o.method = v;
                else if (strcmp(a, "--path") == 0)
                        o.path = v;
                else if (strcmp(a, "--body") == 0)
                        o.body = v;
                else if (strcmp(a, "--expect") == 0) {
                        if (num(v, 599, &expect) != 0)
                                return usage();
                } else if (strcmp(a, "--rate") == 0) {
                        if (num(v, 10000, &o.rate) != 0)
                                return usage();
                } else if (strcmp(a, "--seconds") == 0) {
                        if (num(v, 3600, &o.seconds) != 0 || o.seconds == 0)
                                return usage();
                } else if (strcmp(a, "--threads") == 0) {
                        if (num(v, 64, &o.threads) != 0 || o.threads == 0)
                                return usage();
                } else
                        return usage();
        }
        if (o.c.host == NULL || port == 0 || o.c.ca_path == NULL || o.path == NULL)
                return usage();
        o.c.port = (uint16_t)port;
        o.expect = (int)expect;
        if (bearer_file != NULL) {
                uint8_t *data = NULL;
                size_t len = 0, got;
                if (imago_file_read(bearer_file, sizeof(o.bearer) - 1, &data, &len) != IMAGO_OK) {
                        fprintf(stderr, "bench_rtt: cannot read %s\n", bearer_file);
                        return 1;
                }
                got = len;
                while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
                        len--;
                memcpy(o.bearer, data, len);
                o.bearer[len] = '\0';
                imago_file_free(data, got);
                o.has_bearer = 1;
        }
        if ((sh.lat = calloc(MAX_SAMPLES, sizeof(double))) == NULL)
                return 1;
        sh.o = &o;
        pthread_mutex_init(&sh.mu, NULL);
        t_start = now_s();
        sh.deadline = t_start + o.seconds;
        if (o.rate > 0) {
                double interval = 1.0 / o.rate, next = t_start;
                while (next < sh.deadline) {
                        double ms, wait = next - now_s();
                        int r;
                        if (wait > 0) {
                                struct timespec ts = {(time_t)wait,
                                                      (long)((wait - (double)(time_t)wait) * 1e9)};
                                nanosleep(&ts, NULL);
                        }
                        r = one(&o, &ms);
                        record(&sh, ms, r);
                        next += interval;
                }
        } else {
                for (i = 0; i < (int)o.threads; i++)
                        if (pthread_create(&th[i], NULL, closed_loop, &sh) != 0)
                                goto out;
                for (i = 0; i < (int)o.threads; i++)
                        pthread_join(th[i], NULL);
        }
        elapsed = now_s() - t_start;
        qsort(sh.lat, sh.n, sizeof(double), cmp);
        printf("n=%zu errors=%zu rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", sh.n,
               sh.errors, (double)sh.n / elapsed, pct(sh.lat, sh.n, 0.50), pct(sh.lat, sh.n, 0.90),
               pct(sh.lat, sh.n, 0.99), sh.n > 0 ? sh.lat[sh.n - 1] : 0.0);
        rc = sh.errors == 0 && sh.n > 0 ? 0 : 1;
out:
        imago_wipe(o.bearer, sizeof(o.bearer));
        pthread_mutex_destroy(&sh.mu);
        free(sh.lat);
        return rc;
}
