/*
 * imago_api under attack, one test per attack, in process over real HTTPS
 * (tests/unit/test_api_util.h): another user's device through every device
 * endpoint, SQL injection strings in every text field, oversized and
 * malformed JSON (the vectors of tests/vectors/api over HTTP), log-in brute
 * force with the clock injected, expired operator grants, expired and
 * revoked access tokens, refresh-token reuse, forged tokens, grant
 * escalation, and the per-address rate limit.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_api_util.h"
#include "test_vectors.h"

#define DEV_A "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
#define DEV_B "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
#define DEV_U "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf" /* never registered */

static int setup(void **state)
{
        *state = fx_start(1);
        return 0;
}

static int teardown(void **state)
{
        fx_stop(*state);
        return 0;
}

/* What a device's rows look like, to prove nothing changed. */
struct snap {
        uint64_t owner;
        uint64_t rv, dv;
        char *reported, *desired;
        int state;
        int npub;
};

static void snap_take(struct fx *f, const char *id, struct snap *s)
{
        struct imago_appdb_state st;
        struct imago_reg_device d;

        memset(s, 0, sizeof(*s));
        memset(&st, 0, sizeof(st));
        memset(&d, 0, sizeof(d));
        assert_int_equal(imago_appdb_owner(f->tdb, id, &s->owner), IMAGO_OK);
        assert_int_equal(imago_appdb_state_get(f->tdb, id, &st), IMAGO_OK);
        s->rv = st.reported_version;
        s->dv = st.desired_version;
        s->reported = strdup(st.reported);
        s->desired = strdup(st.desired);
        imago_appdb_state_free(&st);
        if (imago_registry_get(f->treg, id, &d) == IMAGO_OK)
                s->state = (int)d.state;
        imago_registry_device_free(&d);
        s->npub = atomic_load(&f->npub);
}

static void snap_same(struct fx *f, const char *id, const struct snap *a)
{
        struct snap b;

        snap_take(f, id, &b);
        assert_int_equal(a->owner, b.owner);
        assert_int_equal(a->rv, b.rv);
        assert_int_equal(a->dv, b.dv);
        assert_string_equal(a->reported, b.reported);
        assert_string_equal(a->desired, b.desired);
        assert_int_equal(a->state, b.state);
        assert_int_equal(a->npub, b.npub);
        free(b.reported);
        free(b.desired);
}

static void snap_free(struct snap *s)
{
        free(s->reported);
        free(s->desired);
}

/* Every device endpoint with user B's token on A's device and on an unknown one: 404
 * IMAGO_ENOTFOUND alike, and nothing changed. */
