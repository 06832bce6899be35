/*
 * imago_api's rollouts and device tags end to end (tests/unit/test_api_util.h: a
 * real HTTPS server, app.db, audit log, registry; plus here a real rollout
 * database and an image repository whose metadata is written by the test).
 * The rollout ops are the test's: they count assignments, clears and audit
 * records.  Who may create, see, pause, resume and cancel a rollout (release
 * manager of the group; operator, viewer and other groups not), tag-only
 * rollouts (release manager in the group of every tagged device), unknown
 * targets, strict bodies, the tags endpoints, and 503 without rollouts.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cloud/rollout/rollout.h"

struct fx;
struct imago_api_config;
static void ro_config(struct fx *f, struct imago_api_config *ac);
#define FX_API_CONFIG(f, ac) ro_config(f, ac)

#include "test_api_util.h"
#include "test_tuf_repo.h"

#define DEV_A  "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
#define DEV_B  "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
#define DEV_C  "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
#define DEV_D  "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
#define DEV_E  "e0e1e2e3e4e5e6e7e8e9eaebecedeeef"
#define TARGET "fw-2.0.bin"
#define EXP    (FX_T0 + 86400)

static int ro_enabled = 1;
static struct imago_rollout *ro_db;
static atomic_int ro_assigns, ro_clears, ro_audits_create;
static char ro_dir[128];

static int op_assign(void *arg, const char *device, uint64_t rollout, const char *target)
{
        (void)arg;
        (void)device;
        (void)rollout;
        assert_string_equal(target, TARGET);
        atomic_fetch_add(&ro_assigns, 1);
        return IMAGO_OK;
}

static int op_clear(void *arg, const char *device, uint64_t rollout)
{
        (void)arg;
        (void)device;
        (void)rollout;
        atomic_fetch_add(&ro_clears, 1);
        return IMAGO_OK;
}

static void op_audit(void *arg, const char *action, uint64_t rollout, uint64_t actor,
                     const char *detail)
{
        (void)arg;
        (void)rollout;
        (void)detail;
        assert_true(actor != 0);
        if (strcmp(action, "rollout.create") == 0)
                atomic_fetch_add(&ro_audits_create, 1);
}

static const struct imago_rollout_ops ro_ops = {op_assign, op_clear, op_audit, NULL};

static void write_file(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
        char p[256];
        FILE *fp;

        snprintf(p, sizeof(p), "%s/%s", dir, name);
        fp = fopen(p, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(buf, 1, len, fp), len);
        fclose(fp);
}

/* DIR/repo/metadata: timestamp -> 1.snapshot -> 1.targets listing TARGET (with the custom
 * fields) and fw-nocustom.bin (without). */
static void make_repo(const char *dir)
{
        struct imago_privkey k;
        json_t *tg, *t, *s, *ts, *meta;
        uint8_t *tb, *sb, *tsb;
        size_t tl, sl, tsl;
        char p[256];

        snprintf(p, sizeof(p), "%s/repo", dir);
        assert_int_equal(mkdir(p, 0700), 0);
        snprintf(p, sizeof(p), "%s/repo/metadata", dir);
        assert_int_equal(mkdir(p, 0700), 0);
        assert_int_equal(imago_privkey_generate(IMAGO_KEY_ED25519, &k), IMAGO_OK);
        tg = json_object();
        t = tr_target("image two");
        json_object_set_new(t, "custom",
                            json_pack("{s:s,s:s,s:i}", "hardware_id", "thermo-v2", "version",
                                      "2.0.0", "security_counter", 2));
        json_object_set_new(tg, TARGET, t);
        json_object_set_new(tg, "fw-nocustom.bin", tr_target("other"));
        t = tr_targets_signed(1, TR_FUTURE, tg, NULL);
        tb = tr_doc1(t, &k, &tl);
        meta = json_pack("{s:o}", "targets.json", tr_metafile(1, NULL, 0));
        s = tr_snapshot_signed(1, TR_FUTURE, meta);
        sb = tr_doc1(s, &k, &sl);
        ts = tr_timestamp_signed(1, TR_FUTURE, 1, sb, sl);
        tsb = tr_doc1(ts, &k, &tsl);
        write_file(p, "1.targets.json", tb, tl);
        write_file(p, "1.snapshot.json", sb, sl);
        write_file(p, "timestamp.json", tsb, tsl);
        free(tb);
        free(sb);
        free(tsb);
        json_decref(t);
        json_decref(s);
        json_decref(ts);
        imago_privkey_free(&k);
}

