/* imago_ota: "downloading" reports with the progress of the file being fetched (see ota.h). */
#define _POSIX_C_SOURCE 200809L
#include "device/ota/ota_priv.h"

#include "base/err.h"
#include "base/log.h"

#include <time.h>

uint64_t ota_mono_ms(struct imago_ota *o)
{
        struct timespec ts;

        if (o->ops.mono_ms)
                return o->ops.mono_ms(o->ops.arg);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The transport's callback, on the worker thread (inside fetch_file, no lock held). */
static void on_progress(void *arg, uint64_t done, uint64_t total)
{
        struct imago_ota *o = arg;
        unsigned pct;
        int r;

        if (!o->prog_active || o->st.phase != OTA_PH_DOWNLOADING || total == 0 || done >= total)
                return; /* the end is told by the next state */
        if (total <= UINT64_MAX / 100u)
                pct = (unsigned)(done * 100u / total);
        else
                pct = (unsigned)(done / (total / 100u));
        if (pct > 99)
                pct = 99;
        if (pct < o->prog_pct + OTA_PROGRESS_STEP)
                return;
        if (o->prog_sent && ota_mono_ms(o) - o->prog_ms < OTA_PROGRESS_MIN_MS)
                return;
        /* Counted as reported even when it failed: no retry at every block. */
        o->prog_pct = pct;
        r = ota_report(o, IMAGO_OTA_DOWNLOADING, 0, pct);
        if (r != IMAGO_OK)
                IMAGO_WARN("progress report not made (%s)", imago_errname(r));
}

void ota_progress_begin(struct imago_ota *o)
{
        o->prog_pct = 0;
        o->prog_active = 1;
        if (o->ops.tr.set_progress)
                o->ops.tr.set_progress(o->ops.tr.ctx, on_progress, o);
}

void ota_progress_end(struct imago_ota *o)
{
        o->prog_active = 0;
        if (o->ops.tr.set_progress)
                o->ops.tr.set_progress(o->ops.tr.ctx, NULL, NULL);
}
