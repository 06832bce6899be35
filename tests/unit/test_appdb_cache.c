/* Unit tests of src/cloud/appdb's prepared-statement cache (docs/appdb.md, "Performance"): a
 * cached statement is reset after every use (also after an error or a callback's stop), holds no
 * caller string, survives a schema change by another connection and is finalized at close; pure
 * reads (cmd_get included) take no write lock. */
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
#include <sqlite3.h>

#include "base/err.h"
#include "cloud/appdb/appdb.h"

#define DEV_A  "0123456789abcdef0123456789abcdef"
#define DEV_B  "fedcba9876543210fedcba9876543210"
#define HASH_1 "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
#define NOW    1700000000

struct fx {
        char dir[64];
        char path[96];
        struct imago_appdb *db;
        uint64_t alice, bob;
};

static int setup(void **state)
{
        static struct fx f;

        memset(&f, 0, sizeof(f));
        snprintf(f.dir, sizeof(f.dir), "/tmp/imago-appdb3-XXXXXX");
        if (mkdtemp(f.dir) == NULL)
                return -1;
        snprintf(f.path, sizeof(f.path), "%s/app.db", f.dir);
        if (imago_appdb_open(f.path, &f.db) != 0)
                return -1;
        if (imago_appdb_user_add(f.db, "alice", HASH_1, NOW, &f.alice) != 0 ||
            imago_appdb_user_add(f.db, "bob", HASH_1, NOW, &f.bob) != 0)
                return -1;
        *state = &f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        char cmd[128];

        imago_appdb_close(f->db);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        return system(cmd) == 0 ? 0 : -1;
}

