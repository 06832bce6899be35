/* `imago-sim run`: many devices on one event loop (docs/sim.md). */
#define _POSIX_C_SOURCE 200809L
#include "sim.h"

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/num.h"
#include "device/identity/identity.h"
#include "device/link/link.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#define PEM_MAX 16384

struct sim;

struct dev {
        struct sim *s;
        uint32_t n;
        struct imago_identity *id;
        struct imago_link *link;
        struct event *pub;
        char *birth, *cert, *chain;
        uint64_t t_start, t_enrolled_ms; /* ms since the run started */
        int enrolling, enrolled, online, failed, was_online, rotated, rotate_asked;
        uint64_t seq;
};

struct sim {
        const char *dir;
        struct event_base *base;
        struct dev *devs;
        uint32_t count;
        double publish_rate;
        uint64_t t0;
        uint32_t online, enrolled, failed, waits;
        uint64_t published, published_last, pub_errors;
        uint32_t *lat; /* enrolment latencies in ms */
        uint32_t nlat;
        uint64_t first_enrol_ms, last_enrol_ms;
        uint64_t rss_base, rss_peak;
        uint32_t peak_online;
        uint64_t all_online_ms; /* first time every device was online */
        int enrol, rotate, stop_when_online, done;
        uint32_t rotated;
        uint32_t duration_s;
};

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
}

static int read_pem(const char *path, char **out)
{
        uint8_t *data = NULL;
        size_t len = 0;
        int r;

        *out = NULL;
        if ((r = imago_file_read(path, PEM_MAX, &data, &len)) != IMAGO_OK)
                return r;
        if ((*out = malloc(len + 1)) == NULL) {
                free(data);
                return IMAGO_ENOMEM;
        }
        memcpy(*out, data, len);
        (*out)[len] = '\0';
        free(data);
        return IMAGO_OK;
}

static int dev_store(void *arg, const char *cert, const char *chain)
{
        struct dev *d = arg;
        char p[PATH_MAX];
        int r;

        if ((r = sim_dev_path(d->s->dir, d->n, ".chain.crt", p, sizeof(p))) != IMAGO_OK ||
            (r = imago_file_write_atomic(p, chain, strlen(chain), 0644)) != IMAGO_OK ||
            (r = sim_dev_path(d->s->dir, d->n, ".op.crt", p, sizeof(p))) != IMAGO_OK ||
            (r = imago_file_write_atomic(p, cert, strlen(cert), 0644)) != IMAGO_OK)
                return r;
        if (d->rotate_asked && !d->rotated) {
                d->rotated = 1;
                d->s->rotated++;
        }
        d->enrolled = 1;
        return IMAGO_OK;
}

static void all_done_check(struct sim *s)
{
        if (s->stop_when_online && s->rotate) {
                uint32_t done = s->failed;

                for (uint32_t i = 0; i < s->count; i++)
                        done += s->devs[i].rotated && s->devs[i].online;
                if (done == s->count)
                        event_base_loopbreak(s->base);
                return;
        }
        if (s->stop_when_online && s->online + s->failed == s->count)
                event_base_loopbreak(s->base);
}

