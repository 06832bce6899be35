/* imago_dev: registration: forward the token, retry, match the answer (see dev.h). */
#include "device/app/dev_priv.h"

#include "base/err.h"
#include "base/log.h"
#include "base/wipe.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/rand.h>

void imago_dev_reg_clear(struct imago_dev *d)
{
        if (d->timer != NULL)
                event_del(d->timer);
        imago_wipe(d->token, sizeof(d->token));
        memset(d->nonce, 0, sizeof(d->nonce));
        d->reg_pending = 0;
        d->reg_done = NULL;
        d->reg_arg = NULL;
        d->reg_sent = 0;
}

static void dev_reg_send(struct imago_dev *d)
{
        struct imago_state_msg m;
        char *text = NULL;
        size_t len = 0;
        int r;

        memset(&m, 0, sizeof(m));
        d->reg_sent = imago_dev_now(d);
        m.type = IMAGO_STATE_MSG_REGISTER;
        memcpy(m.nonce, d->nonce, sizeof(m.nonce));
        memcpy(m.token, d->token, sizeof(m.token));
        if ((r = imago_state_msg_build(&m, &text, &len)) != 0) {
                IMAGO_ERR_R(r, "dev %s: cannot build the registration", d->id);
                goto out;
        }
        if ((r = imago_dev_publish(d, IMAGO_STATE_T_REGISTER, text, len)) != 0)
                IMAGO_INFO("dev %s: registration not sent yet: %s", d->id, imago_errname(r));
        else
                IMAGO_INFO("dev %s: registration sent", d->id);
out:
        if (text != NULL)
                imago_wipe(text, len);
        free(text);
        imago_wipe(m.token, sizeof(m.token));
}

void imago_dev_reg_send_fresh(struct imago_dev *d)
{
        uint8_t raw[16];

        if (!d->reg_pending)
                return;
        if (RAND_bytes(raw, sizeof(raw)) != 1) {
                IMAGO_ERR_R(IMAGO_ECRYPTO, "dev %s: no random nonce", d->id);
                return;
        }
        imago_hex_encode(raw, sizeof(raw), d->nonce);
        dev_reg_send(d);
}

void imago_dev_tick(struct imago_dev *d)
{
        int64_t now;

        if (d == NULL || !d->reg_pending)
                return;
        now = imago_dev_now(d);
        if (d->nonce[0] != '\0' && now >= d->reg_sent && now - d->reg_sent < IMAGO_DEV_REG_RETRY_S)
                return;
        if (d->nonce[0] == '\0')
                imago_dev_reg_send_fresh(d);
        else
                dev_reg_send(d);
}

/* A compact JWE: base64url parts joined by dots. */
static int dev_token_valid(const char *s, size_t len)
{
        size_t i;

        for (i = 0; i < len; i++) {
                char c = s[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.'))
                        return 0;
        }
        return len > 0;
}

int imago_dev_register(struct imago_dev *d, const char *token, void (*done)(void *arg, int result),
                       void *arg)
{
        struct timeval tv = {1, 0};
        size_t len;
        int r = IMAGO_EINVAL;

        if (d == NULL || token == NULL)
                goto out;
        r = IMAGO_ETOOBIG;
        for (len = 0; len <= IMAGO_STATE_TOKEN_MAX && token[len] != '\0'; len++)
                ;
        if (len > IMAGO_STATE_TOKEN_MAX)
                goto out;
        r = IMAGO_EINVAL;
        if (!dev_token_valid(token, len))
                goto out;
        r = IMAGO_ESTATE;
        if (d->reg_pending)
                goto out;
        memcpy(d->token, token, len + 1);
        d->reg_pending = 1;
        d->reg_done = done;
        d->reg_arg = arg;
        r = IMAGO_ENOMEM;
        if (d->timer != NULL && event_add(d->timer, &tv) != 0) {
                imago_dev_reg_clear(d);
                goto out;
        }
        /* Now if the link is up; else on the next online (or tick). */
        imago_dev_reg_send_fresh(d);
        r = 0;
out:
        return r;
}

void imago_dev_on_registered(struct imago_dev *d, const uint8_t *buf, size_t len)
{
        void (*done)(void *arg, int result);
        struct imago_state_msg m;
        void *arg;
        int r, result = 0;

        memset(&m, 0, sizeof(m));
        if ((r = imago_state_msg_parse(IMAGO_STATE_MSG_REGISTERED, buf, len, &m)) != 0) {
                IMAGO_WARN("dev %s: registration answer dropped: %s", d->id, imago_errname(r));
                goto out;
        }
        if (!d->reg_pending || d->nonce[0] == '\0' || strcmp(m.nonce, d->nonce) != 0) {
                IMAGO_WARN("dev %s: registration answer with an unexpected nonce dropped", d->id);
                goto out;
        }
        if (strcmp(m.result, "ok") != 0 && imago_err_from_name(m.result, &result) != 0) {
                IMAGO_WARN("dev %s: registration answer names an unknown error", d->id);
                result = IMAGO_EPROTO_FIELD;
        }
        if (result > 0 || (strcmp(m.result, "ok") != 0 && result == 0))
                result = IMAGO_EPROTO_FIELD; /* "IMAGO_OK" is not the way to say ok */
        IMAGO_INFO("dev %s: registration answered: %s", d->id,
                   result == 0 ? "ok" : imago_errname(result));
        done = d->reg_done;
        arg = d->reg_arg;
        imago_dev_reg_clear(d);
        /* Now bound to its user: report the whole state again, in case the cloud set aside
         * what came before the binding. */
        if (result == 0)
                imago_dev_report_full(d);
        if (done != NULL)
                done(arg, result);
out:
        imago_state_msg_free(&m);
}
