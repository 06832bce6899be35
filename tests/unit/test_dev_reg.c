/*
 * imago_dev registration: the token is forwarded when online with a fresh
 * nonce, retried every IMAGO_DEV_REG_RETRY_S seconds with that nonce, only
 * an answer with that nonce ends it (done called once with 0 or the named
 * IMAGO_E code), and the token copy is wiped then.  The retry timer runs on
 * a real libevent base.
 */
#include "test_dev_util.h"

#include "device/app/dev_priv.h"

#include <event2/event.h>

#define TOKEN "eyJhbGciOiJFQ0RILUVTIn0..aXY.Y2lwaGVy.dGFn"

struct done {
        int calls;
        int result;
        struct td *t;
        int again; /* register again from inside done */
};

static void on_done(void *arg, int result)
{
        struct done *dn = arg;

        dn->calls++;
        dn->result = result;
        if (dn->again)
                assert_int_equal(imago_dev_register(dn->t->d, TOKEN, NULL, NULL), IMAGO_OK);
}

/* The n-th message is a register message with TOKEN; its nonce into nonce. */
static void expect_register(struct td *t, size_t n, char nonce[33])
{
        struct imago_state_msg m;

        assert_true(n < t->npubs);
        assert_string_equal(t->pubs[n].suffix, IMAGO_STATE_T_REGISTER);
        assert_int_equal(imago_state_msg_parse(IMAGO_STATE_MSG_REGISTER,
                                               (const uint8_t *)t->pubs[n].text,
                                               strlen(t->pubs[n].text), &m),
                         IMAGO_OK);
        assert_string_equal(m.token, TOKEN);
        memcpy(nonce, m.nonce, 33);
        imago_state_msg_free(&m);
}

static void answer(struct td *t, const char *nonce, const char *result)
{
        char buf[160];

        snprintf(buf, sizeof(buf), "{\"v\":1,\"nonce\":\"%s\",\"result\":\"%s\"}", nonce, result);
        td_deliver(t, IMAGO_STATE_T_REGISTERED, buf);
}

static int all_zero(const void *p, size_t n)
{
        const unsigned char *b = p;

        for (size_t i = 0; i < n; i++)
                if (b[i] != 0)
                        return 0;
        return 1;
}

static void register_retry_and_answer_matching_nonce_only(void **state)
{
        struct td *t = *state;
        struct done dn = {0};
        char n1[33], n2[33];

        t->offline = 1;
        assert_int_equal(imago_dev_register(t->d, TOKEN, on_done, &dn), IMAGO_OK);
        td_clock += 15;
        imago_dev_tick(t->d); /* still offline: nothing goes out */
        assert_int_equal(t->npubs, 0);
        t->offline = 0;
        imago_dev_online(t->d);
        assert_int_equal(t->npubs, 2); /* register, then the (empty) full report */
        expect_register(t, 0, n1);
        assert_string_equal(t->pubs[1].suffix, IMAGO_STATE_T_REPORT);
        td_clock += IMAGO_DEV_REG_RETRY_S - 1;
        imago_dev_tick(t->d);
        assert_int_equal(t->npubs, 2);
        td_clock += 1;
        imago_dev_tick(t->d); /* the retry keeps its nonce */
        assert_int_equal(t->npubs, 3);
        expect_register(t, 2, n2);
        assert_string_equal(n1, n2);
        /* answers that are not ours: another nonce, malformed */
        answer(t, "00000000000000000000000000000000", "ok");
        answer(t, "0000", "ok");
        td_deliver(t, IMAGO_STATE_T_REGISTERED, "{\"v\":1}");
        td_deliver(t, IMAGO_STATE_T_REGISTERED, "garbage");
        assert_int_equal(dn.calls, 0);
        assert_false(all_zero(t->d->token, sizeof(t->d->token)));
        answer(t, n1, "ok");
        assert_int_equal(dn.calls, 1);
        assert_int_equal(dn.result, 0);
        assert_true(all_zero(t->d->token, sizeof(t->d->token))); /* the copy is wiped */
        assert_int_equal(t->npubs, 4); /* bound now: the full state once more */
        assert_string_equal(t->pubs[3].suffix, IMAGO_STATE_T_REPORT);
        /* done: no more retries, a second answer changes nothing */
        td_clock += 100;
        imago_dev_tick(t->d);
        answer(t, n1, "ok");
        assert_int_equal(dn.calls, 1);
        assert_int_equal(t->npubs, 4);
}

