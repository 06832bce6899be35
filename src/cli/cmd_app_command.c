/* `imago app command|command-get|decommission`: signed commands and retiring a device. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "cmd_app.h"

#include "base/err.h"
#include "base/num.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

#define ARGS_MAX    65536U
#define NAME_MAX_   64U
#define WAIT_MAX_MS 30000U
#define TTL_MAX_S   3600U

static const char command_usage[] =
    "usage: imago app command ID NAME ['{\"arg\": value, ...}'] [--wait-ms N] [--ttl S]\n"
    "           [--json]\n"
    "\n"
    "Sends command NAME with its arguments (a JSON object) to the device; the\n"
    "cloud signs it for this device only, with a sequence number and an expiry\n"
    "(--ttl, 1..3600 s).  Waits up to N ms (0..30000, default 10000) for the\n"
    "device's result; exit status 0 when it ran and succeeded, or when it was\n"
    "sent but has not answered yet (see 'imago app command-get').\n";

static const char get_usage[] = "usage: imago app command-get ID COMMAND_ID [--json]\n"
                                "\n"
                                "Shows a command's status and result.\n";

static const char decom_usage[] =
    "usage: imago app decommission ID [--json]\n"
    "\n"
    "Sends the device the wipe command, waits for it (10 s), then revokes its\n"
    "certificate and unbinds it from you, whether it answered or not.\n";

/* Print a command answer; IMAGO_CLI_OK for "ok" and "sent", else FAIL. */
static int print_result(struct imago_app *a, json_t *o)
{
        const char *st = imago_json_str(o, "status", NULL);
        json_t *v;

        if (st == NULL) {
                imago_app_fail(a, "answer", IMAGO_EHTTP);
                return IMAGO_CLI_FAIL;
        }
        if (a->json) {
                imago_app_print_json(o);
        } else {
                printf("command ");
                imago_app_print_value(stdout, json_object_get(o, "command_id"));
                printf(": ");
                imago_app_print_safe(stdout, st);
                printf("\n");
                if ((v = json_object_get(o, "result")) != NULL && !json_is_null(v)) {
                        printf("result: ");
                        imago_app_print_value(stdout, v);
                        printf("\n");
                }
        }
        if (strcmp(st, "ok") == 0 || strcmp(st, "sent") == 0)
                return IMAGO_CLI_OK;
        fprintf(stderr, "imago: %s: the command's status is '", a->cmd);
        imago_app_print_safe(stderr, st);
        fprintf(stderr, "'\n");
        return IMAGO_CLI_FAIL;
}

int imago_app_command(struct imago_app *a, int argc, char **argv)
{
        const char *wait_s = NULL, *ttl_s = NULL, *pos[3];
        const struct imago_app_optdef opts[] = {{"--wait-ms", &wait_s}, {"--ttl", &ttl_s}};
        struct imago_app_resp resp;
        json_t *args = NULL, *body = NULL;
        uint32_t wait = 10000, ttl = 0;
        char path[128];
        size_t n;
        int rc;

        memset(&resp, 0, sizeof(resp));
        if ((rc = imago_app_args(a, argc, argv, command_usage, opts, 2, pos, 2, 3, &n)) != 0)
                return rc < 0 ? IMAGO_CLI_OK : rc;
        if ((rc = imago_app_device_path(a, pos[0], "/commands", path, sizeof(path))) !=
            IMAGO_CLI_OK)
                return rc;
        if (pos[1][0] == '\0' || strlen(pos[1]) > NAME_MAX_)
                return imago_app_usage(a, "the command name must be 1..%u bytes", NAME_MAX_);
        if (wait_s != NULL && imago_parse_u32(wait_s, WAIT_MAX_MS, &wait) != IMAGO_OK)
                return imago_app_usage(a, "--wait-ms must be 0..%u", WAIT_MAX_MS);
        if (ttl_s != NULL && (imago_parse_u32(ttl_s, TTL_MAX_S, &ttl) != IMAGO_OK || ttl == 0))
                return imago_app_usage(a, "--ttl must be 1..%u seconds", TTL_MAX_S);
        if (n == 3 &&
            imago_json_object((const uint8_t *)pos[2], strlen(pos[2]), ARGS_MAX, &args) != IMAGO_OK)
                return imago_app_usage(a, "the arguments must be one JSON object");
        rc = IMAGO_CLI_FAIL;
        body = json_pack("{s:s, s:I}", "name", pos[1], "wait_ms", (json_int_t)wait);
        if (body == NULL || (args != NULL && json_object_set(body, "args", args) != 0) ||
            (ttl != 0 && json_object_set_new(body, "ttl", json_integer(ttl)) != 0)) {
                imago_app_fail(a, NULL, IMAGO_ENOMEM);
                goto out;
        }
        /* The API answers by wait_ms; the connection gets that and a margin. */
        if (imago_app_call_auth(a, "POST", path, body, wait + IMAGO_APP_TIMEOUT_MS, &resp) !=
            IMAGO_OK)
                goto out;
        if (resp.json == NULL) {
                imago_app_fail(a, "answer", IMAGO_EHTTP);
                goto out;
        }
        rc = print_result(a, resp.json);
out:
        json_decref(args);
        json_decref(body);
        imago_app_resp_clear(&resp);
        return rc;
}

