/*
 * imago_httpc, one test per attack: a server with the wrong pinned
 * certificate, a certificate from another CA, for another name, a response
 * over the size limit, malformed responses (vectors under
 * tests/vectors/net/response, and the same bytes from a real TLS peer), a
 * server that stalls.
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

#include "base/err.h"
#include "net/https.h"
#include "net/httpc_parse.h"
#include "test_net_util.h"
#include "test_vectors.h"

static struct tnet_pki pki;

/* ---- a real imago server ---- */

static void handler(struct evhttp_request *req, const char *peer, void *arg)
{
        const char *path = evhttp_request_get_uri(req);

        (void)peer;
        (void)arg;
        if (strcmp(path, "/big") == 0) {
                /* One byte over the client's limit. */
                size_t n = IMAGO_HTTPC_BODY_MAX + 1;
                char *b = malloc(n + 1);

                assert_non_null(b);
                memset(b, 'a', n);
                b[n] = '\0';
                imago_https_reply_json(req, 200, b);
                free(b);
                return;
        }
        if (strcmp(path, "/max") == 0) {
                size_t n = IMAGO_HTTPC_BODY_MAX;
                char *b = malloc(n + 1);

                assert_non_null(b);
                memset(b, 'm', n);
                b[n] = '\0';
                imago_https_reply_json(req, 200, b);
                free(b);
                return;
        }
        if (strcmp(path, "/range") == 0) {
                /* A full-size (1 MiB) range body, only for the exact Range asked for. */
                const char *want =
                    evhttp_find_header(evhttp_request_get_input_headers(req), "Range");
                struct evbuffer *b = evbuffer_new();
                char *d = malloc(IMAGO_HTTPC_BODY_MAX);

                assert_non_null(b);
                assert_non_null(d);
                if (want == NULL || strcmp(want, "bytes=1-1048576") != 0) {
                        evbuffer_free(b);
                        free(d);
                        imago_https_reply_json(req, 400, "{}");
                        return;
                }
                memset(d, 'r', IMAGO_HTTPC_BODY_MAX);
                evbuffer_add(b, d, IMAGO_HTTPC_BODY_MAX);
                evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Range",
                                  "bytes 1-1048576/3000000");
                evhttp_send_reply(req, 206, "Partial Content", b);
                evbuffer_free(b);
                free(d);
                return;
        }
        imago_https_reply_json(req, 200, "{\"ok\":true}");
}

struct fixture {
        struct tnet_loop loop;
        SSL_CTX *ctx;
        struct imago_https_server *srv;
        uint16_t port;
};

static void up(struct fixture *f)
{
        tnet_loop_init(&f->loop);
        assert_int_equal(imago_https_server_ctx(pki.chain, pki.key, NULL, NULL, &f->ctx), IMAGO_OK);
        assert_int_equal(imago_https_server_new(f->loop.base, f->ctx, "127.0.0.1", 0, NULL, handler,
                                                NULL, &f->srv),
                         IMAGO_OK);
        f->port = imago_https_server_port(f->srv);
        tnet_loop_start(&f->loop);
}

static void down(struct fixture *f)
{
        tnet_loop_stop(&f->loop);
        imago_https_server_free(f->srv);
        SSL_CTX_free(f->ctx);
        tnet_loop_free(&f->loop);
}

static void test_range_request(void **state)
{
        struct fixture f;
        struct imago_httpc c = {"127.0.0.1", 0, NULL, NULL, NULL, 10000};
        struct imago_httpc_resp resp;

        (void)state;
        up(&f);
        c.port = f.port;
        c.ca_path = pki.ca;
        c.server_name = "api.test";
        assert_int_equal(imago_httpc_get_range(&c, "/range", 1, 1048576, &resp), IMAGO_OK);
        assert_int_equal(resp.status, 206);
        assert_int_equal(resp.len, IMAGO_HTTPC_BODY_MAX);
        assert_int_equal(resp.has_range, 1);
        assert_int_equal(resp.range_first, 1);
        assert_int_equal(resp.range_last, 1048576);
        assert_int_equal(resp.range_total, 3000000);
        imago_httpc_resp_free(&resp);
        /* Another range: the server refuses it (the header is what was asked). */
        assert_int_equal(imago_httpc_get_range(&c, "/range", 1, UINT64_MAX, &resp), IMAGO_OK);
        assert_int_equal(resp.status, 400);
        assert_int_equal(resp.has_range, 0);
        imago_httpc_resp_free(&resp);
        /* A server that ignores Range: a 200, no range. */
        assert_int_equal(imago_httpc_get_range(&c, "/", 0, 9, &resp), IMAGO_OK);
        assert_int_equal(resp.status, 200);
        assert_int_equal(resp.has_range, 0);
        imago_httpc_resp_free(&resp);
        down(&f);
}

