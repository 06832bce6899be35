/*
 * Fault injection for the store, after SQLite's test VFS and MCUboot's
 * simulator: an ops table that cuts power (a torn write, then every later
 * write and fsync fails) or fails one write with EIO, at the Nth write of an
 * update, for every N of a clean update.  After each run the file is
 * reopened with the real ops and must hold the old or the new state, and
 * the store must still take updates.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "device/store/store.h"

#include "test_p11_util.h"

#define PIN "1234"

enum fault_mode { FAULT_NONE, FAULT_CUT, FAULT_EIO, FAULT_FSYNC };

struct fault {
        enum fault_mode mode;
        int at;     /* 1-based write number that fails */
        int writes; /* writes seen */
        int dead;   /* power is off */
};

static const struct imago_store_ops *real(void)
{
        return imago_store_posix_ops();
}

static int f_open(void *arg, const char *p, int create)
{
        (void)arg;
        return real()->open(NULL, p, create);
}

static int f_pread(void *arg, int fd, void *buf, size_t n, uint64_t off, size_t *got)
{
        (void)arg;
        return real()->pread(NULL, fd, buf, n, off, got);
}

static int f_pwrite(void *arg, int fd, const void *buf, size_t n, uint64_t off)
{
        struct fault *f = arg;

        if (f->dead)
                return IMAGO_EIO;
        if (++f->writes == f->at) {
                if (f->mode == FAULT_CUT) { /* torn: half the page reaches the medium */
                        real()->pwrite(NULL, fd, buf, n / 2, off);
                        f->dead = 1;
                        return IMAGO_EIO;
                }
                if (f->mode == FAULT_EIO)
                        return IMAGO_EIO;
        }
        return real()->pwrite(NULL, fd, buf, n, off);
}

static int f_fsync(void *arg, int fd)
{
        struct fault *f = arg;

        if (f->dead)
                return IMAGO_EIO;
        if (f->mode == FAULT_FSYNC) { /* the data is written; power goes before the counter */
                real()->fsync(NULL, fd);
                f->dead = 1;
                return IMAGO_EIO;
        }
        return real()->fsync(NULL, fd);
}

static void f_close(void *arg, int fd)
{
        (void)arg;
        real()->close(NULL, fd);
}

static struct tok_env env;
static char path[256];
static struct imago_p11 *tok;

static int fill(void)
{
        static uint8_t big[IMAGO_STORE_VALUE_MAX];
        struct imago_store *s = NULL;
        int ok;

        memset(big, 0xa5, sizeof(big));
        if (imago_store_open(path, tok, NULL, &s) != IMAGO_OK)
                return 0;
        ok = imago_store_put(s, "fill1", IMAGO_STORE_CERT, big, sizeof(big)) == IMAGO_OK &&
             imago_store_put(s, "fill2", IMAGO_STORE_CERT, big, sizeof(big)) == IMAGO_OK &&
             imago_store_put(s, "fill3", IMAGO_STORE_CERT, big, sizeof(big)) == IMAGO_OK;
        imago_store_close(s);
        return ok;
}

static int setup(void **state)
{
        char uri[128];

        (void)state;
        if (tok_env_init(&env) != 0 || tok_add(&env, "dev", PIN) != 0)
                return -1;
        tok_uri(uri, sizeof(uri), "dev", PIN);
        if (imago_p11_open(TOK_MODULE, uri, NULL, &tok) != IMAGO_OK)
                return -1;
        snprintf(path, sizeof(path), "%s/fault.store", env.dir);
        if (imago_store_create(path, tok, NULL) != IMAGO_OK)
                return -1;
        /* three 4 KiB records: a copy spans four write chunks */
        return fill() ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        imago_p11_close(tok);
        tok_env_free(&env);
        return 0;
}

/* The value of "k" ("" when absent) after a reopen with the real ops. */
static void value_of_k(char *out, size_t cap)
{
        struct imago_store *s = NULL;
        size_t len = 0;
        int r;

        assert_int_equal(imago_store_open(path, tok, NULL, &s), IMAGO_OK);
        r = imago_store_get(s, "k", NULL, (uint8_t *)out, cap - 1, &len);
        if (r == IMAGO_ENOTFOUND)
                len = 0;
        else
                assert_int_equal(r, IMAGO_OK);
        out[len] = 0;
        imago_store_close(s);
}

static void set_k(const struct imago_store_ops *ops, const char *v, int expect)
{
        struct imago_store *s = NULL;

        assert_int_equal(imago_store_open(path, tok, ops, &s), IMAGO_OK);
        assert_int_equal(imago_store_put(s, "k", IMAGO_STORE_CONFIG, (const uint8_t *)v, strlen(v)),
                         expect);
        imago_store_close(s);
}

/* Writes of one clean update. */
static int clean_writes(void)
{
        struct fault f = {FAULT_NONE, 0, 0, 0};
        struct imago_store_ops ops = {f_open, f_pread, f_pwrite, f_fsync, f_close, &f};

        set_k(&ops, "clean", IMAGO_OK);
        return f.writes;
}

/*
 * want_after: the state the reopen must show when the fault hits a write
 * before the last one (the tag is in the last chunk): "old", or "new" for a
 * fault after all writes.  At the last write either state is right.
 */
