/*
 * `imago-cloud users add|list --data DIR ...`: accounts of the app API in DIR/app.db.
 * The password comes from a file or stdin, never from argv (other users see argv in
 * ps); it is checked by the password policy, hashed with argon2id and wiped.  Also the
 * helpers that open DIR/app.db and DIR/audit.db for the users, grants and audit commands.
 */
#define _POSIX_C_SOURCE 200809L
#include "cloud/main/cloud_main.h"

#include "base/err.h"
#include "base/file.h"
#include "base/wipe.h"
#include "cloud/appdb/appdb.h"
#include "cloud/audit/audit.h"
#include "cloud/auth/auth.h"
#include "cloud/datadir.h"
#include "regtoken/regtoken.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

/* Room for the longest password, a CR LF, and one byte to notice a longer one. */
#define PW_BUF (IMAGO_AUTH_PASSWORD_MAX + 3)

static const char usage[] =
    "usage: imago-cloud users add --data DIR --user NAME [--password-file F]\n"
    "       imago-cloud users list --data DIR [--json]\n"
    "\n"
    "add: creates an account of the app API.  The password is the first line of F,\n"
    "or else read from stdin (one line; the terminal does not echo it); never give it\n"
    "on the command line.  It needs 12..256 bytes, not one repeated character, not the\n"
    "user name, not a well-known password.  NAME: 1..64 of A-Z a-z 0-9 _ . @ -.\n"
    "The account gets no operator role: see 'imago-cloud grants add'.  Recorded in the\n"
    "audit log (user.create, actor cli).\n";

/* DIR must be a data directory (imago-cloud init wrote its config); then DIR/rel. */
static int data_file(const char *cmd, const char *data_dir, const char *rel, char *path, size_t cap)
{
        char conf[PATH_MAX];
        int r;

        if ((r = imago_cloud_datadir_path(conf, sizeof(conf), data_dir, IMAGO_CLOUD_F_CONF)) != 0 ||
            (r = imago_cloud_datadir_path(path, cap, data_dir, rel)) != 0)
                return imago_cloud_fail(cmd, data_dir, r);
        if (access(conf, F_OK) != 0)
                return imago_cloud_fail(cmd, conf, IMAGO_ENOTFOUND);
        return IMAGO_CLOUD_EXIT_OK;
}

int imago_cloud_open_appdb(const char *cmd, const char *data_dir, struct imago_appdb **db)
{
        char path[PATH_MAX];
        int r, rc;

        *db = NULL;
        if ((rc = data_file(cmd, data_dir, IMAGO_CLOUD_F_APPDB, path, sizeof(path))) != 0)
                return rc;
        if ((r = imago_appdb_open(path, db)) != 0)
                return imago_cloud_fail(cmd, path, r);
        return IMAGO_CLOUD_EXIT_OK;
}

int imago_cloud_open_audit(const char *cmd, const char *data_dir, struct imago_audit **a)
{
        char path[PATH_MAX];
        int r, rc;

        *a = NULL;
        if ((rc = data_file(cmd, data_dir, IMAGO_CLOUD_F_AUDIT, path, sizeof(path))) != 0)
                return rc;
        if ((r = imago_audit_open(path, a)) != 0)
                return imago_cloud_fail(cmd, path, r);
        return IMAGO_CLOUD_EXIT_OK;
}

int imago_cloud_audit_cli(struct imago_audit *a, const char *action, const char *object,
                          json_t *detail)
{
        char *d = NULL;
        int r;

        if (detail == NULL)
                return IMAGO_ENOMEM;
        d = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
        json_decref(detail);
        if (d == NULL)
                return IMAGO_ENOMEM;
        r = imago_audit_append(a, (int64_t)time(NULL), "cli", action, object, d, NULL, NULL);
        free(d);
        return r;
}

/* One line of len < PW_BUF - 1 bytes (CR LF or LF stripped) from buf[n]; IMAGO_EAUTH_POLICY
 * when it is longer than a password may be or holds a NUL. */
