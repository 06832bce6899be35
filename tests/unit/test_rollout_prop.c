/*
 * A randomized property test of the rollout engine: random rollouts driven by
 * random reports (right and wrong rollout ids and targets), ticks, pauses,
 * resumes and assign failures; the invariants are checked after every step.
 * The seed is printed; IMAGO_ROLLOUT_SEED=N replays one run.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "test_rollout_util.h"

#define T0 1700000000

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
        /* xorshift64* */
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        return (uint32_t)((rng * 2685821657736338717ULL) >> 33) % n;
}

static void check(struct rt *t, uint64_t id, const struct imago_rollout_spec *s, int step)
{
        static struct rt_rows rows;
        struct imago_rollout_info i;
        uint64_t sum = 0, unfinished = 0, admitted = 0, cap, fin, bad;

        assert_int_equal(imago_rollout_get(t->ro, id, &i), 0);
        assert_int_equal(rt_rows(t, id, &rows), 0);
        for (int k = 1; k < 8; k++)
                sum += i.count[k];
        assert_int_equal(sum, i.total);
        assert_int_equal(rows.n, i.total);
        for (int k = 0; k < RT_MAXDEV; k++) {
                if (!rows.present[k])
                        continue;
                admitted += rows.d[k].admitted != 0;
                if (rows.d[k].admitted && rows.d[k].state < IMAGO_OTA_SUCCEEDED)
                        unfinished++;
                /* never admitted twice; assigned exactly when admitted */
                assert_int_equal(t->f.assigned[k], rows.d[k].admitted ? 1 : 0);
                if (!rows.d[k].admitted)
                        assert_int_equal(rows.d[k].state, IMAGO_OTA_QUEUED);
                /* clear: at most once, only admitted devices, always the failed/reverted */
                assert_true(t->f.cleared[k] <= 1);
                if (t->f.cleared[k])
                        assert_true(rows.d[k].admitted);
                if (rows.d[k].state == IMAGO_OTA_FAILED || rows.d[k].state == IMAGO_OTA_REVERTED)
                        assert_int_equal(t->f.cleared[k], 1);
                if (rows.d[k].state == IMAGO_OTA_SUCCEEDED)
                        assert_int_equal(t->f.cleared[k], 0);
        }
        assert_int_equal(admitted, i.admitted);
        cap = (s->stages[i.stage] * i.total + 99) / 100;
        if (i.admitted > cap || unfinished > s->max_concurrent)
                fail_msg("step %d: admitted %llu cap %llu unfinished %llu max %u", step,
                         (unsigned long long)i.admitted, (unsigned long long)cap,
                         (unsigned long long)unfinished, s->max_concurrent);
        bad = i.count[IMAGO_OTA_FAILED] + i.count[IMAGO_OTA_REVERTED];
        fin = bad + i.count[IMAGO_OTA_SUCCEEDED];
        if (i.status == IMAGO_ROLLOUT_RUNNING || i.status == IMAGO_ROLLOUT_PAUSED) {
                /* not past the threshold, not complete */
                assert_false(fin >= s->abort_min && bad * 100 > (uint64_t)s->abort_percent * fin);
                assert_true(fin < i.total);
        }
        if (i.status == IMAGO_ROLLOUT_COMPLETED)
                assert_int_equal(fin, i.total);
        if (i.status == IMAGO_ROLLOUT_ABORTED)
                assert_true(fin >= s->abort_min && bad * 100 > (uint64_t)s->abort_percent * fin);
}

