/* Shared CLI helpers; see cli.h. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include "base/err.h"
#include "base/file.h"
#include "base/wipe.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSPHRASE_MAX 1024U

int imago_cli_dispatch(const char *prefix, const struct imago_cli_cmd *cmds, size_t n, int argc,
                       char **argv)
{
        size_t i;

        if (argc < 1 || imago_cli_is_help(argv[0])) {
                FILE *f = argc < 1 ? stderr : stdout;

                fprintf(f, "usage: %s <command> [options]\n\ncommands:\n", prefix);
                for (i = 0; i < n; i++)
                        fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].help);
                fprintf(f, "\nRun '%s <command> --help' for the options of a command.\n", prefix);
                return argc < 1 ? IMAGO_CLI_USAGE : IMAGO_CLI_OK;
        }
        for (i = 0; i < n; i++)
                if (strcmp(argv[0], cmds[i].name) == 0)
                        return cmds[i].run(argc, argv);
        return imago_cli_usage(prefix, "unknown command '%s'", argv[0]);
}

int imago_cli_usage(const char *cmd, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "imago: %s: ", cmd);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (see '%s --help')\n", cmd);
        return IMAGO_CLI_USAGE;
}

int imago_cli_fail(const char *cmd, const char *file, int r)
{
        if (file != NULL)
                fprintf(stderr, "imago: %s: %s: %s (%s)\n", cmd, file, imago_strerror(r),
                        imago_errname(r));
        else
                fprintf(stderr, "imago: %s: %s (%s)\n", cmd, imago_strerror(r), imago_errname(r));
        return IMAGO_CLI_FAIL;
}

int imago_cli_opt(int argc, char **argv, int *i, const char *cmd, const char *name,
                  const char **val)
{
        if (strcmp(argv[*i], name) != 0)
                return 0;
        if (*i + 1 >= argc) {
                imago_cli_usage(cmd, "option %s needs a value", name);
                return -1;
        }
        *i += 1;
        *val = argv[*i];
        return 1;
}

int imago_cli_is_help(const char *arg)
{
        return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int imago_cli_passphrase(const char *file, char **out)
{
        uint8_t *data = NULL;
        const char *env;
        size_t len = 0, n;
        char *p;
        int r;

        *out = NULL;
        if (file == NULL) {
                env = getenv("IMAGO_KEY_PASSPHRASE");
                if (env == NULL || env[0] == '\0')
                        return IMAGO_OK;
                if ((p = strdup(env)) == NULL)
                        return IMAGO_ENOMEM;
                *out = p;
                return IMAGO_OK;
        }
        if ((r = imago_file_read(file, PASSPHRASE_MAX, &data, &len)) != IMAGO_OK)
                return r;
        for (n = 0; n < len && data[n] != '\n' && data[n] != '\r'; n++)
                if (data[n] == '\0')
                        break;
        if (n == 0) {
                imago_file_free(data, len);
                return IMAGO_EKEY_PASSPHRASE;
        }
        if ((p = malloc(n + 1)) == NULL) {
                imago_file_free(data, len);
                return IMAGO_ENOMEM;
        }
        memcpy(p, data, n);
        p[n] = '\0';
        imago_file_free(data, len);
        *out = p;
        return IMAGO_OK;
}

void imago_cli_passphrase_free(char *p)
{
        if (p == NULL)
                return;
        imago_wipe(p, strlen(p));
        free(p);
}
