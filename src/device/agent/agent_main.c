/* imago_agent_main: options, identity, store, signals and the event loop (see agent.h). */
#define _POSIX_C_SOURCE 200809L
#include "device/agent/agent_priv.h"

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/num.h"
#include "base/wipe.h"
#include "crypto/keys.h"
#include "crypto/p11/p11.h"
#include "device/link/link.h"
#include "device/store/store.h"
#include "factory/provision.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#define ONCE_TIMEOUT_S 60U

static const char usage_fmt[] =
    "usage: %s --config FILE [--factory-reset] [--once] [--timeout SECONDS] [--verbose]\n"
    "\n"
    "Opens the device identity and secret store named in FILE.  With portal_host and\n"
    "portal_port configured and no network in the store (record " IMAGO_AGENT_REC_NET "), serves\n"
    "the setup portal (HTTPS, birth certificate) until a user configures the device, then\n"
    "closes it.  Without an operational certificate (record " IMAGO_AGENT_REC_CERT ") enrols\n"
    "with the birth certificate, stores the answer, then holds the operational connection\n"
    "until SIGTERM.  SIGUSR1 or --factory-reset: delete every record but the factory's.\n"
    "--once: enrol/connect, then exit 0 (exit 1 if that fails within --timeout, default\n"
    "60 s).\n";

struct opts {
        const char *config;
        int once, reset;
        uint32_t timeout_s;
};

static int parse_args(int argc, char **argv, const char *prog, struct opts *o)
{
        o->timeout_s = ONCE_TIMEOUT_S;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
                        o->config = argv[++i];
                } else if (strcmp(argv[i], "--once") == 0) {
                        o->once = 1;
                } else if (strcmp(argv[i], "--factory-reset") == 0) {
                        o->reset = 1;
                } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
                        if (imago_parse_u32(argv[++i], 3600, &o->timeout_s) != IMAGO_OK)
                                goto usage;
                } else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
                        imago_log_set_level(IMAGO_LOG_INFO);
                } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        printf(usage_fmt, prog);
                        return 0;
                } else {
                        fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[i]);
                        goto usage;
                }
        }
        if (o->config != NULL)
                return 1;
usage:
        fprintf(stderr, usage_fmt, prog);
        return 2;
}

/* Open the store; in development mode create it in the token when there is none yet. */
static int open_store(const struct imago_agent_conf *c, struct imago_p11 *tok,
                      struct imago_store **out)
{
        int r = imago_store_open(c->store, tok, imago_store_posix_ops(), out);

        if (r == IMAGO_ENOTFOUND && !c->production) {
                IMAGO_WARN("development mode: creating the secret store %s", c->store);
                if ((r = imago_store_create(c->store, tok, imago_store_posix_ops())) == IMAGO_OK)
                        r = imago_store_open(c->store, tok, imago_store_posix_ops(), out);
        }
        return r;
}

static int open_device(struct imago_agent *a, const struct imago_agent_conf *c,
                       struct imago_p11 **tok)
{
        struct imago_identity_config ic;
        char pin[AGENT_PIN_MAX];
        int have_pin = 0, r;

        memset(pin, 0, sizeof(pin));
        if (c->pin_file != NULL) {
                if ((r = imago_agent_read_pin(c->pin_file, pin)) != IMAGO_OK) {
                        fprintf(stderr, "%s: PIN file %s: %s (%s)\n", a->prog, c->pin_file,
                                imago_strerror(r), imago_errname(r));
                        goto out;
                }
                have_pin = 1;
        }
        memset(&ic, 0, sizeof(ic));
        ic.production = c->production;
        if (c->key_file != NULL) {
                ic.backend = IMAGO_IDENTITY_FILE;
                ic.key_path = c->key_file;
        } else {
                ic.backend = IMAGO_IDENTITY_PKCS11;
                ic.module = c->module;
                ic.token_uri = c->token;
                ic.pin = have_pin ? pin : NULL;
        }
        if ((r = imago_identity_open(&ic, &a->id)) != IMAGO_OK) {
                if (r == IMAGO_EPERM)
                        fprintf(stderr, "%s: refusing the file key in production mode: %s (%s)\n",
                                a->prog, IMAGO_IDENTITY_FILE_REFUSED, imago_errname(r));
                else
                        fprintf(stderr, "%s: cannot open the identity: %s (%s)\n", a->prog,
                                imago_strerror(r), imago_errname(r));
                goto out;
        }
        imago_identity_device_id(a->id, a->devid);
        if ((r = imago_p11_open(c->module, c->token, have_pin ? pin : NULL, tok)) != IMAGO_OK ||
            (r = open_store(c, *tok, &a->store)) != IMAGO_OK) {
                fprintf(stderr, "%s: cannot open the secret store: %s (%s)\n", a->prog,
                        imago_strerror(r), imago_errname(r));
                goto out;
        }
        if ((r = imago_agent_get_pem(a->store, IMAGO_REC_BIRTH_CERT, &a->birth)) != IMAGO_OK) {
                fprintf(stderr, "%s: cannot read the store: %s (%s)\n", a->prog, imago_strerror(r),
                        imago_errname(r));
                goto out;
        }
        /* Development mode: the birth certificate from a PEM file (certificates are public). */
        if (a->birth == NULL && c->birth_cert != NULL &&
            (r = imago_agent_read_text(c->birth_cert, IMAGO_STORE_VALUE_MAX, &a->birth)) !=
                IMAGO_OK) {
                fprintf(stderr, "%s: birth certificate %s: %s (%s)\n", a->prog, c->birth_cert,
                        imago_strerror(r), imago_errname(r));
                goto out;
        }
        if (c->command_key != NULL) {
                if ((r = imago_pubkey_load(c->command_key, &a->cmd_key)) != IMAGO_OK ||
                    (a->cmd_key.type != IMAGO_KEY_ED25519 && (r = IMAGO_EKEY_TYPE) != IMAGO_OK)) {
                        fprintf(stderr, "%s: command key %s: %s (%s)\n", a->prog, c->command_key,
                                imago_strerror(r), imago_errname(r));
                        goto out;
                }
                a->have_cmd_key = 1;
        }
out:
        imago_wipe(pin, sizeof(pin));
        return r;
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
        struct imago_agent *a = arg;

