/* `imago app devices|device|state|set-state`: your devices and their state documents. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "cmd_app.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/num.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

#define PATCH_MAX 65536U

static const char devices_usage[] =
    "usage: imago app devices [--json]\n"
    "\n"
    "Lists the devices you own and those your grants let you see.\n";

static const char device_usage[] = "usage: imago app device ID [--json]\n"
                                   "\n"
                                   "Shows one device: state, group, enrolment time, ownership.\n";

static const char state_usage[] =
    "usage: imago app state ID [--json]\n"
    "\n"
    "Shows the device's reported and desired state documents with their\n"
    "versions, and the delta the device has still to apply.\n";

static const char set_state_usage[] =
    "usage: imago app set-state ID --version N '{\"key\": value, ...}' [--json]\n"
    "\n"
    "Merges the patch into the desired state if its version is still N (the\n"
    "desired_version 'imago app state' shows); else IMAGO_ESTATE_VERSION.  A key\n"
    "set to null is removed.  The device receives the difference.\n";

/* The device path "/v1/devices/<id><suffix>"; usage error for a bad id. */
int imago_app_device_path(struct imago_app *a, const char *id, const char *suffix, char *out,
                          size_t size)
{
        if (!imago_device_id_valid(id))
                return imago_app_usage(a, "'%s' is not a device id (32 lowercase hex digits)", id);
        snprintf(out, size, "/v1/devices/%s%s", id, suffix);
        return IMAGO_CLI_OK;
}

/* GET path and print the object (fields, or JSON with --json). */
static int get_and_print(struct imago_app *a, const char *path)
{
        struct imago_app_resp resp;
        int rc = IMAGO_CLI_FAIL;

        memset(&resp, 0, sizeof(resp));
        if (imago_app_call_auth(a, "GET", path, NULL, 0, &resp) != IMAGO_OK)
                goto out;
        if (resp.json == NULL) {
                imago_app_fail(a, "answer", IMAGO_EHTTP);
                goto out;
        }
        if (a->json)
                imago_app_print_json(resp.json);
        else
                imago_app_print_fields(resp.json, "");
        rc = IMAGO_CLI_OK;
out:
        imago_app_resp_clear(&resp);
        return rc;
}

static void print_cell(json_t *v, int width)
{
        int n = 0;

        if (json_is_string(v)) {
                imago_app_print_safe(stdout, json_string_value(v));
                n = (int)strlen(json_string_value(v));
        } else if (json_is_boolean(v)) {
                n = printf("%s", json_is_true(v) ? "yes" : "no");
        } else if (v == NULL || json_is_null(v)) {
                n = printf("-");
        } else {
                imago_app_print_value(stdout, v);
        }
        if (width > 0)
                printf("%*s", n < width ? width - n : 1, "");
}

/* The devices answer's list as a table. */
static void print_devices(json_t *list)
{
        json_t *d;
        size_t i;

        if (json_array_size(list) == 0) {
                printf("no devices\n");
                return;
        }
        printf("%-34s%-12s%-20s%s\n", "ID", "STATE", "GROUP", "OWNER");
        json_array_foreach(list, i, d)
        {
                if (!json_is_object(d))
                        continue;
                print_cell(json_object_get(d, "id"), 34);
                print_cell(json_object_get(d, "state"), 12);
                print_cell(json_object_get(d, "group"), 20);
                print_cell(json_object_get(d, "owner"), 0);
                printf("\n");
        }
}

int imago_app_devices(struct imago_app *a, int argc, char **argv)
{
        struct imago_app_resp resp;
        const char *pos[1];
        json_t *list;
        size_t n;
        int rc;

        memset(&resp, 0, sizeof(resp));
        if ((rc = imago_app_args(a, argc, argv, devices_usage, NULL, 0, pos, 0, 0, &n)) != 0)
                return rc < 0 ? IMAGO_CLI_OK : rc;
        rc = IMAGO_CLI_FAIL;
        if (imago_app_call_auth(a, "GET", "/v1/devices", NULL, 0, &resp) != IMAGO_OK)
                goto out;
        list = resp.json != NULL ? json_object_get(resp.json, "devices") : NULL;
        if (!json_is_array(list)) {
                imago_app_fail(a, "answer", IMAGO_EHTTP);
                goto out;
        }
        rc = IMAGO_CLI_OK;
        if (a->json) {
                imago_app_print_json(resp.json);
                goto out;
        }
        print_devices(list);
out:
        imago_app_resp_clear(&resp);
        return rc;
}