static void ro_config(struct fx *f, struct imago_api_config *ac)
{
        char p[256];

        atomic_store(&ro_assigns, 0);
        atomic_store(&ro_clears, 0);
        atomic_store(&ro_audits_create, 0);
        snprintf(ro_dir, sizeof(ro_dir), "%s", f->dir);
        if (!ro_enabled)
                return;
        make_repo(f->dir);
        snprintf(p, sizeof(p), "%s/rollout.db", f->dir);
        assert_int_equal(imago_rollout_open(p, &ro_db), IMAGO_OK);
        ac->rollout = ro_db;
        ac->rollout_ops = &ro_ops;
        ac->data_dir = ro_dir;
}

static int setup(void **state)
{
        ro_enabled = 1;
        *state = fx_start(1);
        return 0;
}

static int setup_off(void **state)
{
        ro_enabled = 0;
        *state = fx_start(1);
        return 0;
}

static int teardown(void **state)
{
        static const char *const files[] = {"repo/metadata/1.targets.json",
                                            "repo/metadata/1.snapshot.json",
                                            "repo/metadata/timestamp.json",
                                            "repo/metadata",
                                            "repo",
                                            "rollout.db",
                                            "rollout.db-wal",
                                            "rollout.db-shm",
                                            "rollout.db-journal"};
        struct fx *f = *state;
        char p[256];
        size_t i;

        fx_halt(f);
        imago_rollout_close(ro_db);
        ro_db = NULL;
        for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                snprintf(p, sizeof(p), "%s/%s", f->dir, files[i]);
                if (unlink(p) != 0)
                        rmdir(p);
        }
        fx_stop(f);
        return 0;
}

/* POST body to path as u; the status (the answer kept in r when not NULL). */
static int post(struct fx *f, const struct fx_user *u, const char *path, const char *body,
                struct fx_resp *r)
{
        return fx_call(f, "POST", path, u != NULL ? u->access : NULL, body != NULL ? body : "", r);
}

static uint64_t create_ok(struct fx *f, const struct fx_user *u, const char *body, json_int_t total)
{
        struct fx_resp r;
        uint64_t id;

        assert_int_equal(post(f, u, "/v1/rollouts", body, &r), 201);
        id = (uint64_t)json_integer_value(json_object_get(r.j, "id"));
        assert_true(id > 0);
        assert_string_equal(json_string_value(json_object_get(r.j, "status")), "running");
        assert_string_equal(json_string_value(json_object_get(r.j, "target")), TARGET);
        assert_int_equal(json_integer_value(json_object_get(r.j, "total")), total);
        assert_int_equal(json_integer_value(json_object_get(r.j, "created_by")), (json_int_t)u->id);
        assert_true(json_is_object(json_object_get(r.j, "counts")));
        fx_resp_free(&r);
        return id;
}

static void expect_code(struct fx *f, const char *method, const char *path, const struct fx_user *u,
                        const char *body, int status, const char *code)
{
        struct fx_resp r;

        assert_int_equal(fx_call(f, method, path, u != NULL ? u->access : NULL, body, &r), status);
        if (code != NULL && strcmp(fx_code(&r), code) != 0)
                fail_msg("%s %s: %s, want %s", method, path, fx_code(&r), code);
        fx_resp_free(&r);
}

/* Number of rollouts GET /v1/rollouts shows u. */
static size_t listed(struct fx *f, const struct fx_user *u)
{
        struct fx_resp r;
        size_t n;

        assert_int_equal(fx_call(f, "GET", "/v1/rollouts", u->access, NULL, &r), 200);
        assert_true(json_is_array(json_object_get(r.j, "rollouts")));
        n = json_array_size(json_object_get(r.j, "rollouts"));
        fx_resp_free(&r);
        return n;
}

