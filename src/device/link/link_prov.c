/* Provisioning by claim and rotation over the link; see link.h and docs/protocol.md. */
#define _POSIX_C_SOURCE 200809L
#include "link_priv.h"

#include "base/err.h"
#include "base/log.h"
#include "proto/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/rand.h>

static int subscribe(struct imago_link *l, const char *t, int *mid)
{
        if (mosquitto_subscribe(l->mosq, mid, t, 1) != MOSQ_ERR_SUCCESS) {
                IMAGO_WARN("link %s: subscribe failed", l->id);
                return IMAGO_EIO;
        }
        return IMAGO_OK;
}

static void plan_rotation(struct imago_link *l)
{
        long due;

        l->rotate_at_ms = 0;
        if (l->cert == NULL)
                return;
        due = imago_link_rotate_due(l->cert, time(NULL));
        if (due <= 0) {
                l->rotate_wanted = 1;
                return;
        }
        if (due > 100L * 86400L) /* more than the 90-day profile: check again later */
                due = 100L * 86400L;
        l->rotate_at_ms = link_now_ms() + (uint64_t)due * 1000U;
}

void link_prov_on_connect(struct imago_link *l)
{
        char t[LINK_TOPIC_MAX];

        l->sub_ready = 0;
        l->pending = 0;
        if (l->cert_pem == NULL) {
                /* Birth certificate: only the provisioning topics are ours. */
                if (snprintf(t, sizeof(t), "imago/v1/prov/%s/resp", l->id) >= (int)sizeof(t) ||
                    subscribe(l, t, &l->sub_mid) != IMAGO_OK) {
                        link_fail(l, IMAGO_EIO);
                        return;
                }
                link_set_state(l, IMAGO_LINK_ENROLLING, 0);
                return;
        }
        for (size_t i = 0; i < l->nh; i++)
                if (subscribe(l, l->h[i].topic, NULL) != IMAGO_OK) {
                        link_fail(l, IMAGO_EIO);
                        return;
                }
        if (snprintf(t, sizeof(t), "imago/v1/d/%s/rot/now", l->id) >= (int)sizeof(t) ||
            subscribe(l, t, NULL) != IMAGO_OK ||
            snprintf(t, sizeof(t), "imago/v1/d/%s/rot/resp", l->id) >= (int)sizeof(t) ||
            subscribe(l, t, &l->sub_mid) != IMAGO_OK) {
                link_fail(l, IMAGO_EIO);
                return;
        }
        plan_rotation(l);
        link_set_state(l, IMAGO_LINK_ONLINE, 0);
}

static int new_nonce(struct imago_link *l)
{
        unsigned char b[16];
        static const char hex[] = "0123456789abcdef";

        if (RAND_bytes(b, sizeof(b)) != 1)
                return IMAGO_ECRYPTO;
        for (size_t i = 0; i < sizeof(b); i++) {
                l->nonce[2 * i] = hex[b[i] >> 4];
                l->nonce[2 * i + 1] = hex[b[i] & 15];
        }
        l->nonce[32] = '\0';
        return IMAGO_OK;
}

/* Publish `enrol` (birth connection) or `rotate` (operational) with a fresh CSR. */
static int send_request(struct imago_link *l)
{
        struct imago_proto_msg m;
        uint8_t csr[IMAGO_IDENTITY_CSR_MAX + 1];
        char t[LINK_TOPIC_MAX];
        char *body = NULL;
        size_t csr_len = 0, len = 0;
        int r;

        memset(&m, 0, sizeof(m));
        m.type = l->cert_pem == NULL ? IMAGO_PROTO_ENROL : IMAGO_PROTO_ROTATE;
        if (l->nonce[0] == '\0' && (r = new_nonce(l)) != IMAGO_OK)
                goto out;
        if ((r = imago_identity_csr_encode(l->identity, NULL, IMAGO_IDENTITY_PEM, csr,
                                           sizeof(csr) - 1, &csr_len)) != IMAGO_OK)
                goto out;
        csr[csr_len] = '\0';
        memcpy(m.id, l->id, sizeof(m.id));
        memcpy(m.nonce, l->nonce, sizeof(m.nonce));
        m.csr = (char *)csr;
        if ((r = imago_proto_build(&m, &body, &len)) != IMAGO_OK ||
            (r = imago_proto_topic(m.type, l->id, t, sizeof(t))) != IMAGO_OK)
                goto out;
        r = IMAGO_EIO;
        if (len > (size_t)IMAGO_PROTO_MAX ||
            mosquitto_publish(l->mosq, NULL, t, (int)len, body, 1, false) != MOSQ_ERR_SUCCESS)
                goto out;
        l->pending = 1;
        l->tries++;
        l->deadline_ms = link_now_ms() + l->answer_timeout_ms;
        IMAGO_INFO("link %s: %s sent (try %d)", l->id, imago_proto_type_name(m.type), l->tries);
        r = IMAGO_OK;
out:
        m.csr = NULL;
        free(body);
        return r;
}

