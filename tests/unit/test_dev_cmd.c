/*
 * imago_dev commands: a verified command runs its handler once with its
 * arguments, after its sequence is persisted, and the result is published;
 * one test per attack (attack_forged_command, attack_replayed_command,
 * attack_expired_command, attack_command_for_another_device,
 * attack_command_from_the_future).  Real Ed25519 keys generated here;
 * envelopes built with imago_cmdenv_build; the publish hook records answers.
 */
#include "test_dev_util.h"

struct hctx {
        struct td *t;
        int runs;
        uint64_t seq_at_run; /* the persisted sequence when the handler ran */
        json_t *args;        /* the arguments of the last run */
        int ret;
        const char *result; /* JSON text of the result to return, or NULL */
};

static int handler(void *arg, const char *name, json_t *args, json_t **result)
{
        struct hctx *h = arg;

        assert_non_null(name);
        h->runs++;
        h->seq_at_run = h->t->seq;
        json_decref(h->args);
        h->args = json_deep_copy(args);
        if (h->result != NULL)
                *result = json_loads(h->result, JSON_DECODE_ANY, NULL);
        return h->ret;
}

static void hctx_init(struct hctx *h, struct td *t, const char *name)
{
        memset(h, 0, sizeof(*h));
        h->t = t;
        assert_int_equal(imago_dev_command(t->d, name, handler, h), IMAGO_OK);
}

/* The n-th published message as a command result. */
static void expect_result(struct td *t, size_t n, uint64_t seq, enum imago_cmdenv_status st,
                          const char *result_json)
{
        struct imago_cmdenv_result r;
        json_t *want;

        assert_true(n < t->npubs);
        assert_string_equal(t->pubs[n].suffix, IMAGO_STATE_T_CMD_RESULT);
        assert_int_equal(imago_cmdenv_result_parse((const uint8_t *)t->pubs[n].text,
                                                   strlen(t->pubs[n].text), &r),
                         IMAGO_OK);
        assert_string_equal(r.device, TD_ID);
        assert_int_equal(r.seq, seq);
        assert_int_equal(r.status, st);
        want = json_loads(result_json, 0, NULL);
        assert_non_null(want);
        assert_true(json_equal(want, r.result));
        json_decref(want);
        imago_cmdenv_result_release(&r);
}

static void command_runs_once_with_args_and_result_published(void **state)
{
        struct td *t = *state;
        struct hctx h;
        json_t *want = json_loads("{\"on\":true,\"level\":3}", 0, NULL);
        char *env;

        hctx_init(&h, t, "set_led");
        h.result = "{\"led\":\"on\"}";
        env = td_envelope(&t->cmd, TD_ID, 1, TD_NOW, TD_NOW + 60, "set_led",
                          "{\"on\":true,\"level\":3}");
        td_deliver(t, IMAGO_STATE_T_CMD, env);
        assert_int_equal(h.runs, 1);
        assert_int_equal(h.seq_at_run, 1); /* persisted before the handler ran */
        assert_true(json_equal(want, h.args));
        assert_int_equal(t->seq, 1);
        assert_int_equal(t->npubs, 1);
        expect_result(t, 0, 1, IMAGO_CMDENV_OK, "{\"led\":\"on\"}");
        free(env);
        json_decref(want);
        json_decref(h.args);
}

