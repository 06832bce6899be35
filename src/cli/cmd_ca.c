/* `imago ca`: dispatch to init. */
#include "cli.h"

static const struct imago_cli_cmd cmds[] = {
    {"init", imago_cli_ca_init, "create the root, factory, issuing and server CAs"},
    {"issue", imago_cli_ca_issue, "issue one certificate (birth, device, server, service)"},
};

int imago_cli_ca(int argc, char **argv)
{
        return imago_cli_dispatch("imago ca", cmds, sizeof(cmds) / sizeof(cmds[0]), argc - 1,
                                  argv + 1);
}
