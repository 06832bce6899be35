/* imago_dev: signed commands: verify, persist the sequence, run the handler, answer (see dev.h). */
#include "device/app/dev_priv.h"

#include "base/err.h"
#include "base/log.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

static const struct imago_dev_cmd *dev_cmd_find(const struct imago_dev *d, const char *name)
{
        size_t i;

        for (i = 0; i < d->ncmds; i++)
                if (strcmp(d->cmds[i].name, name) == 0)
                        return &d->cmds[i];
        return NULL;
}

/*
 * The sequence of an envelope imago_cmdenv_verify() has already found authentic
 * (signature verified, payload well formed, this device): it answered with a
 * time-window error and released the parsed payload, so read "seq" again.
 */
static int dev_cmd_authentic_seq(const uint8_t *buf, size_t len, uint64_t *seq)
{
        json_t *env = NULL, *payload = NULL;
        const char *text, *s;
        size_t plen = 0;
        int r;

        if ((r = imago_json_object(buf, len, IMAGO_CMDENV_MAX, &env)) != 0)
                goto out;
        r = IMAGO_ECMD_MALFORMED;
        if ((text = imago_json_str(env, "payload", &plen)) == NULL)
                goto out;
        if ((r = imago_json_object((const uint8_t *)text, plen, IMAGO_CMDENV_PAYLOAD_MAX,
                                   &payload)) != 0)
                goto out;
        r = IMAGO_ECMD_MALFORMED;
        if ((s = imago_json_str(payload, "seq", NULL)) == NULL ||
            imago_cmdenv_seq_parse(s, seq) != 0)
                goto out;
        r = 0;
out:
        json_decref(payload);
        json_decref(env);
        return r;
}

/* {"error":"<IMAGO_E name>"} or NULL. */
static json_t *dev_cmd_error(int code)
{
        return json_pack("{s:s}", "error", imago_errname(code));
}

static void dev_cmd_answer(struct imago_dev *d, uint64_t seq, enum imago_cmdenv_status st,
                           json_t *result)
{
        char *text = NULL;
        json_t *err = NULL;
        int r;

        r = imago_cmdenv_result_build(d->id, seq, st, result, &text);
        if (r != 0 && r != IMAGO_ENOMEM && result != NULL) {
                /* The handler's result cannot travel (too large): say so instead. */
                IMAGO_WARN("dev %s: command %llu: the handler's result not sent: %s", d->id,
                           (unsigned long long)seq, imago_errname(r));
                st = IMAGO_CMDENV_FAILED;
                err = dev_cmd_error(r);
                r = imago_cmdenv_result_build(d->id, seq, st, err, &text);
        }
        if (r != 0) {
                IMAGO_ERR_R(r, "dev %s: command %llu: cannot build the result", d->id,
                            (unsigned long long)seq);
                goto out;
        }
        if ((r = imago_dev_publish(d, IMAGO_STATE_T_CMD_RESULT, text, strlen(text))) != 0)
                IMAGO_WARN("dev %s: command %llu: result %s not sent: %s", d->id,
                           (unsigned long long)seq, imago_cmdenv_status_name(st), imago_errname(r));
out:
        json_decref(err);
        free(text);
}

static void dev_cmd_run(struct imago_dev *d, const struct imago_cmdenv *env)
{
        const struct imago_dev_cmd *h = dev_cmd_find(d, env->name);
        enum imago_cmdenv_status st;
        json_t *result = NULL;
        int r;

        if (h == NULL) {
                IMAGO_WARN("dev %s: command %llu: no handler for %s", d->id,
                           (unsigned long long)env->seq, env->name);
                dev_cmd_answer(d, env->seq, IMAGO_CMDENV_UNKNOWN, NULL);
                return;
        }
        IMAGO_INFO("dev %s: command %llu: %s", d->id, (unsigned long long)env->seq, env->name);
        r = h->fn(h->arg, env->name, env->args, &result);
        st = r == 0 ? IMAGO_CMDENV_OK : IMAGO_CMDENV_FAILED;
        if (result != NULL && !json_is_object(result)) {
                /* A result is an object (the result message's format); anything else is a bug. */
                json_decref(result);
                result = NULL;
                if (r == 0)
                        r = IMAGO_EINVAL;
                st = IMAGO_CMDENV_FAILED;
        }
        if (st == IMAGO_CMDENV_FAILED && result == NULL)
                result = dev_cmd_error(r);
        dev_cmd_answer(d, env->seq, st, result);
        json_decref(result);
}

/* An authentic envelope for this device, above the last sequence, outside its time window. */
static void dev_cmd_reject(struct imago_dev *d, const uint8_t *buf, size_t len, uint64_t last,
                           int why)
{
        json_t *err = NULL;
        uint64_t seq = 0;
        int r;

        if ((r = dev_cmd_authentic_seq(buf, len, &seq)) != 0 || seq <= last)
                goto out;
        /* Consumed first: "rejected" is final, the envelope can never run later. */
        if ((r = d->save_seq(d->seq_arg, seq)) != 0) {
                IMAGO_ERR_R(r, "dev %s: command %llu: cannot persist the sequence", d->id,
                            (unsigned long long)seq);
                goto out;
        }
        err = dev_cmd_error(why);
        dev_cmd_answer(d, seq, IMAGO_CMDENV_REJECTED, err);
out:
        json_decref(err);
}

void imago_dev_on_cmd(struct imago_dev *d, const uint8_t *buf, size_t len)
{
        struct imago_cmdenv env;
        uint64_t last = 0;
        int r;

        memset(&env, 0, sizeof(env));
        if (d->cmd_key == NULL) {
                IMAGO_WARN("dev %s: command dropped: no command key is pinned", d->id);
                return;
        }
        if ((r = d->load_seq(d->seq_arg, &last)) != 0) {
                IMAGO_ERR_R(r, "dev %s: command dropped: cannot read the last sequence", d->id);
                return;
        }
        r = imago_cmdenv_verify(buf, len, d->cmd_key, d->id, last, imago_dev_now(d), d->skew, &env);
        if (r == IMAGO_ECMD_EXPIRED || r == IMAGO_ECMD_NOTYET) {
                IMAGO_WARN("dev %s: command refused: %s", d->id, imago_errname(r));
                dev_cmd_reject(d, buf, len, last, r);
                goto out;
        }
        if (r != 0) {
                /* Forged, malformed, another device's, or a replay: no answer. */
                IMAGO_WARN("dev %s: command dropped: %s", d->id, imago_errname(r));
                goto out;
        }
        /* Persisted before the handler runs: a crash never lets it run twice. */
        if ((r = d->save_seq(d->seq_arg, env.seq)) != 0) {
                IMAGO_ERR_R(r, "dev %s: command %llu not run: cannot persist the sequence", d->id,
                            (unsigned long long)env.seq);
                goto out;
        }
        dev_cmd_run(d, &env);
out:
        imago_cmdenv_release(&env);
}