static int get(const struct imago_httpc *c, struct imago_httpc_resp *resp)
{
        return imago_httpc_request(c, "GET", "/", NULL, NULL, 0, resp);
}

static void test_wrong_pin_refused(void **state)
{
        struct imago_httpc_resp resp;
        struct imago_httpc c = {"127.0.0.1", 0, NULL, NULL, NULL, 5000};
        struct fixture f;
        char fp[65];

        (void)state;
        up(&f);
        c.port = f.port;
        /* The birth certificate's fingerprint, but this server shows another one. */
        assert_int_equal(imago_https_cert_fingerprint(pki.self, fp), IMAGO_OK);
        c.pin_sha256 = fp;
        assert_int_equal(get(&c, &resp), IMAGO_EHTTP_PIN);
        assert_null(resp.body);
        /* The CA's fingerprint is no pin for its leaf either. */
        assert_int_equal(imago_https_cert_fingerprint(pki.ca, fp), IMAGO_OK);
        assert_int_equal(get(&c, &resp), IMAGO_EHTTP_PIN);
        /* The leaf's own: accepted, in either case of hex. */
        assert_int_equal(imago_https_cert_fingerprint(pki.leaf, fp), IMAGO_OK);
        assert_int_equal(get(&c, &resp), IMAGO_OK);
        imago_httpc_resp_free(&resp);
        for (size_t i = 0; i < 64; i++)
                if (fp[i] >= 'a' && fp[i] <= 'f')
                        fp[i] = (char)(fp[i] - 'a' + 'A');
        assert_int_equal(get(&c, &resp), IMAGO_OK);
        imago_httpc_resp_free(&resp);
        /* Not a pin at all. */
        c.pin_sha256 = "00";
        assert_int_equal(get(&c, &resp), IMAGO_EINVAL);
        down(&f);
}

static void test_wrong_ca_refused(void **state)
{
        struct imago_httpc_resp resp;
        struct imago_httpc c = {"127.0.0.1", 0, NULL, NULL, "api.test", 5000};
        struct fixture f;

        (void)state;
        up(&f);
        c.port = f.port;
        c.ca_path = pki.other_ca;
        assert_int_equal(get(&c, &resp), IMAGO_EPKI_CHAIN);
        /* The self-signed birth certificate as a CA does not vouch for it either. */
        c.ca_path = pki.self;
        assert_int_equal(get(&c, &resp), IMAGO_EPKI_CHAIN);
        c.ca_path = pki.ca;
        assert_int_equal(get(&c, &resp), IMAGO_OK);
        imago_httpc_resp_free(&resp);
        down(&f);
}

static void test_wrong_name_refused(void **state)
{
        struct imago_httpc_resp resp;
        struct imago_httpc c = {"127.0.0.1", 0, NULL, NULL, "other.test", 5000};
        struct fixture f;

        (void)state;
        up(&f);
        c.port = f.port;
        c.ca_path = pki.ca;
        assert_int_equal(get(&c, &resp), IMAGO_EPKI_NAME);
        c.server_name = "test";
        assert_int_equal(get(&c, &resp), IMAGO_EPKI_NAME);
        c.server_name = "127.0.0.2";
        assert_int_equal(get(&c, &resp), IMAGO_EPKI_NAME);
        c.server_name = "localhost";
        assert_int_equal(get(&c, &resp), IMAGO_EPKI_NAME);
        down(&f);
}

