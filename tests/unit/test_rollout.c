/* Unit tests of src/cloud/rollout: the engine's rules over a real SQLite file. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "test_rollout_util.h"

#define T0 1700000000

static int setup(void **state)
{
        static struct rt t;

        if (rt_open(&t) != 0)
                return -1;
        *state = &t;
        return 0;
}

static int teardown(void **state)
{
        rt_close(*state);
        return 0;
}

static uint64_t create(struct rt *t, const unsigned *stages, size_t nstages, size_t n,
                       unsigned maxc, unsigned pct, unsigned min)
{
        struct imago_rollout_spec s;
        uint64_t id = 0;

        rt_spec(&s, stages, nstages, maxc, pct, min);
        assert_int_equal(imago_rollout_create(t->ro, &t->f.ops, &s, t->devp, n, 7, T0, &id), 0);
        assert_true(id > 0);
        return id;
}

static struct imago_rollout_info get(struct rt *t, uint64_t id)
{
        struct imago_rollout_info i;

        assert_int_equal(imago_rollout_get(t->ro, id, &i), 0);
        return i;
}

static uint64_t unfinished(struct rt *t, uint64_t id)
{
        static struct rt_rows rows;
        uint64_t u = 0;

        assert_int_equal(rt_rows(t, id, &rows), 0);
        for (int i = 0; i < RT_MAXDEV; i++)
                if (rows.present[i] && rows.d[i].admitted && rows.d[i].state < IMAGO_OTA_SUCCEEDED)
                        u++;
        return u;
}

/* Report st for every admitted unfinished device (at most k of them, in index order). */
static void report_admitted(struct rt *t, uint64_t id, enum imago_vreport_state st, size_t k,
                            int64_t now)
{
        static struct rt_rows rows;

        assert_int_equal(rt_rows(t, id, &rows), 0);
        for (int i = 0; i < RT_MAXDEV && k > 0; i++) {
                if (!rows.present[i] || !rows.d[i].admitted ||
                    rows.d[i].state >= IMAGO_OTA_SUCCEEDED)
                        continue;
                assert_int_equal(imago_rollout_on_report(t->ro, &t->f.ops, t->dev[i], id, st,
                                                         RT_TARGET, "", 100, now),
                                 0);
                k--;
        }
        assert_int_equal(k, 0);
}

static int audited(struct rt *t, const char *action)
{
        for (size_t i = 0; i < t->f.naudit; i++)
                if (strcmp(t->f.audit[i], action) == 0)
                        return (int)i;
        return -1;
}

static void test_stages_admit_counts(void **state)
{
        struct rt *t = *state;
        const unsigned st[] = {10, 50, 100};
        uint64_t id = create(t, st, 3, 10, 100, 50, 5);
        struct imago_rollout_info i = get(t, id);

        assert_int_equal(i.status, IMAGO_ROLLOUT_RUNNING);
        assert_int_equal(i.total, 10);
        assert_int_equal(i.admitted, 1); /* ceil(10% of 10) */
        assert_int_equal(i.stage, 0);
        assert_int_equal(i.count[IMAGO_OTA_QUEUED], 10);
        assert_true(audited(t, "rollout.create") >= 0);
        assert_non_null(
            strstr(t->f.detail[audited(t, "rollout.create")], "\"stages\":[10,50,100]"));
        report_admitted(t, id, IMAGO_OTA_SUCCEEDED, 1, T0 + 10);
        i = get(t, id);
        assert_int_equal(i.stage, 1);
        assert_int_equal(i.admitted, 5);
        report_admitted(t, id, IMAGO_OTA_SUCCEEDED, 4, T0 + 20);
        i = get(t, id);
        assert_int_equal(i.stage, 2);
        assert_int_equal(i.admitted, 10);
        report_admitted(t, id, IMAGO_OTA_SUCCEEDED, 5, T0 + 30);
        i = get(t, id);
        assert_int_equal(i.status, IMAGO_ROLLOUT_COMPLETED);
        assert_int_equal(i.count[IMAGO_OTA_SUCCEEDED], 10);
        assert_true(audited(t, "rollout.complete") >= 0);
        for (int k = 0; k < 10; k++) {
                assert_int_equal(t->f.assigned[k], 1);
                assert_int_equal(t->f.cleared[k], 0);
        }
        /* a finished rollout holds nobody: the devices can be in a new one */
        assert_int_equal(imago_rollout_active_of(t->ro, t->dev[0], &id), 0);
        assert_int_equal(id, 0);
}

