/* `imago app rollout create|list|show|pause|resume|cancel` and `imago app tags`: staged
 * rollouts of an image repository target and device tags (docs/app-cli.md, docs/api.md). */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "cmd_app.h"

#include "base/err.h"
#include "base/num.h"

#include <stdlib.h>
#include <string.h>

#define STAGES_MAX 10U
#define TAGS_MAX   32U
#define ARGS_MAX   64

static const char rollout_usage[] =
    "usage: imago app rollout create --target NAME [--group G] [--tag T] [--stages 10,50,100]\n"
    "                                [--max-concurrent N] [--abort-percent P] [--abort-min N]\n"
    "                                [--device-timeout S] [--name S] [--json]\n"
    "       imago app rollout list [--json]\n"
    "       imago app rollout show ID [--json]\n"
    "       imago app rollout pause|resume|cancel ID [--json]\n"
    "\n"
    "Rolls the image repository target NAME out to the enrolled devices of group G\n"
    "(their factory batch) and/or carrying tag T, in cumulative stages (percent of\n"
    "the devices; default 100), at most N updating at once (default 10); aborts\n"
    "when more than P % (default 20) of the finished devices failed or reverted,\n"
    "once N (default 5) have finished.  Needs the release_manager role in G (for\n"
    "a tag alone: in the group of every tagged device).  'show' lists each\n"
    "device's state: queued, downloading, installing, rebooting, succeeded,\n"
    "failed, reverted.\n";

static const char tags_usage[] =
    "usage: imago app tags DEVICE [--set t1,t2,... | --clear] [--json]\n"
    "\n"
    "Shows, replaces (--set) or removes (--clear) a device's tags: up to 32 of\n"
    "[A-Za-z0-9._-]{1,64}.  Changing them needs the operator role in the device's\n"
    "group, or owning it.  Rollouts select devices by tag.\n";

/* The answer's object; IMAGO_EHTTP printed when there is none. */
static int call(struct imago_app *a, const char *method, const char *path, json_t *body,
                struct imago_app_resp *resp)
{
        memset(resp, 0, sizeof(*resp));
        if (imago_app_call_auth(a, method, path, body, 0, resp) != IMAGO_OK)
                return IMAGO_EHTTP;
        if (resp->json == NULL) {
                imago_app_fail(a, "answer", IMAGO_EHTTP);
                return IMAGO_EHTTP;
        }
        return IMAGO_OK;
}

static void cell(json_t *v, int width)
{
        int n = 0;

        if (json_is_string(v)) {
                imago_app_print_safe(stdout, json_string_value(v));
                n = (int)strlen(json_string_value(v));
        } else if (json_is_integer(v)) {
                n = printf("%lld", (long long)json_integer_value(v));
        } else {
                n = printf("-");
        }
        if (width > 0)
                printf("%*s", n < width ? width - n : 1, "");
}

static json_int_t num(json_t *o, const char *key)
{
        return json_integer_value(json_object_get(o, key));
}

/* "10,50,100" into a JSON array of integers 1..100; IMAGO_EINVAL. */
static int parse_list_u(const char *s, json_t *arr)
{
        char buf[64];
        const char *p = s;

        while (*p != '\0') {
                const char *c = strchr(p, ',');
                size_t len = c != NULL ? (size_t)(c - p) : strlen(p);
                uint32_t v;

                if (len == 0 || len >= sizeof(buf) || json_array_size(arr) >= STAGES_MAX)
                        return IMAGO_EINVAL;
                memcpy(buf, p, len);
                buf[len] = '\0';
                if (imago_parse_u32(buf, 100, &v) != IMAGO_OK || v == 0 ||
                    json_array_append_new(arr, json_integer(v)) != 0)
                        return IMAGO_EINVAL;
                if (c == NULL)
                        return IMAGO_OK;
                p = c + 1;
        }
        return IMAGO_EINVAL;
}

/* "a,b" into a JSON array of strings (the server checks each tag). */
static int parse_list_s(const char *s, json_t *arr)
{
        const char *p = s;

        while (*p != '\0') {
                const char *c = strchr(p, ',');
                size_t len = c != NULL ? (size_t)(c - p) : strlen(p);

                if (len == 0 || json_array_size(arr) >= TAGS_MAX ||
                    json_array_append_new(arr, json_stringn(p, len)) != 0)
                        return IMAGO_EINVAL;
                if (c == NULL)
                        return IMAGO_OK;
                p = c + 1;
        }
        return IMAGO_EINVAL;
}

