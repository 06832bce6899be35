/* Unit tests of src/cloud/audit: the hash chain, named after the attacks it detects. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "base/err.h"
#include "cloud/audit/audit.h"
#include "crypto/crypto.h"

struct fx {
        char dir[64];
        char path[96];
        struct imago_audit *a;
};

static int setup(void **state)
{
        static struct fx f;

        memset(&f, 0, sizeof(f));
        snprintf(f.dir, sizeof(f.dir), "/tmp/imago-audit-XXXXXX");
        if (mkdtemp(f.dir) == NULL)
                return -1;
        snprintf(f.path, sizeof(f.path), "%s/audit.db", f.dir);
        if (imago_audit_open(f.path, &f.a) != 0)
                return -1;
        *state = &f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        char p[128];

        imago_audit_close(f->a);
        unlink(f->path);
        snprintf(p, sizeof(p), "%s-wal", f->path);
        unlink(p);
        snprintf(p, sizeof(p), "%s-shm", f->path);
        unlink(p);
        rmdir(f->dir);
        return 0;
}

/* n records "user-<i>" "device.revoke" "dev-<i>" */
static void fill(struct fx *f, int n)
{
        char actor[32], object[32];
        uint64_t seq;
        int i;

        for (i = 1; i <= n; i++) {
                snprintf(actor, sizeof(actor), "user-%d", i);
                snprintf(object, sizeof(object), "dev-%d", i);
                assert_int_equal(imago_audit_append(f->a, 1700000000 + i, actor, "device.revoke",
                                                    object, "{\"reason\":\"test\"}", &seq, NULL),
                                 0);
                assert_int_equal(seq, (uint64_t)i);
        }
}

/* Raw SQL on the file as an attacker with write access would run it (triggers dropped). */
static void tamper(struct fx *f, const char *sql)
{
        sqlite3 *db = NULL;
        char *err = NULL;

        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
                                      "DROP TRIGGER IF EXISTS audit_log_no_update;"
                                      "DROP TRIGGER IF EXISTS audit_log_no_delete;",
                                      NULL, NULL, &err),
                         SQLITE_OK);
        if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
                fail_msg("tamper: %s", err);
        sqlite3_close(db);
}

static void expect_broken(struct fx *f, int code, uint64_t bad, uint64_t good)
{
        struct imago_audit_report rep;

        assert_int_equal(imago_audit_verify(f->a, 0, NULL, &rep), code);
        assert_int_equal(rep.bad_seq, bad);
        assert_int_equal(rep.records, good);
}

static void intact_chain_verifies(void **state)
{
        struct fx *f = *state;
        struct imago_audit_report rep;
        uint8_t head[32], h2[32];
        uint64_t seq;

        assert_int_equal(imago_audit_verify(f->a, 0, NULL, &rep), 0);
        assert_int_equal(rep.records, 0);
        fill(f, 5);
        assert_int_equal(imago_audit_head(f->a, &seq, head), 0);
        assert_int_equal(seq, 5);
        assert_int_equal(imago_audit_verify(f->a, seq, head, &rep), 0);
        assert_int_equal(rep.records, 5);
        assert_int_equal(rep.bad_seq, 0);
        assert_memory_equal(rep.head, head, 32);
        /* an older head is still a prefix of the log */
        {
                struct imago_audit_record rec;

                assert_int_equal(imago_audit_read(f->a, 3, &rec), 0);
                memcpy(h2, rec.hash, 32);
                imago_audit_record_free(&rec);
        }
        assert_int_equal(imago_audit_verify(f->a, 3, h2, &rep), 0);
        /* a wrong hash for a head that exists */
        h2[0] ^= 1;
        assert_int_equal(imago_audit_verify(f->a, 3, h2, &rep), IMAGO_EAUDIT_HEAD);
        assert_int_equal(rep.bad_seq, 3);
}