static void test_pinned_intermediate_ca(void **state)
{
        struct imago_httpc_resp resp;
        struct imago_httpc c = {"127.0.0.1", 0, NULL, NULL, "api.test", 5000};
        char root_p[128], inter_p[128], chain_p[128], key_p[128];
        EVP_PKEY *rk = tnet_key(), *ik = tnet_key(), *lk = tnet_key();
        X509 *root = tnet_cert(rk, "root", NULL, NULL, 1, NULL, 30);
        X509 *inter = tnet_cert(ik, "server CA", root, rk, 1, NULL, 30);
        X509 *leaf = tnet_cert(lk, "api.test", inter, ik, 0, "DNS:api.test", 30);
        struct tnet_loop loop;
        struct imago_https_server *srv = NULL;
        SSL_CTX *ctx = NULL;

        (void)state;
        snprintf(root_p, sizeof(root_p), "%s/i-root.pem", pki.dir);
        snprintf(inter_p, sizeof(inter_p), "%s/i-inter.pem", pki.dir);
        snprintf(chain_p, sizeof(chain_p), "%s/i-chain.pem", pki.dir);
        snprintf(key_p, sizeof(key_p), "%s/i-leaf.key", pki.dir);
        tnet_write_cert(root_p, root, NULL);
        tnet_write_cert(inter_p, inter, NULL);
        tnet_write_cert(chain_p, leaf, inter);
        tnet_write_key(key_p, lk, NULL);
        tnet_loop_init(&loop);
        assert_int_equal(imago_https_server_ctx(chain_p, key_p, NULL, NULL, &ctx), IMAGO_OK);
        assert_int_equal(
            imago_https_server_new(loop.base, ctx, "127.0.0.1", 0, NULL, handler, NULL, &srv),
            IMAGO_OK);
        c.port = imago_https_server_port(srv);
        tnet_loop_start(&loop);
        /* The root or the intermediate alone as the pinned CA. */
        c.ca_path = root_p;
        assert_int_equal(get(&c, &resp), IMAGO_OK);
        imago_httpc_resp_free(&resp);
        c.ca_path = inter_p;
        assert_int_equal(get(&c, &resp), IMAGO_OK);
        imago_httpc_resp_free(&resp);
        /* Another CA's intermediate is still refused. */
        c.ca_path = pki.ca;
        assert_int_equal(get(&c, &resp), IMAGO_EPKI_CHAIN);
        tnet_loop_stop(&loop);
        imago_https_server_free(srv);
        SSL_CTX_free(ctx);
        tnet_loop_free(&loop);
        unlink(root_p);
        unlink(inter_p);
        unlink(chain_p);
        unlink(key_p);
        X509_free(root);
        X509_free(inter);
        X509_free(leaf);
        EVP_PKEY_free(rk);
        EVP_PKEY_free(ik);
        EVP_PKEY_free(lk);
}

static void test_response_over_body_max(void **state)
{
        struct imago_httpc_resp resp;
        struct imago_httpc c = {"127.0.0.1", 0, NULL, NULL, "api.test", 10000};
        struct fixture f;

        (void)state;
        up(&f);
        c.port = f.port;
        c.ca_path = pki.ca;
        assert_int_equal(imago_httpc_request(&c, "GET", "/big", NULL, NULL, 0, &resp),
                         IMAGO_ETOOBIG);
        assert_null(resp.body);
        assert_int_equal(imago_httpc_request(&c, "GET", "/max", NULL, NULL, 0, &resp), IMAGO_OK);
        assert_int_equal(resp.len, IMAGO_HTTPC_BODY_MAX);
        imago_httpc_resp_free(&resp);
        down(&f);
}

static void test_arguments(void **state)
{
        struct imago_httpc_resp resp;
        struct imago_httpc c = {"127.0.0.1", 1, NULL, NULL, NULL, 1000};
        char fp[65];

        (void)state;
        memset(fp, 'a', 64);
        fp[64] = '\0';
        /* Neither or both of CA and pin. */
        assert_int_equal(get(&c, &resp), IMAGO_EINVAL);
        c.ca_path = pki.ca;
        c.pin_sha256 = fp;
        assert_int_equal(get(&c, &resp), IMAGO_EINVAL);
        c.pin_sha256 = NULL;
        assert_int_equal(imago_httpc_request(&c, "TRACE", "/", NULL, NULL, 0, &resp), IMAGO_EINVAL);
        assert_int_equal(imago_httpc_request(&c, "GET", "x", NULL, NULL, 0, &resp), IMAGO_EINVAL);
        assert_int_equal(imago_httpc_request(&c, "GET", "/a b", NULL, NULL, 0, &resp),
                         IMAGO_EINVAL);
        assert_int_equal(imago_httpc_request(&c, "GET", "/\r\nX: y", NULL, NULL, 0, &resp),
                         IMAGO_EINVAL);
        assert_int_equal(imago_httpc_request(&c, "POST", "/", NULL, NULL, 5, &resp), IMAGO_EINVAL);
        c.host = "a\r\nb";
        assert_int_equal(get(&c, &resp), IMAGO_EINVAL);
        c.host = "127.0.0.1";
        /* A range has first <= last. */
        assert_int_equal(imago_httpc_get_range(&c, "/", 5, 4, &resp), IMAGO_EINVAL);
        /* Nothing listens: an I/O error, not a hang. */
        c.host = "127.0.0.1";
        assert_int_equal(get(&c, &resp), IMAGO_EIO);
}

