/*
 * imago command-line interface: one file per subcommand, dispatched from
 * tables (main.c for the top level, cmd_keys.c and cmd_image.c below it).
 *
 * Every command takes (argc, argv) with argv[0] its own name and returns
 * the process exit status: 0 success, 1 failure (one line on stderr:
 * "imago: <command>: <file>: <description> (<IMAGO_E name>)"), 2 usage
 * error.  Secrets read here (passphrases) are wiped before they are freed.
 */
#ifndef IMAGO_CLI_CLI_H
#define IMAGO_CLI_CLI_H

#include <stddef.h>

#define IMAGO_CLI_OK    0
#define IMAGO_CLI_FAIL  1
#define IMAGO_CLI_USAGE 2

struct imago_cli_cmd {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *help;
};

/* Run the table entry named argv[0]; prints the table on --help. */
int imago_cli_dispatch(const char *prefix, const struct imago_cli_cmd *cmds, size_t n, int argc,
                       char **argv);

int imago_cli_keys(int argc, char **argv);
int imago_cli_keys_gen(int argc, char **argv);
int imago_cli_keys_pub(int argc, char **argv);
int imago_cli_image(int argc, char **argv);
int imago_cli_image_sign(int argc, char **argv);
int imago_cli_image_verify(int argc, char **argv);
int imago_cli_image_inspect(int argc, char **argv);
int imago_cli_ca(int argc, char **argv);
int imago_cli_ca_init(int argc, char **argv);
int imago_cli_ca_issue(int argc, char **argv);
int imago_cli_factory(int argc, char **argv);
int imago_cli_factory_provision(int argc, char **argv);
int imago_cli_factory_check(int argc, char **argv);
int imago_cli_app(int argc, char **argv); /* cmd_app*.c, cmd_app.h */
int imago_cli_delta(int argc, char **argv);
int imago_cli_delta_make(int argc, char **argv);
int imago_cli_delta_apply(int argc, char **argv);
int imago_cli_release(int argc, char **argv); /* cmd_release*.c, cmd_release.h */

/* "imago: <cmd>: <msg>" and a pointer to --help; returns IMAGO_CLI_USAGE. */
int imago_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "imago: <cmd>: <file>: <strerror> (<errname>)"; returns IMAGO_CLI_FAIL. */
int imago_cli_fail(const char *cmd, const char *file, int r);

/*
 * Option value: when argv[*i] is exactly name, the next argument is the
 * value (*i advances).  Returns 1 when matched, 0 when not, -1 (after a
 * usage message) when the value is missing.
 */
int imago_cli_opt(int argc, char **argv, int *i, const char *cmd, const char *name,
                  const char **val);

/* True for "-h" and "--help". */
int imago_cli_is_help(const char *arg);

/*
 * Passphrase from file (first line, without its newline) or else the
 * environment variable IMAGO_KEY_PASSPHRASE; *out is NULL when neither is
 * given.  Free with imago_cli_passphrase_free(), which wipes it.
 */
int imago_cli_passphrase(const char *file, char **out);
void imago_cli_passphrase_free(char *p);

#endif