void link_prov_on_subscribe(struct imago_link *l, int mid)
{
        int r;

        if (mid != l->sub_mid)
                return;
        l->sub_ready = 1;
        if (l->cert_pem == NULL || l->rotate_wanted) {
                l->tries = 0;
                if ((r = send_request(l)) != IMAGO_OK)
                        link_fail(l, r);
        }
}

void link_prov_tick(struct imago_link *l)
{
        int r;

        if (l->pending && link_now_ms() >= l->deadline_ms) {
                l->pending = 0;
                if (l->tries >= LINK_TRIES_MAX) {
                        IMAGO_WARN("link %s: no answer after %d tries", l->id, l->tries);
                        l->tries = 0;
                        link_fail(l, IMAGO_EPROTO_STATE);
                        return;
                }
                if ((r = send_request(l)) != IMAGO_OK)
                        link_fail(l, r);
                return;
        }
        if (l->cert_pem != NULL && l->sub_ready && !l->pending &&
            (l->rotate_wanted || (l->rotate_at_ms != 0 && link_now_ms() >= l->rotate_at_ms))) {
                l->rotate_wanted = 1;
                l->tries = 0;
                if ((r = send_request(l)) != IMAGO_OK)
                        link_fail(l, r);
        }
}

/* A `cert` answer to our request: check, store, reconnect with it. */
static void take_cert(struct imago_link *l, const struct imago_proto_msg *m)
{
        X509 *cert = NULL;
        char *c = NULL, *ch = NULL;
        int r, enrol = l->cert_pem == NULL;

        if ((r = imago_link_cert_check(m->cert, m->chain, l->root, l->id,
                                       imago_identity_evp(l->identity), 0, &cert, NULL)) !=
            IMAGO_OK) {
                IMAGO_ERR_R(r, "link %s: refused the certificate in the answer", l->id);
                goto fail;
        }
        r = IMAGO_ENOMEM;
        if ((c = strdup(m->cert)) == NULL || (ch = strdup(m->chain)) == NULL)
                goto fail;
        if (l->cb.store_cert != NULL && (r = l->cb.store_cert(l->cb.arg, c, ch)) != IMAGO_OK) {
                IMAGO_ERR_R(r, "link %s: could not store the new certificate", l->id);
                goto fail;
        }
        free(l->cert_pem);
        free(l->chain_pem);
        X509_free(l->cert);
        l->cert_pem = c;
        l->chain_pem = ch;
        l->cert = cert;
        /*
         * The TLS context holds the certificate it was built with: a rotation
         * keeps ctx_op at 1, so mark it stale or the reconnection would
         * present the old certificate (rebuilt by the next attempt).
         */
        l->ctx_op = -1;
        l->pending = 0;
        l->tries = 0;
        l->rotate_wanted = 0;
        l->nonce[0] = '\0';
        IMAGO_INFO("link %s: %s; reconnecting with the new certificate", l->id,
                   enrol ? "enrolled" : "rotated");
        l->reconnect_now = 1;
        return;
fail:
        X509_free(cert);
        free(c);
        free(ch);
        l->pending = 0;
        link_fail(l, r);
}

static void on_answer(struct imago_link *l, const struct mosquitto_message *msg)
{
        struct imago_proto_msg m;
        int r, code = IMAGO_EPROTO_STATE;

        memset(&m, 0, sizeof(m));
        if (msg->payloadlen < 0 ||
            (r = imago_proto_parse(msg->payload, (size_t)msg->payloadlen, &m)) != IMAGO_OK) {
                IMAGO_WARN("link %s: malformed answer ignored", l->id);
                goto out;
        }
        if (!l->pending || strcmp(m.id, l->id) != 0 || strcmp(m.nonce, l->nonce) != 0) {
                IMAGO_DEBUG("link %s: answer to another request ignored", l->id);
                goto out;
        }
        if (m.type == IMAGO_PROTO_CERT) {
                take_cert(l, &m);
        } else if (m.type == IMAGO_PROTO_ERROR) {
                (void)imago_err_from_name(m.code, &code);
                IMAGO_WARN("link %s: the cloud refused the request: %s", l->id, m.code);
                l->pending = 0;
                link_fail(l, code);
        }
out:
        imago_proto_free(&m);
}

