/*
 * The device link's TLS client context against a real `openssl s_server` on
 * 127.0.0.1 (ephemeral port): a TLS 1.3 mutual-authentication handshake
 * with the key in a SoftHSM2 token, checked from both ends (bytes both ways,
 * and the server's log shows the device certificate it verified); a server
 * certificate from another CA, a wrong server name and a wrong address are
 * refused by the client (pinned CA, name check); bad inputs to the context.
 * Everything lives under one temporary directory removed at the end, and
 * every server started is killed in the test's teardown.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/err.h"
#include "crypto/keys.h"
#include "crypto/p11/p11.h"
#include "device/identity/identity.h"
#include "pki/pki.h"

#include "test_p11_util.h"

#define PIN     "1234"
#define DEV_URI "pkcs11:token=tls"
#define PASS    "test-passphrase"

static struct tok_env env;
static struct imago_pubkey dev_pub;
static char dev_id[IMAGO_DEVICE_ID_LEN + 1];

/* Paths under env.dir */
static char pki_dir[200], other_dir[200];
static char dev_crt[200], issuing_crt[200], root_crt[200], server_ca_crt[200];
static char srv_crt[200], srv_key[200], other_crt[200], other_key[200], other_ca_crt[200];
static char file_key[200], file_crt[200], svc_crt[200];

struct server {
        pid_t pid;
        int in;  /* its stdin */
        int out; /* its stdout and stderr */
        unsigned short port;
        char log[16384];
        size_t len;
};

#define MAX_SERVERS 4
static struct server servers[MAX_SERVERS];

static void path(char *out, const char *dir, const char *name)
{
        if (snprintf(out, 200, "%s/%s", dir, name) >= 200)
                abort();
}

/* A new P-256 key saved at key_path; its public half in pub. */
static int new_key(const char *key_path, struct imago_pubkey *pub)
{
        struct imago_privkey k;
        int r;

        memset(&k, 0, sizeof(k));
        r = imago_privkey_generate(IMAGO_KEY_P256, &k);
        if (r == IMAGO_OK)
                r = imago_privkey_save(&k, key_path, NULL);
        if (r == IMAGO_OK)
                r = imago_privkey_public(&k, pub);
        imago_privkey_free(&k);
        return r;
}

static int issue(const char *dir, enum imago_pki_role role, const struct imago_pki_request *req,
                 const char *out)
{
        struct imago_pki_ca ca;
        X509 *cert = NULL;
        int r;

        memset(&ca, 0, sizeof(ca));
        r = imago_pki_ca_load(dir, role, PASS, &ca);
        if (r == IMAGO_OK)
                r = imago_pki_issue(&ca, req, &cert);
        if (r == IMAGO_OK)
                r = imago_pki_cert_save(cert, out);
        X509_free(cert);
        imago_pki_ca_free(&ca);
        return r;
}

/* A PKI in dir, and a server certificate for localhost / 127.0.0.1 under its server CA. */
static int make_pki(const char *dir, const char *crt, const char *key)
{
        static const char *const names[] = {"localhost", "127.0.0.1"};
        struct imago_pki_init_opts o;
        struct imago_pki_request req;
        struct imago_pubkey pub;
        int r;

        memset(&o, 0, sizeof(o));
        o.dir = dir;
        o.root_passphrase = PASS;
        r = imago_pki_init(&o);
        if (r == IMAGO_OK)
                r = new_key(key, &pub);
        if (r != IMAGO_OK)
                return r;
        memset(&req, 0, sizeof(req));
        req.profile = IMAGO_PKI_SERVER;
        req.common_name = "localhost";
        req.pub = &pub;
        req.names = names;
        req.names_count = 2;
        return issue(dir, IMAGO_PKI_SERVER_CA, &req, crt);
}

/*
 * The enrolment flow issue 4 needs: the identity's CSR (signed in the
 * token) is checked and its key and CN certified by the issuing CA.
 */