static void test_stable_shuffle_order(void **state)
{
        struct rt *t = *state;
        const unsigned st[] = {100};
        uint64_t id = create(t, st, 1, 20, 20, 100, 1);
        uint8_t h[20][IMAGO_SHA256_LEN], buf[8 + IMAGO_DEVICE_ID_LEN];

        assert_int_equal(t->f.norder, 20);
        for (int k = 0; k < 20; k++) {
                int d = rt_index(t->f.order[k]);

                for (int b = 0; b < 8; b++)
                        buf[b] = (uint8_t)(id >> (56 - 8 * b));
                memcpy(buf + 8, t->dev[d], IMAGO_DEVICE_ID_LEN);
                assert_int_equal(imago_sha256(buf, sizeof(buf), h[k]), 0);
                if (k > 0)
                        assert_true(memcmp(h[k - 1], h[k], IMAGO_SHA256_LEN) < 0);
        }
}

static void test_max_concurrent(void **state)
{
        struct rt *t = *state;
        const unsigned st[] = {100};
        uint64_t id = create(t, st, 1, 10, 3, 100, 1);
        struct imago_rollout_info i = get(t, id);

        assert_int_equal(i.admitted, 3);
        assert_int_equal(unfinished(t, id), 3);
        report_admitted(t, id, IMAGO_OTA_DOWNLOADING, 3, T0 + 1);
        assert_int_equal(get(t, id).admitted, 3);
        for (int step = 0; step < 7; step++) {
                report_admitted(t, id, IMAGO_OTA_SUCCEEDED, 1, T0 + 2 + step);
                assert_int_equal(imago_rollout_tick(t->ro, &t->f.ops, T0 + 2 + step), 0);
                i = get(t, id);
                assert_int_equal(i.admitted, 4 + (uint64_t)step);
                assert_true(unfinished(t, id) <= 3);
        }
}

static void test_next_stage_waits_for_all(void **state)
{
        struct rt *t = *state;
        const unsigned st[] = {50, 100};
        uint64_t id = create(t, st, 2, 4, 10, 100, 1);

        assert_int_equal(get(t, id).admitted, 2);
        report_admitted(t, id, IMAGO_OTA_SUCCEEDED, 1, T0 + 1);
        report_admitted(t, id, IMAGO_OTA_INSTALLING, 1, T0 + 2);
        assert_int_equal(imago_rollout_tick(t->ro, &t->f.ops, T0 + 3), 0);
        assert_int_equal(get(t, id).admitted, 2);
        assert_int_equal(get(t, id).stage, 0);
        report_admitted(t, id, IMAGO_OTA_REBOOTING, 1, T0 + 4);
        assert_int_equal(get(t, id).admitted, 2);
        /* a failure finishes a device too */
        report_admitted(t, id, IMAGO_OTA_FAILED, 1, T0 + 5);
        assert_int_equal(get(t, id).stage, 1);
        assert_int_equal(get(t, id).admitted, 4);
}