static void attack_other_users_device_every_endpoint(void **state)
{
        static const struct {
                const char *method, *suffix, *body;
        } eps[] = {
            {"GET", "", NULL},
            {"GET", "/state", NULL},
            {"PATCH", "/state", "{\"desired\":{\"target\":99},\"version\":1}"},
            {"PATCH", "/state", "{\"desired\":{\"target\":99},\"version\":0}"},
            {"POST", "/commands", "{\"name\":\"unlock\",\"wait_ms\":0}"},
            {"GET", "/commands/1", NULL},
            {"POST", "/decommission", NULL},
        };
        struct fx *f = *state;
        struct fx_user a, b;
        struct fx_resp r;
        struct snap before;
        char path[160];
        size_t i, k;

        fx_user_new(f, "alice", &a);
        fx_user_new(f, "bob", &b);
        fx_device(f, DEV_A, "g1", a.id);
        fx_device(f, DEV_B, "g1", b.id);
        atomic_store(&f->answer, FX_ANSWER);
        /* A's device has a desired document and a command */
        assert_int_equal(fx_call(f, "PATCH", "/v1/devices/" DEV_A "/state", a.access,
                                 "{\"desired\":{\"target\":20},\"version\":0}", NULL),
                         200);
        assert_int_equal(fx_call(f, "POST", "/v1/devices/" DEV_A "/commands", a.access,
                                 "{\"name\":\"blink\"}", NULL),
                         200);
        snap_take(f, DEV_A, &before);
        for (k = 0; k < 2; k++) {
                const char *dev = k == 0 ? DEV_A : DEV_U;

                for (i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
                        snprintf(path, sizeof(path), "/v1/devices/%s%s", dev, eps[i].suffix);
                        assert_int_equal(fx_call(f, eps[i].method, path, b.access, eps[i].body, &r),
                                         404);
                        assert_string_equal(fx_code(&r), "IMAGO_ENOTFOUND");
                        fx_resp_free(&r);
                }
        }
        snap_same(f, DEV_A, &before);
        /* B's own command id on A's device path, A's command id on B's path */
        assert_int_equal(fx_call(f, "POST", "/v1/devices/" DEV_B "/commands", b.access,
                                 "{\"name\":\"blink\"}", &r),
                         200);
        fx_resp_free(&r);
        assert_int_equal(
            fx_call(f, "GET", "/v1/devices/" DEV_B "/commands/1", b.access, NULL, NULL), 404);
        assert_int_equal(
            fx_call(f, "GET", "/v1/devices/" DEV_A "/commands/2", a.access, NULL, NULL), 404);
        /* B's list has only B's device */
        assert_int_equal(fx_call(f, "GET", "/v1/devices", b.access, NULL, &r), 200);
        assert_int_equal(json_array_size(json_object_get(r.j, "devices")), 1);
        assert_string_equal(json_string_value(json_object_get(
                                json_array_get(json_object_get(r.j, "devices"), 0), "id")),
                            DEV_B);
        fx_resp_free(&r);
        {
                struct snap after;

                snap_take(f, DEV_A, &after);
                assert_int_equal(after.owner, before.owner);
                assert_int_equal(after.dv, before.dv);
                assert_string_equal(after.desired, before.desired);
                assert_int_equal(after.state, IMAGO_REG_ENROLLED);
                snap_free(&after);
        }
        assert_int_equal(fx_published(f, DEV_A "/cmd"), 1);
        /* malformed ids: 404 too */
        assert_int_equal(fx_call(f, "GET", "/v1/devices/A0A1", b.access, NULL, NULL), 404);
        assert_int_equal(fx_call(f, "GET", "/v1/devices/..%2f..%2fetc", b.access, NULL, NULL), 404);
        snap_free(&before);
}

static const char *const sqls[] = {
    "' OR 1=1 --",
    "\\\"; DROP TABLE users; --",
    "x'); DELETE FROM grants; --",
    "1; UPDATE users SET pw_hash=''",
};

