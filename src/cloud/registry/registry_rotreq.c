/* See registry.h: operator rotation requests (request, pending list, clear). */
#define _POSIX_C_SOURCE 200809L
#include "cloud/registry/registry_priv.h"

#include "base/err.h"

int imago_reg_rotate_clear_tx(struct imago_registry *reg, const char *id)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_reg_prepare(reg->db,
                                   "UPDATE devices SET rotate_requested = 0"
                                   " WHERE id = ?1 AND rotate_requested <> 0",
                                   &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        r = imago_reg_step_done(reg->db, st);
out:
        sqlite3_finalize(st);
        return r;
}

static int request_tx(struct imago_registry *reg, const char *id)
{
        sqlite3_stmt *st = NULL;
        enum imago_reg_state state = 0;
        int64_t now = imago_reg_now();
        int r;

        if ((r = imago_reg_state_of(reg, id, &state)) != 0)
                goto out;
        if (state != IMAGO_REG_ENROLLED) {
                r = IMAGO_EREG_STATE;
                goto out;
        }
        /* conditional on the state read above: a concurrent suspend wins */
        if ((r = imago_reg_prepare(reg->db,
                                   "UPDATE devices SET rotate_requested = CASE"
                                   " WHEN rotate_requested <> 0 THEN rotate_requested ELSE ?2 END,"
                                   " updated_at = ?2 WHERE id = ?1 AND state = ?3",
                                   &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now > 0 ? now : 1);
        sqlite3_bind_int(st, 3, IMAGO_REG_ENROLLED);
        if ((r = imago_reg_step_done(reg->db, st)) != 0)
                goto out;
        r = sqlite3_changes(reg->db) == 1 ? 0 : IMAGO_EREG_STATE;
out:
        sqlite3_finalize(st);
        return r;
}

int imago_registry_rotate_request(struct imago_registry *reg, const char *id)
{
        int r;

        if (reg == NULL || imago_reg_check_id(id) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_reg_begin(reg, 1)) != 0)
                return r;
        return imago_reg_end(reg, request_tx(reg, id));
}

static int clear_tx(struct imago_registry *reg, const char *id)
{
        enum imago_reg_state state = 0;
        int r;

        if ((r = imago_reg_state_of(reg, id, &state)) != 0)
                return r;
        return imago_reg_rotate_clear_tx(reg, id);
}

int imago_registry_rotate_clear(struct imago_registry *reg, const char *id)
{
        int r;

        if (reg == NULL || imago_reg_check_id(id) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_reg_begin(reg, 1)) != 0)
                return r;
        return imago_reg_end(reg, clear_tx(reg, id));
}

static int pending_tx(struct imago_registry *reg, imago_reg_pending_cb cb, void *arg)
{
        sqlite3_stmt *st = NULL;
        const unsigned char *id;
        int r, rc;

        if ((r = imago_reg_prepare(reg->db,
                                   "SELECT id, rotate_requested FROM devices"
                                   " WHERE state = ?1 AND rotate_requested <> 0 ORDER BY id",
                                   &st)) != 0)
                goto out;
        sqlite3_bind_int(st, 1, IMAGO_REG_ENROLLED);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                id = sqlite3_column_text(st, 0);
                if (id == NULL || imago_reg_check_id((const char *)id) != 0) {
                        r = IMAGO_EREG_DB;
                        goto out;
                }
                if ((r = cb((const char *)id, sqlite3_column_int64(st, 1), arg)) != 0)
                        goto out;
        }
        r = rc == SQLITE_DONE ? 0 : imago_reg_sqlite_err(reg->db, rc);
out:
        sqlite3_finalize(st);
        return r;
}

int imago_registry_rotate_pending(struct imago_registry *reg, imago_reg_pending_cb cb, void *arg)
{
        int r, r2;

        if (reg == NULL || cb == NULL)
                return IMAGO_EINVAL;
        if ((r = imago_reg_begin(reg, 0)) != 0)
                return r;
        r = pending_tx(reg, cb, arg);
        /* a callback's stop value is returned as is; the read transaction just ends */
        r2 = imago_reg_end(reg, 0);
        return r != 0 ? r : r2;
}
