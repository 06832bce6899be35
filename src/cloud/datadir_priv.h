/* Private to the data directory code (datadir*.c); see datadir.h. */
#ifndef IMAGO_CLOUD_DATADIR_PRIV_H
#define IMAGO_CLOUD_DATADIR_PRIV_H

#include "cloud/config.h"

#include <stddef.h>

/* Copy the four CA certificates and the two cloud CA keys (must be encrypted) into dir/ca. */
int imago_cloud_datadir_copy_ca(const char *ca_dir, const char *dir);

/* Issue the broker's server certificate and the service identity under dir/ca's server CA. */
int imago_cloud_datadir_issue(const char *dir, const struct imago_cloud_config *c,
                              const char *passphrase, const char *const *names, size_t nnames);

/* Issue the API's server certificate (api/api.crt: leaf + server CA; api/api.key encrypted). */
int imago_cloud_datadir_issue_api(const char *dir, const char *passphrase, const char *const *names,
                                  size_t nnames);

/* Create dir/keys (command and registration-token keys, encrypted), app.db and audit.db. */
int imago_cloud_datadir_app_files(const char *dir, const char *passphrase);

#endif