/* SQL strings in every text field: refused (400/401/404) or stored verbatim; tables intact. */
static void attack_sql_injection_every_text_field(void **state)
{
        struct fx *f = *state;
        struct fx_user a, admin;
        struct fx_resp r;
        struct imago_appdb_user u;
        char body[512];
        size_t i;
        int st;

        fx_user_new(f, "alice", &a);
        fx_user_new(f, "admin", &admin);
        fx_grant(f, &admin, IMAGO_ROLE_SECURITY_ADMIN, "g1", FX_T0 + 3600);
        fx_device(f, DEV_A, "g1", a.id);
        for (i = 0; i < sizeof(sqls) / sizeof(sqls[0]); i++) {
                /* user names at signup: refused by the name rule */
                snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"" FX_PASSWORD "\"}",
                         sqls[i]);
                assert_int_equal(fx_call(f, "POST", "/v1/users", NULL, body, NULL), 400);
                /* user names at log-in: no such user */
                assert_int_equal(fx_call(f, "POST", "/v1/auth/login", NULL, body, NULL), 401);
                /* passwords: a wrong password (and as a new password: stored as a hash) */
                snprintf(body, sizeof(body), "{\"user\":\"alice\",\"password\":\"%s%s\"}", sqls[i],
                         "-padding-");
                assert_int_equal(fx_call(f, "POST", "/v1/auth/login", NULL, body, NULL), 401);
                snprintf(body, sizeof(body), "{\"user\":\"sql%zu\",\"password\":\"%s%s\"}", i,
                         sqls[i], " padding padding");
                assert_int_equal(fx_call(f, "POST", "/v1/users", NULL, body, NULL), 201);
                /* group names and user names in grants */
                snprintf(body, sizeof(body),
                         "{\"user\":\"alice\",\"role\":\"viewer\",\"group\":\"%s\","
                         "\"expires\":%lld}",
                         sqls[i], (long long)FX_T0 + 60);
                assert_int_equal(fx_call(f, "POST", "/v1/grants", admin.access, body, NULL), 400);
                snprintf(body, sizeof(body),
                         "{\"user\":\"%s\",\"role\":\"viewer\",\"group\":\"g1\",\"expires\":%lld}",
                         sqls[i], (long long)FX_T0 + 60);
                assert_int_equal(fx_call(f, "POST", "/v1/grants", admin.access, body, NULL), 400);
                /* command names: refused; command arguments: carried verbatim */
                snprintf(body, sizeof(body), "{\"name\":\"%s\"}", sqls[i]);
                assert_int_equal(
                    fx_call(f, "POST", "/v1/devices/" DEV_A "/commands", a.access, body, NULL),
                    400);
                snprintf(body, sizeof(body),
                         "{\"name\":\"echo\",\"args\":{\"q\":\"%s\"},"
                         "\"wait_ms\":0}",
                         sqls[i]);
                assert_int_equal(
                    fx_call(f, "POST", "/v1/devices/" DEV_A "/commands", a.access, body, NULL),
                    202);
                /* state documents: member names refused, values stored verbatim */
                snprintf(body, sizeof(body), "{\"desired\":{\"%s\":1},\"version\":%zu}", sqls[i],
                         i);
                assert_int_equal(
                    fx_call(f, "PATCH", "/v1/devices/" DEV_A "/state", a.access, body, NULL), 400);
                snprintf(body, sizeof(body), "{\"desired\":{\"label\":\"%s\"},\"version\":%zu}",
                         sqls[i], i);
                assert_int_equal(
                    fx_call(f, "PATCH", "/v1/devices/" DEV_A "/state", a.access, body, NULL), 200);
                /* ids in paths */
                snprintf(body, sizeof(body), "/v1/grants/1%%20OR%%201=1");
                st = fx_call(f, "DELETE", body, admin.access, NULL, NULL);
                assert_int_equal(st, 404);
        }
        /* the tables are intact: users still there, passwords still work, the value verbatim */
        memset(&u, 0, sizeof(u));
        assert_int_equal(imago_appdb_user_by_name(f->tdb, "alice", &u), IMAGO_OK);
        assert_int_equal(imago_appdb_user_by_name(f->tdb, "sql3", &u), IMAGO_OK);
        fx_advance(2); /* the wrong passwords above delayed alice's next log-in */
        fx_login(f, &a);
        assert_int_equal(fx_call(f, "GET", "/v1/devices/" DEV_A "/state", a.access, NULL, &r), 200);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(r.j, "desired"), "label")),
            "1; UPDATE users SET pw_hash=''");
        fx_resp_free(&r);
        assert_int_equal(fx_call(f, "GET", "/v1/grants", admin.access, NULL, &r), 200);
        assert_int_equal(json_array_size(json_object_get(r.j, "grants")), 1);
        fx_resp_free(&r);
        assert_int_equal(fx_published(f, DEV_A "/cmd"), 4);
        assert_int_equal(imago_audit_verify(f->taudit, 0, NULL, NULL), IMAGO_OK);
}

/* 413: in the API's error format when the body is within the server's limit (32 KiB here);
 * beyond it evhttp answers 413 with its own page and closes, possibly before the client has
 * written everything (then the client sees the connection cut). */
static void too_big(struct fx *f, const char *method, const char *path, const char *bearer,
                    const char *big, size_t n)
{
        struct fx_resp r;
        int rc = fx_req(f, method, path, bearer, big, n, &r);

        if (n <= 32768) {
                assert_int_equal(rc, IMAGO_OK);
                assert_int_equal(r.status, 413);
                assert_string_equal(fx_code(&r), "IMAGO_ETOOBIG");
        } else if (rc == IMAGO_OK) {
                assert_int_equal(r.status, 413);
        } else {
                assert_int_equal(rc, IMAGO_EIO);
        }
        fx_resp_free(&r);
}

