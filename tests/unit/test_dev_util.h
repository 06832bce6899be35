/*
 * Shared harness of the imago_dev unit tests (test_dev_*.c): a dev with the
 * publish hook recording every message, a test clock, a sequence "store" in
 * memory, real Ed25519 keys generated here and envelopes built with
 * imago_cmdenv_build.  Header-only (static functions) so each test program
 * stays one file.
 */
#ifndef TEST_DEV_UTIL_H
#define TEST_DEV_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/err.h"
#include "cmdenv/cmdenv.h"
#include "crypto/keys.h"
#include "device/app/dev.h"
#include "state/state.h"

#define TD_ID    "0123456789abcdef0123456789abcdef"
#define TD_OTHER "fedcba9876543210fedcba9876543210"
#define TD_NOW   1800000000
#define TD_MAXP  64

struct td_pub {
        char suffix[32];
        char *text;
};

struct td {
        struct imago_privkey cmd, other;
        struct imago_pubkey cmd_pub;
        struct imago_dev *d;
        struct td_pub pubs[TD_MAXP];
        size_t npubs;
        int offline;  /* publish hook answers IMAGO_ESTATE */
        uint64_t seq; /* the persisted last sequence */
        int seq_saves;
        int save_fail;
};

static int64_t td_clock = TD_NOW;

static inline int64_t td_now(void)
{
        return td_clock;
}

static inline int td_publish(void *arg, const char *suffix, const uint8_t *buf, size_t len)
{
        struct td *t = arg;
        struct td_pub *p;

        if (t->offline)
                return IMAGO_ESTATE;
        assert_true(t->npubs < TD_MAXP);
        p = &t->pubs[t->npubs++];
        assert_true(strlen(suffix) < sizeof(p->suffix));
        memcpy(p->suffix, suffix, strlen(suffix) + 1);
        p->text = calloc(1, len + 1);
        assert_non_null(p->text);
        memcpy(p->text, buf, len);
        return 0;
}

static inline int td_load_seq(void *arg, uint64_t *seq)
{
        *seq = ((struct td *)arg)->seq;
        return 0;
}

static inline int td_save_seq(void *arg, uint64_t seq)
{
        struct td *t = arg;

        if (t->save_fail)
                return IMAGO_EIO;
        t->seq = seq;
        t->seq_saves++;
        return 0;
}

static inline void td_clear(struct td *t)
{
        size_t i;

        for (i = 0; i < t->npubs; i++)
                free(t->pubs[i].text);
        t->npubs = 0;
}

static inline void td_dev_new(struct td *t)
{
        struct imago_dev_config c;

        memset(&c, 0, sizeof(c));
        c.cmd_key = &t->cmd_pub;
        c.skew = 60;
        c.load_seq = td_load_seq;
        c.save_seq = td_save_seq;
        c.seq_arg = t;
        c.now = td_now;
        c.publish = td_publish;
        c.publish_arg = t;
        c.device_id = TD_ID;
        assert_int_equal(imago_dev_new(&c, &t->d), IMAGO_OK);
}

static inline int td_setup(void **state)
{
        struct td *t = calloc(1, sizeof(*t));

        if (t == NULL || imago_privkey_generate(IMAGO_KEY_ED25519, &t->cmd) != 0 ||
            imago_privkey_generate(IMAGO_KEY_ED25519, &t->other) != 0 ||
            imago_privkey_public(&t->cmd, &t->cmd_pub) != 0)
                return -1;
        td_clock = TD_NOW;
        td_dev_new(t);
        *state = t;
        return 0;
}

static inline int td_teardown(void **state)
{
        struct td *t = *state;

        imago_dev_free(t->d);
        td_clear(t);
        imago_privkey_free(&t->cmd);
        imago_privkey_free(&t->other);
        free(t);
        return 0;
}

/* The n-th published message parsed as JSON (asserting its suffix). */
static inline json_t *td_msg(struct td *t, size_t n, const char *suffix)
{
        json_t *j;

        assert_true(n < t->npubs);
        assert_string_equal(t->pubs[n].suffix, suffix);
        j = json_loads(t->pubs[n].text, 0, NULL);
        assert_non_null(j);
        return j;
}

/* Deliver text on suffix. */
static inline void td_deliver(struct td *t, const char *suffix, const char *text)
{
        imago_dev_on_message(t->d, suffix, (const uint8_t *)text, strlen(text));
}

/* A signed envelope (key: &t->cmd or another); args_text NULL means {}. */
static inline char *td_envelope(const struct imago_privkey *key, const char *dev, uint64_t seq,
                                int64_t iat, int64_t exp, const char *name, const char *args_text)
{
        json_t *args = args_text != NULL ? json_loads(args_text, 0, NULL) : NULL;
        char *text = NULL, *copy;
        size_t len;

        assert_int_equal(imago_cmdenv_build(key, dev, seq, iat, exp, name, args, &text), IMAGO_OK);
        json_decref(args);
        len = strlen(text);
        copy = malloc(len + 1); /* a copy the tests may tamper with */
        assert_non_null(copy);
        memcpy(copy, text, len + 1);
        free(text);
        return copy;
}

#endif
