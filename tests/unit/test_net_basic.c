/*
 * imago_net basics: a server with each kind of key, the reply helpers and
 * error format, the bearer and body accessors, the client authenticating
 * the server by CA + name and by pinned fingerprint.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "base/err.h"
#include "net/https.h"
#include "test_net_util.h"

static struct tnet_pki pki;

static void handler(struct evhttp_request *req, const char *peer, void *arg)
{
        const char *path = evhttp_request_get_uri(req);
        char buf[512], *body = NULL;
        size_t len = 0;
        int r;

        (void)arg;
        if (strcmp(path, "/hello") == 0) {
                imago_https_reply_json(req, 200, "{\"hello\":\"world\"}");
        } else if (strcmp(path, "/echo") == 0) {
                r = imago_https_body(req, 64, &body, &len);
                if (r != IMAGO_OK)
                        imago_https_reply_error(req, imago_https_status_of(r), r, NULL, 0);
                else
                        imago_https_reply_json(req, 201, body);
                free(body);
        } else if (strcmp(path, "/bytes") == 0) {
                imago_https_reply_error(req, 400, IMAGO_EMALFORMED, "caf\xc3\xa9 \xff\x01", 0);
        } else if (strcmp(path, "/rate") == 0) {
                imago_https_reply_error(req, 429, IMAGO_EAPI_RATE, "slow \"down\"\n", 3);
        } else if (strcmp(path, "/bearer") == 0) {
                const char *t = imago_https_bearer(req);

                if (t == NULL) {
                        imago_https_reply_error(req, 401, IMAGO_EAPI_AUTH, NULL, 0);
                } else {
                        snprintf(buf, sizeof(buf), "{\"bearer\":\"%s\"}", t);
                        imago_https_reply_json(req, 200, buf);
                }
        } else if (strcmp(path, "/peer") == 0) {
                snprintf(buf, sizeof(buf), "{\"peer\":\"%s\"}", peer);
                imago_https_reply_json(req, 200, buf);
        } else if (strcmp(path, "/empty") == 0) {
                imago_https_reply_json(req, 204, NULL);
        } else {
                imago_https_reply_error(req, 404, IMAGO_EAPI_ROUTE, NULL, 0);
        }
}

struct fixture {
        struct tnet_loop loop;
        SSL_CTX *ctx;
        struct imago_https_server *srv;
        uint16_t port;
};

static void fixture_up(struct fixture *f, SSL_CTX *ctx)
{
        tnet_loop_init(&f->loop);
        f->ctx = ctx;
        assert_int_equal(
            imago_https_server_new(f->loop.base, ctx, "127.0.0.1", 0, NULL, handler, NULL, &f->srv),
            IMAGO_OK);
        f->port = imago_https_server_port(f->srv);
        assert_true(f->port != 0);
        tnet_loop_start(&f->loop);
}

static void fixture_down(struct fixture *f)
{
        tnet_loop_stop(&f->loop);
        imago_https_server_free(f->srv);
        SSL_CTX_free(f->ctx);
        tnet_loop_free(&f->loop);
}

static struct imago_httpc ca_client(uint16_t port)
{
        struct imago_httpc c = {"127.0.0.1", port, pki.ca, NULL, "api.test", 5000};

        return c;
}

static void test_server_and_client_by_ca_and_name(void **state)
{
        struct imago_httpc_resp resp;
        struct fixture f;
        SSL_CTX *ctx = NULL;
        struct imago_httpc c;

        (void)state;
        assert_int_equal(imago_https_server_ctx(pki.chain, pki.key, NULL, NULL, &ctx), IMAGO_OK);
        fixture_up(&f, ctx);
        c = ca_client(f.port);
        assert_int_equal(imago_httpc_request(&c, "GET", "/hello", NULL, NULL, 0, &resp), IMAGO_OK);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.body, "{\"hello\":\"world\"}");
        assert_int_equal(resp.len, strlen(resp.body));
        imago_httpc_resp_free(&resp);

        /* The address itself as the name: the certificate's IP SAN. */
        c.server_name = NULL;
        assert_int_equal(imago_httpc_request(&c, "GET", "/peer", NULL, NULL, 0, &resp), IMAGO_OK);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.body, "{\"peer\":\"127.0.0.1\"}");
        imago_httpc_resp_free(&resp);

        /* Body in, body out. */
        c.server_name = "api.test";
        assert_int_equal(imago_httpc_request(&c, "POST", "/echo", NULL, "{\"a\":1}", 7, &resp),
                         IMAGO_OK);
        assert_int_equal(resp.status, 201);
        assert_string_equal(resp.body, "{\"a\":1}");
        imago_httpc_resp_free(&resp);

        /* imago_https_body's own limit and its NUL check. */
        assert_int_equal(imago_httpc_request(&c, "POST", "/echo", NULL,
                                             "0123456789012345678901234567890123456789"
                                             "0123456789012345678901234567890123456789",
                                             80, &resp),
                         IMAGO_OK);
        assert_int_equal(resp.status, 413);
        assert_non_null(strstr(resp.body, "\"IMAGO_ETOOBIG\""));
        imago_httpc_resp_free(&resp);
        assert_int_equal(imago_httpc_request(&c, "POST", "/echo", NULL, "{\"a\0\":1}", 8, &resp),
                         IMAGO_OK);
        assert_int_equal(resp.status, 400);
        assert_non_null(strstr(resp.body, "\"IMAGO_EMALFORMED\""));
        imago_httpc_resp_free(&resp);

        /* No body: 204. */
        assert_int_equal(imago_httpc_request(&c, "DELETE", "/empty", NULL, NULL, 0, &resp),
                         IMAGO_OK);
        assert_int_equal(resp.status, 204);
        assert_string_equal(resp.body, "");
        imago_httpc_resp_free(&resp);
        fixture_down(&f);
}

