/* Unit tests of src/cloud/appdb with two handles (and two processes) on one file:
 * single use and strict ordering hold across connections, not just inside one. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "cloud/appdb/appdb.h"

#define DEV_A  "0123456789abcdef0123456789abcdef"
#define DEV_B  "fedcba9876543210fedcba9876543210"
#define HASH_1 "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
#define NOW    1700000000
#define RACE_N 40

struct fx {
        char dir[64];
        char path[96];
        struct imago_appdb *a, *b;
        uint64_t alice;
};

static int setup(void **state)
{
        static struct fx f;

        memset(&f, 0, sizeof(f));
        snprintf(f.dir, sizeof(f.dir), "/tmp/imago-appdb2-XXXXXX");
        if (mkdtemp(f.dir) == NULL)
                return -1;
        snprintf(f.path, sizeof(f.path), "%s/app.db", f.dir);
        if (imago_appdb_open(f.path, &f.a) != 0 || imago_appdb_open(f.path, &f.b) != 0)
                return -1;
        if (imago_appdb_user_add(f.a, "alice", HASH_1, NOW, &f.alice) != 0)
                return -1;
        *state = &f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        char cmd[128];

        imago_appdb_close(f->a);
        imago_appdb_close(f->b);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_user_seen_by_other_handle(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_user u;

        assert_int_equal(imago_appdb_user_by_name(f->b, "alice", &u), 0);
        assert_int_equal(u.id, f->alice);
        assert_int_equal(imago_appdb_user_add(f->b, "alice", HASH_1, NOW, NULL), IMAGO_EEXIST);
}

static void test_refresh_consumed_once_across_handles(void **state)
{
        struct fx *f = *state;
        uint8_t h[32];
        uint64_t user = 0;

        memset(h, 7, sizeof(h));
        assert_int_equal(imago_appdb_refresh_put(f->a, h, f->alice, NOW + 100), 0);
        assert_int_equal(imago_appdb_refresh_consume(f->b, h, NOW, &user), 0);
        assert_int_equal(user, f->alice);
        assert_int_equal(imago_appdb_refresh_consume(f->a, h, NOW, &user), IMAGO_EAUTH_REFRESH);
}

static void test_seq_interleaved_strictly_increasing(void **state)
{
        struct fx *f = *state;
        uint64_t id, seq, last_a = 0, last_b = 0;
        int i;

        for (i = 0; i < 20; i++) {
                struct imago_appdb *h = (i % 3 == 0) ? f->b : f->a;
                assert_int_equal(
                    imago_appdb_cmd_new(h, DEV_A, f->alice, "ping", NULL, NOW, NOW + 60, &id, &seq),
                    0);
                assert_int_equal(seq, last_a + 1);
                last_a = seq;
                assert_int_equal(imago_appdb_cmd_new(i % 2 ? f->a : f->b, DEV_B, f->alice, "ping",
                                                     NULL, NOW, NOW + 60, &id, &seq),
                                 0);
                assert_int_equal(seq, last_b + 1);
                last_b = seq;
        }
}

static void test_result_once_across_handles(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_cmd c;
        uint64_t id, seq, rid;

        assert_int_equal(
            imago_appdb_cmd_new(f->a, DEV_A, f->alice, "ping", NULL, NOW, NOW + 60, &id, &seq), 0);
        assert_int_equal(imago_appdb_cmd_result(f->b, DEV_A, seq, IMAGO_APPDB_CMD_OK, "{\"a\":1}",
                                                NOW + 1, &rid),
                         0);
        assert_int_equal(rid, id);
        assert_int_equal(imago_appdb_cmd_result(f->a, DEV_A, seq, IMAGO_APPDB_CMD_REJECTED,
                                                "{\"b\":2}", NOW + 2, &rid),
                         IMAGO_EEXIST);
        assert_int_equal(imago_appdb_cmd_get_at(f->a, id, NOW + 3, &c), 0);
        assert_int_equal(c.status, IMAGO_APPDB_CMD_OK);
        assert_string_equal(c.result, "{\"a\":1}");
        imago_appdb_cmd_free(&c);
}

static void test_state_version_across_handles(void **state)
{
        struct fx *f = *state;
        uint64_t v;

        /* two writers read version 0; the second write loses */
        assert_int_equal(imago_appdb_state_put_desired(f->a, DEV_A, 0, "{\"x\":1}", NOW, &v), 0);
        assert_int_equal(v, 1);
        assert_int_equal(imago_appdb_state_put_desired(f->b, DEV_A, 0, "{\"x\":2}", NOW, &v),
                         IMAGO_ESTATE_VERSION);
        assert_int_equal(v, 1);
        assert_int_equal(imago_appdb_state_put_desired(f->b, DEV_A, 1, "{\"x\":2}", NOW, &v), 0);
        assert_int_equal(v, 2);
}

