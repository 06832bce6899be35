/* See repo_priv.h: what a repository directory publishes, and repo.h: status, options. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/repo/repo_priv.h"

#include "base/err.h"
#include "base/file.h"
#include "base/num.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IMAGO_REPO_ROOT_VERSIONS_MAX 100000u /* a bound on the chain walk */

static int parse_file(const char *repo, const char *name, enum imago_tuf_type type, size_t max,
                      struct imago_tuf_meta *m, uint8_t **keep, size_t *keep_len)
{
        uint8_t *buf = NULL;
        size_t len = 0;
        int r;

        if ((r = imago_repo_read_meta(repo, name, max, &buf, &len)) != IMAGO_OK)
                return r;
        r = imago_tuf_meta_parse(type, buf, len, NULL, m);
        if (r == IMAGO_OK && keep != NULL) {
                *keep = buf;
                *keep_len = len;
                buf = NULL;
        }
        free(buf);
        return r;
}

int imago_repo_state_load(const char *repo, struct imago_repo_state *s)
{
        char name[64];
        uint64_t v;
        int r = IMAGO_OK;

        if (repo == NULL || s == NULL)
                return IMAGO_EINVAL;
        memset(s, 0, sizeof(*s));
        /* the newest root of the chain 1, 2, ... */
        for (v = 1; v <= IMAGO_REPO_ROOT_VERSIONS_MAX; v++) {
                struct imago_tuf_meta m;
                uint8_t *buf = NULL;
                size_t len = 0;

                memset(&m, 0, sizeof(m));
                snprintf(name, sizeof(name), "%llu.root.json", (unsigned long long)v);
                r = parse_file(repo, name, IMAGO_TUF_ROOT, IMAGO_TUF_ROOT_MAX, &m, &buf, &len);
                if (r == IMAGO_ENOTFOUND) {
                        r = IMAGO_OK;
                        break;
                }
                if (r != IMAGO_OK)
                        goto out;
                imago_tuf_meta_free(&s->root);
                free(s->root_buf);
                s->root = m;
                s->root_buf = buf;
                s->root_len = len;
        }
        r = parse_file(repo, "timestamp.json", IMAGO_TUF_TIMESTAMP, IMAGO_TUF_TIMESTAMP_MAX,
                       &s->timestamp, NULL, NULL);
        if (r == IMAGO_ENOTFOUND) {
                r = IMAGO_OK;
                goto out;
        }
        if (r != IMAGO_OK)
                goto out;
        if (s->timestamp.n_meta != 1) {
                r = IMAGO_ETUF_FORMAT;
                goto out;
        }
        snprintf(name, sizeof(name), "%llu.snapshot.json",
                 (unsigned long long)s->timestamp.meta[0].version);
        if ((r = parse_file(repo, name, IMAGO_TUF_SNAPSHOT, IMAGO_TUF_SNAPSHOT_MAX, &s->snapshot,
                            &s->snapshot_buf, &s->snapshot_len)) != IMAGO_OK)
                goto out;
        for (v = 0; v < s->snapshot.n_meta; v++)
                if (strcmp(s->snapshot.meta[v].name, "targets.json") == 0)
                        break;
        if (v == s->snapshot.n_meta) {
                r = IMAGO_ETUF_CONSISTENCY;
                goto out;
        }
        snprintf(name, sizeof(name), "%llu.targets.json",
                 (unsigned long long)s->snapshot.meta[v].version);
        r = parse_file(repo, name, IMAGO_TUF_TARGETS, IMAGO_TUF_TARGETS_MAX, &s->targets, NULL,
                       NULL);
out:
        if (r != IMAGO_OK)
                imago_repo_state_free(s);
        return r;
}

void imago_repo_state_free(struct imago_repo_state *s)
{
        if (s == NULL)
                return;
        imago_tuf_meta_free(&s->root);
        imago_tuf_meta_free(&s->timestamp);
        imago_tuf_meta_free(&s->snapshot);
        imago_tuf_meta_free(&s->targets);
        free(s->root_buf);
        free(s->snapshot_buf);
        memset(s, 0, sizeof(*s));
}

int imago_repo_status(const char *repo, struct imago_repo_status *st)
{
        struct imago_repo_state s;
        int r;

        if (repo == NULL || st == NULL)
                return IMAGO_EINVAL;
        memset(st, 0, sizeof(*st));
        if ((r = imago_repo_state_load(repo, &s)) != IMAGO_OK)
                return r;
        st->root_version = s.root.version;
        st->root_expires = s.root.expires;
        if (s.timestamp.type != 0) {
                st->published = 1;
                st->timestamp_version = s.timestamp.version;
                st->timestamp_expires = s.timestamp.expires;
                st->snapshot_version = s.snapshot.version;
                st->snapshot_expires = s.snapshot.expires;
                st->targets_version = s.targets.version;
                st->targets_expires = s.targets.expires;
                st->n_targets = s.targets.n_targets;
        }
        imago_repo_state_free(&s);
        return IMAGO_OK;
}

/* One "key value" line of repo.conf. */
static int conf_line(char *line, struct imago_repo_opts *o)
{
        char *sp = strchr(line, ' ');
        uint32_t v;

        if (sp == NULL)
                return IMAGO_ECONF_SYNTAX;
        *sp = '\0';
        if (imago_parse_u32(sp + 1, IMAGO_REPO_EXPIRY_MAX, &v) != IMAGO_OK || v < 60)
                return IMAGO_ECONF_VALUE;
        if (strcmp(line, "timestamp_expiry") == 0)
                o->timestamp_expiry = v;
        else if (strcmp(line, "snapshot_expiry") == 0)
                o->snapshot_expiry = v;
        else
                return IMAGO_ECONF_KEY;
        return IMAGO_OK;
}

int imago_repo_opts_load(const char *repo, struct imago_repo_opts *o)
{
        char path[PATH_MAX], line[128];
        uint8_t *buf = NULL;
        size_t len = 0, i, n = 0;
        int r = IMAGO_OK;

        if (o == NULL)
                return IMAGO_EINVAL;
        memset(o, 0, sizeof(*o));
        o->now = (int64_t)time(NULL);
        o->timestamp_expiry = 86400;
        o->snapshot_expiry = 7 * 86400;
        if (repo != NULL) {
                if ((r = imago_repo_path(path, sizeof(path), repo, NULL, IMAGO_REPO_F_CONF)) !=
                    IMAGO_OK)
                        return r;
                r = imago_file_read(path, 4096, &buf, &len);
                if (r == IMAGO_ENOTFOUND)
                        r = IMAGO_OK;
                for (i = 0; r == IMAGO_OK && i < len; i++) {
                        if (buf[i] != '\n') {
                                if (n + 1 >= sizeof(line) || buf[i] == '\0')
                                        r = IMAGO_ECONF_SYNTAX;
                                else
                                        line[n++] = (char)buf[i];
                                continue;
                        }
                        line[n] = '\0';
                        if (n > 0 && line[0] != '#')
                                r = conf_line(line, o);
                        n = 0;
                }
                if (r == IMAGO_OK && n > 0) {
                        line[n] = '\0';
                        if (line[0] != '#')
                                r = conf_line(line, o);
                }
                free(buf);
        }
        o->timestamp_margin = o->timestamp_expiry / 2;
        o->snapshot_margin = o->snapshot_expiry / 2;
        return r;
}
