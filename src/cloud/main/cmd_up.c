/* `imago-cloud up --data DIR [--passphrase-file F] [--no-broker]`: run the service (cloud/svc.h).
 */
#include "cloud/main/cloud_main.h"

#include "base/err.h"
#include "cloud/svc.h"

#include <stdio.h>
#include <string.h>

#define CMD "up"

static const char usage[] =
    "usage: imago-cloud up --data DIR [--passphrase-file F] [--no-broker]\n"
    "\n"
    "Starts Mosquitto with DIR/broker/mosquitto.conf (unless --no-broker), then the\n"
    "fleet service: enrolment and rotation over MQTT/TLS with the service identity,\n"
    "the broker-hook HTTP endpoint, deny propagation, and the HTTPS API for apps on\n"
    "api_host:api_port (registration, state, commands; docs/api.md).  The passphrase\n"
    "(first line of F, or IMAGO_KEY_PASSPHRASE) decrypts the issuing CA key, the\n"
    "service key, the API key, the command key and the registration-token key.\n"
    "Runs until SIGTERM or SIGINT; SIGHUP makes the broker re-read DIR/broker/deny.json.\n"
    "See docs/cloud.md.\n";

int imago_cloud_cmd_up(int argc, char **argv)
{
        struct imago_svc_opts o;
        const char *pfile = NULL;
        char *pass = NULL;
        int i, m, r;

        memset(&o, 0, sizeof(o));
        for (i = 1; i < argc; i++) {
                if (imago_cloud_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLOUD_EXIT_OK;
                }
                if ((m = imago_cloud_opt(argc, argv, &i, CMD, "--data", &o.data_dir)) ||
                    (m = imago_cloud_opt(argc, argv, &i, CMD, "--passphrase-file", &pfile))) {
                        if (m < 0)
                                return IMAGO_CLOUD_EXIT_USAGE;
                        continue;
                }
                if (strcmp(argv[i], "--no-broker") == 0) {
                        o.no_broker = 1;
                        continue;
                }
                return imago_cloud_usage(CMD, "unexpected argument '%s'", argv[i]);
        }
        if (o.data_dir == NULL)
                return imago_cloud_usage(CMD, "--data DIR is required");
        if ((r = imago_cloud_passphrase(pfile, &pass)) != IMAGO_OK)
                return imago_cloud_fail(CMD, "passphrase", r);
        o.passphrase = pass;
        r = imago_svc_run(&o);
        imago_cloud_passphrase_free(pass);
        if (r != IMAGO_OK)
                return imago_cloud_fail(CMD, NULL, r);
        return IMAGO_CLOUD_EXIT_OK;
}