static void test_error_format_and_headers(void **state)
{
        struct imago_httpc_resp resp;
        struct tnet_raw raw;
        struct fixture f;
        SSL_CTX *ctx = NULL;
        struct imago_httpc c;
        char buf[4096];
        const char *req = "GET /rate HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

        (void)state;
        assert_int_equal(imago_https_server_ctx(pki.chain, pki.enckey, "pw-test", NULL, &ctx),
                         IMAGO_OK);
        fixture_up(&f, ctx);
        c = ca_client(f.port);
        assert_int_equal(imago_httpc_request(&c, "GET", "/rate", NULL, NULL, 0, &resp), IMAGO_OK);
        assert_int_equal(resp.status, 429);
        assert_string_equal(resp.body, "{\"error\":{\"code\":\"IMAGO_EAPI_RATE\","
                                       "\"message\":\"slow \\\"down\\\"\\u000a\"}}");
        imago_httpc_resp_free(&resp);
        assert_int_equal(imago_httpc_request(&c, "GET", "/nowhere", NULL, NULL, 0, &resp),
                         IMAGO_OK);
        assert_int_equal(resp.status, 404);
        assert_string_equal(resp.body, "{\"error\":{\"code\":\"IMAGO_EAPI_ROUTE\","
                                       "\"message\":\"api: no such endpoint\"}}");
        imago_httpc_resp_free(&resp);

        /* Bytes that are not ASCII never make the answer invalid JSON. */
        assert_int_equal(imago_httpc_request(&c, "GET", "/bytes", NULL, NULL, 0, &resp), IMAGO_OK);
        assert_int_equal(resp.status, 400);
        assert_string_equal(resp.body, "{\"error\":{\"code\":\"IMAGO_EMALFORMED\","
                                       "\"message\":\"caf?? ?\\u0001\"}}");
        imago_httpc_resp_free(&resp);

        /* The headers every reply carries. */
        assert_int_equal(tnet_raw_open(&raw, f.port), 0);
        assert_int_equal(tnet_raw_send(&raw, req, strlen(req)), 0);
        assert_true(tnet_raw_read(&raw, buf, sizeof(buf), 3000) > 0);
        assert_non_null(strstr(buf, "HTTP/1.1 429 Too Many Requests\r\n"));
        assert_non_null(strstr(buf, "\r\nContent-Type: application/json\r\n"));
        assert_non_null(strstr(buf, "\r\nCache-Control: no-store\r\n"));
        assert_non_null(strstr(buf, "\r\nX-Content-Type-Options: nosniff\r\n"));
        assert_non_null(strstr(buf, "\r\nRetry-After: 3\r\n"));
        tnet_raw_close(&raw);
        fixture_down(&f);
}

