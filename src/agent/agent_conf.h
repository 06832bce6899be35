/*
 * imago-agent configuration file: strict "key = value" lines.
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
 *
 * Refused: unknown or duplicate keys, a line without "=", empty values, lines
 * over AGENT_CONF_LINE_MAX bytes, files over AGENT_CONF_MAX bytes, control
 * characters or NUL, numbers out of range or with trailing characters.
 *
 * Ownership: the parsed struct owns its strings until agent_conf_free()
 * (safe on a zeroed struct).  The file holds no secret (the PIN is in its
 * own file).  Errors: IMAGO_ETOOBIG, IMAGO_EMALFORMED (with a message in
 * err naming the line), IMAGO_ENOMEM.
 */
#ifndef IMAGO_AGENT_AGENT_CONF_H
#define IMAGO_AGENT_AGENT_CONF_H

#include <stddef.h>
#include <stdint.h>

#define AGENT_CONF_MAX       65536
#define AGENT_CONF_LINE_MAX  1024
#define AGENT_DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"

struct agent_conf {
        int production;
        char *token, *module, *pin_file, *key_file, *store, *birth_cert;
        char *host, *ca, *root_ca, *server_name;
        uint16_t port;
        uint32_t keepalive, backoff_max;
};

int agent_conf_parse(const char *text, size_t len, struct agent_conf *c, char *err, size_t errsize);
void agent_conf_free(struct agent_conf *c);

#endif
