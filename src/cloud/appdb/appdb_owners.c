/* See appdb.h: device ownership and registration-token nonces. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/appdb/appdb_priv.h"

#include "base/err.h"

static int bind_tx(struct imago_appdb *db, const char *device, uint64_t user, int64_t now)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_appdb_user_exists_tx(db, user)) != 0)
                goto out;
        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_OWNER_BIND, &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)user);
        sqlite3_bind_int64(st, 3, now);
        if ((r = imago_appdb_step_done(db->db, st)) != 0)
                goto out;
        imago_appdb_stmt_put(st);
        st = NULL;
        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_OWNER_GET, &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
        if ((r = imago_appdb_step_row(db->db, st)) != 0)
                goto out;
        r = (uint64_t)sqlite3_column_int64(st, 0) == user ? 0 : IMAGO_EAPI_BOUND;
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_bind(struct imago_appdb *db, const char *device, uint64_t user, int64_t now)
{
        int r;

        if (db == NULL || imago_appdb_check_device(device) != 0 || imago_appdb_check_id(user) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 1)) != 0)
                return r;
        return imago_appdb_end(db, bind_tx(db, device, user, now));
}

static int owner_tx(struct imago_appdb *db, const char *device, uint64_t *user)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_OWNER_GET, &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
        r = imago_appdb_step_row(db->db, st);
        if (r == 0)
                *user = (uint64_t)sqlite3_column_int64(st, 0);
        else if (r == IMAGO_ENOTFOUND)
                r = 0;
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_owner(struct imago_appdb *db, const char *device, uint64_t *user)
{
        int r;

        if (db == NULL || user == NULL)
                return IMAGO_EINVAL;
        *user = 0;
        if (imago_appdb_check_device(device) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 0)) != 0)
                return r;
        r = imago_appdb_end(db, owner_tx(db, device, user));
        if (r != 0)
                *user = 0;
        return r;
}

static int exec_text(struct imago_appdb *db, enum imago_appdb_sql id, const char *s)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_appdb_stmt(db, id, &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, s, -1, SQLITE_STATIC);
        r = imago_appdb_step_done(db->db, st);
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_unbind(struct imago_appdb *db, const char *device)
{
        int r;

        if (db == NULL || imago_appdb_check_device(device) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 1)) != 0)
                return r;
        return imago_appdb_end(db, exec_text(db, IMAGO_APPDB_SQL_OWNER_UNBIND, device));
}

static int owned_tx(struct imago_appdb *db, uint64_t user,
                    int (*cb)(const char *device, int64_t bound_at, void *arg), void *arg)
{
        char device[33];
        sqlite3_stmt *st = NULL;
        int r, rc;

        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_OWNED, &st)) != 0)
                goto out;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)user);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if ((r = imago_appdb_col_copy(st, 0, device, sizeof(device))) != 0)
                        goto out;
                if ((r = cb(device, sqlite3_column_int64(st, 1), arg)) != 0)
                        goto out;
        }
        r = rc == SQLITE_DONE ? 0 : imago_appdb_sqlite_err(db->db, rc);
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_owned(struct imago_appdb *db, uint64_t user,
                      int (*cb)(const char *device, int64_t bound_at, void *arg), void *arg)
{
        int r, r2;

        if (db == NULL || cb == NULL || imago_appdb_check_id(user) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 0)) != 0)
                return r;
        r = owned_tx(db, user, cb, arg);
        r2 = imago_appdb_end(db, 0);
        return r != 0 ? r : r2;
}

static int claim_tx(struct imago_appdb *db, const char *nonce, int64_t expiry, const char *device,
                    int *again)
{
        sqlite3_stmt *st = NULL;
        int r;

        /* the primary key makes the claim: a second insert is a constraint error (IMAGO_EEXIST) */
        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_NONCE_CLAIM, &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, nonce, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, expiry);
        if (device != NULL)
                sqlite3_bind_text(st, 3, device, -1, SQLITE_STATIC);
        else
                sqlite3_bind_null(st, 3);
        r = imago_appdb_step_done(db->db, st);
        if (r != IMAGO_EEXIST || device == NULL)
                goto out;
        /* claimed before: by this same device (its retry after a lost answer)? */
        imago_appdb_stmt_put(st);
        st = NULL;
        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_NONCE_SAME_DEVICE, &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, nonce, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
                *again = 1;
                r = 0;
        } else
                r = r == SQLITE_DONE ? IMAGO_EEXIST : IMAGO_EREG_DB;
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_claim_nonce_dev(struct imago_appdb *db, const char *nonce, int64_t expiry,
                                const char *device, int *again)
{
        int r;

        if (again != NULL)
                *again = 0;
        if (db == NULL || again == NULL || imago_appdb_check_hex32(nonce) != 0 ||
            imago_appdb_check_device(device) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 1)) != 0)
                return r;
        return imago_appdb_end(db, claim_tx(db, nonce, expiry, device, again));
}

int imago_appdb_claim_nonce(void *arg, const char *nonce, int64_t expiry)
{
        struct imago_appdb *db = arg;
        int r;

        if (db == NULL || imago_appdb_check_hex32(nonce) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 1)) != 0)
                return r;
        return imago_appdb_end(db, claim_tx(db, nonce, expiry, NULL, NULL));
}

static int prune_tx(struct imago_appdb *db, int64_t now)
{
        sqlite3_stmt *st = NULL;
        int r;

        /* a nonce is kept while its token could still be redeemed (refused when now >= exp) */
        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_NONCE_PRUNE, &st)) != 0)
                goto out;
        sqlite3_bind_int64(st, 1, now);
        r = imago_appdb_step_done(db->db, st);
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_prune_nonces(struct imago_appdb *db, int64_t now)
{
        int r;

        if (db == NULL)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 1)) != 0)
                return r;
        return imago_appdb_end(db, prune_tx(db, now));
}
