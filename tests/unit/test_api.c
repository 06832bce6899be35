/*
 * imago_api end to end in one process (tests/unit/test_api_util.h): a real
 * HTTPS server, app.db, audit log, registry and devsvc; the client is
 * imago_httpc.  Users, log-in, refresh, /v1/me, registration tokens and a
 * registration through the devsvc, devices, state documents, commands
 * answered, failed, timed out and abandoned by the client, decommission,
 * grants, the audit log, routes and methods.  The attacks are in
 * test_api_attacks.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include "state/state.h"
#include "test_api_util.h"

#define DEV_A "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
#define DEV_B "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
#define DEV_C "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"

static int setup(void **state)
{
        *state = fx_start(1);
        return 0;
}

static int setup_nosignup(void **state)
{
        *state = fx_start(0);
        return 0;
}

static int teardown(void **state)
{
        fx_stop(*state);
        return 0;
}

static void test_signup_login_me(void **state)
{
        struct fx *f = *state;
        struct fx_user a;
        struct fx_resp r;

        fx_user_new(f, "alice", &a);
        /* the name is taken */
        assert_int_equal(fx_call(f, "POST", "/v1/users", NULL,
                                 "{\"user\":\"alice\",\"password\":\"another long secret\"}", &r),
                         409);
        assert_string_equal(fx_code(&r), "IMAGO_EEXIST");
        fx_resp_free(&r);
        /* the password policy */
        assert_int_equal(
            fx_call(f, "POST", "/v1/users", NULL, "{\"user\":\"bob\",\"password\":\"short\"}", &r),
            400);
        assert_string_equal(fx_code(&r), "IMAGO_EAUTH_POLICY");
        fx_resp_free(&r);
        assert_int_equal(fx_call(f, "POST", "/v1/users", NULL,
                                 "{\"user\":\"bad name\",\"password\":\"" FX_PASSWORD "\"}", &r),
                         400);
        fx_resp_free(&r);

        assert_int_equal(fx_call(f, "GET", "/v1/me", a.access, NULL, &r), 200);
        assert_int_equal(json_integer_value(json_object_get(r.j, "id")), (json_int_t)a.id);
        assert_string_equal(json_string_value(json_object_get(r.j, "user")), "alice");
        assert_int_equal(json_array_size(json_object_get(r.j, "grants")), 0);
        fx_resp_free(&r);

        /* no token, a Basic header, garbage */
        assert_int_equal(fx_call(f, "GET", "/v1/me", NULL, NULL, &r), 401);
        assert_string_equal(fx_code(&r), "IMAGO_EAPI_AUTH");
        fx_resp_free(&r);
        assert_int_equal(fx_call(f, "GET", "/v1/me", "not-a-token", NULL, NULL), 401);

        /* wrong password */
        assert_int_equal(fx_call(f, "POST", "/v1/auth/login", NULL,
                                 "{\"user\":\"alice\",\"password\":\"wrong password!!\"}", &r),
                         401);
        assert_string_equal(fx_code(&r), "IMAGO_EAUTH_PASSWORD");
        fx_resp_free(&r);
        /* unknown user: the same answer */
        assert_int_equal(fx_call(f, "POST", "/v1/auth/login", NULL,
                                 "{\"user\":\"nobody\",\"password\":\"wrong password!!\"}", &r),
                         401);
        assert_string_equal(fx_code(&r), "IMAGO_EAUTH_PASSWORD");
        fx_resp_free(&r);

        assert_int_equal(fx_audit_count(f, "user.create"), 1);
        assert_int_equal(fx_audit_count(f, "auth.login"), 1);
        assert_int_equal(fx_audit_count(f, "auth.login.fail"), 2);
}

static void test_signup_off_needs_security_admin(void **state)
{
        struct fx *f = *state;
        struct fx_user admin, op;
        static const char body[] = "{\"user\":\"carol\",\"password\":\"" FX_PASSWORD "\"}";

        assert_int_equal(fx_call(f, "POST", "/v1/users", NULL, body, NULL), 401);
        fx_user_db(f, "admin", &admin);
        fx_user_db(f, "op", &op);
        fx_grant(f, &admin, IMAGO_ROLE_SECURITY_ADMIN, "g1", FX_T0 + 3600);
        fx_grant(f, &op, IMAGO_ROLE_OPERATOR, "g1", FX_T0 + 3600);
        assert_int_equal(fx_call(f, "POST", "/v1/users", op.access, body, NULL), 403);
        assert_int_equal(fx_call(f, "POST", "/v1/users", admin.access, body, NULL), 201);
}