        (void)what;
        IMAGO_INFO("signal %d: stopping", (int)sig);
        imago_agent_stop_all(a);
        event_base_loopexit(a->base, NULL);
}

/* SIGUSR1: the reset button. */
static void on_reset_signal(evutil_socket_t sig, short what, void *arg)
{
        struct imago_agent *a = arg;

        (void)sig;
        (void)what;
        fprintf(stderr, "%s: SIGUSR1: factory reset\n", a->prog);
        if (imago_agent_reset(a) != IMAGO_OK) {
                a->rc = 1;
                event_base_loopexit(a->base, NULL);
        }
}

/* Daemon: the event loop until SIGTERM/SIGINT or a fatal error. */
static int run(struct imago_agent *a)
{
        struct event *ev[3] = {NULL, NULL, NULL};
        int r;

        if ((ev[0] = evsignal_new(a->base, SIGTERM, on_stop_signal, a)) == NULL ||
            (ev[1] = evsignal_new(a->base, SIGINT, on_stop_signal, a)) == NULL ||
            (ev[2] = evsignal_new(a->base, SIGUSR1, on_reset_signal, a)) == NULL ||
            event_add(ev[0], NULL) != 0 || event_add(ev[1], NULL) != 0 ||
            event_add(ev[2], NULL) != 0) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        a->rc = 0;
        if ((r = imago_agent_begin(a)) != IMAGO_OK)
                goto out;
        event_base_dispatch(a->base);
        r = a->rc == 0 ? IMAGO_OK : IMAGO_ESTATE;
out:
        imago_agent_stop_all(a);
        for (size_t i = 0; i < 3; i++)
                if (ev[i] != NULL)
                        event_free(ev[i]);
        return r;
}

/* --once: enrol/connect, then stop. */
static int run_once(struct imago_agent *a)
{
        int r;

        if ((r = imago_agent_begin(a)) != IMAGO_OK)
                return r;
        r = imago_link_run_blocking(a->link, 1, a->timeout_s * 1000U, 1);
        if (r != IMAGO_OK)
                fprintf(stderr, "%s: %s (%s)\n", a->prog, imago_strerror(r), imago_errname(r));
        else
                printf("%s: online as %s with its operational certificate\n", a->prog, a->devid);
        imago_agent_stop_all(a);
        return r;
}

int imago_agent_main(int argc, char **argv, const struct imago_agent_app *app)
{
        struct imago_agent_conf c;
        struct imago_agent a;
        struct imago_p11 *tok = NULL;
        struct opts o = {0};
        char err[200];
        uint8_t *text = NULL;
        size_t len = 0, n = 0;
        int r, rc = 1;

        memset(&c, 0, sizeof(c));
        memset(&a, 0, sizeof(a));
        a.prog = app != NULL && app->name != NULL ? app->name : "imago-agent";
        a.app = app;
        a.conf = &c;
        a.argc = argc;
        a.argv = argv;
        if ((r = parse_args(argc, argv, a.prog, &o)) != 1)
                return r;
        a.once = o.once;
        a.timeout_s = o.timeout_s;
        /* Before any JSON is parsed: secrets pass through jansson. */
        imago_agent_json_wiping();
        if ((r = imago_file_read(o.config, IMAGO_AGENT_CONF_MAX, &text, &len)) != IMAGO_OK) {
                fprintf(stderr, "%s: %s: %s (%s)\n", a.prog, o.config, imago_strerror(r),
                        imago_errname(r));
                goto out;
        }
        if ((r = imago_agent_conf_parse((const char *)text, len, &c, err, sizeof(err))) !=
            IMAGO_OK) {
                fprintf(stderr, "%s: %s: %s (%s)\n", a.prog, o.config, err, imago_errname(r));
                goto out;
        }
        if ((r = open_device(&a, &c, &tok)) != IMAGO_OK)
                goto out;
        if (o.reset) {
                if ((r = imago_agent_factory_reset(a.store, &n)) != IMAGO_OK) {
                        fprintf(stderr, "%s: factory reset failed: %s (%s)\n", a.prog,
                                imago_strerror(r), imago_errname(r));
                        goto out;
                }
                fprintf(stderr, "%s: factory reset: %zu records deleted\n", a.prog, n);
        }
        if ((a.base = event_base_new()) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        signal(SIGPIPE, SIG_IGN);
        r = o.once ? run_once(&a) : run(&a);
        if (r == IMAGO_OK)
                rc = 0;
out:
        imago_agent_stop_all(&a);
        if (a.base != NULL)
                event_base_free(a.base);
        imago_store_close(a.store);
        imago_p11_close(tok);
        imago_identity_close(a.id);
        free(a.birth);
        free(text);
        imago_agent_conf_free(&c);
        return rc;
}