/* Bodies over the API's limit (16 KiB) and over the server's (max_body): 413, nothing done. */
static void attack_oversized_json(void **state)
{
        struct fx *f = *state;
        struct fx_user a;
        size_t n, sizes[] = {IMAGO_API_BODY_MAX + 1, 32768 + 1, 200000};
        char *big;
        size_t i;

        fx_user_new(f, "alice", &a);
        fx_device(f, DEV_A, "g1", a.id);
        for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                n = sizes[i];
                big = malloc(n + 1);
                assert_non_null(big);
                memset(big, ' ', n);
                memcpy(big, "{\"desired\":{\"s\":\"", 18);
                memset(big + 18, 'A', n - 40);
                memcpy(big + n - 22, "\"},\"version\":0}      ", 22);
                big[n] = '\0';
                too_big(f, "PATCH", "/v1/devices/" DEV_A "/state", a.access, big, n);
                too_big(f, "POST", "/v1/auth/login", NULL, big, n);
                free(big);
        }
        {
                struct snap s;

                snap_take(f, DEV_A, &s);
                assert_int_equal(s.dv, 0);
                snap_free(&s);
        }
        /* the server still answers */
        assert_int_equal(fx_call(f, "GET", "/v1/me", a.access, NULL, NULL), 200);
}

struct http_vec {
        struct fx *f;
        const char *method, *path, *bearer;
        int n;
};

static void http_one(const char *file, const uint8_t *data, size_t len, int want, void *arg)
{
        struct http_vec *v = arg;
        struct fx_resp r;

        if (want == IMAGO_OK)
                return;
        /* keep under the per-address rate limit: one second per 20 requests */
        if (++v->n % 20 == 0)
                fx_advance(1);
        assert_int_equal(fx_req(v->f, v->method, v->path, v->bearer, (const char *)data, len, &r),
                         IMAGO_OK);
        if (strcmp(fx_code(&r), imago_errname(want)) != 0 ||
            r.status != (want == IMAGO_ETOOBIG         ? 413
                         : want == IMAGO_EAUTH_REFRESH ? 401
                                                       : 400))
                fail_msg("%s %s: got %d %s, want %s", v->path, file, r.status, fx_code(&r),
                         imago_errname(want));
        fx_resp_free(&r);
}

/* The malformed vectors of tests/vectors/api sent to their endpoints: the vector's error code
 * in the one error format, the right status, and nothing stored. */
static void attack_malformed_json(void **state)
{
        struct fx *f = *state;
        struct fx_user a, admin;
        struct http_vec v;
        struct snap s;

        fx_user_new(f, "alice", &a);
        fx_user_new(f, "admin", &admin);
        fx_grant(f, &admin, IMAGO_ROLE_SECURITY_ADMIN, "g1", FX_T0 + 86400);
        fx_device(f, DEV_A, "g1", a.id);
        v.f = f;
        v.n = 0;
        v.method = "POST";
        v.path = "/v1/users";
        v.bearer = NULL;
        assert_true(
            test_vec_each(IMAGO_SOURCE_DIR "/tests/vectors/api/creds", ".json", http_one, &v) > 20);
        v.path = "/v1/auth/refresh";
        assert_true(test_vec_each(IMAGO_SOURCE_DIR "/tests/vectors/api/refresh", ".json", http_one,
                                  &v) > 20);
        v.path = "/v1/registration-tokens";
        v.bearer = a.access;
        assert_true(test_vec_each(IMAGO_SOURCE_DIR "/tests/vectors/api/regtoken", ".json", http_one,
                                  &v) > 20);
        v.method = "PATCH";
        v.path = "/v1/devices/" DEV_A "/state";
        assert_true(
            test_vec_each(IMAGO_SOURCE_DIR "/tests/vectors/api/state", ".json", http_one, &v) > 20);
        v.method = "POST";
        v.path = "/v1/devices/" DEV_A "/commands";
        assert_true(test_vec_each(IMAGO_SOURCE_DIR "/tests/vectors/api/command", ".json", http_one,
                                  &v) > 20);
        v.path = "/v1/grants";
        v.bearer = admin.access;
        assert_true(
            test_vec_each(IMAGO_SOURCE_DIR "/tests/vectors/api/grant", ".json", http_one, &v) > 20);
        snap_take(f, DEV_A, &s);
        assert_int_equal(s.dv, 0);
        assert_int_equal(s.npub, 0);
        snap_free(&s);
}

