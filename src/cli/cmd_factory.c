/* `imago factory`: dispatch to provision, check. */
#include "cli.h"

static const struct imago_cli_cmd cmds[] = {
    {"provision", imago_cli_factory_provision,
     "provision devices: key in each token, birth certificate, label, "
     "manifest"},
    {"check", imago_cli_factory_check, "verify a batch manifest and its signature"},
};

int imago_cli_factory(int argc, char **argv)
{
        return imago_cli_dispatch("imago factory", cmds, sizeof(cmds) / sizeof(cmds[0]), argc - 1,
                                  argv + 1);
}