static void test_roles(void **state)
{
        static const char body[] =
            "{\"name\":\"spring\",\"target\":\"" TARGET "\",\"group\":\"g1\","
            "\"stages\":[50,100],\"max_concurrent\":1}";
        struct fx *f = *state;
        struct fx_user rm, op, vw, rm2;
        struct fx_resp r;
        char path[96], act[128];
        uint64_t id;
        json_t *devs, *st;

        fx_user_new(f, "rm", &rm);
        fx_user_new(f, "op", &op);
        fx_user_new(f, "vw", &vw);
        fx_user_new(f, "rm2", &rm2);
        fx_grant(f, &rm, IMAGO_ROLE_RELEASE_MANAGER, "g1", EXP);
        fx_grant(f, &op, IMAGO_ROLE_OPERATOR, "g1", EXP);
        fx_grant(f, &vw, IMAGO_ROLE_VIEWER, "g1", EXP);
        fx_grant(f, &rm2, IMAGO_ROLE_RELEASE_MANAGER, "g2", EXP);
        fx_device(f, DEV_A, "g1", 0);
        fx_device(f, DEV_B, "g1", op.id);
        fx_device(f, DEV_C, "g1", 0);
        fx_device(f, DEV_D, "g2", 0);

        /* neither operator (even owning a device), viewer nor another group's release manager */
        expect_code(f, "POST", "/v1/rollouts", &op, body, 403, "IMAGO_EAUTH_DENIED");
        expect_code(f, "POST", "/v1/rollouts", &vw, body, 403, "IMAGO_EAUTH_DENIED");
        expect_code(f, "POST", "/v1/rollouts", &rm2, body, 403, "IMAGO_EAUTH_DENIED");
        expect_code(f, "POST", "/v1/rollouts", NULL, body, 401, "IMAGO_EAPI_AUTH");
        assert_int_equal(atomic_load(&ro_assigns), 0);

        id = create_ok(f, &rm, body, 3);
        /* stage 1: 50 % of 3 devices, one at a time: one admitted */
        assert_int_equal(atomic_load(&ro_assigns), 1);
        assert_int_equal(atomic_load(&ro_audits_create), 1);
        assert_int_equal(fx_audit_count(f, "rollout.create"), 0); /* the ops audit, not the API */

        /* who sees it */
        assert_int_equal(listed(f, &vw), 1);
        assert_int_equal(listed(f, &op), 1);
        assert_int_equal(listed(f, &rm2), 0);
        snprintf(path, sizeof(path), "/v1/rollouts/%llu", (unsigned long long)id);
        assert_int_equal(fx_call(f, "GET", path, vw.access, NULL, &r), 200);
        assert_string_equal(json_string_value(json_object_get(r.j, "name")), "spring");
        assert_string_equal(json_string_value(json_object_get(r.j, "group")), "g1");
        st = json_object_get(r.j, "stages");
        assert_int_equal(json_array_size(st), 2);
        assert_int_equal(json_integer_value(json_array_get(st, 0)), 50);
        assert_int_equal(json_integer_value(json_object_get(r.j, "max_concurrent")), 1);
        assert_int_equal(json_integer_value(json_object_get(r.j, "abort_percent")), 20);
        assert_int_equal(json_integer_value(json_object_get(r.j, "device_timeout_s")), 3600);
        assert_int_equal(json_integer_value(json_object_get(r.j, "admitted")), 1);
        assert_int_equal(
            json_integer_value(json_object_get(json_object_get(r.j, "counts"), "queued")), 3);
        devs = json_object_get(r.j, "devices");
        assert_int_equal(json_array_size(devs), 3);
        assert_string_equal(json_string_value(json_object_get(json_array_get(devs, 0), "state")),
                            "queued");
        assert_true(json_is_false(json_object_get(r.j, "devices_truncated")));
        fx_resp_free(&r);
        expect_code(f, "GET", path, &rm2, NULL, 404, "IMAGO_ENOTFOUND");

        /* pause, resume, cancel: the release manager only */
        snprintf(act, sizeof(act), "%s/pause", path);
        expect_code(f, "POST", act, &op, NULL, 403, "IMAGO_EAUTH_DENIED");
        expect_code(f, "POST", act, &vw, NULL, 403, "IMAGO_EAUTH_DENIED");
        expect_code(f, "POST", act, &rm2, NULL, 404, "IMAGO_ENOTFOUND");
        assert_int_equal(post(f, &rm, act, NULL, &r), 200);
        assert_string_equal(json_string_value(json_object_get(r.j, "status")), "paused");
        fx_resp_free(&r);
        expect_code(f, "POST", act, &rm, NULL, 409, "IMAGO_EROLLOUT_STATE");
        snprintf(act, sizeof(act), "%s/resume", path);
        expect_code(f, "POST", act, &op, NULL, 403, "IMAGO_EAUTH_DENIED");
        assert_int_equal(post(f, &rm, act, NULL, &r), 200);
        assert_string_equal(json_string_value(json_object_get(r.j, "status")), "running");
        fx_resp_free(&r);
        expect_code(f, "POST", act, &rm, NULL, 409, "IMAGO_EROLLOUT_STATE");

        /* a second rollout over the same devices while this one runs */
        expect_code(f, "POST", "/v1/rollouts", &rm, body, 409, "IMAGO_EEXIST");

        snprintf(act, sizeof(act), "%s/cancel", path);
        expect_code(f, "POST", act, &vw, NULL, 403, "IMAGO_EAUTH_DENIED");
        assert_int_equal(post(f, &rm, act, NULL, &r), 200);
        assert_string_equal(json_string_value(json_object_get(r.j, "status")), "cancelled");
        fx_resp_free(&r);
        assert_int_equal(atomic_load(&ro_clears), 1); /* the admitted device */
        expect_code(f, "POST", act, &rm, NULL, 409, "IMAGO_EROLLOUT_STATE");
        snprintf(act, sizeof(act), "%s/resume", path);
        expect_code(f, "POST", act, &rm, NULL, 409, "IMAGO_EROLLOUT_STATE");
        /* cancelled: the devices are free for another rollout */
        create_ok(f, &rm, body, 3);
        assert_int_equal(listed(f, &vw), 2);
}

