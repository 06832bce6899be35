/* See appdb_priv.h: the text of every SQL statement of imago_appdb (constants, never input). */
#define _POSIX_C_SOURCE 200809L
#include "cloud/appdb/appdb_priv.h"

#include <stddef.h>

#define USER_COLUMNS  "SELECT id, name, pw_hash, created FROM users "
#define GRANT_COLUMNS "SELECT id, user, role, grp, not_before, expires, granted_by FROM grants "

static const char *const sql[IMAGO_APPDB_SQL_COUNT] = {
    [IMAGO_APPDB_SQL_BEGIN] = "BEGIN",
    [IMAGO_APPDB_SQL_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [IMAGO_APPDB_SQL_COMMIT] = "COMMIT",
    [IMAGO_APPDB_SQL_ROLLBACK] = "ROLLBACK",

    /* users */
    [IMAGO_APPDB_SQL_USER_EXISTS] = "SELECT 1 FROM users WHERE id = ?1",
    [IMAGO_APPDB_SQL_USER_ADD] = "INSERT INTO users(name, pw_hash, created) VALUES (?1, ?2, ?3)",
    [IMAGO_APPDB_SQL_USER_BY_NAME] = USER_COLUMNS "WHERE name = ?1",
    [IMAGO_APPDB_SQL_USER_BY_ID] = USER_COLUMNS "WHERE id = ?1",
    [IMAGO_APPDB_SQL_USER_SET_HASH] = "UPDATE users SET pw_hash = ?1 WHERE id = ?2",
    [IMAGO_APPDB_SQL_USER_LIST] = USER_COLUMNS "ORDER BY id",

    /* refresh tokens and revoked access tokens */
    [IMAGO_APPDB_SQL_REFRESH_PUT] = "INSERT INTO refresh_tokens(hash, user, expires)"
                                    " VALUES (?1, ?2, ?3)",
    /* the delete is the claim: of two consumers only one sees the row */
    [IMAGO_APPDB_SQL_REFRESH_CONSUME] = "DELETE FROM refresh_tokens WHERE hash = ?1"
                                        " RETURNING user, expires",
    [IMAGO_APPDB_SQL_REFRESH_DROP_USER] = "DELETE FROM refresh_tokens WHERE user = ?1",
    [IMAGO_APPDB_SQL_REFRESH_PRUNE] = "DELETE FROM refresh_tokens WHERE expires <= ?1",
    /* idempotent; a second revocation keeps the later expiry */
    [IMAGO_APPDB_SQL_TOKEN_REVOKE] = "INSERT INTO revoked_tokens(token_id, expires) VALUES (?1, ?2)"
                                     " ON CONFLICT(token_id) DO UPDATE SET"
                                     " expires = max(expires, excluded.expires)",
    [IMAGO_APPDB_SQL_TOKEN_REVOKED] = "SELECT 1 FROM revoked_tokens WHERE token_id = ?1",
    [IMAGO_APPDB_SQL_TOKEN_PRUNE] = "DELETE FROM revoked_tokens WHERE expires <= ?1",

    /* grants */
    [IMAGO_APPDB_SQL_GRANT_ADD] = "INSERT INTO grants(user, role, grp, not_before, expires,"
                                  " granted_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [IMAGO_APPDB_SQL_GRANT_DELETE] = "DELETE FROM grants WHERE id = ?1",
    [IMAGO_APPDB_SQL_GRANT_GET] = GRANT_COLUMNS "WHERE id = ?1",
    [IMAGO_APPDB_SQL_GRANT_LIST_ALL] = GRANT_COLUMNS "ORDER BY id",
    /* one user's (every authenticated /v1/me): the grants_user index, already in id order */
    [IMAGO_APPDB_SQL_GRANT_LIST_USER] = GRANT_COLUMNS "WHERE user = ?1 ORDER BY id",

    /* ownership and registration-token nonces */
    [IMAGO_APPDB_SQL_OWNER_BIND] = "INSERT INTO owners(device, user, bound_at) VALUES (?1, ?2, ?3)"
                                   " ON CONFLICT(device) DO NOTHING",
    [IMAGO_APPDB_SQL_OWNER_GET] = "SELECT user FROM owners WHERE device = ?1",
    [IMAGO_APPDB_SQL_OWNER_UNBIND] = "DELETE FROM owners WHERE device = ?1",
    [IMAGO_APPDB_SQL_OWNED] = "SELECT device, bound_at FROM owners WHERE user = ?1"
                              " ORDER BY device",
    /* the primary key makes the claim: a second insert is a constraint error (IMAGO_EEXIST) */
    [IMAGO_APPDB_SQL_NONCE_CLAIM] = "INSERT INTO nonces(nonce, expiry, device) VALUES (?1, ?2, ?3)",
    [IMAGO_APPDB_SQL_NONCE_SAME_DEVICE] = "SELECT 1 FROM nonces WHERE nonce = ?1 AND device = ?2",
    /* a nonce is kept while its token could still be redeemed (refused when now >= exp) */
    [IMAGO_APPDB_SQL_NONCE_PRUNE] = "DELETE FROM nonces WHERE expiry < ?1",

    /* state documents; the two documents differ only in their column names */
    [IMAGO_APPDB_SQL_STATE_GET] = "SELECT reported, reported_version, reported_at, desired,"
                                  " desired_version, desired_at FROM device_state"
                                  " WHERE device = ?1",
    [IMAGO_APPDB_SQL_STATE_ROW] = "INSERT INTO device_state(device) VALUES (?1)"
                                  " ON CONFLICT(device) DO NOTHING",
    /* conditional updates: the write happens only at the expected version */
    [IMAGO_APPDB_SQL_STATE_PUT_REPORTED] =
        "UPDATE device_state SET reported = ?1, reported_version = reported_version + 1,"
        " reported_at = ?2 WHERE device = ?3 AND reported_version = ?4"
        " RETURNING reported_version",
    [IMAGO_APPDB_SQL_STATE_PUT_DESIRED] =
        "UPDATE device_state SET desired = ?1, desired_version = desired_version + 1,"
        " desired_at = ?2 WHERE device = ?3 AND desired_version = ?4"
        " RETURNING desired_version",
    [IMAGO_APPDB_SQL_STATE_VERSION_REPORTED] =
        "SELECT reported_version FROM device_state WHERE device = ?1",
    [IMAGO_APPDB_SQL_STATE_VERSION_DESIRED] =
        "SELECT desired_version FROM device_state WHERE device = ?1",
    /* the versions move on, so a writer holding an old version loses */
    [IMAGO_APPDB_SQL_STATE_CLEAR] = "UPDATE device_state SET reported = '{}',"
                                    " reported_version = reported_version + 1, reported_at = 0,"
                                    " desired = '{}', desired_version = desired_version + 1,"
                                    " desired_at = 0 WHERE device = ?1",

    /* commands; the counter outlives the commands: a device never sees a sequence number twice */
    [IMAGO_APPDB_SQL_CMD_SEQ] = "INSERT INTO device_seq(device, last) VALUES (?1, 1)"
                                " ON CONFLICT(device) DO UPDATE SET last = last + 1"
                                " RETURNING last",
    [IMAGO_APPDB_SQL_CMD_INSERT] = "INSERT INTO commands(device, seq, user, name, args, iat, exp)"
                                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    /* conditional update: only a command still SENT takes a result */
    [IMAGO_APPDB_SQL_CMD_RESULT] = "UPDATE commands SET status = ?1, result = ?2, done_at = ?3"
                                   " WHERE device = ?4 AND seq = ?5 AND status = 0"
                                   " RETURNING id",
    [IMAGO_APPDB_SQL_CMD_ID] = "SELECT id FROM commands WHERE device = ?1 AND seq = ?2",
    /* a command without a result past its expiry is EXPIRED from now on */
    [IMAGO_APPDB_SQL_CMD_EXPIRE] = "UPDATE commands SET status = 5, done_at = ?2"
                                   " WHERE id = ?1 AND status = 0 AND exp <= ?2",
    [IMAGO_APPDB_SQL_CMD_GET] = "SELECT id, device, seq, user, name, args, iat, exp, status,"
                                " result, done_at FROM commands WHERE id = ?1",
};

const char *imago_appdb_sql_text(enum imago_appdb_sql id)
{
        if ((unsigned)id >= IMAGO_APPDB_SQL_COUNT)
                return NULL;
        return sql[id];
}
