/* `imago app token [--ttl S] [--out FILE]`: a registration token for a new device. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "cmd_app.h"

#include "base/err.h"
#include "base/file.h"
#include "base/num.h"
#include "base/wipe.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

#define CMD     "imago app token"
#define TTL_MAX (366U * 24U * 3600U)

static const char usage[] =
    "usage: imago app token [--ttl SECONDS] [--out FILE] [--json]\n"
    "\n"
    "Gets a registration token: the device forwards it to the cloud, which then\n"
    "binds the device to you.  It is printed on standard output, or written to\n"
    "FILE (mode 0600) for 'imago app configure --token-file FILE'.  Treat it as\n"
    "a secret until it is used.\n";

static int write_token(const char *path, const char *tok)
{
        size_t n = strlen(tok);
        char *line = malloc(n + 2);
        int r;

        if (line == NULL)
                return IMAGO_ENOMEM;
        memcpy(line, tok, n);
        line[n] = '\n';
        line[n + 1] = '\0';
        r = imago_file_write_atomic(path, line, n + 1, 0600);
        imago_app_str_free(line);
        return r;
}

int imago_app_token(struct imago_app *a, int argc, char **argv)
{
        const char *ttl_s = NULL, *outp = NULL, *tok;
        struct imago_app_resp resp;
        json_t *body = NULL;
        uint32_t ttl = 0;
        int i, m, r, rc = IMAGO_CLI_FAIL;

        memset(&resp, 0, sizeof(resp));
        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLI_OK;
                }
                if (imago_app_is_json_opt(a, argv[i]))
                        continue;
                if ((m = imago_cli_opt(argc, argv, &i, CMD, "--ttl", &ttl_s)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--out", &outp))) {
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        continue;
                }
                return imago_cli_usage(CMD, "unexpected argument '%s'", argv[i]);
        }
        if (ttl_s != NULL && (imago_parse_u32(ttl_s, TTL_MAX, &ttl) != IMAGO_OK || ttl == 0))
                return imago_cli_usage(CMD, "--ttl must be 1..%u seconds", TTL_MAX);
        body = ttl_s != NULL ? json_pack("{s:I}", "ttl", (json_int_t)ttl) : json_object();
        if (body == NULL) {
                imago_app_fail(a, NULL, IMAGO_ENOMEM);
                goto out;
        }
        if (imago_app_call_auth(a, "POST", "/v1/registration-tokens", body, 0, &resp) != IMAGO_OK)
                goto out;
        tok = resp.json != NULL ? imago_json_str(resp.json, "token", NULL) : NULL;
        if (!imago_app_token_ok(tok)) {
                imago_app_fail(a, "answer", IMAGO_EHTTP);
                goto out;
        }
        if (outp != NULL) {
                if ((r = write_token(outp, tok)) != IMAGO_OK) {
                        imago_app_fail(a, outp, r);
                        goto out;
                }
                json_object_del(resp.json, "token");
                if (a->json) {
                        json_object_set_new(resp.json, "file", json_string(outp));
                        imago_app_print_json(resp.json);
                } else {
                        printf("registration token written to %s (expires at ", outp);
                        imago_app_print_value(stdout, json_object_get(resp.json, "expires_at"));
                        printf(")\n");
                }
        } else if (a->json) {
                imago_app_print_json(resp.json);
        } else {
                printf("%s\n", tok);
        }
        rc = IMAGO_CLI_OK;
out:
        json_decref(body);
        imago_app_resp_clear(&resp);
        return rc;
}
