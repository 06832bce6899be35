/* imago_dev: setup, registration of handlers and fields, message dispatch (see dev.h). */
#include "device/app/dev_priv.h"

#include "base/err.h"
#include "base/log.h"
#include "base/wipe.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#define DEV_DEFAULT_SKEW 300

int64_t imago_dev_now(struct imago_dev *d)
{
        return d->now != NULL ? d->now() : (int64_t)time(NULL);
}

int imago_dev_publish(struct imago_dev *d, const char *suffix, const char *text, size_t len)
{
        if (d->publish != NULL)
                return d->publish(d->publish_arg, suffix, (const uint8_t *)text, len);
        if (d->link == NULL)
                return IMAGO_ESTATE;
        return imago_link_publish(d->link, suffix, (const uint8_t *)text, len);
}

void imago_dev_on_message(struct imago_dev *d, const char *suffix, const uint8_t *buf, size_t len)
{
        static const uint8_t empty[1] = {0};

        if (d == NULL || suffix == NULL)
                return;
        if (buf == NULL) {
                buf = empty;
                len = 0;
        }
        if (strcmp(suffix, IMAGO_STATE_T_CMD) == 0)
                imago_dev_on_cmd(d, buf, len);
        else if (strcmp(suffix, IMAGO_STATE_T_ACK) == 0)
                imago_dev_on_ack(d, buf, len);
        else if (strcmp(suffix, IMAGO_STATE_T_DELTA) == 0)
                imago_dev_on_delta(d, buf, len);
        else if (strcmp(suffix, IMAGO_STATE_T_REGISTERED) == 0)
                imago_dev_on_registered(d, buf, len);
        else
                IMAGO_DEBUG("dev %s: message on an unexpected topic dropped", d->id);
}

static void dev_link_cmd(void *arg, const char *topic, const uint8_t *buf, size_t len)
{
        (void)topic;
        imago_dev_on_message(arg, IMAGO_STATE_T_CMD, buf, len);
}

static void dev_link_ack(void *arg, const char *topic, const uint8_t *buf, size_t len)
{
        (void)topic;
        imago_dev_on_message(arg, IMAGO_STATE_T_ACK, buf, len);
}

static void dev_link_delta(void *arg, const char *topic, const uint8_t *buf, size_t len)
{
        (void)topic;
        imago_dev_on_message(arg, IMAGO_STATE_T_DELTA, buf, len);
}

static void dev_link_registered(void *arg, const char *topic, const uint8_t *buf, size_t len)
{
        (void)topic;
        imago_dev_on_message(arg, IMAGO_STATE_T_REGISTERED, buf, len);
}

static void dev_timer_cb(evutil_socket_t fd, short what, void *arg)
{
        (void)fd;
        (void)what;
        imago_dev_tick(arg);
}

static int dev_subscribe(struct imago_dev *d)
{
        int r;

        if ((r = imago_link_handle(d->link, IMAGO_STATE_T_CMD, dev_link_cmd, d)) != 0 ||
            (r = imago_link_handle(d->link, IMAGO_STATE_T_ACK, dev_link_ack, d)) != 0 ||
            (r = imago_link_handle(d->link, IMAGO_STATE_T_DELTA, dev_link_delta, d)) != 0 ||
            (r = imago_link_handle(d->link, IMAGO_STATE_T_REGISTERED, dev_link_registered, d)) != 0)
                IMAGO_ERR_R(r, "dev: cannot register the link handlers");
        return r;
}

