/* `imago app signup|login|logout|me`: accounts and the session. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "cmd_app.h"

#include "base/err.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USER_MAX 128U

static const char signup_usage[] =
    "usage: imago app signup --user NAME [--password-file F] [--json]\n"
    "\n"
    "Creates an account (if the service allows sign-up).  The password is the\n"
    "first line of F, or of standard input; it is never taken from the command\n"
    "line.\n";

static const char login_usage[] =
    "usage: imago app login --user NAME [--password-file F] [--json]\n"
    "\n"
    "Logs in and writes the access and refresh tokens to the session file\n"
    "(mode 0600).  The password is the first line of F, or of standard input.\n";

static const char logout_usage[] = "usage: imago app logout\n"
                                   "\n"
                                   "Revokes the session's tokens and deletes the session file.\n";

static const char me_usage[] = "usage: imago app me [--json]\n"
                               "\n"
                               "Shows the logged-in user and their operator grants.\n";

/* --user U [--password-file F] [--json]; 0 or an exit status. */
static int user_opts(struct imago_app *a, int argc, char **argv, const char *usage,
                     const char **user, const char **pfile)
{
        char name[80];
        int i, m;

        snprintf(name, sizeof(name), "imago %s", a->cmd);
        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return -1;
                }
                if (imago_app_is_json_opt(a, argv[i]))
                        continue;
                if ((m = imago_cli_opt(argc, argv, &i, name, "--user", user)) ||
                    (m = imago_cli_opt(argc, argv, &i, name, "--password-file", pfile))) {
                        if (m < 0)
                                return IMAGO_CLI_USAGE;
                        continue;
                }
                return imago_cli_usage(name, "unexpected argument '%s'", argv[i]);
        }
        if (*user == NULL || (*user)[0] == '\0' || strlen(*user) > USER_MAX)
                return imago_cli_usage(name, "--user NAME is required (1..%u bytes)", USER_MAX);
        return IMAGO_CLI_OK;
}

/* No options but --json. */
static int no_opts(struct imago_app *a, int argc, char **argv, const char *usage)
{
        char name[80];
        int i;

        snprintf(name, sizeof(name), "imago %s", a->cmd);
        for (i = 1; i < argc; i++) {
                if (imago_cli_is_help(argv[i])) {
                        fputs(usage, stdout);
                        return -1;
                }
                if (!imago_app_is_json_opt(a, argv[i]))
                        return imago_cli_usage(name, "unexpected argument '%s'", argv[i]);
        }
        return IMAGO_CLI_OK;
}

/* {"user":U,"password":P} with the password read from pfile or stdin (twice on a terminal). */
static int credentials(struct imago_app *a, const char *user, const char *pfile, int confirm,
                       json_t **out)
{
        char *pw = NULL, *again = NULL;
        int r;

        *out = NULL;
        r = imago_app_secret_read(pfile, "password", IMAGO_APP_SECRET_MAX, &pw);
        if (r == IMAGO_OK && confirm && pfile == NULL && isatty(STDIN_FILENO)) {
                r = imago_app_secret_read(NULL, "password again", IMAGO_APP_SECRET_MAX, &again);
                if (r == IMAGO_OK && strcmp(pw, again) != 0)
                        r = IMAGO_EINVAL;
        }
        if (r != IMAGO_OK) {
                imago_app_fail(a, pfile != NULL ? pfile : "password", r);
                goto out;
        }
        if ((*out = json_pack("{s:s, s:s}", "user", user, "password", pw)) == NULL)
                r = imago_app_fail(a, NULL, IMAGO_ENOMEM);
out:
        imago_app_str_free(pw);
        imago_app_str_free(again);
        return r;
}

int imago_app_signup(struct imago_app *a, int argc, char **argv)
{
        const char *user = NULL, *pfile = NULL;
        struct imago_app_resp resp;
        json_t *body = NULL;
        int rc;

        memset(&resp, 0, sizeof(resp));
        if ((rc = user_opts(a, argc, argv, signup_usage, &user, &pfile)) != IMAGO_CLI_OK)
                return rc < 0 ? IMAGO_CLI_OK : rc;
        rc = IMAGO_CLI_FAIL;
        if (credentials(a, user, pfile, 1, &body) != IMAGO_OK ||
            imago_app_call(a, "POST", "/v1/users", body, 0, &resp) != IMAGO_OK)
                goto out;
        if (a->json) {
                imago_app_print_json(resp.json);
        } else {
                printf("created user ");
                imago_app_print_safe(stdout, user);
                if (resp.json != NULL && json_is_integer(json_object_get(resp.json, "id")))
                        printf(" (id %" JSON_INTEGER_FORMAT ")",
                               json_integer_value(json_object_get(resp.json, "id")));
                printf("\n");
        }
        rc = IMAGO_CLI_OK;
out:
        json_decref(body);
        imago_app_resp_clear(&resp);
        return rc;
}