static int cert_from_csr(const char *out)
{
        struct imago_identity_config cfg;
        struct imago_identity *id = NULL;
        struct imago_pki_request req;
        struct imago_pubkey pub;
        X509_REQ *csr = NULL;
        uint8_t *der = NULL;
        char cn[IMAGO_DEVICE_ID_LEN + 1];
        int n, r = -1;

        memset(&cfg, 0, sizeof(cfg));
        cfg.backend = IMAGO_IDENTITY_PKCS11;
        cfg.production = 1;
        cfg.module = TOK_MODULE;
        cfg.token_uri = DEV_URI;
        cfg.pin = PIN;
        if (imago_identity_open(&cfg, &id) != IMAGO_OK ||
            imago_identity_csr(id, "imago", &csr) != IMAGO_OK)
                goto out;
        /* what the cloud does with a CSR it receives */
        if (X509_REQ_verify(csr, X509_REQ_get0_pubkey(csr)) != 1)
                goto out;
        n = i2d_PUBKEY(X509_REQ_get0_pubkey(csr), &der);
        if (n <= 0 || imago_pubkey_from_spki(&pub, der, (size_t)n) != IMAGO_OK ||
            X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(csr), NID_commonName, cn,
                                      sizeof(cn)) != IMAGO_DEVICE_ID_LEN)
                goto out;
        memset(&req, 0, sizeof(req));
        req.profile = IMAGO_PKI_DEVICE;
        req.common_name = cn;
        req.pub = &pub;
        if (issue(pki_dir, IMAGO_PKI_ISSUING, &req, out) == IMAGO_OK)
                r = 0;
out:
        OPENSSL_free(der);
        X509_REQ_free(csr);
        imago_identity_close(id);
        return r;
}

static int setup(void **state)
{
        struct imago_pki_request req;
        struct imago_pubkey file_pub;
        char file_id[IMAGO_DEVICE_ID_LEN + 1];
        struct imago_p11 *p = NULL;
        struct imago_p11_key k;
        int r;

        (void)state;
        signal(SIGPIPE, SIG_IGN);
        if (tok_env_init(&env) != 0 || tok_add(&env, "tls", PIN) != 0)
                return -1;
        if (imago_p11_open(TOK_MODULE, DEV_URI, PIN, &p) != IMAGO_OK)
                return -1;
        r = imago_p11_ec_generate(p, IMAGO_IDENTITY_LABEL, (const uint8_t *)"\x01", 1, &k);
        if (r == IMAGO_OK)
                r = imago_p11_ec_pubkey(p, &k, &dev_pub);
        imago_p11_close(p);
        if (r != IMAGO_OK || imago_pki_device_id(&dev_pub, dev_id) != IMAGO_OK)
                return -1;

        path(pki_dir, env.dir, "pki");
        path(other_dir, env.dir, "other");
        path(issuing_crt, pki_dir, "issuing.crt");
        path(root_crt, pki_dir, "root.crt");
        path(server_ca_crt, pki_dir, "server-ca.crt");
        path(other_ca_crt, other_dir, "server-ca.crt");
        path(dev_crt, env.dir, "device.crt");
        path(srv_crt, env.dir, "server.crt");
        path(srv_key, env.dir, "server.key");
        path(other_crt, env.dir, "other-server.crt");
        path(other_key, env.dir, "other-server.key");
        path(file_key, env.dir, "sim.key");
        path(file_crt, env.dir, "sim.crt");
        path(svc_crt, env.dir, "service.crt");
        if (make_pki(pki_dir, srv_crt, srv_key) != IMAGO_OK ||
            make_pki(other_dir, other_crt, other_key) != IMAGO_OK)
                return -1;

        /* the token key's operational certificate: the issuing CA certifies the key of its CSR */
        if (cert_from_csr(dev_crt) != 0)
                return -1;
        memset(&req, 0, sizeof(req));
        req.profile = IMAGO_PKI_DEVICE;
        /* a simulated device's file key and its certificate */
        if (new_key(file_key, &file_pub) != IMAGO_OK ||
            imago_pki_device_id(&file_pub, file_id) != IMAGO_OK)
                return -1;
        req.common_name = file_id;
        req.pub = &file_pub;
        if (issue(pki_dir, IMAGO_PKI_ISSUING, &req, file_crt) != IMAGO_OK)
                return -1;
        /* the token key certified under a name that is not its device id */
        req.profile = IMAGO_PKI_SERVICE;
        req.common_name = "imago-cloud";
        req.pub = &dev_pub;
        return issue(pki_dir, IMAGO_PKI_SERVER_CA, &req, svc_crt) == IMAGO_OK ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        tok_env_free(&env);
        return 0;
}

