/*
 * imago_director: the director repository of imago-cloud (Uptane): per-device
 * TUF metadata that names the one image a device should run, generated from
 * rollout assignments and signed with online keys; and the record of each
 * device's signed version reports.  docs/director.md is the user's guide.
 *
 * Keys (Ed25519, PKCS#8 encrypted with the cloud passphrase, 0600, public
 * halves .pub 0644), created by imago_director_keys_create (imago-cloud init,
 * or `imago-cloud director keys` for an older data directory):
 *   DIR/keys/director-root.key     signs the director's root (threshold 1)
 *   DIR/keys/director.key          online: targets, snapshot, timestamp
 * Root: DIR/director/metadata/N.root.json and root.json (version 1 made with
 * the keys: roles root -> director-root key, targets/snapshot/timestamp ->
 * director key, each threshold 1, consistent_snapshot true, expires 1 year;
 * `imago-cloud director root --out F` copies root.json for factory
 * provisioning: the device's trusted director root).
 * Per device, in DIR/director.db (SQLite, WAL, 0600): the assignment, the
 * current targets/snapshot/timestamp documents (bytes as signed) and their
 * versions, the version-report log (nonce unique per device, counter).
 *
 * Metadata per device (the TUF client workflow runs over it unchanged):
 *   targets  v+1 on every assignment change: {"_type":"targets", ...,
 *            "targets": {} or {NAME: {"length","hashes":{"sha256"},
 *            "custom":{"device":ID,"rollout":"<u64>","hardware_id","version",
 *            "security_counter"}}}}, expires now + 7 days
 *   snapshot v+1 when targets changes: {"targets.json":{"version":v}}, 7 days
 *   timestamp v+1 when snapshot changes or on a request with less than half
 *            of its day left: {"snapshot.json":{"version","length","hashes"}}
 * Objects (imago_director_object) for device ID: "root.json", "N.root.json",
 * "timestamp.json", "N.snapshot.json", "N.targets.json" (only the current N
 * of snapshot and targets; older ones IMAGO_ENOTFOUND).  Expired documents
 * are re-signed (new version) when asked for, so an online device never sees
 * an expired director.
 *
 * Version reports (imago_director_report): verified with the device's key
 * (imago_vreport_verify), then refused as IMAGO_EOTA_REPLAY when the nonce was
 * seen before for this device or the counter is not above the last accepted
 * one -- except the exact bytes of the last accepted report, which is a resend
 * (*dup = 1, nothing changes, the caller acks again).  Reports with a time more
 * than 24 h off the server's clock are IMAGO_EOTA_REPORT.  Accepted reports
 * update the device's row (installed version/hash, state, target, error, time).
 *
 * Ownership: open() allocates; close() frees (NULL fine).  Buffers returned
 * are malloc'd and the caller's.  One thread.  Keys are wiped on close.
 * Errors: IMAGO_EINVAL, IMAGO_ENOMEM, IMAGO_ENOTFOUND (keys, object),
 * IMAGO_EIO, IMAGO_EREG_DB (SQLite), IMAGO_EEXIST (keys_create over keys),
 * IMAGO_EOTA_REPORT, IMAGO_EOTA_REPLAY, IMAGO_ECRYPTO, key-file errors.
 */
#ifndef IMAGO_CLOUD_DIRECTOR_DIRECTOR_H
#define IMAGO_CLOUD_DIRECTOR_DIRECTOR_H

#include "base/hex.h"
#include "crypto/crypto.h"
#include "crypto/keys.h"
#include "ota/vreport.h"

#include <stddef.h>
#include <stdint.h>

struct imago_director;

/* What a device should install: an image repository target. */
struct imago_director_target {
        char name[IMAGO_VREPORT_TARGET_MAX + 1];
        uint64_t length;
        uint8_t sha256[IMAGO_SHA256_LEN];
        char hardware_id[IMAGO_VREPORT_HWID_MAX + 1];
        char version[IMAGO_VREPORT_VERSION_MAX + 1];
        uint32_t security_counter;
        uint64_t rollout; /* 0: assigned by hand */
};

/* The device's row: what it last reported. */
struct imago_director_device {
        char id[IMAGO_DEVICE_ID_LEN + 1];
        int assigned; /* 1: an assignment exists (target below) */
        struct imago_director_target target;
        int reported; /* 1: a version report was accepted */
        struct imago_vreport last;
        int64_t reported_at;
};

/* DIR/keys/director-root.key, DIR/keys/director.key (+ .pub) and root version 1. */
int imago_director_keys_create(const char *dir, const char *passphrase);
/* 1 if the keys exist. */
int imago_director_keys_exist(const char *dir);

/* Open with the keys decrypted by passphrase; director.db created when missing. */
int imago_director_open(const char *dir, const char *passphrase, struct imago_director **out);
/* Read-only use (status, reports, root): no keys needed; passphrase may be NULL. */
int imago_director_open_ro(const char *dir, struct imago_director **out);
void imago_director_close(struct imago_director *d);

/* Look NAME up in the image repository DIR/repo as published (its current targets metadata):
 * length, sha256 and the custom hardware_id/version/security_counter.  IMAGO_ENOTFOUND when the
 * repository does not list it, IMAGO_ETUF_FORMAT when its custom lacks one of them. */
int imago_director_target_from_repo(const char *dir, const char *name,
                                    struct imago_director_target *t);

/* Assign t to device (new targets version); same assignment again: no change. */
int imago_director_assign(struct imago_director *d, const char *device,
                          const struct imago_director_target *t, int64_t now);
/* No target for device (new targets version if it had one). */
int imago_director_clear(struct imago_director *d, const char *device, int64_t now);

/* The bytes of object name for device (see above), re-signed first when due. */
int imago_director_object(struct imago_director *d, const char *device, const char *name,
                          int64_t now, uint8_t **buf, size_t *len);

/* A version report from device (buf as received; key: the device's enrolled P-256 key).
 * On 0, *r is the report and *dup 1 for a resend of the last accepted one. */
int imago_director_report(struct imago_director *d, const char *device, const uint8_t *buf,
                          size_t len, const struct imago_pubkey *key, int64_t now,
                          struct imago_vreport *r, int *dup);

int imago_director_device(struct imago_director *d, const char *device,
                          struct imago_director_device *out);
/* Every device with a row (assigned or reported), in id order. */
int imago_director_devices(struct imago_director *d,
                           int (*cb)(const struct imago_director_device *dv, void *arg), void *arg);

#endif
