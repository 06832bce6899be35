/*
 * imago_dev state fields: the full report on online (version 0), desired
 * deltas applied through set() and reported as a patch with the last acked
 * version, a stale ack answered by a full report, read-only fields ignoring
 * desired values, state_changed patches, and malformed messages dropped.
 */
#include "test_dev_util.h"

struct thermo {
        int temp;   /* read-only sensor */
        int target; /* writable, clamped to 10..25 */
        char mode[16];
        int sets;
        int refuse_mode;
        int no_value;
        json_t *sched; /* an object-valued field */
};

static json_t *get_temp(void *arg)
{
        struct thermo *th = arg;

        return th->no_value ? NULL : json_integer(th->temp);
}

static json_t *get_target(void *arg)
{
        return json_integer(((struct thermo *)arg)->target);
}

static int set_target(void *arg, json_t *desired)
{
        struct thermo *th = arg;
        json_int_t v;

        th->sets++;
        if (!json_is_integer(desired))
                return IMAGO_EINVAL;
        v = json_integer_value(desired);
        th->target = v < 10 ? 10 : v > 25 ? 25 : (int)v;
        return 0;
}

static json_t *get_mode(void *arg)
{
        return json_string(((struct thermo *)arg)->mode);
}

static int set_mode(void *arg, json_t *desired)
{
        struct thermo *th = arg;
        const char *s = json_string_value(desired);

        th->sets++;
        if (th->refuse_mode || s == NULL || strlen(s) >= sizeof(th->mode))
                return IMAGO_EINVAL;
        memcpy(th->mode, s, strlen(s) + 1);
        return 0;
}

static json_t *get_sched(void *arg)
{
        return json_incref(((struct thermo *)arg)->sched);
}

static int set_sched(void *arg, json_t *desired)
{
        struct thermo *th = arg;

        json_decref(th->sched);
        th->sched = json_incref(desired);
        return 0;
}

static void thermo_init(struct td *t, struct thermo *th)
{
        memset(th, 0, sizeof(*th));
        th->temp = 21;
        th->target = 20;
        memcpy(th->mode, "auto", 5);
        assert_int_equal(imago_dev_state_field(t->d, "temp", get_temp, NULL, th), IMAGO_OK);
        assert_int_equal(imago_dev_state_field(t->d, "target", get_target, set_target, th),
                         IMAGO_OK);
        assert_int_equal(imago_dev_state_field(t->d, "mode", get_mode, set_mode, th), IMAGO_OK);
}

/* The n-th message is a report of version with exactly state_json. */
static void expect_report(struct td *t, size_t n, uint64_t version, const char *state_json)
{
        json_t *m = td_msg(t, n, IMAGO_STATE_T_REPORT), *want = json_loads(state_json, 0, NULL);
        struct imago_state_msg p;

        assert_non_null(want);
        assert_int_equal(imago_state_msg_parse(IMAGO_STATE_MSG_REPORT,
                                               (const uint8_t *)t->pubs[n].text,
                                               strlen(t->pubs[n].text), &p),
                         IMAGO_OK);
        assert_int_equal(p.version, version);
        assert_true(json_equal(want, p.state));
        imago_state_msg_free(&p);
        json_decref(want);
        json_decref(m);
}

static void ack(struct td *t, uint64_t version, int accepted)
{
        char buf[128];

        snprintf(buf, sizeof(buf), "{\"v\":1,\"version\":%llu,\"accepted\":%s}",
                 (unsigned long long)version, accepted ? "true" : "false");
        td_deliver(t, IMAGO_STATE_T_ACK, buf);
}

static void delta(struct td *t, uint64_t version, const char *state_json)
{
        char buf[512];

        snprintf(buf, sizeof(buf), "{\"v\":1,\"version\":%llu,\"state\":%s}",
                 (unsigned long long)version, state_json);
        td_deliver(t, IMAGO_STATE_T_DELTA, buf);
}

static void online_full_report(void **state)
{
        struct td *t = *state;
        struct thermo th;

        thermo_init(t, &th);
        imago_dev_online(t->d);
        assert_int_equal(t->npubs, 1);
        expect_report(t, 0, 0, "{\"temp\":21,\"target\":20,\"mode\":\"auto\"}");
        /* every online (a reconnection) starts over with a full report */
        th.temp = 19;
        imago_dev_online(t->d);
        expect_report(t, 1, 0, "{\"temp\":19,\"target\":20,\"mode\":\"auto\"}");
}

