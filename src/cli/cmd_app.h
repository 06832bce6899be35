/*
 * `imago app`: the command-line stand-in for the mobile app (docs/app-cli.md).
 * Internal to src/cli/cmd_app*.c.
 *
 * One struct imago_app per run holds the resolved global options (API
 * address, CA file, session file path, --json) and the session loaded from
 * the session file.  Commands get it with their own argv (argv[0] = the
 * command name) and return the process exit status (cli.h).
 *
 * Secrets (passwords, access, refresh and registration tokens, Wi-Fi
 * passphrases) live in buffers that are wiped before they are freed: every
 * jansson allocation of the process is wiped on free (imago_app_json_init),
 * response bodies and files read are wiped, and nothing secret is printed
 * except the registration token by `token`, which is its purpose.
 *
 * Errors of the HTTP helpers are printed by them (one line on stderr: the
 * API's error code and message, or the transport error) and returned, so a
 * command only maps a non-zero result to IMAGO_CLI_FAIL.
 */
#ifndef IMAGO_CLI_CMD_APP_H
#define IMAGO_CLI_CMD_APP_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define IMAGO_APP_HOST_MAX    255U
#define IMAGO_APP_URL_MAX     (IMAGO_APP_HOST_MAX + 16U)
#define IMAGO_APP_TOKEN_MAX   8192U  /* access, refresh and registration tokens */
#define IMAGO_APP_SECRET_MAX  1024U  /* passwords and Wi-Fi passphrases */
#define IMAGO_APP_SESSION_MAX 32768U /* session file */
#define IMAGO_APP_TIMEOUT_MS  30000U

/* The session file's contents; strings malloc'd (NULL absent), tokens wiped on clear. */
struct imago_app_session {
        char *api;     /* "https://host:port" the tokens belong to */
        char *ca;      /* CA file used at login (absolute), or NULL */
        char *user;    /* user name */
        char *access;  /* access token, or NULL (then refreshed first) */
        char *refresh; /* refresh token */
};

struct imago_app {
        char cmd[64];                    /* "app <command>", for messages */
        char api[IMAGO_APP_URL_MAX + 1]; /* "https://host:port" */
        char host[IMAGO_APP_HOST_MAX + 1];
        uint16_t port;
        int api_explicit;  /* from --api or IMAGO_API */
        char ca[PATH_MAX]; /* CA file, "" = none */
        char session_path[PATH_MAX];
        int session_default; /* default path: create ~/.config/imago (0700) */
        int have_session;    /* s was loaded from the file */
        int json;            /* --json: print the server's JSON */
        struct imago_app_session s;
};

/* ---- utilities (cmd_app_util.c) ---- */

/* Make every jansson allocation of the process wiped on free.  Call before any jansson use. */
void imago_app_json_init(void);
/* Free a string from json_dumps (it was allocated by the wiping allocator). */
void imago_app_json_free(char *s);
/* Free and wipe a malloc'd NUL-terminated string (NULL ok). */
void imago_app_str_free(char *s);
/* strdup; NULL on NULL or no memory. */
char *imago_app_strdup(const char *s);

/* "https://HOST[:PORT][/]" (HOST may be [v6]) into host and port (default 8443); 0 or IMAGO_EINVAL.
 */
int imago_app_parse_url(const char *url, char *host, size_t host_size, uint16_t *port);
/* "HOST:PORT" (HOST may be [v6]); 0 or IMAGO_EINVAL. */
int imago_app_parse_hostport(const char *s, char *host, size_t host_size, uint16_t *port);
/* 1 if tok is 1..IMAGO_APP_TOKEN_MAX printable ASCII characters without spaces (safe in a header).
 */
int imago_app_token_ok(const char *tok);

/*
 * A secret: the first line of file, or of stdin when file is NULL (read
 * unbuffered; prompt shown and echo turned off when stdin is a terminal).
 * 1..max bytes, no NUL.  *out malloc'd; free with imago_app_str_free.
 * Errors: IMAGO_ENOTFOUND (empty), IMAGO_ETOOBIG, IMAGO_EIO, IMAGO_EMALFORMED.
 */
int imago_app_secret_read(const char *file, const char *prompt, size_t max, char **out);

/* 1 (and a->json set) if arg is --json, which every command accepts. */
int imago_app_is_json_opt(struct imago_app *a, const char *arg);

/* An option with a value, for imago_app_args. */
struct imago_app_optdef {
        const char *name;
        const char **val;
};

/*
 * A command's arguments: the options in opts (values stored), --json, --help
 * (help printed; returns -1), and pos_min..pos_max positional arguments
 * into pos[] (*npos set).  Returns IMAGO_CLI_OK, IMAGO_CLI_USAGE or -1.
 */
int imago_app_args(struct imago_app *a, int argc, char **argv, const char *help,
                   const struct imago_app_optdef *opts, size_t nopts, const char **pos,
                   size_t pos_min, size_t pos_max, size_t *npos);

