/* imago-cloud: the fleet service and its administrative commands.  Dispatch table and shared
 * helpers. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/main/cloud_main.h"
#include "cloud/main/cmd_director.h"

#include "base/err.h"
#include "base/file.h"
#include "base/wipe.h"
#include "cloud/datadir.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSPHRASE_MAX 1024U

static int cmd_version(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        printf("imago-cloud %s\n", IMAGO_VERSION);
        return IMAGO_CLOUD_EXIT_OK;
}

static const struct imago_cloud_cmd cmds[] = {
    {"init", imago_cloud_cmd_init, "create a data directory from a CA directory"},
    {"import-batch", imago_cloud_cmd_import, "import a signed factory batch manifest"},
    {"devices", imago_cloud_cmd_devices, "list, show, suspend, resume, revoke devices"},
    {"up", imago_cloud_cmd_up, "run the broker and the fleet service"},
    {"users", imago_cloud_cmd_users, "add and list accounts of the app API"},
    {"grants", imago_cloud_cmd_grants, "add, list, delete operator roles over device groups"},
    {"audit", imago_cloud_cmd_audit, "verify and show the audit log"},
    {"repo", imago_cloud_cmd_repo, "publish releases in the image repository (TUF)"},
    {"director", imago_cloud_cmd_director, "the Uptane director: keys, root, status, assign"},
    {"version", cmd_version, "print the version"},
};

int main(int argc, char **argv)
{
        if (argc >= 2 && strcmp(argv[1], "--version") == 0)
                return cmd_version(0, NULL);
        return imago_cloud_dispatch("", cmds, sizeof(cmds) / sizeof(cmds[0]), argc - 1, argv + 1);
}

int imago_cloud_dispatch(const char *cmd, const struct imago_cloud_cmd *c, size_t n, int argc,
                         char **argv)
{
        const char *sp = cmd[0] != '\0' ? " " : "";
        size_t i;

        if (argc < 1 || imago_cloud_is_help(argv[0])) {
                FILE *f = argc < 1 ? stderr : stdout;

                fprintf(f, "usage: imago-cloud%s%s <command> [options]\n\ncommands:\n", sp, cmd);
                for (i = 0; i < n; i++)
                        fprintf(f, "  %-13s %s\n", c[i].name, c[i].help);
                fprintf(f,
                        "\nRun 'imago-cloud%s%s <command> --help' for the options of a command.\n",
                        sp, cmd);
                return argc < 1 ? IMAGO_CLOUD_EXIT_USAGE : IMAGO_CLOUD_EXIT_OK;
        }
        for (i = 0; i < n; i++)
                if (strcmp(argv[0], c[i].name) == 0)
                        return c[i].run(argc, argv);
        fprintf(stderr, "imago-cloud: %s%sunknown command '%s' (see 'imago-cloud%s%s --help')\n",
                cmd, cmd[0] != '\0' ? ": " : "", argv[0], sp, cmd);
        return IMAGO_CLOUD_EXIT_USAGE;
}

int imago_cloud_usage(const char *cmd, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "imago-cloud: %s: ", cmd);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (see 'imago-cloud %s --help')\n", cmd);
        return IMAGO_CLOUD_EXIT_USAGE;
}

int imago_cloud_fail(const char *cmd, const char *what, int r)
{
        if (what != NULL)
                fprintf(stderr, "imago-cloud: %s: %s: %s (%s)\n", cmd, what, imago_strerror(r),
                        imago_errname(r));
        else
                fprintf(stderr, "imago-cloud: %s: %s (%s)\n", cmd, imago_strerror(r),
                        imago_errname(r));
        return IMAGO_CLOUD_EXIT_FAIL;
}

int imago_cloud_opt(int argc, char **argv, int *i, const char *cmd, const char *name,
                    const char **val)
{
        if (strcmp(argv[*i], name) != 0)
                return 0;
        if (*i + 1 >= argc) {
                imago_cloud_usage(cmd, "option %s needs a value", name);
                return -1;
        }
        *i += 1;
        *val = argv[*i];
        return 1;
}

int imago_cloud_is_help(const char *arg)
{
        return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int imago_cloud_passphrase(const char *file, char **out)
{
        uint8_t *data = NULL;
        const char *env;
        size_t len = 0, n;
        int r = IMAGO_OK;

        *out = NULL;
        if (file == NULL) {
                env = getenv("IMAGO_KEY_PASSPHRASE");
                if (env != NULL && env[0] != '\0' && (*out = strdup(env)) == NULL)
                        r = IMAGO_ENOMEM;
                return r;
        }
        if ((r = imago_file_read(file, PASSPHRASE_MAX, &data, &len)) != IMAGO_OK)
                return r;
        for (n = 0; n < len && data[n] != '\n' && data[n] != '\r' && data[n] != '\0'; n++)
                ;
        if (n == 0)
                r = IMAGO_EKEY_PASSPHRASE;
        else if ((*out = malloc(n + 1)) == NULL)
                r = IMAGO_ENOMEM;
        else {
                memcpy(*out, data, n);
                (*out)[n] = '\0';
        }
        imago_file_free(data, len);
        return r;
}

void imago_cloud_passphrase_free(char *p)
{
        if (p == NULL)
                return;
        imago_wipe(p, strlen(p));
        free(p);
}

int imago_cloud_open(const char *cmd, const char *data_dir, struct imago_cloud_config *c,
                     struct imago_registry **reg)
{
        char path[PATH_MAX], what[PATH_MAX + 16];
        unsigned line = 0;
        int r;

        *reg = NULL;
        if ((r = imago_cloud_datadir_path(path, sizeof(path), data_dir, IMAGO_CLOUD_F_CONF)) != 0)
                return imago_cloud_fail(cmd, data_dir, r);
        if ((r = imago_cloud_datadir_config(data_dir, c, &line)) != 0) {
                if (line != 0)
                        snprintf(what, sizeof(what), "%s:%u", path, line);
                else
                        snprintf(what, sizeof(what), "%s", path);
                return imago_cloud_fail(cmd, what, r);
        }
        if ((r = imago_registry_open_existing(c->registry, reg)) != 0)
                return imago_cloud_fail(cmd, "registry", r);
        return IMAGO_CLOUD_EXIT_OK;
}
