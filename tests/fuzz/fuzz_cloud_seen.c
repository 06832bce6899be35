/*
 * libFuzzer target: the seen-event parser of imago-cloud (payloads on
 * imago/v1/svc/seen; only the broker plugin may publish there, but the
 * parser trusts nothing).  Invariant: what parses has a 32-hex id, a known
 * role and a non-empty lowercase hex serial.
 */
#include "base/hex.h"
#include "cloud/svc_enrol.h"
#include "proto/proto.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imago_svc_seen s;

        if (imago_svc_seen_parse(data, size, &s) == 0) {
                size_t n = strlen(s.serial);

                if (!imago_device_id_valid(s.id) || (s.role != 1 && s.role != 2) || n == 0 ||
                    strspn(s.serial, "0123456789abcdef") != n)
                        __builtin_trap();
        }
        return 0;
}