int imago_app_device(struct imago_app *a, int argc, char **argv)
{
        const char *pos[1];
        char path[128];
        size_t n;
        int rc;

        if ((rc = imago_app_args(a, argc, argv, device_usage, NULL, 0, pos, 1, 1, &n)) != 0)
                return rc < 0 ? IMAGO_CLI_OK : rc;
        if ((rc = imago_app_device_path(a, pos[0], "", path, sizeof(path))) != IMAGO_CLI_OK)
                return rc;
        return get_and_print(a, path);
}

static void print_doc(const char *name, json_t *o, const char *vkey)
{
        json_t *doc = json_object_get(o, name);

        printf("%s", name);
        if (vkey != NULL && json_is_integer(json_object_get(o, vkey)))
                printf(" (version %" JSON_INTEGER_FORMAT ")",
                       json_integer_value(json_object_get(o, vkey)));
        printf(": ");
        if (doc == NULL)
                printf("-");
        else
                imago_app_print_value(stdout, doc);
        printf("\n");
}

int imago_app_state(struct imago_app *a, int argc, char **argv)
{
        struct imago_app_resp resp;
        const char *pos[1];
        char path[128];
        size_t n;
        int rc;

        memset(&resp, 0, sizeof(resp));
        if ((rc = imago_app_args(a, argc, argv, state_usage, NULL, 0, pos, 1, 1, &n)) != 0)
                return rc < 0 ? IMAGO_CLI_OK : rc;
        if ((rc = imago_app_device_path(a, pos[0], "/state", path, sizeof(path))) != IMAGO_CLI_OK)
                return rc;
        rc = IMAGO_CLI_FAIL;
        if (imago_app_call_auth(a, "GET", path, NULL, 0, &resp) != IMAGO_OK)
                goto out;
        if (resp.json == NULL) {
                imago_app_fail(a, "answer", IMAGO_EHTTP);
                goto out;
        }
        if (a->json) {
                imago_app_print_json(resp.json);
        } else {
                print_doc("reported", resp.json, "reported_version");
                print_doc("desired", resp.json, "desired_version");
                print_doc("delta", resp.json, NULL);
        }
        rc = IMAGO_CLI_OK;
out:
        imago_app_resp_clear(&resp);
        return rc;
}

int imago_app_set_state(struct imago_app *a, int argc, char **argv)
{
        const char *ver_s = NULL, *pos[2];
        const struct imago_app_optdef opts[] = {{"--version", &ver_s}};
        struct imago_app_resp resp;
        json_t *patch = NULL, *body = NULL, *nv;
        char path[128];
        uint64_t ver = 0;
        size_t n;
        int rc;

        memset(&resp, 0, sizeof(resp));
        if ((rc = imago_app_args(a, argc, argv, set_state_usage, opts, 1, pos, 2, 2, &n)) != 0)
                return rc < 0 ? IMAGO_CLI_OK : rc;
        if ((rc = imago_app_device_path(a, pos[0], "/state", path, sizeof(path))) != IMAGO_CLI_OK)
                return rc;
        if (ver_s == NULL || imago_parse_u64(ver_s, INT64_MAX, &ver) != IMAGO_OK)
                return imago_app_usage(a, "--version N is required (the desired_version)");
        if (imago_json_object((const uint8_t *)pos[1], strlen(pos[1]), PATCH_MAX, &patch) !=
            IMAGO_OK)
                return imago_app_usage(a, "the patch must be one JSON object");
        rc = IMAGO_CLI_FAIL;
        if ((body = json_pack("{s:O, s:I}", "desired", patch, "version", (json_int_t)ver)) ==
            NULL) {
                imago_app_fail(a, NULL, IMAGO_ENOMEM);
                goto out;
        }
        if (imago_app_call_auth(a, "PATCH", path, body, 0, &resp) != IMAGO_OK)
                goto out;
        nv = resp.json != NULL ? json_object_get(resp.json, "desired_version") : NULL;
        if (!json_is_integer(nv)) {
                imago_app_fail(a, "answer", IMAGO_EHTTP);
                goto out;
        }
        if (a->json)
                imago_app_print_json(resp.json);
        else
                printf("desired state of %s is now version %" JSON_INTEGER_FORMAT "\n", pos[0],
                       json_integer_value(nv));
        rc = IMAGO_CLI_OK;
out:
        json_decref(patch);
        json_decref(body);
        imago_app_resp_clear(&resp);
        return rc;
}
