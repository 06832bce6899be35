/* See rollout.h: reading rollouts, their devices and counters. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/rollout/rollout_priv.h"

#include "base/err.h"

#include <string.h>

static void copy_text(char *dst, size_t len, const unsigned char *src)
{
        size_t n = src != NULL ? strnlen((const char *)src, len - 1) : 0;

        if (n > 0)
                memcpy(dst, src, n);
        dst[n] = '\0';
}

int imago_rollout_counts(struct imago_rollout *ro, uint64_t id, struct imago_rollout_counts *c)
{
        sqlite3_stmt *st = NULL;
        int r, rc;

        memset(c, 0, sizeof(*c));
        if ((r = imago_rollout_stmt(ro, IMAGO_ROLLOUT_SQL_COUNTS, &st)) != 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                int s = sqlite3_column_int(st, 0);
                uint64_t n = (uint64_t)sqlite3_column_int64(st, 1);
                uint64_t adm = (uint64_t)sqlite3_column_double(st, 2);

                if (s < IMAGO_OTA_QUEUED || s > IMAGO_OTA_REVERTED) {
                        r = IMAGO_EREG_DB;
                        break;
                }
                c->state[s] += n;
                c->total += n;
                c->admitted += adm;
                if (s < IMAGO_OTA_SUCCEEDED)
                        c->unfinished += adm;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = imago_rollout_sqlite_err(ro->db, rc);
        imago_rollout_stmt_put(st);
        return r;
}

static int row_info(sqlite3_stmt *st, struct imago_rollout_info *out)
{
        struct imago_rollout_spec *s = &out->spec;
        int r;

        memset(out, 0, sizeof(*out));
        out->id = (uint64_t)sqlite3_column_int64(st, 0);
        copy_text(s->name, sizeof(s->name), sqlite3_column_text(st, 1));
        copy_text(s->target, sizeof(s->target), sqlite3_column_text(st, 2));
        copy_text(s->group, sizeof(s->group), sqlite3_column_text(st, 3));
        copy_text(s->tag, sizeof(s->tag), sqlite3_column_text(st, 4));
        if (sqlite3_column_text(st, 5) == NULL)
                return IMAGO_EREG_DB;
        if ((r = imago_rollout_stages_decode((const char *)sqlite3_column_text(st, 5), s)) != 0)
                return r;
        s->max_concurrent = (unsigned)sqlite3_column_int64(st, 6);
        s->abort_percent = (unsigned)sqlite3_column_int64(st, 7);
        s->abort_min = (unsigned)sqlite3_column_int64(st, 8);
        s->device_timeout_s = (uint32_t)sqlite3_column_int64(st, 9);
        out->status = (enum imago_rollout_status)sqlite3_column_int(st, 10);
        out->stage = (unsigned)sqlite3_column_int(st, 11);
        out->created_by = (uint64_t)sqlite3_column_int64(st, 12);
        out->created_at = sqlite3_column_int64(st, 13);
        out->updated_at = sqlite3_column_int64(st, 14);
        copy_text(out->reason, sizeof(out->reason), sqlite3_column_text(st, 15));
        if (out->stage >= s->nstages)
                return IMAGO_EREG_DB;
        return 0;
}

int imago_rollout_load(struct imago_rollout *ro, uint64_t id, struct imago_rollout_info *out)
{
        struct imago_rollout_counts c;
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_rollout_stmt(ro, IMAGO_ROLLOUT_SQL_GET, &st)) != 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        if ((r = imago_rollout_step_row(ro, st)) == 0)
                r = row_info(st, out);
        imago_rollout_stmt_put(st);
        if (r != 0)
                return r;
        if ((r = imago_rollout_counts(ro, id, &c)) != 0)
                return r;
        memcpy(out->count, c.state, sizeof(out->count));
        out->total = c.total;
        out->admitted = c.admitted;
        return 0;
}

int imago_rollout_get(struct imago_rollout *ro, uint64_t id, struct imago_rollout_info *out)
{
        if (ro == NULL || out == NULL || id == 0 || id > INT64_MAX)
                return IMAGO_EINVAL;
        return imago_rollout_load(ro, id, out);
}

int imago_rollout_list(struct imago_rollout *ro,
                       int (*cb)(const struct imago_rollout_info *i, void *arg), void *arg)
{
        struct imago_rollout_info info;
        sqlite3_stmt *st = NULL;
        uint64_t before = (uint64_t)INT64_MAX;
        int r, rc;

        if (ro == NULL || cb == NULL)
                return IMAGO_EINVAL;
        /* one rollout at a time (the callback may call back into ro) */
        rc = sqlite3_prepare_v2(ro->db,
                                "SELECT id FROM rollouts WHERE id < ?1 ORDER BY id DESC"
                                " LIMIT 1",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return imago_rollout_sqlite_err(ro->db, rc);
        for (;;) {
                sqlite3_reset(st);
                sqlite3_bind_int64(st, 1, (sqlite3_int64)before);
                if ((r = imago_rollout_step_row(ro, st)) != 0) {
                        if (r == IMAGO_ENOTFOUND)
                                r = 0;
                        break;
                }
                before = (uint64_t)sqlite3_column_int64(st, 0);
                sqlite3_reset(st);
                if ((r = imago_rollout_load(ro, before, &info)) != 0)
                        break;
                if ((r = cb(&info, arg)) != 0)
                        break;
        }
        sqlite3_finalize(st);
        return r;
}

int imago_rollout_devices(struct imago_rollout *ro, uint64_t id,
                          int (*cb)(const struct imago_rollout_device *d, void *arg), void *arg)
{
        struct imago_rollout_device d;
        sqlite3_stmt *st = NULL;
        struct imago_rollout_info info;
        int r, rc;

        if (ro == NULL || cb == NULL || id == 0 || id > INT64_MAX)
                return IMAGO_EINVAL;
        if ((r = imago_rollout_load(ro, id, &info)) != 0)
                return r;
        /* a statement of its own: the callback may call back into ro */
        rc = sqlite3_prepare_v2(ro->db,
                                "SELECT device, state, admitted, error, progress, updated_at FROM"
                                " rollout_devices WHERE rollout = ?1 ORDER BY ord, device",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return imago_rollout_sqlite_err(ro->db, rc);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                memset(&d, 0, sizeof(d));
                copy_text(d.device, sizeof(d.device), sqlite3_column_text(st, 0));
                d.state = (enum imago_vreport_state)sqlite3_column_int(st, 1);
                d.admitted = sqlite3_column_int(st, 2) != 0;
                copy_text(d.error, sizeof(d.error), sqlite3_column_text(st, 3));
                d.progress = (unsigned)sqlite3_column_int(st, 4);
                d.updated_at = sqlite3_column_int64(st, 5);
                if ((r = cb(&d, arg)) != 0)
                        break;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = imago_rollout_sqlite_err(ro->db, rc);
        sqlite3_finalize(st);
        return r;
}

int imago_rollout_active_of(struct imago_rollout *ro, const char *device, uint64_t *id)
{
        sqlite3_stmt *st = NULL;
        int r;

        if (ro == NULL || id == NULL || !imago_device_id_valid(device))
                return IMAGO_EINVAL;
        *id = 0;
        if ((r = imago_rollout_stmt(ro, IMAGO_ROLLOUT_SQL_ACTIVE_OF, &st)) != 0)
                return r;
        sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
        r = imago_rollout_step_row(ro, st);
        if (r == 0)
                *id = (uint64_t)sqlite3_column_int64(st, 0);
        else if (r == IMAGO_ENOTFOUND)
                r = 0;
        imago_rollout_stmt_put(st);
        return r;
}