/* An optional number option into body[key]. */
static int num_opt(struct imago_app *a, json_t *body, const char *opt, const char *val,
                   const char *key, uint32_t max)
{
        uint32_t v;

        if (val == NULL)
                return IMAGO_CLI_OK;
        if (imago_parse_u32(val, max, &v) != IMAGO_OK)
                return imago_app_usage(a, "%s must be a number 0 to %u", opt, max);
        if (json_object_set_new(body, key, json_integer(v)) != 0)
                return IMAGO_CLI_FAIL;
        return IMAGO_CLI_OK;
}

/* The summary of a rollout object. */
static void print_rollout(json_t *r)
{
        static const char *const states[] = {"queued",    "downloading", "installing", "rebooting",
                                             "succeeded", "failed",      "reverted"};
        json_t *counts = json_object_get(r, "counts"), *st = json_object_get(r, "stages"), *v;
        const char *reason = json_string_value(json_object_get(r, "reason"));
        size_t i;

        printf("rollout %lld", (long long)num(r, "id"));
        if (json_string_length(json_object_get(r, "name")) > 0) {
                printf(" (");
                cell(json_object_get(r, "name"), 0);
                printf(")");
        }
        printf(": ");
        cell(json_object_get(r, "status"), 0);
        printf("\n  target:  ");
        cell(json_object_get(r, "target"), 0);
        printf("\n  devices: ");
        if (json_string_length(json_object_get(r, "group")) > 0) {
                printf("group ");
                cell(json_object_get(r, "group"), 0);
                printf(" ");
        }
        if (json_string_length(json_object_get(r, "tag")) > 0) {
                printf("tag ");
                cell(json_object_get(r, "tag"), 0);
                printf(" ");
        }
        printf("(%lld, %lld admitted)\n  stages:  ", (long long)num(r, "total"),
               (long long)num(r, "admitted"));
        json_array_foreach(st, i, v)
            printf("%s%lld%%", i > 0 ? " " : "", (long long)json_integer_value(v));
        printf(" (stage %lld open), at most %lld at once, abort above %lld %% after %lld\n",
               (long long)num(r, "stage") + 1, (long long)num(r, "max_concurrent"),
               (long long)num(r, "abort_percent"), (long long)num(r, "abort_min"));
        printf("  states: ");
        for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
                printf(" %s %lld", states[i], (long long)num(counts, states[i]));
        printf("\n");
        if (reason != NULL && reason[0] != '\0') {
                printf("  reason:  ");
                imago_app_print_safe(stdout, reason);
                printf("\n");
        }
}

static void print_devices(json_t *devs)
{
        json_t *d;
        size_t i;

        if (json_array_size(devs) == 0)
                return;
        printf("\n%-34s%-13s%-10s%-12s%s\n", "DEVICE", "STATE", "PROGRESS", "UPDATED", "ERROR");
        json_array_foreach(devs, i, d)
        {
                char pct[16];

                cell(json_object_get(d, "device"), 34);
                cell(json_object_get(d, "state"), 13);
                snprintf(pct, sizeof(pct), "%lld%%", (long long)num(d, "progress"));
                printf("%-10s", pct);
                cell(json_object_get(d, "updated_at"), 12);
                cell(json_string_length(json_object_get(d, "error")) > 0
                         ? json_object_get(d, "error")
                         : NULL,
                     0);
                printf("\n");
        }
}

static void print_list(json_t *list)
{
        json_t *r;
        size_t i;

        if (json_array_size(list) == 0) {
                printf("no rollouts\n");
                return;
        }
        printf("%-8s%-11s%-30s%-16s%-16s%s\n", "ID", "STATUS", "TARGET", "GROUP", "TAG",
               "DONE/TOTAL");
        json_array_foreach(list, i, r)
        {
                json_t *c = json_object_get(r, "counts");

                cell(json_object_get(r, "id"), 8);
                cell(json_object_get(r, "status"), 11);
                cell(json_object_get(r, "target"), 30);
                cell(json_string_length(json_object_get(r, "group")) > 0
                         ? json_object_get(r, "group")
                         : NULL,
                     16);
                cell(json_string_length(json_object_get(r, "tag")) > 0 ? json_object_get(r, "tag")
                                                                       : NULL,
                     16);
                printf("%lld/%lld\n",
                       (long long)(num(c, "succeeded") + num(c, "failed") + num(c, "reverted")),
                       (long long)num(r, "total"));
        }
}

