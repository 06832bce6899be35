/* imago_ota_https private: the handle and the object -> request path mapping. */
#ifndef IMAGO_DEVICE_OTA_HTTPS_PRIV_H
#define IMAGO_DEVICE_OTA_HTTPS_PRIV_H

#include <stdatomic.h>

#include "device/ota_https/ota_https.h"
#include "net/https.h"

#define OTA_HTTPS_PATH_MAX (IMAGO_OTA_HTTPS_PREFIX_MAX + 256u)

struct imago_ota_https {
        char host[IMAGO_OTA_HTTPS_HOST_MAX + 1];
        char prefix[IMAGO_OTA_HTTPS_PREFIX_MAX + 1];
        char *ca_path;
        struct imago_httpc c;
        atomic_int cancelled;
        imago_ota_https_progress_fn progress;
        void *progress_arg;
};

/* "<prefix><object minus 'image/'>" for a valid object under want ("image/metadata/" or
 * "image/targets/"). Errors: IMAGO_EINVAL. */
int ota_https_path(const struct imago_ota_https *h, const char *object, const char *want, char *out,
                   size_t cap);
/* The IMAGO_E* code for a non-2xx status. */
int ota_https_status_err(int status);

#endif