static void one_run(int run)
{
        static struct rt t;
        struct imago_rollout_spec s;
        unsigned stages[IMAGO_ROLLOUT_STAGES_MAX];
        size_t nst = 1 + rnd(4), n = 1 + rnd(60);
        int64_t now = T0;
        uint64_t id;

        assert_int_equal(rt_open(&t), 0);
        /* strictly increasing stages ending at 100 */
        for (size_t k = 0; k < nst; k++)
                stages[k] = (unsigned)(100 - (nst - 1 - k) * (1 + rnd(20)));
        for (size_t k = 1; k < nst; k++)
                if (stages[k] <= stages[k - 1])
                        stages[k] = stages[k - 1] + 1;
        stages[nst - 1] = 100;
        for (size_t k = 1; k < nst; k++)
                if (stages[k - 1] >= stages[k])
                        nst = k; /* cannot happen often: keep the increasing prefix */
        stages[nst - 1] = 100;
        rt_spec(&s, stages, nst, 1 + rnd(8), rnd(101), 1 + rnd(10));
        s.device_timeout_s = 60 + rnd(600);
        assert_int_equal(imago_rollout_spec_check(&s), 0);
        assert_int_equal(imago_rollout_create(t.ro, &t.f.ops, &s, t.devp, n, 1, now, &id), 0);
        check(&t, id, &s, 0);
        for (int step = 1; step <= 300; step++) {
                uint32_t a = rnd(100);
                int d = (int)rnd((uint32_t)n + 2); /* sometimes a device not in the rollout */
                enum imago_vreport_state st = (enum imago_vreport_state)(2 + rnd(6));
                uint64_t rid = rnd(10) == 0 ? id + 1 : id;
                const char *target = rnd(8) == 0 ? "other.bin" : RT_TARGET;

                struct imago_rollout_info before;
                size_t nassign = t.f.norder;
                int ncleared = 0, resumed = 0;

                assert_int_equal(imago_rollout_get(t.ro, id, &before), 0);
                for (int k = 0; k < RT_MAXDEV; k++)
                        ncleared += t.f.cleared[k];
                now += rnd(120);
                if (a < 70) {
                        assert_int_equal(imago_rollout_on_report(t.ro, &t.f.ops, t.dev[d], rid, st,
                                                                 target, "", rnd(101), now),
                                         0);
                } else if (a < 85) {
                        if (rnd(4) == 0)
                                t.f.fail_assign = 1 + (int)rnd(3);
                        assert_int_equal(imago_rollout_tick(t.ro, &t.f.ops, now), 0);
                } else if (a < 92) {
                        int r = imago_rollout_pause(t.ro, &t.f.ops, id, 2, now);

                        assert_true(r == 0 || r == IMAGO_EROLLOUT_STATE);
                } else {
                        int r = imago_rollout_resume(t.ro, &t.f.ops, id, 2, now);

                        assert_true(r == 0 || r == IMAGO_EROLLOUT_STATE);
                        resumed = r == 0;
                }
                check(&t, id, &s, step);
                /* paused: nobody admitted; finished: nobody assigned or cleared any more */
                if (before.status == IMAGO_ROLLOUT_PAUSED && !resumed)
                        assert_int_equal(t.f.norder, nassign);
                if (before.status >= IMAGO_ROLLOUT_CANCELLED) {
                        int now_cleared = 0;

                        for (int k = 0; k < RT_MAXDEV; k++)
                                now_cleared += t.f.cleared[k];
                        assert_int_equal(t.f.norder, nassign);
                        assert_int_equal(now_cleared, ncleared);
                }
        }
        /* drain: resume, everyone succeeds -> completes unless it aborted */
        (void)imago_rollout_resume(t.ro, &t.f.ops, id, 2, now);
        t.f.fail_assign = 0;
        for (int round = 0; round < 200; round++) {
                static struct rt_rows rows;
                struct imago_rollout_info i;

                assert_int_equal(imago_rollout_get(t.ro, id, &i), 0);
                if (i.status != IMAGO_ROLLOUT_RUNNING)
                        break;
                assert_int_equal(rt_rows(&t, id, &rows), 0);
                for (int k = 0; k < (int)n; k++)
                        if (rows.d[k].admitted && rows.d[k].state < IMAGO_OTA_SUCCEEDED)
                                assert_int_equal(imago_rollout_on_report(t.ro, &t.f.ops, t.dev[k],
                                                                         id, IMAGO_OTA_SUCCEEDED,
                                                                         RT_TARGET, "", 100, now),
                                                 0);
                assert_int_equal(imago_rollout_tick(t.ro, &t.f.ops, now), 0);
                check(&t, id, &s, 1000 + round);
        }
        struct imago_rollout_info i;
        assert_int_equal(imago_rollout_get(t.ro, id, &i), 0);
        if (i.status != IMAGO_ROLLOUT_COMPLETED && i.status != IMAGO_ROLLOUT_ABORTED)
                fail_msg("run %d: ends %s", run, imago_rollout_status_name(i.status));
        rt_close(&t);
}

static void test_rollout_properties(void **state)
{
        const char *env = getenv("IMAGO_ROLLOUT_SEED");
        uint64_t seed;

        (void)state;
        seed = env != NULL ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
        print_message("rollout property test seed %llu (IMAGO_ROLLOUT_SEED=%llu replays it)\n",
                      (unsigned long long)seed, (unsigned long long)seed);
        for (int run = 0; run < 16; run++) {
                rng = (seed + (uint64_t)run) * 0x9E3779B97F4A7C15ULL + 1;
                one_run(run);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_rollout_properties),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