static void handler_failure_answered_failed(void **state)
{
        struct td *t = *state;
        struct hctx h;
        char *env;

        hctx_init(&h, t, "reboot");
        h.ret = IMAGO_EIO;
        env = td_envelope(&t->cmd, TD_ID, 5, TD_NOW, TD_NOW + 60, "reboot", NULL);
        td_deliver(t, IMAGO_STATE_T_CMD, env);
        assert_int_equal(h.runs, 1);
        expect_result(t, 0, 5, IMAGO_CMDENV_FAILED, "{\"error\":\"IMAGO_EIO\"}");
        free(env);
        /* a failed handler's own explanation is kept */
        h.result = "{\"why\":\"busy\"}";
        env = td_envelope(&t->cmd, TD_ID, 6, TD_NOW, TD_NOW + 60, "reboot", NULL);
        td_deliver(t, IMAGO_STATE_T_CMD, env);
        expect_result(t, 1, 6, IMAGO_CMDENV_FAILED, "{\"why\":\"busy\"}");
        free(env);
        /* a result that is not an object is a handler bug: failed */
        h.ret = 0;
        h.result = "[1,2]";
        env = td_envelope(&t->cmd, TD_ID, 7, TD_NOW, TD_NOW + 60, "reboot", NULL);
        td_deliver(t, IMAGO_STATE_T_CMD, env);
        expect_result(t, 2, 7, IMAGO_CMDENV_FAILED, "{\"error\":\"IMAGO_EINVAL\"}");
        assert_int_equal(h.runs, 3);
        free(env);
        /* a result too large for the result message: failed, saying so (ok or not) */
        {
                char *big = malloc(IMAGO_CMDENV_RESULT_MAX + 16);
                assert_non_null(big);
                memcpy(big, "{\"x\":\"", 6);
                memset(big + 6, 'a', IMAGO_CMDENV_RESULT_MAX);
                memcpy(big + 6 + IMAGO_CMDENV_RESULT_MAX, "\"}", 3);
                h.result = big;
                for (int ret = 0; ret >= -1; ret--) {
                        h.ret = ret;
                        env = td_envelope(&t->cmd, TD_ID, (uint64_t)(9 - ret), TD_NOW, TD_NOW + 60,
                                          "reboot", NULL);
                        td_deliver(t, IMAGO_STATE_T_CMD, env);
                        expect_result(t, (size_t)(3 - ret), (uint64_t)(9 - ret),
                                      IMAGO_CMDENV_FAILED, "{\"error\":\"IMAGO_ETOOBIG\"}");
                        free(env);
                }
                free(big);
        }
        json_decref(h.args);
}

static void unknown_command_answered_unknown(void **state)
{
        struct td *t = *state;
        struct hctx h;
        char *env;

        hctx_init(&h, t, "reboot");
        env = td_envelope(&t->cmd, TD_ID, 2, TD_NOW, TD_NOW + 60, "self_destruct", NULL);
        td_deliver(t, IMAGO_STATE_T_CMD, env);
        assert_int_equal(h.runs, 0);
        assert_int_equal(t->seq, 2); /* consumed all the same */
        expect_result(t, 0, 2, IMAGO_CMDENV_UNKNOWN, "{}");
        td_deliver(t, IMAGO_STATE_T_CMD, env); /* a replay of it: silence */
        assert_int_equal(t->npubs, 1);
        free(env);
}

static void attack_forged_command(void **state)
{
        struct td *t = *state;
        struct hctx h;
        char *env, *p;

        hctx_init(&h, t, "unlock");
        /* signed by another key */
        env = td_envelope(&t->other, TD_ID, 1, TD_NOW, TD_NOW + 60, "unlock", NULL);
        td_deliver(t, IMAGO_STATE_T_CMD, env);
        free(env);
        /* the right key, then tampered: a byte of the payload changed */
        env = td_envelope(&t->cmd, TD_ID, 1, TD_NOW, TD_NOW + 60, "unlock", "{\"door\":1}");
        p = strstr(env, "door");
        assert_non_null(p);
        env[p - env] = 'D';
        td_deliver(t, IMAGO_STATE_T_CMD, env);
        free(env);
        /* and plain garbage */
        td_deliver(t, IMAGO_STATE_T_CMD, "{\"v\":1,\"payload\":\"{}\",\"sig\":\"00\"}");
        td_deliver(t, IMAGO_STATE_T_CMD, "not json");
        imago_dev_on_message(t->d, IMAGO_STATE_T_CMD, NULL, 0);
        assert_int_equal(h.runs, 0);
        assert_int_equal(t->npubs, 0); /* no answer: the device does not talk to a forger */
        assert_int_equal(t->seq_saves, 0);
}

