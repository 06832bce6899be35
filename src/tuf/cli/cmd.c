/*
 * imago-tuf commands (see cli.h): init, refresh, download over the HTTP
 * fetcher.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "tuf/cli/cli.h"
#include "tuf/client/client.h"

int imago_tuf_cmd_init(const struct imago_tuf_cli_opts *o)
{
        if (o->metadata_url != NULL || o->target_base_url != NULL || o->target_dir != NULL ||
            o->n_names > 0)
                return IMAGO_EUSAGE;
        return imago_tuf_client_init_dir(o->metadata_dir, o->arg);
}

static int open_refreshed(const struct imago_tuf_cli_opts *o, struct imago_tuf_client *c,
                          struct imago_tuf_http *http)
{
        struct imago_tuf_fetcher f;
        int r;

        memset(http, 0, sizeof(*http));
        f.get = imago_tuf_http_get;
        f.ctx = http;
        r = imago_tuf_client_open(c, o->metadata_dir, o->metadata_url, &f, NULL);
        if (r == IMAGO_OK)
                r = imago_tuf_client_refresh(c);
        return r;
}

int imago_tuf_cmd_refresh(const struct imago_tuf_cli_opts *o)
{
        struct imago_tuf_client c;
        struct imago_tuf_http http;
        int r;

        if (o->metadata_url == NULL || o->target_base_url != NULL || o->target_dir != NULL ||
            o->n_names > 0)
                return IMAGO_EUSAGE;
        r = open_refreshed(o, &c, &http);
        imago_tuf_client_close(&c);
        return r;
}

int imago_tuf_cmd_download(const struct imago_tuf_cli_opts *o)
{
        const struct imago_tuf_target *t;
        struct imago_tuf_client c;
        struct imago_tuf_http http;
        size_t i;
        int r, cached;

        if (o->metadata_url == NULL || o->target_base_url == NULL || o->target_dir == NULL ||
            o->n_names == 0)
                return IMAGO_EUSAGE;
        r = open_refreshed(o, &c, &http);
        for (i = 0; i < o->n_names && r == IMAGO_OK; i++) {
                r = imago_tuf_client_find(&c, o->names[i], &t);
                if (r == IMAGO_ETUF_NOTARGET)
                        IMAGO_ERR("no target %s", o->names[i]);
                if (r == IMAGO_OK)
                        r = imago_tuf_client_download(&c, t, o->target_base_url, o->target_dir,
                                                      &cached);
        }
        imago_tuf_client_close(&c);
        return r;
}
