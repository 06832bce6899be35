/* imago_ota: version reports (counter persisted first, kept until acked) (see ota.h). */
#define _POSIX_C_SOURCE 200809L
#include "device/ota/ota_priv.h"

#include "base/err.h"
#include "base/hex.h"
#include "base/log.h"

#include <openssl/rand.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t ota_now(struct imago_ota *o)
{
        return o->ops.now ? o->ops.now(o->ops.arg) : (int64_t)time(NULL);
}

int ota_report(struct imago_ota *o, enum imago_vreport_state state, int err, unsigned progress)
{
        struct imago_vreport v;
        struct imago_ota_image inst;
        uint8_t rnd[16];
        char *msg = NULL, nonce[33];
        size_t len = 0;
        int r;

        memset(&v, 0, sizeof(v));
        r = imago_ota_read_installed(o->flash, &inst);
        if (r != IMAGO_OK)
                return r;
        if (RAND_bytes(rnd, sizeof(rnd)) != 1)
                return IMAGO_ECRYPTO;
        imago_hex_encode(rnd, sizeof(rnd), v.nonce);
        memcpy(v.device, o->devid, sizeof(v.device));
        v.time = ota_now(o);
        memcpy(v.installed_sha256, inst.sha256, IMAGO_SHA256_LEN);
        v.installed_length = inst.length;
        memcpy(v.installed_version, inst.version, sizeof(v.installed_version));
        v.installed_security_counter = inst.security_counter;
        snprintf(v.hardware_id, sizeof(v.hardware_id), "%s", o->hwid);
        v.state = state;
        snprintf(v.target, sizeof(v.target), "%s", o->st.target);
        v.rollout = o->st.rollout;
        if (err != 0)
                snprintf(v.error, sizeof(v.error), "%s", imago_errname(err));
        v.progress = progress > 100 ? 100 : progress;

        /* The counter is durable before any report carrying it exists. */
        pthread_mutex_lock(&o->mu);
        v.counter = o->st.counter + 1;
        o->st.counter = v.counter;
        pthread_mutex_unlock(&o->mu);
        r = ota_save(o);
        if (r != IMAGO_OK)
                return r;
        r = imago_vreport_build(&v, o->ops.sign, o->ops.sign_arg, &msg, &len);
        if (r != IMAGO_OK) {
                IMAGO_ERR_R(r, "cannot build the version report");
                return r;
        }
        pthread_mutex_lock(&o->mu);
        ota_state_clear_report(&o->st);
        o->st.report = msg;
        o->st.report_len = len;
        memcpy(o->st.nonce, v.nonce, sizeof(o->st.nonce));
        memcpy(nonce, v.nonce, sizeof(nonce));
        if (state == IMAGO_OTA_SUCCEEDED || state == IMAGO_OTA_FAILED ||
            state == IMAGO_OTA_REVERTED)
                o->st.reported = (int)state;
        pthread_mutex_unlock(&o->mu);
        r = ota_save(o);
        if (r != IMAGO_OK)
                return r;
        o->prog_sent = 1;
        o->prog_ms = ota_mono_ms(o);
        IMAGO_INFO("report %s target '%s'%s%s progress %u (counter %llu)",
                   imago_vreport_state_name(state), v.target, err ? " error " : "",
                   err ? v.error : "", v.progress, (unsigned long long)v.counter);
        if (o->ops.report) {
                uint8_t *copy = NULL;
                size_t clen = 0;

                if (imago_ota_pending(o, nonce, &copy, &clen) == IMAGO_OK && copy) {
                        r = o->ops.report(o->ops.arg, nonce, copy, clen);
                        free(copy);
                        if (r != IMAGO_OK)
                                IMAGO_WARN("report not handed over (%s); resent later",
                                           imago_errname(r));
                }
        }
        return IMAGO_OK;
}

void imago_ota_ack(struct imago_ota *o, const char *nonce)
{
        int drop = 0;

        if (!o || !nonce)
                return;
        pthread_mutex_lock(&o->mu);
        if (o->st.report && strcmp(o->st.nonce, nonce) == 0) {
                ota_state_clear_report(&o->st);
                drop = 1;
                pthread_cond_broadcast(&o->cv);
        }
        pthread_mutex_unlock(&o->mu);
        if (drop)
                (void)ota_save(o);
}

int imago_ota_pending(struct imago_ota *o, char nonce[33], uint8_t **msg, size_t *len)
{
        int r = IMAGO_OK;

        *msg = NULL;
        *len = 0;
        pthread_mutex_lock(&o->mu);
        if (o->st.report) {
                *msg = malloc(o->st.report_len);
                if (!*msg) {
                        r = IMAGO_ENOMEM;
                } else {
                        memcpy(*msg, o->st.report, o->st.report_len);
                        *len = o->st.report_len;
                        memcpy(nonce, o->st.nonce, 33);
                }
        }
        pthread_mutex_unlock(&o->mu);
        return r;
}

void ota_wait_ack(struct imago_ota *o)
{
        struct timespec ts;

        if (o->ack_wait_ms == 0)
                return;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += o->ack_wait_ms / 1000;
        ts.tv_nsec += (long)(o->ack_wait_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&o->mu);
        while (o->st.report) {
                if (pthread_cond_timedwait(&o->cv, &o->mu, &ts) == ETIMEDOUT)
                        break;
        }
        pthread_mutex_unlock(&o->mu);
}
