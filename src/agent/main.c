/*
 * imago-agent: the device daemon (minimal): open the identity and the secret
 * store, enrol with the birth certificate if there is no operational
 * certificate yet, then hold the operational connection (docs/device-link.md).
 */
#define _POSIX_C_SOURCE 200809L
#include "agent_conf.h"

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/num.h"
#include "base/wipe.h"
#include "crypto/p11/p11.h"
#include "device/identity/identity.h"
#include "device/link/link.h"
#include "device/store/store.h"
#include "factory/provision.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define REC_DEVICE_CERT  "device-cert"
#define REC_DEVICE_CHAIN "device-chain"
#define PIN_MAX          256
#define ONCE_TIMEOUT_MS  60000U

static const char usage[] =
    "usage: imago-agent --config FILE [--once] [--timeout SECONDS] [--verbose]\n"
    "\n"
    "Opens the device identity and secret store named in FILE; without an\n"
    "operational certificate (record " REC_DEVICE_CERT ") enrols with the birth\n"
    "certificate (record " IMAGO_REC_BIRTH_CERT "), stores the answer, then holds the\n"
    "operational connection until SIGTERM.  --once: enrol/connect, then exit 0\n"
    "(exit 1 if that fails within --timeout, default 60 s).\n";

struct agent {
        struct imago_store *store;
};

static int store_cert(void *arg, const char *cert_pem, const char *chain_pem)
{
        struct agent *a = arg;
        int r;

        /* Chain first: a certificate is never stored without its issuer. */
        if ((r = imago_store_put(a->store, REC_DEVICE_CHAIN, IMAGO_STORE_CERT,
                                 (const uint8_t *)chain_pem, strlen(chain_pem))) != IMAGO_OK ||
            (r = imago_store_put(a->store, REC_DEVICE_CERT, IMAGO_STORE_CERT,
                                 (const uint8_t *)cert_pem, strlen(cert_pem))) != IMAGO_OK)
                IMAGO_ERR_R(r, "cannot write the certificate to the store");
        return r;
}

static void on_state(void *arg, enum imago_link_state st, int err)
{
        (void)arg;
        if (st == IMAGO_LINK_WAITING && err != 0)
                IMAGO_WARN("connection: %s", imago_strerror(err));
        else if (st == IMAGO_LINK_ONLINE)
                IMAGO_INFO("online");
}