/* ---- a fake TLS peer answering raw bytes ---- */

enum fake_mode { FAKE_ANSWER, FAKE_STALL_AFTER, FAKE_NO_TLS };

struct fake {
        int lfd;
        uint16_t port;
        SSL_CTX *ctx;
        const uint8_t *resp;
        size_t resp_len;
        enum fake_mode mode;
        pthread_t th;
};

static void *fake_thread(void *arg)
{
        struct fake *f = arg;
        char buf[4096];
        size_t len = 0;
        SSL *ssl = NULL;
        int fd, n;

        if ((fd = accept(f->lfd, NULL, NULL)) < 0)
                return NULL;
        if (f->mode == FAKE_NO_TLS) {
                usleep(1500 * 1000);
                goto out;
        }
        ssl = SSL_new(f->ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) != 1)
                goto out;
        while (len < sizeof(buf) - 1 &&
               (n = SSL_read(ssl, buf + len, (int)(sizeof(buf) - 1 - len))) > 0) {
                len += (size_t)n;
                buf[len] = '\0';
                if (strstr(buf, "\r\n\r\n") != NULL)
                        break;
        }
        if (f->resp_len > 0)
                SSL_write(ssl, f->resp, (int)f->resp_len);
        if (f->mode == FAKE_STALL_AFTER)
                usleep(1500 * 1000);
        SSL_shutdown(ssl);
out:
        SSL_free(ssl);
        ERR_clear_error();
        close(fd);
        return NULL;
}

static void fake_start(struct fake *f, enum fake_mode mode, const void *resp, size_t len)
{
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);

        memset(f, 0, sizeof(*f));
        f->mode = mode;
        f->resp = resp;
        f->resp_len = len;
        assert_non_null(f->ctx = SSL_CTX_new(TLS_server_method()));
        assert_int_equal(SSL_CTX_use_certificate_chain_file(f->ctx, pki.chain), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey_file(f->ctx, pki.key, SSL_FILETYPE_PEM), 1);
        f->lfd = socket(AF_INET, SOCK_STREAM, 0);
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(f->lfd, 4), 0);
        assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
        f->port = ntohs(sa.sin_port);
        assert_int_equal(pthread_create(&f->th, NULL, fake_thread, f), 0);
}

static void fake_stop(struct fake *f)
{
        pthread_join(f->th, NULL);
        close(f->lfd);
        SSL_CTX_free(f->ctx);
}

static int fake_request(struct fake *f, struct imago_httpc_resp *resp, uint32_t timeout_ms)
{
        struct imago_httpc c = {"127.0.0.1", f->port, pki.ca, NULL, "api.test", timeout_ms};

        return imago_httpc_request(&c, "GET", "/", NULL, NULL, 0, resp);
}

