/* See svc.h: the app side of the service (app.db, audit.db, keys, devsvc, the HTTPS API). */
#define _POSIX_C_SOURCE 200809L
#include "cloud/svc_priv.h"

#include "base/err.h"
#include "base/wipe.h"
#include "cloud/api/api.h"
#include "cloud/appdb/appdb.h"
#include "cloud/audit/audit.h"
#include "cloud/devsvc/devsvc.h"
#include "cloud/svc_log.h"
#include "cloud/svc_ota.h"
#include "cloud/svc_repo.h"
#include "crypto/keys.h"
#include "crypto/keys_openssl.h"
#include "net/https.h"
#include "regtoken/regtoken.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define DEV_PREFIX     "imago/v1/d/"
#define DEV_PREFIX_LEN (sizeof(DEV_PREFIX) - 1)
#define DEV_ID_LEN     32

struct imago_svc_app {
        struct imago_appdb *db;
        struct imago_audit *audit;
        struct imago_privkey cmd_key;
        struct imago_regtoken_key regkey;
        SSL_CTX *ssl;
        struct imago_devsvc *ds;
        struct imago_api *api;
        struct imago_svc_repo *repo; /* svc_repo.c: the image repository's timestamp timer */
};

/* ---- devsvc ops: the service's MQTT session, registry and deny file ---- */

static int op_publish(void *arg, const char *topic, const void *buf, size_t len)
{
        return imago_svc_publish(arg, topic, buf, len);
}

static int op_revoke(void *arg, const char *device, const char *reason)
{
        struct imago_svc *s = arg;
        char path[IMAGO_CLOUD_PATH_MAX + 32];
        int r;

        r = imago_registry_revoke(s->reg, device, reason);
        /* already revoked: still make sure the deny file and the broker agree */
        if (r == IMAGO_EREG_STATE)
                r = IMAGO_OK;
        if (r == IMAGO_OK && (r = imago_svc_path(s, IMAGO_CLOUD_F_DENY, path, sizeof(path))) == 0)
                r = imago_cloud_datadir_write_deny(s->reg, path);
        /* kick a live session now; the deny file keeps it out after a restart */
        if (r == IMAGO_OK)
                r = imago_svc_deny_id(s, device, "revoked");
        imago_svc_log(r == IMAGO_OK ? IMAGO_LOG_INFO : IMAGO_LOG_ERROR, "device_revoke",
                      "id=%s by=api result=%s", device, r == IMAGO_OK ? "ok" : imago_errname(r));
        return r;
}

static void op_cmd_done(void *arg, uint64_t cmd_id)
{
        struct imago_svc *s = arg;

        if (s->app != NULL && s->app->api != NULL)
                imago_api_cmd_done(s->app->api, cmd_id);
}

/* ---- start / stop ---- */

static int load_keys(struct imago_svc *s, struct imago_svc_app *a, const char *passphrase)
{
        struct imago_privkey rk;
        char path[IMAGO_CLOUD_PATH_MAX + 32];
        const char *what = IMAGO_CLOUD_F_CMD_KEY;
        int r;

        memset(&rk, 0, sizeof(rk));
        if ((r = imago_svc_path(s, IMAGO_CLOUD_F_CMD_KEY, path, sizeof(path))) != 0 ||
            (r = imago_privkey_load(path, passphrase, &a->cmd_key)) != 0)
                goto out;
        r = IMAGO_EKEY_FORMAT;
        if (a->cmd_key.type != IMAGO_KEY_ED25519)
                goto out;
        what = IMAGO_CLOUD_F_REGTOKEN_KEY;
        if ((r = imago_svc_path(s, IMAGO_CLOUD_F_REGTOKEN_KEY, path, sizeof(path))) != 0 ||
            (r = imago_privkey_load(path, passphrase, &rk)) != 0 ||
            (r = imago_regtoken_key_from_pkey(imago_privkey_evp(&rk), &a->regkey)) != 0)
                goto out;
        what = IMAGO_CLOUD_F_API_KEY;
        {
                char crt[IMAGO_CLOUD_PATH_MAX + 32];

                if ((r = imago_svc_path(s, IMAGO_CLOUD_F_API_CRT, crt, sizeof(crt))) != 0 ||
                    (r = imago_svc_path(s, IMAGO_CLOUD_F_API_KEY, path, sizeof(path))) != 0 ||
                    (r = imago_https_server_ctx(crt, path, passphrase, NULL, &a->ssl)) != 0)
                        goto out;
        }
out:
        if (r != 0)
                imago_svc_log(IMAGO_LOG_ERROR, "app_keys", "result=%s file=%s", imago_errname(r),
                              what);
        /* the regtoken key holds its own reference to the EVP key */
        imago_privkey_free(&rk);
        return r;
}

static int open_dbs(struct imago_svc *s, struct imago_svc_app *a)
{
        char path[IMAGO_CLOUD_PATH_MAX + 32];
        int r;

        if ((r = imago_svc_path(s, IMAGO_CLOUD_F_APPDB, path, sizeof(path))) != 0)
                return r;
        if ((r = imago_appdb_open(path, &a->db)) != 0) {
                imago_svc_log(IMAGO_LOG_ERROR, "appdb_open", "result=%s", imago_errname(r));
                return r;
        }
        if ((r = imago_svc_path(s, IMAGO_CLOUD_F_AUDIT, path, sizeof(path))) != 0)
                return r;
        if ((r = imago_audit_open(path, &a->audit)) != 0)
                imago_svc_log(IMAGO_LOG_ERROR, "audit_open", "result=%s", imago_errname(r));
        return r;
}

