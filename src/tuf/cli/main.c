/*
 * imago-tuf: option parsing and dispatch (see cli.h).
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "tuf/cli/cli.h"

struct cmd {
        const char *name;
        int takes_arg;
        int (*fn)(const struct imago_tuf_cli_opts *o);
};

static const struct cmd cmds[] = {
    {"init", 1, imago_tuf_cmd_init},
    {"refresh", 0, imago_tuf_cmd_refresh},
    {"download", 0, imago_tuf_cmd_download},
};

static void usage(void)
{
        fputs("usage: imago-tuf --metadata-dir DIR init TRUSTED_ROOT\n"
              "       imago-tuf --metadata-dir DIR --metadata-url URL refresh\n"
              "       imago-tuf --metadata-dir DIR --metadata-url URL --target-name NAME\n"
              "                 [--target-name NAME ...] --target-base-url URL --target-dir DIR "
              "download\n",
              stderr);
}

/* Set *slot once; a second time is a usage error. */
static int set_once(const char **slot, const char *v)
{
        if (*slot != NULL)
                return IMAGO_EUSAGE;
        *slot = v;
        return IMAGO_OK;
}

int main(int argc, char **argv)
{
        struct imago_tuf_cli_opts o;
        const struct cmd *cmd = NULL;
        int i, r = IMAGO_OK;
        size_t k;

        memset(&o, 0, sizeof(o));
        for (i = 1; i < argc && r == IMAGO_OK && cmd == NULL; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (strncmp(a, "--", 2) != 0) {
                        for (k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
                                if (strcmp(a, cmds[k].name) == 0)
                                        cmd = &cmds[k];
                        if (cmd == NULL)
                                r = IMAGO_EUSAGE;
                        continue;
                }
                if (v == NULL) {
                        r = IMAGO_EUSAGE;
                        break;
                }
                i++;
                if (strcmp(a, "--metadata-dir") == 0)
                        r = set_once(&o.metadata_dir, v);
                else if (strcmp(a, "--metadata-url") == 0)
                        r = set_once(&o.metadata_url, v);
                else if (strcmp(a, "--target-base-url") == 0)
                        r = set_once(&o.target_base_url, v);
                else if (strcmp(a, "--target-dir") == 0)
                        r = set_once(&o.target_dir, v);
                else if (strcmp(a, "--target-name") == 0 && o.n_names < IMAGO_TUF_CLI_NAMES_MAX)
                        o.names[o.n_names++] = v;
                else
                        r = IMAGO_EUSAGE;
        }
        if (r == IMAGO_OK && cmd == NULL)
                r = IMAGO_EUSAGE;
        if (r == IMAGO_OK && cmd->takes_arg) {
                if (i + 1 != argc)
                        r = IMAGO_EUSAGE;
                else
                        o.arg = argv[i];
        } else if (r == IMAGO_OK && i != argc) {
                r = IMAGO_EUSAGE;
        }
        if (r == IMAGO_OK && o.metadata_dir == NULL)
                r = IMAGO_EUSAGE;
        if (r != IMAGO_OK) {
                usage();
                return 1;
        }
        r = cmd->fn(&o);
        if (r != IMAGO_OK) {
                fprintf(stderr, "imago-tuf %s: %s (%s)\n", cmd->name, imago_strerror(r),
                        imago_errname(r));
                return 1;
        }
        return 0;
}
