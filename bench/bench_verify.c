/*
 * Verify throughput: imago_image_verify() over an image in memory, repeated,
 * printing MB/s.  bench/run.sh runs it beside `openssl speed -evp sha256`.
 * Usage: bench_verify PUBKEY IMAGE [ROUNDS]
 */
#define _POSIX_C_SOURCE 200809L
#include "base/err.h"
#include "base/file.h"
#include "base/num.h"
#include "crypto/keys.h"
#include "image/image.h"

#include <stdio.h>
#include <time.h>

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
        struct imago_pubkey pub;
        struct imago_image_keyring kr = {&pub, 1};
        struct imago_image_mem mem;
        struct imago_image_src src;
        struct imago_image_info info;
        uint8_t *img = NULL;
        size_t len = 0;
        uint32_t rounds = 20;
        double t0, t;
        int r;

        if (argc < 3 || argc > 4) {
                fprintf(stderr, "usage: bench_verify PUBKEY IMAGE [ROUNDS]\n");
                return 2;
        }
        if (argc == 4 && imago_parse_u32(argv[3], 100000, &rounds) != IMAGO_OK) {
                fprintf(stderr, "bench_verify: bad ROUNDS\n");
                return 2;
        }
        r = imago_pubkey_load(argv[1], &pub);
        if (r == IMAGO_OK)
                r = imago_file_read(argv[2], (size_t)1 << 30, &img, &len);
        if (r != IMAGO_OK) {
                fprintf(stderr, "bench_verify: %s\n", imago_strerror(r));
                return 1;
        }
        imago_image_src_mem(&src, &mem, img, len);
        r = imago_image_verify(&src, &kr, &info); /* warm-up and correctness */
        if (r != IMAGO_OK) {
                fprintf(stderr, "bench_verify: %s\n", imago_strerror(r));
                imago_file_free(img, len);
                return 1;
        }
        t0 = now_s();
        for (uint32_t i = 0; i < rounds; i++)
                r |= imago_image_verify(&src, &kr, &info);
        t = now_s() - t0;
        printf("bytes=%zu rounds=%u seconds=%.4f mb_per_s=%.1f\n", len, rounds, t,
               (double)len * rounds / t / 1e6);
        imago_file_free(img, len);
        return r == IMAGO_OK ? 0 : 1;
}