static void dev_state(void *arg, enum imago_link_state st, int err)
{
        struct dev *d = arg;
        struct sim *s = d->s;
        uint64_t t = now_ms() - s->t0;

        if (d->online && st != IMAGO_LINK_ONLINE) {
                d->online = 0;
                s->online--;
        }
        switch (st) {
        case IMAGO_LINK_ONLINE:
                d->online = 1;
                s->online++;
                if (s->online > s->peak_online)
                        s->peak_online = s->online;
                if (s->online == s->count && s->all_online_ms == 0)
                        s->all_online_ms = t + 1;
                if (d->enrolling && d->enrolled && d->t_enrolled_ms == 0) {
                        d->t_enrolled_ms = t;
                        s->enrolled++;
                        s->lat[s->nlat++] = (uint32_t)(t - d->t_start);
                        if (s->first_enrol_ms == 0 || d->t_start < s->first_enrol_ms)
                                s->first_enrol_ms = d->t_start + 1;
                        s->last_enrol_ms = t;
                }
                d->was_online = 1;
                if (s->rotate && !d->rotate_asked) {
                        /* Rotation: a new certificate by CSR over this connection. */
                        d->rotate_asked = 1;
                        imago_link_rotate(d->link);
                }
                all_done_check(s);
                break;
        case IMAGO_LINK_WAITING:
                if (err != 0) {
                        s->waits++;
                        IMAGO_INFO("device %u: %s", d->n, imago_errname(err));
                }
                break;
        case IMAGO_LINK_CONNECTING:
                if (d->t_start == 0)
                        d->t_start = t;
                break;
        case IMAGO_LINK_FAILED:
                if (!d->failed) {
                        d->failed = 1;
                        s->failed++;
                        fprintf(stderr, "imago-sim: device %u (%s) failed: %s\n", d->n,
                                imago_link_device_id(d->link), imago_errname(err));
                }
                all_done_check(s);
                break;
        default:
                break;
        }
}

static void dev_publish(evutil_socket_t fd, short what, void *arg)
{
        struct dev *d = arg;
        char body[96];
        int n;

        (void)fd;
        (void)what;
        if (!d->online)
                return;
        n = snprintf(body, sizeof(body), "{\"v\":1,\"seq\":%llu}", (unsigned long long)++d->seq);
        if (imago_link_publish(d->link, "state", (const uint8_t *)body, (size_t)n) == IMAGO_OK)
                d->s->published++;
        else
                d->s->pub_errors++;
}

static void progress(evutil_socket_t fd, short what, void *arg)
{
        struct sim *s = arg;
        uint64_t rss = sim_rss_kib();

        (void)fd;
        (void)what;
        if (rss > s->rss_peak)
                s->rss_peak = rss;
        printf("[%5.1fs] online %u/%u  enrolled %u  failed %u  retries %u  msgs/s %llu\n",
               (double)(now_ms() - s->t0) / 1000.0, s->online, s->count, s->enrolled, s->failed,
               s->waits, (unsigned long long)(s->published - s->published_last));
        fflush(stdout);
        s->published_last = s->published;
}

static void end_run(evutil_socket_t fd, short what, void *arg)
{
        struct sim *s = arg;

        (void)fd;
        (void)what;
        event_base_loopbreak(s->base);
}

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

        return x < y ? -1 : x > y;
}

static void summary(struct sim *s, double secs)
{
        uint32_t p50 = 0, p99 = 0, conns = s->peak_online;
        double span = 0;

        if (s->nlat > 0) {
                qsort(s->lat, s->nlat, sizeof(s->lat[0]), cmp_u32);
                p50 = s->lat[(s->nlat - 1) * 50 / 100];
                p99 = s->lat[(s->nlat - 1) * 99 / 100];
                span = (double)(s->last_enrol_ms - (s->first_enrol_ms - 1)) / 1000.0;
        }
        printf("summary: devices %u  online-at-end %u  peak-online %u  enrolled %u  failed %u  "
               "retries %u\n",
               s->count, s->online, s->peak_online, s->enrolled, s->failed, s->waits);
        if (s->rotate)
                printf("summary: rotated %u\n", s->rotated);
        printf("summary: enrolments/s %.1f  enrol-latency-ms p50 %u p99 %u\n",
               span > 0 ? (double)s->enrolled / span : 0.0, p50, p99);
        if (s->all_online_ms != 0)
                printf("summary: all-online-after-ms %llu  connections/s %.1f\n",
                       (unsigned long long)(s->all_online_ms - 1),
                       (double)s->count * 1000.0 / (double)s->all_online_ms);
        printf("summary: published %llu (%.1f msgs/s, %llu refused)  duration %.1fs\n",
               (unsigned long long)s->published, secs > 0 ? (double)s->published / secs : 0.0,
               (unsigned long long)s->pub_errors, secs);
        printf("summary: rss-kib %llu  rss-base-kib %llu  kib-per-connection %.1f\n",
               (unsigned long long)s->rss_peak, (unsigned long long)s->rss_base,
               conns > 0 && s->rss_peak > s->rss_base
                   ? (double)(s->rss_peak - s->rss_base) / (double)conns
                   : 0.0);
}

