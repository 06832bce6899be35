/*
 * imago_ota: the device agent's update client (Uptane-style, docs/ota.md
 * "Device").  It decides, downloads, installs and reports; the agent
 * (src/device/agent) gives it a transport, a report sink, a reboot and a
 * clock, and runs imago_ota_check() / imago_ota_boot_*() on ONE worker
 * thread.  The core never touches MQTT or libevent: tests drive it with a
 * local-directory transport.
 *
 * State, all under cfg->dir (the agent's `ota_dir`):
 *   director/  TUF metadata of the director (root from cfg->director_root on first open)
 *   image/     TUF metadata of the image repository (root from cfg->image_root)
 *   download/  SHA.part (resumable full image), SHA.delta (delta), SHA.img (verified image)
 *   state.json {"v":1,"phase","target","rollout","sha256","length","version",
 *               "security_counter","prev_sha256","prev_length","prev_version",
 *               "prev_security_counter","trial_seen","health_failed","reported",
 *               "counter","nonce","report"} written with imago_file_write_atomic: a power cut
 *               leaves the old or the new file.  The report counter is persisted before the
 *               report carrying it leaves the device; the last report is kept until acked.
 *
 * Check (imago_ota_check): refresh the director (metadata URL "blk:director/")
 * then the image repository ("blk:image/metadata/"), each with a new TUF
 * client and the device limits; then the decision of docs/ota.md: one
 * director target T for this device, listed by the image repository with
 * the same length, sha256, hardware_id, version and security_counter;
 * hardware_id the device's; production: version above and counter not
 * below the installed image.  Then the delta (when listed for the installed
 * hash, fetched, hash checked, applied against the primary slot bytes,
 * result checked) or the full image (resumable, hash checked), always
 * into download/ first: only a file whose length and sha256 are T's is
 * ever written to the secondary slot.  Then write the secondary slot,
 * request a test swap, persist phase "rebooting", report, wait for the ack
 * (cfg->ack_wait_ms), call ops->reboot.
 *
 * After a boot (imago_ota_boot_start): from state.json, the running image
 * (flash file) and the boot environment: a trial of T asks the caller for
 * the health check (IMAGO_OTA_BOOT_HEALTH), whose result goes to
 * imago_ota_boot_health(): confirm + report succeeded, or report rebooting
 * with IMAGO_EOTA_HEALTH + reboot (the bootloader reverts; the next boot
 * reports reverted, the final state).  A refused request is reported failed.
 *
 * Download progress: with ops->tr.set_progress, the file being fetched (the
 * delta, else the full image; a resumed one from its resume offset) is
 * reported "downloading" with its progress when it is at least 10 points
 * above the last progress reported for it and at least 2 s (ops->mono_ms)
 * after the last report: each report consumes a counter.
 *
 * Threads: imago_ota_check, imago_ota_boot_* and imago_ota_free on the
 * worker (or one thread); imago_ota_ack, imago_ota_pending and
 * imago_ota_info may be called from any thread (a mutex guards the state).
 * ops->report is called on the worker with no lock held.
 *
 * Memory: the TUF decision is bounded by the limits (docs/ota.md); images
 * are streamed to files, except (a) the delta base: the primary slot's
 * image bytes (zstd references the prefix in place; on a device a mapped
 * flash) and (b) the flash write: imago_flashfile_write_slot() takes the
 * whole image as one buffer.  Both are at most one slot.
 *
 * Ownership: open() copies cfg strings; ops and its contexts are borrowed
 * and must outlive the object.  Errors: IMAGO_EINVAL, IMAGO_ENOMEM,
 * IMAGO_EIO, IMAGO_EMALFORMED (state.json), the transport's and imago_tuf's
 * (IMAGO_ETUF_*), IMAGO_EOTA_DEVICE/DISAGREE/DOWNGRADE, IMAGO_ETUF_HWID,
 * IMAGO_EOTA_INSTALL, IMAGO_EDELTA (only logged: it falls back), flash and
 * boot errors (IMAGO_EFLASH_*, IMAGO_EBOOT_*, IMAGO_EIMG_*).
 */
#ifndef IMAGO_DEVICE_OTA_OTA_H
#define IMAGO_DEVICE_OTA_OTA_H

#include "base/hex.h"
#include "crypto/crypto.h"
#include "ota/vreport.h"
#include "tuf/client/client.h"

#include <stddef.h>
#include <stdint.h>

struct imago_ota;

/* Bytes of the file being fetched so far (done <= total), on the thread calling fetch_file. */
typedef void (*imago_ota_progress_fn)(void *arg, uint64_t done, uint64_t total);

/* Images and metadata, resumable for files (imago_blkc_get / imago_blkc_fetch_file fit). */
struct imago_ota_transport {
        imago_tuf_get_fn get; /* "blk:director/...", "blk:image/metadata/..." */
        int (*fetch_file)(void *ctx, const char *object, uint64_t length, const char *path,
                          uint64_t *resumed_from);
        /* Optional (NULL: no download progress is reported).  Later fetch_file calls call
         * fn(fn_arg, done, total) (fn NULL: stop), with no lock held, at the start (done = the
         * resume offset) and as the file grows (imago_blkc_set_progress fits). */
        void (*set_progress)(void *ctx, imago_ota_progress_fn fn, void *fn_arg);
        void *ctx;
};

