/*
 * libFuzzer target: imago_ota's state.json parser (ota_state_parse,
 * src/device/ota/ota_state.c).  A parse either fails with nothing held or
 * gives a state whose dump parses again to the same dump.
 */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "device/ota/ota_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct ota_state a, b;
        char *t1 = NULL, *t2 = NULL;

        if (ota_state_parse(data, size, &a) != IMAGO_OK) {
                if (a.report != NULL)
                        abort();
                return 0;
        }
        if (ota_state_dump(&a, &t1) != IMAGO_OK ||
            ota_state_parse((const uint8_t *)t1, strlen(t1), &b) != IMAGO_OK ||
            ota_state_dump(&b, &t2) != IMAGO_OK || strcmp(t1, t2) != 0)
                abort();
        free(t1);
        free(t2);
        ota_state_clear_report(&a);
        ota_state_clear_report(&b);
        return 0;
}
