/* libFuzzer target: the factory manifest parser (untrusted file from a factory). */
#include "factory/manifest.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imago_manifest m;

        if (imago_manifest_parse(data, size, &m) == 0) {
                char *text = NULL;
                size_t len = 0;

                /* What parses must serialise again. */
                if (imago_manifest_write(&m, &text, &len) != 0)
                        __builtin_trap();
                free(text);
                imago_manifest_free(&m);
        }
        return 0;
}
