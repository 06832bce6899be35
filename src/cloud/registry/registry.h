/*
 * imago_registry: the fleet's device registry behind one interface.
 *
 * Backends: SQLite ("sqlite:/path/registry.db", WAL mode, the default for one
 * machine) now; PostgreSQL ("postgres:<conninfo>") implements the same
 * interface later.  Callers never see SQL, connections or backend types;
 * every function is one transaction; nothing assumes a single imago-cloud
 * instance (serials are random, enrolment is idempotent per key, state
 * changes are conditional updates).
 *
 * Schema: versioned migrations applied in order by imago_registry_open()
 * (a database newer than the program is refused with IMAGO_EREG_SCHEMA).
 * See docs/cloud.md for the tables and what a second backend implements.
 *
 * Arguments are checked before any SQL: ids are 32 lowercase hex, serials
 * 1..40 lowercase hex, batches 1..64 of [A-Za-z0-9._-], reasons 1..127
 * printable ASCII, certificates PEM of at most 16 KiB (IMAGO_EINVAL).
 * A serial is recorded once across the whole registry (IMAGO_EEXIST).
 * The SQLite file is created 0600; "postgres:" gives IMAGO_EUNSUPPORTED.
 *
 * Device states:  imported --enrol--> enrolled <--suspend/resume--> suspended
 *                 any --revoke--> revoked (final; re-enrolment needs a new batch import)
 *
 * Ownership: imago_registry_open() allocates the handle; close frees it.
 * Strings and buffers passed in are borrowed; records returned are
 * caller-owned structs (certificates as malloc'd PEM released by
 * imago_registry_device_free()).  A handle is used by one thread at a time.
 *
 * Errors: IMAGO_EREG_UNKNOWN, IMAGO_EREG_STATE, IMAGO_EREG_KEY,
 * IMAGO_EREG_SCHEMA, IMAGO_EREG_DB, IMAGO_EREG_BUSY, IMAGO_EEXIST,
 * IMAGO_EINVAL, IMAGO_ENOMEM.
 */
#ifndef IMAGO_CLOUD_REGISTRY_H
#define IMAGO_CLOUD_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#define IMAGO_REG_ID_LEN     32
#define IMAGO_REG_SERIAL_MAX 40
#define IMAGO_REG_REASON_MAX 127

enum imago_reg_state {
        IMAGO_REG_IMPORTED = 1,
        IMAGO_REG_ENROLLED = 2,
        IMAGO_REG_SUSPENDED = 3,
        IMAGO_REG_REVOKED = 4,
};

enum imago_reg_cert_kind {
        IMAGO_REG_CERT_BIRTH = 1,
        IMAGO_REG_CERT_DEVICE = 2,
};

struct imago_registry;

struct imago_reg_device {
        char id[IMAGO_REG_ID_LEN + 1];
        enum imago_reg_state state;
        char batch[65];
        char birth_serial[IMAGO_REG_SERIAL_MAX + 1];
        char
            cert_serial[IMAGO_REG_SERIAL_MAX + 1]; /* current operational certificate, "" if none */
        uint8_t key_hash[32]; /* SHA-256 of the enrolled key's SPKI; zero before enrolment */
        int64_t enrolled_at;  /* unix seconds, 0 if never */
        char reason[IMAGO_REG_REASON_MAX + 1]; /* suspension or revocation reason */
        char *cert_pem;                        /* current operational certificate or NULL */
        int64_t rotate_requested; /* unix seconds of a pending rotation request, 0 if none */
};

int imago_registry_open(const char *uri, struct imago_registry **out);
/*
 * Like imago_registry_open() (migrations included) but never creates a
 * registry: IMAGO_ENOTFOUND when it does not exist.  For everything but
 * `init`: a lost registry.db must not come back empty (an empty registry
 * writes an empty deny file, which would let revoked devices back in).
 */
int imago_registry_open_existing(const char *uri, struct imago_registry **out);
void imago_registry_close(struct imago_registry *reg);

/* Current schema version of the open database. */
int imago_registry_schema_version(struct imago_registry *reg, int *version);

/* Import one device of a verified batch (IMAGO_EEXIST if the id is known, whatever its batch). */
int imago_registry_import(struct imago_registry *reg, const char *batch, const char *id,
                          const char *birth_serial);

/*
 * Import a whole verified batch in one transaction.  A device already
 * present with the same batch and birth serial is skipped (a re-import of a
 * batch is idempotent; *added counts the new ones); a device known under
 * another batch or birth serial refuses the whole batch: IMAGO_EEXIST,
 * nothing written, *conflict = its index.  IMAGO_EINVAL on a malformed item.
 */
