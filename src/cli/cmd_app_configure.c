/*
 * `imago app configure`: hand a device its network and a registration token
 * through its setup portal, which is authenticated by the SHA-256 of its
 * birth certificate from the label (no CA); the setup code proves that the
 * user holds the label.  A portal whose certificate does not match is
 * refused during the handshake, before any of the three secrets is sent.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "cmd_app.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/wipe.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

#define CMD            "imago app configure"
#define SSID_MAX       32U /* IEEE 802.11 */
#define SETUP_CODE_MAX 32U
#define QR_PREFIX      "IMAGO:1:"
#define FP_HEX_LEN     64U

static const char usage[] =
    "usage: imago app configure --portal HOST:PORT\n"
    "           (--qr 'IMAGO:1:<id>:<code>:<fingerprint>' |\n"
    "            --fingerprint HEX --setup-code CODE)\n"
    "           --ssid SSID [--passphrase-file F] (--token-file F | --token-stdin)\n"
    "           [--json]\n"
    "\n"
    "Configures an unconfigured device through its setup portal: the portal's\n"
    "certificate must have the SHA-256 fingerprint on the device's label (else\n"
    "IMAGO_EHTTP_PIN and nothing is sent), and the setup code from the label\n"
    "proves you hold it.  Sends the network (SSID and the passphrase from the\n"
    "first line of F; none: an open network) and the registration token (from\n"
    "'imago app token --out F', or standard input).\n";

/* fp: 64 hex digits, any case, ':' between bytes allowed -> 64 lowercase hex. */
static int norm_fingerprint(const char *in, char out[FP_HEX_LEN + 1])
{
        size_t n = 0;

        for (; *in != '\0'; in++) {
                char c = *in;

                if (c == ':')
                        continue;
                if (c >= 'A' && c <= 'F')
                        c = (char)(c - 'A' + 'a');
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) || n >= FP_HEX_LEN)
                        return IMAGO_EINVAL;
                out[n++] = c;
        }
        out[n] = '\0';
        return n == FP_HEX_LEN ? IMAGO_OK : IMAGO_EINVAL;
}

struct qr {
        char id[IMAGO_DEVICE_ID_LEN + 1];
        char code[SETUP_CODE_MAX + 1];
        char fp[FP_HEX_LEN + 1];
};

/* "IMAGO:1:<device id>:<setup code>:<fingerprint>" (docs/pki.md). */
static int parse_qr(const char *s, struct qr *q)
{
        const char *id, *code, *fp;
        size_t idl, codel;
        char fpbuf[FP_HEX_LEN * 2];

        if (strncmp(s, QR_PREFIX, strlen(QR_PREFIX)) != 0)
                return IMAGO_EINVAL;
        id = s + strlen(QR_PREFIX);
        if ((code = strchr(id, ':')) == NULL)
                return IMAGO_EINVAL;
        idl = (size_t)(code - id);
        code++;
        if ((fp = strchr(code, ':')) == NULL)
                return IMAGO_EINVAL;
        codel = (size_t)(fp - code);
        fp++;
        if (idl != IMAGO_DEVICE_ID_LEN || codel == 0 || codel > SETUP_CODE_MAX ||
            strlen(fp) >= sizeof(fpbuf))
                return IMAGO_EINVAL;
        memcpy(q->id, id, idl);
        q->id[idl] = '\0';
        memcpy(q->code, code, codel);
        q->code[codel] = '\0';
        if (!imago_device_id_valid(q->id) || norm_fingerprint(fp, q->fp) != IMAGO_OK)
                return IMAGO_EINVAL;
        return IMAGO_OK;
}

struct opts {
        const char *portal, *qr, *fp, *code, *ssid, *pfile, *tfile;
        int token_stdin;
};

static int parse_opts(struct imago_app *a, int argc, char **argv, struct opts *o)
{
        int i, m;

        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return -1;
                }
                if (imago_app_is_json_opt(a, argv[i]))
                        continue;
                if (strcmp(argv[i], "--token-stdin") == 0) {
                        o->token_stdin = 1;
                        continue;
                }
                if ((m = imago_cli_opt(argc, argv, &i, CMD, "--portal", &o->portal)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--qr", &o->qr)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--fingerprint", &o->fp)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--setup-code", &o->code)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--ssid", &o->ssid)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--passphrase-file", &o->pfile)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--token-file", &o->tfile))) {
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        continue;
                }
                return imago_cli_usage(CMD, "unexpected argument '%s'", argv[i]);
        }
        if (o->portal == NULL)
                return imago_cli_usage(CMD, "--portal HOST:PORT is required");
        if (o->qr != NULL && (o->fp != NULL || o->code != NULL))
                return imago_cli_usage(CMD, "--qr replaces --fingerprint and --setup-code");
        if (o->qr == NULL && (o->fp == NULL || o->code == NULL))
                return imago_cli_usage(CMD, "--qr, or --fingerprint and --setup-code, required");
        if (o->ssid == NULL || o->ssid[0] == '\0' || strlen(o->ssid) > SSID_MAX)
                return imago_cli_usage(CMD, "--ssid is required (1..%u bytes)", SSID_MAX);
        if ((o->tfile != NULL) == (o->token_stdin != 0))
                return imago_cli_usage(CMD, "one of --token-file F and --token-stdin is required");
        return IMAGO_CLI_OK;
}

