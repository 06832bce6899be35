/*
 * imago_agent: the device agent as a library.  imago-agent (src/agent) is
 * imago_agent_main() with no application; firmware programs such as
 * examples/thermostat pass a struct imago_agent_app whose setup() registers
 * their command handlers and state fields with imago_dev (dev.h).
 * docs/onboarding.md and docs/device-link.md describe what users see.
 *
 * What imago_agent_main() does:
 *   1. reads the configuration file (imago_agent_conf_parse), opens the
 *      identity (key in the PKCS#11 token) and the secret store;
 *   2. --factory-reset: deletes every store record but the factory's
 *      (the birth certificate, device id and setup-code hash) first;
 *   3. if the configuration names a portal (portal_host, portal_port) and
 *      the store has no IMAGO_AGENT_REC_NET record, serves the setup portal
 *      (HTTPS with the birth certificate and the identity key) and nothing
 *      else; on a good POST /v1/configure it writes the network and the
 *      registration token to the store, answers, frees the portal (no
 *      listening socket is left) and goes on with 4;
 *   4. opens the link (enrolment, operational connection), creates the
 *      imago_dev on it (commands, state), runs app->setup, forwards a stored
 *      registration token once online and deletes it on the answer;
 *   5. built-in command "wipe": answers ok, then a factory reset; SIGUSR1
 *      does the same reset (the "reset button"); after a reset the portal
 *      opens again (when configured);
 *   6. SIGTERM/SIGINT: stops cleanly, exit 0.
 *
 * Setup portal rules (enforced before the code is checked): body at most
 * IMAGO_AGENT_CONFIGURE_MAX bytes, strict JSON (imago_agent_configure_parse);
 * at most one code check per IMAGO_AGENT_TRY_INTERVAL_MS (429
 * IMAGO_EAPI_RATE); after IMAGO_AGENT_SETUP_TRIES wrong codes the portal is
 * locked (423 IMAGO_ESETUP_LOCKED) until a factory reset; the count is the
 * store record IMAGO_AGENT_REC_FAILURES, written before each check, so
 * neither a restart nor a power cut during the check gives a free try.
 *
 * Secrets: the setup code, network passphrase and registration token are
 * wiped from memory after use (request body copies, libevent's input buffer,
 * every jansson allocation: the agent installs wiping allocators with
 * json_set_alloc_funcs); none of them is ever logged.  The PIN likewise.
 *
 * Ownership: imago_agent_main() owns everything it opens and releases it
 * before returning; app and app->arg are borrowed for the whole run.
 * imago_agent_conf_parse() fills a struct the caller releases with
 * imago_agent_conf_free() (safe on a zeroed struct).
 * imago_agent_configure_parse() borrows its input and fills a struct of
 * pointers into a json_t the caller releases with
 * imago_agent_configure_free() (which wipes the strings first).
 *
 * Errors: imago_agent_main() returns the process exit status: 0 after a
 * clean stop (or --once online), 1 on failure, 2 on bad usage.
 * imago_agent_conf_parse: IMAGO_ETOOBIG, IMAGO_EMALFORMED (message in err
 * naming the line), IMAGO_ENOMEM.  imago_agent_configure_parse:
 * IMAGO_ETOOBIG, IMAGO_EMALFORMED (not JSON, duplicate or unknown keys,
 * wrong types, values out of their limits), IMAGO_ENOMEM.
 */
#ifndef IMAGO_DEVICE_AGENT_AGENT_H
#define IMAGO_DEVICE_AGENT_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct imago_dev;

/* ---- the program ---- */

struct imago_agent_app {
        const char *name; /* program name for usage and logs ("imago-example-thermostat") */
        /* Register the firmware's command handlers and state fields on dev (borrowed; it lives
         * until the link is closed: after a factory reset setup runs again on a new dev). */
        int (*setup)(void *arg, struct imago_dev *dev);
        void *arg;
};

/* Run the agent (see above); app NULL: the plain agent (imago-agent). */
int imago_agent_main(int argc, char **argv, const struct imago_agent_app *app);

/* ---- store records ---- */

#define IMAGO_AGENT_REC_CERT     "device-cert"    /* operational certificate PEM */
#define IMAGO_AGENT_REC_CHAIN    "device-chain"   /* its issuing CA PEM */
#define IMAGO_AGENT_REC_NET      "net-config"     /* network JSON from the portal */
#define IMAGO_AGENT_REC_TOKEN    "reg-token"      /* registration token until answered */
#define IMAGO_AGENT_REC_FAILURES "setup-failures" /* wrong setup codes, decimal */
#define IMAGO_AGENT_REC_SEQ      "cmd-seq"        /* last accepted command sequence, decimal */

/* A factory reset keeps only the factory's records (factory/provision.h):
 * IMAGO_REC_BIRTH_CERT, IMAGO_REC_DEVICE_ID, IMAGO_REC_SETUP_CODE_HASH. */

/* ---- configuration file ---- */