static void test_refusals(void **state)
{
        static const char *const bad[] = {
            "{\"target\":\"" TARGET "\"}",                                  /* no group, no tag */
            "{\"target\":\"" TARGET "\",\"group\":\"g1\",\"devices\":[]}",  /* unknown member */
            "{\"target\":\"" TARGET "\",\"group\":\"g1\",\"stages\":[50]}", /* not up to 100 */
            "{\"target\":\"" TARGET "\",\"group\":\"g1\",\"max_concurrent\":0}",
            "{\"target\":\"../x\",\"group\":\"g1\"}",
            "{\"target\":\"" TARGET "\",\"group\":\"g 1\"}",
            "{\"target\":\"" TARGET "\",\"group\":\"g1\",\"group\":\"g2\"}",
            "[]",
            "",
        };
        struct fx *f = *state;
        struct fx_user rm;
        struct fx_resp r;
        size_t i;

        fx_user_new(f, "rm", &rm);
        fx_grant(f, &rm, IMAGO_ROLE_RELEASE_MANAGER, "g1", EXP);
        fx_grant(f, &rm, IMAGO_ROLE_RELEASE_MANAGER, "empty", EXP);
        fx_device(f, DEV_A, "g1", 0);
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(post(f, &rm, "/v1/rollouts", bad[i], &r), 400);
                fx_resp_free(&r);
        }
        /* a target the image repository does not publish */
        assert_int_equal(
            post(f, &rm, "/v1/rollouts", "{\"target\":\"fw-9.bin\",\"group\":\"g1\"}", &r), 404);
        assert_string_equal(fx_code(&r), "IMAGO_ENOTFOUND");
        assert_non_null(strstr(r.body, "not published"));
        fx_resp_free(&r);
        /* published without hardware_id/version/security_counter */
        expect_code(f, "POST", "/v1/rollouts", &rm,
                    "{\"target\":\"fw-nocustom.bin\",\"group\":\"g1\"}", 400, "IMAGO_EINVAL");
        /* no enrolled device in the group */
        expect_code(f, "POST", "/v1/rollouts", &rm,
                    "{\"target\":\"" TARGET "\",\"group\":\"empty\"}", 409, "IMAGO_ESTATE");
        /* a tag nobody carries */
        expect_code(f, "POST", "/v1/rollouts", &rm,
                    "{\"target\":\"" TARGET "\",\"group\":\"g1\",\"tag\":\"nobody\"}", 409,
                    "IMAGO_ESTATE");
        assert_int_equal(atomic_load(&ro_assigns), 0);
        /* ids, routes, methods */
        expect_code(f, "GET", "/v1/rollouts/abc", &rm, NULL, 404, "IMAGO_ENOTFOUND");
        expect_code(f, "GET", "/v1/rollouts/0", &rm, NULL, 404, "IMAGO_ENOTFOUND");
        expect_code(f, "GET", "/v1/rollouts/99", &rm, NULL, 404, "IMAGO_ENOTFOUND");
        expect_code(f, "POST", "/v1/rollouts/99/pause", &rm, NULL, 404, "IMAGO_ENOTFOUND");
        expect_code(f, "POST", "/v1/rollouts/1/restart", &rm, NULL, 404, "IMAGO_EAPI_ROUTE");
        expect_code(f, "DELETE", "/v1/rollouts", &rm, NULL, 405, "IMAGO_EAPI_METHOD");
        expect_code(f, "GET", "/v1/rollouts/1/pause", &rm, NULL, 405, "IMAGO_EAPI_METHOD");
        expect_code(f, "GET", "/v1/rollouts?all=1", &rm, NULL, 400, "IMAGO_EINVAL");
        assert_int_equal(listed(f, &rm), 0);
}

