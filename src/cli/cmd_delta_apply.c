/* `imago delta apply --base OLD --delta DELTA --out NEW --sha256 HEX --length N` */
#include "cli.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/num.h"
#include "delta/delta.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CMD "delta apply"

static const char usage[] =
    "usage: imago delta apply --base OLD --delta DELTA --out NEW --sha256 HEX --length N\n"
    "                         [--window-log-max W]\n"
    "\n"
    "Applies DELTA (one zstd frame made with OLD as prefix, by 'imago delta\n"
    "make' or 'zstd --patch-from=OLD') to OLD.  NEW appears only when the\n"
    "result is exactly N bytes with SHA-256 HEX; otherwise exit 1\n"
    "(IMAGO_EDELTA and the cause) and NEW is left as it was.  Frames whose\n"
    "window is larger than 2^W (default 27, 128 MiB) are refused before\n"
    "decoding.\n";

int imago_cli_delta_apply(int argc, char **argv)
{
        const char *base = NULL, *delta = NULL, *out = NULL, *sha = NULL, *len = NULL;
        const char *wl = NULL;
        struct imago_delta_expect e;
        enum imago_delta_why why = IMAGO_DELTA_NONE;
        uint32_t w = IMAGO_DELTA_WLOG_DEFAULT;
        int i, m, r;

        memset(&e, 0, sizeof(e));
        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLI_OK;
                }
                if ((m = imago_cli_opt(argc, argv, &i, CMD, "--base", &base)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--delta", &delta)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--out", &out)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--sha256", &sha)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--length", &len)) ||
                    (m = imago_cli_opt(argc, argv, &i, CMD, "--window-log-max", &wl))) {
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        continue;
                }
                return imago_cli_usage("imago " CMD, "unexpected argument '%s'", argv[i]);
        }
        if (!base || !delta || !out || !sha || !len)
                return imago_cli_usage(
                    "imago " CMD, "--base, --delta, --out, --sha256 and --length are required");
        if (!imago_hex_is_lower(sha, 2 * IMAGO_SHA256_LEN, 2 * IMAGO_SHA256_LEN) ||
            imago_hex_decode(sha, e.sha256, sizeof(e.sha256)) != IMAGO_OK)
                return imago_cli_usage("imago " CMD, "--sha256 must be 64 lowercase hex digits");
        if (imago_parse_u64(len, IMAGO_DELTA_IMAGE_MAX, &e.length) != IMAGO_OK)
                return imago_cli_usage("imago " CMD, "--length must be 0..%llu",
                                       (unsigned long long)IMAGO_DELTA_IMAGE_MAX);
        if (wl &&
            (imago_parse_u32(wl, IMAGO_DELTA_WLOG_MAX, &w) != IMAGO_OK || w < IMAGO_DELTA_WLOG_MIN))
                return imago_cli_usage("imago " CMD, "--window-log-max must be %d..%d",
                                       IMAGO_DELTA_WLOG_MIN, IMAGO_DELTA_WLOG_MAX);
        e.window_log_max = w;
        r = imago_delta_apply_file(base, delta, out, &e, &why);
        if (r != IMAGO_OK) {
                /* Name the file that is missing (the library's code does not say which). */
                imago_cli_fail(CMD, r == IMAGO_ENOTFOUND && access(base, F_OK) != 0 ? base : delta,
                               r);
                if (why != IMAGO_DELTA_NONE)
                        fprintf(stderr, "imago: " CMD ": %s\n", imago_delta_why_str(why));
                return IMAGO_CLI_FAIL;
        }
        printf("%s: %llu bytes, sha256 %s verified\n", out, (unsigned long long)e.length, sha);
        return IMAGO_CLI_OK;
}
