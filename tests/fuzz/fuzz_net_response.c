/*
 * libFuzzer target: the HTTPS client's strict response parser (bytes from
 * any server the client talks to, before or without authentication of
 * what it says).  The first byte picks end of stream or not.  Invariants:
 * a complete response has a body of at most IMAGO_HTTPC_BODY_MAX bytes,
 * NUL-terminated, and a status in 200..599; a refusal leaves no body; every
 * prefix of a complete response is incomplete (never a different answer);
 * a range is given for a 206 only, and it is the body's (first <= last <
 * total, last - first + 1 == len).
 */
#include "net/httpc_parse.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imago_httpc_resp resp;
        int eof, r;

        if (size < 1)
                return 0;
        eof = data[0] & 1;
        data++;
        size--;
        r = imago_httpc_parse_response(data, size, eof, &resp);
        if (r == IMAGO_OK) {
                if (resp.body == NULL || resp.len > IMAGO_HTTPC_BODY_MAX ||
                    resp.body[resp.len] != '\0' || resp.status < 200 || resp.status > 599)
                        __builtin_trap();
                if ((resp.status == 206) != (resp.has_range != 0))
                        __builtin_trap();
                if (resp.has_range &&
                    (resp.range_first > resp.range_last || resp.range_last >= resp.range_total ||
                     resp.range_last - resp.range_first + 1 != resp.len))
                        __builtin_trap();
                imago_httpc_resp_free(&resp);
                /* One byte less is never complete. */
                if (size > 0 && imago_httpc_parse_response(data, size - 1, 0, &resp) == IMAGO_OK)
                        __builtin_trap();
                imago_httpc_resp_free(&resp);
        } else if (resp.body != NULL || resp.len != 0 || resp.status != 0 || resp.has_range) {
                __builtin_trap();
        } else if (r != IMAGO_HTTPC_MORE && r != IMAGO_EHTTP && r != IMAGO_ETOOBIG) {
                __builtin_trap();
        } else if (r == IMAGO_HTTPC_MORE && eof) {
                __builtin_trap();
        }
        return 0;
}