static int login_status(struct fx *f, const char *pw, struct fx_resp *r)
{
        char body[256];

        snprintf(body, sizeof(body), "{\"user\":\"alice\",\"password\":\"%s\"}", pw);
        return fx_call(f, "POST", "/v1/auth/login", NULL, body, r);
}

/* Wrong passwords: free tries, then 429 with a growing delay (even for the right password),
 * then a 15-minute lock; the clock is config.now. */
static void attack_login_brute_force(void **state)
{
        struct fx *f = *state;
        struct fx_user a;
        struct fx_resp r;
        int i, throttled = 0;

        fx_user_new(f, "alice", &a);
        /* three free failures, the fourth blocks for 1 s */
        for (i = 0; i < 4; i++)
                assert_int_equal(login_status(f, "guess number one", NULL), 401);
        /* the next try at once: throttled, whatever the password */
        assert_int_equal(login_status(f, FX_PASSWORD, &r), 429);
        assert_string_equal(fx_code(&r), "IMAGO_EAUTH_THROTTLED");
        fx_resp_free(&r);
        /* wait out each delay and keep guessing: the 10th failure locks the account */
        for (i = 0; i < 6; i++) {
                fx_advance(61);
                assert_int_equal(login_status(f, "guess number two", NULL), 401);
        }
        for (i = 0; i < 14; i++) {
                fx_advance(60);
                if (login_status(f, FX_PASSWORD, NULL) == 429)
                        throttled++;
        }
        /* locked for 15 minutes from the 10th failure, the right password included */
        assert_int_equal(throttled, 14);
        fx_advance(2 * 60);
        assert_int_equal(login_status(f, FX_PASSWORD, NULL), 200);
        assert_int_equal(fx_audit_count(f, "auth.login.fail"), 10 + 1 + 14);
        assert_int_equal(imago_audit_verify(f->taudit, 0, NULL, NULL), IMAGO_OK);
}

/* A grant whose expiry passes stops working without any action; one already expired never
 * works. */
static void attack_expired_operator_grant(void **state)
{
        struct fx *f = *state;
        struct fx_user owner, op, old;

        fx_user_new(f, "owner", &owner);
        fx_user_new(f, "op", &op);
        fx_user_new(f, "old", &old);
        fx_device(f, DEV_A, "g1", owner.id);
        fx_grant(f, &op, IMAGO_ROLE_OPERATOR, "g1", FX_T0 + 60);
        fx_grant(f, &old, IMAGO_ROLE_OPERATOR, "g1", FX_T0 - 1);
        atomic_store(&f->answer, FX_ANSWER);
        assert_int_equal(fx_call(f, "GET", "/v1/devices/" DEV_A, op.access, NULL, NULL), 200);
        assert_int_equal(fx_call(f, "POST", "/v1/devices/" DEV_A "/commands", op.access,
                                 "{\"name\":\"blink\"}", NULL),
                         200);
        assert_int_equal(fx_call(f, "GET", "/v1/devices/" DEV_A, old.access, NULL, NULL), 404);
        fx_advance(60);
        /* the access token is still valid; the grant is not */
        assert_int_equal(fx_call(f, "GET", "/v1/me", op.access, NULL, NULL), 200);
        assert_int_equal(fx_call(f, "GET", "/v1/devices/" DEV_A, op.access, NULL, NULL), 404);
        assert_int_equal(fx_call(f, "POST", "/v1/devices/" DEV_A "/commands", op.access,
                                 "{\"name\":\"blink\"}", NULL),
                         404);
        assert_int_equal(fx_published(f, "/cmd"), 1);
}

