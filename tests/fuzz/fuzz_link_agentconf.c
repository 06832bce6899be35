/*
 * libFuzzer target: imago-agent's configuration parser
 * (imago_agent_conf_parse, src/device/agent/agent_conf.c).  Every parse
 * either fails with nothing allocated or yields every required key.
 */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/err.h"
#include "device/agent/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imago_agent_conf c;
        char err[200];

        if (imago_agent_conf_parse((const char *)data, size, &c, err, sizeof(err)) == IMAGO_OK) {
                if (c.token == NULL || c.store == NULL || c.host == NULL || c.port == 0 ||
                    c.ca == NULL || c.root_ca == NULL || c.server_name == NULL || c.module == NULL)
                        abort();
                imago_agent_conf_free(&c);
        } else if (c.token != NULL || c.store != NULL) {
                abort();
        }
        return 0;
}