int imago_app_login(struct imago_app *a, int argc, char **argv)
{
        const char *user = NULL, *pfile = NULL;
        struct imago_app_resp resp;
        json_t *body = NULL;
        int r, rc;

        memset(&resp, 0, sizeof(resp));
        if ((rc = user_opts(a, argc, argv, login_usage, &user, &pfile)) != IMAGO_CLI_OK)
                return rc < 0 ? IMAGO_CLI_OK : rc;
        rc = IMAGO_CLI_FAIL;
        if (credentials(a, user, pfile, 0, &body) != IMAGO_OK ||
            imago_app_call(a, "POST", "/v1/auth/login", body, 0, &resp) != IMAGO_OK)
                goto out;
        /* A fresh session for this API (any older one is replaced). */
        imago_app_session_clear(&a->s);
        a->have_session = 0;
        if ((a->s.api = strdup(a->api)) == NULL || (a->s.ca = strdup(a->ca)) == NULL ||
            (a->s.user = strdup(user)) == NULL) {
                imago_app_fail(a, NULL, IMAGO_ENOMEM);
                goto out;
        }
        if ((r = imago_app_take_tokens(a, resp.json)) != IMAGO_OK) {
                imago_app_fail(a, "login answer", r);
                goto out;
        }
        if ((r = imago_app_session_save(a->session_path, &a->s, a->session_default)) != IMAGO_OK) {
                imago_app_fail(a, a->session_path, r);
                goto out;
        }
        if (a->json) {
                /* The tokens stay in the session file. */
                json_object_del(resp.json, "access_token");
                json_object_del(resp.json, "refresh_token");
                json_object_set_new(resp.json, "session", json_string(a->session_path));
                imago_app_print_json(resp.json);
        } else {
                printf("logged in to %s as ", a->api);
                imago_app_print_safe(stdout, user);
                printf("; session in %s\n", a->session_path);
        }
        rc = IMAGO_CLI_OK;
out:
        json_decref(body);
        imago_app_resp_clear(&resp);
        return rc;
}

int imago_app_logout(struct imago_app *a, int argc, char **argv)
{
        struct imago_app_resp resp;
        json_t *body = NULL;
        int r, rc;

        memset(&resp, 0, sizeof(resp));
        if ((rc = no_opts(a, argc, argv, logout_usage)) != IMAGO_CLI_OK)
                return rc < 0 ? IMAGO_CLI_OK : rc;
        if (!a->have_session) {
                fprintf(stderr, "imago: %s: not logged in to %s (IMAGO_EAPI_AUTH)\n", a->cmd,
                        a->api);
                return IMAGO_CLI_FAIL;
        }
        if ((body = json_pack("{s:s}", "refresh_token", a->s.refresh)) == NULL) {
                imago_app_fail(a, NULL, IMAGO_ENOMEM);
                return IMAGO_CLI_FAIL;
        }
        r = imago_app_call_auth(a, "POST", "/v1/auth/logout", body, 0, &resp);
        json_decref(body);
        imago_app_resp_clear(&resp);
        /* The local session goes even when the server could not be told. */
        if (imago_app_session_remove(a->session_path) != IMAGO_OK) {
                imago_app_fail(a, a->session_path, IMAGO_EIO);
                return IMAGO_CLI_FAIL;
        }
        if (r != IMAGO_OK) {
                fprintf(stderr, "imago: %s: session file deleted\n", a->cmd);
                return IMAGO_CLI_FAIL;
        }
        printf("logged out; %s deleted\n", a->session_path);
        return IMAGO_CLI_OK;
}

int imago_app_me(struct imago_app *a, int argc, char **argv)
{
        struct imago_app_resp resp;
        json_t *grants, *g;
        size_t i;
        int rc;

        memset(&resp, 0, sizeof(resp));
        if ((rc = no_opts(a, argc, argv, me_usage)) != IMAGO_CLI_OK)
                return rc < 0 ? IMAGO_CLI_OK : rc;
        if (imago_app_call_auth(a, "GET", "/v1/me", NULL, 0, &resp) != IMAGO_OK) {
                rc = IMAGO_CLI_FAIL;
                goto out;
        }
        if (resp.json == NULL) {
                imago_app_fail(a, "answer", IMAGO_EHTTP);
                rc = IMAGO_CLI_FAIL;
                goto out;
        }
        if (a->json) {
                imago_app_print_json(resp.json);
                goto out;
        }
        grants = json_object_get(resp.json, "grants");
        json_incref(grants);
        json_object_del(resp.json, "grants");
        imago_app_print_fields(resp.json, "");
        if (json_is_array(grants) && json_array_size(grants) > 0) {
                printf("grants:\n");
                json_array_foreach(grants, i, g)
                {
                        printf("  - ");
                        imago_app_print_value(stdout, g);
                        printf("\n");
                }
        } else {
                printf("grants: none\n");
        }
        json_decref(grants);
out:
        imago_app_resp_clear(&resp);
        return rc;
}
