/* Private to `imago-cloud repo` (cmd_repo*.c); see cmd_repo.c. */
#ifndef IMAGO_CLOUD_MAIN_CMD_REPO_H
#define IMAGO_CLOUD_MAIN_CMD_REPO_H

#include "cloud/repo/repo.h"

#include <stddef.h>

int imago_cloud_repo_keys(int argc, char **argv);
int imago_cloud_repo_status(int argc, char **argv);
int imago_cloud_repo_publish(int argc, char **argv);
int imago_cloud_repo_refresh(int argc, char **argv);

/* out = DIR/repo; IMAGO_EINVAL when too long. */
int imago_cloud_repo_dir(const char *data_dir, char *out, size_t cap);

#endif
