/*
 * imago_https: the HTTPS server under imago-cloud's API and the agent's setup
 * portal, a small blocking HTTPS client (imago app, tests, bench), and a
 * token-bucket rate limiter.  docs/api.md describes what clients see.
 *
 * Server: libevent's evhttp over OpenSSL (bufferevent_openssl, TLS 1.2
 * minimum) on one listener.  Limits enforced before a handler runs:
 *   - request line + headers at most lim.max_headers bytes, body at most
 *     lim.max_body bytes (libevent answers both with 413; a malformed
 *     request with 400, a method other than GET/POST/PUT/PATCH/DELETE with
 *     501: its own HTML pages, then closes), URL at most lim.max_url (414);
 *   - slow-loris: a request must be complete (headers and body) within
 *     lim.request_deadline_ms, counted from accept for the first request
 *     (the TLS handshake included) and from its first byte for a later one
 *     on a kept-alive connection, else the connection is closed; time in
 *     the handler does not count; idle keep-alive connections (and stalled
 *     reads or writes) are closed after lim.idle_timeout_s;
 *   - at most lim.max_conns connections in all and lim.max_conns_per_addr
 *     per client address; further ones are closed right after accept,
 *     before the TLS handshake.
 * Every reply of the helpers carries Content-Type: application/json,
 * Cache-Control: no-store and X-Content-Type-Options: nosniff.  Errors use
 * one format:
 *   {"error": {"code": "IMAGO_E...", "message": "text"}}
 * (imago_https_reply_error), where code is the stable imago_errname().
 * imago_https_server_new sets SIGPIPE to ignored if it was at its default
 * (a client's reset must not kill the server).  docs/https.md has the
 * details and the threat model.
 *
 * Client: one request per connection (Connection: close), TLS 1.2+,
 * server authenticated either by a pinned CA file + server name (host name
 * or IP checked) or by the SHA-256 fingerprint of the server's leaf
 * certificate DER (the setup portal's birth certificate: no CA involved,
 * IMAGO_EHTTP_PIN on mismatch).  Response parsed strictly: status line,
 * headers (at most 64, 16 KiB), Content-Length or chunked body at most
 * IMAGO_HTTPC_BODY_MAX, then close.
 *
 * Ownership: the server borrows base and up-refs ssl; imago_https_server_free
 * closes the listener and every connection (requests in flight are dropped
 * without calling back: forget any evhttp_request held for a later reply
 * first).  Never free the server from inside its handler (libevent is on
 * the stack): defer to a timer, as the setup portal does.  Handlers get the evhttp request (reply
 * exactly once, now or later from the same loop, with evhttp_send_reply or the helpers here) and
 * the peer's address as text, borrowed for the call.  Client responses are malloc'd,
 * NUL-terminated; the caller frees them.  Bearer tokens and bodies passed to the client are
 * borrowed and never logged.
 *
 * Errors: IMAGO_EINVAL, IMAGO_ENOMEM, IMAGO_EIO (bind/connect/read/write, the
 * timeout), IMAGO_ECRYPTO (TLS handshake), IMAGO_EPKI_CHAIN / IMAGO_EPKI_NAME
 * (server certificate refused by the CA / the name), IMAGO_EHTTP_PIN,
 * IMAGO_EHTTP (malformed response), IMAGO_ETOOBIG (response or body over
 * the limit), IMAGO_EAPI_RATE (rate limiter).
 */
#ifndef IMAGO_NET_HTTPS_H
#define IMAGO_NET_HTTPS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct event_base;
struct evhttp_request;

/* ---- server ---- */

struct imago_https_limits {
        size_t max_body;              /* 0 = 65536 */
        size_t max_headers;           /* 0 = 8192 */
        size_t max_url;               /* 0 = 2048 */
        uint32_t request_deadline_ms; /* 0 = 10000 */
        uint32_t idle_timeout_s;      /* 0 = 30 */
        uint32_t max_conns;           /* 0 = 1024 */
        uint32_t max_conns_per_addr;  /* 0 = 32 */
};

typedef void (*imago_https_handler)(struct evhttp_request *req, const char *peer, void *arg);

struct imago_https_server;

/*
 * TLS server context from a certificate chain PEM file (leaf first) and a
 * private key: key_path (PEM, unencrypted, or encrypted with passphrase) or
 * key (an EVP_PKEY, e.g. a PKCS#11 key from imago_identity_evp; up-ref'd).
 * Exactly one of key_path and key.  TLS 1.2 minimum, no compression, no
 * renegotiation, server cipher preference.
 */