static void attack_expired_access_token(void **state)
{
        struct fx *f = *state;
        struct fx_user a;
        struct fx_resp r;
        char body[128];

        fx_user_new(f, "alice", &a);
        fx_advance(299);
        assert_int_equal(fx_call(f, "GET", "/v1/me", a.access, NULL, NULL), 200);
        fx_advance(1);
        assert_int_equal(fx_call(f, "GET", "/v1/me", a.access, NULL, &r), 401);
        assert_string_equal(fx_code(&r), "IMAGO_EAUTH_TOKEN_EXPIRED");
        fx_resp_free(&r);
        /* the refresh token gets a new pair */
        snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", a.refresh);
        assert_int_equal(fx_call(f, "POST", "/v1/auth/refresh", NULL, body, &r), 200);
        assert_int_equal(fx_call(f, "GET", "/v1/me",
                                 json_string_value(json_object_get(r.j, "access_token")), NULL,
                                 NULL),
                         200);
        fx_resp_free(&r);
}

static void attack_revoked_access_token_after_logout(void **state)
{
        struct fx *f = *state;
        struct fx_user a;
        struct fx_resp r;
        char body[128];

        fx_user_new(f, "alice", &a);
        snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", a.refresh);
        assert_int_equal(fx_call(f, "POST", "/v1/auth/logout", a.access, body, NULL), 204);
        assert_int_equal(fx_call(f, "GET", "/v1/me", a.access, NULL, &r), 401);
        assert_string_equal(fx_code(&r), "IMAGO_EAPI_AUTH");
        fx_resp_free(&r);
        assert_int_equal(fx_call(f, "POST", "/v1/auth/refresh", NULL, body, &r), 401);
        assert_string_equal(fx_code(&r), "IMAGO_EAUTH_REFRESH");
        fx_resp_free(&r);
        /* logout needs the access token */
        assert_int_equal(fx_call(f, "POST", "/v1/auth/logout", NULL, body, NULL), 401);
        assert_int_equal(fx_audit_count(f, "auth.logout"), 1);
}

static void attack_refresh_token_reuse(void **state)
{
        struct fx *f = *state;
        struct fx_user a;
        struct fx_resp r;
        char body[128], body2[128];

        fx_user_new(f, "alice", &a);
        snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", a.refresh);
        assert_int_equal(fx_call(f, "POST", "/v1/auth/refresh", NULL, body, &r), 200);
        snprintf(body2, sizeof(body2), "{\"refresh_token\":\"%s\"}",
                 json_string_value(json_object_get(r.j, "refresh_token")));
        fx_resp_free(&r);
        /* the old one again: dead */
        assert_int_equal(fx_call(f, "POST", "/v1/auth/refresh", NULL, body, &r), 401);
        assert_string_equal(fx_code(&r), "IMAGO_EAUTH_REFRESH");
        fx_resp_free(&r);
        /* the new one works once */
        assert_int_equal(fx_call(f, "POST", "/v1/auth/refresh", NULL, body2, NULL), 200);
        assert_int_equal(fx_call(f, "POST", "/v1/auth/refresh", NULL, body2, NULL), 401);
        /* a refresh token past its 14 days */
        fx_login(f, &a);
        snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", a.refresh);
        fx_advance(14 * 86400 + 1);
        assert_int_equal(fx_call(f, "POST", "/v1/auth/refresh", NULL, body, NULL), 401);
}