static int rollout_create(struct imago_app *a, int argc, char **argv)
{
        const char *target = NULL, *group = NULL, *tag = NULL, *stages = NULL, *maxc = NULL,
                   *ap = NULL, *am = NULL, *to = NULL, *name = NULL, *pos[1];
        const struct imago_app_optdef opts[] = {
            {"--target", &target}, {"--group", &group},         {"--tag", &tag},
            {"--stages", &stages}, {"--max-concurrent", &maxc}, {"--abort-percent", &ap},
            {"--abort-min", &am},  {"--device-timeout", &to},   {"--name", &name},
        };
        struct imago_app_resp resp;
        json_t *body = NULL, *st;
        size_t n;
        int rc;

        memset(&resp, 0, sizeof(resp));
        if ((rc = imago_app_args(a, argc, argv, rollout_usage, opts, sizeof(opts) / sizeof(opts[0]),
                                 pos, 0, 0, &n)) != 0)
                return rc < 0 ? IMAGO_CLI_OK : rc;
        if (target == NULL)
                return imago_app_usage(a, "--target NAME is required");
        if (group == NULL && tag == NULL)
                return imago_app_usage(a, "--group or --tag (or both) is required");
        rc = IMAGO_CLI_FAIL;
        if ((body = json_pack("{s:s}", "target", target)) == NULL ||
            (group != NULL && json_object_set_new(body, "group", json_string(group)) != 0) ||
            (tag != NULL && json_object_set_new(body, "tag", json_string(tag)) != 0) ||
            (name != NULL && json_object_set_new(body, "name", json_string(name)) != 0))
                goto out;
        if (stages != NULL) {
                if ((st = json_array()) == NULL || json_object_set_new(body, "stages", st) != 0)
                        goto out;
                if (parse_list_u(stages, st) != IMAGO_OK) {
                        rc = imago_app_usage(a,
                                             "--stages: up to %u percentages 1..100, e.g. "
                                             "10,50,100",
                                             STAGES_MAX);
                        goto out;
                }
        }
        if ((rc = num_opt(a, body, "--max-concurrent", maxc, "max_concurrent", 100000)) != 0 ||
            (rc = num_opt(a, body, "--abort-percent", ap, "abort_percent", 100)) != 0 ||
            (rc = num_opt(a, body, "--abort-min", am, "abort_min", 100000)) != 0 ||
            (rc = num_opt(a, body, "--device-timeout", to, "device_timeout_s", 2592000)) != 0)
                goto out;
        rc = IMAGO_CLI_FAIL;
        if (call(a, "POST", "/v1/rollouts", body, &resp) != IMAGO_OK)
                goto out;
        if (a->json)
                imago_app_print_json(resp.json);
        else
                print_rollout(resp.json);
        rc = IMAGO_CLI_OK;
out:
        json_decref(body);
        imago_app_resp_clear(&resp);
        return rc;
}