int imago_https_server_ctx(const char *chain_path, const char *key_path, const char *passphrase,
                           EVP_PKEY *key, SSL_CTX **out);

/* Listen on host:port (port 0: an ephemeral port, see imago_https_server_port). */
int imago_https_server_new(struct event_base *base, SSL_CTX *ssl, const char *host, uint16_t port,
                           const struct imago_https_limits *lim, imago_https_handler fn, void *arg,
                           struct imago_https_server **out);
uint16_t imago_https_server_port(const struct imago_https_server *s);
/* Number of open connections (tests: the portal closed, slow-loris cut). */
unsigned imago_https_server_conns(const struct imago_https_server *s);
void imago_https_server_free(struct imago_https_server *s);

/* Reply helpers (exactly one reply per request).  body: JSON text, NULL = no body (204). */
void imago_https_reply_json(struct evhttp_request *req, int status, const char *body);
/* {"error":{"code":imago_errname(err),"message":message or imago_strerror(err)}};
 * retry_after_s > 0 adds a Retry-After header. */
void imago_https_reply_error(struct evhttp_request *req, int status, int err, const char *message,
                             unsigned retry_after_s);
/* The HTTP status for an imago error (400, 401, 403, 404, 409, 413, 423, 429, 500, 504...). */
int imago_https_status_of(int err);
/* Copy of the request body, NUL-terminated (NUL inside: IMAGO_EMALFORMED); *out malloc'd. */
int imago_https_body(struct evhttp_request *req, size_t max, char **out, size_t *len);
/* The bearer token of "Authorization: Bearer <tok>" (borrowed), or NULL. */
const char *imago_https_bearer(struct evhttp_request *req);

/* ---- client ---- */

#define IMAGO_HTTPC_BODY_MAX (1024U * 1024U)

struct imago_httpc {
        const char *host; /* connect address (name or IP) */
        uint16_t port;
        const char *ca_path;     /* pinned CA PEM; or */
        const char *pin_sha256;  /* 64 hex: SHA-256 of the leaf certificate DER */
        const char *server_name; /* name checked with ca_path (NULL: host) */
        uint32_t timeout_ms;     /* whole request; 0 = 30000 */
};

struct imago_httpc_resp {
        int status;
        char *body; /* malloc'd, NUL-terminated ("" if none) */
        size_t len;
        /* A 206 answer: its Content-Range "bytes first-last/total" (strict:
         * first <= last < total, last - first + 1 == len); has_range 0 otherwise. */
        int has_range;
        uint64_t range_first;
        uint64_t range_last;
        uint64_t range_total;
};

/* method "GET"/"POST"/"PUT"/"PATCH"/"DELETE"; path starts with '/'; bearer and body may be NULL. */
int imago_httpc_request(const struct imago_httpc *c, const char *method, const char *path,
                        const char *bearer, const char *body, size_t body_len,
                        struct imago_httpc_resp *resp);
/* GET path with "Range: bytes=first-last" (last UINT64_MAX: "bytes=first-"; first <= last);
 * otherwise as imago_httpc_request.  A 206 answer sets resp->has_range and its range. */
int imago_httpc_get_range(const struct imago_httpc *c, const char *path, uint64_t first,
                          uint64_t last, struct imago_httpc_resp *resp);
void imago_httpc_resp_free(struct imago_httpc_resp *r);

/* SHA-256 of a PEM certificate file's DER, 64 lowercase hex (labels, tests). */
int imago_https_cert_fingerprint(const char *pem_path, char out[65]);

/* ---- rate limiter ---- */

struct imago_ratelimit;

/* Token buckets keyed by string: rate tokens per second, burst capacity; at
 * most capacity keys (the least recently used one is forgotten). */
int imago_ratelimit_new(double rate, double burst, size_t capacity, struct imago_ratelimit **out);
void imago_ratelimit_free(struct imago_ratelimit *rl);
/* Take one token for key at now_ms: 0, or IMAGO_EAPI_RATE with *retry_after_ms (may be NULL). */
int imago_ratelimit_take(struct imago_ratelimit *rl, const char *key, uint64_t now_ms,
                         uint64_t *retry_after_ms);

#endif
