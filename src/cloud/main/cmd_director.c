/*
 * `imago-cloud director keys|root|status|assign|clear`: the Uptane director repository of a
 * data directory (docs/director.md).  keys creates the director keys and root version 1 in a
 * data directory made before the director; root copies the director's root.json for factory
 * provisioning; status lists devices with their assignment and last version report.
 */
#define _POSIX_C_SOURCE 200809L
#include "cloud/main/cloud_main.h"
#include "cloud/main/cmd_director.h"

#include "base/err.h"
#include "base/file.h"
#include "cloud/director/director.h"
#include "tuf/tuf.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const char keys_usage[] =
    "usage: imago-cloud director keys --data DIR [--passphrase-file F]\n"
    "\n"
    "Creates the director keys (DIR/keys/director-root.key, DIR/keys/director.key, encrypted\n"
    "with the cloud passphrase: first line of F or IMAGO_KEY_PASSPHRASE) and the director's\n"
    "root version 1 (DIR/director/metadata/root.json) in a data directory made before the\n"
    "director.  'imago-cloud init' does this for new data directories.\n";

static const char root_usage[] =
    "usage: imago-cloud director root --data DIR --out FILE\n"
    "\n"
    "Copies the director's root.json to FILE (mode 0644): the trusted director root that\n"
    "devices get at manufacturing time.\n";

static const char status_usage[] =
    "usage: imago-cloud director status --data DIR [--json]\n"
    "\n"
    "Every device known to the director: its assignment (target, version, rollout) and\n"
    "its last accepted version report (state, installed version, error, when).\n";

/* --data DIR and the given flags; returns -1 (usage printed), 1 (help printed) or 0. */
static int args(int argc, char **argv, const char *cmd, const char *usage, const char **data_dir,
                const char *o1, const char **v1, int *json)
{
        int i, m;

        for (i = 1; i < argc; i++) {
                if (imago_cloud_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return 1;
                }
                if ((m = imago_cloud_opt(argc, argv, &i, cmd, "--data", data_dir)) ||
                    (o1 != NULL && (m = imago_cloud_opt(argc, argv, &i, cmd, o1, v1)))) {
                        if (m < 0)
                                return -1;
                        continue;
                }
                if (json != NULL && strcmp(argv[i], "--json") == 0) {
                        *json = 1;
                        continue;
                }
                imago_cloud_usage(cmd, "unexpected argument '%s'", argv[i]);
                return -1;
        }
        if (*data_dir == NULL) {
                imago_cloud_usage(cmd, "--data is required");
                return -1;
        }
        return 0;
}

int imago_cloud_director_keys(int argc, char **argv)
{
        const char *cmd = "director keys", *data_dir = NULL, *pfile = NULL;
        char *pass = NULL;
        int r, a = args(argc, argv, cmd, keys_usage, &data_dir, "--passphrase-file", &pfile, NULL);

        if (a != 0)
                return a > 0 ? IMAGO_CLOUD_EXIT_OK : IMAGO_CLOUD_EXIT_USAGE;
        if ((r = imago_cloud_passphrase(pfile, &pass)) != 0)
                return imago_cloud_fail(cmd, pfile, r);
        if (pass == NULL)
                return imago_cloud_fail(cmd, "--passphrase-file", IMAGO_EKEY_PASSPHRASE);
        r = imago_director_keys_create(data_dir, pass);
        imago_cloud_passphrase_free(pass);
        if (r != 0)
                return imago_cloud_fail(cmd, "director keys", r);
        printf("director keys created: %s/keys/director-root.key (root), %s/keys/director.key "
               "(online)\n"
               "director root: %s/director/metadata/root.json\n",
               data_dir, data_dir, data_dir);
        return IMAGO_CLOUD_EXIT_OK;
}

int imago_cloud_director_root(int argc, char **argv)
{
        const char *cmd = "director root", *data_dir = NULL, *out = NULL;
        char path[PATH_MAX];
        uint8_t *buf = NULL;
        size_t len = 0;
        int r, a = args(argc, argv, cmd, root_usage, &data_dir, "--out", &out, NULL);

        if (a != 0)
                return a > 0 ? IMAGO_CLOUD_EXIT_OK : IMAGO_CLOUD_EXIT_USAGE;
        if (out == NULL)
                return imago_cloud_usage(cmd, "--out is required");
        if (snprintf(path, sizeof(path), "%s/director/metadata/root.json", data_dir) >=
            (int)sizeof(path))
                return imago_cloud_fail(cmd, data_dir, IMAGO_EINVAL);
        if ((r = imago_file_read(path, IMAGO_TUF_ROOT_MAX, &buf, &len)) != 0) {
                imago_cloud_fail(cmd, path, r);
                if (r == IMAGO_ENOTFOUND)
                        fprintf(stderr,
                                "imago-cloud: %s: no director keys yet: run "
                                "'imago-cloud director keys'\n",
                                cmd);
                return IMAGO_CLOUD_EXIT_FAIL;
        }
        r = imago_file_write_atomic(out, buf, len, 0644);
        imago_file_free(buf, len);
        if (r != 0)
                return imago_cloud_fail(cmd, out, r);
        printf("director root written: %s\n", out);
        return IMAGO_CLOUD_EXIT_OK;
}

