/*
 * libFuzzer target: the broker plugin's control message parser (src/broker,
 * messages on $CONTROL/imago/v1), built from the real source.  Oracle: an
 * accepted message names a known op with exactly the fields that op needs,
 * all syntactically valid.
 */
#include "../../src/broker/broker_control.c"
#include "../../src/broker/broker_deny.c"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct broker_control c;

        if (broker_control_parse(data, size, &c) != IMAGO_OK)
                return 0;
        switch (c.op) {
        case BROKER_OP_DENY:
                if (!broker_is_device_id(c.id) ||
                    (c.reason != BROKER_DENY_REVOKED && c.reason != BROKER_DENY_SUSPENDED))
                        __builtin_trap();
                break;
        case BROKER_OP_ALLOW:
                if (!broker_is_device_id(c.id))
                        __builtin_trap();
                break;
        case BROKER_OP_DENY_SERIAL:
                if (!broker_is_serial(c.serial))
                        __builtin_trap();
                break;
        case BROKER_OP_RELOAD:
                break;
        default:
                __builtin_trap();
        }
        return 0;
}
