/*
 * imago-tuf: the standalone TUF client (the tuf-conformance client protocol).
 *
 *   imago-tuf --metadata-dir DIR init TRUSTED_ROOT
 *   imago-tuf --metadata-dir DIR --metadata-url URL refresh
 *   imago-tuf --metadata-dir DIR --metadata-url URL --target-name NAME [--target-name NAME ...]
 *             --target-base-url URL --target-dir DIR download
 *
 * Options may come in any order before the command; exit 0 on success, 1 on any failure (usage
 * included).  Each command is one function taking the parsed options (main.c dispatches from a
 * table); docs/tuf.md ("Client") describes what they do.
 */
#ifndef IMAGO_TUF_CLI_CLI_H
#define IMAGO_TUF_CLI_CLI_H

#include <stddef.h>

#define IMAGO_TUF_CLI_NAMES_MAX 256

struct imago_tuf_cli_opts {
        const char *metadata_dir;
        const char *metadata_url;
        const char *target_base_url;
        const char *target_dir;
        const char *names[IMAGO_TUF_CLI_NAMES_MAX];
        size_t n_names;
        const char *arg; /* init: TRUSTED_ROOT */
};

int imago_tuf_cmd_init(const struct imago_tuf_cli_opts *o);
int imago_tuf_cmd_refresh(const struct imago_tuf_cli_opts *o);
int imago_tuf_cmd_download(const struct imago_tuf_cli_opts *o);

#endif