static void run(enum fault_mode mode, const char *want_after)
{
        int total = clean_writes(), n;
        char got[64], old[32], new[32];

        assert_int_equal(total, 4);
        for (n = 1; n <= (mode == FAULT_FSYNC ? 1 : total); n++) {
                struct fault f = {mode, n, 0, 0};
                struct imago_store_ops ops = {f_open, f_pread, f_pwrite, f_fsync, f_close, &f};

                snprintf(old, sizeof(old), "old-%d", n);
                snprintf(new, sizeof(new), "new-%d", n);
                set_k(NULL, old, IMAGO_OK);
                set_k(&ops, new, IMAGO_EIO);
                value_of_k(got, sizeof(got));
                if (strcmp(got, old) != 0 && strcmp(got, new) != 0)
                        fail_msg("fault %d at write %d: neither old nor new state (%s)", mode, n,
                                 got);
                if ((n < total || mode == FAULT_FSYNC) &&
                    strcmp(got, strcmp(want_after, "old") == 0 ? old : new) != 0)
                        fail_msg("fault %d at write %d: got %s, want the %s state", mode, n, got,
                                 want_after);
                /* the store still takes updates and keeps them */
                set_k(NULL, "after", IMAGO_OK);
                value_of_k(got, sizeof(got));
                assert_string_equal(got, "after");
        }
}

static void test_power_cut_at_every_write(void **state)
{
        (void)state;
        run(FAULT_CUT, "old"); /* the counter never moved: the torn copy is not current */
}

static void test_eio_at_every_write(void **state)
{
        (void)state;
        run(FAULT_EIO, "old");
}

/* Written and synced, cut before the counter step: one ahead, accepted. */
static void test_power_cut_before_counter(void **state)
{
        uint64_t ctr = 0, seq;
        struct imago_store *s = NULL;

        (void)state;
        run(FAULT_FSYNC, "new");
        /* and the accepted copy moved the counter, so the older copy is now a rollback */
        assert_int_equal(imago_store_open(path, tok, NULL, &s), IMAGO_OK);
        seq = imago_store_seq(s);
        imago_store_close(s);
        assert_int_equal(imago_p11_counter_read(tok, IMAGO_STORE_COUNTER_LABEL, &ctr), IMAGO_OK);
        assert_int_equal(ctr, seq);
}

/* A failed update leaves the open store usable in its old state. */
static void test_failed_update_keeps_handle_usable(void **state)
{
        struct fault f = {FAULT_EIO, 3, 0, 0};
        struct imago_store_ops ops = {f_open, f_pread, f_pwrite, f_fsync, f_close, &f};
        struct imago_store *s = NULL;
        uint8_t buf[16];
        size_t len = 0;
        uint64_t seq;
        char got[64];

        (void)state;
        set_k(NULL, "before", IMAGO_OK);
        assert_int_equal(imago_store_open(path, tok, &ops, &s), IMAGO_OK);
        seq = imago_store_seq(s);
        assert_int_equal(imago_store_put(s, "k", IMAGO_STORE_CONFIG, (const uint8_t *)"x", 1),
                         IMAGO_EIO);
        assert_int_equal(imago_store_seq(s), seq);
        assert_int_equal(imago_store_get(s, "k", NULL, buf, sizeof(buf), &len), IMAGO_OK);
        assert_memory_equal(buf, "before", 6);
        f.mode = FAULT_NONE;
        assert_int_equal(imago_store_put(s, "k", IMAGO_STORE_CONFIG, (const uint8_t *)"y", 1),
                         IMAGO_OK);
        imago_store_close(s);
        value_of_k(got, sizeof(got));
        assert_string_equal(got, "y");
}

/*
 * Provisioning cut short at any write of create: create reports the error
 * and removes what it made in the token; a rerun (after decommission, which
 * works whatever state a real power cut left) gives a working store.
 */
static void test_create_cut_at_every_write(void **state)
{
        char p2[300];
        struct imago_store *s = NULL;
        int total = 0;

        (void)state;
        snprintf(p2, sizeof(p2), "%s.new", path);
        assert_int_equal(imago_store_decommission(path, tok, NULL), IMAGO_OK);
        for (int n = 1;; n++) {
                struct fault f = {FAULT_CUT, n, 0, 0};
                struct imago_store_ops ops = {f_open, f_pread, f_pwrite, f_fsync, f_close, &f};
                int r = imago_store_create(p2, tok, &ops);

                if (r == IMAGO_OK) {
                        total = n - 1;
                        break;
                }
                assert_int_equal(r, IMAGO_EIO);
                assert_int_not_equal(imago_store_open(p2, tok, NULL, &s), IMAGO_OK);
                assert_null(s);
                assert_int_equal(imago_store_decommission(p2, tok, NULL), IMAGO_OK);
                assert_int_equal(imago_store_create(p2, tok, NULL), IMAGO_OK);
                assert_int_equal(imago_store_open(p2, tok, NULL, &s), IMAGO_OK);
                assert_int_equal(imago_store_count(s), 0);
                imago_store_close(s);
                s = NULL;
                assert_int_equal(imago_store_decommission(p2, tok, NULL), IMAGO_OK);
        }
        /* 16 pages of zeros and one page of the first copy */
        assert_int_equal(total, IMAGO_STORE_FILE_SIZE / IMAGO_STORE_WRITE_CHUNK + 1);
        assert_int_equal(imago_store_decommission(p2, tok, NULL), IMAGO_OK);
        unlink(p2);
        /* leave a store at path for any later test */
        assert_int_equal(imago_store_create(path, tok, NULL), IMAGO_OK);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_power_cut_at_every_write),
            cmocka_unit_test(test_eio_at_every_write),
            cmocka_unit_test(test_power_cut_before_counter),
            cmocka_unit_test(test_failed_update_keeps_handle_usable),
            cmocka_unit_test(test_create_cut_at_every_write),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