static void test_abort_threshold(void **state)
{
        struct rt *t = *state;
        const unsigned st[] = {100};
        uint64_t id = create(t, st, 1, 12, 6, 25, 4);
        struct imago_rollout_info i;
        static struct rt_rows rows;
        int a;

        report_admitted(t, id, IMAGO_OTA_FAILED, 1, T0 + 1); /* 1/1 but before abort_min */
        assert_int_equal(get(t, id).status, IMAGO_ROLLOUT_RUNNING);
        report_admitted(t, id, IMAGO_OTA_SUCCEEDED, 3, T0 + 2); /* 1/4 = 25%: not more */
        i = get(t, id);
        assert_int_equal(i.status, IMAGO_ROLLOUT_RUNNING);
        assert_int_equal(i.admitted, 10);
        assert_int_equal(audited(t, "rollout.abort"), -1);
        report_admitted(t, id, IMAGO_OTA_REVERTED, 1, T0 + 3); /* 2/5 = 40% */
        i = get(t, id);
        assert_int_equal(i.status, IMAGO_ROLLOUT_ABORTED);
        assert_int_equal(i.admitted, 10);
        assert_true(i.reason[0] != '\0');
        a = audited(t, "rollout.abort");
        assert_true(a >= 0);
        assert_non_null(strstr(t->f.detail[a], "\"failed\":1,\"reverted\":1,\"finished\":5"));
        assert_non_null(strstr(t->f.detail[a], "\"abort_percent\":25,\"abort_min\":4"));
        /* cleared: the failed/reverted ones and the admitted unfinished, nothing else */
        assert_int_equal(rt_rows(t, id, &rows), 0);
        for (int k = 0; k < 12; k++) {
                int want = rows.d[k].admitted && rows.d[k].state != IMAGO_OTA_SUCCEEDED;

                assert_int_equal(t->f.cleared[k], want);
                if (!rows.d[k].admitted)
                        assert_int_equal(t->f.assigned[k], 0);
        }
        /* no more admissions, reports ignored */
        assert_int_equal(imago_rollout_tick(t->ro, &t->f.ops, T0 + 99999), 0);
        assert_int_equal(get(t, id).admitted, 10);
        assert_int_equal(imago_rollout_resume(t->ro, &t->f.ops, id, 1, T0), IMAGO_EROLLOUT_STATE);
        assert_int_equal(imago_rollout_cancel(t->ro, &t->f.ops, id, 1, T0), IMAGO_EROLLOUT_STATE);
}

static void test_abort_percent_zero_and_hundred(void **state)
{
        struct rt *t = *state;
        const unsigned st[] = {100};
        uint64_t a, b;

        a = create(t, st, 1, 3, 3, 100, 1);
        report_admitted(t, a, IMAGO_OTA_FAILED, 3, T0 + 1);
        assert_int_equal(get(t, a).status, IMAGO_ROLLOUT_COMPLETED); /* 100% never aborts */
        b = create(t, st, 1, 3, 3, 0, 1);
        report_admitted(t, b, IMAGO_OTA_SUCCEEDED, 1, T0 + 1);
        assert_int_equal(get(t, b).status, IMAGO_ROLLOUT_RUNNING);
        report_admitted(t, b, IMAGO_OTA_FAILED, 1, T0 + 1);
        assert_int_equal(get(t, b).status, IMAGO_ROLLOUT_ABORTED);
}

static void test_pause_resume(void **state)
{
        struct rt *t = *state;
        const unsigned st[] = {100};
        uint64_t id = create(t, st, 1, 4, 1, 100, 1);

        assert_int_equal(get(t, id).admitted, 1);
        assert_int_equal(imago_rollout_pause(t->ro, &t->f.ops, id, 9, T0 + 1), 0);
        assert_int_equal(get(t, id).status, IMAGO_ROLLOUT_PAUSED);
        assert_int_equal(imago_rollout_pause(t->ro, &t->f.ops, id, 9, T0 + 1),
                         IMAGO_EROLLOUT_STATE);
        /* devices already updating continue; nobody new is admitted */
        report_admitted(t, id, IMAGO_OTA_SUCCEEDED, 1, T0 + 2);
        assert_int_equal(imago_rollout_tick(t->ro, &t->f.ops, T0 + 3), 0);
        assert_int_equal(get(t, id).admitted, 1);
        assert_int_equal(get(t, id).count[IMAGO_OTA_SUCCEEDED], 1);
        assert_int_equal(imago_rollout_active_of(t->ro, t->dev[3], &(uint64_t){0}), 0);
        assert_int_equal(imago_rollout_resume(t->ro, &t->f.ops, id, 9, T0 + 4), 0);
        assert_int_equal(get(t, id).status, IMAGO_ROLLOUT_RUNNING);
        assert_int_equal(get(t, id).admitted, 2);
        assert_int_equal(imago_rollout_resume(t->ro, &t->f.ops, id, 9, T0 + 4),
                         IMAGO_EROLLOUT_STATE);
        assert_true(audited(t, "rollout.pause") >= 0);
        assert_true(audited(t, "rollout.resume") >= 0);
        assert_int_equal(imago_rollout_pause(t->ro, &t->f.ops, 999, 9, T0), IMAGO_ENOTFOUND);
}