static void test_nonce_and_bind_across_handles(void **state)
{
        struct fx *f = *state;
        const char *n = "00112233445566778899aabbccddeeff";
        uint64_t bob;

        assert_int_equal(imago_appdb_claim_nonce(f->a, n, NOW + 60), 0);
        assert_int_equal(imago_appdb_claim_nonce(f->b, n, NOW + 60), IMAGO_EEXIST);
        assert_int_equal(imago_appdb_user_add(f->b, "bob", HASH_1, NOW, &bob), 0);
        assert_int_equal(imago_appdb_bind(f->a, DEV_A, f->alice, NOW), 0);
        assert_int_equal(imago_appdb_bind(f->b, DEV_A, bob, NOW), IMAGO_EAPI_BOUND);
}

/* Child: open its own handle, run the race, write what it won to fd, exit. */
static void race_child(const char *path, int fd, int kind)
{
        struct imago_appdb *db = NULL;
        uint64_t id, seq, user;
        uint8_t h[32];
        int i, code = 1;

        if (imago_appdb_open(path, &db) != 0)
                _exit(2);
        for (i = 0; i < RACE_N; i++) {
                if (kind == 0) {
                        if (imago_appdb_cmd_new(db, DEV_A, 1, "ping", NULL, NOW, NOW + 60, &id,
                                                &seq) != 0)
                                goto out;
                } else {
                        memset(h, i + 1, sizeof(h));
                        int r = imago_appdb_refresh_consume(db, h, NOW, &user);
                        if (r != 0 && r != IMAGO_EAUTH_REFRESH)
                                goto out;
                        seq = r == 0 ? (uint64_t)(i + 1) : 0;
                }
                if (write(fd, &seq, sizeof(seq)) != (ssize_t)sizeof(seq))
                        goto out;
        }
        code = 0;
out:
        imago_appdb_close(db);
        _exit(code);
}

/* Two processes race; returns the values each wrote (RACE_N each). */
static void race(struct fx *f, int kind, uint64_t got[2][RACE_N])
{
        pid_t pid[2];
        int fds[2][2], k, st;

        for (k = 0; k < 2; k++) {
                assert_int_equal(pipe(fds[k]), 0);
                pid[k] = fork();
                assert_true(pid[k] >= 0);
                if (pid[k] == 0) {
                        close(fds[k][0]);
                        race_child(f->path, fds[k][1], kind);
                }
                close(fds[k][1]);
        }
        for (k = 0; k < 2; k++) {
                size_t off = 0;
                ssize_t n;
                while (off < sizeof(got[k]) &&
                       (n = read(fds[k][0], (uint8_t *)got[k] + off, sizeof(got[k]) - off)) > 0)
                        off += (size_t)n;
                close(fds[k][0]);
                assert_int_equal(waitpid(pid[k], &st, 0), pid[k]);
                assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
                assert_int_equal(off, sizeof(got[k]));
        }
}

static void test_seq_two_processes(void **state)
{
        struct fx *f = *state;
        uint64_t got[2][RACE_N];
        uint8_t seen[2 * RACE_N + 1] = {0};
        int k, i;

        race(f, 0, got);
        for (k = 0; k < 2; k++)
                for (i = 0; i < RACE_N; i++) {
                        assert_true(got[k][i] >= 1 && got[k][i] <= 2 * RACE_N);
                        if (i > 0)
                                assert_true(got[k][i] > got[k][i - 1]);
                        assert_int_equal(seen[got[k][i]], 0);
                        seen[got[k][i]] = 1;
                }
}

static void test_refresh_two_processes(void **state)
{
        struct fx *f = *state;
        uint64_t got[2][RACE_N];
        uint8_t h[32];
        int i;

        for (i = 0; i < RACE_N; i++) {
                memset(h, i + 1, sizeof(h));
                assert_int_equal(imago_appdb_refresh_put(f->a, h, f->alice, NOW + 100), 0);
        }
        race(f, 1, got);
        for (i = 0; i < RACE_N; i++)
                assert_true((got[0][i] != 0) != (got[1][i] != 0)); /* exactly one won */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_user_seen_by_other_handle, setup, teardown),
            cmocka_unit_test_setup_teardown(test_refresh_consumed_once_across_handles, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_seq_interleaved_strictly_increasing, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_result_once_across_handles, setup, teardown),
            cmocka_unit_test_setup_teardown(test_state_version_across_handles, setup, teardown),
            cmocka_unit_test_setup_teardown(test_nonce_and_bind_across_handles, setup, teardown),
            cmocka_unit_test_setup_teardown(test_seq_two_processes, setup, teardown),
            cmocka_unit_test_setup_teardown(test_refresh_two_processes, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