static void test_bearer(void **state)
{
        struct imago_httpc_resp resp;
        struct fixture f;
        SSL_CTX *ctx = NULL;
        struct imago_httpc c;

        (void)state;
        assert_int_equal(imago_https_server_ctx(pki.chain, pki.key, NULL, NULL, &ctx), IMAGO_OK);
        fixture_up(&f, ctx);
        c = ca_client(f.port);
        assert_int_equal(imago_httpc_request(&c, "GET", "/bearer", "tok.en-1", NULL, 0, &resp),
                         IMAGO_OK);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.body, "{\"bearer\":\"tok.en-1\"}");
        imago_httpc_resp_free(&resp);
        assert_int_equal(imago_httpc_request(&c, "GET", "/bearer", NULL, NULL, 0, &resp), IMAGO_OK);
        assert_int_equal(resp.status, 401);
        imago_httpc_resp_free(&resp);
        /* The client refuses to put a header break in a token. */
        assert_int_equal(imago_httpc_request(&c, "GET", "/bearer", "a\r\nX: y", NULL, 0, &resp),
                         IMAGO_EINVAL);
        assert_int_equal(imago_httpc_request(&c, "GET", "/bearer", "a b", NULL, 0, &resp),
                         IMAGO_EINVAL);
        fixture_down(&f);
}

static void test_pinned_birth_certificate(void **state)
{
        struct imago_httpc_resp resp;
        struct fixture f;
        SSL_CTX *ctx = NULL;
        EVP_PKEY *k = NULL;
        BIO *bio;
        char fp[65];
        struct imago_httpc c = {"127.0.0.1", 0, NULL, NULL, NULL, 5000};

        (void)state;
        /* The key as an EVP_PKEY (as from a PKCS#11 token). */
        assert_non_null(bio = BIO_new_file(pki.self_key, "r"));
        assert_non_null(k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL));
        BIO_free(bio);
        assert_int_equal(imago_https_server_ctx(pki.self, NULL, NULL, k, &ctx), IMAGO_OK);
        EVP_PKEY_free(k); /* the context holds its own reference */
        fixture_up(&f, ctx);
        assert_int_equal(imago_https_cert_fingerprint(pki.self, fp), IMAGO_OK);
        assert_int_equal(strlen(fp), 64);
        c.port = f.port;
        c.pin_sha256 = fp;
        assert_int_equal(imago_httpc_request(&c, "GET", "/hello", NULL, NULL, 0, &resp), IMAGO_OK);
        assert_int_equal(resp.status, 200);
        imago_httpc_resp_free(&resp);
        fixture_down(&f);
}