static void attack_replayed_command(void **state)
{
        struct td *t = *state;
        struct hctx h;
        char *env;

        hctx_init(&h, t, "open");
        env = td_envelope(&t->cmd, TD_ID, 3, TD_NOW, TD_NOW + 600, "open", NULL);
        td_deliver(t, IMAGO_STATE_T_CMD, env);
        td_deliver(t, IMAGO_STATE_T_CMD, env);
        assert_int_equal(h.runs, 1);
        assert_int_equal(t->npubs, 1); /* the first answer stands; the replay is not answered */
        expect_result(t, 0, 3, IMAGO_CMDENV_OK, "{}");
        /* after a restart (free, new) the persisted sequence still refuses it */
        imago_dev_free(t->d);
        td_dev_new(t);
        assert_int_equal(imago_dev_command(t->d, "open", handler, &h), IMAGO_OK);
        td_clock += 10;
        td_deliver(t, IMAGO_STATE_T_CMD, env);
        assert_int_equal(h.runs, 1);
        assert_int_equal(t->npubs, 1);
        free(env);
        /* an older sequence signed later is a replay too */
        env = td_envelope(&t->cmd, TD_ID, 2, td_clock, td_clock + 60, "open", NULL);
        td_deliver(t, IMAGO_STATE_T_CMD, env);
        assert_int_equal(h.runs, 1);
        assert_int_equal(t->npubs, 1);
        free(env);
        json_decref(h.args);
}

static void attack_expired_command(void **state)
{
        struct td *t = *state;
        struct hctx h;
        char *env;

        hctx_init(&h, t, "open");
        /* expired 100 s ago, beyond the 60 s skew */
        env = td_envelope(&t->cmd, TD_ID, 4, TD_NOW - 600, TD_NOW - 100, "open", NULL);
        td_deliver(t, IMAGO_STATE_T_CMD, env);
        assert_int_equal(h.runs, 0);
        /* authentic and for this device: answered "rejected", the sequence consumed first */
        assert_int_equal(t->seq, 4);
        expect_result(t, 0, 4, IMAGO_CMDENV_REJECTED, "{\"error\":\"IMAGO_ECMD_EXPIRED\"}");
        td_clock = TD_NOW - 300; /* even with the clock set back it never runs */
        td_deliver(t, IMAGO_STATE_T_CMD, env);
        assert_int_equal(h.runs, 0);
        assert_int_equal(t->npubs, 1);
        free(env);
}

static void attack_command_for_another_device(void **state)
{
        struct td *t = *state;
        struct hctx h;
        char *env;

        hctx_init(&h, t, "open");
        env = td_envelope(&t->cmd, TD_OTHER, 1, TD_NOW, TD_NOW + 60, "open", NULL);
        td_deliver(t, IMAGO_STATE_T_CMD, env);
        assert_int_equal(h.runs, 0);
        assert_int_equal(t->npubs, 0); /* another device's sequence is not ours to answer */
        assert_int_equal(t->seq_saves, 0);
        free(env);
}

static void attack_command_from_the_future(void **state)
{
        struct td *t = *state;
        struct hctx h;
        char *env;

        hctx_init(&h, t, "open");
        env = td_envelope(&t->cmd, TD_ID, 9, TD_NOW + 600, TD_NOW + 1200, "open", NULL);
        td_deliver(t, IMAGO_STATE_T_CMD, env);
        assert_int_equal(h.runs, 0);
        expect_result(t, 0, 9, IMAGO_CMDENV_REJECTED, "{\"error\":\"IMAGO_ECMD_NOTYET\"}");
        /* "rejected" is final: once the clock reaches its window it still does not run */
        td_clock = TD_NOW + 700;
        td_deliver(t, IMAGO_STATE_T_CMD, env);
        assert_int_equal(h.runs, 0);
        assert_int_equal(t->npubs, 1);
        free(env);
}

static void sequence_not_persisted_handler_not_run(void **state)
{
        struct td *t = *state;
        struct hctx h;
        char *env;

        hctx_init(&h, t, "open");
        t->save_fail = 1;
        env = td_envelope(&t->cmd, TD_ID, 1, TD_NOW, TD_NOW + 60, "open", NULL);
        td_deliver(t, IMAGO_STATE_T_CMD, env);
        assert_int_equal(h.runs, 0);
        assert_int_equal(t->npubs, 0);
        t->save_fail = 0; /* the cloud's retry of the same envelope then runs it */
        td_deliver(t, IMAGO_STATE_T_CMD, env);
        assert_int_equal(h.runs, 1);
        free(env);
        json_decref(h.args);
}

