/*
 * `imago-cloud devices list|show|suspend|resume|revoke|rotate --data DIR ...`.
 * State changes rewrite DIR/broker/deny.json from the registry, then SIGHUP
 * a running imago-cloud (cloud/datadir.h) so the broker drops the device.
 * rotate records a rotation request in the registry and SIGHUPs the service,
 * which sends the device rotate-now (now, or when it is next online).
 */
#define _POSIX_C_SOURCE 200809L
#include "cloud/main/cloud_main.h"

#include "base/err.h"
#include "cloud/datadir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

static const char usage[] =
    "usage: imago-cloud devices list --data DIR [--json]\n"
    "       imago-cloud devices show --data DIR [--json] ID\n"
    "       imago-cloud devices suspend --data DIR --reason R ID\n"
    "       imago-cloud devices resume --data DIR ID\n"
    "       imago-cloud devices revoke --data DIR --reason R ID\n"
    "       imago-cloud devices rotate --data DIR ID\n"
    "\n"
    "suspend: enrolled -> suspended (reversible by resume); revoke: final, every\n"
    "certificate of the device revoked, it comes back only under a new id.  After a\n"
    "change the deny file DIR/broker/deny.json is rewritten and a running imago-cloud\n"
    "(DIR/imago-cloud.pid) is sent SIGHUP so the broker cuts the device's sessions.\n"
    "R: 1..127 printable ASCII characters.\n"
    "rotate: records a rotation request for an enrolled device and signals a running\n"
    "imago-cloud, which sends the device rotate-now (again whenever it comes back\n"
    "online) until its new certificate is recorded; the old one is then retired and\n"
    "denied as soon as the device connects with the new one.\n";

struct args {
        const char *cmd; /* "devices <sub>" */
        const char *data_dir;
        const char *reason;
        const char *id;
        int json;
};

static int parse(int argc, char **argv, const char *cmd, int want_reason, int want_id,
                 struct args *a)
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
                    (want_reason &&
                     (m = imago_cloud_opt(argc, argv, &i, cmd, "--reason", &a->reason)))) {
                        if (m < 0)
                                return IMAGO_CLOUD_EXIT_USAGE;
                        continue;
                }
                if (!want_reason && strcmp(argv[i], "--json") == 0) {
                        a->json = 1;
                        continue;
                }
                if (argv[i][0] == '-' || !want_id || a->id != NULL)
                        return imago_cloud_usage(cmd, "unexpected argument '%s'", argv[i]);
                a->id = argv[i];
        }
        if (a->data_dir == NULL)
                return imago_cloud_usage(cmd, "--data is required");
        if (want_id && a->id == NULL)
                return imago_cloud_usage(cmd, "a device ID is required");
        if (want_reason == 1 && a->reason == NULL)
                return imago_cloud_usage(cmd, "--reason is required");
        return -1;
}

