/*
 * imago-cloud service: the image repository's timer (docs/repo.md).  While the service runs,
 * it re-signs the timestamp (and the snapshot) of DIR/repo before they expire: at start, then
 * every min(60 s, a quarter of the timestamp margin); repo.conf is read at every tick.
 *
 * start decrypts the online keys with the cloud passphrase (a data directory without them
 * runs with no timer and a warning: *out NULL, returns 0); audit is borrowed (records
 * repo.timestamp by "service") and must outlive the timer.  stop frees everything (NULL ok).
 * Errors: IMAGO_ENOMEM, IMAGO_EKEY_PASSPHRASE, IMAGO_EKEY_FORMAT, IMAGO_EIO.
 */
#ifndef IMAGO_CLOUD_SVC_REPO_H
#define IMAGO_CLOUD_SVC_REPO_H

#include <event2/event.h>

struct imago_audit;
struct imago_svc_repo;

int imago_svc_repo_start(struct event_base *base, const char *data_dir, const char *passphrase,
                         struct imago_audit *audit, struct imago_svc_repo **out);
void imago_svc_repo_stop(struct imago_svc_repo *r);

#endif
