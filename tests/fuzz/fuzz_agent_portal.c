/*
 * libFuzzer target: the body of the setup portal's POST /v1/configure
 * (imago_agent_configure_parse, src/device/agent/agent_configure.c), the only
 * bytes an unauthenticated client on the setup network gets parsed.  Every
 * accepted body must satisfy the documented limits, and the network JSON kept
 * for the store must parse again as an object with only ssid and passphrase.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "device/agent/agent.h"
#include "json/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const netk[] = {"ssid", "passphrase"};
        struct imago_agent_configure c;
        json_t *net = NULL;

        if (imago_agent_configure_parse(data, size, &c) != IMAGO_OK) {
                if (c.root != NULL || c.net_json != NULL || c.setup_code != NULL)
                        abort();
                return 0;
        }
        if (size > IMAGO_AGENT_CONFIGURE_MAX || c.setup_code == NULL || c.ssid == NULL ||
            c.token == NULL || c.net_json == NULL || strlen(c.setup_code) == 0 ||
            strlen(c.setup_code) > IMAGO_AGENT_SETUP_CODE_MAX || strlen(c.ssid) == 0 ||
            strlen(c.ssid) > IMAGO_AGENT_SSID_MAX || strlen(c.token) > IMAGO_AGENT_TOKEN_MAX ||
            strlen(c.net_json) != c.net_json_len)
                abort();
        if (imago_json_object((const uint8_t *)c.net_json, c.net_json_len,
                              IMAGO_AGENT_CONFIGURE_MAX, &net) != IMAGO_OK ||
            !imago_json_only_keys(net, netk, 2) ||
            strcmp(imago_json_str(net, "ssid", NULL), c.ssid) != 0)
                abort();
        json_decref(net);
        imago_agent_configure_free(&c);
        return 0;
}
