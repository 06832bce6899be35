/* imago_dev: internals shared by the files of the module (see dev.h). */
#ifndef IMAGO_DEVICE_APP_DEV_PRIV_H
#define IMAGO_DEVICE_APP_DEV_PRIV_H

#include "base/hex.h"
#include "cmdenv/cmdenv.h"
#include "device/app/dev.h"
#include "state/state.h"

struct event;

struct imago_dev_cmd {
        char name[IMAGO_CMDENV_NAME_MAX + 1];
        imago_dev_cmd_fn fn;
        void *arg;
};

struct imago_dev_field {
        char name[IMAGO_STATE_NAME_MAX + 1];
        imago_dev_get_fn get;
        imago_dev_set_fn set;
        void *arg;
        json_t *reported; /* the value last reported (NULL: none) */
};

struct imago_dev {
        struct imago_link *link;
        const struct imago_pubkey *cmd_key;
        int64_t skew;
        int (*load_seq)(void *arg, uint64_t *seq);
        int (*save_seq)(void *arg, uint64_t seq);
        void *seq_arg;
        int64_t (*now)(void);
        int (*publish)(void *arg, const char *suffix, const uint8_t *buf, size_t len);
        void *publish_arg;
        char id[IMAGO_DEVICE_ID_LEN + 1];

        struct imago_dev_cmd cmds[IMAGO_DEV_MAX_COMMANDS];
        size_t ncmds;
        struct imago_dev_field fields[IMAGO_DEV_MAX_FIELDS];
        size_t nfields;

        /* state: the reported version of the last accepted ack (valid when acked) */
        int acked;
        uint64_t version;

        /* registration */
        int reg_pending;
        char token[IMAGO_STATE_TOKEN_MAX + 1]; /* secret: wiped on answer and free */
        char nonce[33];                        /* "" until the first send */
        int64_t reg_sent;
        void (*reg_done)(void *arg, int result);
        void *reg_arg;
        struct event *timer; /* retry timer on cfg->base, or NULL */
};

int64_t imago_dev_now(struct imago_dev *d);
/* Publish text on imago/v1/d/<id>/<suffix> (the hook or the link). */
int imago_dev_publish(struct imago_dev *d, const char *suffix, const char *text, size_t len);

void imago_dev_on_cmd(struct imago_dev *d, const uint8_t *buf, size_t len);
void imago_dev_on_ack(struct imago_dev *d, const uint8_t *buf, size_t len);
void imago_dev_on_delta(struct imago_dev *d, const uint8_t *buf, size_t len);
void imago_dev_on_registered(struct imago_dev *d, const uint8_t *buf, size_t len);

/* Full report (version 0) of every field. */
void imago_dev_report_full(struct imago_dev *d);
/* Send the pending registration with a fresh nonce (if one is pending). */
void imago_dev_reg_send_fresh(struct imago_dev *d);
/* Registration state: stop the timer, wipe the token. */
void imago_dev_reg_clear(struct imago_dev *d);

#endif
