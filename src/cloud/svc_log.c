/* See svc_log.h. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/svc_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static const char *level_name(enum imago_log_level level)
{
        switch (level) {
        case IMAGO_LOG_ERROR:
                return "error";
        case IMAGO_LOG_WARN:
                return "warn";
        case IMAGO_LOG_INFO:
                return "info";
        default:
                return "debug";
        }
}

void imago_svc_log(enum imago_log_level level, const char *event, const char *fmt, ...)
{
        char ts[32] = "?", kv[900];
        struct tm tm;
        time_t now = time(NULL);
        va_list ap;

        if ((int)level > (int)imago_log_get_level())
                return;
        if (gmtime_r(&now, &tm) != NULL)
                strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        kv[0] = '\0';
        if (fmt != NULL) {
                va_start(ap, fmt);
                vsnprintf(kv, sizeof(kv), fmt, ap);
                va_end(ap);
        }
        /* One write per line so concurrent writers do not interleave. */
        fprintf(stderr, "ts=%s level=%s event=%s%s%s\n", ts, level_name(level), event,
                kv[0] != '\0' ? " " : "", kv);
}