static void test_refresh_rotates(void **state)
{
        struct fx *f = *state;
        struct fx_user a;
        struct fx_resp r;
        char body[128], old[IMAGO_AUTH_REFRESH_LEN + 1];

        fx_user_new(f, "alice", &a);
        snprintf(old, sizeof(old), "%s", a.refresh);
        snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", a.refresh);
        assert_int_equal(fx_call(f, "POST", "/v1/auth/refresh", NULL, body, &r), 200);
        assert_string_not_equal(json_string_value(json_object_get(r.j, "refresh_token")), old);
        assert_int_equal(fx_call(f, "GET", "/v1/me",
                                 json_string_value(json_object_get(r.j, "access_token")), NULL,
                                 NULL),
                         200);
        fx_resp_free(&r);
}

static void test_registration_binds_device(void **state)
{
        struct fx *f = *state;
        struct imago_state_msg m;
        struct fx_user a;
        struct fx_resp r;
        uint64_t owner = 0;
        char *msg = NULL;
        size_t len = 0;

        fx_user_new(f, "alice", &a);
        fx_device(f, DEV_A, "g1", 0);
        assert_int_equal(
            fx_call(f, "POST", "/v1/registration-tokens", a.access, "{\"ttl\":600}", &r), 201);
        assert_int_equal(json_integer_value(json_object_get(r.j, "expires_at")), FX_T0 + 600);
        memset(&m, 0, sizeof(m));
        m.type = IMAGO_STATE_MSG_REGISTER;
        memset(m.nonce, 'a', 32);
        snprintf(m.token, sizeof(m.token), "%s", json_string_value(json_object_get(r.j, "token")));
        fx_resp_free(&r);
        assert_int_equal(imago_state_msg_build(&m, &msg, &len), IMAGO_OK);
        fx_inject(f, "imago/v1/d/" DEV_A "/reg/req", msg);
        free(msg);
        assert_int_equal(imago_appdb_owner(f->tdb, DEV_A, &owner), IMAGO_OK);
        assert_int_equal(owner, a.id);
        assert_true(fx_published(f, "/reg/resp") >= 1);

        assert_int_equal(fx_call(f, "GET", "/v1/devices", a.access, NULL, &r), 200);
        assert_int_equal(json_array_size(json_object_get(r.j, "devices")), 1);
        assert_string_equal(json_string_value(json_object_get(
                                json_array_get(json_object_get(r.j, "devices"), 0), "id")),
                            DEV_A);
        assert_true(json_is_true(
            json_object_get(json_array_get(json_object_get(r.j, "devices"), 0), "owner")));
        fx_resp_free(&r);
        assert_int_equal(fx_audit_count(f, "regtoken.issue"), 1);
        /* an empty body is fine too */
        assert_int_equal(fx_call(f, "POST", "/v1/registration-tokens", a.access, NULL, NULL), 201);
}

