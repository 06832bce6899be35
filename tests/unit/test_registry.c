/* Unit tests of src/cloud/registry (SQLite backend): every transition and every refusal. */
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
#include "cloud/registry/registry.h"

#define ID_A  "0123456789abcdef0123456789abcdef"
#define ID_B  "fedcba9876543210fedcba9876543210"
#define ID_X  "00000000000000000000000000000000"
#define BATCH "batch-1"
#define PEM_1 "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
#define PEM_2 "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n"

struct fx {
        char dir[64];
        char uri[128];
        char path[96];
        struct imago_registry *reg;
};

static const uint8_t key1[32] = {1};
static const uint8_t key2[32] = {2};

static int setup(void **state)
{
        static struct fx f;

        memset(&f, 0, sizeof(f));
        snprintf(f.dir, sizeof(f.dir), "/tmp/imago-reg-XXXXXX");
        if (mkdtemp(f.dir) == NULL)
                return -1;
        snprintf(f.path, sizeof(f.path), "%s/registry.db", f.dir);
        snprintf(f.uri, sizeof(f.uri), "sqlite:%s", f.path);
        if (imago_registry_open(f.uri, &f.reg) != 0)
                return -1;
        *state = &f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        char cmd[128];

        imago_registry_close(f->reg);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        return system(cmd) == 0 ? 0 : -1;
}

static void import_enrol(struct imago_registry *reg, const char *id, const char *serial)
{
        char *pem = NULL;

        assert_int_equal(imago_registry_import(reg, BATCH, id, "b1"), 0);
        assert_int_equal(imago_registry_enrol(reg, id, key1, serial, PEM_1, 1000, &pem), 0);
        assert_null(pem);
}

static enum imago_reg_state state_of(struct imago_registry *reg, const char *id)
{
        struct imago_reg_device d;

        assert_int_equal(imago_registry_get(reg, id, &d), 0);
        imago_registry_device_free(&d);
        return d.state;
}

