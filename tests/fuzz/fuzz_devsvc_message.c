/*
 * libFuzzer target: imago_devsvc_on_message, the cloud's handling of every
 * message a device sends on its channel.  Input: a topic suffix up to the
 * first newline, then the payload; the topic is imago/v1/d/<enrolled id>/
 * <suffix>.  Real SQLite files (app.db, audit.db, registry.db) in a
 * temporary directory removed at exit, a real registration-token key and a
 * real Ed25519 command key; a few commands are sent first so results can
 * match them.  The published answers are parsed back: the service must only
 * ever publish what its own parsers accept.
 */
#define _POSIX_C_SOURCE 200809L
#include "cloud/appdb/appdb.h"
#include "cloud/audit/audit.h"
#include "cloud/devsvc/devsvc.h"
#include "cloud/registry/registry.h"
#include "crypto/keys.h"
#include "regtoken/regtoken.h"
#include "state/state.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ID  "0123456789abcdef0123456789abcdef"
#define PEM "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_dir[64];
static struct imago_appdb *fz_db;
static struct imago_audit *fz_audit;
static struct imago_registry *fz_reg;
static struct imago_regtoken_key fz_regkey;
static struct imago_privkey fz_cmd;
static struct imago_devsvc *fz_ds;

static int64_t fz_now(void)
{
        return 1800000000;
}

static int fz_publish(void *arg, const char *topic, const void *buf, size_t len)
{
        static const struct {
                const char *suffix;
                enum imago_state_msg_type type;
        } out[] = {{"/state/ack", IMAGO_STATE_MSG_ACK},
                   {"/state/delta", IMAGO_STATE_MSG_DELTA},
                   {"/reg/resp", IMAGO_STATE_MSG_REGISTERED}};
        struct imago_state_msg m;
        size_t i, tl = strlen(topic);

        (void)arg;
        for (i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
                size_t sl = strlen(out[i].suffix);

                if (tl > sl && strcmp(topic + tl - sl, out[i].suffix) == 0) {
                        if (imago_state_msg_parse(out[i].type, buf, len, &m) != 0)
                                __builtin_trap();
                        imago_state_msg_free(&m);
                        return 0;
                }
        }
        if (tl < 4 || strcmp(topic + tl - 4, "/cmd") != 0)
                __builtin_trap();
        return 0;
}

static int fz_revoke(void *arg, const char *device, const char *reason)
{
        (void)arg;
        (void)device;
        (void)reason;
        return 0;
}

static void fz_done(void *arg, uint64_t id)
{
        (void)arg;
        (void)id;
}

static void fz_cleanup(void)
{
        static const char *const names[] = {"app.db",      "app.db-wal",      "app.db-shm",
                                            "audit.db",    "audit.db-wal",    "audit.db-shm",
                                            "registry.db", "registry.db-wal", "registry.db-shm"};
        char path[128];
        size_t i;

        imago_devsvc_free(fz_ds);
        imago_appdb_close(fz_db);
        imago_audit_close(fz_audit);
        imago_registry_close(fz_reg);
        imago_regtoken_key_free(&fz_regkey);
        imago_privkey_free(&fz_cmd);
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                snprintf(path, sizeof(path), "%s/%s", fz_dir, names[i]);
                unlink(path);
        }
        rmdir(fz_dir);
}

static void fz_init(void)
{
        struct imago_devsvc_config c = {0};
        struct imago_devsvc_ops ops = {0};
        uint8_t hash[32] = {1};
        uint64_t user, id;
        char path[128], *pem = NULL;
        int i;

        snprintf(fz_dir, sizeof(fz_dir), "/tmp/imago-fuzz-devsvc-XXXXXX");
        if (mkdtemp(fz_dir) == NULL)
                __builtin_trap();
        atexit(fz_cleanup);
        snprintf(path, sizeof(path), "%s/app.db", fz_dir);
        if (imago_appdb_open(path, &fz_db) != 0)
                __builtin_trap();
        snprintf(path, sizeof(path), "%s/audit.db", fz_dir);
        if (imago_audit_open(path, &fz_audit) != 0)
                __builtin_trap();
        snprintf(path, sizeof(path), "sqlite:%s/registry.db", fz_dir);
        if (imago_registry_open(path, &fz_reg) != 0 ||
            imago_registry_import(fz_reg, "batch-1", ID, "b1") != 0 ||
            imago_registry_enrol(fz_reg, ID, hash, "a1", PEM, 1900000000, &pem) != 0)
                __builtin_trap();
        free(pem);
        if (imago_regtoken_key_generate(&fz_regkey) != 0 ||
            imago_privkey_generate(IMAGO_KEY_ED25519, &fz_cmd) != 0 ||
            imago_appdb_user_add(fz_db, "alice", "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA",
                                 1700000000, &user) != 0)
                __builtin_trap();
        c.db = fz_db;
        c.audit = fz_audit;
        c.reg = fz_reg;
        c.regkey = &fz_regkey;
        c.cmd_key = &fz_cmd;
        c.now = fz_now;
        ops.publish = fz_publish;
        ops.revoke = fz_revoke;
        ops.cmd_done = fz_done;
        if (imago_devsvc_new(&c, &ops, &fz_ds) != 0)
                __builtin_trap();
        for (i = 0; i < 8; i++) {
                if (imago_devsvc_command(fz_ds, ID, user, "ping", NULL, 3600, &id) != 0)
                        __builtin_trap();
        }
        if (imago_devsvc_set_desired(fz_ds, ID, user, 0, "{\"t\":22,\"led\":{\"on\":true}}", 26,
                                     &id) != 0)
                __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *nl = memchr(data, '\n', size < 64 ? size : 64);
        char topic[128];
        size_t sl;

        if (fz_ds == NULL)
                fz_init();
        if (nl == NULL)
                return 0;
        sl = (size_t)(nl - data);
        snprintf(topic, sizeof(topic), "imago/v1/d/" ID "/%.*s", (int)sl, (const char *)data);
        /* a NUL inside the suffix just ends the topic early */
        imago_devsvc_on_message(fz_ds, topic, nl + 1, size - sl - 1);
        return 0;
}
