/*
 * libFuzzer target: imago_api_parse_range (the Range header of GET /v1/repo/...).
 * What it accepts must be consistent: start <= end, and the canonical text of
 * the result ("bytes=START-END", or "bytes=START-" for an open end) is exactly
 * the input.
 */
#include "base/err.h"
#include "cloud/api/api.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint64_t start = 1, end = 1;
        char text[64];
        int n;

        if (imago_api_parse_range((const char *)data, size, &start, &end) != IMAGO_OK) {
                if (start != 0 || end != 0)
                        abort();
                return 0;
        }
        if (start > end)
                abort();
        if (end == UINT64_MAX)
                n = snprintf(text, sizeof(text), "bytes=%" PRIu64 "-", start);
        else
                n = snprintf(text, sizeof(text), "bytes=%" PRIu64 "-%" PRIu64, start, end);
        if (n < 0 || (size_t)n != size || memcmp(text, data, size) != 0)
                abort();
        return 0;
}
