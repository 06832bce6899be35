/* `imago-cloud init --data DIR --ca CA_DIR --cloud-passphrase-file F ...` (cloud/datadir.h). */
#define _POSIX_C_SOURCE 200809L
#include "cloud/main/cloud_main.h"

#include "base/err.h"
#include "base/num.h"
#include "cloud/datadir.h"
#include "cloud/director/director.h"

#include <stdio.h>
#include <string.h>

#define CMD "init"

static const char usage[] =
    "usage: imago-cloud init --data DIR --ca CA_DIR --cloud-passphrase-file F\n"
    "                        [--mqtt-port P] [--http-port P] [--api-port P]\n"
    "                        [--server-name NAME ...]\n"
    "                        [--plugin PATH] [--mosquitto PATH]\n"
    "\n"
    "Creates the data directory DIR (it must not exist) from the CA directory of\n"
    "'imago ca init': copies root.crt, factory.crt, issuing.crt, server-ca.crt and the\n"
    "still encrypted issuing.key and server-ca.key (never the root or factory keys);\n"
    "issues the broker's TLS certificate (SAN: the --server-name list, default\n"
    "127.0.0.1 and localhost; its key is NOT encrypted because Mosquitto cannot\n"
    "decrypt keys: protect DIR) and the service identity (key encrypted with the\n"
    "cloud passphrase, first line of F or IMAGO_KEY_PASSPHRASE); writes\n"
    "DIR/imago-cloud.conf, DIR/broker/mosquitto.conf, an empty deny file and the\n"
    "registry; for the app API (--api-port, default 8443): its TLS certificate (same\n"
    "names, key encrypted), the Ed25519 command key and the registration-token key\n"
    "(both encrypted), app.db and audit.db.  See docs/cloud.md.\n";

static int port_opt(const char *name, const char *v, uint16_t *out)
{
        uint32_t u;

        if (imago_parse_u32(v, 65535, &u) != 0 || u == 0) {
                imago_cloud_usage(CMD, "%s needs a port number 1..65535", name);
                return -1;
        }
        *out = (uint16_t)u;
        return 0;
}

int imago_cloud_cmd_init(int argc, char **argv)
{
        const char *names[IMAGO_CLOUD_NAMES_MAX];
        const char *pfile = NULL, *mqtt = NULL, *http = NULL, *api = NULL, *v;
        struct imago_cloud_init_opts o;
        char *pass = NULL;
        int i, m, r, rc = IMAGO_CLOUD_EXIT_FAIL;

        memset(&o, 0, sizeof(o));
        o.server_names = names;
        for (i = 1; i < argc; i++) {
                if (imago_cloud_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLOUD_EXIT_OK;
                }
                if ((m = imago_cloud_opt(argc, argv, &i, CMD, "--server-name", &v))) {
                        if (m < 0)
                                return IMAGO_CLOUD_EXIT_USAGE;
                        if (o.server_names_count == IMAGO_CLOUD_NAMES_MAX)
                                return imago_cloud_usage(CMD, "at most %d --server-name",
                                                         IMAGO_CLOUD_NAMES_MAX);
                        names[o.server_names_count++] = v;
                        continue;
                }
                if ((m = imago_cloud_opt(argc, argv, &i, CMD, "--data", &o.data_dir)) ||
                    (m = imago_cloud_opt(argc, argv, &i, CMD, "--ca", &o.ca_dir)) ||
                    (m = imago_cloud_opt(argc, argv, &i, CMD, "--cloud-passphrase-file", &pfile)) ||
                    (m = imago_cloud_opt(argc, argv, &i, CMD, "--mqtt-port", &mqtt)) ||
                    (m = imago_cloud_opt(argc, argv, &i, CMD, "--http-port", &http)) ||
                    (m = imago_cloud_opt(argc, argv, &i, CMD, "--api-port", &api)) ||
                    (m = imago_cloud_opt(argc, argv, &i, CMD, "--plugin", &o.plugin_path)) ||
                    (m = imago_cloud_opt(argc, argv, &i, CMD, "--mosquitto", &o.mosquitto_path))) {
                        if (m < 0)
                                return IMAGO_CLOUD_EXIT_USAGE;
                        continue;
                }
                return imago_cloud_usage(CMD, "unexpected argument '%s'", argv[i]);
        }
        if (o.data_dir == NULL || o.ca_dir == NULL)
                return imago_cloud_usage(CMD, "--data and --ca are required");
        if ((mqtt != NULL && port_opt("--mqtt-port", mqtt, &o.mqtt_port) != 0) ||
            (http != NULL && port_opt("--http-port", http, &o.http_port) != 0) ||
            (api != NULL && port_opt("--api-port", api, &o.api_port) != 0))
                return IMAGO_CLOUD_EXIT_USAGE;
        if ((r = imago_cloud_passphrase(pfile, &pass)) != IMAGO_OK) {
                imago_cloud_fail(CMD, pfile, r);
                goto out;
        }
        if (pass == NULL) {
                imago_cloud_fail(CMD, "--cloud-passphrase-file", IMAGO_EKEY_PASSPHRASE);
                goto out;
        }
        o.cloud_passphrase = pass;
        if ((r = imago_cloud_datadir_init(&o)) != IMAGO_OK) {
                imago_cloud_fail(CMD, o.data_dir, r);
                goto out;
        }
        if ((r = imago_director_keys_create(o.data_dir, pass)) != IMAGO_OK) {
                imago_cloud_fail(CMD, "director keys", r);
                goto out;
        }
        printf("data directory %s created:\n"
               "  imago-cloud.conf       settings (docs/cloud.md)\n"
               "  registry.db            device registry\n"
               "  ca/                    CA certificates; issuing and server CA keys (encrypted)\n"
               "  service/               the service's MQTT identity (key encrypted)\n"
               "  broker/                mosquitto.conf, TLS certificate and key (NOT encrypted),\n"
               "                         CA bundle, deny file\n"
               "  api/                   the HTTPS API's certificate and key (encrypted)\n"
               "  keys/                  command signing key (command.pub goes into devices'\n"
               "                         command_key) and registration-token key (encrypted)\n"
               "  app.db, audit.db       users, devices' owners, state, commands; audit log\n"
               "  director/              director root (keys: keys/director*.key)\n",
               o.data_dir);
        rc = IMAGO_CLOUD_EXIT_OK;
out:
        imago_cloud_passphrase_free(pass);
        return rc;
}
