/* See registry.h: importing a whole batch in one transaction. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/registry/registry_priv.h"

#include "base/err.h"

#include <string.h>

/* 1 if present with the same batch and birth serial, 0 if absent, IMAGO_EEXIST if another. */
static int known(struct imago_registry *reg, sqlite3_stmt *sel, const char *batch,
                 const struct imago_reg_import_item *it)
{
        int rc, r;

        sqlite3_reset(sel);
        sqlite3_bind_text(sel, 1, it->id, -1, SQLITE_STATIC);
        rc = sqlite3_step(sel);
        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return imago_reg_sqlite_err(reg->db, rc);
        r = strcmp((const char *)sqlite3_column_text(sel, 0), batch) == 0 &&
                    strcmp((const char *)sqlite3_column_text(sel, 1), it->birth_serial) == 0
                ? 1
                : IMAGO_EEXIST;
        return r;
}

static int batch_tx(struct imago_registry *reg, const char *batch,
                    const struct imago_reg_import_item *items, size_t n, size_t *added,
                    size_t *conflict)
{
        sqlite3_stmt *sel = NULL, *ins = NULL;
        int64_t now = imago_reg_now();
        size_t i;
        int r;

        if ((r = imago_reg_prepare(reg->db, "SELECT batch, birth_serial FROM devices WHERE id = ?1",
                                   &sel)) != 0 ||
            (r = imago_reg_prepare(reg->db,
                                   "INSERT INTO devices(id, state, batch, birth_serial,"
                                   " imported_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                                   &ins)) != 0)
                goto out;
        for (i = 0; i < n; i++) {
                if ((r = known(reg, sel, batch, &items[i])) < 0) {
                        *conflict = i;
                        goto out;
                }
                if (r == 1)
                        continue;
                sqlite3_reset(ins);
                sqlite3_bind_text(ins, 1, items[i].id, -1, SQLITE_STATIC);
                sqlite3_bind_int(ins, 2, IMAGO_REG_IMPORTED);
                sqlite3_bind_text(ins, 3, batch, -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 4, items[i].birth_serial, -1, SQLITE_STATIC);
                sqlite3_bind_int64(ins, 5, now);
                if ((r = imago_reg_step_done(reg->db, ins)) != 0) {
                        *conflict = i; /* a duplicate id inside the batch */
                        goto out;
                }
                (*added)++;
        }
        r = 0;
out:
        sqlite3_finalize(sel);
        sqlite3_finalize(ins);
        return r;
}

int imago_registry_import_batch(struct imago_registry *reg, const char *batch,
                                const struct imago_reg_import_item *items, size_t n, size_t *added,
                                size_t *conflict)
{
        size_t i, a = 0, c = 0;
        int r;

        if (reg == NULL || (items == NULL && n > 0) || imago_reg_check_batch(batch) != 0)
                return IMAGO_EINVAL;
        for (i = 0; i < n; i++) {
                if (imago_reg_check_id(items[i].id) != 0 ||
                    imago_reg_check_serial(items[i].birth_serial) != 0) {
                        if (conflict != NULL)
                                *conflict = i;
                        return IMAGO_EINVAL;
                }
        }
        if ((r = imago_reg_begin(reg, 1)) != 0)
                return r;
        r = imago_reg_end(reg, batch_tx(reg, batch, items, n, &a, &c));
        if (r == 0 && added != NULL)
                *added = a;
        if (r != 0 && conflict != NULL)
                *conflict = c;
        return r;
}
