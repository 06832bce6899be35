/* Unit tests of src/cloud/appdb: every function, every refusal, injection strings. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "base/err.h"
#include "cloud/appdb/appdb.h"
#include "cloud/auth/auth.h"

#define DEV_A  "0123456789abcdef0123456789abcdef"
#define DEV_B  "fedcba9876543210fedcba9876543210"
#define HASH_1 "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
#define HASH_2 "$argon2id$v=19$m=65536,t=3,p=1$b3RoZXJzYWx0$b3RoZXJoYXNo"
#define INJ    "'); DROP TABLE users; --"
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
        snprintf(f.dir, sizeof(f.dir), "/tmp/imago-appdb-XXXXXX");
        if (mkdtemp(f.dir) == NULL)
                return -1;
        snprintf(f.path, sizeof(f.path), "%s/app.db", f.dir);
        if (imago_appdb_open(f.path, &f.db) != 0)
                return -1;
        if (imago_appdb_user_add(f.db, "alice", HASH_1, NOW, &f.alice) != 0 ||
            imago_appdb_user_add(f.db, "bob", HASH_2, NOW, &f.bob) != 0)
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

/* Run SQL on the file with a separate plain connection (what an operator could do). */
static void raw_sql(const char *path, const char *sql)
{
        sqlite3 *s = NULL;

        assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
        sqlite3_busy_timeout(s, 5000);
        assert_int_equal(sqlite3_exec(s, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(s);
}

static int raw_int(const char *path, const char *sql)
{
        sqlite3 *s = NULL;
        sqlite3_stmt *st = NULL;
        int v;

        assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(s, sql, -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        v = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(s);
        return v;
}

static void test_open_creates_private_wal_file(void **state)
{
        struct fx *f = *state;
        struct imago_appdb *db2 = NULL;
        struct stat sb;

        assert_int_equal(stat(f->path, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
        assert_int_equal(raw_int(f->path, "SELECT count(*) FROM schema_migrations"), 2);
        /* reopening migrates nothing and keeps the data */
        assert_int_equal(imago_appdb_open(f->path, &db2), 0);
        imago_appdb_close(db2);
        assert_int_equal(raw_int(f->path, "SELECT count(*) FROM users"), 2);
        assert_int_equal(imago_appdb_open(NULL, &db2), IMAGO_EINVAL);
        assert_int_equal(imago_appdb_open("/nonexistent-dir/app.db", &db2), IMAGO_ENOTFOUND);
        assert_null(db2);
        imago_appdb_close(NULL);
}

static void test_open_refuses_newer_schema(void **state)
{
        struct fx *f = *state;
        struct imago_appdb *db2 = NULL;

        raw_sql(f->path, "INSERT INTO schema_migrations(version, applied_at) VALUES (999, 0)");
        assert_int_equal(imago_appdb_open(f->path, &db2), IMAGO_EREG_SCHEMA);
        assert_null(db2);
}

static void test_open_refuses_foreign_file(void **state)
{
        struct fx *f = *state;
        struct imago_appdb *db2 = NULL;
        char p[128];
        FILE *fp;

        snprintf(p, sizeof(p), "%s/junk.db", f->dir);
        fp = fopen(p, "w");
        assert_non_null(fp);
        fputs("this is not a database, just some bytes of text that fill a page\n", fp);
        fclose(fp);
        assert_int_equal(imago_appdb_open(p, &db2), IMAGO_EREG_DB);
        assert_null(db2);
}

static void test_users(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_user u;
        uint64_t id = 0;

        assert_true(f->alice >= 1);
        assert_true(f->bob > f->alice);
        assert_int_equal(imago_appdb_user_by_name(f->db, "alice", &u), 0);
        assert_int_equal(u.id, f->alice);
        assert_string_equal(u.name, "alice");
        assert_string_equal(u.pw_hash, HASH_1);
        assert_int_equal(u.created, NOW);
        assert_int_equal(imago_appdb_user_get(f->db, f->bob, &u), 0);
        assert_string_equal(u.name, "bob");
        assert_int_equal(imago_appdb_user_by_name(f->db, "carol", &u), IMAGO_ENOTFOUND);
        assert_int_equal(imago_appdb_user_get(f->db, 9999, &u), IMAGO_ENOTFOUND);
        assert_int_equal(imago_appdb_user_get(f->db, 0, &u), IMAGO_EINVAL);
        assert_int_equal(imago_appdb_user_add(f->db, "alice", HASH_2, NOW, &id), IMAGO_EEXIST);
        assert_int_equal(imago_appdb_user_set_hash(f->db, f->alice, HASH_2), 0);
        assert_int_equal(imago_appdb_user_by_name(f->db, "alice", &u), 0);
        assert_string_equal(u.pw_hash, HASH_2);
        assert_int_equal(imago_appdb_user_set_hash(f->db, 9999, HASH_2), IMAGO_ENOTFOUND);
        assert_int_equal(imago_appdb_user_set_hash(f->db, f->alice, ""), IMAGO_EINVAL);
        assert_int_equal(imago_appdb_user_add(f->db, "a.b-c_d@e", HASH_1, NOW, &id), 0);
}

static void test_user_names_refused(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_user u;
        char longname[IMAGO_APPDB_USER_MAX + 2];
        char longhash[200];
        static const char *const bad[] = {"",    INJ, "alice'--", "a b", "a\"b",
                                          "a;b", "é", "a\nb",     "a%",  "a*"};
        size_t i;
        uint64_t id;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(imago_appdb_user_add(f->db, bad[i], HASH_1, NOW, &id),
                                 IMAGO_EINVAL);
                assert_int_equal(imago_appdb_user_by_name(f->db, bad[i], &u), IMAGO_EINVAL);
        }
        memset(longname, 'a', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        assert_int_equal(imago_appdb_user_add(f->db, longname, HASH_1, NOW, &id), IMAGO_EINVAL);
        longname[IMAGO_APPDB_USER_MAX] = '\0';
        assert_int_equal(imago_appdb_user_add(f->db, longname, HASH_1, NOW, &id), 0);
        memset(longhash, 'h', sizeof(longhash) - 1);
        longhash[sizeof(longhash) - 1] = '\0';
        assert_int_equal(imago_appdb_user_add(f->db, "hashy", longhash, NOW, &id), IMAGO_EINVAL);
        assert_int_equal(imago_appdb_user_add(f->db, "hashy", NULL, NOW, &id), IMAGO_EINVAL);
        assert_int_equal(imago_appdb_user_add(f->db, NULL, HASH_1, NOW, &id), IMAGO_EINVAL);
        assert_int_equal(imago_appdb_user_add(f->db, "hashy", "with space", NOW, &id),
                         IMAGO_EINVAL);
        assert_int_equal(raw_int(f->path, "SELECT count(*) FROM users"), 3);
}

struct collect {
        int n, stop_at;
        uint64_t ids[16];
};

static int user_cb(const struct imago_appdb_user *u, void *arg)
{
        struct collect *c = arg;

        c->ids[c->n++] = u->id;
        return c->n == c->stop_at ? 42 : 0;
}

static void test_user_list(void **state)
{
        struct fx *f = *state;
        struct collect c = {0};

        assert_int_equal(imago_appdb_user_list(f->db, user_cb, &c), 0);
        assert_int_equal(c.n, 2);
        assert_int_equal(c.ids[0], f->alice);
        assert_int_equal(c.ids[1], f->bob);
        memset(&c, 0, sizeof(c));
        c.stop_at = 1;
        assert_int_equal(imago_appdb_user_list(f->db, user_cb, &c), 42);
        assert_int_equal(c.n, 1);
        assert_int_equal(imago_appdb_user_list(f->db, NULL, &c), IMAGO_EINVAL);
        /* the read transaction ended: writes still work */
        assert_int_equal(imago_appdb_user_add(f->db, "carol", HASH_1, NOW, NULL), 0);
}

static void test_refresh_consumed_once(void **state)
{
        struct fx *f = *state;
        uint8_t h1[32], h2[32], h3[32];
        uint64_t user = 99;

        memset(h1, 1, sizeof(h1));
        memset(h2, 2, sizeof(h2));
        memset(h3, 3, sizeof(h3));
        assert_int_equal(imago_appdb_refresh_put(f->db, h1, f->alice, NOW + 100), 0);
        assert_int_equal(imago_appdb_refresh_put(f->db, h1, f->alice, NOW + 100), IMAGO_EEXIST);
        assert_int_equal(imago_appdb_refresh_put(f->db, h2, 9999, NOW + 100), IMAGO_ENOTFOUND);
        assert_int_equal(imago_appdb_refresh_consume(f->db, h1, NOW, &user), 0);
        assert_int_equal(user, f->alice);
        assert_int_equal(imago_appdb_refresh_consume(f->db, h1, NOW, &user), IMAGO_EAUTH_REFRESH);
        assert_int_equal(user, 0);
        assert_int_equal(imago_appdb_refresh_consume(f->db, h3, NOW, &user), IMAGO_EAUTH_REFRESH);
        /* expired: refused (at exactly expires too) and gone */
        assert_int_equal(imago_appdb_refresh_put(f->db, h2, f->bob, NOW + 10), 0);
        assert_int_equal(imago_appdb_refresh_consume(f->db, h2, NOW + 10, &user),
                         IMAGO_EAUTH_REFRESH);
        assert_int_equal(raw_int(f->path, "SELECT count(*) FROM refresh_tokens"), 0);
}

static void test_refresh_drop_user_and_prune(void **state)
{
        struct fx *f = *state;
        uint8_t h[4][32];
        uint64_t user;
        int i;

        for (i = 0; i < 4; i++)
                memset(h[i], 0x10 + i, 32);
        assert_int_equal(imago_appdb_refresh_put(f->db, h[0], f->alice, NOW + 100), 0);
        assert_int_equal(imago_appdb_refresh_put(f->db, h[1], f->alice, NOW + 100), 0);
        assert_int_equal(imago_appdb_refresh_put(f->db, h[2], f->bob, NOW + 100), 0);
        assert_int_equal(imago_appdb_refresh_put(f->db, h[3], f->bob, NOW + 5), 0);
        assert_int_equal(imago_appdb_refresh_drop_user(f->db, f->alice), 0);
        assert_int_equal(imago_appdb_refresh_consume(f->db, h[0], NOW, &user), IMAGO_EAUTH_REFRESH);
        assert_int_equal(imago_appdb_refresh_consume(f->db, h[1], NOW, &user), IMAGO_EAUTH_REFRESH);
        assert_int_equal(imago_appdb_refresh_drop_user(f->db, 0), IMAGO_EINVAL);
        assert_int_equal(imago_appdb_prune_tokens(f->db, NOW + 50), 0);
        assert_int_equal(raw_int(f->path, "SELECT count(*) FROM refresh_tokens"), 1);
        assert_int_equal(imago_appdb_refresh_consume(f->db, h[2], NOW, &user), 0);
        assert_int_equal(user, f->bob);
}

static void test_token_revocation(void **state)
{
        struct fx *f = *state;
        uint8_t t1[16], t2[16];

        memset(t1, 0xaa, sizeof(t1));
        memset(t2, 0xbb, sizeof(t2));
        assert_int_equal(imago_appdb_token_revoked(f->db, t1), 0);
        assert_int_equal(imago_appdb_token_revoke(f->db, t1, NOW + 300), 0);
        assert_int_equal(imago_appdb_token_revoke(f->db, t1, NOW + 100), 0); /* idempotent */
        assert_int_equal(imago_appdb_token_revoked(f->db, t1), 1);
        assert_int_equal(imago_appdb_token_revoked(f->db, t2), 0);
        assert_int_equal(imago_appdb_prune_tokens(f->db, NOW + 200), 0);
        assert_int_equal(imago_appdb_token_revoked(f->db, t1), 1); /* kept the later expiry */
        assert_int_equal(imago_appdb_prune_tokens(f->db, NOW + 300), 0);
        assert_int_equal(imago_appdb_token_revoked(f->db, t1), 0);
        assert_int_equal(imago_appdb_token_revoked(f->db, NULL), IMAGO_EINVAL);
        assert_int_equal(imago_appdb_token_revoke(NULL, t1, 0), IMAGO_EINVAL);
}

static int grant_cb(const struct imago_appdb_grant *g, void *arg)
{
        struct collect *c = arg;

        c->ids[c->n++] = g->id;
        return 0;
}

static void test_grants(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_grant g = {0}, out;
        struct collect c = {0};
        uint64_t g1 = 0, g2 = 0;

        g.user = f->alice;
        g.role = IMAGO_ROLE_OPERATOR;
        snprintf(g.group, sizeof(g.group), "batch-1");
        g.not_before = NOW;
        g.expires = NOW + 86400;
        g.granted_by = 0;
        assert_int_equal(imago_appdb_grant_add(f->db, &g, &g1), 0);
        g.user = f->bob;
        g.role = IMAGO_ROLE_SECURITY_ADMIN;
        g.granted_by = f->alice;
        assert_int_equal(imago_appdb_grant_add(f->db, &g, &g2), 0);
        assert_true(g2 > g1);
        assert_int_equal(imago_appdb_grant_get(f->db, g2, &out), 0);
        assert_int_equal(out.id, g2);
        assert_int_equal(out.user, f->bob);
        assert_int_equal(out.role, IMAGO_ROLE_SECURITY_ADMIN);
        assert_string_equal(out.group, "batch-1");
        assert_int_equal(out.not_before, NOW);
        assert_int_equal(out.expires, NOW + 86400);
        assert_int_equal(out.granted_by, f->alice);
        assert_int_equal(imago_appdb_grant_list(f->db, 0, grant_cb, &c), 0);
        assert_int_equal(c.n, 2);
        memset(&c, 0, sizeof(c));
        assert_int_equal(imago_appdb_grant_list(f->db, f->alice, grant_cb, &c), 0);
        assert_int_equal(c.n, 1);
        assert_int_equal(c.ids[0], g1);
        assert_int_equal(imago_appdb_grant_delete(f->db, g1), 0);
        assert_int_equal(imago_appdb_grant_delete(f->db, g1), IMAGO_ENOTFOUND);
        assert_int_equal(imago_appdb_grant_get(f->db, g1, &out), IMAGO_ENOTFOUND);
        memset(&c, 0, sizeof(c));
        assert_int_equal(imago_appdb_grant_list(f->db, f->alice, grant_cb, &c), 0);
        assert_int_equal(c.n, 0);
}

static void test_grants_refused(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_grant g = {0};
        uint64_t id;

        g.user = f->alice;
        g.role = IMAGO_ROLE_VIEWER;
        snprintf(g.group, sizeof(g.group), "g");
        g.not_before = NOW;
        g.expires = NOW + 1;
        assert_int_equal(imago_appdb_grant_add(f->db, &g, &id), 0);
        g.role = 0;
        assert_int_equal(imago_appdb_grant_add(f->db, &g, &id), IMAGO_EINVAL);
        g.role = 5;
        assert_int_equal(imago_appdb_grant_add(f->db, &g, &id), IMAGO_EINVAL);
        g.role = IMAGO_ROLE_VIEWER;
        g.expires = NOW;
        assert_int_equal(imago_appdb_grant_add(f->db, &g, &id), IMAGO_EINVAL);
        g.expires = NOW + 1;
        snprintf(g.group, sizeof(g.group), "%s", INJ);
        assert_int_equal(imago_appdb_grant_add(f->db, &g, &id), IMAGO_EINVAL);
        g.group[0] = '\0';
        assert_int_equal(imago_appdb_grant_add(f->db, &g, &id), IMAGO_EINVAL);
        memset(g.group, 'a', sizeof(g.group)); /* no terminator */
        assert_int_equal(imago_appdb_grant_add(f->db, &g, &id), IMAGO_EINVAL);
        snprintf(g.group, sizeof(g.group), "g");
        g.user = 9999;
        assert_int_equal(imago_appdb_grant_add(f->db, &g, &id), IMAGO_ENOTFOUND);
        g.user = 0;
        assert_int_equal(imago_appdb_grant_add(f->db, &g, &id), IMAGO_EINVAL);
        assert_int_equal(imago_appdb_grant_delete(f->db, 0), IMAGO_EINVAL);
        assert_int_equal(raw_int(f->path, "SELECT count(*) FROM grants"), 1);
}

static int owned_cb(const char *device, int64_t bound_at, void *arg)
{
        struct collect *c = arg;

        assert_int_equal(strlen(device), 32);
        c->ids[c->n++] = (uint64_t)bound_at;
        return 0;
}

static void test_ownership(void **state)
{
        struct fx *f = *state;
        struct collect c = {0};
        uint64_t owner = 77;

        assert_int_equal(imago_appdb_owner(f->db, DEV_A, &owner), 0);
        assert_int_equal(owner, 0);
        assert_int_equal(imago_appdb_bind(f->db, DEV_A, f->alice, NOW), 0);
        assert_int_equal(imago_appdb_bind(f->db, DEV_A, f->alice, NOW + 5), 0); /* same user */
        assert_int_equal(imago_appdb_bind(f->db, DEV_A, f->bob, NOW), IMAGO_EAPI_BOUND);
        assert_int_equal(imago_appdb_owner(f->db, DEV_A, &owner), 0);
        assert_int_equal(owner, f->alice);
        assert_int_equal(imago_appdb_bind(f->db, DEV_B, f->alice, NOW + 1), 0);
        assert_int_equal(imago_appdb_owned(f->db, f->alice, owned_cb, &c), 0);
        assert_int_equal(c.n, 2);
        assert_int_equal(c.ids[0], NOW); /* first bind time kept */
        assert_int_equal(c.ids[1], NOW + 1);
        assert_int_equal(imago_appdb_unbind(f->db, DEV_A), 0);
        assert_int_equal(imago_appdb_unbind(f->db, DEV_A), 0); /* idempotent */
        assert_int_equal(imago_appdb_bind(f->db, DEV_A, f->bob, NOW), 0);
        assert_int_equal(imago_appdb_owner(f->db, DEV_A, &owner), 0);
        assert_int_equal(owner, f->bob);
        assert_int_equal(imago_appdb_bind(f->db, DEV_B, 9999, NOW), IMAGO_ENOTFOUND);
        assert_int_equal(imago_appdb_bind(f->db, "0123456789ABCDEF0123456789abcdef", f->bob, NOW),
                         IMAGO_EINVAL);
        assert_int_equal(imago_appdb_bind(f->db, INJ, f->bob, NOW), IMAGO_EINVAL);
        assert_int_equal(imago_appdb_owner(f->db, "abc", &owner), IMAGO_EINVAL);
        assert_int_equal(imago_appdb_unbind(f->db, DEV_A "0"), IMAGO_EINVAL);
        assert_int_equal(imago_appdb_owned(f->db, 0, owned_cb, &c), IMAGO_EINVAL);
}

static void test_nonce_claimed_once(void **state)
{
        struct fx *f = *state;
        const char *n1 = "00112233445566778899aabbccddeeff";
        const char *n2 = "ffeeddccbbaa99887766554433221100";

        assert_int_equal(imago_appdb_claim_nonce(f->db, n1, NOW + 60), 0);
        assert_int_equal(imago_appdb_claim_nonce(f->db, n1, NOW + 60), IMAGO_EEXIST);
        assert_int_equal(imago_appdb_claim_nonce(f->db, n2, NOW + 10), 0);
        /* pruning keeps nonces whose token could still be redeemed */
        assert_int_equal(imago_appdb_prune_nonces(f->db, NOW + 10), 0);
        assert_int_equal(imago_appdb_claim_nonce(f->db, n2, NOW + 10), IMAGO_EEXIST);
        assert_int_equal(imago_appdb_prune_nonces(f->db, NOW + 11), 0);
        assert_int_equal(imago_appdb_claim_nonce(f->db, n1, NOW + 60), IMAGO_EEXIST);
        assert_int_equal(raw_int(f->path, "SELECT count(*) FROM nonces"), 1);
        assert_int_equal(imago_appdb_claim_nonce(f->db, "00112233445566778899AABBCCDDEEFF", 0),
                         IMAGO_EINVAL);
        assert_int_equal(imago_appdb_claim_nonce(f->db, INJ, 0), IMAGO_EINVAL);
        assert_int_equal(imago_appdb_claim_nonce(NULL, n1, 0), IMAGO_EINVAL);
        assert_int_equal(imago_appdb_prune_nonces(NULL, 0), IMAGO_EINVAL);
}

static void test_state_versions(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_state st;
        uint64_t v = 0;

        assert_int_equal(imago_appdb_state_get(f->db, DEV_A, &st), 0);
        assert_string_equal(st.reported, "{}");
        assert_string_equal(st.desired, "{}");
        assert_int_equal(st.reported_version, 0);
        assert_int_equal(st.desired_version, 0);
        imago_appdb_state_free(&st);
        assert_int_equal(imago_appdb_state_put_reported(f->db, DEV_A, 0, "{\"t\":1}", NOW, &v), 0);
        assert_int_equal(v, 1);
        assert_int_equal(imago_appdb_state_put_reported(f->db, DEV_A, 0, "{\"t\":2}", NOW, &v),
                         IMAGO_ESTATE_VERSION);
        assert_int_equal(v, 1);
        assert_int_equal(imago_appdb_state_put_reported(f->db, DEV_A, 1, "{\"t\":2}", NOW + 1, &v),
                         0);
        assert_int_equal(v, 2);
        assert_int_equal(imago_appdb_state_put_desired(f->db, DEV_A, 0, "{\"sp\":20}", NOW + 2, &v),
                         0);
        assert_int_equal(v, 1);
        assert_int_equal(imago_appdb_state_put_desired(f->db, DEV_A, 5, "{\"sp\":21}", NOW, &v),
                         IMAGO_ESTATE_VERSION);
        assert_int_equal(v, 1);
        /* another device is independent; a refused put creates nothing */
        assert_int_equal(imago_appdb_state_put_desired(f->db, DEV_B, 3, "{}", NOW, &v),
                         IMAGO_ESTATE_VERSION);
        assert_int_equal(v, 0);
        assert_int_equal(raw_int(f->path, "SELECT count(*) FROM device_state"), 1);
        assert_int_equal(imago_appdb_state_get(f->db, DEV_A, &st), 0);
        assert_string_equal(st.reported, "{\"t\":2}");
        assert_int_equal(st.reported_version, 2);
        assert_int_equal(st.reported_at, NOW + 1);
        assert_string_equal(st.desired, "{\"sp\":20}");
        assert_int_equal(st.desired_version, 1);
        assert_int_equal(st.desired_at, NOW + 2);
        imago_appdb_state_free(&st);
        imago_appdb_state_free(&st); /* safe twice */
        /* decommission: documents gone, versions move on */
        assert_int_equal(imago_appdb_state_clear(f->db, DEV_A), 0);
        assert_int_equal(imago_appdb_state_clear(f->db, DEV_B), 0);
        assert_int_equal(imago_appdb_state_get(f->db, DEV_A, &st), 0);
        assert_string_equal(st.reported, "{}");
        assert_string_equal(st.desired, "{}");
        assert_int_equal(st.reported_version, 3);
        assert_int_equal(st.desired_version, 2);
        imago_appdb_state_free(&st);
        assert_int_equal(imago_appdb_state_put_reported(f->db, DEV_A, 2, "{}", NOW, &v),
                         IMAGO_ESTATE_VERSION);
        assert_int_equal(v, 3);
}

static void test_state_refused(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_state st;
        char *big = malloc(IMAGO_APPDB_TEXT_MAX + 2);
        uint64_t v;

        assert_non_null(big);
        memset(big, ' ', IMAGO_APPDB_TEXT_MAX + 1);
        big[IMAGO_APPDB_TEXT_MAX + 1] = '\0';
        assert_int_equal(imago_appdb_state_put_reported(f->db, DEV_A, 0, big, NOW, &v),
                         IMAGO_EINVAL);
        big[IMAGO_APPDB_TEXT_MAX] = '\0';
        assert_int_equal(imago_appdb_state_put_reported(f->db, DEV_A, 0, big, NOW, &v), 0);
        free(big);
        assert_int_equal(imago_appdb_state_put_reported(f->db, DEV_A, 1, "", NOW, &v),
                         IMAGO_EINVAL);
        assert_int_equal(imago_appdb_state_put_reported(f->db, DEV_A, 1, NULL, NOW, &v),
                         IMAGO_EINVAL);
        assert_int_equal(imago_appdb_state_put_desired(f->db, INJ, 0, "{}", NOW, &v), IMAGO_EINVAL);
        assert_int_equal(imago_appdb_state_get(f->db, INJ, &st), IMAGO_EINVAL);
        assert_null(st.reported);
        assert_int_equal(imago_appdb_state_clear(f->db, "x"), IMAGO_EINVAL);
}

static void test_injection_stored_verbatim(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_state st;
        struct imago_appdb_cmd c;
        const char *doc = "{\"x\":\"" INJ "\",\"y\":\"%s%n\\u0000'\\\"\"}";
        uint64_t v, id, seq, rid;

        assert_int_equal(imago_appdb_state_put_reported(f->db, DEV_A, 0, doc, NOW, &v), 0);
        assert_int_equal(imago_appdb_state_put_desired(f->db, DEV_A, 0, INJ, NOW, &v), 0);
        assert_int_equal(imago_appdb_state_get(f->db, DEV_A, &st), 0);
        assert_string_equal(st.reported, doc);
        assert_string_equal(st.desired, INJ);
        imago_appdb_state_free(&st);
        assert_int_equal(
            imago_appdb_cmd_new(f->db, DEV_A, f->alice, "reboot", doc, NOW, NOW + 60, &id, &seq),
            0);
        assert_int_equal(
            imago_appdb_cmd_result(f->db, DEV_A, seq, IMAGO_APPDB_CMD_FAILED, INJ, NOW + 1, &rid),
            0);
        assert_int_equal(imago_appdb_cmd_get_at(f->db, id, NOW + 2, &c), 0);
        assert_string_equal(c.args, doc);
        assert_string_equal(c.result, INJ);
        imago_appdb_cmd_free(&c);
        assert_int_equal(
            imago_appdb_cmd_new(f->db, DEV_A, f->alice, INJ, "{}", NOW, NOW + 60, &id, &seq),
            IMAGO_EINVAL);
        assert_int_equal(raw_int(f->path, "SELECT count(*) FROM users"), 2);
}

static void test_commands(void **state)
{
        struct fx *f = *state;
        struct imago_appdb_cmd c;
        uint64_t id1, id2, id3, s1, s2, s3, rid = 0;

        assert_int_equal(
            imago_appdb_cmd_new(f->db, DEV_A, f->alice, "reboot", NULL, NOW, NOW + 60, &id1, &s1),
            0);
        assert_int_equal(s1, 1);
        assert_int_equal(
            imago_appdb_cmd_new(f->db, DEV_B, f->alice, "reboot", "{}", NOW, NOW + 60, &id2, &s2),
            0);
        assert_int_equal(s2, 1);
        assert_true(id2 > id1);
        assert_int_equal(imago_appdb_cmd_new(f->db, DEV_A, f->bob, "set.mode", "{\"m\":1}", NOW,
                                             NOW + 60, &id3, &s3),
                         0);
        assert_int_equal(s3, 2);
        assert_int_equal(imago_appdb_cmd_get_at(f->db, id1, NOW, &c), 0);
        assert_int_equal(c.id, id1);
        assert_string_equal(c.device, DEV_A);
        assert_int_equal(c.seq, 1);
        assert_int_equal(c.user, f->alice);
        assert_string_equal(c.name, "reboot");
        assert_string_equal(c.args, "{}");
        assert_int_equal(c.iat, NOW);
        assert_int_equal(c.exp, NOW + 60);
        assert_int_equal(c.status, IMAGO_APPDB_CMD_SENT);
        assert_null(c.result);
        imago_appdb_cmd_free(&c);
        /* a result once */
        assert_int_equal(imago_appdb_cmd_result(f->db, DEV_A, 2, IMAGO_APPDB_CMD_OK,
                                                "{\"ok\":true}", NOW + 3, &rid),
                         0);
        assert_int_equal(rid, id3);
        rid = 0;
        assert_int_equal(
            imago_appdb_cmd_result(f->db, DEV_A, 2, IMAGO_APPDB_CMD_FAILED, NULL, NOW + 4, &rid),
            IMAGO_EEXIST);
        assert_int_equal(rid, id3);
        assert_int_equal(imago_appdb_cmd_get_at(f->db, id3, NOW + 5, &c), 0);
        assert_int_equal(c.status, IMAGO_APPDB_CMD_OK);
        assert_string_equal(c.result, "{\"ok\":true}");
        assert_int_equal(c.done_at, NOW + 3);
        imago_appdb_cmd_free(&c);
        assert_int_equal(
            imago_appdb_cmd_result(f->db, DEV_A, 3, IMAGO_APPDB_CMD_OK, NULL, NOW, &rid),
            IMAGO_ENOTFOUND);
        assert_int_equal(
            imago_appdb_cmd_result(f->db, DEV_B, 2, IMAGO_APPDB_CMD_OK, NULL, NOW, &rid),
            IMAGO_ENOTFOUND);
        /* expiry: read after exp without a result -> EXPIRED, a late result is refused */
        assert_int_equal(imago_appdb_cmd_get_at(f->db, id2, NOW + 59, &c), 0);
        assert_int_equal(c.status, IMAGO_APPDB_CMD_SENT);
        imago_appdb_cmd_free(&c);
        assert_int_equal(imago_appdb_cmd_get_at(f->db, id2, NOW + 60, &c), 0);
        assert_int_equal(c.status, IMAGO_APPDB_CMD_EXPIRED);
        imago_appdb_cmd_free(&c);
        assert_int_equal(
            imago_appdb_cmd_result(f->db, DEV_B, 1, IMAGO_APPDB_CMD_OK, NULL, NOW + 61, &rid),
            IMAGO_EEXIST);
        /* wall clock read: a command of 2023 is long expired */
        assert_int_equal(imago_appdb_cmd_get(f->db, id1, &c), 0);
        assert_int_equal(c.status, IMAGO_APPDB_CMD_EXPIRED);
        imago_appdb_cmd_free(&c);
        assert_int_equal(imago_appdb_cmd_get(f->db, 9999, &c), IMAGO_ENOTFOUND);
        assert_null(c.args);
        imago_appdb_cmd_free(&c);
        imago_appdb_cmd_free(NULL);
}

static void test_commands_refused(void **state)
{
        struct fx *f = *state;
        uint64_t id, seq, rid;

        assert_int_equal(
            imago_appdb_cmd_new(f->db, DEV_A, f->alice, "Reboot", NULL, NOW, NOW + 60, &id, &seq),
            IMAGO_EINVAL);
        assert_int_equal(
            imago_appdb_cmd_new(f->db, DEV_A, f->alice, "", NULL, NOW, NOW + 60, &id, &seq),
            IMAGO_EINVAL);
        assert_int_equal(imago_appdb_cmd_new(f->db, DEV_A, f->alice,
                                             "a23456789012345678901234567890123", NULL, NOW,
                                             NOW + 60, &id, &seq),
                         IMAGO_EINVAL);
        assert_int_equal(
            imago_appdb_cmd_new(f->db, DEV_A, f->alice, "reboot", NULL, NOW, NOW, &id, &seq),
            IMAGO_EINVAL);
        assert_int_equal(
            imago_appdb_cmd_new(f->db, "nothex", f->alice, "reboot", NULL, NOW, NOW + 1, &id, &seq),
            IMAGO_EINVAL);
        assert_int_equal(
            imago_appdb_cmd_new(f->db, DEV_A, f->alice, "reboot", "", NOW, NOW + 1, &id, &seq),
            IMAGO_EINVAL);
        /* refused calls allocate no sequence number */
        assert_int_equal(
            imago_appdb_cmd_new(f->db, DEV_A, f->alice, "reboot", NULL, NOW, NOW + 1, &id, &seq),
            0);
        assert_int_equal(seq, 1);
        assert_int_equal(
            imago_appdb_cmd_result(f->db, DEV_A, 1, IMAGO_APPDB_CMD_SENT, NULL, NOW, &rid),
            IMAGO_EINVAL);
        assert_int_equal(imago_appdb_cmd_result(f->db, DEV_A, 1, (enum imago_appdb_cmd_status)6,
                                                NULL, NOW, &rid),
                         IMAGO_EINVAL);
        assert_int_equal(
            imago_appdb_cmd_result(f->db, DEV_A, 0, IMAGO_APPDB_CMD_OK, NULL, NOW, &rid),
            IMAGO_EINVAL);
        assert_int_equal(imago_appdb_cmd_result(f->db, DEV_A, 1, IMAGO_APPDB_CMD_OK, "", NOW, &rid),
                         IMAGO_EINVAL);
        assert_string_equal(imago_appdb_cmd_status_name(IMAGO_APPDB_CMD_UNKNOWN), "unknown");
        assert_string_equal(imago_appdb_cmd_status_name(IMAGO_APPDB_CMD_SENT), "sent");
        assert_string_equal(imago_appdb_cmd_status_name((enum imago_appdb_cmd_status)9), "invalid");
}

static void test_seq_survives_clear_and_unbind(void **state)
{
        struct fx *f = *state;
        uint64_t id, seq;

        assert_int_equal(
            imago_appdb_cmd_new(f->db, DEV_A, f->alice, "wipe", NULL, NOW, NOW + 9, &id, &seq), 0);
        assert_int_equal(imago_appdb_state_clear(f->db, DEV_A), 0);
        assert_int_equal(imago_appdb_unbind(f->db, DEV_A), 0);
        raw_sql(f->path, "DELETE FROM commands");
        assert_int_equal(
            imago_appdb_cmd_new(f->db, DEV_A, f->bob, "reboot", NULL, NOW, NOW + 9, &id, &seq), 0);
        assert_int_equal(seq, 2);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_open_creates_private_wal_file, setup, teardown),
            cmocka_unit_test_setup_teardown(test_open_refuses_newer_schema, setup, teardown),
            cmocka_unit_test_setup_teardown(test_open_refuses_foreign_file, setup, teardown),
            cmocka_unit_test_setup_teardown(test_users, setup, teardown),
            cmocka_unit_test_setup_teardown(test_user_names_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(test_user_list, setup, teardown),
            cmocka_unit_test_setup_teardown(test_refresh_consumed_once, setup, teardown),
            cmocka_unit_test_setup_teardown(test_refresh_drop_user_and_prune, setup, teardown),
            cmocka_unit_test_setup_teardown(test_token_revocation, setup, teardown),
            cmocka_unit_test_setup_teardown(test_grants, setup, teardown),
            cmocka_unit_test_setup_teardown(test_grants_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(test_ownership, setup, teardown),
            cmocka_unit_test_setup_teardown(test_nonce_claimed_once, setup, teardown),
            cmocka_unit_test_setup_teardown(test_state_versions, setup, teardown),
            cmocka_unit_test_setup_teardown(test_state_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(test_injection_stored_verbatim, setup, teardown),
            cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
            cmocka_unit_test_setup_teardown(test_commands_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(test_seq_survives_clear_and_unbind, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
