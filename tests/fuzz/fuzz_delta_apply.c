/*
 * libFuzzer target: delta bytes applied to a fixed base (imago_delta), fed
 * whole and in two pieces.  The window limit is 2^20 and the output bound the
 * target's length: the sink traps if it ever receives more, and a success
 * must have produced exactly the target (its SHA-256 was checked).
 * Seeds (corpus/fuzz_delta_apply) are `zstd --patch-from` deltas against the
 * same base, made by corpus/fuzz_delta_apply/gen.sh.
 */
#include "delta/delta.h"

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_LEN 65536

static uint8_t fz_base[FZ_LEN], fz_target[FZ_LEN];
static struct imago_delta_expect fz_exp;
static int fz_ready;

/* Keep in step with corpus/fuzz_delta_apply/gen.sh. */
static void fz_init(void)
{
        uint32_t i;

        for (i = 0; i < FZ_LEN; i++)
                fz_base[i] = (uint8_t)((i * 2654435761u) >> 24);
        memcpy(fz_target, fz_base, FZ_LEN);
        for (i = 0; i < FZ_LEN; i += 4099)
                fz_target[i] = 0x55;
        fz_exp.length = FZ_LEN;
        fz_exp.window_log_max = 20;
        if (imago_sha256(fz_target, FZ_LEN, fz_exp.sha256) != IMAGO_OK)
                __builtin_trap();
        fz_ready = 1;
}

struct fz_sink {
        size_t len;
};

static int fz_sink_fn(void *arg, const uint8_t *d, size_t n)
{
        struct fz_sink *s = arg;

        (void)d;
        if (n > FZ_LEN - s->len)
                __builtin_trap();
        s->len += n;
        return 0;
}

static void fz_run(const uint8_t *data, size_t size, size_t split)
{
        struct imago_delta_apply a;
        struct fz_sink s = {0};
        int r;

        if (imago_delta_apply_init(&a, fz_base, FZ_LEN, &fz_exp, fz_sink_fn, &s) != IMAGO_OK)
                __builtin_trap();
        r = imago_delta_apply_update(&a, data, split);
        if (r == IMAGO_OK)
                r = imago_delta_apply_update(&a, data + split, size - split);
        if (r == IMAGO_OK)
                r = imago_delta_apply_final(&a);
        if (r == IMAGO_OK && s.len != FZ_LEN)
                __builtin_trap();
        if (r != IMAGO_OK && r != IMAGO_EDELTA)
                __builtin_trap();
        if (imago_delta_apply_mem(&a) > (2U << 20))
                __builtin_trap(); /* window 2^20 + buffers */
        imago_delta_apply_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!fz_ready)
                fz_init();
        fz_run(data, size, size);
        fz_run(data, size, size / 2);
        return 0;
}