static void server_stop(struct server *s)
{
        if (s->pid > 0) {
                kill(s->pid, SIGKILL);
                waitpid(s->pid, NULL, 0);
        }
        if (s->in >= 0)
                close(s->in);
        if (s->out >= 0)
                close(s->out);
        s->pid = 0;
        s->in = s->out = -1;
}

/* Per-test teardown: no server outlives its test, whatever failed. */
static int stop_all(void **state)
{
        size_t i;

        (void)state;
        for (i = 0; i < MAX_SERVERS; i++)
                if (servers[i].pid > 0)
                        server_stop(&servers[i]);
        return 0;
}

static long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read the server's output until needle appears (1) or timeout / exit (0). */
static int server_wait(struct server *s, const char *needle, int timeout_ms)
{
        long end = now_ms() + timeout_ms;
        struct pollfd pfd;
        ssize_t n;

        for (;;) {
                if (strstr(s->log, needle) != NULL)
                        return 1;
                if (now_ms() >= end)
                        return 0;
                pfd.fd = s->out;
                pfd.events = POLLIN;
                if (poll(&pfd, 1, (int)(end - now_ms())) <= 0)
                        continue;
                n = read(s->out, s->log + s->len, sizeof(s->log) - 1 - s->len);
                if (n <= 0)
                        return strstr(s->log, needle) != NULL;
                s->len += (size_t)n;
                s->log[s->len] = 0;
        }
}

/* A free loopback port: bind port 0, read it, close (the caller retries on a collision). */
static unsigned short free_port(void)
{
        struct sockaddr_in a;
        socklen_t alen = sizeof(a);
        unsigned short port = 0;
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        if (fd < 0)
                return 0;
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
                port = ntohs(a.sin_port);
        close(fd);
        return port;
}

static int server_spawn(struct server *s, const char *crt, const char *key, const char *chain,
                        const char *client_ca, const char *const *extra)
{
        const char *argv[32];
        size_t n = 0;
        char accept[32];
        int in[2], out[2];
        pid_t pid;

        snprintf(accept, sizeof(accept), "127.0.0.1:%u", s->port);
        if (pipe(in) != 0)
                return -1;
        if (pipe(out) != 0) {
                close(in[0]);
                close(in[1]);
                return -1;
        }
        argv[n++] = "openssl";
        argv[n++] = "s_server";
        argv[n++] = "-accept";
        argv[n++] = accept;
        argv[n++] = "-cert";
        argv[n++] = crt;
        argv[n++] = "-key";
        argv[n++] = key;
        argv[n++] = "-cert_chain";
        argv[n++] = chain;
        argv[n++] = "-CAfile";
        argv[n++] = client_ca;
        argv[n++] = "-Verify";
        argv[n++] = "1";
        argv[n++] = "-verify_return_error";
        argv[n++] = "-ign_eof";
        while (extra != NULL && *extra != NULL && n < 31)
                argv[n++] = *extra++;
        argv[n] = NULL;
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                /* dies with the test, even if the test crashes */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() == 1)
                        _exit(127);
                dup2(in[0], 0);
                dup2(out[1], 1);
                dup2(out[1], 2);
                close(in[1]);
                close(out[0]);
                execvp("openssl", (char *const *)argv);
                _exit(127);
        }
        close(in[0]);
        close(out[1]);
        s->pid = pid;
        s->in = in[1];
        s->out = out[0];
        return 0;
}