static void test_tags_and_tag_only(void **state)
{
        static const char tag_only[] = "{\"target\":\"" TARGET "\",\"tag\":\"canary\"}";
        struct fx *f = *state;
        struct fx_user rm, op, vw, own, nob;
        struct fx_resp r;
        char p[96];

        fx_user_new(f, "rm", &rm);
        fx_user_new(f, "op", &op);
        fx_user_new(f, "vw", &vw);
        fx_user_new(f, "own", &own);
        fx_user_new(f, "nob", &nob);
        fx_grant(f, &rm, IMAGO_ROLE_RELEASE_MANAGER, "g1", EXP);
        fx_grant(f, &op, IMAGO_ROLE_OPERATOR, "g1", EXP);
        fx_grant(f, &vw, IMAGO_ROLE_VIEWER, "g1", EXP);
        fx_device(f, DEV_A, "g1", 0);
        fx_device(f, DEV_B, "g1", 0);
        fx_device(f, DEV_D, "g2", own.id);
        fx_device(f, DEV_E, "g2", 0);

        /* tags: operator of the group or the owner; viewers read */
        expect_code(f, "PUT", "/v1/devices/" DEV_A "/tags", &vw, "{\"tags\":[\"canary\"]}", 403,
                    "IMAGO_EAUTH_DENIED");
        expect_code(f, "PUT", "/v1/devices/" DEV_A "/tags", &rm, "{\"tags\":[\"canary\"]}", 403,
                    "IMAGO_EAUTH_DENIED");
        expect_code(f, "PUT", "/v1/devices/" DEV_D "/tags", &op, "{\"tags\":[\"canary\"]}", 404,
                    "IMAGO_ENOTFOUND");
        expect_code(f, "PUT", "/v1/devices/" DEV_A "/tags", &op, "{\"tags\":[\"a\",\"a\"]}", 400,
                    "IMAGO_EINVAL");
        expect_code(f, "PUT", "/v1/devices/" DEV_A "/tags", &op, "{\"tags\":[\"a b\"]}", 400,
                    "IMAGO_EINVAL");
        expect_code(f, "PUT", "/v1/devices/" DEV_A "/tags", &op, "{\"tags\":[],\"x\":1}", 400,
                    "IMAGO_EINVAL");
        assert_int_equal(fx_call(f, "PUT", "/v1/devices/" DEV_A "/tags", op.access,
                                 "{\"tags\":[\"canary\",\"line-2\"]}", &r),
                         200);
        assert_int_equal(json_array_size(json_object_get(r.j, "tags")), 2);
        fx_resp_free(&r);
        expect_code(f, "PUT", "/v1/devices/" DEV_D "/tags", &own, "{\"tags\":[\"canary\"]}", 200,
                    NULL);
        assert_int_equal(fx_audit_count(f, "device.tags"), 2);
        assert_int_equal(fx_call(f, "GET", "/v1/devices/" DEV_A "/tags", vw.access, NULL, &r), 200);
        assert_string_equal(json_string_value(json_object_get(r.j, "device")), DEV_A);
        assert_int_equal(json_array_size(json_object_get(r.j, "tags")), 2);
        fx_resp_free(&r);
        expect_code(f, "GET", "/v1/devices/" DEV_A "/tags", &nob, NULL, 404, "IMAGO_ENOTFOUND");
        expect_code(f, "GET", "/v1/devices/00000000000000000000000000000000/tags", &op, NULL, 404,
                    "IMAGO_ENOTFOUND");
        expect_code(f, "DELETE", "/v1/devices/" DEV_A "/tags", &op, NULL, 405, "IMAGO_EAPI_METHOD");

        /* tag-only: the release manager of g1 is not one of g2, where DEV_D is */
        assert_int_equal(post(f, &rm, "/v1/rollouts", tag_only, &r), 403);
        assert_string_equal(fx_code(&r), "IMAGO_EAUTH_DENIED");
        assert_non_null(strstr(r.body, "'g2'"));
        fx_resp_free(&r);
        /* group and tag: only g1's tagged device */
        {
                uint64_t id = create_ok(f, &rm,
                                        "{\"target\":\"" TARGET "\",\"group\":\"g1\",\"tag\":"
                                        "\"canary\"}",
                                        1);
                char act[96];

                snprintf(act, sizeof(act), "/v1/rollouts/%llu/cancel", (unsigned long long)id);
                expect_code(f, "POST", act, &rm, NULL, 200, NULL);
        }
        fx_grant(f, &rm, IMAGO_ROLE_RELEASE_MANAGER, "g2", EXP);
        {
                uint64_t id = create_ok(f, &rm, tag_only, 2);

                snprintf(p, sizeof(p), "/v1/rollouts/%llu", (unsigned long long)id);
        }
        /* seen by whoever may view one of its devices; changed by a release manager of all */
        assert_int_equal(listed(f, &vw), 2);
        assert_int_equal(listed(f, &nob), 0);
        expect_code(f, "GET", p, &vw, NULL, 200, NULL);
        expect_code(f, "GET", p, &nob, NULL, 404, "IMAGO_ENOTFOUND");
        {
                char act[128];

                snprintf(act, sizeof(act), "%s/pause", p);
                assert_int_equal(post(f, &op, act, NULL, &r), 403);
                assert_non_null(strstr(r.body, "release_manager"));
                fx_resp_free(&r);
                expect_code(f, "POST", act, &rm, NULL, 200, NULL);
        }
}

static void test_disabled(void **state)
{
        struct fx *f = *state;
        struct fx_user u;

        fx_user_new(f, "u", &u);
        fx_device(f, DEV_A, "g1", u.id);
        expect_code(f, "GET", "/v1/rollouts", &u, NULL, 503, "IMAGO_ESTATE");
        expect_code(f, "POST", "/v1/rollouts", &u, "{\"target\":\"a\",\"group\":\"g1\"}", 503,
                    "IMAGO_ESTATE");
        expect_code(f, "GET", "/v1/devices/" DEV_A "/tags", &u, NULL, 503, "IMAGO_ESTATE");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
            cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
            cmocka_unit_test_setup_teardown(test_tags_and_tag_only, setup, teardown),
            cmocka_unit_test_setup_teardown(test_disabled, setup_off, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
