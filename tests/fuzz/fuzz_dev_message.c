/*
 * libFuzzer target: every message the device library takes from the broker
 * (imago_dev_on_message), with a few command handlers and state fields
 * registered and a registration pending.  The first byte picks the topic:
 * 0 = cmd (raw bytes: nothing unsigned may run a handler or make the device
 * publish), 1 = cmd with the rest as a payload text signed here with the
 * pinned key (reaches the handlers and the result path), 2 = state/ack,
 * 3 = state/delta, 4 = reg/resp, 5 = a topic the library does not handle.
 * Checks: a handler runs only for a verified envelope, at most one answer per
 * command and it is a well-formed result of this device.
 */
#include "base/err.h"
#include "base/log.h"
#include "cmdenv/cmdenv.h"
#include "device/app/dev.h"
#include "state/state.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ID  "0123456789abcdef0123456789abcdef"
#define NOW 1800000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct imago_privkey fz_priv;
static struct imago_pubkey fz_pub;
static int fz_ready;

static void fz_log_sink(enum imago_log_level level, const char *line, void *arg)
{
        (void)level;
        (void)line;
        (void)arg;
}

struct fz {
        uint64_t seq;
        int runs;
        int pubs;
        int bad;
        json_t *value; /* the "any" field's value */
        int level;
};

static int64_t fz_now(void)
{
        return NOW;
}

static int fz_publish(void *arg, const char *suffix, const uint8_t *buf, size_t len)
{
        struct fz *f = arg;
        struct imago_cmdenv_result r;
        struct imago_state_msg m;

        f->pubs++;
        if (strcmp(suffix, IMAGO_STATE_T_CMD_RESULT) == 0) {
                if (imago_cmdenv_result_parse(buf, len, &r) != 0 || strcmp(r.device, ID) != 0)
                        f->bad = 1;
                imago_cmdenv_result_release(&r);
        } else if (strcmp(suffix, IMAGO_STATE_T_REPORT) == 0) {
                if (imago_state_msg_parse(IMAGO_STATE_MSG_REPORT, buf, len, &m) != 0)
                        f->bad = 1;
                imago_state_msg_free(&m);
        } else if (strcmp(suffix, IMAGO_STATE_T_REGISTER) != 0) {
                f->bad = 1;
        }
        return 0;
}

static int fz_load(void *arg, uint64_t *seq)
{
        *seq = ((struct fz *)arg)->seq;
        return 0;
}

static int fz_save(void *arg, uint64_t seq)
{
        struct fz *f = arg;

        if (seq <= f->seq)
                f->bad = 1; /* a sequence never goes back */
        f->seq = seq;
        return 0;
}

static int fz_echo(void *arg, const char *name, json_t *args, json_t **result)
{
        (void)name;
        ((struct fz *)arg)->runs++;
        *result = json_deep_copy(args);
        return 0;
}

static int fz_fail(void *arg, const char *name, json_t *args, json_t **result)
{
        (void)name;
        (void)args;
        (void)result;
        ((struct fz *)arg)->runs++;
        return IMAGO_EIO;
}

static json_t *fz_get_level(void *arg)
{
        return json_integer(((struct fz *)arg)->level);
}

static int fz_set_level(void *arg, json_t *desired)
{
        if (!json_is_integer(desired))
                return -1;
        ((struct fz *)arg)->level = (int)(json_integer_value(desired) & 0xff);
        return 0;
}

static json_t *fz_get_any(void *arg)
{
        struct fz *f = arg;

        return f->value != NULL ? json_incref(f->value) : json_string("none");
}

static int fz_set_any(void *arg, json_t *desired)
{
        struct fz *f = arg;

        json_decref(f->value);
        f->value = json_incref(desired);
        return 0;
}

static json_t *fz_get_ro(void *arg)
{
        (void)arg;
        return json_pack("{s:i, s:s}", "a", 1, "b", "x");
}