/*
 * Start `openssl s_server` on 127.0.0.1 with crt/key (+ chain), requiring a
 * client certificate that chains to client_ca.  Retries on a port collision.
 */
static struct server *server_start(const char *crt, const char *key, const char *chain,
                                   const char *client_ca, const char *const *extra)
{
        struct server *s = NULL;
        size_t i;
        int attempt;

        for (i = 0; i < MAX_SERVERS; i++)
                if (servers[i].pid <= 0)
                        s = &servers[i];
        assert_non_null(s);
        for (attempt = 0; attempt < 5; attempt++) {
                memset(s, 0, sizeof(*s));
                s->in = s->out = -1;
                s->port = free_port();
                assert_true(s->port != 0);
                assert_int_equal(server_spawn(s, crt, key, chain, client_ca, extra), 0);
                if (server_wait(s, "ACCEPT\n", 5000))
                        return s;
                server_stop(s); /* the port was taken meanwhile, or it failed: try again */
        }
        fail_msg("s_server did not start: %s", s->log);
        return NULL;
}

/* TCP connection to the server, with timeouts so a test never hangs. */
static int tcp_connect(unsigned short port)
{
        struct timeval tv = {5, 0};
        struct sockaddr_in a;
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        assert_true(fd >= 0);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        return fd;
}

/* Handshake with ctx; returns the SSL (connected) or NULL with *verify set. */
static SSL *tls_connect(SSL_CTX *ctx, unsigned short port, const char *sni, int *fd, long *verify)
{
        SSL *ssl;

        *fd = tcp_connect(port);
        ssl = SSL_new(ctx);
        assert_non_null(ssl);
        assert_int_equal(SSL_set_fd(ssl, *fd), 1);
        if (sni != NULL)
                assert_int_equal(SSL_set_tlsext_host_name(ssl, sni), 1);
        if (SSL_connect(ssl) != 1) {
                *verify = SSL_get_verify_result(ssl);
                ERR_clear_error();
                SSL_free(ssl);
                close(*fd);
                *fd = -1;
                return NULL;
        }
        *verify = SSL_get_verify_result(ssl);
        return ssl;
}

static struct imago_identity *open_token(void)
{
        struct imago_identity_config cfg;
        struct imago_identity *id = NULL;

        memset(&cfg, 0, sizeof(cfg));
        cfg.backend = IMAGO_IDENTITY_PKCS11;
        cfg.production = 1;
        cfg.module = TOK_MODULE;
        cfg.token_uri = DEV_URI;
        cfg.pin = PIN;
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_OK);
        return id;
}

static SSL_CTX *client_ctx(struct imago_identity *id, const char *crt, const char *ca,
                           const char *name)
{
        struct imago_identity_tls t;
        SSL_CTX *ctx = NULL;

        memset(&t, 0, sizeof(t));
        t.cert_path = crt;
        t.chain_path = issuing_crt;
        t.ca_path = ca;
        t.server_name = name;
        assert_int_equal(imago_identity_tls_ctx(id, &t, &ctx), IMAGO_OK);
        return ctx;
}

/*
 * Bytes both ways over a connected client: the client's reach the server's
 * output, the server's (written to its stdin) reach the client.  In TLS 1.3
 * the server checks the client certificate after the client's handshake has
 * finished, so reading the server's bytes proves it accepted the certificate.
 */
static void exchange(struct server *s, SSL *ssl, const char *cn)
{
        static const char up[] = "imago-up\n", down[] = "imago-down\n";
        char buf[64], line[128];
        size_t got = 0;
        int n;

        assert_int_equal(SSL_write(ssl, up, (int)strlen(up)), (int)strlen(up));
        assert_int_equal(write(s->in, down, strlen(down)), (ssize_t)strlen(down));
        while (got < strlen(down)) {
                n = SSL_read(ssl, buf + got, (int)(sizeof(buf) - 1 - got));
                assert_true(n > 0);
                got += (size_t)n;
        }
        buf[got] = 0;
        assert_string_equal(buf, down);
        assert_true(server_wait(s, "imago-up", 5000));
        /* the server verified the device's certificate (its verify callback's lines) */
        snprintf(line, sizeof(line), "CN = %s", cn);
        assert_non_null(strstr(s->log, line));
        assert_non_null(strstr(s->log, "verify return:1"));
        assert_null(strstr(s->log, "verify error"));
}