static void hash_is_the_documented_encoding(void **state)
{
        struct fx *f = *state;
        struct imago_audit_record rec;
        uint8_t h[32];
        /* docs/audit.md: SHA-256("imago-audit-v1" || be64 seq || be64 time ||
         * be32 len || actor || ... || prev_hash), computed here independently */
        static const uint8_t enc[] = {
            'i', 'm', 'a', 'g', 'o', '-', 'a', 'u', 'd', 'i', 't', '-', 'v', '1', 0,   0,  0,
            0,   0,   0,   0,   1,   0,   0,   0,   0,   0,   0,   0,   42,  0,   0,   0,  1,
            'a', 0,   0,   0,   1,   'b', 0,   0,   0,   0,   0,   0,   0,   2,   '{', '}'};
        uint8_t buf[sizeof(enc) + 32] = {0};

        (void)f;
        memset(&rec, 0, sizeof(rec));
        rec.seq = 1;
        rec.time = 42;
        rec.actor = "a";
        rec.action = "b";
        rec.object = "";
        rec.detail = "{}";
        assert_int_equal(imago_audit_record_hash(&rec, h), 0);
        memcpy(buf, enc, sizeof(enc));
        {
                uint8_t want[32];

                assert_int_equal(imago_sha256(buf, sizeof(buf), want), 0);
                assert_memory_equal(h, want, 32);
        }
}

static void edited_record(void **state)
{
        struct fx *f = *state;

        fill(f, 5);
        tamper(f, "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3");
        expect_broken(f, IMAGO_EAUDIT_CHAIN, 3, 2);
}

static void edited_time(void **state)
{
        struct fx *f = *state;

        fill(f, 5);
        tamper(f, "UPDATE audit_log SET time = time + 1 WHERE seq = 4");
        expect_broken(f, IMAGO_EAUDIT_CHAIN, 4, 3);
}

static void deleted_record(void **state)
{
        struct fx *f = *state;

        fill(f, 5);
        tamper(f, "DELETE FROM audit_log WHERE seq = 2");
        expect_broken(f, IMAGO_EAUDIT_CHAIN, 2, 1);
}

static void deleted_first_record(void **state)
{
        struct fx *f = *state;

        fill(f, 3);
        tamper(f, "DELETE FROM audit_log WHERE seq = 1");
        expect_broken(f, IMAGO_EAUDIT_CHAIN, 1, 0);
}

static void inserted_record(void **state)
{
        struct fx *f = *state;
        struct imago_audit_record one, fake;
        char sql[512], hx[65], px[65];
        int i;

        fill(f, 4);
        assert_int_equal(imago_audit_read(f->a, 1, &one), 0);
        /* a well-formed record with a correct hash after record 1, the rest renumbered */
        memset(&fake, 0, sizeof(fake));
        fake.seq = 2;
        fake.time = 1700000001;
        fake.actor = "attacker";
        fake.action = "grant.add";
        fake.object = "attacker";
        fake.detail = "{}";
        memcpy(fake.prev_hash, one.hash, 32);
        assert_int_equal(imago_audit_record_hash(&fake, fake.hash), 0);
        for (i = 0; i < 32; i++) {
                snprintf(hx + 2 * i, 3, "%02x", fake.hash[i]);
                snprintf(px + 2 * i, 3, "%02x", fake.prev_hash[i]);
        }
        imago_audit_record_free(&one);
        snprintf(sql, sizeof(sql),
                 "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 2;"
                 "UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000;"
                 "INSERT INTO audit_log VALUES (2, 1700000001, 'attacker', 'grant.add',"
                 " 'attacker', '{}', X'%s', X'%s');",
                 px, hx);
        tamper(f, sql);
        /* record 2 is self-consistent; the old record 2, now 3, no longer fits */
        expect_broken(f, IMAGO_EAUDIT_CHAIN, 3, 2);
}

static void inserted_record_at_end_without_hash(void **state)
{
        struct fx *f = *state;

        fill(f, 2);
        tamper(f, "INSERT INTO audit_log VALUES (3, 1, 'x', 'y', 'z', '{}', zeroblob(32),"
                  " zeroblob(32))");
        expect_broken(f, IMAGO_EAUDIT_CHAIN, 3, 2);
}