static void test_cancel(void **state)
{
        struct rt *t = *state;
        const unsigned st[] = {100};
        uint64_t id = create(t, st, 1, 4, 2, 100, 1), other;
        struct imago_rollout_spec s;

        report_admitted(t, id, IMAGO_OTA_SUCCEEDED, 1, T0 + 1);
        assert_int_equal(imago_rollout_cancel(t->ro, &t->f.ops, id, 9, T0 + 2), 0);
        assert_int_equal(get(t, id).status, IMAGO_ROLLOUT_CANCELLED);
        assert_non_null(strstr(get(t, id).reason, "cancelled"));
        int cleared = 0;
        for (int k = 0; k < 4; k++)
                cleared += t->f.cleared[k];
        assert_int_equal(cleared, 2); /* the 2 admitted unfinished only */
        assert_int_equal(imago_rollout_cancel(t->ro, &t->f.ops, id, 9, T0 + 2),
                         IMAGO_EROLLOUT_STATE);
        assert_true(audited(t, "rollout.cancel") >= 0);
        /* the devices are free again */
        rt_spec(&s, st, 1, 2, 100, 1);
        assert_int_equal(imago_rollout_create(t->ro, &t->f.ops, &s, t->devp, 4, 7, T0, &other), 0);
        assert_true(other > id);
}

static void test_timeout(void **state)
{
        struct rt *t = *state;
        const unsigned st[] = {100};
        struct imago_rollout_spec s;
        static struct rt_rows rows;
        uint64_t id;

        rt_spec(&s, st, 1, 2, 100, 1);
        s.device_timeout_s = 60;
        assert_int_equal(imago_rollout_create(t->ro, &t->f.ops, &s, t->devp, 2, 7, T0, &id), 0);
        assert_int_equal(imago_rollout_on_report(t->ro, &t->f.ops, t->dev[1], id,
                                                 IMAGO_OTA_DOWNLOADING, "", "", 10, T0 + 30),
                         0);
        assert_int_equal(imago_rollout_tick(t->ro, &t->f.ops, T0 + 59), 0);
        assert_int_equal(get(t, id).count[IMAGO_OTA_FAILED], 0);
        assert_int_equal(imago_rollout_tick(t->ro, &t->f.ops, T0 + 60), 0);
        assert_int_equal(rt_rows(t, id, &rows), 0);
        assert_int_equal(rows.d[0].state, IMAGO_OTA_FAILED);
        assert_string_equal(rows.d[0].error, "timeout");
        assert_int_equal(t->f.cleared[0], 1);
        assert_int_equal(rows.d[1].state, IMAGO_OTA_DOWNLOADING); /* reported at +30 */
        assert_int_equal(rows.d[1].progress, 10);
        assert_int_equal(imago_rollout_tick(t->ro, &t->f.ops, T0 + 90), 0);
        assert_int_equal(get(t, id).count[IMAGO_OTA_FAILED], 2);
        assert_int_equal(get(t, id).status, IMAGO_ROLLOUT_COMPLETED);
        /* a late report of a finished device changes nothing */
        assert_int_equal(imago_rollout_on_report(t->ro, &t->f.ops, t->dev[1], id,
                                                 IMAGO_OTA_SUCCEEDED, RT_TARGET, "", 100, T0 + 91),
                         0);
        assert_int_equal(get(t, id).count[IMAGO_OTA_FAILED], 2);
}