/* Tokens made with another secret, for another user id, or tampered: 401. */
static void attack_forged_access_token(void **state)
{
        struct fx *f = *state;
        struct imago_auth_claims c;
        uint8_t other[32];
        struct fx_user a;
        char tok[IMAGO_AUTH_TOKEN_LEN + 1];

        fx_user_new(f, "alice", &a);
        memset(other, 0x11, sizeof(other));
        assert_int_equal(imago_auth_token_issue(other, a.id, 0, fx_clock(), 300, tok, NULL),
                         IMAGO_OK);
        assert_int_equal(fx_call(f, "GET", "/v1/me", tok, NULL, NULL), 401);
        /* the right secret but a user that does not exist */
        memset(other, 0x5a, sizeof(other));
        memset(&c, 0, sizeof(c));
        c.user_id = 999;
        c.issued_at = fx_clock();
        c.expires = fx_clock() + 300;
        assert_int_equal(imago_auth_token_encode(other, &c, tok), IMAGO_OK);
        assert_int_equal(fx_call(f, "GET", "/v1/me", tok, NULL, NULL), 401);
        /* one flipped character */
        snprintf(tok, sizeof(tok), "%s", a.access);
        tok[10] = tok[10] == 'a' ? 'b' : 'a';
        assert_int_equal(fx_call(f, "GET", "/v1/me", tok, NULL, NULL), 401);
        /* the refresh token as an access token */
        assert_int_equal(fx_call(f, "GET", "/v1/me", a.refresh, NULL, NULL), 401);
}

/* An operator cannot grant; a security admin of g1 cannot grant in g2 nor delete g2's grants. */
static void attack_grant_escalation(void **state)
{
        struct fx *f = *state;
        struct fx_user op, admin, admin2;
        struct fx_resp r;
        char body[256], path[64];
        json_int_t gid;

        fx_user_new(f, "op", &op);
        fx_user_new(f, "admin", &admin);
        fx_user_new(f, "admin2", &admin2);
        fx_grant(f, &op, IMAGO_ROLE_OPERATOR, "g1", FX_T0 + 3600);
        fx_grant(f, &admin, IMAGO_ROLE_SECURITY_ADMIN, "g1", FX_T0 + 3600);
        fx_grant(f, &admin2, IMAGO_ROLE_SECURITY_ADMIN, "g2", FX_T0 + 3600);
        snprintf(body, sizeof(body),
                 "{\"user\":\"op\",\"role\":\"security_admin\",\"group\":\"g1\",\"expires\":%lld}",
                 (long long)FX_T0 + 600);
        assert_int_equal(fx_call(f, "POST", "/v1/grants", op.access, body, NULL), 403);
        assert_int_equal(fx_call(f, "GET", "/v1/grants", op.access, NULL, NULL), 403);
        snprintf(body, sizeof(body),
                 "{\"user\":\"op\",\"role\":\"operator\",\"group\":\"g2\",\"expires\":%lld}",
                 (long long)FX_T0 + 600);
        assert_int_equal(fx_call(f, "POST", "/v1/grants", admin.access, body, NULL), 403);
        assert_int_equal(fx_call(f, "POST", "/v1/grants", admin2.access, body, &r), 201);
        gid = json_integer_value(json_object_get(r.j, "id"));
        fx_resp_free(&r);
        snprintf(path, sizeof(path), "/v1/grants/%lld", (long long)gid);
        assert_int_equal(fx_call(f, "DELETE", path, admin.access, NULL, NULL), 404);
        /* expiries: past, too far, not_before after expires */
        snprintf(body, sizeof(body),
                 "{\"user\":\"op\",\"role\":\"viewer\",\"group\":\"g1\",\"expires\":%lld}",
                 (long long)FX_T0 - 1);
        assert_int_equal(fx_call(f, "POST", "/v1/grants", admin.access, body, NULL), 400);
        snprintf(body, sizeof(body),
                 "{\"user\":\"op\",\"role\":\"viewer\",\"group\":\"g1\",\"expires\":%lld}",
                 (long long)FX_T0 + 400 * 86400);
        assert_int_equal(fx_call(f, "POST", "/v1/grants", admin.access, body, NULL), 400);
        /* unknown user */
        snprintf(body, sizeof(body),
                 "{\"user\":\"ghost\",\"role\":\"viewer\",\"group\":\"g1\",\"expires\":%lld}",
                 (long long)FX_T0 + 600);
        assert_int_equal(fx_call(f, "POST", "/v1/grants", admin.access, body, NULL), 404);
}

/* One address sending faster than the limit: 429 IMAGO_EAPI_RATE with Retry-After; later
 * (clock) it is served again. */