static void delta_applied_and_reported(void **state)
{
        struct td *t = *state;
        struct thermo th;

        thermo_init(t, &th);
        imago_dev_online(t->d);
        ack(t, 1, 1);
        delta(t, 7, "{\"target\":23,\"mode\":\"eco\",\"nosuch\":1}");
        assert_int_equal(th.target, 23);
        assert_string_equal(th.mode, "eco");
        assert_int_equal(t->npubs, 2);
        expect_report(t, 1, 1, "{\"target\":23,\"mode\":\"eco\"}");
        ack(t, 2, 1);
        /* a refused value is not reported; the accepted one is, with the new version */
        th.refuse_mode = 1;
        delta(t, 8, "{\"target\":12,\"mode\":\"off\"}");
        assert_string_equal(th.mode, "eco");
        expect_report(t, 2, 2, "{\"target\":12}");
        ack(t, 3, 1);
        /* clamped: reported once as 25; the same desired value again starts no new report */
        delta(t, 9, "{\"target\":40}");
        expect_report(t, 3, 3, "{\"target\":25}");
        ack(t, 4, 1);
        delta(t, 10, "{\"target\":40}");
        assert_int_equal(t->npubs, 4);
        /* nothing accepted: no report */
        delta(t, 11, "{\"mode\":\"x\"}");
        assert_int_equal(t->npubs, 4);
}

static void delta_before_ack_full_report(void **state)
{
        struct td *t = *state;
        struct thermo th;

        thermo_init(t, &th);
        imago_dev_online(t->d);
        delta(t, 2, "{\"target\":15}"); /* no ack yet: no version to patch */
        assert_int_equal(t->npubs, 2);
        expect_report(t, 1, 0, "{\"temp\":21,\"target\":15,\"mode\":\"auto\"}");
}

static void stale_ack_full_report(void **state)
{
        struct td *t = *state;
        struct thermo th;

        thermo_init(t, &th);
        imago_dev_online(t->d);
        ack(t, 1, 1);
        th.temp = 30;
        assert_int_equal(imago_dev_state_changed(t->d, "temp"), IMAGO_OK);
        expect_report(t, 1, 1, "{\"temp\":30}");
        ack(t, 5, 0); /* stale: the cloud holds version 5 */
        assert_int_equal(t->npubs, 3);
        expect_report(t, 2, 0, "{\"temp\":30,\"target\":20,\"mode\":\"auto\"}");
        /* until the next accepted ack, changes go out as full reports */
        th.temp = 31;
        assert_int_equal(imago_dev_state_changed(t->d, "temp"), IMAGO_OK);
        expect_report(t, 3, 0, "{\"temp\":31,\"target\":20,\"mode\":\"auto\"}");
        ack(t, 6, 1);
        th.temp = 32;
        assert_int_equal(imago_dev_state_changed(t->d, "temp"), IMAGO_OK);
        expect_report(t, 4, 6, "{\"temp\":32}");
        assert_int_equal(imago_dev_state_changed(t->d, "nosuch"), IMAGO_ENOTFOUND);
}

static void object_field_gets_the_whole_desired_value(void **state)
{
        struct td *t = *state;
        struct thermo th;
        json_t *want = json_loads("{\"on\":\"07:00\",\"off\":\"23:00\"}", 0, NULL);

        thermo_init(t, &th);
        th.sched = json_loads("{\"on\":\"07:00\",\"off\":\"22:00\"}", 0, NULL);
        assert_int_equal(imago_dev_state_field(t->d, "sched", get_sched, set_sched, &th), IMAGO_OK);
        imago_dev_online(t->d);
        ack(t, 1, 1);
        /* the delta of an object carries only the member that differs */
        delta(t, 2, "{\"sched\":{\"off\":\"23:00\"}}");
        assert_true(json_equal(want, th.sched));
        expect_report(t, 1, 1, "{\"sched\":{\"on\":\"07:00\",\"off\":\"23:00\"}}");
        json_decref(want);
        json_decref(th.sched);
}

static void read_only_field_ignores_desired(void **state)
{
        struct td *t = *state;
        struct thermo th;

        thermo_init(t, &th);
        imago_dev_online(t->d);
        ack(t, 1, 1);
        delta(t, 3, "{\"temp\":5}");
        assert_int_equal(th.temp, 21);
        assert_int_equal(th.sets, 0);
        assert_int_equal(t->npubs, 1);
}

