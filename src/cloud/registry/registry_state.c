/* See registry.h: enrolment, rotation and state changes (conditional updates). */
#define _POSIX_C_SOURCE 200809L
#include "cloud/registry/registry_priv.h"

#include "base/err.h"

#include <stdlib.h>
#include <string.h>

static int insert_cert(struct imago_registry *reg, const char *id, const uint8_t key_hash[32],
                       const char *serial, const char *pem, int64_t not_after, int64_t now)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_reg_prepare(reg->db,
                                   "INSERT INTO certs(serial, device_id, kind, key_hash, pem,"
                                   " not_after, issued_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                   &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, IMAGO_REG_CERT_DEVICE);
        sqlite3_bind_blob(st, 4, key_hash, 32, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, pem, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, not_after);
        sqlite3_bind_int64(st, 7, now);
        r = imago_reg_step_done(reg->db, st);
out:
        sqlite3_finalize(st);
        return r;
}

/* Point the device at its current certificate (only in from_state); 0 changes -> IMAGO_EREG_STATE.
 */
static int set_current(struct imago_registry *reg, const char *id, enum imago_reg_state from_state,
                       const uint8_t key_hash[32], const char *serial, int64_t now)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = imago_reg_prepare(reg->db,
                                   "UPDATE devices SET state = ?1, key_hash = ?2, cert_serial = ?3,"
                                   " enrolled_at = CASE WHEN ?4 = ?5 THEN ?6 ELSE enrolled_at END,"
                                   " updated_at = ?6 WHERE id = ?7 AND state = ?4",
                                   &st)) != 0)
                goto out;
        sqlite3_bind_int(st, 1, IMAGO_REG_ENROLLED);
        sqlite3_bind_blob(st, 2, key_hash, 32, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, serial, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, from_state);
        sqlite3_bind_int(st, 5, IMAGO_REG_IMPORTED);
        sqlite3_bind_int64(st, 6, now);
        sqlite3_bind_text(st, 7, id, -1, SQLITE_STATIC);
        if ((r = imago_reg_step_done(reg->db, st)) != 0)
                goto out;
        r = sqlite3_changes(reg->db) == 1 ? 0 : IMAGO_EREG_STATE;
out:
        sqlite3_finalize(st);
        return r;
}