/* "imago app <command>: ..." usage error; returns IMAGO_CLI_USAGE. */
int imago_app_usage(const struct imago_app *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print s with control characters replaced by '?' (untrusted server text). */
void imago_app_print_safe(FILE *f, const char *s);
/* Print a JSON value: strings safe and bare, others as compact ASCII JSON. */
void imago_app_print_value(FILE *f, json_t *v);
/* Print every member of obj as "<indent><key>: <value>" lines. */
void imago_app_print_fields(json_t *obj, const char *indent);
/* Print obj as indented ASCII JSON (--json). */
int imago_app_print_json(json_t *obj);

/* ---- session file (cmd_app_session.c) ---- */

/*
 * Load the session file: a regular file owned by the user and not
 * accessible by others (else IMAGO_EPERM), strict JSON.  IMAGO_ENOTFOUND
 * if there is none.
 */
int imago_app_session_load(const char *path, struct imago_app_session *s);
/* The file's bytes (strict: known keys once each, version 1, tokens imago_app_token_ok). */
int imago_app_session_parse(const uint8_t *buf, size_t len, struct imago_app_session *s);
/* Write it atomically, mode 0600; mkdirs: create the parent directories (0700) first. */
int imago_app_session_save(const char *path, const struct imago_app_session *s, int mkdirs);
/*
 * Exclusive lock on "<path>.lock" (created 0600), held while a refresh runs,
 * so parallel runs do not spend the same refresh token; *fd for unlock.
 */
int imago_app_session_lock(const char *path, int *fd);
void imago_app_session_unlock(int fd); /* fd < 0: nothing */
/* Delete the file and its lock file (absent is fine). */
int imago_app_session_remove(const char *path);
/* Wipe and free the strings. */
void imago_app_session_clear(struct imago_app_session *s);

/* ---- HTTP calls (cmd_app_http.c) ---- */

struct imago_app_resp {
        int status;   /* HTTP status */
        json_t *json; /* the body's object, NULL when the body is empty */
};

void imago_app_resp_clear(struct imago_app_resp *r);

/*
 * One request to the API (no bearer): body (may be NULL) is sent as JSON.
 * IMAGO_OK on a 2xx answer with an empty or JSON object body; else the
 * error is printed and returned (the API's code when it sent one).
 */
int imago_app_call(struct imago_app *a, const char *method, const char *path, json_t *body,
                   uint32_t timeout_ms, struct imago_app_resp *out);
/*
 * The same with the session's access token; refreshes the tokens (and
 * saves the session) first when there is no access token and once on a
 * 401, then retries; a "refresh_token" member of body is replaced by the
 * new refresh token.  Needs a loaded session for this API.
 */
int imago_app_call_auth(struct imago_app *a, const char *method, const char *path, json_t *body,
                        uint32_t timeout_ms, struct imago_app_resp *out);
/* One request to a setup portal pinned by the certificate's SHA-256 (64 hex). */
int imago_app_call_pinned(struct imago_app *a, const char *host, uint16_t port, const char *pin,
                          const char *method, const char *path, json_t *body,
                          struct imago_app_resp *out);
/* Replace the session's tokens by resp's access_token and refresh_token (checked); IMAGO_EHTTP. */
int imago_app_take_tokens(struct imago_app *a, json_t *resp);
/* "imago: <cmd>: <what>: <strerror> (<name>)"; returns r. */
int imago_app_fail(const struct imago_app *a, const char *what, int r);

/* "/v1/devices/<id><suffix>" into out; a usage error (IMAGO_CLI_USAGE) for a bad device id. */
int imago_app_device_path(struct imago_app *a, const char *id, const char *suffix, char *out,
                          size_t size);

/* ---- commands (argv[0] = command name) ---- */

int imago_app_signup(struct imago_app *a, int argc, char **argv);
int imago_app_login(struct imago_app *a, int argc, char **argv);
int imago_app_logout(struct imago_app *a, int argc, char **argv);
int imago_app_me(struct imago_app *a, int argc, char **argv);
int imago_app_token(struct imago_app *a, int argc, char **argv);
int imago_app_configure(struct imago_app *a, int argc, char **argv);
int imago_app_devices(struct imago_app *a, int argc, char **argv);
int imago_app_device(struct imago_app *a, int argc, char **argv);
int imago_app_state(struct imago_app *a, int argc, char **argv);
int imago_app_set_state(struct imago_app *a, int argc, char **argv);
int imago_app_command(struct imago_app *a, int argc, char **argv);
int imago_app_command_get(struct imago_app *a, int argc, char **argv);
int imago_app_decommission(struct imago_app *a, int argc, char **argv);
int imago_app_rollout(struct imago_app *a, int argc, char **argv); /* cmd_app_rollout.c */
int imago_app_tags(struct imago_app *a, int argc, char **argv);

#endif
