/* `imago app [--api URL] [--ca FILE] [--session FILE] [--json] COMMAND ...`: global options. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "cli.h"
#include "cmd_app.h"

#include "base/err.h"

#include <stdlib.h>
#include <string.h>

#define NEED_API    1U /* talks to the API: needs its address and CA */
#define USE_SESSION 2U /* reads the session file */
#define DEFAULT_API "https://127.0.0.1:8443"

struct app_cmd {
        const char *name;
        int (*run)(struct imago_app *a, int argc, char **argv);
        unsigned flags;
        const char *help;
};

static const struct app_cmd cmds[] = {
    {"signup", imago_app_signup, NEED_API, "create an account (password from a file or stdin)"},
    {"login", imago_app_login, NEED_API, "log in; the session file keeps the tokens (0600)"},
    {"logout", imago_app_logout, NEED_API | USE_SESSION, "log out and delete the session file"},
    {"me", imago_app_me, NEED_API | USE_SESSION, "show the logged-in user and their grants"},
    {"token", imago_app_token, NEED_API | USE_SESSION, "get a registration token for a device"},
    {"configure", imago_app_configure, 0, "configure a device through its setup portal"},
    {"devices", imago_app_devices, NEED_API | USE_SESSION, "list your devices"},
    {"device", imago_app_device, NEED_API | USE_SESSION, "show one device"},
    {"state", imago_app_state, NEED_API | USE_SESSION, "show a device's state documents"},
    {"set-state", imago_app_set_state, NEED_API | USE_SESSION, "change a device's desired state"},
    {"command", imago_app_command, NEED_API | USE_SESSION, "send a signed command to a device"},
    {"command-get", imago_app_command_get, NEED_API | USE_SESSION, "show a command's result"},
    {"decommission", imago_app_decommission, NEED_API | USE_SESSION,
     "wipe, revoke and unbind a device"},
    {"rollout", imago_app_rollout, NEED_API | USE_SESSION,
     "create, list, show, pause, resume, cancel rollouts"},
    {"tags", imago_app_tags, NEED_API | USE_SESSION, "show or set a device's tags"},
};

static const char usage_head[] =
    "usage: imago app [--api https://HOST:PORT] [--ca FILE] [--session FILE] [--json]\n"
    "                 <command> [options]\n"
    "\n"
    "Plays the mobile app: the API of imago-cloud (server authenticated by the CA\n"
    "file), and a device's setup portal (pinned by the fingerprint on its label).\n"
    "Defaults: IMAGO_API (else the session's API, else " DEFAULT_API "),\n"
    "IMAGO_API_CA (else the session's CA), IMAGO_SESSION (else\n"
    "~/.config/imago/session.json).  --json prints the server's JSON.\n"
    "\n"
    "commands:\n";

static void usage(FILE *f)
{
        size_t i;

        fputs(usage_head, f);
        for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
                fprintf(f, "  %-13s %s\n", cmds[i].name, cmds[i].help);
        fputs("\nRun 'imago app <command> --help' for the options of a command.\n", f);
}

static const char *env(const char *name)
{
        const char *v = getenv(name);

        return v != NULL && v[0] != '\0' ? v : NULL;
}

/* a->session_path from --session, IMAGO_SESSION or ~/.config/imago/session.json. */
static int session_path(struct imago_app *a, const char *opt)
{
        const char *home;
        int n;

        if (opt == NULL)
                opt = env("IMAGO_SESSION");
        if (opt != NULL) {
                n = snprintf(a->session_path, sizeof(a->session_path), "%s", opt);
        } else {
                if ((home = env("HOME")) == NULL)
                        return IMAGO_ENOTFOUND;
                a->session_default = 1;
                n = snprintf(a->session_path, sizeof(a->session_path),
                             "%s/.config/imago/session.json", home);
        }
        return n < 0 || (size_t)n >= sizeof(a->session_path) ? IMAGO_EINVAL : IMAGO_OK;
}