static void test_open_creates_private_wal_database(void **state)
{
        struct fx *f = *state;
        struct stat sb;
        sqlite3 *db;
        sqlite3_stmt *st;
        int v = 0;

        assert_int_equal(imago_registry_schema_version(f->reg, &v), 0);
        assert_int_equal(v, 2);
        assert_int_equal(stat(f->path, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
        sqlite3_close(db);
}

static void test_reopen_keeps_schema_and_data(void **state)
{
        struct fx *f = *state;
        int v = 0;

        assert_int_equal(imago_registry_import(f->reg, BATCH, ID_A, "b1"), 0);
        imago_registry_close(f->reg);
        f->reg = NULL;
        assert_int_equal(imago_registry_open(f->uri, &f->reg), 0);
        assert_int_equal(imago_registry_schema_version(f->reg, &v), 0);
        assert_int_equal(v, 2);
        assert_int_equal(state_of(f->reg, ID_A), IMAGO_REG_IMPORTED);
}

static void test_schema_newer_than_program_refused(void **state)
{
        struct fx *f = *state;
        struct imago_registry *reg = (struct imago_registry *)1;
        sqlite3 *db;

        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
                                      "INSERT INTO schema_migrations(version, applied_at)"
                                      " VALUES (99, 0)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(db);
        assert_int_equal(imago_registry_open(f->uri, &reg), IMAGO_EREG_SCHEMA);
        assert_null(reg);
}

static void test_open_existing_never_creates(void **state)
{
        struct fx *f = *state;
        struct imago_registry *reg = NULL;
        char uri[160], path[140];
        FILE *fp;

        snprintf(path, sizeof(path), "%s/missing.db", f->dir);
        snprintf(uri, sizeof(uri), "sqlite:%s", path);
        assert_int_equal(imago_registry_open_existing(uri, &reg), IMAGO_ENOTFOUND);
        assert_int_equal(access(path, F_OK), -1);
        /* an empty file is not a registry either */
        fp = fopen(path, "w");
        assert_non_null(fp);
        fclose(fp);
        assert_int_equal(imago_registry_open_existing(uri, &reg), IMAGO_ENOTFOUND);
        assert_null(reg);
        assert_int_equal(imago_registry_open_existing(f->uri, &reg), 0);
        imago_registry_close(reg);
}

static void test_bad_uris_refused(void **state)
{
        struct imago_registry *reg = NULL;

        (void)state;
        assert_int_equal(imago_registry_open("postgres:dbname=x", &reg), IMAGO_EUNSUPPORTED);
        assert_int_equal(imago_registry_open("/tmp/x.db", &reg), IMAGO_EINVAL);
        assert_int_equal(imago_registry_open("sqlite:", &reg), IMAGO_EINVAL);
        assert_int_equal(imago_registry_open("sqlite:/nonexistent-dir/r.db", &reg),
                         IMAGO_ENOTFOUND);
        assert_null(reg);
}

static void test_import_then_duplicate_refused(void **state)
{
        struct fx *f = *state;
        struct imago_reg_device d;

        assert_int_equal(imago_registry_import(f->reg, BATCH, ID_A, "0abc"), 0);
        assert_int_equal(imago_registry_import(f->reg, "batch-2", ID_A, "0abd"), IMAGO_EEXIST);
        assert_int_equal(imago_registry_get(f->reg, ID_A, &d), 0);
        assert_int_equal(d.state, IMAGO_REG_IMPORTED);
        assert_string_equal(d.batch, BATCH);
        assert_string_equal(d.birth_serial, "0abc");
        assert_string_equal(d.cert_serial, "");
        assert_null(d.cert_pem);
        assert_int_equal(d.enrolled_at, 0);
        imago_registry_device_free(&d);
}

static void test_malformed_arguments_refused(void **state)
{
        struct fx *f = *state;
        char *pem = NULL;
        char long_reason[200];

        memset(long_reason, 'r', sizeof(long_reason) - 1);
        long_reason[sizeof(long_reason) - 1] = '\0';
        assert_int_equal(imago_registry_import(f->reg, BATCH, "short", "01"), IMAGO_EINVAL);
        assert_int_equal(
            imago_registry_import(f->reg, BATCH, "0123456789ABCDEF0123456789ABCDEF", "01"),
            IMAGO_EINVAL);
        assert_int_equal(imago_registry_import(f->reg, "bad batch", ID_A, "01"), IMAGO_EINVAL);
        assert_int_equal(imago_registry_import(f->reg, "", ID_A, "01"), IMAGO_EINVAL);
        assert_int_equal(imago_registry_import(f->reg, BATCH, ID_A, "xyz"), IMAGO_EINVAL);
        assert_int_equal(imago_registry_import(f->reg, BATCH, "'; DROP TABLE devices; --", "01"),
                         IMAGO_EINVAL);
        assert_int_equal(imago_registry_import(f->reg, BATCH, ID_A, "01"), 0);
        assert_int_equal(imago_registry_enrol(f->reg, ID_A, key1, "02", "not a pem", 0, &pem),
                         IMAGO_EINVAL);
        assert_int_equal(imago_registry_enrol(f->reg, ID_A, NULL, "02", PEM_1, 0, &pem),
                         IMAGO_EINVAL);
        assert_int_equal(imago_registry_suspend(f->reg, ID_A, ""), IMAGO_EINVAL);
        assert_int_equal(imago_registry_suspend(f->reg, ID_A, long_reason), IMAGO_EINVAL);
        assert_int_equal(imago_registry_revoke(f->reg, ID_A, "line\nbreak"), IMAGO_EINVAL);
        assert_int_equal(state_of(f->reg, ID_A), IMAGO_REG_IMPORTED);
}

static void test_enrol_imported_device(void **state)
{
        struct fx *f = *state;
        struct imago_reg_device d;
        int n = -1;

        import_enrol(f->reg, ID_A, "1001");
        assert_int_equal(imago_registry_get(f->reg, ID_A, &d), 0);
        assert_int_equal(d.state, IMAGO_REG_ENROLLED);
        assert_string_equal(d.cert_serial, "1001");
        assert_memory_equal(d.key_hash, key1, 32);
        assert_non_null(d.cert_pem);
        assert_string_equal(d.cert_pem, PEM_1);
        assert_true(d.enrolled_at > 0);
        imago_registry_device_free(&d);
        assert_int_equal(imago_registry_cert_count(f->reg, ID_A, &n), 0);
        assert_int_equal(n, 1);
}

static void test_enrolment_retried_returns_same_certificate(void **state)
{
        struct fx *f = *state;
        char *pem = NULL;
        int n = -1;

        import_enrol(f->reg, ID_A, "1001");
        /* the retry carries a freshly issued certificate; the first one is returned */
        assert_int_equal(imago_registry_enrol(f->reg, ID_A, key1, "1002", PEM_2, 2000, &pem),
                         IMAGO_EEXIST);
        assert_non_null(pem);
        assert_string_equal(pem, PEM_1);
        free(pem);
        assert_int_equal(imago_registry_cert_count(f->reg, ID_A, &n), 0);
        assert_int_equal(n, 1);
}

static void test_enrolment_with_other_key_refused(void **state)
{
        struct fx *f = *state;
        char *pem = NULL;
        int n = -1;

        import_enrol(f->reg, ID_A, "1001");
        assert_int_equal(imago_registry_enrol(f->reg, ID_A, key2, "1002", PEM_2, 2000, &pem),
                         IMAGO_EREG_KEY);
        assert_null(pem);
        assert_int_equal(imago_registry_cert_count(f->reg, ID_A, &n), 0);
        assert_int_equal(n, 1);
}

static void test_enrolment_of_unknown_device_refused(void **state)
{
        struct fx *f = *state;
        char *pem = NULL;

        assert_int_equal(imago_registry_enrol(f->reg, ID_X, key1, "1001", PEM_1, 0, &pem),
                         IMAGO_EREG_UNKNOWN);
        assert_null(pem);
}

static void test_serial_reuse_refused(void **state)
{
        struct fx *f = *state;
        char *pem = NULL;

        import_enrol(f->reg, ID_A, "1001");
        assert_int_equal(imago_registry_import(f->reg, BATCH, ID_B, "b2"), 0);
        assert_int_equal(imago_registry_enrol(f->reg, ID_B, key2, "1001", PEM_2, 0, &pem),
                         IMAGO_EEXIST);
        assert_null(pem);
        /* the refused enrolment left nothing behind */
        assert_int_equal(state_of(f->reg, ID_B), IMAGO_REG_IMPORTED);
}

static void test_suspend_and_resume(void **state)
{
        struct fx *f = *state;
        struct imago_reg_device d;

        import_enrol(f->reg, ID_A, "1001");
        assert_int_equal(imago_registry_suspend(f->reg, ID_A, "lost in transit"), 0);
        assert_int_equal(imago_registry_get(f->reg, ID_A, &d), 0);
        assert_int_equal(d.state, IMAGO_REG_SUSPENDED);
        assert_string_equal(d.reason, "lost in transit");
        imago_registry_device_free(&d);
        assert_int_equal(imago_registry_suspend(f->reg, ID_A, "again"), IMAGO_EREG_STATE);
        assert_int_equal(imago_registry_resume(f->reg, ID_A), 0);
        assert_int_equal(imago_registry_get(f->reg, ID_A, &d), 0);
        assert_int_equal(d.state, IMAGO_REG_ENROLLED);
        assert_string_equal(d.reason, "");
        imago_registry_device_free(&d);
        assert_int_equal(imago_registry_resume(f->reg, ID_A), IMAGO_EREG_STATE);
}

static void test_suspend_refused_before_enrolment(void **state)
{
        struct fx *f = *state;

        assert_int_equal(imago_registry_import(f->reg, BATCH, ID_A, "b1"), 0);
        assert_int_equal(imago_registry_suspend(f->reg, ID_A, "r"), IMAGO_EREG_STATE);
        assert_int_equal(imago_registry_resume(f->reg, ID_A), IMAGO_EREG_STATE);
        assert_int_equal(imago_registry_suspend(f->reg, ID_X, "r"), IMAGO_EREG_UNKNOWN);
        assert_int_equal(imago_registry_resume(f->reg, ID_X), IMAGO_EREG_UNKNOWN);
        assert_int_equal(imago_registry_revoke(f->reg, ID_X, "r"), IMAGO_EREG_UNKNOWN);
}

static void test_enrolment_of_suspended_device_refused(void **state)
{
        struct fx *f = *state;
        char *pem = NULL;

        import_enrol(f->reg, ID_A, "1001");
        assert_int_equal(imago_registry_suspend(f->reg, ID_A, "r"), 0);
        assert_int_equal(imago_registry_enrol(f->reg, ID_A, key1, "1002", PEM_2, 0, &pem),
                         IMAGO_EREG_STATE);
        assert_null(pem);
}

static void test_revoked_is_final(void **state)
{
        struct fx *f = *state;
        struct imago_reg_device d;
        char *pem = NULL;
        int n = 0;

        import_enrol(f->reg, ID_A, "1001");
        assert_int_equal(imago_registry_revoke(f->reg, ID_A, "stolen"), 0);
        assert_int_equal(imago_registry_get(f->reg, ID_A, &d), 0);
        assert_int_equal(d.state, IMAGO_REG_REVOKED);
        assert_string_equal(d.reason, "stolen");
        imago_registry_device_free(&d);
        assert_int_equal(imago_registry_revoke(f->reg, ID_A, "again"), IMAGO_EREG_STATE);
        assert_int_equal(imago_registry_resume(f->reg, ID_A), IMAGO_EREG_STATE);
        assert_int_equal(imago_registry_suspend(f->reg, ID_A, "r"), IMAGO_EREG_STATE);
        assert_int_equal(imago_registry_enrol(f->reg, ID_A, key1, "1002", PEM_2, 0, &pem),
                         IMAGO_EREG_STATE);
        assert_null(pem);
        assert_int_equal(imago_registry_rotate(f->reg, ID_A, key1, "1003", PEM_2, 0),
                         IMAGO_EREG_STATE);
        assert_int_equal(imago_registry_cert_retire(f->reg, ID_A, "1001", &n), IMAGO_EREG_STATE);
        /* a re-import of the id is refused too: re-enrolment needs a new batch with a new id */
        assert_int_equal(imago_registry_import(f->reg, "batch-2", ID_A, "b9"), IMAGO_EEXIST);
}

static void test_revoke_imported_and_suspended(void **state)
{
        struct fx *f = *state;

        assert_int_equal(imago_registry_import(f->reg, BATCH, ID_A, "b1"), 0);
        assert_int_equal(imago_registry_revoke(f->reg, ID_A, "never shipped"), 0);
        assert_int_equal(state_of(f->reg, ID_A), IMAGO_REG_REVOKED);
        import_enrol(f->reg, ID_B, "1001");
        assert_int_equal(imago_registry_suspend(f->reg, ID_B, "r"), 0);
        assert_int_equal(imago_registry_revoke(f->reg, ID_B, "r2"), 0);
        assert_int_equal(state_of(f->reg, ID_B), IMAGO_REG_REVOKED);
}

struct deny {
        char ids[4][IMAGO_REG_ID_LEN + 1];
        enum imago_reg_state states[4];
        int nids;
        char serials[4][IMAGO_REG_SERIAL_MAX + 1];
        int nserials;
};

static int deny_id(const char *id, enum imago_reg_state s, void *arg)
{
        struct deny *d = arg;

        assert_true(d->nids < 4);
        snprintf(d->ids[d->nids], sizeof(d->ids[0]), "%s", id);
        d->states[d->nids++] = s;
        return 0;
}

static int deny_serial(const char *serial, void *arg)
{
        struct deny *d = arg;

        assert_true(d->nserials < 4);
        snprintf(d->serials[d->nserials++], sizeof(d->serials[0]), "%s", serial);
        return 0;
}

static void test_rotation_retire_and_deny_set(void **state)
{
        struct fx *f = *state;
        struct imago_reg_device d;
        struct deny dn;
        int n = -1;

        import_enrol(f->reg, ID_A, "1001");
        assert_int_equal(imago_registry_rotate(f->reg, ID_A, key2, "1002", PEM_2, 5000), 0);
        assert_int_equal(imago_registry_get(f->reg, ID_A, &d), 0);
        assert_string_equal(d.cert_serial, "1002");
        assert_string_equal(d.cert_pem, PEM_2);
        assert_memory_equal(d.key_hash, key2, 32);
        imago_registry_device_free(&d);
        /* nothing denied until the old certificate is retired */
        memset(&dn, 0, sizeof(dn));
        assert_int_equal(imago_registry_deny_set(f->reg, deny_id, deny_serial, &dn), 0);
        assert_int_equal(dn.nids + dn.nserials, 0);
        assert_int_equal(imago_registry_cert_retire(f->reg, ID_A, "1002", &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(imago_registry_cert_retire(f->reg, ID_A, "1002", &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(imago_registry_cert_retire(f->reg, ID_A, "1001", &n), IMAGO_ENOTFOUND);
        assert_int_equal(imago_registry_cert_retire(f->reg, ID_A, "9999", &n), IMAGO_ENOTFOUND);
        assert_int_equal(imago_registry_cert_count(f->reg, ID_A, &n), 0);
        assert_int_equal(n, 2);

        import_enrol(f->reg, ID_B, "2001");
        assert_int_equal(imago_registry_suspend(f->reg, ID_B, "audit"), 0);
        memset(&dn, 0, sizeof(dn));
        assert_int_equal(imago_registry_deny_set(f->reg, deny_id, deny_serial, &dn), 0);
        assert_int_equal(dn.nids, 1);
        assert_string_equal(dn.ids[0], ID_B);
        assert_int_equal(dn.states[0], IMAGO_REG_SUSPENDED);
        assert_int_equal(dn.nserials, 1);
        assert_string_equal(dn.serials[0], "1001");

        /* once the device is revoked, its id covers every serial */
        assert_int_equal(imago_registry_revoke(f->reg, ID_A, "stolen"), 0);
        memset(&dn, 0, sizeof(dn));
        assert_int_equal(imago_registry_deny_set(f->reg, deny_id, deny_serial, &dn), 0);
        assert_int_equal(dn.nids, 2);
        assert_string_equal(dn.ids[0], ID_A);
        assert_int_equal(dn.states[0], IMAGO_REG_REVOKED);
        assert_string_equal(dn.ids[1], ID_B);
        assert_int_equal(dn.nserials, 0);
}

static void test_rotation_refused_unless_enrolled(void **state)
{
        struct fx *f = *state;

        assert_int_equal(imago_registry_rotate(f->reg, ID_X, key1, "1001", PEM_1, 0),
                         IMAGO_EREG_UNKNOWN);
        assert_int_equal(imago_registry_import(f->reg, BATCH, ID_A, "b1"), 0);
        assert_int_equal(imago_registry_rotate(f->reg, ID_A, key1, "1001", PEM_1, 0),
                         IMAGO_EREG_STATE);
        assert_int_equal(state_of(f->reg, ID_A), IMAGO_REG_IMPORTED);
}

struct pending {
        int n;
        char ids[4][33];
        int64_t at[4];
};

static int pending_cb(const char *id, int64_t at, void *arg)
{
        struct pending *p = arg;

        if (p->n >= 4)
                return -1;
        snprintf(p->ids[p->n], sizeof(p->ids[0]), "%s", id);
        p->at[p->n++] = at;
        return 0;
}

static int pending_stop(const char *id, int64_t at, void *arg)
{
        (void)id;
        (void)at;
        (void)arg;
        return 42;
}

static int pending_count(struct imago_registry *reg)
{
        struct pending p;

        memset(&p, 0, sizeof(p));
        assert_int_equal(imago_registry_rotate_pending(reg, pending_cb, &p), 0);
        return p.n;
}

static void test_rotate_request_pending_and_cleared_by_rotation(void **state)
{
        struct fx *f = *state;
        struct imago_reg_device d;
        struct pending p;
        int64_t first;

        import_enrol(f->reg, ID_A, "1001");
        import_enrol(f->reg, ID_B, "2001");
        assert_int_equal(pending_count(f->reg), 0);
        assert_int_equal(imago_registry_rotate_request(f->reg, ID_B), 0);
        assert_int_equal(imago_registry_rotate_request(f->reg, ID_A), 0);
        memset(&p, 0, sizeof(p));
        assert_int_equal(imago_registry_rotate_pending(f->reg, pending_cb, &p), 0);
        assert_int_equal(p.n, 2);
        assert_string_equal(p.ids[0], ID_A);
        assert_string_equal(p.ids[1], ID_B);
        assert_true(p.at[0] > 0);
        first = p.at[0];
        assert_int_equal(imago_registry_rotate_pending(f->reg, pending_stop, NULL), 42);
        /* a second request keeps the first time; get shows it */
        assert_int_equal(imago_registry_rotate_request(f->reg, ID_A), 0);
        assert_int_equal(imago_registry_get(f->reg, ID_A, &d), 0);
        assert_int_equal(d.rotate_requested, first);
        imago_registry_device_free(&d);
        /* the new certificate answers the request */
        assert_int_equal(imago_registry_rotate(f->reg, ID_A, key1, "1002", PEM_2, 5000), 0);
        memset(&p, 0, sizeof(p));
        assert_int_equal(imago_registry_rotate_pending(f->reg, pending_cb, &p), 0);
        assert_int_equal(p.n, 1);
        assert_string_equal(p.ids[0], ID_B);
        assert_int_equal(imago_registry_get(f->reg, ID_A, &d), 0);
        assert_int_equal(d.rotate_requested, 0);
        imago_registry_device_free(&d);
        /* an explicit clear, idempotent */
        assert_int_equal(imago_registry_rotate_clear(f->reg, ID_B), 0);
        assert_int_equal(imago_registry_rotate_clear(f->reg, ID_B), 0);
        assert_int_equal(pending_count(f->reg), 0);
        /* the request survives a reopen (another process, a restarted service) */
        assert_int_equal(imago_registry_rotate_request(f->reg, ID_B), 0);
        imago_registry_close(f->reg);
        f->reg = NULL;
        assert_int_equal(imago_registry_open(f->uri, &f->reg), 0);
        assert_int_equal(pending_count(f->reg), 1);
}

static void test_rotate_request_refused_unless_enrolled(void **state)
{
        struct fx *f = *state;

        assert_int_equal(imago_registry_rotate_request(f->reg, ID_X), IMAGO_EREG_UNKNOWN);
        assert_int_equal(imago_registry_rotate_clear(f->reg, ID_X), IMAGO_EREG_UNKNOWN);
        assert_int_equal(imago_registry_rotate_request(f->reg, "nothex"), IMAGO_EINVAL);
        assert_int_equal(imago_registry_rotate_request(NULL, ID_A), IMAGO_EINVAL);
        assert_int_equal(imago_registry_rotate_pending(f->reg, NULL, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_registry_import(f->reg, BATCH, ID_A, "b1"), 0);
        assert_int_equal(imago_registry_rotate_request(f->reg, ID_A), IMAGO_EREG_STATE);
        import_enrol(f->reg, ID_B, "2001");
        assert_int_equal(imago_registry_suspend(f->reg, ID_B, "audit"), 0);
        assert_int_equal(imago_registry_rotate_request(f->reg, ID_B), IMAGO_EREG_STATE);
        /* a request made before a suspension is not pending while suspended, again after resume */
        assert_int_equal(imago_registry_resume(f->reg, ID_B), 0);
        assert_int_equal(imago_registry_rotate_request(f->reg, ID_B), 0);
        assert_int_equal(imago_registry_suspend(f->reg, ID_B, "audit"), 0);
        assert_int_equal(pending_count(f->reg), 0);
        assert_int_equal(imago_registry_resume(f->reg, ID_B), 0);
        assert_int_equal(pending_count(f->reg), 1);
        /* revocation clears it */
        assert_int_equal(imago_registry_revoke(f->reg, ID_B, "stolen"), 0);
        assert_int_equal(pending_count(f->reg), 0);
        assert_int_equal(imago_registry_rotate_request(f->reg, ID_B), IMAGO_EREG_STATE);
}

static void test_batch_import_idempotent_and_conflicts_refused(void **state)
{
        struct fx *f = *state;
        const struct imago_reg_import_item items[] = {{ID_A, "a1"}, {ID_B, "b1"}};
        const struct imago_reg_import_item moved[] = {{ID_X, "c1"}, {ID_B, "b1"}};
        const struct imago_reg_import_item reserial[] = {{ID_A, "a2"}};
        const struct imago_reg_import_item twice[] = {{ID_X, "c1"}, {ID_X, "c1"}};
        const struct imago_reg_import_item bad[] = {{ID_X, "c1"}, {"nope", "c1"}};
        struct imago_reg_device d;
        size_t added = 99, conflict = 99;

        assert_int_equal(imago_registry_import_batch(f->reg, BATCH, items, 2, &added, &conflict),
                         0);
        assert_int_equal(added, 2);
        /* the same batch again: nothing added, nothing refused */
        assert_int_equal(imago_registry_import_batch(f->reg, BATCH, items, 2, &added, &conflict),
                         0);
        assert_int_equal(added, 0);
        /* a known device in another batch refuses the whole batch, naming it */
        assert_int_equal(
            imago_registry_import_batch(f->reg, "batch-2", moved, 2, &added, &conflict),
            IMAGO_EEXIST);
        assert_int_equal(conflict, 1);
        assert_int_equal(imago_registry_get(f->reg, ID_X, &d), IMAGO_EREG_UNKNOWN);
        /* same batch name, other birth serial: refused too */
        assert_int_equal(imago_registry_import_batch(f->reg, BATCH, reserial, 1, &added, &conflict),
                         IMAGO_EEXIST);
        assert_int_equal(conflict, 0);
        /* an id twice in one batch is idempotent within it */
        assert_int_equal(
            imago_registry_import_batch(f->reg, "batch-3", twice, 2, &added, &conflict), 0);
        assert_int_equal(added, 1);
        assert_int_equal(imago_registry_import_batch(f->reg, "batch-4", bad, 2, &added, &conflict),
                         IMAGO_EINVAL);
        assert_int_equal(conflict, 1);
        /* an enrolled device stays enrolled when its batch is imported again */
        {
                char *pem = NULL;

                assert_int_equal(imago_registry_enrol(f->reg, ID_A, key1, "1001", PEM_1, 0, &pem),
                                 0);
        }
        assert_int_equal(imago_registry_import_batch(f->reg, BATCH, items, 2, &added, &conflict),
                         0);
        assert_int_equal(added, 0);
        assert_int_equal(state_of(f->reg, ID_A), IMAGO_REG_ENROLLED);
}

static int count_cb(const struct imago_reg_device *d, void *arg)
{
        int *n = arg;

        (void)d;
        return ++*n == 2 ? 7 : 0;
}

static void test_list_in_id_order_and_stop(void **state)
{
        struct fx *f = *state;
        int n = 0;

        assert_int_equal(imago_registry_import(f->reg, BATCH, ID_B, "b2"), 0);
        assert_int_equal(imago_registry_import(f->reg, BATCH, ID_A, "b1"), 0);
        assert_int_equal(imago_registry_import(f->reg, BATCH, ID_X, "b3"), 0);
        assert_int_equal(imago_registry_list(f->reg, count_cb, &n), 7);
        assert_int_equal(n, 2);
        /* the handle is usable after a stopped iteration */
        assert_int_equal(state_of(f->reg, ID_X), IMAGO_REG_IMPORTED);
}

static void test_two_handles_like_two_instances(void **state)
{
        struct fx *f = *state;
        struct imago_registry *other = NULL;
        char *pem = NULL;
        int n = -1;

        assert_int_equal(imago_registry_open(f->uri, &other), 0);
        assert_int_equal(imago_registry_import(f->reg, BATCH, ID_A, "b1"), 0);
        assert_int_equal(state_of(other, ID_A), IMAGO_REG_IMPORTED);
        /* both instances get the same CSR; the first enrols, the second gets its certificate */
        assert_int_equal(imago_registry_enrol(other, ID_A, key1, "1001", PEM_1, 0, &pem), 0);
        assert_int_equal(imago_registry_enrol(f->reg, ID_A, key1, "1002", PEM_2, 0, &pem),
                         IMAGO_EEXIST);
        assert_string_equal(pem, PEM_1);
        free(pem);
        assert_int_equal(imago_registry_cert_count(f->reg, ID_A, &n), 0);
        assert_int_equal(n, 1);
        /* a state change by one is seen, and refused as a repeat, by the other */
        assert_int_equal(imago_registry_suspend(f->reg, ID_A, "r"), 0);
        assert_int_equal(imago_registry_suspend(other, ID_A, "r"), IMAGO_EREG_STATE);
        assert_int_equal(imago_registry_revoke(other, ID_A, "r"), 0);
        assert_int_equal(imago_registry_resume(f->reg, ID_A), IMAGO_EREG_STATE);
        imago_registry_close(other);
}

/* Child of the concurrency test: its own handle, one enrolment attempt with its own certificate. */
static int enrol_child(const char *uri, int n)
{
        struct imago_registry *reg = NULL;
        struct imago_reg_device d;
        char serial[8], pem[128], *existing = NULL;
        int r, rc = 1;

        snprintf(serial, sizeof(serial), "10%d", n);
        snprintf(pem, sizeof(pem),
                 "-----BEGIN CERTIFICATE-----\nchild %d\n-----END CERTIFICATE-----\n", n);
        if (imago_registry_open(uri, &reg) != 0)
                return 1;
        r = imago_registry_enrol(reg, ID_A, key1, serial, pem, 0, &existing);
        if (r == 0)
                rc = 10;
        else if (r == IMAGO_EEXIST && existing != NULL && imago_registry_get(reg, ID_A, &d) == 0) {
                rc = strcmp(existing, d.cert_pem) == 0 ? 20 : 1;
                imago_registry_device_free(&d);
        }
        free(existing);
        imago_registry_close(reg);
        return rc;
}

static void test_concurrent_enrolment_issues_one_certificate(void **state)
{
        struct fx *f = *state;
        pid_t pids[6];
        int i, status, won = 0, echoed = 0, n = -1;

        assert_int_equal(imago_registry_import(f->reg, BATCH, ID_A, "b1"), 0);
        for (i = 0; i < 6; i++) {
                pids[i] = fork();
                assert_true(pids[i] >= 0);
                if (pids[i] == 0)
                        _exit(enrol_child(f->uri, i));
        }
        for (i = 0; i < 6; i++) {
                assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
                assert_true(WIFEXITED(status));
                won += WEXITSTATUS(status) == 10;
                echoed += WEXITSTATUS(status) == 20;
        }
        assert_int_equal(won, 1);
        assert_int_equal(echoed, 5);
        assert_int_equal(imago_registry_cert_count(f->reg, ID_A, &n), 0);
        assert_int_equal(n, 1);
}

static void test_foreign_keys_enforced(void **state)
{
        struct fx *f = *state;
        sqlite3 *db;
        int v = 0;

        (void)v;
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL), SQLITE_OK);
        assert_int_not_equal(sqlite3_exec(db,
                                          "INSERT INTO certs(serial, device_id, kind, key_hash,"
                                          " pem, not_after, issued_at) VALUES ('01', 'nobody', 2,"
                                          " zeroblob(32), 'x', 0, 0)",
                                          NULL, NULL, NULL),
                             SQLITE_OK);
        sqlite3_close(db);
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
            T(test_open_creates_private_wal_database),
            T(test_reopen_keeps_schema_and_data),
            T(test_schema_newer_than_program_refused),
            T(test_open_existing_never_creates),
            T(test_bad_uris_refused),
            T(test_import_then_duplicate_refused),
            T(test_malformed_arguments_refused),
            T(test_enrol_imported_device),
            T(test_enrolment_retried_returns_same_certificate),
            T(test_enrolment_with_other_key_refused),
            T(test_enrolment_of_unknown_device_refused),
            T(test_serial_reuse_refused),
            T(test_suspend_and_resume),
            T(test_suspend_refused_before_enrolment),
            T(test_enrolment_of_suspended_device_refused),
            T(test_revoked_is_final),
            T(test_revoke_imported_and_suspended),
            T(test_rotation_retire_and_deny_set),
            T(test_rotation_refused_unless_enrolled),
            T(test_rotate_request_pending_and_cleared_by_rotation),
            T(test_rotate_request_refused_unless_enrolled),
            T(test_batch_import_idempotent_and_conflicts_refused),
            T(test_list_in_id_order_and_stop),
            T(test_two_handles_like_two_instances),
            T(test_concurrent_enrolment_issues_one_certificate),
            T(test_foreign_keys_enforced),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