int imago_dev_new(const struct imago_dev_config *c, struct imago_dev **out)
{
        struct imago_dev *d = NULL;
        const char *id;
        int r = IMAGO_EINVAL;

        if (out != NULL)
                *out = NULL;
        if (c == NULL || out == NULL || (c->link == NULL && c->publish == NULL) || c->skew < 0 ||
            c->skew > IMAGO_CMDENV_MAX_SKEW ||
            (c->cmd_key != NULL && (c->load_seq == NULL || c->save_seq == NULL)))
                goto out;
        id = c->device_id != NULL ? c->device_id : imago_link_device_id(c->link);
        if (!imago_device_id_valid(id))
                goto out;
        r = IMAGO_ENOMEM;
        if ((d = calloc(1, sizeof(*d))) == NULL)
                goto out;
        d->link = c->link;
        d->cmd_key = c->cmd_key;
        d->skew = c->skew != 0 ? c->skew : DEV_DEFAULT_SKEW;
        d->load_seq = c->load_seq;
        d->save_seq = c->save_seq;
        d->seq_arg = c->seq_arg;
        d->now = c->now;
        d->publish = c->publish;
        d->publish_arg = c->publish_arg;
        memcpy(d->id, id, IMAGO_DEVICE_ID_LEN + 1);
        if (c->base != NULL &&
            (d->timer = event_new(c->base, -1, EV_PERSIST, dev_timer_cb, d)) == NULL)
                goto out;
        r = 0;
        if (c->publish == NULL)
                r = dev_subscribe(d);
out:
        if (r != 0) {
                imago_dev_free(d);
                d = NULL;
        }
        if (out != NULL)
                *out = d;
        return r;
}

void imago_dev_free(struct imago_dev *d)
{
        size_t i;

        if (d == NULL)
                return;
        imago_dev_reg_clear(d);
        if (d->timer != NULL)
                event_free(d->timer);
        for (i = 0; i < d->nfields; i++)
                json_decref(d->fields[i].reported);
        imago_wipe(d, sizeof(*d));
        free(d);
}

int imago_dev_command(struct imago_dev *d, const char *name, imago_dev_cmd_fn fn, void *arg)
{
        size_t i;
        int r = IMAGO_EINVAL;

        if (d == NULL || fn == NULL || !imago_cmdenv_name_valid(name))
                goto out;
        r = IMAGO_EEXIST;
        for (i = 0; i < d->ncmds; i++)
                if (strcmp(d->cmds[i].name, name) == 0)
                        goto out;
        r = IMAGO_ETOOBIG;
        if (d->ncmds == IMAGO_DEV_MAX_COMMANDS)
                goto out;
        memcpy(d->cmds[d->ncmds].name, name, strlen(name) + 1);
        d->cmds[d->ncmds].fn = fn;
        d->cmds[d->ncmds].arg = arg;
        d->ncmds++;
        r = 0;
out:
        return r;
}

/* A member name of a state document: [A-Za-z_][A-Za-z0-9_-]{0,63}. */
static int dev_field_name_valid(const char *s)
{
        size_t i;

        if (s == NULL || s[0] == '\0' || (s[0] >= '0' && s[0] <= '9') || s[0] == '-')
                return 0;
        for (i = 0; s[i] != '\0'; i++) {
                char ch = s[i];
                if (i >= IMAGO_STATE_NAME_MAX)
                        return 0;
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
                        return 0;
        }
        return 1;
}

int imago_dev_state_field(struct imago_dev *d, const char *name, imago_dev_get_fn get,
                          imago_dev_set_fn set, void *arg)
{
        struct imago_dev_field *f;
        size_t i;
        int r = IMAGO_EINVAL;

        if (d == NULL || get == NULL || !dev_field_name_valid(name))
                goto out;
        r = IMAGO_EEXIST;
        for (i = 0; i < d->nfields; i++)
                if (strcmp(d->fields[i].name, name) == 0)
                        goto out;
        r = IMAGO_ETOOBIG;
        if (d->nfields == IMAGO_DEV_MAX_FIELDS)
                goto out;
        f = &d->fields[d->nfields++];
        memcpy(f->name, name, strlen(name) + 1);
        f->get = get;
        f->set = set;
        f->arg = arg;
        f->reported = NULL;
        r = 0;
out:
        return r;
}

void imago_dev_online(struct imago_dev *d)
{
        if (d == NULL)
                return;
        d->acked = 0;
        imago_dev_reg_send_fresh(d);
        imago_dev_report_full(d);
}