static void test_tls13_mutual_auth_with_token_key(void **state)
{
        struct imago_identity *id = open_token();
        struct server *s;
        SSL_CTX *ctx;
        SSL *ssl;
        long verify;
        int fd;

        (void)state;
        /* the server trusts only the root: the client must send the issuing CA too */
        s = server_start(srv_crt, srv_key, server_ca_crt, root_crt, NULL);
        ctx = client_ctx(id, dev_crt, server_ca_crt, "localhost");
        imago_identity_close(id); /* the context holds its own reference to the key */
        ssl = tls_connect(ctx, s->port, "localhost", &fd, &verify);
        assert_non_null(ssl);
        assert_int_equal(verify, X509_V_OK);
        assert_int_equal(SSL_version(ssl), TLS1_3_VERSION);
        exchange(s, ssl, dev_id);
        SSL_shutdown(ssl);
        SSL_free(ssl);
        close(fd);
        SSL_CTX_free(ctx);
}

static void test_tls_by_ip_and_root_anchor(void **state)
{
        struct imago_identity *id = open_token();
        struct server *s;
        SSL_CTX *ctx;
        SSL *ssl;
        long verify;
        int fd;

        (void)state;
        s = server_start(srv_crt, srv_key, server_ca_crt, root_crt, NULL);
        /* pin the root instead of the server CA, and check the server by address; the
         * certificate and chain loaded into the identity beforehand */
        assert_int_equal(imago_identity_load_cert(id, dev_crt, issuing_crt), IMAGO_OK);
        ctx = client_ctx(id, NULL, root_crt, "127.0.0.1");
        ssl = tls_connect(ctx, s->port, NULL, &fd, &verify);
        assert_non_null(ssl);
        assert_int_equal(verify, X509_V_OK);
        exchange(s, ssl, dev_id);
        SSL_free(ssl);
        close(fd);
        SSL_CTX_free(ctx);
        imago_identity_close(id);
}

static void test_tls_with_simulator_file_key(void **state)
{
        struct imago_identity_config cfg;
        struct imago_identity *id = NULL;
        char fid[IMAGO_DEVICE_ID_LEN + 1];
        struct server *s;
        SSL_CTX *ctx;
        SSL *ssl;
        long verify;
        int fd;

        (void)state;
        memset(&cfg, 0, sizeof(cfg));
        cfg.backend = IMAGO_IDENTITY_FILE;
        cfg.key_path = file_key;
        assert_int_equal(imago_identity_open(&cfg, &id), IMAGO_OK);
        imago_identity_device_id(id, fid);
        s = server_start(srv_crt, srv_key, server_ca_crt, root_crt, NULL);
        ctx = client_ctx(id, file_crt, server_ca_crt, "localhost");
        ssl = tls_connect(ctx, s->port, "localhost", &fd, &verify);
        assert_non_null(ssl);
        exchange(s, ssl, fid);
        SSL_free(ssl);
        close(fd);
        SSL_CTX_free(ctx);
        imago_identity_close(id);
}