static int der_to_pem(const uint8_t *der, size_t len, char **out)
{
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        BIO *b = NULL;
        char *data;
        long n;
        int r = IMAGO_EMALFORMED;

        if (x == NULL || p != der + len)
                goto out;
        r = IMAGO_ENOMEM;
        if ((b = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509(b, x) != 1 ||
            (n = BIO_get_mem_data(b, &data)) <= 0 || (*out = malloc((size_t)n + 1)) == NULL)
                goto out;
        memcpy(*out, data, (size_t)n);
        (*out)[n] = '\0';
        r = IMAGO_OK;
out:
        ERR_clear_error();
        BIO_free(b);
        X509_free(x);
        return r;
}

/* A certificate record (PEM, or DER converted to PEM) as a string, or NULL if absent. */
static int get_pem(struct imago_store *s, const char *name, char **out)
{
        uint8_t *buf = NULL;
        size_t len = 0;
        int r;

        *out = NULL;
        if ((buf = malloc(IMAGO_STORE_VALUE_MAX + 1)) == NULL)
                return IMAGO_ENOMEM;
        r = imago_store_get(s, name, NULL, buf, IMAGO_STORE_VALUE_MAX, &len);
        if (r == IMAGO_ENOTFOUND) {
                free(buf);
                return IMAGO_OK;
        }
        if (r != IMAGO_OK) {
                free(buf);
                return r;
        }
        buf[len] = '\0';
        if (len > 10 && memcmp(buf, "-----BEGIN", 10) == 0 && strlen((char *)buf) == len) {
                *out = (char *)buf;
                return IMAGO_OK;
        }
        /* The factory stores the birth certificate as DER: convert it to PEM. */
        r = der_to_pem(buf, len, out);
        free(buf);
        return r;
}

/* Open the store; in development mode create it in the token when there is none yet. */
static int open_store(const struct agent_conf *c, struct imago_p11 *tok, struct imago_store **out)
{
        int r = imago_store_open(c->store, tok, imago_store_posix_ops(), out);

        if (r == IMAGO_ENOTFOUND && !c->production) {
                IMAGO_WARN("development mode: creating the secret store %s", c->store);
                if ((r = imago_store_create(c->store, tok, imago_store_posix_ops())) == IMAGO_OK)
                        r = imago_store_open(c->store, tok, imago_store_posix_ops(), out);
        }
        return r;
}

/* Development mode: the birth certificate from a PEM file (certificates are public). */
static int read_birth_file(const char *path, char **out)
{
        uint8_t *data = NULL;
        size_t len = 0;
        int r;

        *out = NULL;
        if ((r = imago_file_read(path, IMAGO_STORE_VALUE_MAX, &data, &len)) != IMAGO_OK)
                return r;
        if ((*out = malloc(len + 1)) == NULL) {
                free(data);
                return IMAGO_ENOMEM;
        }
        memcpy(*out, data, len);
        (*out)[len] = '\0';
        free(data);
        return IMAGO_OK;
}

static int read_pin(const char *path, char pin[PIN_MAX])
{
        uint8_t *data = NULL;
        size_t len = 0;
        int r;

        if ((r = imago_file_read(path, PIN_MAX - 1, &data, &len)) != IMAGO_OK)
                return r;
        while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
                len--;
        memcpy(pin, data, len);
        pin[len] = '\0';
        imago_wipe(data, len);
        free(data);
        return len > 0 ? IMAGO_OK : IMAGO_EINVAL;
}

int main(int argc, char **argv)
{
        const char *cfg_path = NULL;
        struct agent_conf c;
        struct agent a = {0};
        struct imago_p11 *tok = NULL;
        struct imago_identity *id = NULL;
        struct imago_identity_config ic;
        struct imago_link_config lc;
        struct imago_link_callbacks cb = {
            .store_cert = store_cert, .on_state = on_state, .arg = &a};
        struct imago_link *link = NULL;
        struct event_base *base = NULL;
        char pin[PIN_MAX], err[200], devid[IMAGO_DEVICE_ID_LEN + 1];
        char *birth = NULL, *cert = NULL, *chain = NULL;
        uint8_t *text = NULL;
        size_t len = 0;
        uint32_t timeout_s = ONCE_TIMEOUT_MS / 1000U;
        int once = 0, have_pin = 0, r, rc = 1;

        memset(&c, 0, sizeof(c));
        memset(pin, 0, sizeof(pin));
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
                        cfg_path = argv[++i];
                } else if (strcmp(argv[i], "--once") == 0) {
                        once = 1;
                } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
                        if (imago_parse_u32(argv[++i], 3600, &timeout_s) != IMAGO_OK) {
                                fputs(usage, stderr);
                                return 2;
                        }
                } else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
                        imago_log_set_level(IMAGO_LOG_INFO);
                } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        fputs(usage, stdout);
                        return 0;
                } else {
                        fprintf(stderr, "imago-agent: unexpected argument '%s'\n%s", argv[i],
                                usage);
                        return 2;
                }
        }
        if (cfg_path == NULL) {
                fputs(usage, stderr);
                return 2;
        }
        if ((r = imago_file_read(cfg_path, AGENT_CONF_MAX, &text, &len)) != IMAGO_OK) {
                fprintf(stderr, "imago-agent: %s: %s (%s)\n", cfg_path, imago_strerror(r),
                        imago_errname(r));
                goto out;
        }
        if ((r = agent_conf_parse((const char *)text, len, &c, err, sizeof(err))) != IMAGO_OK) {
                fprintf(stderr, "imago-agent: %s: %s (%s)\n", cfg_path, err, imago_errname(r));
                goto out;
        }
        if (c.pin_file != NULL) {
                if ((r = read_pin(c.pin_file, pin)) != IMAGO_OK) {
                        fprintf(stderr, "imago-agent: PIN file %s: %s (%s)\n", c.pin_file,
                                imago_strerror(r), imago_errname(r));
                        goto out;
                }
                have_pin = 1;
        }
        memset(&ic, 0, sizeof(ic));
        ic.production = c.production;
        if (c.key_file != NULL) {
                ic.backend = IMAGO_IDENTITY_FILE;
                ic.key_path = c.key_file;
        } else {
                ic.backend = IMAGO_IDENTITY_PKCS11;
                ic.module = c.module;
                ic.token_uri = c.token;
                ic.pin = have_pin ? pin : NULL;
        }
        if ((r = imago_identity_open(&ic, &id)) != IMAGO_OK) {
                if (r == IMAGO_EPERM)
                        fprintf(stderr,
                                "imago-agent: refusing the file key in production mode: %s "
                                "(%s)\n",
                                IMAGO_IDENTITY_FILE_REFUSED, imago_errname(r));
                else
                        fprintf(stderr, "imago-agent: cannot open the identity: %s (%s)\n",
                                imago_strerror(r), imago_errname(r));
                goto out;
        }
        imago_identity_device_id(id, devid);
        if ((r = imago_p11_open(c.module, c.token, have_pin ? pin : NULL, &tok)) != IMAGO_OK ||
            (r = open_store(&c, tok, &a.store)) != IMAGO_OK) {
                fprintf(stderr, "imago-agent: cannot open the secret store: %s (%s)\n",
                        imago_strerror(r), imago_errname(r));
                goto out;
        }
        if ((r = get_pem(a.store, IMAGO_REC_BIRTH_CERT, &birth)) != IMAGO_OK ||
            (r = get_pem(a.store, REC_DEVICE_CERT, &cert)) != IMAGO_OK ||
            (r = get_pem(a.store, REC_DEVICE_CHAIN, &chain)) != IMAGO_OK) {
                fprintf(stderr, "imago-agent: cannot read the store: %s (%s)\n", imago_strerror(r),
                        imago_errname(r));
                goto out;
        }
        if (birth == NULL && c.birth_cert != NULL &&
            (r = read_birth_file(c.birth_cert, &birth)) != IMAGO_OK) {
                fprintf(stderr, "imago-agent: birth certificate %s: %s (%s)\n", c.birth_cert,
                        imago_strerror(r), imago_errname(r));
                goto out;
        }
        if (cert != NULL && chain == NULL) {
                IMAGO_WARN("operational certificate without its chain: enrolling again");
                free(cert);
                cert = NULL;
        }
        if (cert == NULL && birth == NULL) {
                fprintf(stderr, "imago-agent: the store holds neither an operational nor a birth "
                                "certificate\n");
                goto out;
        }
        fprintf(stderr, "imago-agent: device %s, %s\n", devid,
                cert != NULL ? "operational certificate" : "birth certificate: enrolling");
        memset(&lc, 0, sizeof(lc));
        lc.identity = id;
        lc.host = c.host;
        lc.port = c.port;
        lc.ca_path = c.ca;
        lc.server_name = c.server_name;
        lc.root_path = c.root_ca;
        lc.birth_pem = birth;
        lc.cert_pem = cert;
        lc.chain_pem = cert != NULL ? chain : NULL;
        lc.keepalive_s = (uint16_t)c.keepalive;
        lc.backoff_cap_ms = c.backoff_max * 1000U;
        lc.max_failures = once ? 3 : 0;
        if ((base = event_base_new()) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        signal(SIGPIPE, SIG_IGN);
        if ((r = imago_link_new(base, &lc, &cb, &link)) != IMAGO_OK) {
                fprintf(stderr, "imago-agent: %s (%s)\n", imago_strerror(r), imago_errname(r));
                goto out;
        }
        r = imago_link_run_blocking(link, once, once ? timeout_s * 1000U : 0, 1);
        if (r != IMAGO_OK) {
                fprintf(stderr, "imago-agent: %s (%s)\n", imago_strerror(r), imago_errname(r));
                goto out;
        }
        if (once)
                printf("imago-agent: online as %s with its operational certificate\n", devid);
        rc = 0;
out:
        imago_link_free(link);
        if (base != NULL)
                event_base_free(base);
        imago_store_close(a.store);
        imago_p11_close(tok);
        imago_identity_close(id);
        imago_wipe(pin, sizeof(pin));
        free(birth);
        free(cert);
        free(chain);
        free(text);
        agent_conf_free(&c);
        return rc;
}
