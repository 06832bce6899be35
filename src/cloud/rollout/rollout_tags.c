/* See rollout.h: device tags. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/rollout/rollout_priv.h"

#include "base/err.h"

#include <string.h>

int imago_rollout_tags_set(struct imago_rollout *ro, const char *device, const char *const *tags,
                           size_t n)
{
        sqlite3_stmt *st = NULL;
        size_t i, j;
        int r;

        if (ro == NULL || !imago_device_id_valid(device) || n > IMAGO_ROLLOUT_TAGS_MAX ||
            (n > 0 && tags == NULL))
                return IMAGO_EINVAL;
        for (i = 0; i < n; i++) {
                if (!imago_rollout_tag_valid(tags[i]))
                        return IMAGO_EINVAL;
                for (j = 0; j < i; j++)
                        if (strcmp(tags[i], tags[j]) == 0)
                                return IMAGO_EINVAL;
        }
        if ((r = imago_rollout_begin(ro)) != 0)
                return r;
        if ((r = imago_rollout_stmt(ro, IMAGO_ROLLOUT_SQL_TAGS_DELETE, &st)) == 0) {
                sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
                r = imago_rollout_step_done(ro, st);
                imago_rollout_stmt_put(st);
        }
        for (i = 0; r == 0 && i < n; i++) {
                if ((r = imago_rollout_stmt(ro, IMAGO_ROLLOUT_SQL_TAG_INSERT, &st)) != 0)
                        break;
                sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, tags[i], -1, SQLITE_STATIC);
                r = imago_rollout_step_done(ro, st);
                imago_rollout_stmt_put(st);
        }
        return imago_rollout_end(ro, r);
}

/* cb over column 0 of "sql" bound to key (a statement of its own: cb may call into ro) */
static int each(struct imago_rollout *ro, const char *sql, const char *key,
                int (*cb)(const char *s, void *arg), void *arg)
{
        sqlite3_stmt *st = NULL;
        int r = 0, rc;

        rc = sqlite3_prepare_v2(ro->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return imago_rollout_sqlite_err(ro->db, rc);
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const unsigned char *t = sqlite3_column_text(st, 0);

                if (t == NULL) {
                        r = IMAGO_EREG_DB;
                        break;
                }
                if ((r = cb((const char *)t, arg)) != 0)
                        break;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = imago_rollout_sqlite_err(ro->db, rc);
        sqlite3_finalize(st);
        return r;
}

int imago_rollout_tags(struct imago_rollout *ro, const char *device,
                       int (*cb)(const char *tag, void *arg), void *arg)
{
        if (ro == NULL || cb == NULL || !imago_device_id_valid(device))
                return IMAGO_EINVAL;
        return each(ro, "SELECT tag FROM device_tags WHERE device = ?1 ORDER BY tag", device, cb,
                    arg);
}

int imago_rollout_tagged(struct imago_rollout *ro, const char *tag,
                         int (*cb)(const char *device, void *arg), void *arg)
{
        if (ro == NULL || cb == NULL || !imago_rollout_tag_valid(tag))
                return IMAGO_EINVAL;
        return each(ro, "SELECT device FROM device_tags WHERE tag = ?1 ORDER BY device", tag, cb,
                    arg);
}
