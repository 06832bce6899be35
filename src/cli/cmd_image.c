/* `imago image`: dispatch to sign, verify, inspect. */
#include "cli.h"

static const struct imago_cli_cmd cmds[] = {
    {"sign", imago_cli_image_sign, "sign a binary into an MCUboot image (like imgtool sign)"},
    {"verify", imago_cli_image_verify, "verify an image's hash and signature"},
    {"inspect", imago_cli_image_inspect, "show an image's header, TLVs and trailer"},
};

int imago_cli_image(int argc, char **argv)
{
        return imago_cli_dispatch("imago image", cmds, sizeof(cmds) / sizeof(cmds[0]), argc - 1,
                                  argv + 1);
}