/* A second, raw SQLite connection on the same file (another process's view). */
static sqlite3 *raw_open(const char *path)
{
        sqlite3 *r = NULL;

        assert_int_equal(sqlite3_open_v2(path, &r, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        sqlite3_busy_timeout(r, 0);
        return r;
}

static int raw_exec(sqlite3 *r, const char *sql)
{
        return sqlite3_exec(r, sql, NULL, NULL, NULL);
}

static char *heap(const char *s)
{
        char *p = strdup(s);

        assert_non_null(p);
        return p;
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Arguments live on the heap and are freed right after each call: a cached statement that kept a
 * bound pointer would read freed memory on its next use (ASan build). */
static void test_reuse_many_calls_heap_arguments(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_user u;
        struct imago_appdb_state st;
        struct imago_appdb_cmd c;
        uint64_t v = 0, id, seq;
        uint8_t tok[16];
        char doc[64];
        char *name, *dev, *d;
        int i;

        for (i = 0; i < 300; i++) {
                name = heap(i % 2 ? "alice" : "bob");
                assert_int_equal(imago_appdb_user_by_name(f->db, name, &u), 0);
                free(name);
                assert_int_equal(u.id, i % 2 ? f->alice : f->bob);
                assert_int_equal(imago_appdb_user_get(f->db, u.id, &u), 0);
                assert_string_equal(u.name, i % 2 ? "alice" : "bob");

                memset(tok, 0, sizeof(tok));
                tok[0] = (uint8_t)(i & 0xff);
                tok[1] = (uint8_t)(i >> 8);
                if (i % 10 == 0)
                        assert_int_equal(imago_appdb_token_revoke(f->db, tok, NOW + 60), 0);
                assert_int_equal(imago_appdb_token_revoked(f->db, tok), i % 10 == 0 ? 1 : 0);

                dev = heap(i % 2 ? DEV_A : DEV_B);
                snprintf(doc, sizeof(doc), "{\"i\":%d}", i);
                d = heap(doc);
                assert_int_equal(imago_appdb_state_get(f->db, dev, &st), 0);
                assert_int_equal(
                    imago_appdb_state_put_reported(f->db, dev, st.reported_version, d, NOW, &v), 0);
                assert_int_equal(v, st.reported_version + 1);
                imago_appdb_state_free(&st);
                free(d);
                assert_int_equal(imago_appdb_state_get(f->db, dev, &st), 0);
                assert_string_equal(st.reported, doc);
                imago_appdb_state_free(&st);

                assert_int_equal(imago_appdb_cmd_new(f->db, dev, f->alice, "ping", NULL, NOW,
                                                     NOW + 60, &id, &seq),
                                 0);
                assert_int_equal(seq, (uint64_t)i / 2 + 1);
                assert_int_equal(imago_appdb_cmd_get_at(f->db, id, NOW + 1, &c), 0);
                assert_int_equal(c.seq, seq);
                assert_string_equal(c.device, i % 2 ? DEV_A : DEV_B);
                imago_appdb_cmd_free(&c);
                free(dev);
        }
}

static int stop_after_one(const struct imago_appdb_user *u, void *arg)
{
        (void)u;
        ++*(int *)arg;
        return 7;
}

static int count_user(const struct imago_appdb_user *u, void *arg)
{
        (void)u;
        ++*(int *)arg;
        return 0;
}

static int stop_grant(const struct imago_appdb_grant *g, void *arg)
{
        (void)g;
        ++*(int *)arg;
        return 9;
}

static int count_grant(const struct imago_appdb_grant *g, void *arg)
{
        (void)g;
        ++*(int *)arg;
        return 0;
}

static int stop_owned(const char *device, int64_t at, void *arg)
{
        (void)device;
        (void)at;
        ++*(int *)arg;
        return 5;
}

static int count_owned(const char *device, int64_t at, void *arg)
{
        (void)device;
        (void)at;
        ++*(int *)arg;
        return 0;
}

/* A list stopped by its callback leaves the statement mid-way: the next list starts afresh. */
static void test_list_stopped_then_listed_again(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_grant g;
        int n;

        memset(&g, 0, sizeof(g));
        g.user = f->alice;
        g.role = 1;
        snprintf(g.group, sizeof(g.group), "lab");
        g.not_before = NOW;
        g.expires = NOW + 100;
        assert_int_equal(imago_appdb_grant_add(f->db, &g, NULL), 0);
        assert_int_equal(imago_appdb_grant_add(f->db, &g, NULL), 0);
        assert_int_equal(imago_appdb_bind(f->db, DEV_A, f->alice, NOW), 0);
        assert_int_equal(imago_appdb_bind(f->db, DEV_B, f->alice, NOW), 0);

        n = 0;
        assert_int_equal(imago_appdb_user_list(f->db, stop_after_one, &n), 7);
        assert_int_equal(n, 1);
        n = 0;
        assert_int_equal(imago_appdb_user_list(f->db, count_user, &n), 0);
        assert_int_equal(n, 2);

        n = 0;
        assert_int_equal(imago_appdb_grant_list(f->db, 0, stop_grant, &n), 9);
        assert_int_equal(n, 1);
        n = 0;
        assert_int_equal(imago_appdb_grant_list(f->db, f->alice, count_grant, &n), 0);
        assert_int_equal(n, 2);

        n = 0;
        assert_int_equal(imago_appdb_owned(f->db, f->alice, stop_owned, &n), 5);
        assert_int_equal(n, 1);
        n = 0;
        assert_int_equal(imago_appdb_owned(f->db, f->alice, count_owned, &n), 0);
        assert_int_equal(n, 2);
        /* and the handle is not left inside a transaction: a write goes through */
        assert_int_equal(imago_appdb_unbind(f->db, DEV_B), 0);
}

struct reenter {
        struct imago_appdb *db;
        uint64_t id;
        int r;
};

static int call_into_handle(const struct imago_appdb_user *u, void *arg)
{
        struct reenter *e = arg;
        struct imago_appdb_user v;

        (void)u;
        e->r = imago_appdb_user_get(e->db, e->id, &v);
        return 0;
}

/* A list callback calling into the same handle is refused (the list's transaction is open) and
 * breaks neither the list nor the handle. */
static void test_callback_into_same_handle_refused(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_user u;
        struct reenter e = {f->db, f->alice, 0};
        int n = 0;

        assert_int_equal(imago_appdb_user_list(f->db, call_into_handle, &e), 0);
        assert_int_equal(e.r, IMAGO_EREG_DB);
        assert_int_equal(imago_appdb_user_list(f->db, count_user, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(imago_appdb_user_get(f->db, f->alice, &u), 0);
        assert_int_equal(imago_appdb_user_set_hash(f->db, f->alice, HASH_1), 0);
}

/* Refusals and constraint errors reset their statements: the same calls then succeed. */
static void test_errors_leave_statements_usable(void **state)
{
        struct fx *f = *state;
        uint8_t h[32];
        uint64_t id, seq, user = 0, v = 0;
        int again = 0;

        assert_int_equal(imago_appdb_user_add(f->db, "alice", HASH_1, NOW, NULL), IMAGO_EEXIST);
        assert_int_equal(imago_appdb_user_add(f->db, "carol", HASH_1, NOW, &id), 0);
        assert_int_equal(imago_appdb_user_set_hash(f->db, 999, HASH_1), IMAGO_ENOTFOUND);
        assert_int_equal(imago_appdb_user_set_hash(f->db, id, HASH_1), 0);

        memset(h, 3, sizeof(h));
        assert_int_equal(imago_appdb_refresh_put(f->db, h, 999, NOW + 10), IMAGO_ENOTFOUND);
        assert_int_equal(imago_appdb_refresh_put(f->db, h, f->alice, NOW + 10), 0);
        assert_int_equal(imago_appdb_refresh_put(f->db, h, f->alice, NOW + 10), IMAGO_EEXIST);
        assert_int_equal(imago_appdb_refresh_consume(f->db, h, NOW + 10, &user),
                         IMAGO_EAUTH_REFRESH); /* expired: deleted */
        assert_int_equal(imago_appdb_refresh_put(f->db, h, f->alice, NOW + 20), 0);
        assert_int_equal(imago_appdb_refresh_consume(f->db, h, NOW, &user), 0);
        assert_int_equal(user, f->alice);

        assert_int_equal(imago_appdb_claim_nonce_dev(f->db, "00000000000000000000000000000001", NOW,
                                                     DEV_A, &again),
                         0);
        assert_int_equal(imago_appdb_claim_nonce_dev(f->db, "00000000000000000000000000000001", NOW,
                                                     DEV_B, &again),
                         IMAGO_EEXIST);
        assert_int_equal(imago_appdb_claim_nonce_dev(f->db, "00000000000000000000000000000001", NOW,
                                                     DEV_A, &again),
                         0);
        assert_int_equal(again, 1);

        assert_int_equal(imago_appdb_state_put_desired(f->db, DEV_A, 5, "{}", NOW, &v),
                         IMAGO_ESTATE_VERSION);
        assert_int_equal(v, 0);
        assert_int_equal(imago_appdb_state_put_desired(f->db, DEV_A, 0, "{\"x\":1}", NOW, &v), 0);
        assert_int_equal(v, 1);

        assert_int_equal(
            imago_appdb_cmd_result(f->db, DEV_A, 1, IMAGO_APPDB_CMD_OK, NULL, NOW, &id),
            IMAGO_ENOTFOUND);
        assert_int_equal(
            imago_appdb_cmd_new(f->db, DEV_A, f->alice, "ping", NULL, NOW, NOW + 60, &id, &seq), 0);
        assert_int_equal(
            imago_appdb_cmd_result(f->db, DEV_A, seq, IMAGO_APPDB_CMD_OK, NULL, NOW, &v), 0);
        assert_int_equal(
            imago_appdb_cmd_result(f->db, DEV_A, seq, IMAGO_APPDB_CMD_OK, NULL, NOW, &v),
            IMAGO_EEXIST);
        assert_int_equal(v, id);
}

/* Another connection holds the write lock: every pure read still answers at once (a deferred
 * read transaction), cmd_get of an unexpired command included; writes wait (busy timeout). */
static void test_reads_take_no_write_lock(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_user u;
        struct imago_appdb_state st;
        struct imago_appdb_cmd c;
        uint64_t id, seq, owner = 1;
        uint8_t tok[16] = {0};
        sqlite3 *r;
        double t0;

        assert_int_equal(
            imago_appdb_cmd_new(f->db, DEV_A, f->alice, "ping", NULL, NOW, NOW + 60, &id, &seq), 0);
        r = raw_open(f->path);
        assert_int_equal(raw_exec(r, "BEGIN IMMEDIATE"), SQLITE_OK);
        t0 = now_s();
        assert_int_equal(imago_appdb_user_get(f->db, f->alice, &u), 0);
        assert_int_equal(imago_appdb_user_by_name(f->db, "bob", &u), 0);
        assert_int_equal(imago_appdb_token_revoked(f->db, tok), 0);
        assert_int_equal(imago_appdb_owner(f->db, DEV_A, &owner), 0);
        assert_int_equal(owner, 0);
        assert_int_equal(imago_appdb_state_get(f->db, DEV_A, &st), 0);
        imago_appdb_state_free(&st);
        assert_int_equal(imago_appdb_cmd_get_at(f->db, id, NOW + 59, &c), 0);
        assert_int_equal(c.status, IMAGO_APPDB_CMD_SENT);
        imago_appdb_cmd_free(&c);
        assert_true(now_s() - t0 < 1.0);
        assert_int_equal(raw_exec(r, "ROLLBACK"), SQLITE_OK);
        assert_int_equal(sqlite3_close(r), SQLITE_OK);
}

/* A command read past its exp is stored EXPIRED (the write transaction of cmd_get), once. */
static void test_cmd_expired_on_read_is_stored(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_cmd c;
        uint64_t id, seq, rid;
        sqlite3_stmt *q = NULL;
        sqlite3 *r;

        assert_int_equal(
            imago_appdb_cmd_new(f->db, DEV_A, f->alice, "ping", NULL, NOW, NOW + 60, &id, &seq), 0);
        assert_int_equal(imago_appdb_cmd_get_at(f->db, id, NOW + 60, &c), 0);
        assert_int_equal(c.status, IMAGO_APPDB_CMD_EXPIRED);
        assert_int_equal(c.done_at, NOW + 60);
        imago_appdb_cmd_free(&c);
        r = raw_open(f->path);
        assert_int_equal(sqlite3_prepare_v2(r, "SELECT status, done_at FROM commands WHERE id = ?1",
                                            -1, &q, NULL),
                         SQLITE_OK);
        sqlite3_bind_int64(q, 1, (sqlite3_int64)id);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(q, 0), IMAGO_APPDB_CMD_EXPIRED);
        assert_int_equal(sqlite3_column_int64(q, 1), NOW + 60);
        sqlite3_finalize(q);
        assert_int_equal(sqlite3_close(r), SQLITE_OK);
        /* read again later: still the first expiry, no second write */
        assert_int_equal(imago_appdb_cmd_get_at(f->db, id, NOW + 90, &c), 0);
        assert_int_equal(c.status, IMAGO_APPDB_CMD_EXPIRED);
        assert_int_equal(c.done_at, NOW + 60);
        imago_appdb_cmd_free(&c);
        assert_int_equal(
            imago_appdb_cmd_result(f->db, DEV_A, seq, IMAGO_APPDB_CMD_OK, NULL, NOW + 91, &rid),
            IMAGO_EEXIST);
}

/* Another connection changes the schema (as a newer program's migration would): the cached
 * statements are prepared again by SQLite and keep working. */
static void test_schema_change_by_other_connection(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_user u;
        uint8_t tok[16] = {1};
        sqlite3 *r;

        assert_int_equal(imago_appdb_user_get(f->db, f->alice, &u), 0);
        assert_int_equal(imago_appdb_token_revoked(f->db, tok), 0);
        r = raw_open(f->path);
        assert_int_equal(raw_exec(r, "CREATE TABLE extra(x INTEGER);"
                                     "CREATE INDEX users_created ON users(created);"
                                     "ALTER TABLE users ADD COLUMN note TEXT"),
                         SQLITE_OK);
        assert_int_equal(sqlite3_close(r), SQLITE_OK);
        assert_int_equal(imago_appdb_user_get(f->db, f->alice, &u), 0);
        assert_string_equal(u.name, "alice");
        assert_int_equal(imago_appdb_token_revoke(f->db, tok, NOW + 5), 0);
        assert_int_equal(imago_appdb_token_revoked(f->db, tok), 1);
}

/* Close finalizes every cached statement, so the connection really closes: leaving WAL mode
 * needs the only connection to the file, and succeeds right after. */
static void test_close_releases_the_file(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_user u;
        struct imago_appdb_state st;
        struct imago_appdb_cmd c;
        uint64_t id, seq, v;
        uint8_t tok[16] = {2};
        sqlite3_stmt *q = NULL;
        sqlite3 *r;

        assert_int_equal(imago_appdb_user_get(f->db, f->alice, &u), 0);
        assert_int_equal(imago_appdb_token_revoked(f->db, tok), 0);
        assert_int_equal(imago_appdb_state_put_reported(f->db, DEV_A, 0, "{}", NOW, &v), 0);
        assert_int_equal(imago_appdb_state_get(f->db, DEV_A, &st), 0);
        imago_appdb_state_free(&st);
        assert_int_equal(
            imago_appdb_cmd_new(f->db, DEV_A, f->alice, "ping", NULL, NOW, NOW + 60, &id, &seq), 0);
        assert_int_equal(imago_appdb_cmd_get_at(f->db, id, NOW, &c), 0);
        imago_appdb_cmd_free(&c);
        imago_appdb_close(f->db);
        f->db = NULL;

        r = raw_open(f->path);
        assert_int_equal(sqlite3_prepare_v2(r, "PRAGMA journal_mode = DELETE", -1, &q, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(q, 0), "delete");
        sqlite3_finalize(q);
        assert_int_equal(sqlite3_close(r), SQLITE_OK);
        /* and open puts it back to WAL */
        assert_int_equal(imago_appdb_open(f->path, &f->db), 0);
        assert_int_equal(imago_appdb_user_get(f->db, f->bob, &u), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_reuse_many_calls_heap_arguments, setup, teardown),
            cmocka_unit_test_setup_teardown(test_list_stopped_then_listed_again, setup, teardown),
            cmocka_unit_test_setup_teardown(test_callback_into_same_handle_refused, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_errors_leave_statements_usable, setup, teardown),
            cmocka_unit_test_setup_teardown(test_reads_take_no_write_lock, setup, teardown),
            cmocka_unit_test_setup_teardown(test_cmd_expired_on_read_is_stored, setup, teardown),
            cmocka_unit_test_setup_teardown(test_schema_change_by_other_connection, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_close_releases_the_file, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
