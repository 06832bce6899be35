/*
 * Plain HTTPS baseline for bench/api/bench_api.sh: an imago_https server
 * (same TLS settings and limits as the API) whose handler answers a
 * constant JSON document the size of a GET /v1/me answer, with no auth, no
 * database, no rate limit.
 *
 *   bench_https_const CHAIN KEY [PASSPHRASE_FILE]
 * Listens on 127.0.0.1, an ephemeral port printed as "port=N" on stdout;
 * runs until SIGTERM or SIGINT.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <event2/event.h>
#include <event2/http.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/wipe.h"
#include "net/https.h"

static void on_req(struct evhttp_request *req, const char *peer, void *arg)
{
        (void)peer;
        (void)arg;
        imago_https_reply_json(req, 200, "{\"id\":1,\"user\":\"bench-0\",\"grants\":[]}");
}

static void on_sig(evutil_socket_t sig, short what, void *arg)
{
        (void)sig;
        (void)what;
        event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
        struct imago_https_server *srv = NULL;
        struct event_base *base = NULL;
        struct event *st = NULL, *si = NULL;
        SSL_CTX *ctx = NULL;
        char pass[256] = "";
        FILE *f;
        int r, rc = 1;

        if (argc != 3 && argc != 4) {
                fprintf(stderr, "usage: bench_https_const CHAIN KEY [PASSPHRASE_FILE]\n");
                return 2;
        }
        if (argc == 4) {
                if ((f = fopen(argv[3], "r")) == NULL || fgets(pass, sizeof(pass), f) == NULL) {
                        fprintf(stderr, "bench_https_const: cannot read %s\n", argv[3]);
                        if (f != NULL)
                                fclose(f);
                        return 1;
                }
                fclose(f);
                pass[strcspn(pass, "\r\n")] = '\0';
        }
        r = imago_https_server_ctx(argv[1], argv[2], argc == 4 ? pass : NULL, NULL, &ctx);
        imago_wipe(pass, sizeof(pass));
        if (r != IMAGO_OK) {
                fprintf(stderr, "bench_https_const: %s\n", imago_strerror(r));
                return 1;
        }
        if ((base = event_base_new()) == NULL)
                goto out;
        if ((r = imago_https_server_new(base, ctx, "127.0.0.1", 0, NULL, on_req, NULL, &srv)) !=
            IMAGO_OK) {
                fprintf(stderr, "bench_https_const: %s\n", imago_strerror(r));
                goto out;
        }
        st = evsignal_new(base, SIGTERM, on_sig, base);
        si = evsignal_new(base, SIGINT, on_sig, base);
        if (st == NULL || si == NULL || event_add(st, NULL) != 0 || event_add(si, NULL) != 0)
                goto out;
        printf("port=%u\n", (unsigned)imago_https_server_port(srv));
        fflush(stdout);
        event_base_dispatch(base);
        rc = 0;
out:
        if (st != NULL)
                event_free(st);
        if (si != NULL)
                event_free(si);
        imago_https_server_free(srv);
        SSL_CTX_free(ctx);
        if (base != NULL)
                event_base_free(base);
        return rc;
}