static void attack_request_flood(void **state)
{
        struct fx *f = *state;
        struct fx_resp r;
        int i, limited = 0;

        for (i = 0; i < 260 && !limited; i++) {
                assert_int_equal(fx_req(f, "GET", "/v1/nothing", NULL, NULL, 0, &r), IMAGO_OK);
                if (r.status == 429) {
                        assert_string_equal(fx_code(&r), "IMAGO_EAPI_RATE");
                        limited = 1;
                }
                fx_resp_free(&r);
        }
        assert_true(limited);
        assert_true(i > 150);
        fx_advance(2);
        assert_int_equal(fx_call(f, "GET", "/v1/nothing", NULL, NULL, NULL), 404);
}

/* One account sending faster than its limit (from any address): 429 after the burst. */
static void attack_account_flood(void **state)
{
        struct fx *f = *state;
        struct fx_user a;
        struct fx_resp r;
        int i, limited = 0;

        fx_user_new(f, "alice", &a);
        for (i = 0; i < 150 && !limited; i++) {
                assert_int_equal(fx_req(f, "GET", "/v1/me", a.access, NULL, 0, &r), IMAGO_OK);
                if (r.status == 429) {
                        assert_string_equal(fx_code(&r), "IMAGO_EAPI_RATE");
                        limited = 1;
                } else {
                        assert_int_equal(r.status, 200);
                }
                fx_resp_free(&r);
        }
        assert_true(limited);
        assert_true(i > 90 && i <= 101);
        fx_advance(1);
        assert_int_equal(fx_call(f, "GET", "/v1/me", a.access, NULL, NULL), 200);
}

/* Right passwords, as fast as possible: each log-in costs an argon2id hash on the service loop,
 * so one address gets a bounded number of them (the throttle only counts failures). */
static void attack_password_hash_flood(void **state)
{
        struct fx *f = *state;
        struct fx_user a;
        struct fx_resp r;
        int i, ok = 0, limited = 0;

        fx_user_new(f, "alice", &a); /* two hashes: sign-up and log-in */
        for (i = 0; i < 30; i++) {
                if (login_status(f, FX_PASSWORD, &r) == 200) {
                        ok++;
                } else {
                        assert_int_equal(r.status, 429);
                        assert_string_equal(fx_code(&r), "IMAGO_EAPI_RATE");
                        limited++;
                }
                fx_resp_free(&r);
        }
        assert_int_equal(ok, 18);
        assert_int_equal(limited, 12);
        fx_advance(1);
        assert_int_equal(login_status(f, FX_PASSWORD, NULL), 200);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(attack_other_users_device_every_endpoint, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(attack_sql_injection_every_text_field, setup, teardown),
            cmocka_unit_test_setup_teardown(attack_oversized_json, setup, teardown),
            cmocka_unit_test_setup_teardown(attack_malformed_json, setup, teardown),
            cmocka_unit_test_setup_teardown(attack_login_brute_force, setup, teardown),
            cmocka_unit_test_setup_teardown(attack_expired_operator_grant, setup, teardown),
            cmocka_unit_test_setup_teardown(attack_expired_access_token, setup, teardown),
            cmocka_unit_test_setup_teardown(attack_revoked_access_token_after_logout, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(attack_refresh_token_reuse, setup, teardown),
            cmocka_unit_test_setup_teardown(attack_forged_access_token, setup, teardown),
            cmocka_unit_test_setup_teardown(attack_grant_escalation, setup, teardown),
            cmocka_unit_test_setup_teardown(attack_request_flood, setup, teardown),
            cmocka_unit_test_setup_teardown(attack_account_flood, setup, teardown),
            cmocka_unit_test_setup_teardown(attack_password_hash_flood, setup, teardown),
        };

        if (getenv("IMAGO_TEST_FILTER") != NULL) /* e.g. IMAGO_TEST_FILTER='*client_gone*' */
                cmocka_set_test_filter(getenv("IMAGO_TEST_FILTER"));
        return cmocka_run_group_tests(tests, NULL, NULL);
}