static void test_device_and_state(void **state)
{
        struct fx *f = *state;
        struct fx_user a;
        struct fx_resp r;

        fx_user_new(f, "alice", &a);
        fx_device(f, DEV_A, "g1", a.id);
        assert_int_equal(fx_call(f, "GET", "/v1/devices/" DEV_A, a.access, NULL, &r), 200);
        assert_string_equal(json_string_value(json_object_get(r.j, "state")), "enrolled");
        assert_string_equal(json_string_value(json_object_get(r.j, "group")), "g1");
        assert_true(json_is_true(json_object_get(r.j, "owner")));
        assert_true(json_is_integer(json_object_get(r.j, "enrolled_at")));
        fx_resp_free(&r);

        assert_int_equal(fx_call(f, "GET", "/v1/devices/" DEV_A "/state", a.access, NULL, &r), 200);
        assert_int_equal(json_integer_value(json_object_get(r.j, "desired_version")), 0);
        assert_int_equal(json_object_size(json_object_get(r.j, "delta")), 0);
        fx_resp_free(&r);

        assert_int_equal(fx_call(f, "PATCH", "/v1/devices/" DEV_A "/state", a.access,
                                 "{\"desired\":{\"target\":21},\"version\":0}", &r),
                         200);
        assert_int_equal(json_integer_value(json_object_get(r.j, "desired_version")), 1);
        fx_resp_free(&r);
        assert_true(fx_published(f, "/state/delta") >= 1);
        /* stale */
        assert_int_equal(fx_call(f, "PATCH", "/v1/devices/" DEV_A "/state", a.access,
                                 "{\"desired\":{\"target\":22},\"version\":0}", &r),
                         409);
        assert_string_equal(fx_code(&r), "IMAGO_ESTATE_VERSION");
        fx_resp_free(&r);
        /* a device report, then the delta is what differs */
        fx_inject(f, "imago/v1/d/" DEV_A "/state/rep",
                  "{\"v\":1,\"version\":0,\"state\":{\"target\":19,\"temp\":18.5}}");
        assert_int_equal(fx_call(f, "GET", "/v1/devices/" DEV_A "/state", a.access, NULL, &r), 200);
        assert_int_equal(json_integer_value(json_object_get(r.j, "desired_version")), 1);
        assert_int_equal(json_integer_value(json_object_get(r.j, "reported_version")), 1);
        assert_int_equal(
            json_integer_value(json_object_get(json_object_get(r.j, "delta"), "target")), 21);
        assert_null(json_object_get(json_object_get(r.j, "delta"), "temp"));
        fx_resp_free(&r);
        /* a bad document */
        assert_int_equal(fx_call(f, "PATCH", "/v1/devices/" DEV_A "/state", a.access,
                                 "{\"desired\":{\"1x\":1},\"version\":1}", &r),
                         400);
        assert_string_equal(fx_code(&r), "IMAGO_ESTATE_DOC");
        fx_resp_free(&r);
        assert_true(fx_audit_count(f, "device.state.desired") >= 1);
}

static void test_command_answered(void **state)
{
        struct fx *f = *state;
        struct fx_user a;
        struct fx_resp r;
        char path[160];
        json_int_t id;

        fx_user_new(f, "alice", &a);
        fx_device(f, DEV_A, "g1", a.id);
        atomic_store(&f->answer, FX_ANSWER);
        atomic_store(&f->answer_ms, 100);
        assert_int_equal(fx_call(f, "POST", "/v1/devices/" DEV_A "/commands", a.access,
                                 "{\"name\":\"blink\",\"args\":{\"n\":2},\"wait_ms\":5000}", &r),
                         200);
        assert_string_equal(json_string_value(json_object_get(r.j, "status")), "ok");
        assert_string_equal(json_string_value(json_object_get(r.j, "name")), "blink");
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(r.j, "result"), "ran")), "blink");
        assert_int_equal(json_integer_value(json_object_get(r.j, "seq")), 1);
        id = json_integer_value(json_object_get(r.j, "command_id"));
        fx_resp_free(&r);
        snprintf(path, sizeof(path), "/v1/devices/" DEV_A "/commands/%lld", (long long)id);
        assert_int_equal(fx_call(f, "GET", path, a.access, NULL, &r), 200);
        assert_string_equal(json_string_value(json_object_get(r.j, "status")), "ok");
        fx_resp_free(&r);
        /* a handler that fails */
        atomic_store(&f->answer, FX_FAIL);
        assert_int_equal(fx_call(f, "POST", "/v1/devices/" DEV_A "/commands", a.access,
                                 "{\"name\":\"blink\"}", &r),
                         200);
        assert_string_equal(json_string_value(json_object_get(r.j, "status")), "failed");
        assert_int_equal(json_integer_value(json_object_get(r.j, "seq")), 2);
        fx_resp_free(&r);
        /* the wipe command only through decommission */
        assert_int_equal(fx_call(f, "POST", "/v1/devices/" DEV_A "/commands", a.access,
                                 "{\"name\":\"wipe\"}", NULL),
                         400);
}