static void reordered_records(void **state)
{
        struct fx *f = *state;

        fill(f, 5);
        tamper(f, "UPDATE audit_log SET seq = 100 WHERE seq = 2;"
                  "UPDATE audit_log SET seq = 2 WHERE seq = 3;"
                  "UPDATE audit_log SET seq = 3 WHERE seq = 100;");
        expect_broken(f, IMAGO_EAUDIT_CHAIN, 2, 1);
}

static void truncated_tail_with_head(void **state)
{
        struct fx *f = *state;
        struct imago_audit_report rep;
        uint8_t head[32];
        uint64_t seq;

        fill(f, 5);
        assert_int_equal(imago_audit_head(f->a, &seq, head), 0);
        tamper(f, "DELETE FROM audit_log WHERE seq >= 4");
        /* the shorter chain is self-consistent: only the external head catches it */
        assert_int_equal(imago_audit_verify(f->a, 0, NULL, &rep), 0);
        assert_int_equal(rep.records, 3);
        assert_int_equal(imago_audit_verify(f->a, seq, head, &rep), IMAGO_EAUDIT_HEAD);
        assert_int_equal(rep.bad_seq, 4);
        assert_int_equal(rep.records, 3);
}

static void rewritten_chain_with_head(void **state)
{
        struct fx *f = *state;
        struct imago_audit_report rep;
        uint8_t head[32];
        uint64_t seq;

        fill(f, 3);
        assert_int_equal(imago_audit_head(f->a, &seq, head), 0);
        /* everything deleted and a new, valid chain written in its place */
        tamper(f, "DELETE FROM audit_log");
        {
                struct imago_audit *b = NULL;

                assert_int_equal(imago_audit_open(f->path, &b), 0);
                assert_int_equal(imago_audit_append(b, 1, "x", "y", "", "", NULL, NULL), 0);
                assert_int_equal(imago_audit_append(b, 2, "x", "y", "", "", NULL, NULL), 0);
                assert_int_equal(imago_audit_append(b, 3, "x", "y", "", "", NULL, NULL), 0);
                imago_audit_close(b);
        }
        assert_int_equal(imago_audit_verify(f->a, 0, NULL, NULL), 0);
        assert_int_equal(imago_audit_verify(f->a, seq, head, &rep), IMAGO_EAUDIT_HEAD);
        assert_int_equal(rep.bad_seq, 3);
}

static void triggers_refuse_update_and_delete(void **state)
{
        struct fx *f = *state;
        sqlite3 *db = NULL;

        fill(f, 2);
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_not_equal(sqlite3_exec(db, "UPDATE audit_log SET actor = 'x'", NULL, NULL, NULL),
                             SQLITE_OK);
        assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit_log", NULL, NULL, NULL),
                             SQLITE_OK);
        sqlite3_close(db);
        assert_int_equal(imago_audit_verify(f->a, 0, NULL, NULL), 0);
}

static void appenders(const char *path, const char *who, int n)
{
        struct imago_audit *a = NULL;
        int i;

        if (imago_audit_open(path, &a) != 0)
                _exit(2);
        for (i = 0; i < n; i++) {
                if (imago_audit_append(a, i, who, "login", "", "{}", NULL, NULL) != 0)
                        _exit(3);
        }
        imago_audit_close(a);
        _exit(0);
}

static void concurrent_appenders(void **state)
{
        struct fx *f = *state;
        struct imago_audit_report rep;
        struct imago_audit *h2 = NULL;
        pid_t p1, p2;
        int st1 = -1, st2 = -1, i;

        p1 = fork();
        assert_true(p1 >= 0);
        if (p1 == 0)
                appenders(f->path, "proc-1", 60);
        p2 = fork();
        assert_true(p2 >= 0);
        if (p2 == 0)
                appenders(f->path, "proc-2", 60);
        /* and two handles in this process, interleaved */
        assert_int_equal(imago_audit_open(f->path, &h2), 0);
        for (i = 0; i < 20; i++) {
                assert_int_equal(imago_audit_append(f->a, i, "h1", "x", "", "", NULL, NULL), 0);
                assert_int_equal(imago_audit_append(h2, i, "h2", "x", "", "", NULL, NULL), 0);
        }
        imago_audit_close(h2);
        assert_int_equal(waitpid(p1, &st1, 0), p1);
        assert_int_equal(waitpid(p2, &st2, 0), p2);
        assert_true(WIFEXITED(st1) && WEXITSTATUS(st1) == 0);
        assert_true(WIFEXITED(st2) && WEXITSTATUS(st2) == 0);
        assert_int_equal(imago_audit_verify(f->a, 0, NULL, &rep), 0);
        assert_int_equal(rep.records, 160);
}