static int one_line(char *buf, size_t n, size_t *len)
{
        size_t i;

        for (i = 0; i < n && buf[i] != '\n'; i++)
                if (buf[i] == '\0')
                        return IMAGO_EAUTH_POLICY;
        if (i > 0 && buf[i - 1] == '\r')
                i--;
        if (i > IMAGO_AUTH_PASSWORD_MAX)
                return IMAGO_EAUTH_POLICY;
        buf[i] = '\0';
        *len = i;
        return 0;
}

static int read_stdin(char *buf, size_t *len)
{
        struct termios old, quiet;
        int tty = isatty(STDIN_FILENO), echo_off = 0;
        size_t n = 0;
        unsigned char ch;

        if (tty) {
                fputs("password: ", stderr);
                fflush(stderr);
                if (tcgetattr(STDIN_FILENO, &old) == 0) {
                        quiet = old;
                        quiet.c_lflag &= ~(tcflag_t)ECHO;
                        echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
                }
        }
        /* unbuffered byte reads: no copy of the password left in a stdio buffer */
        while (n < PW_BUF - 1) {
                if (read(STDIN_FILENO, &ch, 1) != 1)
                        break;
                buf[n++] = (char)ch;
                if (ch == '\n')
                        break;
        }
        ch = 0;
        if (echo_off) {
                (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
                fputc('\n', stderr);
        }
        return one_line(buf, n, len);
}

static int read_file(const char *file, char *buf, size_t *len)
{
        uint8_t *data = NULL;
        size_t got = 0, n;
        int r;

        /* a password file is small: anything beyond a line and a bit is not one */
        if ((r = imago_file_read(file, 4096, &data, &got)) != 0)
                return r;
        n = got < PW_BUF - 1 ? got : PW_BUF - 1;
        memcpy(buf, data, n);
        imago_file_free(data, got);
        return one_line(buf, n, len);
}

struct args {
        const char *cmd;
        const char *data_dir;
        const char *user;
        const char *pw_file;
        int json;
};

static int parse(int argc, char **argv, const char *cmd, int add, struct args *a)
{
        int i, m;

        memset(a, 0, sizeof(*a));
        a->cmd = cmd;
        for (i = 1; i < argc; i++) {
                if (imago_cloud_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return IMAGO_CLOUD_EXIT_OK + 100;
                }
                if ((m = imago_cloud_opt(argc, argv, &i, cmd, "--data", &a->data_dir)) ||
                    (add && (m = imago_cloud_opt(argc, argv, &i, cmd, "--user", &a->user))) ||
                    (add &&
                     (m = imago_cloud_opt(argc, argv, &i, cmd, "--password-file", &a->pw_file)))) {
                        if (m < 0)
                                return IMAGO_CLOUD_EXIT_USAGE;
                        continue;
                }
                if (!add && strcmp(argv[i], "--json") == 0) {
                        a->json = 1;
                        continue;
                }
                return imago_cloud_usage(cmd, "unexpected argument '%s'", argv[i]);
        }
        if (a->data_dir == NULL)
                return imago_cloud_usage(cmd, "--data is required");
        if (add && a->user == NULL)
                return imago_cloud_usage(cmd, "--user is required");
        if (add && !imago_regtoken_user_valid(a->user))
                return imago_cloud_usage(cmd, "--user needs 1..64 of A-Z a-z 0-9 _ . @ -");
        return -1;
}

static int cmd_add(int argc, char **argv)
{
        char pw[PW_BUF], hash[IMAGO_AUTH_HASH_MAX];
        struct imago_auth_argon2 params;
        struct imago_appdb *db = NULL;
        struct imago_audit *audit = NULL;
        struct args a;
        size_t len = 0;
        uint64_t id = 0;
        int r, rc;

        memset(pw, 0, sizeof(pw));
        memset(hash, 0, sizeof(hash));
        if ((rc = parse(argc, argv, "users add", 1, &a)) >= 0)
                return rc >= 100 ? IMAGO_CLOUD_EXIT_OK : rc;
        /* both databases first: a user is never created without its audit record's chance */
        if ((rc = imago_cloud_open_appdb(a.cmd, a.data_dir, &db)) != IMAGO_CLOUD_EXIT_OK ||
            (rc = imago_cloud_open_audit(a.cmd, a.data_dir, &audit)) != IMAGO_CLOUD_EXIT_OK)
                goto out;
        rc = IMAGO_CLOUD_EXIT_FAIL;
        r = a.pw_file != NULL ? read_file(a.pw_file, pw, &len) : read_stdin(pw, &len);
        if (r == 0)
                r = imago_auth_password_policy(a.user, pw, len);
        if (r != 0) {
                imago_cloud_fail(a.cmd, a.pw_file != NULL ? a.pw_file : "password", r);
                goto out;
        }
        imago_auth_argon2_defaults(&params);
        if ((r = imago_auth_password_hash(&params, pw, len, hash)) != 0) {
                imago_cloud_fail(a.cmd, "password hash", r);
                goto out;
        }
        if ((r = imago_appdb_user_add(db, a.user, hash, (int64_t)time(NULL), &id)) != 0) {
                imago_cloud_fail(a.cmd, a.user, r);
                goto out;
        }
        if ((r = imago_cloud_audit_cli(audit, "user.create", a.user,
                                       json_pack("{s:I}", "id", (json_int_t)id))) != 0) {
                fprintf(stderr,
                        "imago-cloud: %s: user %s created (id %llu), but not recorded in "
                        "the audit log\n",
                        a.cmd, a.user, (unsigned long long)id);
                imago_cloud_fail(a.cmd, IMAGO_CLOUD_F_AUDIT, r);
                goto out;
        }
        printf("user %s created (id %llu)\n", a.user, (unsigned long long)id);
        rc = IMAGO_CLOUD_EXIT_OK;
out:
        imago_wipe(pw, sizeof(pw));
        imago_wipe(hash, sizeof(hash));
        imago_audit_close(audit);
        imago_appdb_close(db);
        return rc;
}

/* RFC 3339 UTC time of t. */
const char *imago_cloud_utc(int64_t t, char out[32])
{
        time_t tt = (time_t)t;
        struct tm tm;

        if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return "-";
        return out;
}

int imago_cloud_print_json(json_t *j)
{
        char *s = j != NULL ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

        if (s == NULL)
                return IMAGO_ENOMEM;
        puts(s);
        free(s);
        return 0;
}

static int list_cb(const struct imago_appdb_user *u, void *arg)
{
        json_t *arr = arg;
        char when[32];

        if (arr != NULL)
                return json_array_append_new(arr, json_pack("{s:I, s:s, s:I}", "id",
                                                            (json_int_t)u->id, "user", u->name,
                                                            "created", (json_int_t)u->created)) == 0
                           ? 0
                           : IMAGO_ENOMEM;
        printf("%-6llu  %-64s  %s\n", (unsigned long long)u->id, u->name,
               imago_cloud_utc(u->created, when));
        return 0;
}

static int cmd_list(int argc, char **argv)
{
        struct imago_appdb *db = NULL;
        struct args a;
        json_t *arr = NULL;
        int r, rc;

        if ((rc = parse(argc, argv, "users list", 0, &a)) >= 0)
                return rc >= 100 ? IMAGO_CLOUD_EXIT_OK : rc;
        if ((rc = imago_cloud_open_appdb(a.cmd, a.data_dir, &db)) != IMAGO_CLOUD_EXIT_OK)
                goto out;
        rc = IMAGO_CLOUD_EXIT_FAIL;
        if (a.json && (arr = json_array()) == NULL) {
                imago_cloud_fail(a.cmd, NULL, IMAGO_ENOMEM);
                goto out;
        }
        if (!a.json)
                printf("%-6s  %-64s  %s\n", "ID", "USER", "CREATED");
        if ((r = imago_appdb_user_list(db, list_cb, arr)) != 0 ||
            (a.json && (r = imago_cloud_print_json(arr)) != 0)) {
                imago_cloud_fail(a.cmd, IMAGO_CLOUD_F_APPDB, r);
                goto out;
        }
        rc = IMAGO_CLOUD_EXIT_OK;
out:
        json_decref(arr);
        imago_appdb_close(db);
        return rc;
}

static const struct imago_cloud_cmd subs[] = {
    {"add", cmd_add, "create an account (password from a file or stdin)"},
    {"list", cmd_list, "list the accounts"},
};

int imago_cloud_cmd_users(int argc, char **argv)
{
        return imago_cloud_dispatch("users", subs, sizeof(subs) / sizeof(subs[0]), argc - 1,
                                    argv + 1);
}