int imago_app_command_get(struct imago_app *a, int argc, char **argv)
{
        struct imago_app_resp resp;
        const char *pos[2];
        char path[128], suffix[48];
        uint64_t cid;
        size_t n;
        int rc;

        memset(&resp, 0, sizeof(resp));
        if ((rc = imago_app_args(a, argc, argv, get_usage, NULL, 0, pos, 2, 2, &n)) != 0)
                return rc < 0 ? IMAGO_CLI_OK : rc;
        if (imago_parse_u64(pos[1], INT64_MAX, &cid) != IMAGO_OK)
                return imago_app_usage(a, "bad command id '%s'", pos[1]);
        snprintf(suffix, sizeof(suffix), "/commands/%llu", (unsigned long long)cid);
        if ((rc = imago_app_device_path(a, pos[0], suffix, path, sizeof(path))) != IMAGO_CLI_OK)
                return rc;
        rc = IMAGO_CLI_FAIL;
        if (imago_app_call_auth(a, "GET", path, NULL, 0, &resp) != IMAGO_OK)
                goto out;
        if (resp.json == NULL) {
                imago_app_fail(a, "answer", IMAGO_EHTTP);
                goto out;
        }
        rc = print_result(a, resp.json);
out:
        imago_app_resp_clear(&resp);
        return rc;
}

int imago_app_decommission(struct imago_app *a, int argc, char **argv)
{
        struct imago_app_resp resp;
        const char *pos[1];
        char path[128];
        json_t *w;
        size_t n;
        int rc;

        memset(&resp, 0, sizeof(resp));
        if ((rc = imago_app_args(a, argc, argv, decom_usage, NULL, 0, pos, 1, 1, &n)) != 0)
                return rc < 0 ? IMAGO_CLI_OK : rc;
        if ((rc = imago_app_device_path(a, pos[0], "/decommission", path, sizeof(path))) !=
            IMAGO_CLI_OK)
                return rc;
        rc = IMAGO_CLI_FAIL;
        if (imago_app_call_auth(a, "POST", path, NULL, 0, &resp) != IMAGO_OK)
                goto out;
        w = resp.json != NULL ? json_object_get(resp.json, "wiped") : NULL;
        if (!json_is_boolean(w)) {
                imago_app_fail(a, "answer", IMAGO_EHTTP);
                goto out;
        }
        if (a->json)
                imago_app_print_json(resp.json);
        else
                printf("device %s decommissioned: revoked and unbound; %s\n", pos[0],
                       json_is_true(w) ? "it confirmed the wipe"
                                       : "it did not confirm the wipe (offline?)");
        rc = IMAGO_CLI_OK;
out:
        imago_app_resp_clear(&resp);
        return rc;
}