static void test_command_timeout_202(void **state)
{
        struct fx *f = *state;
        struct fx_user a;
        struct fx_resp r;
        char path[160];
        json_int_t id;

        fx_user_new(f, "alice", &a);
        fx_device(f, DEV_A, "g1", a.id);
        atomic_store(&f->answer, FX_SILENT);
        assert_int_equal(fx_call(f, "POST", "/v1/devices/" DEV_A "/commands", a.access,
                                 "{\"name\":\"blink\",\"wait_ms\":300}", &r),
                         202);
        assert_string_equal(json_string_value(json_object_get(r.j, "status")), "sent");
        id = json_integer_value(json_object_get(r.j, "command_id"));
        assert_true(id > 0);
        fx_resp_free(&r);
        snprintf(path, sizeof(path), "/v1/devices/" DEV_A "/commands/%lld", (long long)id);
        assert_int_equal(fx_call(f, "GET", path, a.access, NULL, &r), 200);
        assert_string_equal(json_string_value(json_object_get(r.j, "status")), "sent");
        fx_resp_free(&r);
        /* wait_ms 0: at once */
        assert_int_equal(fx_call(f, "POST", "/v1/devices/" DEV_A "/commands", a.access,
                                 "{\"name\":\"blink\",\"wait_ms\":0}", NULL),
                         202);
        /* an unknown command id, a malformed one */
        assert_int_equal(
            fx_call(f, "GET", "/v1/devices/" DEV_A "/commands/999", a.access, NULL, NULL), 404);
        assert_int_equal(
            fx_call(f, "GET", "/v1/devices/" DEV_A "/commands/01", a.access, NULL, NULL), 404);
        assert_int_equal(fx_audit_count(f, "device.command"), 2);
}

/* A raw TLS client: one request written, the connection left open. */
struct raw {
        SSL_CTX *ctx;
        SSL *ssl;
        int fd;
};