/* a->api, host, port, ca. */
static int resolve_api(struct imago_app *a, const char *api, const char *ca)
{
        if (api == NULL)
                api = env("IMAGO_API");
        a->api_explicit = api != NULL;
        if (api == NULL)
                api = a->have_session ? a->s.api : DEFAULT_API;
        if (imago_app_parse_url(api, a->host, sizeof(a->host), &a->port) != IMAGO_OK)
                return imago_cli_usage("imago app", "bad API address '%s' (https://HOST:PORT)",
                                       api);
        if (strchr(a->host, ':') != NULL)
                snprintf(a->api, sizeof(a->api), "https://[%s]:%u", a->host, (unsigned)a->port);
        else
                snprintf(a->api, sizeof(a->api), "https://%s:%u", a->host, (unsigned)a->port);

        /* Tokens (and the CA kept with them) go only to the API they came from. */
        if (a->have_session && strcmp(a->s.api, a->api) != 0)
                a->have_session = 0;
        if (ca == NULL)
                ca = env("IMAGO_API_CA");
        if (ca == NULL && a->have_session)
                ca = a->s.ca;
        if (ca == NULL)
                return imago_cli_usage("imago app", "--ca FILE (or IMAGO_API_CA) is needed: the "
                                                    "CA certificate of the API");
        if (realpath(ca, a->ca) == NULL) {
                fprintf(stderr, "imago: app: %s: %s (%s)\n", ca, imago_strerror(IMAGO_ENOTFOUND),
                        imago_errname(IMAGO_ENOTFOUND));
                return IMAGO_CLI_FAIL;
        }
        return IMAGO_CLI_OK;
}

int imago_cli_app(int argc, char **argv)
{
        const char *api = NULL, *ca = NULL, *sess = NULL;
        const struct app_cmd *cmd = NULL;
        struct imago_app *a;
        size_t k;
        int i, m, r, rc = IMAGO_CLI_FAIL;

        imago_app_json_init();
        if ((a = calloc(1, sizeof(*a))) == NULL)
                return imago_cli_fail("app", NULL, IMAGO_ENOMEM);
        for (i = 1; i < argc && argv[i][0] == '-'; i++) {
                if (imago_cli_is_help(argv[i])) {
                        usage(stdout);
                        rc = IMAGO_CLI_OK;
                        goto out;
                }
                if (imago_app_is_json_opt(a, argv[i]))
                        continue;
                if ((m = imago_cli_opt(argc, argv, &i, "imago app", "--api", &api)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago app", "--ca", &ca)) ||
                    (m = imago_cli_opt(argc, argv, &i, "imago app", "--session", &sess))) {
                        if (m < 0) {
                                rc = IMAGO_CLI_USAGE;
                                goto out;
                        }
                        continue;
                }
                rc = imago_cli_usage("imago app", "unknown option '%s'", argv[i]);
                goto out;
        }
        if (i >= argc) {
                usage(stderr);
                rc = IMAGO_CLI_USAGE;
                goto out;
        }
        for (k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
                if (strcmp(argv[i], cmds[k].name) == 0)
                        cmd = &cmds[k];
        if (cmd == NULL) {
                rc = imago_cli_usage("imago app", "unknown command '%s'", argv[i]);
                goto out;
        }
        snprintf(a->cmd, sizeof(a->cmd), "app %s", cmd->name);
        /* A command's own --help needs neither the session nor the API. */
        for (m = i + 1; m < argc; m++)
                if (imago_cli_is_help(argv[m])) {
                        rc = cmd->run(a, argc - i, argv + i);
                        goto out;
                }
        if (cmd->flags & NEED_API) {
                if (session_path(a, sess) != IMAGO_OK) {
                        rc = imago_cli_usage("imago app", "no session file: give --session FILE "
                                                          "(or IMAGO_SESSION, or HOME)");
                        goto out;
                }
                if (cmd->flags & USE_SESSION) {
                        r = imago_app_session_load(a->session_path, &a->s);
                        if (r == IMAGO_EPERM) {
                                fprintf(stderr,
                                        "imago: %s: %s: not a regular file of yours, or others "
                                        "may access it (chmod 600) (IMAGO_EPERM)\n",
                                        a->cmd, a->session_path);
                                goto out;
                        }
                        if (r != IMAGO_OK && r != IMAGO_ENOTFOUND) {
                                imago_app_fail(a, a->session_path, r);
                                goto out;
                        }
                        a->have_session = r == IMAGO_OK;
                }
                if ((rc = resolve_api(a, api, ca)) != IMAGO_CLI_OK)
                        goto out;
        }
        rc = cmd->run(a, argc - i, argv + i);
out:
        imago_app_session_clear(&a->s);
        free(a);
        return rc;
}