static void register_answer_names_the_error(void **state)
{
        struct td *t = *state;
        struct done dn = {0};
        char n[33];

        assert_int_equal(imago_dev_register(t->d, TOKEN, on_done, &dn), IMAGO_OK);
        expect_register(t, 0, n); /* online already: sent at once */
        answer(t, n, "IMAGO_ECMD_TOKEN_EXPIRED");
        assert_int_equal(dn.calls, 1);
        assert_int_equal(dn.result, IMAGO_ECMD_TOKEN_EXPIRED);
        /* registering again from inside done works */
        dn.t = t;
        dn.again = 1;
        assert_int_equal(imago_dev_register(t->d, TOKEN, on_done, &dn), IMAGO_OK);
        expect_register(t, 1, n);
        answer(t, n, "IMAGO_EAPI_BOUND");
        assert_int_equal(dn.calls, 2);
        assert_int_equal(dn.result, IMAGO_EAPI_BOUND);
        assert_true(t->d->reg_pending);
        assert_int_equal(imago_dev_register(t->d, TOKEN, on_done, &dn), IMAGO_ESTATE);
}

static void reconnection_uses_a_fresh_nonce(void **state)
{
        struct td *t = *state;
        struct done dn = {0};
        char n1[33], n2[33];

        assert_int_equal(imago_dev_register(t->d, TOKEN, on_done, &dn), IMAGO_OK);
        expect_register(t, 0, n1);
        imago_dev_online(t->d);
        expect_register(t, 1, n2);
        assert_string_not_equal(n1, n2);
        answer(t, n1, "ok"); /* the old connection's nonce no longer ends it */
        assert_int_equal(dn.calls, 0);
        answer(t, n2, "ok");
        assert_int_equal(dn.calls, 1);
}

static void register_arguments_checked(void **state)
{
        struct td *t = *state;
        char *big = malloc(IMAGO_STATE_TOKEN_MAX + 2);

        assert_non_null(big);
        memset(big, 'a', IMAGO_STATE_TOKEN_MAX + 1);
        big[IMAGO_STATE_TOKEN_MAX + 1] = '\0';
        assert_int_equal(imago_dev_register(t->d, big, NULL, NULL), IMAGO_ETOOBIG);
        big[IMAGO_STATE_TOKEN_MAX] = '\0';
        assert_int_equal(imago_dev_register(t->d, "", NULL, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_dev_register(t->d, "a b", NULL, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_dev_register(t->d, "a\"b", NULL, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_dev_register(t->d, NULL, NULL, NULL), IMAGO_EINVAL);
        assert_int_equal(t->npubs, 0);
        assert_int_equal(imago_dev_register(t->d, big, NULL, NULL), IMAGO_OK);
        assert_int_equal(t->npubs, 1);
        free(big);
        /* freeing with a registration pending wipes it (checked by ASan/valgrind for leaks) */
}

static void retry_timer_on_the_event_base(void **state)
{
        struct td *t = *state;
        struct imago_dev_config c;
        struct event_base *base = event_base_new();
        struct imago_dev *d = NULL;
        struct done dn = {0};
        char n1[33], n2[33];

        assert_non_null(base);
        memset(&c, 0, sizeof(c));
        c.base = base;
        c.now = td_now;
        c.publish = td_publish;
        c.publish_arg = t;
        c.device_id = TD_ID;
        assert_int_equal(imago_dev_new(&c, &d), IMAGO_OK);
        assert_int_equal(imago_dev_register(d, TOKEN, on_done, &dn), IMAGO_OK);
        expect_register(t, 0, n1);
        td_clock += IMAGO_DEV_REG_RETRY_S;
        assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0); /* the 1 s timer fires */
        assert_int_equal(t->npubs, 2);
        expect_register(t, 1, n2);
        assert_string_equal(n1, n2);
        imago_dev_on_message(d, IMAGO_STATE_T_REGISTERED, NULL, 0);
        {
                char buf[128];
                snprintf(buf, sizeof(buf), "{\"v\":1,\"nonce\":\"%s\",\"result\":\"ok\"}", n1);
                imago_dev_on_message(d, IMAGO_STATE_T_REGISTERED, (const uint8_t *)buf,
                                     strlen(buf));
        }
        assert_int_equal(dn.calls, 1);
        /* answered: the timer is off, so the loop has nothing left to run */
        assert_int_equal(event_base_loop(base, EVLOOP_NONBLOCK), 1);
        imago_dev_free(d);
        event_base_free(base);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(register_retry_and_answer_matching_nonce_only, td_setup,
                                            td_teardown),
            cmocka_unit_test_setup_teardown(register_answer_names_the_error, td_setup, td_teardown),
            cmocka_unit_test_setup_teardown(reconnection_uses_a_fresh_nonce, td_setup, td_teardown),
            cmocka_unit_test_setup_teardown(register_arguments_checked, td_setup, td_teardown),
            cmocka_unit_test_setup_teardown(retry_timer_on_the_event_base, td_setup, td_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