static void sql_injection_stored_verbatim(void **state)
{
        struct fx *f = *state;
        static const char *const evil[] = {
            "'; DROP TABLE audit_log; --",
            "\" OR 1=1 --",
            "x'); DELETE FROM audit_log; SELECT ('",
            "Robert'); DROP TABLE audit_schema;--",
            "{\"a\":\"'; UPDATE audit_log SET actor='x' --\"}",
            "\xc3\xa9t\xc3\xa9 \xe2\x9c\x93",
        };
        struct imago_audit_record rec;
        size_t i;
        uint64_t seq;

        for (i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
                assert_int_equal(imago_audit_append(f->a, 1, evil[i], "user.login", evil[i],
                                                    evil[i], &seq, NULL),
                                 0);
                assert_int_equal(imago_audit_read(f->a, seq, &rec), 0);
                assert_string_equal(rec.actor, evil[i]);
                assert_string_equal(rec.object, evil[i]);
                assert_string_equal(rec.detail, evil[i]);
                imago_audit_record_free(&rec);
        }
        assert_int_equal(imago_audit_verify(f->a, 0, NULL, NULL), 0);
}

static void bad_arguments(void **state)
{
        struct fx *f = *state;
        char big[IMAGO_AUDIT_DETAIL_MAX + 2];
        struct imago_audit_record rec;

        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(imago_audit_append(f->a, 1, "", "x", "", "", NULL, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_audit_append(f->a, 1, "a", "", "", "", NULL, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_audit_append(f->a, 1, "a\nb", "x", "", "", NULL, NULL),
                         IMAGO_EINVAL);
        assert_int_equal(imago_audit_append(f->a, 1, "a", "x", "o\x1b[2J", "", NULL, NULL),
                         IMAGO_EINVAL);
        assert_int_equal(imago_audit_append(f->a, 1, "a", "x", "", big, NULL, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_audit_append(f->a, 1, NULL, "x", "", "", NULL, NULL), IMAGO_EINVAL);
        big[IMAGO_AUDIT_DETAIL_MAX] = '\0';
        assert_int_equal(imago_audit_append(f->a, 1, "a", "x", "", big, NULL, NULL), 0);
        assert_int_equal(imago_audit_read(f->a, 2, &rec), IMAGO_ENOTFOUND);
        assert_int_equal(imago_audit_read(f->a, 0, &rec), IMAGO_EINVAL);
}

static void newer_schema_refused(void **state)
{
        struct fx *f = *state;
        struct imago_audit *b = NULL;

        tamper(f, "INSERT INTO audit_schema VALUES (99, 0)");
        assert_int_equal(imago_audit_open(f->path, &b), IMAGO_EAUDIT_SCHEMA);
        assert_null(b);
}

static void shares_a_file_with_other_tables(void **state)
{
        struct fx *f = *state;
        struct stat sb;

        tamper(f, "CREATE TABLE devices (id TEXT)");
        assert_int_equal(stat(f->path, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
        imago_audit_close(f->a);
        f->a = NULL;
        assert_int_equal(imago_audit_open(f->path, &f->a), 0);
        fill(f, 1);
        assert_int_equal(imago_audit_verify(f->a, 0, NULL, NULL), 0);
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
            T(intact_chain_verifies),
            T(hash_is_the_documented_encoding),
            T(edited_record),
            T(edited_time),
            T(deleted_record),
            T(deleted_first_record),
            T(inserted_record),
            T(inserted_record_at_end_without_hash),
            T(reordered_records),
            T(truncated_tail_with_head),
            T(rewritten_chain_with_head),
            T(triggers_refuse_update_and_delete),
            T(concurrent_appenders),
            T(sql_injection_stored_verbatim),
            T(bad_arguments),
            T(newer_schema_refused),
            T(shares_a_file_with_other_tables),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
