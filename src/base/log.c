/* See log.h. */
#include "log.h"

#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int log_level = -1;
static imago_log_sink log_sink;
static void *log_sink_arg;

static int level_from_env(void)
{
        const char *s = getenv("IMAGO_LOG");

        if (s == NULL)
                return IMAGO_LOG_WARN;
        if (strcmp(s, "error") == 0)
                return IMAGO_LOG_ERROR;
        if (strcmp(s, "info") == 0)
                return IMAGO_LOG_INFO;
        if (strcmp(s, "debug") == 0)
                return IMAGO_LOG_DEBUG;
        return IMAGO_LOG_WARN;
}

void imago_log_set_level(enum imago_log_level level)
{
        log_level = (int)level;
}

enum imago_log_level imago_log_get_level(void)
{
        if (log_level < 0)
                log_level = level_from_env();
        return (enum imago_log_level)log_level;
}

void imago_log_set_sink(imago_log_sink sink, void *arg)
{
        log_sink = sink;
        log_sink_arg = arg;
}

static const char *level_name(enum imago_log_level level)
{
        switch (level) {
        case IMAGO_LOG_ERROR:
                return "error";
        case IMAGO_LOG_WARN:
                return "warning";
        case IMAGO_LOG_INFO:
                return "info";
        default:
                return "debug";
        }
}

void imago_log(enum imago_log_level level, const char *func, int r, const char *fmt, ...)
{
        char msg[1024];
        char line[1280];
        va_list ap;

        if ((int)level > (int)imago_log_get_level())
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (r != 0)
                snprintf(line, sizeof(line), "%s: %s: %s: %s", level_name(level), func, msg,
                         imago_strerror(r));
        else
                snprintf(line, sizeof(line), "%s: %s: %s", level_name(level), func, msg);
        if (log_sink != NULL) {
                log_sink(level, line, log_sink_arg);
                return;
        }
        fprintf(stderr, "%s\n", line);
}