/* list, or show/pause/resume/cancel ID. */
static int rollout_one(struct imago_app *a, int argc, char **argv, const char *sub)
{
        struct imago_app_resp resp;
        const char *pos[1];
        char path[64];
        uint64_t id;
        size_t n;
        int rc, list = strcmp(sub, "list") == 0, show = strcmp(sub, "show") == 0;

        memset(&resp, 0, sizeof(resp));
        if ((rc = imago_app_args(a, argc, argv, rollout_usage, NULL, 0, pos, list ? 0 : 1,
                                 list ? 0 : 1, &n)) != 0)
                return rc < 0 ? IMAGO_CLI_OK : rc;
        if (list) {
                snprintf(path, sizeof(path), "/v1/rollouts");
        } else {
                if (imago_parse_u64(pos[0], UINT64_MAX, &id) != IMAGO_OK || id == 0)
                        return imago_app_usage(a, "'%s' is not a rollout id", pos[0]);
                snprintf(path, sizeof(path), "/v1/rollouts/%llu%s%s", (unsigned long long)id,
                         show ? "" : "/", show ? "" : sub);
        }
        if (call(a, list || show ? "GET" : "POST", path, NULL, &resp) != IMAGO_OK) {
                imago_app_resp_clear(&resp);
                return IMAGO_CLI_FAIL;
        }
        if (a->json) {
                imago_app_print_json(resp.json);
        } else if (list) {
                print_list(json_object_get(resp.json, "rollouts"));
        } else {
                print_rollout(resp.json);
                if (show) {
                        print_devices(json_object_get(resp.json, "devices"));
                        if (json_is_true(json_object_get(resp.json, "devices_truncated")))
                                printf("(more devices not shown)\n");
                }
        }
        imago_app_resp_clear(&resp);
        return IMAGO_CLI_OK;
}

int imago_app_rollout(struct imago_app *a, int argc, char **argv)
{
        static const char *const subs[] = {"list", "show", "pause", "resume", "cancel"};
        size_t k;

        if (argc < 2 || imago_cli_is_help(argv[1])) {
                fputs(rollout_usage, argc < 2 ? stderr : stdout);
                return argc < 2 ? IMAGO_CLI_USAGE : IMAGO_CLI_OK;
        }
        snprintf(a->cmd, sizeof(a->cmd), "app rollout %.20s", argv[1]);
        if (strcmp(argv[1], "create") == 0)
                return rollout_create(a, argc - 1, argv + 1);
        for (k = 0; k < sizeof(subs) / sizeof(subs[0]); k++)
                if (strcmp(argv[1], subs[k]) == 0)
                        return rollout_one(a, argc - 1, argv + 1, subs[k]);
        return imago_app_usage(a, "unknown rollout command (create, list, show, pause, resume, "
                                  "cancel)");
}

int imago_app_tags(struct imago_app *a, int argc, char **argv)
{
        struct imago_app_resp resp;
        const char *set = NULL, *pos[1];
        const struct imago_app_optdef opts[] = {{"--set", &set}};
        char *args[ARGS_MAX], path[96];
        json_t *body = NULL, *arr, *t;
        int i, m = 0, clear = 0, rc;
        size_t n, k;

        memset(&resp, 0, sizeof(resp));
        for (i = 0; i < argc; i++) {
                if (i > 0 && strcmp(argv[i], "--clear") == 0) {
                        clear = 1;
                        continue;
                }
                if (m >= ARGS_MAX)
                        return imago_app_usage(a, "too many arguments");
                args[m++] = argv[i];
        }
        if ((rc = imago_app_args(a, m, args, tags_usage, opts, 1, pos, 1, 1, &n)) != 0)
                return rc < 0 ? IMAGO_CLI_OK : rc;
        if (set != NULL && clear)
                return imago_app_usage(a, "--set and --clear exclude each other");
        if ((rc = imago_app_device_path(a, pos[0], "/tags", path, sizeof(path))) != IMAGO_CLI_OK)
                return rc;
        rc = IMAGO_CLI_FAIL;
        if (set != NULL || clear) {
                if ((arr = json_array()) == NULL ||
                    (body = json_pack("{s:o}", "tags", arr)) == NULL)
                        goto out;
                if (set != NULL && parse_list_s(set, arr) != IMAGO_OK) {
                        rc = imago_app_usage(a, "--set: up to %u tags, comma-separated", TAGS_MAX);
                        goto out;
                }
        }
        if (call(a, body != NULL ? "PUT" : "GET", path, body, &resp) != IMAGO_OK)
                goto out;
        rc = IMAGO_CLI_OK;
        if (a->json) {
                imago_app_print_json(resp.json);
                goto out;
        }
        arr = json_object_get(resp.json, "tags");
        if (json_array_size(arr) == 0)
                printf("no tags\n");
        json_array_foreach(arr, k, t)
        {
                cell(t, 0);
                printf("\n");
        }
out:
        json_decref(body);
        imago_app_resp_clear(&resp);
        return rc;
}