static void test_reports_ignored(void **state)
{
        struct rt *t = *state;
        const unsigned st[] = {100};
        uint64_t id = create(t, st, 1, 3, 2, 100, 1);
        static struct rt_rows rows;
        int adm = -1, queued = -1;

        assert_int_equal(rt_rows(t, id, &rows), 0);
        for (int k = 0; k < 3; k++) {
                if (rows.d[k].admitted)
                        adm = k;
                else
                        queued = k;
        }
        assert_true(adm >= 0 && queued >= 0);
        /* another rollout's id, no rollout, another target, a device not admitted, one not
         * in the rollout at all */
        assert_int_equal(imago_rollout_on_report(t->ro, &t->f.ops, t->dev[adm], id + 1,
                                                 IMAGO_OTA_SUCCEEDED, RT_TARGET, "", 100, T0),
                         0);
        assert_int_equal(imago_rollout_on_report(t->ro, &t->f.ops, t->dev[adm], 0, IMAGO_OTA_FAILED,
                                                 RT_TARGET, "", 100, T0),
                         0);
        assert_int_equal(imago_rollout_on_report(t->ro, &t->f.ops, t->dev[adm], id,
                                                 IMAGO_OTA_SUCCEEDED, "firmware-1.0.0.bin", "", 100,
                                                 T0),
                         0);
        assert_int_equal(imago_rollout_on_report(t->ro, &t->f.ops, t->dev[queued], id,
                                                 IMAGO_OTA_SUCCEEDED, RT_TARGET, "", 100, T0),
                         0);
        assert_int_equal(imago_rollout_on_report(t->ro, &t->f.ops, t->dev[50], id, IMAGO_OTA_FAILED,
                                                 RT_TARGET, "", 100, T0),
                         0);
        struct imago_rollout_info i = get(t, id);
        assert_int_equal(i.count[IMAGO_OTA_QUEUED], 3);
        assert_int_equal(i.admitted, 2);
        for (int k = 0; k < 3; k++)
                assert_int_equal(t->f.cleared[k], 0);
        /* bad arguments */
        assert_int_equal(
            imago_rollout_on_report(t->ro, &t->f.ops, "nope", id, IMAGO_OTA_FAILED, "", "", 0, T0),
            IMAGO_EINVAL);
        assert_int_equal(imago_rollout_on_report(t->ro, &t->f.ops, t->dev[adm], id,
                                                 IMAGO_OTA_QUEUED, "", "", 0, T0),
                         IMAGO_EINVAL);
        /* the right one counts, with its error */
        assert_int_equal(imago_rollout_on_report(t->ro, &t->f.ops, t->dev[adm], id,
                                                 IMAGO_OTA_FAILED, RT_TARGET, "IMAGO_ECRYPTO", 40,
                                                 T0),
                         0);
        assert_int_equal(rt_rows(t, id, &rows), 0);
        assert_int_equal(rows.d[adm].state, IMAGO_OTA_FAILED);
        assert_string_equal(rows.d[adm].error, "IMAGO_ECRYPTO");
        assert_int_equal(t->f.cleared[adm], 1);
}

static void test_overlap_refused(void **state)
{
        struct rt *t = *state;
        const unsigned st[] = {100};
        struct imago_rollout_spec s;
        uint64_t id = create(t, st, 1, 3, 1, 100, 1), id2 = 0, of;

        rt_spec(&s, st, 1, 1, 100, 1);
        /* devices 2..5: device 2 is in the first one (queued still counts) */
        assert_int_equal(imago_rollout_create(t->ro, &t->f.ops, &s, t->devp + 2, 4, 7, T0, &id2),
                         IMAGO_EEXIST);
        assert_int_equal(id2, 0);
        assert_int_equal(imago_rollout_active_of(t->ro, t->dev[2], &of), 0);
        assert_int_equal(of, id);
        assert_int_equal(imago_rollout_active_of(t->ro, t->dev[5], &of), 0);
        assert_int_equal(of, 0);
        assert_int_equal(imago_rollout_create(t->ro, &t->f.ops, &s, t->devp + 3, 4, 7, T0, &id2),
                         0);
        /* the same device twice */
        const char *dup[2] = {t->dev[10], t->dev[10]};
        assert_int_equal(imago_rollout_create(t->ro, &t->f.ops, &s, dup, 2, 7, T0, &id2),
                         IMAGO_EINVAL);
        const char *bad[1] = {"ABCDEF"};
        assert_int_equal(imago_rollout_create(t->ro, &t->f.ops, &s, bad, 1, 7, T0, &id2),
                         IMAGO_EINVAL);
}

static void test_empty_rollout_completes(void **state)
{
        struct rt *t = *state;
        const unsigned st[] = {100};
        uint64_t id = create(t, st, 1, 0, 1, 100, 1);

        assert_int_equal(get(t, id).status, IMAGO_ROLLOUT_COMPLETED);
        assert_int_equal(get(t, id).total, 0);
}