static void test_malformed_responses_from_a_tls_peer(void **state)
{
        static const char *const cases[][2] = {
            {"HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n", "IMAGO_EHTTP"},
            {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{\"a\":", "IMAGO_EHTTP"},
            {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}{}", "IMAGO_EHTTP"},
            {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "IMAGO_EHTTP"},
            {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n", "IMAGO_EHTTP"},
            {"HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n", "IMAGO_ETOOBIG"},
            {"HTTP/1.1 200 OK\r\n\r\n{}", "IMAGO_EHTTP"},
            {"", "IMAGO_EHTTP"},
            {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
             "IMAGO_OK"},
        };
        struct imago_httpc_resp resp;
        struct fake f;
        size_t i;
        int want;

        (void)state;
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                assert_int_equal(imago_err_from_name(cases[i][1], &want), IMAGO_OK);
                fake_start(&f, FAKE_ANSWER, cases[i][0], strlen(cases[i][0]));
                if (fake_request(&f, &resp, 5000) != want)
                        fail_msg("case %zu: want %s", i, cases[i][1]);
                if (want == IMAGO_OK)
                        assert_string_equal(resp.body, "{}");
                imago_httpc_resp_free(&resp);
                fake_stop(&f);
        }
}

static void test_stalling_server_times_out(void **state)
{
        static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{";
        struct imago_httpc_resp resp;
        struct fake f;
        uint64_t t0, dt;

        (void)state;
        /* Sends part of the answer, then nothing. */
        fake_start(&f, FAKE_STALL_AFTER, head, strlen(head));
        t0 = tnet_now_ms();
        assert_int_equal(fake_request(&f, &resp, 500), IMAGO_EIO);
        dt = tnet_now_ms() - t0;
        assert_true(dt >= 450 && dt < 1400);
        fake_stop(&f);
        /* Accepts TCP, never answers the handshake. */
        fake_start(&f, FAKE_NO_TLS, NULL, 0);
        t0 = tnet_now_ms();
        assert_int_equal(fake_request(&f, &resp, 500), IMAGO_EIO);
        dt = tnet_now_ms() - t0;
        assert_true(dt >= 450 && dt < 1400);
        fake_stop(&f);
}

/* ---- the parser on the vectors ---- */

static void vec_one(const char *file, const uint8_t *data, size_t len, int want, void *arg)
{
        struct imago_httpc_resp resp;
        size_t i;
        int r;

        (void)arg;
        r = imago_httpc_parse_response(data, len, 1, &resp);
        if (r != want)
                fail_msg("%s: got %s, want %s", file, imago_errname(r), imago_errname(want));
        imago_httpc_resp_free(&resp);
        /* Every strict prefix of a good response: "more", never complete nor refused. */
        for (i = 0; i < len; i++) {
                r = imago_httpc_parse_response(data, i, 0, &resp);
                if (want == IMAGO_OK && r != IMAGO_HTTPC_MORE)
                        fail_msg("%s: prefix %zu: %s", file, i, imago_errname(r));
                if (r != IMAGO_OK)
                        assert_null(resp.body);
                imago_httpc_resp_free(&resp);
        }
}

static void test_parser_vectors(void **state)
{
        (void)state;
        assert_true(test_vec_each(IMAGO_SOURCE_DIR "/tests/vectors/net/response", ".http", vec_one,
                                  NULL) >= 50);
}

static void test_parser_chunked_body(void **state)
{
        static const char ok[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "3\r\nabc\r\n1\r\nd\r\n0\r\n\r\n";
        struct imago_httpc_resp resp;

        (void)state;
        assert_int_equal(imago_httpc_parse_response((const uint8_t *)ok, strlen(ok), 0, &resp),
                         IMAGO_OK);
        assert_int_equal(resp.status, 200);
        assert_int_equal(resp.len, 4);
        assert_string_equal(resp.body, "abcd");
        imago_httpc_resp_free(&resp);
        {
                static const char rg[] = "HTTP/1.1 206 Partial Content\r\nContent-Length: 2\r\n"
                                         "content-range:  bytes 0-1/9223372036854775807 \r\n"
                                         "\r\nab";

                assert_int_equal(
                    imago_httpc_parse_response((const uint8_t *)rg, strlen(rg), 1, &resp),
                    IMAGO_OK);
                assert_int_equal(resp.has_range, 1);
                assert_int_equal(resp.range_first, 0);
                assert_int_equal(resp.range_last, 1);
                assert_true(resp.range_total == 9223372036854775807ULL);
                imago_httpc_resp_free(&resp);
        }
        assert_int_equal(imago_httpc_parse_response(NULL, 0, 0, &resp), IMAGO_HTTPC_MORE);
        assert_int_equal(imago_httpc_parse_response(NULL, 1, 0, &resp), IMAGO_EINVAL);
        assert_int_equal(imago_httpc_parse_response((const uint8_t *)ok, 3, 0, NULL), IMAGO_EINVAL);
}

static int setup(void **state)
{
        (void)state;
        signal(SIGPIPE, SIG_IGN);
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
            cmocka_unit_test(test_wrong_pin_refused),
            cmocka_unit_test(test_wrong_ca_refused),
            cmocka_unit_test(test_wrong_name_refused),
            cmocka_unit_test(test_pinned_intermediate_ca),
            cmocka_unit_test(test_response_over_body_max),
            cmocka_unit_test(test_arguments),
            cmocka_unit_test(test_range_request),
            cmocka_unit_test(test_malformed_responses_from_a_tls_peer),
            cmocka_unit_test(test_stalling_server_times_out),
            cmocka_unit_test(test_parser_vectors),
            cmocka_unit_test(test_parser_chunked_body),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
