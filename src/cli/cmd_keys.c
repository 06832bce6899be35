/* `imago keys`: dispatch to gen, pub. */
#include "cli.h"

static const struct imago_cli_cmd cmds[] = {
    {"gen", imago_cli_keys_gen, "generate a signing key (KEY, 0600) and KEY.pub"},
    {"pub", imago_cli_keys_pub, "write the public key of a key file"},
};

int imago_cli_keys(int argc, char **argv)
{
        return imago_cli_dispatch("imago keys", cmds, sizeof(cmds) / sizeof(cmds[0]), argc - 1,
                                  argv + 1);
}