static char *fz_sign(const uint8_t *p, size_t len)
{
        uint8_t digest[IMAGO_SHA256_LEN], sig[IMAGO_SIG_MAX_LEN];
        char hex[2 * IMAGO_SIG_MAX_LEN + 1], *out = NULL;
        size_t sig_len = 0;
        json_t *env = NULL;

        if (imago_cmdenv_digest((const char *)p, len, digest) != 0 ||
            imago_privkey_sign_digest(&fz_priv, digest, sig, &sig_len) != 0)
                goto out;
        imago_hex_encode(sig, sig_len, hex);
        env = json_pack("{s:i, s:s#, s:s}", "v", 1, "payload", (const char *)p, len, "sig", hex);
        if (env != NULL)
                out = json_dumps(env, JSON_COMPACT);
out:
        json_decref(env);
        return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const suffixes[] = {IMAGO_STATE_T_CMD,        IMAGO_STATE_T_CMD,
                                               IMAGO_STATE_T_ACK,        IMAGO_STATE_T_DELTA,
                                               IMAGO_STATE_T_REGISTERED, "rot/now"};
        struct imago_dev_config c;
        struct imago_dev *d = NULL;
        struct fz f;
        char *env = NULL;
        int mode;

        if (!fz_ready) {
                if (imago_privkey_generate(IMAGO_KEY_ED25519, &fz_priv) != 0 ||
                    imago_privkey_public(&fz_priv, &fz_pub) != 0)
                        __builtin_trap();
                imago_log_set_sink(fz_log_sink, NULL); /* every input is logged: keep it quiet */
                fz_ready = 1;
        }
        if (size < 1)
                return 0;
        mode = data[0] % 6;
        memset(&f, 0, sizeof(f));
        memset(&c, 0, sizeof(c));
        c.cmd_key = &fz_pub;
        c.skew = 60;
        c.load_seq = fz_load;
        c.save_seq = fz_save;
        c.seq_arg = &f;
        c.now = fz_now;
        c.publish = fz_publish;
        c.publish_arg = &f;
        c.device_id = ID;
        if (imago_dev_new(&c, &d) != 0 || imago_dev_command(d, "echo", fz_echo, &f) != 0 ||
            imago_dev_command(d, "fail", fz_fail, &f) != 0 ||
            imago_dev_state_field(d, "level", fz_get_level, fz_set_level, &f) != 0 ||
            imago_dev_state_field(d, "any", fz_get_any, fz_set_any, &f) != 0 ||
            imago_dev_state_field(d, "ro", fz_get_ro, NULL, &f) != 0 ||
            imago_dev_register(d, "a.b.c", NULL, NULL) != 0)
                __builtin_trap();
        imago_dev_online(d);
        f.pubs = 0;
        if (mode == 2 || mode == 3) {
                /* an accepted ack first, so deltas are answered with patches */
                static const char ack[] = "{\"v\":1,\"version\":1,\"accepted\":true}";
                imago_dev_on_message(d, IMAGO_STATE_T_ACK, (const uint8_t *)ack, sizeof(ack) - 1);
        }
        if (mode == 1) {
                if ((env = fz_sign(data + 1, size - 1)) != NULL)
                        imago_dev_on_message(d, suffixes[mode], (const uint8_t *)env, strlen(env));
                if (f.pubs > 1)
                        __builtin_trap(); /* one answer per command */
        } else {
                imago_dev_on_message(d, suffixes[mode], data + 1, size - 1);
        }
        if (mode == 0 && (f.runs != 0 || f.pubs != 0))
                __builtin_trap(); /* nothing unsigned runs or makes the device talk */
        if (f.bad)
                __builtin_trap();
        if (mode == 3) {
                /* a second identical delta must not start a report loop */
                f.pubs = 0;
                imago_dev_on_message(d, suffixes[mode], data + 1, size - 1);
                if (f.pubs != 0)
                        __builtin_trap();
        }
        imago_dev_free(d);
        json_decref(f.value);
        free(env);
        return 0;
}