static void no_pinned_key_refuses_commands(void **state)
{
        struct td *t = *state;
        struct imago_dev_config c;
        struct imago_dev *d = NULL;
        struct hctx h;
        char *env;

        memset(&c, 0, sizeof(c));
        c.publish = td_publish;
        c.publish_arg = t;
        c.device_id = TD_ID;
        assert_int_equal(imago_dev_new(&c, &d), IMAGO_OK);
        memset(&h, 0, sizeof(h));
        h.t = t;
        assert_int_equal(imago_dev_command(d, "open", handler, &h), IMAGO_OK);
        env = td_envelope(&t->cmd, TD_ID, 1, TD_NOW, TD_NOW + 60, "open", NULL);
        imago_dev_on_message(d, IMAGO_STATE_T_CMD, (const uint8_t *)env, strlen(env));
        assert_int_equal(h.runs, 0);
        assert_int_equal(t->npubs, 0);
        free(env);
        imago_dev_free(d);
}

static void registration_arguments_checked(void **state)
{
        struct td *t = *state;
        struct imago_dev_config c;
        struct imago_dev *d = (struct imago_dev *)1;
        struct hctx h;
        char name[40];

        memset(&h, 0, sizeof(h));
        assert_int_equal(imago_dev_command(t->d, "Bad", handler, &h), IMAGO_EINVAL);
        assert_int_equal(imago_dev_command(t->d, "ok", NULL, &h), IMAGO_EINVAL);
        assert_int_equal(imago_dev_command(t->d, "ok", handler, &h), IMAGO_OK);
        assert_int_equal(imago_dev_command(t->d, "ok", handler, &h), IMAGO_EEXIST);
        for (int i = 1; i < IMAGO_DEV_MAX_COMMANDS; i++) {
                snprintf(name, sizeof(name), "c%d", i);
                assert_int_equal(imago_dev_command(t->d, name, handler, &h), IMAGO_OK);
        }
        assert_int_equal(imago_dev_command(t->d, "one_more", handler, &h), IMAGO_ETOOBIG);
        /* configurations */
        memset(&c, 0, sizeof(c));
        assert_int_equal(imago_dev_new(&c, &d), IMAGO_EINVAL); /* no link, no hook */
        assert_null(d);
        c.publish = td_publish;
        c.device_id = "not-an-id";
        assert_int_equal(imago_dev_new(&c, &d), IMAGO_EINVAL);
        c.device_id = TD_ID;
        c.cmd_key = &t->cmd_pub; /* a key without a sequence store */
        assert_int_equal(imago_dev_new(&c, &d), IMAGO_EINVAL);
        c.cmd_key = NULL;
        c.skew = IMAGO_CMDENV_MAX_SKEW + 1;
        assert_int_equal(imago_dev_new(&c, &d), IMAGO_EINVAL);
        c.skew = -1;
        assert_int_equal(imago_dev_new(&c, &d), IMAGO_EINVAL);
        imago_dev_free(NULL);
        imago_dev_on_message(NULL, "cmd", NULL, 0);
        imago_dev_on_message(t->d, "other/topic", (const uint8_t *)"{}", 2);
        assert_int_equal(t->npubs, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(command_runs_once_with_args_and_result_published,
                                            td_setup, td_teardown),
            cmocka_unit_test_setup_teardown(handler_failure_answered_failed, td_setup, td_teardown),
            cmocka_unit_test_setup_teardown(unknown_command_answered_unknown, td_setup,
                                            td_teardown),
            cmocka_unit_test_setup_teardown(attack_forged_command, td_setup, td_teardown),
            cmocka_unit_test_setup_teardown(attack_replayed_command, td_setup, td_teardown),
            cmocka_unit_test_setup_teardown(attack_expired_command, td_setup, td_teardown),
            cmocka_unit_test_setup_teardown(attack_command_for_another_device, td_setup,
                                            td_teardown),
            cmocka_unit_test_setup_teardown(attack_command_from_the_future, td_setup, td_teardown),
            cmocka_unit_test_setup_teardown(sequence_not_persisted_handler_not_run, td_setup,
                                            td_teardown),
            cmocka_unit_test_setup_teardown(no_pinned_key_refuses_commands, td_setup, td_teardown),
            cmocka_unit_test_setup_teardown(registration_arguments_checked, td_setup, td_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