/*
 * Strict "key = value" lines:
 *
 *   # comment
 *   mode        = production | development   (default production)
 *   token       = pkcs11: URI of the device's token (the secret store lives there;
 *                 the identity key too unless key_file is set)   required
 *   module      = PKCS#11 module path            (default /usr/lib/softhsm/libsofthsm2.so)
 *   pin_file    = file holding the user PIN      (else the URI's pin-value/pin-source)
 *   key_file    = P-256 PKCS#8 PEM identity key  (development mode only: refused in
 *                 production by imago_identity)
 *   store       = path of the secret store file  required (development mode: created
 *                 in the token when missing)
 *   birth_cert  = birth certificate PEM file, used when the store holds none
 *                 (development mode only, for file-key devices made by imago-sim factory)
 *   host        = broker address                 required
 *   port        = broker port 1..65535            required
 *   ca          = pinned server CA (PEM)          required
 *   root_ca     = pinned root CA (PEM), anchor for issued certificates   required
 *   server_name = name the broker certificate must carry                  required
 *   keepalive   = seconds 5..3600                 (default 60)
 *   backoff_max = seconds 1..3600                 (default 60)
 *   portal_host = setup portal address (IP literal)   } both or neither; without them
 *   portal_port = setup portal port 1..65535          } the agent connects at once
 *   command_key = Ed25519 public key PEM of the cloud's command key (without it commands
 *                 are refused)
 *   ota_dir        = directory of the update client's state (docs/ota.md "Device")
 *   director_root  = the director's trusted root.json (factory-provisioned)
 *   image_root     = the image repository's trusted root.json (factory-provisioned)
 *   hardware_id    = the device's hardware id, [A-Za-z0-9._-]{1,64}
 *   health_cmd     = absolute path of a health command run (execv, no shell) on a trial boot
 *   health_timeout = seconds 1..3600 for the health check of a trial boot (default 60)
 *   ota_interval   = seconds 1..604800 between update checks (default 3600)
 *   ota_block      = bytes per block of the block transfer 512..16384 (default 16384)
 *   ota_window     = blocks in flight 1..16 (default 4); smaller values suit slow links
 *   ota_https_url  = https://HOST:PORT/v1/repo/: image repository files over HTTPS   } both or
 *   ota_https_ca   = pinned CA (PEM) of that server (docs/ota.md "HTTPS transport") } neither;
 *                    without them everything goes over the block transfer; the director's
 *                    files always do
 *   Updates run only when ota_dir, director_root, image_root and hardware_id are all set and
 *   the agent runs under imago-boot (IMAGO_BOOT_FLASH and IMAGO_BOOT_PROGRAM set).
 *
 * Refused: unknown or duplicate keys, a line without "=", empty values, lines
 * over IMAGO_AGENT_CONF_LINE_MAX bytes, files over IMAGO_AGENT_CONF_MAX bytes,
 * control characters or NUL, numbers out of range or with trailing characters,
 * only one of portal_host and portal_port, only one of ota_https_url and ota_https_ca, an
 * ota_https_url not of the form above.  The file holds no secret.
 */
#define IMAGO_AGENT_CONF_MAX       65536
#define IMAGO_AGENT_CONF_LINE_MAX  1024
#define IMAGO_AGENT_DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"

struct imago_agent_conf {
        int production;
        char *token, *module, *pin_file, *key_file, *store, *birth_cert;
        char *host, *ca, *root_ca, *server_name;
        char *portal_host, *command_key;
        char *ota_dir, *director_root, *image_root, *hardware_id, *health_cmd;
        char *ota_https_url, *ota_https_ca;
        uint16_t port, portal_port;
        uint32_t keepalive, backoff_max, health_timeout, ota_interval, ota_block, ota_window;
};

int imago_agent_conf_parse(const char *text, size_t len, struct imago_agent_conf *c, char *err,
                           size_t errsize);
void imago_agent_conf_free(struct imago_agent_conf *c);

/* ---- setup portal: the body of POST /v1/configure ---- */

#define IMAGO_AGENT_CONFIGURE_MAX   4096 /* request body, bytes */
#define IMAGO_AGENT_SETUP_TRIES     5    /* wrong codes before the portal locks */
#define IMAGO_AGENT_TRY_INTERVAL_MS 2000 /* at most one code check per interval */
#define IMAGO_AGENT_SETUP_CODE_MAX  32   /* setup code as typed (with '-' and spaces) */
#define IMAGO_AGENT_SSID_MAX        32   /* IEEE 802.11 SSID, bytes */
#define IMAGO_AGENT_TOKEN_MAX       2048 /* = IMAGO_REGTOKEN_MAX */

/*
 * {"setup_code": S, "network": {"ssid": S, "passphrase": S?}, "registration_token": S}
 * exactly these members (passphrase optional).  setup_code 1..IMAGO_AGENT_SETUP_CODE_MAX
 * printable ASCII; ssid 1..IMAGO_AGENT_SSID_MAX bytes without control characters;
 * passphrase "" or absent (open network), 8..63 printable ASCII, or 64 hex digits (WPA
 * PSK); registration_token 1..IMAGO_AGENT_TOKEN_MAX of base64url with exactly four dots
 * (JWE compact form; the device cannot decrypt it).  *net_json is the network object as
 * compact JSON text (what the store keeps), malloc'd.
 */
struct imago_agent_configure {
        json_t *root;
        const char *setup_code, *ssid, *passphrase, *token; /* borrowed from root */
        char *net_json;
        size_t net_json_len;
};

int imago_agent_configure_parse(const uint8_t *buf, size_t len, struct imago_agent_configure *out);
/* Wipes the secrets (code, passphrase, token, net_json) and frees; safe on a zeroed struct. */
void imago_agent_configure_free(struct imago_agent_configure *c);

/* ---- factory reset ---- */

struct imago_store;

/* Delete every record but the factory's (above); *deleted (may be NULL) counts them. */
int imago_agent_factory_reset(struct imago_store *s, size_t *deleted);

#endif
