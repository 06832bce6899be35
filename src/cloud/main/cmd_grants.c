/*
 * `imago-cloud grants add|list|delete --data DIR ...`: operator roles of app API
 * users over device groups (factory batch names), in DIR/app.db; every change is
 * recorded in DIR/audit.db (grant.add, grant.delete; actor cli).
 */
#define _POSIX_C_SOURCE 200809L
#include "cloud/main/cloud_main.h"

#include "base/err.h"
#include "base/num.h"
#include "cloud/appdb/appdb.h"
#include "cloud/audit/audit.h"
#include "cloud/auth/auth.h"
#include "regtoken/regtoken.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#define DAYS_MAX 366
#define DAY      86400

static const char usage[] =
    "usage: imago-cloud grants add --data DIR --user NAME --role ROLE --group G\n"
    "                              (--days N | --until UNIXTIME)\n"
    "       imago-cloud grants list --data DIR [--user NAME] [--json]\n"
    "       imago-cloud grants delete --data DIR ID\n"
    "\n"
    "ROLE: viewer, operator, release_manager or security_admin.  G: a device group\n"
    "(the factory batch name), 1..64 of A-Z a-z 0-9 . _ -.  A grant works from now\n"
    "until N days later (1..366) or until UNIXTIME (within 366 days).  add and delete\n"
    "are recorded in the audit log.\n";

struct args {
        const char *cmd;
        const char *data_dir;
        const char *user;
        const char *role;
        const char *group;
        const char *days;
        const char *until;
        const char *id;
        int json;
};

enum sub { ADD, LIST, DEL };

static int parse(int argc, char **argv, const char *cmd, enum sub sub, struct args *a)
{
        int i, m;

        memset(a, 0, sizeof(*a));
        a->cmd = cmd;
        for (i = 1; i < argc; i++) {
                if (imago_cloud_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLOUD_EXIT_OK + 100;
                }
                if ((m = imago_cloud_opt(argc, argv, &i, cmd, "--data", &a->data_dir)) ||
                    (sub != DEL &&
                     (m = imago_cloud_opt(argc, argv, &i, cmd, "--user", &a->user))) ||
                    (sub == ADD &&
                     (m = imago_cloud_opt(argc, argv, &i, cmd, "--role", &a->role))) ||
                    (sub == ADD &&
                     (m = imago_cloud_opt(argc, argv, &i, cmd, "--group", &a->group))) ||
                    (sub == ADD &&
                     (m = imago_cloud_opt(argc, argv, &i, cmd, "--days", &a->days))) ||
                    (sub == ADD &&
                     (m = imago_cloud_opt(argc, argv, &i, cmd, "--until", &a->until)))) {
                        if (m < 0)
                                return IMAGO_CLOUD_EXIT_USAGE;
                        continue;
                }
                if (sub == LIST && strcmp(argv[i], "--json") == 0) {
                        a->json = 1;
                        continue;
                }
                if (sub != DEL || argv[i][0] == '-' || a->id != NULL)
                        return imago_cloud_usage(cmd, "unexpected argument '%s'", argv[i]);
                a->id = argv[i];
        }
        if (a->data_dir == NULL)
                return imago_cloud_usage(cmd, "--data is required");
        if (a->user != NULL && !imago_regtoken_user_valid(a->user))
                return imago_cloud_usage(cmd, "--user needs 1..64 of A-Z a-z 0-9 _ . @ -");
        if (sub == DEL && a->id == NULL)
                return imago_cloud_usage(cmd, "a grant ID is required");
        if (sub != ADD)
                return -1;
        if (a->user == NULL || a->role == NULL || a->group == NULL)
                return imago_cloud_usage(cmd, "--user, --role and --group are required");
        if ((a->days == NULL) == (a->until == NULL))
                return imago_cloud_usage(cmd, "give one of --days and --until");
        return -1;
}

static json_t *grant_json(const struct imago_appdb_grant *g, const char *user)
{
        const char *role = imago_auth_role_name((enum imago_auth_role)g->role);

        return json_pack("{s:I, s:I, s:s, s:s, s:s, s:I, s:I, s:I}", "id", (json_int_t)g->id,
                         "user", (json_int_t)g->user, "user_name", user, "role",
                         role != NULL ? role : "?", "group", g->group, "not_before",
                         (json_int_t)g->not_before, "expires", (json_int_t)g->expires, "granted_by",
                         (json_int_t)g->granted_by);
}

