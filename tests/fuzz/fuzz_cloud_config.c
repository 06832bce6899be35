/* libFuzzer target: the imago-cloud config parser (a file an operator edits). */
#include "cloud/config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imago_cloud_config a, b;
        unsigned line = 0;

        if (imago_cloud_config_parse(data, size, &a, &line) == 0) {
                char *text = NULL;
                size_t len = 0;

                /* What parses must format and parse again to the same settings. */
                if (line != 0 || imago_cloud_config_format(&a, &text, &len) != 0)
                        __builtin_trap();
                if (imago_cloud_config_parse((const uint8_t *)text, len, &b, &line) != 0 ||
                    memcmp(&a, &b, sizeof(a)) != 0)
                        __builtin_trap();
                free(text);
        } else if (line == 0 && size <= IMAGO_CLOUD_CONF_MAX) {
                /* every refusal of a file within the size limit names its line */
                __builtin_trap();
        }
        return 0;
}
