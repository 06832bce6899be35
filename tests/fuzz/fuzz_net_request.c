/*
 * libFuzzer target: the HTTPS server's request path end to end.  The input
 * is sent as the plaintext of one TLS connection to an imago_https server
 * (small limits, 300 ms request deadline) whose handler reads the bearer
 * token and the body with the module's accessors; then the client closes
 * its side and reads until the server closes.  Catches memory errors in
 * the connection records, the deadline state machine and the accessors
 * under any request bytes (pipelined, partial, oversized, malformed).
 * Invariant: after every input the server is back to zero connections.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/err.h"
#include "net/https.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct event_base *fz_base;
static struct imago_https_server *fz_srv;
static SSL_CTX *fz_cli;
static uint16_t fz_port;
static int fz_ready;

static void fz_handler(struct evhttp_request *req, const char *peer, void *arg)
{
        const char *tok = imago_https_bearer(req);
        char *body = NULL;
        size_t len = 0;
        int r;

        (void)peer;
        (void)arg;
        if (tok != NULL && strpbrk(tok, " \t\r\n") != NULL)
                __builtin_trap();
        r = imago_https_body(req, 512, &body, &len);
        if (r == IMAGO_OK && (body == NULL || body[len] != '\0' || strlen(body) != len))
                __builtin_trap();
        if (r != IMAGO_OK)
                imago_https_reply_error(req, imago_https_status_of(r), r, NULL, 0);
        else
                imago_https_reply_json(req, 200, "{}");
        free(body);
}

static void *fz_loop(void *arg)
{
        (void)arg;
        event_base_loop(fz_base, EVLOOP_NO_EXIT_ON_EMPTY);
        return NULL;
}

/* A P-256 key and a self-signed certificate, written where the server can load them. */
static int fz_setup(void)
{
        struct imago_https_limits lim = {.max_body = 1024,
                                         .max_headers = 2048,
                                         .max_url = 256,
                                         .request_deadline_ms = 300,
                                         .idle_timeout_s = 1};
        char dir[] = "/tmp/imago-fuzz-net-XXXXXX", crt[64], key[64];
        EVP_PKEY *k = EVP_EC_gen("P-256");
        X509 *x = X509_new();
        SSL_CTX *ctx = NULL;
        pthread_t th;
        FILE *f;

        signal(SIGPIPE, SIG_IGN);
        if (k == NULL || x == NULL || mkdtemp(dir) == NULL)
                return -1;
        snprintf(crt, sizeof(crt), "%s/c.pem", dir);
        snprintf(key, sizeof(key), "%s/k.pem", dir);
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), -3600);
        X509_gmtime_adj(X509_getm_notAfter(x), 86400);
        X509_set_pubkey(x, k);
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                   (const unsigned char *)"fuzz", -1, -1, 0);
        X509_set_issuer_name(x, X509_get_subject_name(x));
        if (X509_sign(x, k, EVP_sha256()) <= 0)
                return -1;
        if ((f = fopen(crt, "w")) == NULL || PEM_write_X509(f, x) != 1 || fclose(f) != 0)
                return -1;
        if ((f = fopen(key, "w")) == NULL ||
            PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) != 1 || fclose(f) != 0)
                return -1;
        if (imago_https_server_ctx(crt, key, NULL, NULL, &ctx) != IMAGO_OK)
                return -1;
        unlink(crt);
        unlink(key);
        rmdir(dir);
        X509_free(x);
        EVP_PKEY_free(k);
        if ((fz_base = event_base_new()) == NULL ||
            imago_https_server_new(fz_base, ctx, "127.0.0.1", 0, &lim, fz_handler, NULL, &fz_srv) !=
                IMAGO_OK)
                return -1;
        SSL_CTX_free(ctx);
        fz_port = imago_https_server_port(fz_srv);
        if ((fz_cli = SSL_CTX_new(TLS_client_method())) == NULL)
                return -1;
        if (pthread_create(&th, NULL, fz_loop, NULL) != 0)
                return -1;
        pthread_detach(th);
        return 0;
}

static uint64_t fz_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct sockaddr_in sa;
        struct timeval tv = {3, 0};
        uint64_t end;
        SSL *ssl = NULL;
        char buf[4096];
        int fd, one = 1;

        if (!fz_ready) {
                if (fz_setup() != 0)
                        __builtin_trap();
                fz_ready = 1;
        }
        if (size > 16384)
                return 0;
        fd = socket(AF_INET, SOCK_STREAM, 0);
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons(fz_port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
                __builtin_trap();
        ssl = SSL_new(fz_cli);
        SSL_set_fd(ssl, fd);
        if (SSL_connect(ssl) == 1) {
                if (size > 0)
                        SSL_write(ssl, data, (int)size);
                SSL_shutdown(ssl); /* close_notify: the server sees the end at once */
                while (SSL_read(ssl, buf, sizeof(buf)) > 0)
                        ;
        }
        SSL_free(ssl);
        ERR_clear_error();
        close(fd);
        /* The server lets go of the connection (reads of the count race benignly). */
        end = fz_now_ms() + 3000;
        while (imago_https_server_conns(fz_srv) != 0) {
                if (fz_now_ms() > end)
                        __builtin_trap();
                usleep(1000);
        }
        return 0;
}
