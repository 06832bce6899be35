/*
 * `imago-cloud director assign|clear`: a device's assignment by hand, outside rollouts
 * (docs/director.md).  assign looks the target up in the published image repository
 * (DIR/repo) and refuses a name it does not list; both append an audit record
 * (director.assign, director.clear) to DIR/audit.db.
 */
#define _POSIX_C_SOURCE 200809L
#include "cloud/main/cloud_main.h"
#include "cloud/main/cmd_director.h"

#include "base/err.h"
#include "base/hex.h"
#include "cloud/audit/audit.h"
#include "cloud/director/director.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

static const char assign_usage[] =
    "usage: imago-cloud director assign --data DIR [--passphrase-file F] --device ID\n"
    "                                   --target NAME\n"
    "\n"
    "Assigns the image repository target NAME (as published in DIR/repo, with its length,\n"
    "hashes, hardware id, version and security counter) to device ID: the director's\n"
    "targets metadata for ID names it from now on.  The director key is decrypted with the\n"
    "cloud passphrase (first line of F or IMAGO_KEY_PASSPHRASE).  Audited.\n";

static const char clear_usage[] =
    "usage: imago-cloud director clear --data DIR [--passphrase-file F] --device ID\n"
    "\n"
    "Removes device ID's assignment: its director targets metadata lists nothing.  Audited.\n";

struct aargs {
        const char *data_dir, *pfile, *device, *target;
};

static int parse(int argc, char **argv, const char *cmd, const char *usage, int want_target,
                 struct aargs *a)
{
        int i, m;

        memset(a, 0, sizeof(*a));
        for (i = 1; i < argc; i++) {
                if (imago_cloud_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return 1;
                }
                if ((m = imago_cloud_opt(argc, argv, &i, cmd, "--data", &a->data_dir)) ||
                    (m = imago_cloud_opt(argc, argv, &i, cmd, "--passphrase-file", &a->pfile)) ||
                    (m = imago_cloud_opt(argc, argv, &i, cmd, "--device", &a->device)) ||
                    (want_target &&
                     (m = imago_cloud_opt(argc, argv, &i, cmd, "--target", &a->target)))) {
                        if (m < 0)
                                return -1;
                        continue;
                }
                imago_cloud_usage(cmd, "unexpected argument '%s'", argv[i]);
                return -1;
        }
        if (a->data_dir == NULL || a->device == NULL || (want_target && a->target == NULL)) {
                imago_cloud_usage(cmd, want_target ? "--data, --device and --target are required"
                                                   : "--data and --device are required");
                return -1;
        }
        if (!imago_device_id_valid(a->device)) {
                imago_cloud_usage(cmd, "--device needs a device id (32 lowercase hex)");
                return -1;
        }
        return 0;
}

static int open_rw(const char *cmd, const struct aargs *a, struct imago_director **d)
{
        char *pass = NULL;
        int r;

        if ((r = imago_cloud_passphrase(a->pfile, &pass)) != 0)
                return imago_cloud_fail(cmd, a->pfile, r);
        if (pass == NULL)
                return imago_cloud_fail(cmd, "--passphrase-file", IMAGO_EKEY_PASSPHRASE);
        r = imago_director_open(a->data_dir, pass, d);
        imago_cloud_passphrase_free(pass);
        if (r != 0) {
                imago_cloud_fail(cmd, "director (keys/director.key, director.db)", r);
                if (r == IMAGO_ENOTFOUND)
                        fprintf(stderr,
                                "imago-cloud: %s: no director keys yet: run "
                                "'imago-cloud director keys'\n",
                                cmd);
                return IMAGO_CLOUD_EXIT_FAIL;
        }
        return IMAGO_CLOUD_EXIT_OK;
}

static int audit(const char *cmd, const char *data_dir, const char *action, const char *object,
                 json_t *detail)
{
        struct imago_audit *au = NULL;
        int r, rc;

        if ((rc = imago_cloud_open_audit(cmd, data_dir, &au)) != IMAGO_CLOUD_EXIT_OK) {
                json_decref(detail);
                return rc;
        }
        r = imago_cloud_audit_cli(au, action, object, detail);
        imago_audit_close(au);
        return r != 0 ? imago_cloud_fail(cmd, "audit.db", r) : IMAGO_CLOUD_EXIT_OK;
}

int imago_cloud_director_assign(int argc, char **argv)
{
        const char *cmd = "director assign";
        struct imago_director_target t;
        struct imago_director *d = NULL;
        struct aargs a;
        char sha[2 * IMAGO_SHA256_LEN + 1];
        int r, rc = parse(argc, argv, cmd, assign_usage, 1, &a);

        if (rc != 0)
                return rc > 0 ? IMAGO_CLOUD_EXIT_OK : IMAGO_CLOUD_EXIT_USAGE;
        if ((r = imago_director_target_from_repo(a.data_dir, a.target, &t)) != 0) {
                if (r == IMAGO_ENOTFOUND)
                        fprintf(stderr,
                                "imago-cloud: %s: target '%s' is not in the published image "
                                "repository (%s/repo): publish it with 'imago-cloud repo "
                                "publish' first (%s)\n",
                                cmd, a.target, a.data_dir, imago_errname(r));
                else if (r == IMAGO_ETUF_FORMAT)
                        fprintf(stderr,
                                "imago-cloud: %s: target '%s' lacks custom hardware_id, version "
                                "or security_counter in the image repository (%s)\n",
                                cmd, a.target, imago_errname(r));
                else
                        imago_cloud_fail(cmd, "image repository", r);
                return IMAGO_CLOUD_EXIT_FAIL;
        }
        if ((rc = open_rw(cmd, &a, &d)) != 0)
                return rc;
        r = imago_director_assign(d, a.device, &t, (int64_t)time(NULL));
        imago_director_close(d);
        if (r != 0)
                return imago_cloud_fail(cmd, a.device, r);
        imago_hex_encode(t.sha256, IMAGO_SHA256_LEN, sha);
        printf("device %s assigned %s (version %s, hardware %s)\n", a.device, t.name, t.version,
               t.hardware_id);
        return audit(cmd, a.data_dir, "director.assign", a.device,
                     json_pack("{s:s,s:s,s:s,s:I}", "target", t.name, "version", t.version,
                               "sha256", sha, "length", (json_int_t)t.length));
}

int imago_cloud_director_clear(int argc, char **argv)
{
        const char *cmd = "director clear";
        struct imago_director *d = NULL;
        struct aargs a;
        int r, rc = parse(argc, argv, cmd, clear_usage, 0, &a);

        if (rc != 0)
                return rc > 0 ? IMAGO_CLOUD_EXIT_OK : IMAGO_CLOUD_EXIT_USAGE;
        if ((rc = open_rw(cmd, &a, &d)) != 0)
                return rc;
        r = imago_director_clear(d, a.device, (int64_t)time(NULL));
        imago_director_close(d);
        if (r != 0)
                return imago_cloud_fail(cmd, a.device, r);
        printf("device %s: assignment cleared\n", a.device);
        return audit(cmd, a.data_dir, "director.clear", a.device, json_object());
}