static void test_keepalive_requests_do_not_wait_for_delayed_acks(void **state)
{
        const char *req = "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n";
        struct tnet_raw raw;
        struct fixture f;
        SSL_CTX *ctx = NULL;
        char out[1024] = "";
        uint64_t t0;
        int i;

        (void)state;
        assert_int_equal(imago_https_server_ctx(pki.chain, pki.key, NULL, NULL, &ctx), IMAGO_OK);
        fixture_up(&f, ctx);
        assert_int_equal(tnet_raw_open(&raw, f.port), 0);
        t0 = tnet_now_ms();
        /* 30 requests on one connection: with Nagle on the server's socket each
         * answer's last record waits ~40 ms for the client's delayed ACK. */
        for (i = 0; i < 30; i++) {
                size_t len = 0;
                int n;

                assert_int_equal(tnet_raw_send(&raw, req, strlen(req)), 0);
                while (strstr(out, "{\"hello\":\"world\"}") == NULL || len == 0) {
                        n = SSL_read(raw.ssl, out + len, (int)(sizeof(out) - 1 - len));
                        assert_true(n > 0);
                        len += (size_t)n;
                        out[len] = '\0';
                }
                out[0] = '\0';
        }
        assert_true(tnet_now_ms() - t0 < 900); /* at least 1200 ms with Nagle */
        tnet_raw_close(&raw);
        fixture_down(&f);
}

static void test_status_of(void **state)
{
        (void)state;
        assert_int_equal(imago_https_status_of(IMAGO_EMALFORMED), 400);
        assert_int_equal(imago_https_status_of(IMAGO_EAPI_AUTH), 401);
        assert_int_equal(imago_https_status_of(IMAGO_EAUTH_TOKEN_EXPIRED), 401);
        assert_int_equal(imago_https_status_of(IMAGO_EAUTH_DENIED), 403);
        assert_int_equal(imago_https_status_of(IMAGO_ESETUP_CODE), 403);
        assert_int_equal(imago_https_status_of(IMAGO_ENOTFOUND), 404);
        assert_int_equal(imago_https_status_of(IMAGO_EAPI_METHOD), 405);
        assert_int_equal(imago_https_status_of(IMAGO_ESTATE_VERSION), 409);
        assert_int_equal(imago_https_status_of(IMAGO_ETOOBIG), 413);
        assert_int_equal(imago_https_status_of(IMAGO_ESETUP_LOCKED), 423);
        assert_int_equal(imago_https_status_of(IMAGO_EAPI_RATE), 429);
        assert_int_equal(imago_https_status_of(IMAGO_EAUTH_THROTTLED), 429);
        assert_int_equal(imago_https_status_of(IMAGO_EIO), 500);
        assert_int_equal(imago_https_status_of(IMAGO_EAPI_TIMEOUT), 504);
}

static void test_ctx_arguments(void **state)
{
        SSL_CTX *ctx = NULL;
        EVP_PKEY *k = tnet_key();

        (void)state;
        /* Exactly one of key_path and key. */
        assert_int_equal(imago_https_server_ctx(pki.chain, pki.key, NULL, k, &ctx), IMAGO_EINVAL);
        assert_int_equal(imago_https_server_ctx(pki.chain, NULL, NULL, NULL, &ctx), IMAGO_EINVAL);
        /* Wrong passphrase, key of another certificate. */
        assert_int_equal(imago_https_server_ctx(pki.chain, pki.enckey, "nope", NULL, &ctx),
                         IMAGO_ECRYPTO);
        assert_int_equal(imago_https_server_ctx(pki.chain, NULL, NULL, k, &ctx), IMAGO_ECRYPTO);
        assert_null(ctx);
        EVP_PKEY_free(k);
        /* TLS 1.2 at least. */
        assert_int_equal(imago_https_server_ctx(pki.chain, pki.key, NULL, NULL, &ctx), IMAGO_OK);
        assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
        SSL_CTX_free(ctx);
}

static int setup(void **state)
{
        (void)state;
        tnet_pki_make(&pki);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        tnet_pki_clean(&pki);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_server_and_client_by_ca_and_name),
            cmocka_unit_test(test_error_format_and_headers),
            cmocka_unit_test(test_bearer),
            cmocka_unit_test(test_pinned_birth_certificate),
            cmocka_unit_test(test_keepalive_requests_do_not_wait_for_delayed_acks),
            cmocka_unit_test(test_status_of),
            cmocka_unit_test(test_ctx_arguments),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