/* The enrolled device's key hash and current certificate (for the idempotent answer). */
static int enrolled_cert(struct imago_registry *reg, const char *id, const uint8_t key_hash[32],
                         char **pem)
{
        sqlite3_stmt *st = NULL;
        const void *h;
        int r, rc;

        if ((r = imago_reg_prepare(reg->db,
                                   "SELECT d.key_hash, c.pem FROM devices d"
                                   " JOIN certs c ON c.serial = d.cert_serial WHERE d.id = ?1",
                                   &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
                r = rc == SQLITE_DONE ? IMAGO_EREG_DB : imago_reg_sqlite_err(reg->db, rc);
                goto out;
        }
        h = sqlite3_column_blob(st, 0);
        if (h == NULL || sqlite3_column_bytes(st, 0) != 32 || memcmp(h, key_hash, 32) != 0) {
                r = IMAGO_EREG_KEY;
                goto out;
        }
        if ((*pem = strdup((const char *)sqlite3_column_text(st, 1))) == NULL) {
                r = IMAGO_ENOMEM;
                goto out;
        }
        r = IMAGO_EEXIST;
out:
        sqlite3_finalize(st);
        return r;
}

static int enrol_tx(struct imago_registry *reg, const char *id, const uint8_t key_hash[32],
                    const char *serial, const char *cert_pem, int64_t not_after,
                    char **existing_pem)
{
        enum imago_reg_state state = 0;
        int64_t now = imago_reg_now();
        int r;

        if ((r = imago_reg_state_of(reg, id, &state)) != 0)
                return r;
        if (state == IMAGO_REG_ENROLLED)
                return enrolled_cert(reg, id, key_hash, existing_pem);
        if (state != IMAGO_REG_IMPORTED)
                return IMAGO_EREG_STATE;
        if ((r = insert_cert(reg, id, key_hash, serial, cert_pem, not_after, now)) != 0)
                return r;
        return set_current(reg, id, IMAGO_REG_IMPORTED, key_hash, serial, now);
}

int imago_registry_enrol(struct imago_registry *reg, const char *id, const uint8_t key_hash[32],
                         const char *serial, const char *cert_pem, int64_t not_after,
                         char **existing_pem)
{
        int r;

        if (existing_pem != NULL)
                *existing_pem = NULL;
        if (reg == NULL || key_hash == NULL || existing_pem == NULL ||
            imago_reg_check_id(id) != 0 || imago_reg_check_serial(serial) != 0 ||
            imago_reg_check_pem(cert_pem) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_reg_begin(reg, 1)) != 0)
                return r;
        r = enrol_tx(reg, id, key_hash, serial, cert_pem, not_after, existing_pem);
        /* EEXIST with the certificate already issued: nothing was written, end the transaction */
        if (r == IMAGO_EEXIST && *existing_pem != NULL) {
                int r2 = imago_reg_end(reg, 0);

                if (r2 != 0) {
                        free(*existing_pem);
                        *existing_pem = NULL;
                        return r2;
                }
                return r;
        }
        return imago_reg_end(reg, r);
}

static int rotate_tx(struct imago_registry *reg, const char *id, const uint8_t key_hash[32],
                     const char *serial, const char *cert_pem, int64_t not_after)
{
        enum imago_reg_state state = 0;
        int64_t now = imago_reg_now();
        int r;

        if ((r = imago_reg_state_of(reg, id, &state)) != 0)
                return r;
        if (state != IMAGO_REG_ENROLLED)
                return IMAGO_EREG_STATE;
        if ((r = insert_cert(reg, id, key_hash, serial, cert_pem, not_after, now)) != 0)
                return r;
        if ((r = set_current(reg, id, IMAGO_REG_ENROLLED, key_hash, serial, now)) != 0)
                return r;
        /* the new certificate answers any operator request */
        return imago_reg_rotate_clear_tx(reg, id);
}

int imago_registry_rotate(struct imago_registry *reg, const char *id, const uint8_t key_hash[32],
                          const char *serial, const char *cert_pem, int64_t not_after)
{
        int r;

        if (reg == NULL || key_hash == NULL || imago_reg_check_id(id) != 0 ||
            imago_reg_check_serial(serial) != 0 || imago_reg_check_pem(cert_pem) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_reg_begin(reg, 1)) != 0)
                return r;
        return imago_reg_end(reg, rotate_tx(reg, id, key_hash, serial, cert_pem, not_after));
}