struct imago_ota_ops {
        struct imago_ota_transport tr;
        /* The built, signed report (nonce: its 32 hex); hand it to the channel.  Worker thread. */
        int (*report)(void *arg, const char *nonce, const uint8_t *msg, size_t len);
        /* Reboot now (the agent execs imago-boot run); returning means it failed. */
        int (*reboot)(void *arg);
        int64_t (*now)(void *arg); /* unix seconds; NULL: time() */
        /* Monotonic milliseconds for the progress report limit; NULL: CLOCK_MONOTONIC. */
        uint64_t (*mono_ms)(void *arg);
        /* Milestones for the operator ("fw.img: built from a delta", ...); NULL: info log only. */
        void (*notice)(void *arg, const char *msg);
        imago_vreport_sign_fn sign;
        void *sign_arg;
        void *arg; /* for report, reboot, now */
};

struct imago_ota_config {
        const char *dir;           /* ota_dir */
        const char *director_root; /* factory-provisioned trusted roots (files) */
        const char *image_root;
        const char *flash;                     /* flash file (IMAGO_BOOT_FLASH) */
        const char *device_id;                 /* IMAGO_DEVICE_ID_LEN hex */
        const char *hardware_id;               /* [A-Za-z0-9._-]{1,64} */
        int production;                        /* 1: downgrades refused */
        const struct imago_tuf_limits *limits; /* NULL: imago_ota_limits_device() */
        uint32_t ack_wait_ms;                  /* wait for the "rebooting" ack; 0 = none */
};

/* The device limits of docs/ota.md ("Limits for a device"). */
void imago_ota_limits_device(struct imago_tuf_limits *l);

/* Creates the directories, initialises director/ and image/ from the roots on first run, loads
 * state.json.  *out freed with imago_ota_free(). */
int imago_ota_open(const struct imago_ota_config *cfg, const struct imago_ota_ops *ops,
                   struct imago_ota **out);
void imago_ota_free(struct imago_ota *o);

/* What a check ended with (when it returned 0). */
enum imago_ota_outcome {
        IMAGO_OTA_NOTHING = 0, /* no target, or the assignment was dealt with already */
        IMAGO_OTA_REFUSED,     /* target refused; a failed report was sent (the error) */
        IMAGO_OTA_UPTODATE,    /* T installed: succeeded reported */
        IMAGO_OTA_REBOOTED,    /* installed; ops->reboot was called (and returned) */
};

/* One check; *outcome (may be NULL).  Returns the refusal's error with IMAGO_OTA_REFUSED too. */
int imago_ota_check(struct imago_ota *o, enum imago_ota_outcome *outcome);

/* Stop after step n of a check (tests of crash consistency; 0 = never). Steps are listed in
 * docs/ota.md; imago_ota_check returns IMAGO_ECANCELED-like IMAGO_ESTATE there. */
void imago_ota_crash_at(struct imago_ota *o, int step);

/* After a boot. */
struct imago_ota_boot_env {
        const char *swap; /* IMAGO_BOOT_SWAP: none|test|permanent|revert (NULL = none) */
        int confirmed;    /* IMAGO_BOOT_CONFIRMED */
};

enum imago_ota_boot_action {
        IMAGO_OTA_BOOT_NONE = 0, /* nothing to do (maybe a report was sent) */
        IMAGO_OTA_BOOT_HEALTH,   /* trial of the target: run the health check */
};

int imago_ota_boot_start(struct imago_ota *o, const struct imago_ota_boot_env *env,
                         enum imago_ota_boot_action *action);
/* err 0: healthy -> confirm, report succeeded; else report rebooting with IMAGO_EOTA_HEALTH and
 * reboot (the revert is reported after it). */
int imago_ota_boot_health(struct imago_ota *o, int err);

/* Run a health command: execv(path) (no shell) with the process environment; 0 when it exited
 * 0 within timeout_ms, IMAGO_EOTA_HEALTH otherwise (killed at the timeout, or as soon as
 * stop(arg) returns non-zero: stop may be NULL). */
int imago_ota_health_cmd(const char *path, uint32_t timeout_ms, int (*stop)(void *arg), void *arg);

/* Any thread: the cloud acked nonce; the pending report is dropped when it is that one. */
void imago_ota_ack(struct imago_ota *o, const char *nonce);
/* Any thread: a copy of the pending report (malloc'd, *msg NULL when none). */
int imago_ota_pending(struct imago_ota *o, char nonce[33], uint8_t **msg, size_t *len);

/* The running image as read from the flash file (primary slot). */
struct imago_ota_image {
        uint8_t sha256[IMAGO_SHA256_LEN]; /* of the signed image bytes [0, length) */
        uint64_t length;                  /* header + body + TLVs (imago_boot_status.image_size) */
        char version[IMAGO_VREPORT_VERSION_MAX + 1];
        uint32_t security_counter;
        int trial; /* unconfirmed test image */
};
int imago_ota_read_installed(const char *flash, struct imago_ota_image *img);

#endif