int imago_svc_app_check(const struct imago_svc *s)
{
        const char *missing = NULL;
        int r = imago_cloud_datadir_check_app(s->dir, &missing);

        if (r == IMAGO_ENOTFOUND)
                imago_svc_log(IMAGO_LOG_ERROR, "data_dir",
                              "result=%s missing=%s/%s hint=\"made before the app API: create a "
                              "new data directory with imago-cloud init (docs/cloud.md)\"",
                              imago_errname(r), s->dir, missing != NULL ? missing : "?");
        return r;
}

int imago_svc_app_start(struct imago_svc *s, const char *passphrase)
{
        struct imago_devsvc_config dc;
        struct imago_devsvc_ops ops;
        struct imago_api_config ac;
        struct imago_svc_app *a;
        int r;

        memset(&ac, 0, sizeof(ac));
        if ((a = calloc(1, sizeof(*a))) == NULL)
                return IMAGO_ENOMEM;
        s->app = a;
        if ((r = open_dbs(s, a)) != 0 || (r = load_keys(s, a, passphrase)) != 0)
                goto out;

        memset(&dc, 0, sizeof(dc));
        dc.db = a->db;
        dc.audit = a->audit;
        dc.reg = s->reg;
        dc.regkey = &a->regkey;
        dc.cmd_key = &a->cmd_key;
        memset(&ops, 0, sizeof(ops));
        ops.publish = op_publish;
        ops.revoke = op_revoke;
        ops.cmd_done = op_cmd_done;
        ops.arg = s;
        if ((r = imago_devsvc_new(&dc, &ops, &a->ds)) != 0) {
                imago_svc_log(IMAGO_LOG_ERROR, "devsvc", "result=%s", imago_errname(r));
                goto out;
        }

        ac.host = s->cfg.api_host;
        ac.port = s->cfg.api_port;
        ac.ssl = a->ssl;
        ac.regkey = &a->regkey;
        ac.db = a->db;
        ac.audit = a->audit;
        ac.reg = s->reg;
        ac.ds = a->ds;
        imago_auth_argon2_defaults(&ac.argon);
        ac.signup = s->cfg.api_signup;
        /* updates: director, rollout engine (svc_ota.c; NULL without director keys) */
        if ((r = imago_svc_ota_start(s, passphrase, a->audit, &s->ota)) != 0)
                goto out;
        ac.rollout = imago_svc_ota_rollout(s->ota);
        ac.rollout_ops = imago_svc_ota_ops(s->ota);
        ac.data_dir = s->dir;
        /* access tokens are signed with a secret drawn at every start, kept only in memory */
        if (RAND_bytes(ac.token_secret, sizeof(ac.token_secret)) != 1) {
                r = IMAGO_ECRYPTO;
                goto out;
        }
        if ((r = imago_api_new(s->base, &ac, &a->api)) != 0) {
                imago_svc_log(IMAGO_LOG_ERROR, "api_listen", "result=%s host=%s port=%u",
                              imago_errname(r), s->cfg.api_host, (unsigned)s->cfg.api_port);
                goto out;
        }
        if ((r = imago_svc_repo_start(s->base, s->dir, passphrase, a->audit, &a->repo)) != 0)
                goto out;
        imago_svc_log(IMAGO_LOG_INFO, "api_listening", "host=%s port=%u signup=%s", s->cfg.api_host,
                      (unsigned)imago_api_port(a->api), s->cfg.api_signup ? "on" : "off");
        r = IMAGO_OK;
out:
        /* the api keeps its own copy of the secret */
        imago_wipe(ac.token_secret, sizeof(ac.token_secret));
        return r;
}

void imago_svc_app_stop(struct imago_svc *s)
{
        struct imago_svc_app *a = s->app;

        if (a == NULL)
                return;
        /* the api first (it holds pending requests on devsvc), then what they borrow */
        imago_api_free(a->api);
        imago_svc_ota_stop(s->ota);
        s->ota = NULL;
        imago_svc_repo_stop(a->repo);
        imago_devsvc_free(a->ds);
        SSL_CTX_free(a->ssl);
        imago_regtoken_key_free(&a->regkey);
        imago_privkey_free(&a->cmd_key);
        imago_audit_close(a->audit);
        imago_appdb_close(a->db);
        free(a);
        s->app = NULL;
}

uint16_t imago_svc_app_port(const struct imago_svc *s)
{
        return s->app != NULL && s->app->api != NULL ? imago_api_port(s->app->api) : 0;
}

int imago_svc_app_topic(const char *topic)
{
        static const char *const suffixes[] = {"/reg/req", "/state/rep", "/cmd/res"};
        size_t i, n;

        if (topic == NULL || strncmp(topic, DEV_PREFIX, DEV_PREFIX_LEN) != 0)
                return 0;
        n = strlen(topic);
        if (n < DEV_PREFIX_LEN + DEV_ID_LEN || memchr(topic + DEV_PREFIX_LEN, '/', DEV_ID_LEN))
                return 0;
        for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
                if (strcmp(topic + DEV_PREFIX_LEN + DEV_ID_LEN, suffixes[i]) == 0)
                        return 1;
        return 0;
}

void imago_svc_app_message(struct imago_svc *s, const char *topic, const void *buf, size_t len)
{
        if (s->app == NULL || s->app->ds == NULL)
                return;
        imago_devsvc_on_message(s->app->ds, topic, buf, len);
}
