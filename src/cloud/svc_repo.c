/* See svc_repo.h: the timer that keeps the repository's timestamp fresh. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/svc_repo.h"

#include "base/err.h"
#include "cloud/audit/audit.h"
#include "cloud/repo/repo.h"
#include "cloud/svc_log.h"
#include "crypto/keys.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TICK_MAX_S 60

struct imago_svc_repo {
        struct event *ev;
        struct imago_privkey sn, ts;
        struct imago_audit *audit;
        char repo[PATH_MAX];
        int last_err; /* logged once until it changes */
};

static void schedule(struct imago_svc_repo *r, uint32_t margin)
{
        struct timeval tv;
        uint32_t s = margin / 4;

        if (s > TICK_MAX_S)
                s = TICK_MAX_S;
        if (s == 0)
                s = 1;
        tv.tv_sec = (time_t)s;
        tv.tv_usec = 0;
        evtimer_add(r->ev, &tv);
}

static void record(struct imago_svc_repo *r, const struct imago_repo_opts *o)
{
        struct imago_repo_status st;
        char obj[64], detail[128];
        int rc;

        if (imago_repo_status(r->repo, &st) != IMAGO_OK)
                return;
        imago_svc_log(IMAGO_LOG_INFO, "repo_timestamp", "version=%llu snapshot=%llu",
                      (unsigned long long)st.timestamp_version,
                      (unsigned long long)st.snapshot_version);
        if (r->audit == NULL)
                return;
        snprintf(obj, sizeof(obj), "timestamp/%llu", (unsigned long long)st.timestamp_version);
        snprintf(detail, sizeof(detail), "{\"snapshot\":%llu,\"timestamp\":%llu}",
                 (unsigned long long)st.snapshot_version, (unsigned long long)st.timestamp_version);
        if ((rc = imago_audit_append(r->audit, o->now, "service", "repo.timestamp", obj, detail,
                                     NULL, NULL)) != IMAGO_OK)
                imago_svc_log(IMAGO_LOG_ERROR, "audit", "result=%s", imago_errname(rc));
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
        struct imago_svc_repo *r = arg;
        struct imago_repo_keys k;
        struct imago_repo_opts o;
        char why[IMAGO_REPO_WHY_MAX];
        int rc, did = 0;

        (void)fd;
        (void)what;
        why[0] = '\0';
        k.snapshot = &r->sn;
        k.timestamp = &r->ts;
        if ((rc = imago_repo_opts_load(r->repo, &o)) == IMAGO_OK)
                rc = imago_repo_refresh(r->repo, &k, &o, 0, &did, why, sizeof(why));
        if (rc == IMAGO_ENOTFOUND)
                rc = IMAGO_OK; /* nothing published yet */
        if (rc != IMAGO_OK && rc != r->last_err)
                imago_svc_log(IMAGO_LOG_ERROR, "repo_refresh", "result=%s why=\"%s\"",
                              imago_errname(rc), why);
        r->last_err = rc;
        if (rc == IMAGO_OK && did != 0)
                record(r, &o);
        schedule(r, o.timestamp_margin != 0 ? o.timestamp_margin : 4 * TICK_MAX_S);
}

int imago_svc_repo_start(struct event_base *base, const char *data_dir, const char *passphrase,
                         struct imago_audit *audit, struct imago_svc_repo **out)
{
        struct imago_svc_repo *r = NULL;
        struct timeval now = {0, 0};
        struct stat st;
        char path[PATH_MAX];
        int rc, n;

        *out = NULL;
        if (base == NULL || data_dir == NULL || passphrase == NULL)
                return IMAGO_EINVAL;
        n = snprintf(path, sizeof(path), "%s/%s", data_dir, IMAGO_REPO_F_TIMESTAMP);
        if (n < 0 || (size_t)n >= sizeof(path))
                return IMAGO_EINVAL;
        if (stat(path, &st) != 0) {
                imago_svc_log(IMAGO_LOG_WARN, "repo",
                              "result=disabled missing=%s hint=\"run "
                              "imago-cloud repo keys --passphrase-file\"",
                              path);
                return IMAGO_OK;
        }
        if ((r = calloc(1, sizeof(*r))) == NULL)
                return IMAGO_ENOMEM;
        r->audit = audit;
        n = snprintf(r->repo, sizeof(r->repo), "%s/%s", data_dir, IMAGO_REPO_DATA_REPO);
        if (n < 0 || (size_t)n >= sizeof(r->repo)) {
                rc = IMAGO_EINVAL;
                goto out;
        }
        if ((rc = imago_repo_keys_load(data_dir, passphrase, 0, &r->sn, &r->ts)) != IMAGO_OK) {
                imago_svc_log(IMAGO_LOG_ERROR, "repo_keys", "result=%s", imago_errname(rc));
                goto out;
        }
        if ((r->ev = evtimer_new(base, tick, r)) == NULL) {
                rc = IMAGO_ENOMEM;
                goto out;
        }
        evtimer_add(r->ev, &now); /* the first check at once */
        *out = r;
        r = NULL;
        rc = IMAGO_OK;
out:
        imago_svc_repo_stop(r);
        return rc;
}

void imago_svc_repo_stop(struct imago_svc_repo *r)
{
        if (r == NULL)
                return;
        if (r->ev != NULL)
                event_free(r->ev);
        imago_privkey_free(&r->sn);
        imago_privkey_free(&r->ts);
        free(r);
}
