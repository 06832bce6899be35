/* imago-sim: `factory` and `run` subcommands (docs/sim.md). */
#include "sim.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: imago-sim factory --ca CA_DIR --passphrase-file F --count N --out DIR [--batch NAME]\n"
    "       imago-sim run --devices DIR --host H --port P --ca PINNED_CA --server-name N\n"
    "                     --root ROOT_CA [--connect-rate R] [--publish-rate R]\n"
    "                     [--duration S] [--enrol] [--rotate] [--count N] [--verbose]\n"
    "See docs/sim.md.\n";

int main(int argc, char **argv)
{
        if (argc >= 2 && strcmp(argv[1], "factory") == 0)
                return sim_factory(argc - 1, argv + 1);
        if (argc >= 2 && strcmp(argv[1], "run") == 0)
                return sim_run(argc - 1, argv + 1);
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                fputs(usage, stdout);
                return 0;
        }
        fputs(usage, stderr);
        return 2;
}