void link_prov_on_message(struct imago_link *l, const struct mosquitto_message *msg)
{
        char t[LINK_TOPIC_MAX];
        bool match = false;

        if (l->cert_pem == NULL) {
                if (snprintf(t, sizeof(t), "imago/v1/prov/%s/resp", l->id) < (int)sizeof(t) &&
                    strcmp(msg->topic, t) == 0)
                        on_answer(l, msg);
                return;
        }
        if (snprintf(t, sizeof(t), "imago/v1/d/%s/rot/resp", l->id) < (int)sizeof(t) &&
            strcmp(msg->topic, t) == 0) {
                on_answer(l, msg);
                return;
        }
        if (snprintf(t, sizeof(t), "imago/v1/d/%s/rot/now", l->id) < (int)sizeof(t) &&
            strcmp(msg->topic, t) == 0) {
                struct imago_proto_msg m;

                memset(&m, 0, sizeof(m));
                if (msg->payloadlen >= 0 &&
                    imago_proto_parse(msg->payload, (size_t)msg->payloadlen, &m) == IMAGO_OK &&
                    m.type == IMAGO_PROTO_ROTATE_NOW && strcmp(m.id, l->id) == 0) {
                        IMAGO_INFO("link %s: rotate-now from the cloud", l->id);
                        l->rotate_wanted = 1;
                } else {
                        IMAGO_WARN("link %s: malformed rotate-now ignored", l->id);
                }
                imago_proto_free(&m);
                return;
        }
        for (size_t i = 0; i < l->nh; i++)
                if (mosquitto_topic_matches_sub(l->h[i].topic, msg->topic, &match) ==
                        MOSQ_ERR_SUCCESS &&
                    match) {
                        l->h[i].fn(l->h[i].arg, msg->topic, msg->payload,
                                   msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0);
                        return;
                }
}

void imago_link_rotate(struct imago_link *l)
{
        l->rotate_wanted = 1;
}

static int suffix_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 64 || s[0] == '/')
                return 0;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '#' && i == n - 1 && i > 0 && s[i - 1] == '/')
                        continue;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '/' || c == '_' || c == '-'))
                        return 0;
        }
        /* rot/... is the link's own */
        return strncmp(s, "rot/", 4) != 0 && strcmp(s, "rot") != 0;
}

int imago_link_handle(struct imago_link *l, const char *suffix, imago_link_handler fn, void *arg)
{
        if (fn == NULL || suffix == NULL || !suffix_ok(suffix))
                return IMAGO_EINVAL;
        if (l->nh >= LINK_HANDLERS_MAX)
                return IMAGO_ETOOBIG;
        if (snprintf(l->h[l->nh].topic, LINK_TOPIC_MAX, "imago/v1/d/%s/%s", l->id, suffix) >=
            LINK_TOPIC_MAX)
                return IMAGO_ETOOBIG;
        l->h[l->nh].fn = fn;
        l->h[l->nh].arg = arg;
        l->nh++;
        if (l->connected && l->cert_pem != NULL) {
                int r = subscribe(l, l->h[l->nh - 1].topic, NULL);

                link_update_write(l);
                return r;
        }
        return IMAGO_OK;
}

int imago_link_publish(struct imago_link *l, const char *suffix, const uint8_t *payload, size_t len)
{
        char t[LINK_TOPIC_MAX];

        if (suffix == NULL || strchr(suffix, '#') != NULL || strchr(suffix, '+') != NULL ||
            !suffix_ok(suffix) || len > (size_t)IMAGO_PROTO_MAX)
                return IMAGO_EINVAL;
        if (l->state != IMAGO_LINK_ONLINE || l->mosq == NULL || !l->connected)
                return IMAGO_ESTATE;
        if (snprintf(t, sizeof(t), "imago/v1/d/%s/%s", l->id, suffix) >= (int)sizeof(t))
                return IMAGO_ETOOBIG;
        if (mosquitto_publish(l->mosq, NULL, t, (int)len, payload, 1, false) != MOSQ_ERR_SUCCESS)
                return IMAGO_EIO;
        link_update_write(l);
        return IMAGO_OK;
}