/* {"setup_code","network":{"ssid","passphrase"?},"registration_token"}. */
static int build_body(struct imago_app *a, const struct opts *o, const char *code, json_t **out)
{
        char *token = NULL, *pass = NULL;
        json_t *net = NULL;
        int r;

        *out = NULL;
        r = imago_app_secret_read(o->tfile, "registration token", IMAGO_APP_TOKEN_MAX, &token);
        if (r == IMAGO_OK && !imago_app_token_ok(token))
                r = IMAGO_EMALFORMED;
        if (r != IMAGO_OK) {
                imago_app_fail(a, o->tfile != NULL ? o->tfile : "registration token", r);
                goto out;
        }
        if (o->pfile != NULL &&
            (r = imago_app_secret_read(o->pfile, "passphrase", IMAGO_APP_SECRET_MAX, &pass)) !=
                IMAGO_OK) {
                imago_app_fail(a, o->pfile, r);
                goto out;
        }
        r = IMAGO_ENOMEM;
        if ((net = json_pack("{s:s}", "ssid", o->ssid)) == NULL ||
            (pass != NULL && json_object_set_new(net, "passphrase", json_string(pass)) != 0) ||
            (*out = json_pack("{s:s, s:O, s:s}", "setup_code", code, "network", net,
                              "registration_token", token)) == NULL) {
                imago_app_fail(a, NULL, r);
                goto out;
        }
        r = IMAGO_OK;
out:
        json_decref(net);
        imago_app_str_free(token);
        imago_app_str_free(pass);
        return r;
}

int imago_app_configure(struct imago_app *a, int argc, char **argv)
{
        struct opts o;
        struct qr q;
        struct imago_app_resp resp;
        char host[IMAGO_APP_HOST_MAX + 1], fp[FP_HEX_LEN + 1];
        const char *code, *dev;
        json_t *body = NULL;
        uint16_t port = 0;
        int rc;

        memset(&o, 0, sizeof(o));
        memset(&q, 0, sizeof(q));
        memset(&resp, 0, sizeof(resp));
        if ((rc = parse_opts(a, argc, argv, &o)) != IMAGO_CLI_OK)
                return rc < 0 ? IMAGO_CLI_OK : rc;
        if (imago_app_parse_hostport(o.portal, host, sizeof(host), &port) != IMAGO_OK)
                return imago_cli_usage(CMD, "bad --portal '%s' (HOST:PORT)", o.portal);
        if (o.qr != NULL) {
                if (parse_qr(o.qr, &q) != IMAGO_OK)
                        return imago_cli_usage(CMD, "bad --qr (IMAGO:1:<id>:<code>:<fp>)");
                memcpy(fp, q.fp, sizeof(fp));
                code = q.code;
        } else {
                if (norm_fingerprint(o.fp, fp) != IMAGO_OK)
                        return imago_cli_usage(CMD, "--fingerprint must be 64 hex digits");
                if (o.code[0] == '\0' || strlen(o.code) > SETUP_CODE_MAX)
                        return imago_cli_usage(CMD, "bad --setup-code");
                code = o.code;
        }
        rc = IMAGO_CLI_FAIL;
        if (build_body(a, &o, code, &body) != IMAGO_OK ||
            imago_app_call_pinned(a, host, port, fp, "POST", "/v1/configure", body, &resp) !=
                IMAGO_OK)
                goto out;
        dev = resp.json != NULL ? imago_json_str(resp.json, "device", NULL) : NULL;
        if (dev == NULL) {
                imago_app_fail(a, "portal answer", IMAGO_EHTTP);
                goto out;
        }
        if (q.id[0] != '\0' && strcmp(dev, q.id) != 0) {
                fprintf(stderr,
                        "imago: %s: the portal answered as another device than the "
                        "label's (IMAGO_EHTTP)\n",
                        a->cmd);
                goto out;
        }
        if (a->json) {
                imago_app_print_json(resp.json);
        } else {
                printf("device ");
                imago_app_print_safe(stdout, dev);
                printf(" configured: it joins ");
                imago_app_print_safe(stdout, o.ssid);
                printf(" and registers with the cloud\n");
        }
        rc = IMAGO_CLI_OK;
out:
        json_decref(body);
        imago_app_resp_clear(&resp);
        imago_wipe(&q, sizeof(q));
        return rc;
}