static void malformed_state_messages_dropped(void **state)
{
        struct td *t = *state;
        struct thermo th;
        static const char *const bad[] = {
            "",
            "null",
            "[]",
            "{\"v\":2,\"version\":1,\"accepted\":true}",
            "{\"v\":1,\"version\":1,\"accepted\":true,\"extra\":1}",
            "{\"v\":1,\"version\":-1,\"accepted\":false}",
            "{\"v\":1,\"version\":1}",
            "{\"v\":1,\"version\":1,\"state\":{\"target\":12},\"state\":{}}",
            "{\"v\":1,\"version\":1,\"state\":[]}",
            "{\"v\":1,\"version\":1,\"state\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":1}}}}}}"};
        size_t i;

        thermo_init(t, &th);
        imago_dev_online(t->d);
        ack(t, 1, 1);
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                td_deliver(t, IMAGO_STATE_T_ACK, bad[i]);
                td_deliver(t, IMAGO_STATE_T_DELTA, bad[i]);
        }
        assert_int_equal(t->npubs, 1);
        assert_int_equal(th.sets, 0);
        assert_int_equal(th.target, 20);
        /* the ack version is still the one of the last good ack */
        th.temp = 22;
        assert_int_equal(imago_dev_state_changed(t->d, "temp"), IMAGO_OK);
        expect_report(t, 1, 1, "{\"temp\":22}");
}

static void field_without_value_left_out(void **state)
{
        struct td *t = *state;
        struct thermo th;

        thermo_init(t, &th);
        th.no_value = 1;
        imago_dev_online(t->d);
        expect_report(t, 0, 0, "{\"target\":20,\"mode\":\"auto\"}");
        assert_int_equal(imago_dev_state_changed(t->d, "temp"), IMAGO_EINVAL);
}

static void field_registration_checked(void **state)
{
        struct td *t = *state;
        struct thermo th;
        char name[80];

        thermo_init(t, &th);
        assert_int_equal(imago_dev_state_field(t->d, "temp", get_temp, NULL, &th), IMAGO_EEXIST);
        assert_int_equal(imago_dev_state_field(t->d, "9lives", get_temp, NULL, &th), IMAGO_EINVAL);
        assert_int_equal(imago_dev_state_field(t->d, "a.b", get_temp, NULL, &th), IMAGO_EINVAL);
        assert_int_equal(imago_dev_state_field(t->d, "", get_temp, NULL, &th), IMAGO_EINVAL);
        assert_int_equal(imago_dev_state_field(t->d, "x", NULL, NULL, &th), IMAGO_EINVAL);
        memset(name, 'a', 65);
        name[65] = '\0';
        assert_int_equal(imago_dev_state_field(t->d, name, get_temp, NULL, &th), IMAGO_EINVAL);
        name[64] = '\0';
        assert_int_equal(imago_dev_state_field(t->d, name, get_temp, NULL, &th), IMAGO_OK);
        for (int i = 4; i < IMAGO_DEV_MAX_FIELDS; i++) {
                snprintf(name, sizeof(name), "f%d", i);
                assert_int_equal(imago_dev_state_field(t->d, name, get_temp, NULL, &th), IMAGO_OK);
        }
        assert_int_equal(imago_dev_state_field(t->d, "last", get_temp, NULL, &th), IMAGO_ETOOBIG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(online_full_report, td_setup, td_teardown),
            cmocka_unit_test_setup_teardown(delta_applied_and_reported, td_setup, td_teardown),
            cmocka_unit_test_setup_teardown(delta_before_ack_full_report, td_setup, td_teardown),
            cmocka_unit_test_setup_teardown(stale_ack_full_report, td_setup, td_teardown),
            cmocka_unit_test_setup_teardown(object_field_gets_the_whole_desired_value, td_setup,
                                            td_teardown),
            cmocka_unit_test_setup_teardown(read_only_field_ignores_desired, td_setup, td_teardown),
            cmocka_unit_test_setup_teardown(malformed_state_messages_dropped, td_setup,
                                            td_teardown),
            cmocka_unit_test_setup_teardown(field_without_value_left_out, td_setup, td_teardown),
            cmocka_unit_test_setup_teardown(field_registration_checked, td_setup, td_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
