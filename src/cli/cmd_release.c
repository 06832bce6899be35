/* `imago release`: dispatch to root, targets, sign, combine, verify (docs/release.md). */
#include "cmd_release.h"

#include "cli.h"

static const struct imago_cli_cmd cmds[] = {
    {"root", imago_cli_release_root, "create root metadata, or the next root (key rotation)"},
    {"targets", imago_cli_release_targets, "create targets metadata and add images to it"},
    {"sign", imago_cli_release_sign, "sign metadata with one key: a detached signature file"},
    {"combine", imago_cli_release_combine, "put checked signatures into the metadata"},
    {"verify", imago_cli_release_verify, "check signatures against thresholds, versions, expiry"},
};

static const struct imago_cli_cmd root_cmds[] = {
    {"init", imago_cli_release_root_init, "unsigned root metadata, version 1"},
    {"next", imago_cli_release_root_next, "the next root: add, remove (revoke) keys, thresholds"},
};

static const struct imago_cli_cmd targets_cmds[] = {
    {"new", imago_cli_release_targets_new, "empty targets metadata"},
    {"add", imago_cli_release_targets_add, "add an image (length, sha256, sha512, custom)"},
};

int imago_cli_release(int argc, char **argv)
{
        return imago_cli_dispatch("imago release", cmds, sizeof(cmds) / sizeof(cmds[0]), argc - 1,
                                  argv + 1);
}

int imago_cli_release_root(int argc, char **argv)
{
        return imago_cli_dispatch("imago release root", root_cmds,
                                  sizeof(root_cmds) / sizeof(root_cmds[0]), argc - 1, argv + 1);
}

int imago_cli_release_targets(int argc, char **argv)
{
        return imago_cli_dispatch("imago release targets", targets_cmds,
                                  sizeof(targets_cmds) / sizeof(targets_cmds[0]), argc - 1,
                                  argv + 1);
}