static void test_server_from_another_ca_refused(void **state)
{
        struct imago_identity *id = open_token();
        struct server *s;
        SSL_CTX *ctx;
        SSL *ssl;
        long verify;
        int fd;

        (void)state;
        /* a perfectly valid server certificate for localhost, from another fleet's CA */
        s = server_start(other_crt, other_key, other_ca_crt, root_crt, NULL);
        ctx = client_ctx(id, dev_crt, server_ca_crt, "localhost");
        ssl = tls_connect(ctx, s->port, "localhost", &fd, &verify);
        assert_null(ssl);
        assert_int_equal(verify, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
        SSL_CTX_free(ctx);
        /* pinning our root instead of our server CA does not let it in either */
        ctx = client_ctx(id, dev_crt, root_crt, "localhost");
        ssl = tls_connect(ctx, s->port, "localhost", &fd, &verify);
        assert_null(ssl);
        assert_int_not_equal(verify, X509_V_OK);
        SSL_CTX_free(ctx);
        imago_identity_close(id);
}

static void test_wrong_server_name_refused(void **state)
{
        struct imago_identity *id = open_token();
        struct server *s;
        SSL_CTX *ctx;
        SSL *ssl;
        long verify;
        int fd;

        (void)state;
        s = server_start(srv_crt, srv_key, server_ca_crt, root_crt, NULL);
        ctx = client_ctx(id, dev_crt, server_ca_crt, "broker.example.com");
        ssl = tls_connect(ctx, s->port, "broker.example.com", &fd, &verify);
        assert_null(ssl);
        assert_int_equal(verify, X509_V_ERR_HOSTNAME_MISMATCH);
        SSL_CTX_free(ctx);
        ctx = client_ctx(id, dev_crt, server_ca_crt, "127.0.0.2");
        ssl = tls_connect(ctx, s->port, NULL, &fd, &verify);
        assert_null(ssl);
        assert_int_equal(verify, X509_V_ERR_IP_ADDRESS_MISMATCH);
        SSL_CTX_free(ctx);
        imago_identity_close(id);
}

static void test_tls12_server_gets_aead_ecdhe_only(void **state)
{
        static const char *const tls12[] = {"-tls1_2", NULL};
        static const char *const cbc[] = {"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256", NULL};
        static const char *const old[] = {"-tls1_1", "-cipher", "ALL:@SECLEVEL=0", NULL};
        struct imago_identity *id = open_token();
        const char *name;
        struct server *s;
        SSL_CTX *ctx;
        SSL *ssl;
        long verify;
        int fd;

        (void)state;
        ctx = client_ctx(id, dev_crt, server_ca_crt, "localhost");
        /* a TLS 1.2 server: mutual authentication with the token key still works, AEAD only */
        s = server_start(srv_crt, srv_key, server_ca_crt, root_crt, tls12);
        ssl = tls_connect(ctx, s->port, "localhost", &fd, &verify);
        assert_non_null(ssl);
        assert_int_equal(SSL_version(ssl), TLS1_2_VERSION);
        name = SSL_get_cipher_name(ssl);
        assert_non_null(strstr(name, "ECDHE-ECDSA-"));
        assert_true(strstr(name, "GCM") != NULL || strstr(name, "CHACHA20") != NULL);
        exchange(s, ssl, dev_id);
        SSL_free(ssl);
        close(fd);
        server_stop(s);
        /* a TLS 1.2 server offering only CBC: no shared cipher */
        s = server_start(srv_crt, srv_key, server_ca_crt, root_crt, cbc);
        ssl = tls_connect(ctx, s->port, "localhost", &fd, &verify);
        assert_null(ssl);
        server_stop(s);
        /* a TLS 1.1 server: below the minimum */
        s = server_start(srv_crt, srv_key, server_ca_crt, root_crt, old);
        ssl = tls_connect(ctx, s->port, "localhost", &fd, &verify);
        assert_null(ssl);
        SSL_CTX_free(ctx);
        imago_identity_close(id);
}

static void test_tls_ctx_bad_inputs(void **state)
{
        struct imago_identity *id = open_token();
        struct imago_identity_tls t;
        SSL_CTX *ctx = NULL;
        char empty[220];
        FILE *f;

        (void)state;
        memset(&t, 0, sizeof(t));
        t.cert_path = dev_crt;
        t.ca_path = server_ca_crt;
        t.server_name = "localhost";
        /* a certificate for another key */
        t.cert_path = file_crt;
        assert_int_equal(imago_identity_tls_ctx(id, &t, &ctx), IMAGO_EKEY_TYPE);
        t.cert_path = "/nonexistent.crt";
        assert_int_equal(imago_identity_tls_ctx(id, &t, &ctx), IMAGO_EIO);
        t.cert_path = dev_crt;
        /* no pinned CA, or a CA file without certificates */
        t.ca_path = NULL;
        assert_int_equal(imago_identity_tls_ctx(id, &t, &ctx), IMAGO_EINVAL);
        t.ca_path = "/nonexistent-ca.crt";
        assert_int_equal(imago_identity_tls_ctx(id, &t, &ctx), IMAGO_EIO);
        snprintf(empty, sizeof(empty), "%s/empty.pem", env.dir);
        f = fopen(empty, "w");
        assert_non_null(f);
        fclose(f);
        t.ca_path = empty;
        assert_int_equal(imago_identity_tls_ctx(id, &t, &ctx), IMAGO_EIO);
        t.ca_path = server_ca_crt;
        t.chain_path = empty;
        assert_int_equal(imago_identity_tls_ctx(id, &t, &ctx), IMAGO_EIO);
        t.chain_path = NULL;
        /* no server name, or one that is not a host name or address */
        t.server_name = NULL;
        assert_int_equal(imago_identity_tls_ctx(id, &t, &ctx), IMAGO_EINVAL);
        t.server_name = "";
        assert_int_equal(imago_identity_tls_ctx(id, &t, &ctx), IMAGO_EPKI_NAME);
        t.server_name = "*.example.com";
        assert_int_equal(imago_identity_tls_ctx(id, &t, &ctx), IMAGO_EPKI_NAME);
        t.server_name = "local host";
        assert_int_equal(imago_identity_tls_ctx(id, &t, &ctx), IMAGO_EPKI_NAME);
        assert_null(ctx);
        /* the right key under another name (a service certificate from the server CA) */
        t.server_name = "localhost";
        t.cert_path = svc_crt;
        assert_int_equal(imago_identity_tls_ctx(id, &t, &ctx), IMAGO_EPKI_NAME);
        /* no certificate given and none loaded (a fresh identity) */
        imago_identity_close(id);
        id = open_token();
        t.cert_path = NULL;
        assert_null(imago_identity_cert(id));
        assert_int_equal(imago_identity_tls_ctx(id, &t, &ctx), IMAGO_ESTATE);
        assert_null(ctx);
        /* loaded once, used by later contexts; a failed load keeps it */
        assert_int_equal(imago_identity_load_cert(id, dev_crt, issuing_crt), IMAGO_OK);
        assert_non_null(imago_identity_cert(id));
        assert_int_equal(imago_identity_load_cert(id, file_crt, NULL), IMAGO_EKEY_TYPE);
        assert_int_equal(imago_identity_load_cert(id, dev_crt, empty), IMAGO_EIO);
        assert_int_equal(imago_identity_tls_ctx(id, &t, &ctx), IMAGO_OK);
        SSL_CTX_free(ctx);
        ctx = NULL;
        /* the settings of a good context */
        t.cert_path = dev_crt;
        assert_int_equal(imago_identity_tls_ctx(id, &t, &ctx), IMAGO_OK);
        assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
        assert_int_equal(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER);
        SSL_CTX_free(ctx);
        imago_identity_close(id);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_teardown(test_tls13_mutual_auth_with_token_key, stop_all),
            cmocka_unit_test_teardown(test_tls_by_ip_and_root_anchor, stop_all),
            cmocka_unit_test_teardown(test_tls_with_simulator_file_key, stop_all),
            cmocka_unit_test_teardown(test_server_from_another_ca_refused, stop_all),
            cmocka_unit_test_teardown(test_wrong_server_name_refused, stop_all),
            cmocka_unit_test_teardown(test_tls12_server_gets_aead_ecdhe_only, stop_all),
            cmocka_unit_test_teardown(test_tls_ctx_bad_inputs, stop_all),
        };
        int r;

        r = cmocka_run_group_tests(tests, setup, teardown);
        stop_all(NULL);
        return r;
}
