/*
 * imago-cloud service logs: one line per event on stderr,
 *   ts=2026-11-22T00:40:00Z level=info event=enrol id=<hex> result=ok
 * The caller passes the key=value pairs after "event=<name>"; values are
 * ids, serials, IMAGO_E names, numbers or addresses, never key material,
 * passphrases or message bodies (values with spaces are the caller's to
 * quote).  Lines longer than 1 KiB are cut.  Level filter: imago_log level
 * (IMAGO_LOG env, default warn) raised to info by the service.
 */
#ifndef IMAGO_CLOUD_SVC_LOG_H
#define IMAGO_CLOUD_SVC_LOG_H

#include "base/log.h"

void imago_svc_log(enum imago_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
