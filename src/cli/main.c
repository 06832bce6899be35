/* imago: the offline and operator CLI.  Top-level dispatch table. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static int cmd_version(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        printf("imago %s\n", IMAGO_VERSION);
        return IMAGO_CLI_OK;
}

static const struct imago_cli_cmd cmds[] = {
    {"keys", imago_cli_keys, "generate signing keys, export public keys"},
    {"image", imago_cli_image, "sign, verify and inspect MCUboot images"},
    {"ca", imago_cli_ca, "create the fleet's certificate authorities"},
    {"factory", imago_cli_factory, "provision devices at the factory; check batch manifests"},
    {"release", imago_cli_release, "sign the update repository's root and targets offline (TUF)"},
    {"delta", imago_cli_delta, "make and apply zstd --patch-from deltas between images"},
    {"app", imago_cli_app, "play the mobile app: account, devices, state, commands, setup"},
    {"version", cmd_version, "print the version"},
};

int main(int argc, char **argv)
{
        if (argc >= 2 && strcmp(argv[1], "--version") == 0)
                return cmd_version(0, NULL);
        return imago_cli_dispatch("imago", cmds, sizeof(cmds) / sizeof(cmds[0]), argc - 1,
                                  argv + 1);
}