static void test_assign_failure_retried(void **state)
{
        struct rt *t = *state;
        const unsigned st[] = {100};
        struct imago_rollout_spec s;
        uint64_t id;

        rt_spec(&s, st, 1, 3, 100, 1);
        t->f.fail_assign = 1;
        assert_int_equal(imago_rollout_create(t->ro, &t->f.ops, &s, t->devp, 5, 7, T0, &id), 0);
        assert_int_equal(get(t, id).admitted, 0);
        assert_int_equal(t->f.norder, 0);
        assert_int_equal(imago_rollout_tick(t->ro, &t->f.ops, T0 + 1), 0);
        assert_int_equal(get(t, id).admitted, 3);
        assert_int_equal(t->f.norder, 3);
}

static void test_spec_limits(void **state)
{
        struct rt *t = *state;
        const unsigned st[] = {10, 50, 100};
        struct imago_rollout_spec s, ok;
        uint64_t id;

        (void)t;
        rt_spec(&ok, st, 3, 5, 20, 3);
        assert_int_equal(imago_rollout_spec_check(&ok), 0);
        assert_int_equal(imago_rollout_spec_check(NULL), IMAGO_EINVAL);
#define BAD(stmt)                                                                                  \
        do {                                                                                       \
                s = ok;                                                                            \
                stmt;                                                                              \
                assert_int_equal(imago_rollout_spec_check(&s), IMAGO_EINVAL);                      \
                assert_int_equal(                                                                  \
                    imago_rollout_create(t->ro, &t->f.ops, &s, t->devp, 1, 1, T0, &id),            \
                    IMAGO_EINVAL);                                                                 \
        } while (0)
#define GOOD(stmt)                                                                                 \
        do {                                                                                       \
                s = ok;                                                                            \
                stmt;                                                                              \
                assert_int_equal(imago_rollout_spec_check(&s), 0);                                 \
        } while (0)
        BAD(s.nstages = 0);
        BAD(s.nstages = IMAGO_ROLLOUT_STAGES_MAX + 1);
        BAD(s.stages[2] = 99);
        BAD(s.stages[0] = 0);
        BAD(s.stages[1] = 10);
        BAD(s.stages[1] = 5);
        BAD(s.stages[2] = 101);
        BAD(s.max_concurrent = 0);
        BAD(s.max_concurrent = 100001);
        GOOD(s.max_concurrent = 100000);
        GOOD(s.max_concurrent = 1);
        BAD(s.abort_percent = 101);
        GOOD(s.abort_percent = 0);
        GOOD(s.abort_percent = 100);
        BAD(s.abort_min = 0);
        BAD(s.abort_min = 100001);
        GOOD(s.abort_min = 100000);
        BAD(s.device_timeout_s = 59);
        BAD(s.device_timeout_s = 2592001);
        GOOD(s.device_timeout_s = 60);
        GOOD(s.device_timeout_s = 2592000);
        GOOD(s.device_timeout_s = 0);
        BAD(s.target[0] = '\0');
        BAD(s.target[3] = ' ');
        BAD(s.target[3] = '"');
        BAD(memset(s.target, 'a', sizeof(s.target)));
        GOOD(memset(s.target, 'a', sizeof(s.target) - 1));
        BAD(s.name[0] = '\n');
        BAD(s.name[0] = '"');
        BAD(memset(s.name, 'a', sizeof(s.name)));
        GOOD(s.name[0] = '\0');
        BAD(s.group[0] = '\0');
        GOOD(s.group[0] = '\0'; snprintf(s.tag, sizeof(s.tag), "canary"));
        BAD(snprintf(s.group, sizeof(s.group), "a b"));
        BAD(snprintf(s.tag, sizeof(s.tag), "x/y"));
        BAD(memset(s.group, 'a', sizeof(s.group)));
        GOOD(memset(s.group, 'a', sizeof(s.group) - 1));
        GOOD(s.stages[0] = 100; s.nstages = 1);
        GOOD(for (unsigned k = 0; k < 10; k++) s.stages[k] = 10 * (k + 1); s.nstages = 10);
#undef BAD
#undef GOOD
}

