/*
 * Logging for host programs (not used by the boot core).
 *
 * Messages go to a sink: stderr by default, or a function set with
 * imago_log_set_sink() (tests capture logs to prove no secret is printed).
 * The level comes from imago_log_set_level() or, at the first message, from
 * the IMAGO_LOG environment variable (error|warn|info|debug); default warn.
 * Never pass secret material to these macros.
 */
#ifndef IMAGO_BASE_LOG_H
#define IMAGO_BASE_LOG_H

enum imago_log_level {
        IMAGO_LOG_ERROR = 0,
        IMAGO_LOG_WARN = 1,
        IMAGO_LOG_INFO = 2,
        IMAGO_LOG_DEBUG = 3,
};

typedef void (*imago_log_sink)(enum imago_log_level level, const char *line, void *arg);

void imago_log_set_level(enum imago_log_level level);
enum imago_log_level imago_log_get_level(void);

/* sink NULL restores stderr. */
void imago_log_set_sink(imago_log_sink sink, void *arg);

/* r is an IMAGO_E* code appended as ": <description>" when non-zero. */
void imago_log(enum imago_log_level level, const char *func, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define IMAGO_ERR(...)      imago_log(IMAGO_LOG_ERROR, __func__, 0, __VA_ARGS__)
#define IMAGO_ERR_R(r, ...) imago_log(IMAGO_LOG_ERROR, __func__, (r), __VA_ARGS__)
#define IMAGO_WARN(...)     imago_log(IMAGO_LOG_WARN, __func__, 0, __VA_ARGS__)
#define IMAGO_INFO(...)     imago_log(IMAGO_LOG_INFO, __func__, 0, __VA_ARGS__)
#define IMAGO_DEBUG(...)    imago_log(IMAGO_LOG_DEBUG, __func__, 0, __VA_ARGS__)

#endif
