/* See appdb.h: refresh tokens (SHA-256 hashes) and revoked access tokens. */
#define _POSIX_C_SOURCE 200809L
#include "cloud/appdb/appdb_priv.h"

#include "base/err.h"

static int refresh_put_tx(struct imago_appdb *db, const uint8_t hash[32], uint64_t user,
                          int64_t expires)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_appdb_user_exists_tx(db, user)) != 0)
                goto out;
        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_REFRESH_PUT, &st)) != 0)
                goto out;
        sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)user);
        sqlite3_bind_int64(st, 3, expires);
        r = imago_appdb_step_done(db->db, st);
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_refresh_put(struct imago_appdb *db, const uint8_t hash[32], uint64_t user,
                            int64_t expires)
{
        int r;

        if (db == NULL || hash == NULL || imago_appdb_check_id(user) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 1)) != 0)
                return r;
        return imago_appdb_end(db, refresh_put_tx(db, hash, user, expires));
}

static int refresh_consume_tx(struct imago_appdb *db, const uint8_t hash[32], int64_t now,
                              uint64_t *user)
{
        sqlite3_stmt *st = NULL;
        int r;

        /* the delete is the claim: of two consumers only one sees the row */
        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_REFRESH_CONSUME, &st)) != 0)
                goto out;
        sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
        r = imago_appdb_step_row(db->db, st);
        if (r == IMAGO_ENOTFOUND) {
                r = IMAGO_EAUTH_REFRESH;
                goto out;
        }
        if (r != 0)
                goto out;
        if (now >= sqlite3_column_int64(st, 1)) {
                /* expired: the row stays deleted (the transaction commits), the caller is refused
                 */
                (void)sqlite3_step(st);
                r = IMAGO_EAUTH_REFRESH;
                goto out;
        }
        *user = (uint64_t)sqlite3_column_int64(st, 0);
        r = imago_appdb_step_done(db->db, st);
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_refresh_consume(struct imago_appdb *db, const uint8_t hash[32], int64_t now,
                                uint64_t *user)
{
        uint64_t u = 0;
        int r;

        if (db == NULL || hash == NULL || user == NULL)
                return IMAGO_EINVAL;
        *user = 0;
        if ((r = imago_appdb_begin(db, 1)) != 0)
                return r;
        r = refresh_consume_tx(db, hash, now, &u);
        if (r == IMAGO_EAUTH_REFRESH) {
                /* keep the deletion of an expired row */
                r = imago_appdb_end(db, 0);
                return r != 0 ? r : IMAGO_EAUTH_REFRESH;
        }
        if ((r = imago_appdb_end(db, r)) == 0)
                *user = u;
        return r;
}

static int exec_u64(struct imago_appdb *db, enum imago_appdb_sql id, uint64_t v)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_appdb_stmt(db, id, &st)) != 0)
                goto out;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)v);
        r = imago_appdb_step_done(db->db, st);
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_refresh_drop_user(struct imago_appdb *db, uint64_t user)
{
        int r;

        if (db == NULL || imago_appdb_check_id(user) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 1)) != 0)
                return r;
        return imago_appdb_end(db, exec_u64(db, IMAGO_APPDB_SQL_REFRESH_DROP_USER, user));
}

static int revoke_tx(struct imago_appdb *db, const uint8_t token_id[16], int64_t expires)
{
        sqlite3_stmt *st = NULL;
        int r;

        /* idempotent; a second revocation keeps the later expiry */
        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_TOKEN_REVOKE, &st)) != 0)
                goto out;
        sqlite3_bind_blob(st, 1, token_id, 16, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, expires);
        r = imago_appdb_step_done(db->db, st);
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_token_revoke(struct imago_appdb *db, const uint8_t token_id[16], int64_t expires)
{
        int r;

        if (db == NULL || token_id == NULL)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 1)) != 0)
                return r;
        return imago_appdb_end(db, revoke_tx(db, token_id, expires));
}

static int revoked_tx(struct imago_appdb *db, const uint8_t token_id[16])
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_TOKEN_REVOKED, &st)) != 0)
                goto out;
        sqlite3_bind_blob(st, 1, token_id, 16, SQLITE_STATIC);
        r = imago_appdb_step_row(db->db, st);
        r = r == 0 ? 1 : r == IMAGO_ENOTFOUND ? 0 : r;
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_token_revoked(struct imago_appdb *db, const uint8_t token_id[16])
{
        int r, r2;

        if (db == NULL || token_id == NULL)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 0)) != 0)
                return r;
        r = revoked_tx(db, token_id);
        r2 = imago_appdb_end(db, r < 0 ? r : 0);
        return r < 0 ? r : r2 != 0 ? r2 : r;
}

static int prune_tx(struct imago_appdb *db, int64_t now)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_REFRESH_PRUNE, &st)) != 0)
                goto out;
        sqlite3_bind_int64(st, 1, now);
        if ((r = imago_appdb_step_done(db->db, st)) != 0)
                goto out;
        imago_appdb_stmt_put(st);
        st = NULL;
        if ((r = imago_appdb_stmt(db, IMAGO_APPDB_SQL_TOKEN_PRUNE, &st)) != 0)
                goto out;
        sqlite3_bind_int64(st, 1, now);
        r = imago_appdb_step_done(db->db, st);
out:
        imago_appdb_stmt_put(st);
        return r;
}

int imago_appdb_prune_tokens(struct imago_appdb *db, int64_t now)
{
        int r;

        if (db == NULL)
                return IMAGO_EINVAL;
        if ((r = imago_appdb_begin(db, 1)) != 0)
                return r;
        return imago_appdb_end(db, prune_tx(db, now));
}
