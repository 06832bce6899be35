/*
 * imago-cloud data directory: its layout, `imago-cloud init`, and the files
 * the admin commands rewrite (deny file) or read (pid file).
 *
 *   DIR/                        0700
 *     imago-cloud.conf          0600  config (cloud/config.h)
 *     registry.db               0600  SQLite registry (+ -wal, -shm while open)
 *     imago-cloud.pid                 written by `imago-cloud up`
 *     ca/                       0700  root.crt factory.crt issuing.crt server-ca.crt (0644)
 *                                     issuing.key server-ca.key (0600, still encrypted)
 *     service/                  0700  service.crt (0644), service.key (0600, encrypted with
 *                                     the cloud passphrase): the service's MQTT identity
 *     broker/                   0700  mosquitto.conf (0600), ca-bundle.crt (root + factory +
 *                                     issuing + server CA), server.crt (leaf + server CA),
 *                                     server.key (0600, NOT encrypted: Mosquitto cannot
 *                                     decrypt keys), deny.json (0600), persistence files
 *     api/                      0700  api.crt (0644; leaf + server CA, SAN = the server
 *                                     names), api.key (0600, encrypted with the cloud
 *                                     passphrase): the HTTPS API's identity
 *     keys/                     0700  command.key (0600, Ed25519, encrypted): signs command
 *                                     envelopes; command.pub (0644): provisioned into devices
 *                                     (agent config command_key); regtoken.key (0600, P-256,
 *                                     encrypted PKCS#8): registration tokens (a JWK only
 *                                     in memory); snapshot.key, timestamp.key (0600,
 *                                     Ed25519, encrypted) + .pub (0644): the image
 *                                     repository's online roles (docs/repo.md)
 *     repo/                           the image repository (created by `repo publish`)
 *     app.db                    0600  users, grants, ownership, state, commands (appdb.h)
 *     audit.db                  0600  hash-chained audit log (audit.h)
 *
 * The root and factory keys never enter a data directory.  Data directories
 * made before the app API (no api/, keys/, app.db, audit.db) are refused by
 * `imago-cloud up` (imago_cloud_datadir_check_app names the missing file).
 *
 * imago_cloud_datadir_init() builds everything in a fresh sibling
 * directory and renames it to DIR at the end, so DIR either does not exist
 * or is complete; an existing DIR (even empty) is refused with IMAGO_EEXIST.
 *
 * Ownership: options and passphrases are borrowed (never copied or
 * logged).  Errors: IMAGO_EEXIST, IMAGO_ENOTFOUND (CA file missing),
 * IMAGO_EKEY_PASSPHRASE (the cloud passphrase does not open the CA keys),
 * IMAGO_EKEY_FORMAT (a CA key is not encrypted), IMAGO_EINVAL, IMAGO_EIO,
 * IMAGO_ECONF_VALUE (an option is not a valid config value),
 * IMAGO_EPKI_*, IMAGO_ECRYPTO, IMAGO_EREG_*, IMAGO_ENOMEM.
 */
#ifndef IMAGO_CLOUD_DATADIR_H
#define IMAGO_CLOUD_DATADIR_H

#include "cloud/config.h"
#include "cloud/registry/registry.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IMAGO_CLOUD_F_CONF          "imago-cloud.conf"
#define IMAGO_CLOUD_F_REGISTRY      "registry.db"
#define IMAGO_CLOUD_F_PID           "imago-cloud.pid"
#define IMAGO_CLOUD_F_ROOT_CRT      "ca/root.crt"
#define IMAGO_CLOUD_F_FACTORY_CRT   "ca/factory.crt"
#define IMAGO_CLOUD_F_ISSUING_CRT   "ca/issuing.crt"
#define IMAGO_CLOUD_F_SERVER_CA_CRT "ca/server-ca.crt"
#define IMAGO_CLOUD_F_SERVICE_CRT   "service/service.crt"
#define IMAGO_CLOUD_F_SERVICE_KEY   "service/service.key"
#define IMAGO_CLOUD_F_MOSQUITTO     "broker/mosquitto.conf"
#define IMAGO_CLOUD_F_CA_BUNDLE     "broker/ca-bundle.crt"
#define IMAGO_CLOUD_F_SERVER_CRT    "broker/server.crt"
#define IMAGO_CLOUD_F_SERVER_KEY    "broker/server.key"
#define IMAGO_CLOUD_F_DENY          "broker/deny.json"
#define IMAGO_CLOUD_F_APPDB         "app.db"
#define IMAGO_CLOUD_F_AUDIT         "audit.db"
#define IMAGO_CLOUD_F_API_CRT       "api/api.crt"
#define IMAGO_CLOUD_F_API_KEY       "api/api.key"
#define IMAGO_CLOUD_F_CMD_KEY       "keys/command.key"
#define IMAGO_CLOUD_F_CMD_PUB       "keys/command.pub"
#define IMAGO_CLOUD_F_REGTOKEN_KEY  "keys/regtoken.key"
#define IMAGO_CLOUD_D_CA            "ca"
#define IMAGO_CLOUD_D_BROKER        "broker"
#define IMAGO_CLOUD_D_API           "api"
#define IMAGO_CLOUD_D_KEYS          "keys"

#define IMAGO_CLOUD_NAMES_MAX 16

struct imago_cloud_init_opts {
        const char *data_dir; /* must not exist; its parent must */
        const char *ca_dir;   /* the directory of `imago ca init` */
        const char
            *cloud_passphrase; /* opens issuing.key and server-ca.key; encrypts service.key */
        uint16_t mqtt_port;    /* 0 = config default */
        uint16_t http_port;    /* 0 = config default */
        uint16_t api_port;     /* 0 = config default */
        const char *const *server_names; /* broker certificate SAN; 0 = 127.0.0.1 and localhost */
        size_t server_names_count;
        const char *plugin_path;    /* NULL = config default */
        const char *mosquitto_path; /* NULL = config default */
};

/* Create and fill a data directory (see above). */
int imago_cloud_datadir_init(const struct imago_cloud_init_opts *o);

/*
 * The files of the app API exist in data_dir (api/api.crt, api/api.key, the keys/ files, app.db,
 * audit.db): 0, or IMAGO_ENOTFOUND with *missing = the first absent one (a static string).
 */
int imago_cloud_datadir_check_app(const char *data_dir, const char **missing);

/* out = data_dir "/" rel; IMAGO_EINVAL if it does not fit. */
int imago_cloud_datadir_path(char *out, size_t cap, const char *data_dir, const char *rel);

/* Load DIR/imago-cloud.conf (line as in config.h) and check its data_dir names DIR. */
int imago_cloud_datadir_config(const char *data_dir, struct imago_cloud_config *c, unsigned *line);

/* mosquitto.conf text for a config, in data_dir; *out malloc'd, caller frees. */
int imago_cloud_datadir_mosquitto_conf(const struct imago_cloud_config *c, const char *user,
                                       char **out, size_t *len);

/*
 * Rewrite the deny file (docs/protocol.md) from imago_registry_deny_set(),
 * atomically (mode 0600): {"v":1,"ids":{"<id>":"revoked"|"suspended"},"serials":[...]}.
 */
int imago_cloud_datadir_write_deny(struct imago_registry *reg, const char *path);

/*
 * If DIR/imago-cloud.pid names a live imago-cloud process, send it SIGHUP:
 * *pid gets its pid (0 when no service runs: no file, a stale pid, or
 * another program).  IMAGO_EPERM if the signal cannot be sent.
 */
int imago_cloud_datadir_notify(const char *data_dir, pid_t *pid);

#endif