static int cmd_add(int argc, char **argv)
{
        struct imago_appdb *db = NULL;
        struct imago_audit *audit = NULL;
        struct imago_appdb_user u;
        struct imago_appdb_grant g;
        enum imago_auth_role role;
        struct args a;
        char obj[48], when[32];
        uint64_t v = 0, id = 0;
        int64_t now = (int64_t)time(NULL);
        int r, rc;

        memset(&u, 0, sizeof(u));
        memset(&g, 0, sizeof(g));
        if ((rc = parse(argc, argv, "grants add", ADD, &a)) >= 0)
                return rc >= 100 ? IMAGO_CLOUD_EXIT_OK : rc;
        if (imago_auth_role_from_name(a.role, &role) != 0)
                return imago_cloud_usage(a.cmd, "--role: viewer, operator, release_manager or "
                                                "security_admin");
        if (!imago_auth_group_valid(a.group))
                return imago_cloud_usage(a.cmd, "--group needs 1..64 of A-Z a-z 0-9 . _ -");
        if (a.days != NULL) {
                if (imago_parse_u64(a.days, DAYS_MAX, &v) != 0 || v == 0)
                        return imago_cloud_usage(a.cmd, "--days needs 1..%d", DAYS_MAX);
                g.expires = now + (int64_t)v * DAY;
        } else {
                if (imago_parse_u64(a.until, (uint64_t)INT64_MAX, &v) != 0 || (int64_t)v <= now ||
                    (int64_t)v > now + (int64_t)DAYS_MAX * DAY)
                        return imago_cloud_usage(
                            a.cmd, "--until needs a unix time in the next %d days", DAYS_MAX);
                g.expires = (int64_t)v;
        }
        if ((rc = imago_cloud_open_appdb(a.cmd, a.data_dir, &db)) != IMAGO_CLOUD_EXIT_OK ||
            (rc = imago_cloud_open_audit(a.cmd, a.data_dir, &audit)) != IMAGO_CLOUD_EXIT_OK)
                goto out;
        rc = IMAGO_CLOUD_EXIT_FAIL;
        if ((r = imago_appdb_user_by_name(db, a.user, &u)) != 0) {
                imago_cloud_fail(a.cmd, a.user, r);
                goto out;
        }
        g.user = u.id;
        g.role = (int)role;
        snprintf(g.group, sizeof(g.group), "%s", a.group);
        g.not_before = now;
        g.granted_by = 0; /* the command line, not an app user */
        if ((r = imago_appdb_grant_add(db, &g, &id)) != 0) {
                imago_cloud_fail(a.cmd, a.user, r);
                goto out;
        }
        snprintf(obj, sizeof(obj), "grant:%llu", (unsigned long long)id);
        if ((r = imago_cloud_audit_cli(audit, "grant.add", obj,
                                       json_pack("{s:I,s:s,s:s,s:s,s:I,s:I}", "user",
                                                 (json_int_t)u.id, "user_name", u.name, "role",
                                                 imago_auth_role_name(role), "group", g.group,
                                                 "not_before", (json_int_t)g.not_before, "expires",
                                                 (json_int_t)g.expires))) != 0) {
                fprintf(stderr,
                        "imago-cloud: %s: grant %llu added, but not recorded in the audit "
                        "log\n",
                        a.cmd, (unsigned long long)id);
                imago_cloud_fail(a.cmd, "audit.db", r);
                goto out;
        }
        printf("grant %llu: %s is %s of group %s until %s\n", (unsigned long long)id, u.name,
               imago_auth_role_name(role), g.group, imago_cloud_utc(g.expires, when));
        rc = IMAGO_CLOUD_EXIT_OK;
out:
        memset(&u, 0, sizeof(u));
        imago_audit_close(audit);
        imago_appdb_close(db);
        return rc;
}

struct names {
        struct imago_appdb_user *u;
        size_t n, cap;
};

/* The users, to print grants with names (ids ascending, so a binary search finds them). */
static int names_cb(const struct imago_appdb_user *u, void *arg)
{
        struct names *nm = arg;
        struct imago_appdb_user *grown;
        size_t cap;

        if (nm->n == nm->cap) {
                cap = nm->cap != 0 ? nm->cap * 2 : 16;
                if ((grown = realloc(nm->u, cap * sizeof(*grown))) == NULL)
                        return IMAGO_ENOMEM;
                nm->u = grown;
                nm->cap = cap;
        }
        nm->u[nm->n] = *u;
        memset(nm->u[nm->n].pw_hash, 0, sizeof(nm->u[nm->n].pw_hash));
        nm->n++;
        return 0;
}