static double parse_rate(const char *v)
{
        char *end = NULL;
        double d = strtod(v, &end);

        if (end == v || (*end != '\0' && strcmp(end, "/s") != 0) || !(d > 0) || d > 1e6)
                return -1;
        return d;
}

static void raise_nofile(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
}

static int load_dev(struct sim *s, struct dev *d, uint32_t n)
{
        struct imago_identity_config ic = {.backend = IMAGO_IDENTITY_FILE, .production = 0};
        char kp[PATH_MAX], p[PATH_MAX];
        int r;

        d->s = s;
        d->n = n;
        if ((r = sim_dev_path(s->dir, n, ".key", kp, sizeof(kp))) != IMAGO_OK)
                return r;
        ic.key_path = kp;
        if ((r = imago_identity_open(&ic, &d->id)) != IMAGO_OK)
                return r;
        if ((r = sim_dev_path(s->dir, n, ".crt", p, sizeof(p))) != IMAGO_OK ||
            (r = read_pem(p, &d->birth)) != IMAGO_OK)
                return r;
        if ((r = sim_dev_path(s->dir, n, ".op.crt", p, sizeof(p))) != IMAGO_OK)
                return r;
        if (read_pem(p, &d->cert) == IMAGO_OK &&
            ((r = sim_dev_path(s->dir, n, ".chain.crt", p, sizeof(p))) != IMAGO_OK ||
             (r = read_pem(p, &d->chain)) != IMAGO_OK))
                return r;
        return IMAGO_OK;
}

static int count_devices(const char *dir, uint32_t *count)
{
        char p[PATH_MAX];

        *count = 0;
        for (uint32_t n = 1; n <= SIM_COUNT_MAX; n++) {
                if (sim_dev_path(dir, n, ".key", p, sizeof(p)) != IMAGO_OK)
                        return IMAGO_ETOOBIG;
                if (access(p, R_OK) != 0)
                        break;
                *count = n;
        }
        return *count > 0 ? IMAGO_OK : IMAGO_ENOTFOUND;
}

