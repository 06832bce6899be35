/*
 * imago-cloud command line: one file per command, dispatched from the table
 * in main.c (init, import-batch, devices, up, users, grants, audit).
 *
 * Every command takes (argc, argv) with argv[0] its own name and returns
 * the exit status: 0 success, 1 failure (one line on stderr:
 * "imago-cloud: <command>: <what>: <description> (<IMAGO_E name>)"),
 * 2 usage error.  Passphrases read here are wiped before they are freed.
 */
#ifndef IMAGO_CLOUD_MAIN_CLOUD_MAIN_H
#define IMAGO_CLOUD_MAIN_CLOUD_MAIN_H

#include "cloud/config.h"
#include "cloud/registry/registry.h"

#include <stddef.h>
#include <stdint.h>

#define IMAGO_CLOUD_EXIT_OK    0
#define IMAGO_CLOUD_EXIT_FAIL  1
#define IMAGO_CLOUD_EXIT_USAGE 2

struct imago_cloud_cmd {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *help;
};

int imago_cloud_cmd_init(int argc, char **argv);
int imago_cloud_cmd_import(int argc, char **argv);
int imago_cloud_cmd_devices(int argc, char **argv);
/* `imago-cloud up`: the service (src/cloud/main/cmd_up.c). */
int imago_cloud_cmd_up(int argc, char **argv);
/* Accounts, operator grants and the audit log (cmd_users.c, cmd_grants.c, cmd_audit.c). */
int imago_cloud_cmd_users(int argc, char **argv);
int imago_cloud_cmd_grants(int argc, char **argv);
int imago_cloud_cmd_audit(int argc, char **argv);
/* The image repository: keys, publish, status, refresh (cmd_repo*.c, docs/repo.md). */
int imago_cloud_cmd_repo(int argc, char **argv);

/* Run the table entry named argv[0] (cmd: "" at the top, "devices" below); table on --help. */
int imago_cloud_dispatch(const char *cmd, const struct imago_cloud_cmd *cmds, size_t n, int argc,
                         char **argv);

/* "imago-cloud: <cmd>: <msg> (see 'imago-cloud <cmd> --help')"; returns IMAGO_CLOUD_EXIT_USAGE. */
int imago_cloud_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "imago-cloud: <cmd>: <what>: <strerror> (<errname>)" (what may be NULL); returns EXIT_FAIL. */
int imago_cloud_fail(const char *cmd, const char *what, int r);

/*
 * Option value: when argv[*i] is exactly name, the next argument is the
 * value (*i advances).  1 when matched, 0 when not, -1 (after a usage
 * message) when the value is missing.
 */
int imago_cloud_opt(int argc, char **argv, int *i, const char *cmd, const char *name,
                    const char **val);

int imago_cloud_is_help(const char *arg);

/*
 * Cloud passphrase from file (first line, without its newline) or else the
 * environment variable IMAGO_KEY_PASSPHRASE (as `imago` and `up`); *out is NULL when neither is
 * given.  Free with imago_cloud_passphrase_free() (wipes it).
 */
int imago_cloud_passphrase(const char *file, char **out);
void imago_cloud_passphrase_free(char *p);

/*
 * Load DIR's config and open its registry; on failure prints the error
 * line (a config error names "<file>:<line>") and returns EXIT_FAIL.
 */
int imago_cloud_open(const char *cmd, const char *data_dir, struct imago_cloud_config *c,
                     struct imago_registry **reg);

/* Data directory files of the app API (the same names as cloud/datadir.h). */
#ifndef IMAGO_CLOUD_F_APPDB
#define IMAGO_CLOUD_F_APPDB "app.db"
#endif
#ifndef IMAGO_CLOUD_F_AUDIT
#define IMAGO_CLOUD_F_AUDIT "audit.db"
#endif

struct imago_appdb;
struct imago_audit;
struct json_t;

/*
 * Open DIR/app.db or DIR/audit.db (created if absent; DIR must hold the
 * config of imago-cloud init); on failure print the error line and return
 * EXIT_FAIL.  Close with imago_appdb_close / imago_audit_close.
 */
int imago_cloud_open_appdb(const char *cmd, const char *data_dir, struct imago_appdb **db);
int imago_cloud_open_audit(const char *cmd, const char *data_dir, struct imago_audit **a);
/* Append an audit record with actor "cli", now, and detail (consumed; compact, sorted keys). */
int imago_cloud_audit_cli(struct imago_audit *a, const char *action, const char *object,
                          struct json_t *detail);
/* RFC 3339 UTC text of t in out ("-" if it cannot be formatted). */
const char *imago_cloud_utc(int64_t t, char out[32]);
/* Print j indented on stdout (IMAGO_ENOMEM if it cannot be dumped; j NULL too). */
int imago_cloud_print_json(struct json_t *j);

#endif