static json_t *device_json(const struct imago_director_device *dv)
{
        char sha[2 * IMAGO_SHA256_LEN + 1], t[32], n[24];
        json_t *j = json_pack("{s:s}", "device", dv->id), *x;

        if (j == NULL)
                return NULL;
        if (dv->assigned) {
                imago_hex_encode(dv->target.sha256, IMAGO_SHA256_LEN, sha);
                snprintf(n, sizeof(n), "%" PRIu64, dv->target.rollout);
                x = json_pack("{s:s,s:I,s:s,s:s,s:s,s:I,s:s}", "name", dv->target.name, "length",
                              (json_int_t)dv->target.length, "sha256", sha, "hardware_id",
                              dv->target.hardware_id, "version", dv->target.version,
                              "security_counter", (json_int_t)dv->target.security_counter,
                              "rollout", n);
        } else {
                x = json_null();
        }
        json_object_set_new(j, "assigned", x);
        if (dv->reported) {
                const struct imago_vreport *l = &dv->last;
                imago_hex_encode(l->installed_sha256, IMAGO_SHA256_LEN, sha);
                snprintf(n, sizeof(n), "%" PRIu64, l->counter);
                x = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:i,s:s,s:s,s:I}", "state",
                              imago_vreport_state_name(l->state), "installed_version",
                              l->installed_version, "installed_sha256", sha, "hardware_id",
                              l->hardware_id, "installed_security_counter",
                              (json_int_t)l->installed_security_counter, "target", l->target,
                              "error", l->error, "progress", (int)l->progress, "counter", n,
                              "received", imago_cloud_utc(dv->reported_at, t), "received_unix",
                              (json_int_t)dv->reported_at);
        } else {
                x = json_null();
        }
        json_object_set_new(j, "last_report", x);
        return j;
}

struct status_ctx {
        int json;
        json_t *all;
        size_t n;
};

static int status_one(const struct imago_director_device *dv, void *arg)
{
        struct status_ctx *s = arg;
        char t[32];

        s->n++;
        if (s->json)
                return json_array_append_new(s->all, device_json(dv)) == 0 ? 0 : IMAGO_ENOMEM;
        printf("%s  assigned: %s%s%s", dv->id, dv->assigned ? dv->target.name : "-",
               dv->assigned ? " " : "", dv->assigned ? dv->target.version : "");
        if (dv->reported)
                printf("  reported: %s %s%s%s at %s\n", imago_vreport_state_name(dv->last.state),
                       dv->last.installed_version, dv->last.error[0] != '\0' ? " " : "",
                       dv->last.error, imago_cloud_utc(dv->reported_at, t));
        else
                printf("  reported: -\n");
        return 0;
}

int imago_cloud_director_status(int argc, char **argv)
{
        const char *cmd = "director status", *data_dir = NULL;
        struct status_ctx s = {0, NULL, 0};
        struct imago_director *d = NULL;
        int r, a = args(argc, argv, cmd, status_usage, &data_dir, NULL, NULL, &s.json);

        if (a != 0)
                return a > 0 ? IMAGO_CLOUD_EXIT_OK : IMAGO_CLOUD_EXIT_USAGE;
        if (!imago_director_keys_exist(data_dir))
                return imago_cloud_fail(cmd, "director keys (run 'imago-cloud director keys')",
                                        IMAGO_ENOTFOUND);
        if ((r = imago_director_open_ro(data_dir, &d)) != 0)
                return imago_cloud_fail(cmd, "director.db", r);
        if (s.json && (s.all = json_array()) == NULL)
                r = IMAGO_ENOMEM;
        if (r == 0)
                r = imago_director_devices(d, status_one, &s);
        imago_director_close(d);
        if (r == 0 && s.json) {
                json_t *j = json_pack("{s:O}", "devices", s.all);
                r = imago_cloud_print_json(j);
                json_decref(j);
        } else if (r == 0 && s.n == 0) {
                printf("no devices in the director yet\n");
        }
        json_decref(s.all);
        return r != 0 ? imago_cloud_fail(cmd, NULL, r) : IMAGO_CLOUD_EXIT_OK;
}

static const struct imago_cloud_cmd director_cmds[] = {
    {"keys", imago_cloud_director_keys, "create the director keys and root (older data dirs)"},
    {"root", imago_cloud_director_root, "copy the director root.json for factory provisioning"},
    {"status", imago_cloud_director_status, "devices: assignment and last version report"},
    {"assign", imago_cloud_director_assign, "assign an image repository target to a device"},
    {"clear", imago_cloud_director_clear, "remove a device's assignment"},
};

int imago_cloud_cmd_director(int argc, char **argv)
{
        return imago_cloud_dispatch("director", director_cmds,
                                    sizeof(director_cmds) / sizeof(director_cmds[0]), argc - 1,
                                    argv + 1);
}