static void raw_send(struct fx *f, struct raw *c, const char *path, const char *bearer,
                     const char *body)
{
        struct sockaddr_in sa;
        char req[1024];
        int n;

        c->ctx = SSL_CTX_new(TLS_client_method());
        assert_non_null(c->ctx);
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(c->fd >= 0);
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons(f->port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        c->ssl = SSL_new(c->ctx);
        SSL_set_fd(c->ssl, c->fd);
        assert_int_equal(SSL_connect(c->ssl), 1);
        n = snprintf(req, sizeof(req),
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     path, bearer, strlen(body), body);
        assert_int_equal(SSL_write(c->ssl, req, n), n);
        fx_sleep_ms(200); /* the request is in and waiting */
}

static void raw_close(struct raw *c)
{
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
        close(c->fd);
        SSL_CTX_free(c->ctx);
}

/* A client that sends a command request and goes away before the answer. */
static void send_and_close(struct fx *f, const char *bearer)
{
        struct raw c;

        raw_send(f, &c, "/v1/devices/" DEV_A "/commands", bearer,
                 "{\"name\":\"blink\",\"wait_ms\":1500}");
        raw_close(&c);
}

static void test_command_client_gone(void **state)
{
        struct fx *f = *state;
        struct fx_user a;

        fx_user_new(f, "alice", &a);
        fx_device(f, DEV_A, "g1", a.id);
        atomic_store(&f->answer, FX_SILENT);
        send_and_close(f, a.access);
        /* the result arrives after the client left: nobody to answer */
        atomic_store(&f->answer, FX_ANSWER);
        atomic_store(&f->answer_ms, 300);
        send_and_close(f, a.access);
        fx_sleep_ms(2000); /* both waits are over */
        assert_int_equal(fx_call(f, "GET", "/v1/me", a.access, NULL, NULL), 200);
        assert_int_equal(fx_published(f, "/cmd"), 2);
}

static void test_decommission_wiped(void **state)
{
        struct fx *f = *state;
        struct imago_reg_device d;
        struct fx_user a;
        struct fx_resp r;
        uint64_t owner = 1;

        fx_user_new(f, "alice", &a);
        fx_device(f, DEV_A, "g1", a.id);
        atomic_store(&f->answer, FX_ANSWER);
        atomic_store(&f->answer_ms, 50);
        assert_int_equal(
            fx_call(f, "POST", "/v1/devices/" DEV_A "/decommission", a.access, NULL, &r), 200);
        assert_true(json_is_true(json_object_get(r.j, "wiped")));
        fx_resp_free(&r);
        memset(&d, 0, sizeof(d));
        assert_int_equal(imago_registry_get(f->treg, DEV_A, &d), IMAGO_OK);
        assert_int_equal(d.state, IMAGO_REG_REVOKED);
        imago_registry_device_free(&d);
        assert_int_equal(imago_appdb_owner(f->tdb, DEV_A, &owner), IMAGO_OK);
        assert_int_equal(owner, 0);
        assert_int_equal(fx_call(f, "GET", "/v1/devices/" DEV_A, a.access, NULL, NULL), 404);
        assert_int_equal(fx_audit_count(f, "device.decommission"), 1);
}

static void test_decommission_device_silent(void **state)
{
        struct fx *f = *state;
        struct imago_reg_device d;
        struct fx_user a;
        struct fx_resp r;

        fx_user_new(f, "alice", &a);
        fx_device(f, DEV_A, "g1", a.id);
        atomic_store(&f->answer, FX_SILENT);
        assert_int_equal(
            fx_call(f, "POST", "/v1/devices/" DEV_A "/decommission", a.access, "{}", &r), 200);
        assert_true(json_is_false(json_object_get(r.j, "wiped")));
        fx_resp_free(&r);
        memset(&d, 0, sizeof(d));
        assert_int_equal(imago_registry_get(f->treg, DEV_A, &d), IMAGO_OK);
        assert_int_equal(d.state, IMAGO_REG_REVOKED);
        imago_registry_device_free(&d);
}

/* Operators decommission by grant: a security admin of the group may, an operator may not. */
static void test_decommission_by_grant(void **state)
{
        struct fx *f = *state;
        struct fx_user owner, admin, op;
        struct fx_resp r;

        fx_user_new(f, "owner", &owner);
        fx_user_new(f, "admin", &admin);
        fx_user_new(f, "op", &op);
        fx_device(f, DEV_A, "g1", owner.id);
        fx_grant(f, &admin, IMAGO_ROLE_SECURITY_ADMIN, "g1", FX_T0 + 3600);
        fx_grant(f, &op, IMAGO_ROLE_OPERATOR, "g1", FX_T0 + 3600);
        atomic_store(&f->answer, FX_ANSWER);
        assert_int_equal(
            fx_call(f, "POST", "/v1/devices/" DEV_A "/decommission", op.access, NULL, &r), 403);
        assert_string_equal(fx_code(&r), "IMAGO_EAUTH_DENIED");
        fx_resp_free(&r);
        assert_int_equal(fx_published(f, "/cmd"), 0);
        assert_int_equal(fx_call(f, "POST", "/v1/devices/" DEV_A "/decommission", admin.access,
                                 "{\"x\":1}", NULL),
                         400);
        assert_int_equal(
            fx_call(f, "POST", "/v1/devices/" DEV_A "/decommission", admin.access, NULL, &r), 200);
        assert_true(json_is_true(json_object_get(r.j, "wiped")));
        fx_resp_free(&r);
        /* the owner no longer has it; the admin still sees it, revoked */
        assert_int_equal(fx_call(f, "GET", "/v1/devices/" DEV_A, owner.access, NULL, NULL), 404);
        assert_int_equal(fx_call(f, "GET", "/v1/devices/" DEV_A, admin.access, NULL, &r), 200);
        assert_string_equal(json_string_value(json_object_get(r.j, "state")), "revoked");
        fx_resp_free(&r);
}

/* The service stops while a command and a decommission wait: the requests are dropped, the
 * decommission is completed (the device retired). */
static void test_shutdown_while_waiting(void **state)
{
        struct fx *f = *state;
        struct imago_reg_device d;
        struct fx_user a;
        struct raw c1, c2;
        uint64_t owner = 1;

        fx_user_new(f, "alice", &a);
        fx_device(f, DEV_A, "g1", a.id);
        fx_device(f, DEV_B, "g1", a.id);
        atomic_store(&f->answer, FX_SILENT);
        raw_send(f, &c1, "/v1/devices/" DEV_A "/commands", a.access,
                 "{\"name\":\"blink\",\"wait_ms\":20000}");
        raw_send(f, &c2, "/v1/devices/" DEV_B "/decommission", a.access, "{}");
        fx_halt(f);
        memset(&d, 0, sizeof(d));
        assert_int_equal(imago_registry_get(f->treg, DEV_B, &d), IMAGO_OK);
        assert_int_equal(d.state, IMAGO_REG_REVOKED);
        imago_registry_device_free(&d);
        assert_int_equal(imago_appdb_owner(f->tdb, DEV_B, &owner), IMAGO_OK);
        assert_int_equal(owner, 0);
        raw_close(&c1);
        raw_close(&c2);
}

static void test_grants_operator_and_audit(void **state)
{
        struct fx *f = *state;
        struct fx_user admin, op, viewer, owner;
        struct fx_resp r;
        char body[256], path[64];
        json_int_t gid;

        fx_user_new(f, "owner", &owner);
        fx_user_new(f, "admin", &admin);
        fx_user_new(f, "op", &op);
        fx_user_new(f, "viewer", &viewer);
        fx_device(f, DEV_A, "g1", owner.id);
        fx_device(f, DEV_B, "g2", owner.id);
        fx_grant(f, &admin, IMAGO_ROLE_SECURITY_ADMIN, "g1", FX_T0 + 86400);
        fx_grant(f, &viewer, IMAGO_ROLE_VIEWER, "g1", FX_T0 + 86400);

        snprintf(body, sizeof(body),
                 "{\"user\":\"op\",\"role\":\"operator\",\"group\":\"g1\",\"expires\":%lld}",
                 (long long)(FX_T0 + 3600));
        assert_int_equal(fx_call(f, "POST", "/v1/grants", admin.access, body, &r), 201);
        gid = json_integer_value(json_object_get(r.j, "id"));
        fx_resp_free(&r);
        /* the operator sees g1's device only, and commands it */
        assert_int_equal(fx_call(f, "GET", "/v1/devices", op.access, NULL, &r), 200);
        assert_int_equal(json_array_size(json_object_get(r.j, "devices")), 1);
        assert_true(json_is_false(
            json_object_get(json_array_get(json_object_get(r.j, "devices"), 0), "owner")));
        fx_resp_free(&r);
        atomic_store(&f->answer, FX_ANSWER);
        assert_int_equal(fx_call(f, "POST", "/v1/devices/" DEV_A "/commands", op.access,
                                 "{\"name\":\"blink\"}", NULL),
                         200);
        assert_int_equal(fx_call(f, "GET", "/v1/devices/" DEV_B, op.access, NULL, NULL), 404);
        /* a viewer sees but may not command: 403 */
        assert_int_equal(
            fx_call(f, "GET", "/v1/devices/" DEV_A "/state", viewer.access, NULL, NULL), 200);
        assert_int_equal(fx_call(f, "POST", "/v1/devices/" DEV_A "/commands", viewer.access,
                                 "{\"name\":\"blink\"}", &r),
                         403);
        assert_string_equal(fx_code(&r), "IMAGO_EAUTH_DENIED");
        fx_resp_free(&r);
        /* the admin lists grants (g1's only) */
        assert_int_equal(fx_call(f, "GET", "/v1/grants", admin.access, NULL, &r), 200);
        assert_int_equal(json_array_size(json_object_get(r.j, "grants")), 3);
        fx_resp_free(&r);
        assert_int_equal(fx_call(f, "GET", "/v1/me", op.access, NULL, &r), 200);
        assert_int_equal(json_array_size(json_object_get(r.j, "grants")), 1);
        fx_resp_free(&r);
        snprintf(path, sizeof(path), "/v1/grants/%lld", (long long)gid);
        assert_int_equal(fx_call(f, "DELETE", path, admin.access, NULL, NULL), 204);
        assert_int_equal(fx_call(f, "DELETE", path, admin.access, NULL, NULL), 404);
        assert_int_equal(fx_call(f, "GET", "/v1/devices/" DEV_A, op.access, NULL, NULL), 404);

        /* the audit log, for the security admin only */
        assert_int_equal(fx_call(f, "GET", "/v1/audit", op.access, NULL, NULL), 403);
        assert_int_equal(fx_call(f, "GET", "/v1/audit?after=0&limit=1000", admin.access, NULL, &r),
                         200);
        {
                json_t *recs = json_object_get(r.j, "records");
                size_t i, adds = 0, dels = 0;

                assert_true(json_array_size(recs) > 5);
                for (i = 0; i < json_array_size(recs); i++) {
                        const char *a =
                            json_string_value(json_object_get(json_array_get(recs, i), "action"));

                        adds += strcmp(a, "grant.add") == 0;
                        dels += strcmp(a, "grant.delete") == 0;
                        assert_int_equal(
                            json_integer_value(json_object_get(json_array_get(recs, i), "seq")),
                            (json_int_t)i + 1);
                        assert_int_equal(strlen(json_string_value(
                                             json_object_get(json_array_get(recs, i), "hash"))),
                                         64);
                }
                assert_int_equal(adds, 1);
                assert_int_equal(dels, 1);
        }
        fx_resp_free(&r);
        assert_int_equal(fx_call(f, "GET", "/v1/audit?after=2&limit=2", admin.access, NULL, &r),
                         200);
        assert_int_equal(json_array_size(json_object_get(r.j, "records")), 2);
        assert_int_equal(json_integer_value(json_object_get(
                             json_array_get(json_object_get(r.j, "records"), 0), "seq")),
                         3);
        fx_resp_free(&r);
        assert_int_equal(fx_call(f, "GET", "/v1/audit?limit=0", admin.access, NULL, NULL), 400);
        assert_int_equal(fx_call(f, "GET", "/v1/audit?limit=1001", admin.access, NULL, NULL), 400);
        assert_int_equal(fx_call(f, "GET", "/v1/audit?after=-1", admin.access, NULL, NULL), 400);
        assert_int_equal(fx_call(f, "GET", "/v1/audit?x=1", admin.access, NULL, NULL), 400);
        assert_int_equal(fx_call(f, "GET", "/v1/audit?limit=1&limit=2", admin.access, NULL, NULL),
                         400);
        assert_int_equal(imago_audit_verify(f->taudit, 0, NULL, NULL), IMAGO_OK);
}

static void test_routes_and_methods(void **state)
{
        struct fx *f = *state;
        struct fx_user a;
        struct fx_resp r;

        fx_user_new(f, "alice", &a);
        assert_int_equal(fx_call(f, "GET", "/v1/nothing", a.access, NULL, &r), 404);
        assert_string_equal(fx_code(&r), "IMAGO_EAPI_ROUTE");
        fx_resp_free(&r);
        assert_int_equal(fx_call(f, "GET", "/", NULL, NULL, NULL), 404);
        assert_int_equal(fx_call(f, "GET", "/v1//me", a.access, NULL, NULL), 404);
        assert_int_equal(fx_call(f, "GET", "/v1/me/", a.access, NULL, NULL), 404);
        assert_int_equal(fx_call(f, "GET", "/v2/me", a.access, NULL, NULL), 404);
        assert_int_equal(fx_call(f, "DELETE", "/v1/me", a.access, NULL, &r), 405);
        assert_string_equal(fx_code(&r), "IMAGO_EAPI_METHOD");
        fx_resp_free(&r);
        assert_int_equal(fx_call(f, "GET", "/v1/auth/login", NULL, NULL, NULL), 405);
        assert_int_equal(fx_call(f, "GET", "/v1/me?x=1", a.access, NULL, NULL), 400);
        assert_int_equal(fx_call(f, "GET", "/v1/devices/" DEV_C "/x", a.access, NULL, NULL), 404);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_signup_login_me, setup, teardown),
            cmocka_unit_test_setup_teardown(test_signup_off_needs_security_admin, setup_nosignup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_refresh_rotates, setup, teardown),
            cmocka_unit_test_setup_teardown(test_registration_binds_device, setup, teardown),
            cmocka_unit_test_setup_teardown(test_device_and_state, setup, teardown),
            cmocka_unit_test_setup_teardown(test_command_answered, setup, teardown),
            cmocka_unit_test_setup_teardown(test_command_timeout_202, setup, teardown),
            cmocka_unit_test_setup_teardown(test_command_client_gone, setup, teardown),
            cmocka_unit_test_setup_teardown(test_decommission_wiped, setup, teardown),
            cmocka_unit_test_setup_teardown(test_decommission_device_silent, setup, teardown),
            cmocka_unit_test_setup_teardown(test_decommission_by_grant, setup, teardown),
            cmocka_unit_test_setup_teardown(test_shutdown_while_waiting, setup, teardown),
            cmocka_unit_test_setup_teardown(test_grants_operator_and_audit, setup, teardown),
            cmocka_unit_test_setup_teardown(test_routes_and_methods, setup, teardown),
        };

        if (getenv("IMAGO_TEST_FILTER") != NULL) /* e.g. IMAGO_TEST_FILTER='*client_gone*' */
                cmocka_set_test_filter(getenv("IMAGO_TEST_FILTER"));
        return cmocka_run_group_tests(tests, NULL, NULL);
}
