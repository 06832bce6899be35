/* See registry.h: the deny set and certificate counts (read-only transactions). */
#define _POSIX_C_SOURCE 200809L
#include "cloud/registry/registry_priv.h"

#include "base/err.h"

static int deny_tx(struct imago_registry *reg,
                   int (*cb_id)(const char *id, enum imago_reg_state state, void *arg),
                   int (*cb_serial)(const char *serial, void *arg), void *arg)
{
        sqlite3_stmt *st = NULL;
        int r, rc;

        if ((r = imago_reg_prepare(
                 reg->db, "SELECT id, state FROM devices WHERE state IN (?1, ?2) ORDER BY id",
                 &st)) != 0)
                goto out;
        sqlite3_bind_int(st, 1, IMAGO_REG_SUSPENDED);
        sqlite3_bind_int(st, 2, IMAGO_REG_REVOKED);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (cb_id != NULL &&
                    (r = cb_id((const char *)sqlite3_column_text(st, 0),
                               (enum imago_reg_state)sqlite3_column_int(st, 1), arg)) != 0)
                        goto out;
        }
        if (rc != SQLITE_DONE) {
                r = imago_reg_sqlite_err(reg->db, rc);
                goto out;
        }
        sqlite3_finalize(st);
        st = NULL;
        if ((r = imago_reg_prepare(
                 reg->db,
                 "SELECT c.serial FROM certs c JOIN devices d ON d.id = c.device_id"
                 " WHERE c.revoked = 1 AND d.state IN (?1, ?2) ORDER BY c.serial",
                 &st)) != 0)
                goto out;
        sqlite3_bind_int(st, 1, IMAGO_REG_IMPORTED);
        sqlite3_bind_int(st, 2, IMAGO_REG_ENROLLED);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (cb_serial != NULL &&
                    (r = cb_serial((const char *)sqlite3_column_text(st, 0), arg)) != 0)
                        goto out;
        }
        r = rc == SQLITE_DONE ? 0 : imago_reg_sqlite_err(reg->db, rc);
out:
        sqlite3_finalize(st);
        return r;
}

int imago_registry_deny_set(struct imago_registry *reg,
                            int (*cb_id)(const char *id, enum imago_reg_state state, void *arg),
                            int (*cb_serial)(const char *serial, void *arg), void *arg)
{
        int r, r2;

        if (reg == NULL)
                return IMAGO_EINVAL;
        if ((r = imago_reg_begin(reg, 0)) != 0)
                return r;
        r = deny_tx(reg, cb_id, cb_serial, arg);
        r2 = imago_reg_end(reg, 0);
        return r != 0 ? r : r2;
}

static int count_tx(struct imago_registry *reg, const char *id, int *count)
{
        sqlite3_stmt *st = NULL;
        int r, rc;

        if ((r = imago_reg_prepare(reg->db, "SELECT count(*) FROM certs WHERE device_id = ?1",
                                   &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
                r = imago_reg_sqlite_err(reg->db, rc);
                goto out;
        }
        *count = sqlite3_column_int(st, 0);
        r = 0;
out:
        sqlite3_finalize(st);
        return r;
}

int imago_registry_cert_count(struct imago_registry *reg, const char *id, int *count)
{
        int r;

        if (reg == NULL || count == NULL || imago_reg_check_id(id) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_reg_begin(reg, 0)) != 0)
                return r;
        return imago_reg_end(reg, count_tx(reg, id, count));
}