static json_t *device_json(const struct imago_reg_device *d, int full)
{
        char hash[65];
        json_t *o;
        size_t i;

        o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "id", d->id, "state",
                      imago_reg_state_name(d->state), "batch", d->batch, "birth_serial",
                      d->birth_serial, "cert_serial", d->cert_serial, "enrolled_at",
                      (json_int_t)d->enrolled_at, "reason", d->reason);
        if (o == NULL || !full)
                return o;
        for (i = 0; i < 32; i++)
                snprintf(hash + 2 * i, 3, "%02x", d->key_hash[i]);
        if (json_object_set_new(o, "key_hash",
                                d->enrolled_at != 0 ? json_string(hash) : json_null()) != 0 ||
            json_object_set_new(o, "certificate",
                                d->cert_pem != NULL ? json_string(d->cert_pem) : json_null()) !=
                0 ||
            json_object_set_new(o, "rotate_requested", json_integer(d->rotate_requested)) != 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static int print_json(json_t *j)
{
        char *s = j != NULL ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

        if (s == NULL)
                return IMAGO_ENOMEM;
        puts(s);
        free(s);
        return 0;
}

static int list_cb(const struct imago_reg_device *d, void *arg)
{
        json_t *arr = arg;

        if (arr != NULL)
                return json_array_append_new(arr, device_json(d, 0)) == 0 ? 0 : IMAGO_ENOMEM;
        printf("%-32s  %-9s  %-20s  %-40s  %s\n", d->id, imago_reg_state_name(d->state), d->batch,
               d->cert_serial[0] != '\0' ? d->cert_serial : "-", d->reason);
        return 0;
}

static int cmd_list(int argc, char **argv)
{
        struct imago_registry *reg = NULL;
        struct imago_cloud_config cfg;
        struct args a;
        json_t *arr = NULL;
        int r, rc;

        if ((rc = parse(argc, argv, "devices list", 0, 0, &a)) >= 0)
                return rc >= 100 ? IMAGO_CLOUD_EXIT_OK : rc;
        if ((rc = imago_cloud_open(a.cmd, a.data_dir, &cfg, &reg)) != IMAGO_CLOUD_EXIT_OK)
                goto out;
        rc = IMAGO_CLOUD_EXIT_FAIL;
        if (a.json && (arr = json_array()) == NULL) {
                imago_cloud_fail(a.cmd, NULL, IMAGO_ENOMEM);
                goto out;
        }
        if (!a.json)
                printf("%-32s  %-9s  %-20s  %-40s  %s\n", "ID", "STATE", "BATCH", "CERT_SERIAL",
                       "REASON");
        if ((r = imago_registry_list(reg, list_cb, arr)) != 0 ||
            (a.json && (r = print_json(arr)) != 0)) {
                imago_cloud_fail(a.cmd, "registry", r);
                goto out;
        }
        rc = IMAGO_CLOUD_EXIT_OK;
out:
        json_decref(arr);
        imago_registry_close(reg);
        return rc;
}

/* RFC 3339 UTC time of t, "-" for 0. */
static const char *utc(int64_t t, char out[32])
{
        time_t tt = (time_t)t;
        struct tm tm;

        if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
            strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return "-";
        return out;
}

static int cmd_show(int argc, char **argv)
{
        char when[32], asked[32];
        struct imago_registry *reg = NULL;
        struct imago_cloud_config cfg;
        struct imago_reg_device d;
        struct args a;
        json_t *o = NULL;
        int r, rc;

        memset(&d, 0, sizeof(d));
        if ((rc = parse(argc, argv, "devices show", 0, 1, &a)) >= 0)
                return rc >= 100 ? IMAGO_CLOUD_EXIT_OK : rc;
        if ((rc = imago_cloud_open(a.cmd, a.data_dir, &cfg, &reg)) != IMAGO_CLOUD_EXIT_OK)
                goto out;
        rc = IMAGO_CLOUD_EXIT_FAIL;
        if ((r = imago_registry_get(reg, a.id, &d)) != 0) {
                imago_cloud_fail(a.cmd, a.id, r);
                goto out;
        }
        if (a.json) {
                if ((r = print_json(o = device_json(&d, 1))) != 0) {
                        imago_cloud_fail(a.cmd, a.id, r);
                        goto out;
                }
        } else {
                printf("id:            %s\nstate:         %s\nbatch:         %s\n"
                       "birth serial:  %s\ncert serial:   %s\nenrolled at:   %s\n"
                       "reason:        %s\nrotate asked:  %s\n",
                       d.id, imago_reg_state_name(d.state), d.batch, d.birth_serial,
                       d.cert_serial[0] != '\0' ? d.cert_serial : "-", utc(d.enrolled_at, when),
                       d.reason[0] != '\0' ? d.reason : "-", utc(d.rotate_requested, asked));
        }
        rc = IMAGO_CLOUD_EXIT_OK;
out:
        json_decref(o);
        imago_registry_device_free(&d);
        imago_registry_close(reg);
        return rc;
}

enum change { SUSPEND, RESUME, REVOKE };

static int change(int argc, char **argv, enum change what)
{
        static const char *const cmds[] = {"devices suspend", "devices resume", "devices revoke"};
        static const char *const done[] = {"suspended", "resumed", "revoked"};
        struct imago_registry *reg = NULL;
        struct imago_cloud_config cfg;
        struct args a;
        char path[PATH_MAX];
        pid_t pid = 0;
        size_t n;
        int r, rc;

        if ((rc = parse(argc, argv, cmds[what], what == RESUME ? 0 : 1, 1, &a)) >= 0)
                return rc >= 100 ? IMAGO_CLOUD_EXIT_OK : rc;
        if (a.reason != NULL) {
                n = strlen(a.reason);
                if (n == 0 || n > IMAGO_REG_REASON_MAX)
                        return imago_cloud_usage(a.cmd, "--reason needs 1..%d characters",
                                                 IMAGO_REG_REASON_MAX);
        }
        if ((rc = imago_cloud_open(a.cmd, a.data_dir, &cfg, &reg)) != IMAGO_CLOUD_EXIT_OK)
                goto out;
        rc = IMAGO_CLOUD_EXIT_FAIL;
        if (what == SUSPEND)
                r = imago_registry_suspend(reg, a.id, a.reason);
        else if (what == RESUME)
                r = imago_registry_resume(reg, a.id);
        else
                r = imago_registry_revoke(reg, a.id, a.reason);
        if (r != 0) {
                imago_cloud_fail(a.cmd, a.id, r);
                goto out;
        }
        /* the registry is the truth; the deny file and the signal carry it to the broker */
        if ((r = imago_cloud_datadir_path(path, sizeof(path), a.data_dir, IMAGO_CLOUD_F_DENY)) !=
                0 ||
            (r = imago_cloud_datadir_write_deny(reg, path)) != 0) {
                fprintf(stderr,
                        "imago-cloud: %s: device %s %s in the registry, but the deny "
                        "file was not updated\n",
                        a.cmd, a.id, done[what]);
                imago_cloud_fail(a.cmd, path, r);
                goto out;
        }
        if ((r = imago_cloud_datadir_notify(a.data_dir, &pid)) != 0) {
                fprintf(stderr,
                        "imago-cloud: %s: device %s %s, deny file updated, but the running "
                        "service could not be signalled\n",
                        a.cmd, a.id, done[what]);
                imago_cloud_fail(a.cmd, IMAGO_CLOUD_F_PID, r);
                goto out;
        }
        if (pid != 0)
                printf("device %s %s; deny file updated; imago-cloud (pid %ld) notified\n", a.id,
                       done[what], (long)pid);
        else
                printf("device %s %s; deny file updated; no running imago-cloud to notify\n", a.id,
                       done[what]);
        rc = IMAGO_CLOUD_EXIT_OK;
out:
        imago_registry_close(reg);
        return rc;
}

static int cmd_rotate(int argc, char **argv)
{
        struct imago_registry *reg = NULL;
        struct imago_cloud_config cfg;
        struct args a;
        pid_t pid = 0;
        int r, rc;

        if ((rc = parse(argc, argv, "devices rotate", 0, 1, &a)) >= 0)
                return rc >= 100 ? IMAGO_CLOUD_EXIT_OK : rc;
        if (a.json)
                return imago_cloud_usage(a.cmd, "unexpected argument '--json'");
        if ((rc = imago_cloud_open(a.cmd, a.data_dir, &cfg, &reg)) != IMAGO_CLOUD_EXIT_OK)
                goto out;
        rc = IMAGO_CLOUD_EXIT_FAIL;
        if ((r = imago_registry_rotate_request(reg, a.id)) != 0) {
                imago_cloud_fail(a.cmd, a.id, r);
                goto out;
        }
        if ((r = imago_cloud_datadir_notify(a.data_dir, &pid)) != 0) {
                fprintf(stderr,
                        "imago-cloud: %s: rotation of device %s requested, but the running "
                        "service could not be signalled (it sends the request when it starts)\n",
                        a.cmd, a.id);
                imago_cloud_fail(a.cmd, IMAGO_CLOUD_F_PID, r);
                goto out;
        }
        if (pid != 0)
                printf("rotation of device %s requested; imago-cloud (pid %ld) notified\n", a.id,
                       (long)pid);
        else
                printf("rotation of device %s requested; no running imago-cloud: it is sent when "
                       "the service starts\n",
                       a.id);
        rc = IMAGO_CLOUD_EXIT_OK;
out:
        imago_registry_close(reg);
        return rc;
}

static int cmd_suspend(int argc, char **argv)
{
        return change(argc, argv, SUSPEND);
}

static int cmd_resume(int argc, char **argv)
{
        return change(argc, argv, RESUME);
}

static int cmd_revoke(int argc, char **argv)
{
        return change(argc, argv, REVOKE);
}

static const struct imago_cloud_cmd subs[] = {
    {"list", cmd_list, "list every device"},
    {"show", cmd_show, "show one device"},
    {"suspend", cmd_suspend, "suspend an enrolled device (reversible)"},
    {"resume", cmd_resume, "resume a suspended device"},
    {"revoke", cmd_revoke, "revoke a device for good"},
    {"rotate", cmd_rotate, "request a certificate rotation of an enrolled device"},
};

int imago_cloud_cmd_devices(int argc, char **argv)
{
        return imago_cloud_dispatch("devices", subs, sizeof(subs) / sizeof(subs[0]), argc - 1,
                                    argv + 1);
}
