/*
 * libFuzzer target: the broker plugin's deny file parser (src/broker), built
 * from the real source (the plugin itself is a MODULE library).  Oracle:
 * what parses holds only valid, sorted, unique ids and serials, and every
 * one of them is found again.
 */
#include "../../src/broker/broker_deny.c"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct broker_deny d;
        size_t i;

        memset(&d, 0, sizeof(d));
        if (broker_deny_parse(data, size, &d) != IMAGO_OK)
                return 0;
        for (i = 0; i < d.n_ids; i++) {
                if (!broker_is_device_id(d.ids[i].id) ||
                    broker_deny_id_reason(&d, d.ids[i].id) == BROKER_DENY_NONE)
                        __builtin_trap();
                if (i > 0 && strcmp(d.ids[i - 1].id, d.ids[i].id) >= 0)
                        __builtin_trap();
        }
        for (i = 0; i < d.n_serials; i++) {
                if (!broker_is_serial(d.serials[i].serial) ||
                    !broker_deny_has_serial(&d, d.serials[i].serial))
                        __builtin_trap();
                if (i > 0 && strcmp(d.serials[i - 1].serial, d.serials[i].serial) >= 0)
                        __builtin_trap();
        }
        broker_deny_free(&d);
        return 0;
}