static const char *name_of(const struct names *nm, uint64_t id)
{
        size_t lo = 0, hi = nm->n, mid;

        while (lo < hi) {
                mid = lo + (hi - lo) / 2;
                if (nm->u[mid].id == id)
                        return nm->u[mid].name;
                if (nm->u[mid].id < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return "?";
}

struct list_ctx {
        const struct names *nm;
        json_t *arr;
        int64_t now;
};

static int list_cb(const struct imago_appdb_grant *g, void *arg)
{
        struct list_ctx *c = arg;
        const char *role = imago_auth_role_name((enum imago_auth_role)g->role);
        const char *user = name_of(c->nm, g->user);
        char nb[32], ex[32];

        if (c->arr != NULL)
                return json_array_append_new(c->arr, grant_json(g, user)) == 0 ? 0 : IMAGO_ENOMEM;
        printf("%-6llu  %-20s  %-15s  %-20s  %-20s  %-20s  %s\n", (unsigned long long)g->id, user,
               role != NULL ? role : "?", g->group, imago_cloud_utc(g->not_before, nb),
               imago_cloud_utc(g->expires, ex),
               g->not_before <= c->now && c->now < g->expires ? "active" : "expired");
        return 0;
}

static int cmd_list(int argc, char **argv)
{
        struct imago_appdb *db = NULL;
        struct imago_appdb_user u;
        struct names nm = {0};
        struct list_ctx ctx;
        struct args a;
        int r, rc;

        memset(&ctx, 0, sizeof(ctx));
        memset(&u, 0, sizeof(u));
        if ((rc = parse(argc, argv, "grants list", LIST, &a)) >= 0)
                return rc >= 100 ? IMAGO_CLOUD_EXIT_OK : rc;
        if ((rc = imago_cloud_open_appdb(a.cmd, a.data_dir, &db)) != IMAGO_CLOUD_EXIT_OK)
                goto out;
        rc = IMAGO_CLOUD_EXIT_FAIL;
        if (a.user != NULL && (r = imago_appdb_user_by_name(db, a.user, &u)) != 0) {
                imago_cloud_fail(a.cmd, a.user, r);
                goto out;
        }
        if ((r = imago_appdb_user_list(db, names_cb, &nm)) != 0) {
                imago_cloud_fail(a.cmd, "app.db", r);
                goto out;
        }
        ctx.nm = &nm;
        ctx.now = (int64_t)time(NULL);
        if (a.json && (ctx.arr = json_array()) == NULL) {
                imago_cloud_fail(a.cmd, NULL, IMAGO_ENOMEM);
                goto out;
        }
        if (!a.json)
                printf("%-6s  %-20s  %-15s  %-20s  %-20s  %-20s  %s\n", "ID", "USER", "ROLE",
                       "GROUP", "NOT_BEFORE", "EXPIRES", "STATUS");
        if ((r = imago_appdb_grant_list(db, u.id, list_cb, &ctx)) != 0 ||
            (a.json && (r = imago_cloud_print_json(ctx.arr)) != 0)) {
                imago_cloud_fail(a.cmd, "app.db", r);
                goto out;
        }
        rc = IMAGO_CLOUD_EXIT_OK;
out:
        free(nm.u);
        json_decref(ctx.arr);
        imago_appdb_close(db);
        return rc;
}

static int cmd_delete(int argc, char **argv)
{
        struct imago_appdb *db = NULL;
        struct imago_audit *audit = NULL;
        struct imago_appdb_grant g;
        struct args a;
        char obj[48];
        uint64_t id = 0;
        int r, rc;

        memset(&g, 0, sizeof(g));
        if ((rc = parse(argc, argv, "grants delete", DEL, &a)) >= 0)
                return rc >= 100 ? IMAGO_CLOUD_EXIT_OK : rc;
        if (imago_parse_u64(a.id, (uint64_t)INT64_MAX, &id) != 0 || id == 0)
                return imago_cloud_usage(a.cmd, "ID: a grant number from 'grants list'");
        if ((rc = imago_cloud_open_appdb(a.cmd, a.data_dir, &db)) != IMAGO_CLOUD_EXIT_OK ||
            (rc = imago_cloud_open_audit(a.cmd, a.data_dir, &audit)) != IMAGO_CLOUD_EXIT_OK)
                goto out;
        rc = IMAGO_CLOUD_EXIT_FAIL;
        snprintf(obj, sizeof(obj), "grant:%llu", (unsigned long long)id);
        if ((r = imago_appdb_grant_get(db, id, &g)) != 0 ||
            (r = imago_appdb_grant_delete(db, id)) != 0) {
                imago_cloud_fail(a.cmd, obj, r);
                goto out;
        }
        if ((r = imago_cloud_audit_cli(
                 audit, "grant.delete", obj,
                 json_pack("{s:I,s:s,s:s}", "user", (json_int_t)g.user, "role",
                           imago_auth_role_name((enum imago_auth_role)g.role) != NULL
                               ? imago_auth_role_name((enum imago_auth_role)g.role)
                               : "?",
                           "group", g.group))) != 0) {
                fprintf(stderr,
                        "imago-cloud: %s: grant %llu deleted, but not recorded in the "
                        "audit log\n",
                        a.cmd, (unsigned long long)id);
                imago_cloud_fail(a.cmd, "audit.db", r);
                goto out;
        }
        printf("grant %llu deleted\n", (unsigned long long)id);
        rc = IMAGO_CLOUD_EXIT_OK;
out:
        imago_audit_close(audit);
        imago_appdb_close(db);
        return rc;
}

static const struct imago_cloud_cmd subs[] = {
    {"add", cmd_add, "give a user a role over a device group for a while"},
    {"list", cmd_list, "list grants (of one user)"},
    {"delete", cmd_delete, "delete a grant"},
};

int imago_cloud_cmd_grants(int argc, char **argv)
{
        return imago_cloud_dispatch("grants", subs, sizeof(subs) / sizeof(subs[0]), argc - 1,
                                    argv + 1);
}
