/*
 * libFuzzer target: the state messages and documents (untrusted bytes from a
 * device, the broker or the API).  The first byte picks the parser: 0..4 the
 * messages report, ack, delta, register, registered; 5 a document; 6 a patch.
 * What parses is built again (and must parse to the same), merged into and
 * compared with a fixed document, so merge and delta run on fuzzed input too.
 */
#include "state/state.h"

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fz_base[] =
    "{\"t\":20,\"led\":{\"on\":true,\"lvl\":3},\"arr\":[1,2],\"s\":\"x\"}";

static void fz_doc_ops(const json_t *d)
{
        json_t *base = NULL, *delta = NULL;
        char *text = NULL;

        if (imago_state_doc_parse(fz_base, strlen(fz_base), 0, &base) != 0)
                __builtin_trap();
        if (imago_state_merge(base, d) == 0 && imago_state_doc_check(base, 0) != 0)
                __builtin_trap();
        if (imago_state_doc_check(d, 0) == 0) {
                if (imago_state_delta(d, base, &delta) != 0 || imago_state_doc_check(delta, 0) != 0)
                        __builtin_trap();
                json_decref(delta);
                if (imago_state_delta(base, d, &delta) != 0)
                        __builtin_trap();
                json_decref(delta);
        }
        if (imago_state_doc_dump(d, &text) != 0)
                __builtin_trap();
        free(text);
        json_decref(base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imago_state_msg m, again;
        json_t *d = NULL;
        char *text = NULL;
        size_t len = 0;
        int mode;

        if (size < 1)
                return 0;
        mode = data[0] % 7;
        if (mode >= 5) {
                if (imago_state_doc_parse((const char *)data + 1, size - 1, mode == 6, &d) == 0)
                        fz_doc_ops(d);
                json_decref(d);
                return 0;
        }
        if (imago_state_msg_parse((enum imago_state_msg_type)(mode + 1), data + 1, size - 1, &m) !=
            0) {
                if (m.state != NULL)
                        __builtin_trap();
                return 0;
        }
        if (imago_state_msg_build(&m, &text, &len) != 0 ||
            imago_state_msg_parse(m.type, (const uint8_t *)text, len, &again) != 0 ||
            again.version != m.version || again.accepted != m.accepted ||
            strcmp(again.nonce, m.nonce) != 0 || strcmp(again.token, m.token) != 0 ||
            strcmp(again.result, m.result) != 0 ||
            (m.state != NULL && !json_equal(m.state, again.state)))
                __builtin_trap();
        if (m.state != NULL)
                fz_doc_ops(m.state);
        imago_state_msg_free(&again);
        imago_state_msg_free(&m);
        free(text);
        return 0;
}