static int retire_tx(struct imago_registry *reg, const char *id, const char *keep, int *count)
{
        sqlite3_stmt *st = NULL;
        enum imago_reg_state state = 0;
        int64_t now = imago_reg_now();
        int r;

        if ((r = imago_reg_state_of(reg, id, &state)) != 0)
                goto out;
        if (state != IMAGO_REG_ENROLLED && state != IMAGO_REG_SUSPENDED) {
                r = IMAGO_EREG_STATE;
                goto out;
        }
        /* the kept certificate becomes the current one */
        if ((r = imago_reg_prepare(
                 reg->db,
                 "UPDATE devices SET cert_serial = c.serial, key_hash = c.key_hash,"
                 " updated_at = ?3 FROM (SELECT serial, key_hash FROM certs"
                 " WHERE serial = ?2 AND device_id = ?1 AND revoked = 0) AS c"
                 " WHERE devices.id = ?1",
                 &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, keep, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        if ((r = imago_reg_step_done(reg->db, st)) != 0)
                goto out;
        if (sqlite3_changes(reg->db) != 1) {
                r = IMAGO_ENOTFOUND;
                goto out;
        }
        sqlite3_finalize(st);
        st = NULL;
        if ((r = imago_reg_prepare(reg->db,
                                   "UPDATE certs SET revoked = 1, revoked_at = ?3"
                                   " WHERE device_id = ?1 AND serial <> ?2 AND revoked = 0",
                                   &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, keep, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        if ((r = imago_reg_step_done(reg->db, st)) != 0)
                goto out;
        *count = sqlite3_changes(reg->db);
out:
        sqlite3_finalize(st);
        return r;
}

int imago_registry_cert_retire(struct imago_registry *reg, const char *id, const char *keep_serial,
                               int *count)
{
        int r, n = 0;

        if (reg == NULL || imago_reg_check_id(id) != 0 || imago_reg_check_serial(keep_serial) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_reg_begin(reg, 1)) != 0)
                return r;
        if ((r = imago_reg_end(reg, retire_tx(reg, id, keep_serial, &n))) == 0 && count != NULL)
                *count = n;
        return r;
}

/* UPDATE devices SET state = to, reason = reason WHERE id AND <from condition>. */
static int change_state(struct imago_registry *reg, const char *id, const char *sql,
                        enum imago_reg_state to, enum imago_reg_state from, const char *reason)
{
        sqlite3_stmt *st = NULL;
        enum imago_reg_state state = 0;
        int r;

        if ((r = imago_reg_prepare(reg->db, sql, &st)) != 0)
                goto out;
        sqlite3_bind_int(st, 1, to);
        sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, imago_reg_now());
        sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, from);
        if ((r = imago_reg_step_done(reg->db, st)) != 0)
                goto out;
        if (sqlite3_changes(reg->db) == 1)
                goto out;
        /* nothing changed: unknown device, or not in a state that allows it */
        if ((r = imago_reg_state_of(reg, id, &state)) == 0)
                r = IMAGO_EREG_STATE;
out:
        sqlite3_finalize(st);
        return r;
}

#define SET_STATE "UPDATE devices SET state = ?1, reason = ?2, updated_at = ?3 WHERE id = ?4 AND "

int imago_registry_suspend(struct imago_registry *reg, const char *id, const char *reason)
{
        int r;

        if (reg == NULL || imago_reg_check_id(id) != 0 || imago_reg_check_reason(reason) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_reg_begin(reg, 1)) != 0)
                return r;
        return imago_reg_end(reg, change_state(reg, id, SET_STATE "state = ?5", IMAGO_REG_SUSPENDED,
                                               IMAGO_REG_ENROLLED, reason));
}

int imago_registry_resume(struct imago_registry *reg, const char *id)
{
        int r;

        if (reg == NULL || imago_reg_check_id(id) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_reg_begin(reg, 1)) != 0)
                return r;
        return imago_reg_end(reg, change_state(reg, id, SET_STATE "state = ?5", IMAGO_REG_ENROLLED,
                                               IMAGO_REG_SUSPENDED, ""));
}

static int revoke_tx(struct imago_registry *reg, const char *id, const char *reason)
{
        sqlite3_stmt *st = NULL;
        int r;

        if ((r = change_state(reg, id, SET_STATE "state <> ?5", IMAGO_REG_REVOKED,
                              IMAGO_REG_REVOKED, reason)) != 0)
                goto out;
        if ((r = imago_reg_prepare(reg->db,
                                   "UPDATE certs SET revoked = 1, revoked_at = ?2"
                                   " WHERE device_id = ?1 AND revoked = 0",
                                   &st)) != 0)
                goto out;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, imago_reg_now());
        if ((r = imago_reg_step_done(reg->db, st)) != 0)
                goto out;
        r = imago_reg_rotate_clear_tx(reg, id);
out:
        sqlite3_finalize(st);
        return r;
}

int imago_registry_revoke(struct imago_registry *reg, const char *id, const char *reason)
{
        int r;

        if (reg == NULL || imago_reg_check_id(id) != 0 || imago_reg_check_reason(reason) != 0)
                return IMAGO_EINVAL;
        if ((r = imago_reg_begin(reg, 1)) != 0)
                return r;
        return imago_reg_end(reg, revoke_tx(reg, id, reason));
}
