/* `imago delta`: dispatch to make, apply. */
#include "cli.h"

static const struct imago_cli_cmd cmds[] = {
    {"make", imago_cli_delta_make, "make a zstd --patch-from delta from an old to a new image"},
    {"apply", imago_cli_delta_apply,
     "apply a delta, checking the length and SHA-256 of the result"},
};

int imago_cli_delta(int argc, char **argv)
{
        return imago_cli_dispatch("imago delta", cmds, sizeof(cmds) / sizeof(cmds[0]), argc - 1,
                                  argv + 1);
}