static void test_reopen_continues(void **state)
{
        struct rt *t = *state;
        const unsigned st[] = {50, 100};
        struct imago_rollout_info i;
        struct stat sb;
        uint64_t id = create(t, st, 2, 4, 4, 100, 1);

        assert_int_equal(imago_rollout_pause(t->ro, &t->f.ops, id, 9, T0 + 1), 0);
        imago_rollout_close(t->ro);
        assert_int_equal(stat(t->path, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
        assert_int_equal(imago_rollout_open(t->path, &t->ro), 0);
        i = get(t, id);
        assert_int_equal(i.status, IMAGO_ROLLOUT_PAUSED);
        assert_int_equal(i.admitted, 2);
        assert_int_equal(i.spec.nstages, 2);
        assert_int_equal(i.spec.stages[0], 50);
        assert_int_equal(i.spec.device_timeout_s, 3600);
        assert_int_equal(i.created_by, 7);
        assert_string_equal(i.spec.name, "test rollout (1)");
        assert_int_equal(imago_rollout_resume(t->ro, &t->f.ops, id, 9, T0 + 2), 0);
        report_admitted(t, id, IMAGO_OTA_SUCCEEDED, 2, T0 + 3);
        assert_int_equal(get(t, id).admitted, 4);
        assert_int_equal(get(t, id).stage, 1);
        report_admitted(t, id, IMAGO_OTA_SUCCEEDED, 2, T0 + 4);
        assert_int_equal(get(t, id).status, IMAGO_ROLLOUT_COMPLETED);
}

static int list_cb(const struct imago_rollout_info *i, void *arg)
{
        uint64_t *ids = arg;

        ids[ids[0] + 1] = i->id;
        ids[0]++;
        return 0;
}

static void test_list_newest_first(void **state)
{
        struct rt *t = *state;
        const unsigned st[] = {100};
        uint64_t a = create(t, st, 1, 1, 1, 100, 1);
        uint64_t b, ids[8] = {0};
        struct imago_rollout_spec s;

        rt_spec(&s, st, 1, 1, 100, 1);
        assert_int_equal(imago_rollout_create(t->ro, &t->f.ops, &s, t->devp + 1, 1, 7, T0, &b), 0);
        assert_int_equal(imago_rollout_list(t->ro, list_cb, ids), 0);
        assert_int_equal(ids[0], 2);
        assert_int_equal(ids[1], b);
        assert_int_equal(ids[2], a);
        assert_string_equal(imago_rollout_status_name(IMAGO_ROLLOUT_ABORTED), "aborted");
        assert_null(imago_rollout_status_name((enum imago_rollout_status)9));
        struct imago_rollout_info i;
        assert_int_equal(imago_rollout_get(t->ro, 12345, &i), IMAGO_ENOTFOUND);
}

struct strs {
        char s[40][80];
        size_t n;
};

static int str_cb(const char *s, void *arg)
{
        struct strs *l = arg;

        if (l->n < 40)
                snprintf(l->s[l->n++], sizeof(l->s[0]), "%s", s);
        return 0;
}

static void test_tags(void **state)
{
        struct rt *t = *state;
        const char *tags[] = {"canary", "eu-west.1", "Line_3"};
        const char *many[IMAGO_ROLLOUT_TAGS_MAX + 1];
        char buf[IMAGO_ROLLOUT_TAGS_MAX + 1][16], longtag[IMAGO_ROLLOUT_TAG_MAX + 2];
        struct strs l;

        assert_int_equal(imago_rollout_tags_set(t->ro, t->dev[0], tags, 3), 0);
        assert_int_equal(imago_rollout_tags_set(t->ro, t->dev[1], tags, 1), 0);
        memset(&l, 0, sizeof(l));
        assert_int_equal(imago_rollout_tags(t->ro, t->dev[0], str_cb, &l), 0);
        assert_int_equal(l.n, 3);
        assert_string_equal(l.s[0], "Line_3");
        assert_string_equal(l.s[1], "canary");
        memset(&l, 0, sizeof(l));
        assert_int_equal(imago_rollout_tagged(t->ro, "canary", str_cb, &l), 0);
        assert_int_equal(l.n, 2);
        assert_string_equal(l.s[0], t->dev[0]);
        assert_string_equal(l.s[1], t->dev[1]);
        /* replace, clear */
        assert_int_equal(imago_rollout_tags_set(t->ro, t->dev[0], tags + 1, 1), 0);
        memset(&l, 0, sizeof(l));
        assert_int_equal(imago_rollout_tags(t->ro, t->dev[0], str_cb, &l), 0);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.s[0], "eu-west.1");
        assert_int_equal(imago_rollout_tags_set(t->ro, t->dev[1], NULL, 0), 0);
        memset(&l, 0, sizeof(l));
        assert_int_equal(imago_rollout_tagged(t->ro, "canary", str_cb, &l), 0);
        assert_int_equal(l.n, 0);
        /* limits: 32 fine, 33 not; duplicates, bad characters, length */
        for (int k = 0; k <= IMAGO_ROLLOUT_TAGS_MAX; k++) {
                snprintf(buf[k], sizeof(buf[k]), "t%d", k);
                many[k] = buf[k];
        }
        assert_int_equal(imago_rollout_tags_set(t->ro, t->dev[2], many, IMAGO_ROLLOUT_TAGS_MAX), 0);
        assert_int_equal(imago_rollout_tags_set(t->ro, t->dev[2], many, IMAGO_ROLLOUT_TAGS_MAX + 1),
                         IMAGO_EINVAL);
        const char *dup[] = {"a", "b", "a"};
        assert_int_equal(imago_rollout_tags_set(t->ro, t->dev[2], dup, 3), IMAGO_EINVAL);
        const char *sp[] = {"a b"};
        assert_int_equal(imago_rollout_tags_set(t->ro, t->dev[2], sp, 1), IMAGO_EINVAL);
        const char *empty[] = {""};
        assert_int_equal(imago_rollout_tags_set(t->ro, t->dev[2], empty, 1), IMAGO_EINVAL);
        memset(longtag, 'x', sizeof(longtag) - 1);
        longtag[sizeof(longtag) - 1] = '\0';
        const char *lt[] = {longtag};
        assert_int_equal(imago_rollout_tags_set(t->ro, t->dev[2], lt, 1), IMAGO_EINVAL);
        longtag[IMAGO_ROLLOUT_TAG_MAX] = '\0';
        assert_int_equal(imago_rollout_tags_set(t->ro, t->dev[2], lt, 1), 0);
        assert_int_equal(imago_rollout_tags_set(t->ro, "XYZ", tags, 1), IMAGO_EINVAL);
        assert_int_equal(imago_rollout_tagged(t->ro, "bad tag", str_cb, &l), IMAGO_EINVAL);
        /* the refused sets changed nothing */
        memset(&l, 0, sizeof(l));
        assert_int_equal(imago_rollout_tags(t->ro, t->dev[2], str_cb, &l), 0);
        assert_int_equal(l.n, 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_stages_admit_counts, setup, teardown),
            cmocka_unit_test_setup_teardown(test_stable_shuffle_order, setup, teardown),
            cmocka_unit_test_setup_teardown(test_max_concurrent, setup, teardown),
            cmocka_unit_test_setup_teardown(test_next_stage_waits_for_all, setup, teardown),
            cmocka_unit_test_setup_teardown(test_abort_threshold, setup, teardown),
            cmocka_unit_test_setup_teardown(test_abort_percent_zero_and_hundred, setup, teardown),
            cmocka_unit_test_setup_teardown(test_pause_resume, setup, teardown),
            cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
            cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
            cmocka_unit_test_setup_teardown(test_reports_ignored, setup, teardown),
            cmocka_unit_test_setup_teardown(test_overlap_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(test_empty_rollout_completes, setup, teardown),
            cmocka_unit_test_setup_teardown(test_assign_failure_retried, setup, teardown),
            cmocka_unit_test_setup_teardown(test_spec_limits, setup, teardown),
            cmocka_unit_test_setup_teardown(test_reopen_continues, setup, teardown),
            cmocka_unit_test_setup_teardown(test_list_newest_first, setup, teardown),
            cmocka_unit_test_setup_teardown(test_tags, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
