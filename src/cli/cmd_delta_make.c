/* `imago delta make --base OLD --target NEW --out DELTA [--level N]` */
#include "cli.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/num.h"
#include "delta/delta.h"

#include <stdio.h>
#include <unistd.h>

#define CMD "delta make"

static const char usage[] =
    "usage: imago delta make --base OLD --target NEW --out DELTA [--level N]\n"
    "\n"
    "Writes DELTA, one zstd frame of NEW compressed with OLD as a referenced\n"
    "prefix (the format of 'zstd --patch-from=OLD NEW', which 'zstd -d\n"
    "--patch-from=OLD' also applies), at zstd level N (1..22, default 19).\n"
    "Prints the sizes, the window log and NEW's length and SHA-256: they go\n"
    "into the TUF target's custom field (docs/delta.md), not into DELTA.\n";

int imago_cli_delta_make(int argc, char **argv)
{
        const char *base = NULL, *target = NULL, *out = NULL, *level = NULL;
        struct imago_delta_info info;
        char hex[2 * IMAGO_SHA256_LEN + 1];
        uint32_t lv = 0;
        int i, m, r;

        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLI_OK;
                }
                if ((m = imago_cli_opt(argc, argv, &i, CMD, "--base", &base)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--target", &target)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--out", &out)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--level", &level))) {
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        continue;
                }
                return imago_cli_usage("imago " CMD, "unexpected argument '%s'", argv[i]);
        }
        if (!base || !target || !out)
                return imago_cli_usage("imago " CMD, "--base, --target and --out are required");
        if (level && (imago_parse_u32(level, IMAGO_DELTA_LEVEL_MAX, &lv) != IMAGO_OK || lv == 0))
                return imago_cli_usage("imago " CMD, "--level must be 1..%d",
                                       IMAGO_DELTA_LEVEL_MAX);
        r = imago_delta_make_file(base, target, out, (int)lv, &info);
        if (r == IMAGO_ENOTFOUND)
                return imago_cli_fail(CMD, access(base, F_OK) != 0 ? base : target, r);
        if (r != IMAGO_OK)
                return imago_cli_fail(CMD, out, r);
        imago_hex_encode(info.target_sha256, sizeof(info.target_sha256), hex);
        printf("base: %llu bytes\n", (unsigned long long)info.base_len);
        printf("target: %llu bytes\n", (unsigned long long)info.target_len);
        printf("delta: %llu bytes (%.2f%% of target)\n", (unsigned long long)info.delta_len,
               info.target_len ? 100.0 * (double)info.delta_len / (double)info.target_len : 0.0);
        printf("window log: %u\n", info.window_log);
        printf("target length: %llu\n", (unsigned long long)info.target_len);
        printf("target sha256: %s\n", hex);
        return IMAGO_CLI_OK;
}
