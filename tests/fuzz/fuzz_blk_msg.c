/*
 * libFuzzer target: the block transfer messages (src/blk).  Every input is
 * read as a request (JSON), as a block/error frame (binary) and as a
 * progress record.  What parses must build again: the request to a message
 * that parses to the same fields, the frame and the record to the very same
 * bytes (their forms are canonical).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "blk/blk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void req(const uint8_t *data, size_t size)
{
        struct imago_blk_req r, r2;
        char *text = NULL;
        size_t len = 0;

        memset(&r, 0, sizeof(r));
        if (imago_blk_req_parse(data, size, &r) != IMAGO_OK)
                return;
        if (r.tid == 0 || r.len == 0 || r.len > IMAGO_BLK_BLOCK_MAX ||
            r.off >= IMAGO_BLK_OFF_LIMIT || !imago_blk_obj_valid(r.obj, strlen(r.obj)))
                __builtin_trap();
        if (imago_blk_req_build(&r, &text, &len) != IMAGO_OK ||
            imago_blk_req_parse((const uint8_t *)text, len, &r2) != IMAGO_OK ||
            memcmp(&r, &r2, sizeof(r)) != 0)
                __builtin_trap();
        free(text);
}

static void frame(const uint8_t *data, size_t size)
{
        struct imago_blk_msg m;
        uint8_t *out = NULL;
        size_t len = 0;

        if (imago_blk_msg_parse(data, size, &m) != IMAGO_OK)
                return;
        if (m.type == IMAGO_BLK_BLOCK &&
            (m.data_len == 0 || m.data < data || m.data + m.data_len != data + size ||
             m.off + m.data_len > m.total))
                __builtin_trap();
        if (imago_blk_msg_build(&m, &out, &len) != IMAGO_OK || len != size ||
            memcmp(out, data, size) != 0)
                __builtin_trap();
        free(out);
}

static void progress(const uint8_t *data, size_t size)
{
        uint8_t buf[IMAGO_BLK_PROGRESS_MAX];
        struct imago_blk_progress p;
        size_t len = 0;

        if (imago_blk_progress_decode(data, size, &p) != IMAGO_OK)
                return;
        if (p.done > p.length ||
            imago_blk_progress_encode(&p, buf, sizeof(buf), &len) != IMAGO_OK || len != size ||
            memcmp(buf, data, size) != 0)
                __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        req(data, size);
        frame(data, size);
        progress(data, size);
        return 0;
}