int sim_run(int argc, char **argv)
{
        const char *host = NULL, *port_s = NULL, *ca = NULL, *sn = NULL, *root = NULL;
        const char *crate_s = NULL, *prate_s = NULL, *dur_s = NULL, *count_s = NULL;
        struct sim s;
        struct imago_link_config lc;
        struct imago_link_callbacks cb;
        struct event *tprog = NULL, *tend = NULL, *sterm = NULL, *sint = NULL;
        struct timeval one = {1, 0};
        double crate = 0, secs;
        uint32_t port = 0, limit = 0;
        int r = IMAGO_OK, rc = 1;

        memset(&s, 0, sizeof(s));
        for (int i = 1; i < argc; i++) {
                const char **slot = strcmp(argv[i], "--devices") == 0        ? &s.dir
                                    : strcmp(argv[i], "--host") == 0         ? &host
                                    : strcmp(argv[i], "--port") == 0         ? &port_s
                                    : strcmp(argv[i], "--ca") == 0           ? &ca
                                    : strcmp(argv[i], "--server-name") == 0  ? &sn
                                    : strcmp(argv[i], "--root") == 0         ? &root
                                    : strcmp(argv[i], "--connect-rate") == 0 ? &crate_s
                                    : strcmp(argv[i], "--publish-rate") == 0 ? &prate_s
                                    : strcmp(argv[i], "--duration") == 0     ? &dur_s
                                    : strcmp(argv[i], "--count") == 0        ? &count_s
                                                                             : NULL;
                if (strcmp(argv[i], "--enrol") == 0) {
                        s.enrol = 1;
                        continue;
                }
                if (strcmp(argv[i], "--rotate") == 0) {
                        s.rotate = 1;
                        continue;
                }
                if (strcmp(argv[i], "--verbose") == 0) {
                        imago_log_set_level(IMAGO_LOG_INFO);
                        continue;
                }
                if (slot == NULL || i + 1 >= argc || *slot != NULL) {
                        fprintf(stderr, "imago-sim run: bad or repeated argument '%s'\n", argv[i]);
                        return 2;
                }
                *slot = argv[++i];
        }
        if (s.dir == NULL || host == NULL || port_s == NULL || ca == NULL || sn == NULL ||
            imago_parse_u32(port_s, 65535, &port) != IMAGO_OK || port == 0) {
                fprintf(stderr, "imago-sim run: --devices, --host, --port, --ca, --server-name "
                                "are required\n");
                return 2;
        }
        if ((crate_s != NULL && (crate = parse_rate(crate_s)) < 0) ||
            (prate_s != NULL && (s.publish_rate = parse_rate(prate_s)) < 0) ||
            (dur_s != NULL &&
             (imago_parse_u32(dur_s, 86400, &s.duration_s) != IMAGO_OK || s.duration_s == 0)) ||
            (count_s != NULL &&
             (imago_parse_u32(count_s, SIM_COUNT_MAX, &limit) != IMAGO_OK || limit == 0))) {
                fprintf(stderr, "imago-sim run: bad rate, duration or count\n");
                return 2;
        }
        if (root == NULL) {
                fprintf(stderr, "imago-sim run: --root ROOT_CA (anchor of issued certificates) "
                                "is required\n");
                return 2;
        }
        s.stop_when_online = s.duration_s == 0;
        raise_nofile();
        signal(SIGPIPE, SIG_IGN);
        if ((r = count_devices(s.dir, &s.count)) != IMAGO_OK)
                goto out;
        if (limit != 0 && limit < s.count)
                s.count = limit;
        r = IMAGO_ENOMEM;
        if ((s.devs = calloc(s.count, sizeof(*s.devs))) == NULL ||
            (s.lat = calloc(s.count, sizeof(*s.lat))) == NULL)
                goto out;
        {
                struct event_config *ec = event_config_new();

                /* no changelist: a closed socket's fd may be reused at once by another device */
                if (ec == NULL || (s.base = event_base_new_with_config(ec)) == NULL) {
                        event_config_free(ec);
                        goto out;
                }
                event_config_free(ec);
        }
        for (uint32_t i = 0; i < s.count; i++)
                if ((r = load_dev(&s, &s.devs[i], i + 1)) != IMAGO_OK) {
                        fprintf(stderr, "imago-sim: device %u: %s (%s)\n", i + 1, imago_strerror(r),
                                imago_errname(r));
                        goto out;
                }
        s.rss_base = sim_rss_kib();
        memset(&lc, 0, sizeof(lc));
        lc.host = host;
        lc.port = (uint16_t)port;
        lc.ca_path = ca;
        lc.server_name = sn;
        lc.root_path = root;
        lc.backoff_base_ms = 200;
        lc.backoff_cap_ms = 5000;
        lc.max_failures = 8;
        lc.keepalive_s = 60;
        for (uint32_t i = 0; i < s.count; i++) {
                struct dev *d = &s.devs[i];

                if (d->cert == NULL && !s.enrol) {
                        fprintf(stderr,
                                "imago-sim: device %u has no operational certificate "
                                "(use --enrol)\n",
                                d->n);
                        r = IMAGO_ESTATE;
                        goto out;
                }
                lc.identity = d->id;
                lc.birth_pem = d->birth;
                lc.cert_pem = d->cert;
                lc.chain_pem = d->chain;
                d->enrolling = d->cert == NULL;
                cb.store_cert = dev_store;
                cb.on_state = dev_state;
                cb.arg = d;
                if ((r = imago_link_new(s.base, &lc, &cb, &d->link)) != IMAGO_OK)
                        goto out;
        }
        s.t0 = now_ms();
        for (uint32_t i = 0; i < s.count; i++) {
                struct dev *d = &s.devs[i];
                uint32_t delay = crate > 0 ? (uint32_t)((double)i * 1000.0 / crate) : 0;

                if ((r = imago_link_start(d->link, delay)) != IMAGO_OK)
                        goto out;
                if (s.publish_rate > 0) {
                        double iv = 1.0 / s.publish_rate;
                        struct timeval tv = {.tv_sec = (time_t)iv,
                                             .tv_usec =
                                                 (suseconds_t)((iv - (double)(time_t)iv) * 1e6)};

                        if (tv.tv_sec == 0 && tv.tv_usec == 0)
                                tv.tv_usec = 1;
                        r = IMAGO_ENOMEM;
                        if ((d->pub = event_new(s.base, -1, EV_PERSIST, dev_publish, d)) == NULL ||
                            event_add(d->pub, &tv) != 0)
                                goto out;
                }
        }
        r = IMAGO_ENOMEM;
        if ((tprog = event_new(s.base, -1, EV_PERSIST, progress, &s)) == NULL ||
            event_add(tprog, &one) != 0 ||
            (sterm = evsignal_new(s.base, SIGTERM, end_run, &s)) == NULL ||
            (sint = evsignal_new(s.base, SIGINT, end_run, &s)) == NULL ||
            event_add(sterm, NULL) != 0 || event_add(sint, NULL) != 0)
                goto out;
        if (s.duration_s != 0) {
                struct timeval tv = {.tv_sec = s.duration_s, .tv_usec = 0};

                if ((tend = evtimer_new(s.base, end_run, &s)) == NULL || event_add(tend, &tv) != 0)
                        goto out;
        }
        event_base_dispatch(s.base);
        secs = (double)(now_ms() - s.t0) / 1000.0;
        {
                uint64_t rss = sim_rss_kib();

                if (rss > s.rss_peak)
                        s.rss_peak = rss;
        }
        /* Every device that never came online counts as a failure. */
        for (uint32_t i = 0; i < s.count; i++)
                if (!s.devs[i].was_online && !s.devs[i].failed) {
                        s.devs[i].failed = 1;
                        s.failed++;
                        fprintf(stderr, "imago-sim: device %u (%s) never came online (%s)\n",
                                s.devs[i].n, imago_link_device_id(s.devs[i].link),
                                imago_link_state_name(imago_link_state(s.devs[i].link)));
                }
        summary(&s, secs);
        r = IMAGO_OK;
        rc = s.failed == 0 && (!s.rotate || s.rotated == s.count) ? 0 : 1;
out:
        if (r != IMAGO_OK)
                fprintf(stderr, "imago-sim run: %s (%s)\n", imago_strerror(r), imago_errname(r));
        for (uint32_t i = 0; s.devs != NULL && i < s.count; i++) {
                struct dev *d = &s.devs[i];

                if (d->link != NULL)
                        imago_link_stop(d->link);
                imago_link_free(d->link);
                if (d->pub != NULL)
                        event_free(d->pub);
                imago_identity_close(d->id);
                free(d->birth);
                free(d->cert);
                free(d->chain);
        }
        if (tprog != NULL)
                event_free(tprog);
        if (tend != NULL)
                event_free(tend);
        if (sterm != NULL)
                event_free(sterm);
        if (sint != NULL)
                event_free(sint);
        if (s.base != NULL)
                event_base_free(s.base);
        free(s.devs);
        free(s.lat);
        return rc;
}