struct imago_reg_import_item {
        const char *id;
        const char *birth_serial;
};
int imago_registry_import_batch(struct imago_registry *reg, const char *batch,
                                const struct imago_reg_import_item *items, size_t n, size_t *added,
                                size_t *conflict);

int imago_registry_get(struct imago_registry *reg, const char *id, struct imago_reg_device *out);
void imago_registry_device_free(struct imago_reg_device *d);

/*
 * Enrolment, atomically: the device must be IMPORTED, or ENROLLED with the
 * same key_hash (then IMAGO_EEXIST is returned and *existing_pem gets the
 * certificate already issued: a retried enrolment never yields a second
 * certificate; EEXIST with *existing_pem NULL means the serial is already
 * recorded).  ENROLLED with another key: IMAGO_EREG_KEY; SUSPENDED or
 * REVOKED: IMAGO_EREG_STATE.  Records the certificate (serial, PEM, not_after) and moves
 * the device to ENROLLED.
 */
int imago_registry_enrol(struct imago_registry *reg, const char *id, const uint8_t key_hash[32],
                         const char *serial, const char *cert_pem, int64_t not_after,
                         char **existing_pem);

/*
 * Rotation: record a new operational certificate for an ENROLLED device;
 * the previous one stays valid until imago_registry_cert_retire() (called
 * when the device is seen using the new one).  Clears a pending rotation
 * request of the device (same transaction).
 */
int imago_registry_rotate(struct imago_registry *reg, const char *id, const uint8_t key_hash[32],
                          const char *serial, const char *cert_pem, int64_t not_after);

/*
 * Operator rotation requests (`imago-cloud devices rotate`).  request: the
 * device must be ENROLLED (unknown: IMAGO_EREG_UNKNOWN; otherwise
 * IMAGO_EREG_STATE); records the time of the request (a second request
 * before the first is answered keeps the first time).  The request is
 * cleared by imago_registry_rotate() (the device's new certificate is
 * recorded) or by imago_registry_rotate_clear() (idempotent; unknown id:
 * IMAGO_EREG_UNKNOWN).  A request of a device later suspended stays and
 * counts again once it is resumed; revocation clears it.
 * rotate_pending calls cb(id, requested_at, arg) for every ENROLLED device
 * with a request, in id order, inside one read transaction (cb must not use
 * the handle; a non-zero return stops and is returned).
 */
int imago_registry_rotate_request(struct imago_registry *reg, const char *id);
int imago_registry_rotate_clear(struct imago_registry *reg, const char *id);
typedef int (*imago_reg_pending_cb)(const char *id, int64_t requested_at, void *arg);
int imago_registry_rotate_pending(struct imago_registry *reg, imago_reg_pending_cb cb, void *arg);

/*
 * Mark every certificate of id other than keep_serial revoked; *count gets
 * how many.  keep_serial (a certificate of id not revoked, else
 * IMAGO_ENOTFOUND) becomes the current one.  ENROLLED or SUSPENDED only.
 */
int imago_registry_cert_retire(struct imago_registry *reg, const char *id, const char *keep_serial,
                               int *count);

/* suspend: ENROLLED -> SUSPENDED; resume: SUSPENDED -> ENROLLED (reason cleared);
 * revoke: any but REVOKED -> REVOKED, every certificate of id marked revoked.
 * Otherwise IMAGO_EREG_STATE (unknown id: IMAGO_EREG_UNKNOWN). */
int imago_registry_suspend(struct imago_registry *reg, const char *id, const char *reason);
int imago_registry_resume(struct imago_registry *reg, const char *id);
int imago_registry_revoke(struct imago_registry *reg, const char *id, const char *reason);

/*
 * Iterate devices in id order inside one read transaction; cb returns
 * non-zero to stop (that value is returned).  cb must not call the registry
 * with the same handle; the record it gets is valid during the call only.
 */
typedef int (*imago_reg_device_cb)(const struct imago_reg_device *d, void *arg);
int imago_registry_list(struct imago_registry *reg, imago_reg_device_cb cb, void *arg);

/*
 * The deny set the broker enforces: every suspended or revoked device id,
 * and every revoked certificate serial of a device still allowed.
 * cb_id(id, state) and cb_serial(serial) are called once each.
 */
int imago_registry_deny_set(struct imago_registry *reg,
                            int (*cb_id)(const char *id, enum imago_reg_state state, void *arg),
                            int (*cb_serial)(const char *serial, void *arg), void *arg);

/* Count of operational certificates ever recorded for device id (tests: "no certificate issued
 * twice"). */
int imago_registry_cert_count(struct imago_registry *reg, const char *id, int *count);

const char *imago_reg_state_name(enum imago_reg_state s);

#endif
