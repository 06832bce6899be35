/* imago_ota internals shared by its files (see ota.h). */
#ifndef IMAGO_DEVICE_OTA_OTA_PRIV_H
#define IMAGO_DEVICE_OTA_OTA_PRIV_H

#include "device/ota/ota.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

enum ota_phase {
        OTA_PH_IDLE = 0,
        OTA_PH_DOWNLOADING = 1,
        OTA_PH_INSTALLING = 2,
        OTA_PH_REBOOTING = 3,
};

#define OTA_STATE_MAX (IMAGO_VREPORT_MAX * 2 + 4096)
#define OTA_PATH_MAX  4096

/* state.json (see ota.h). */
struct ota_state {
        enum ota_phase phase;
        char target[IMAGO_VREPORT_TARGET_MAX + 1]; /* "" none */
        uint64_t rollout;
        uint8_t sha256[IMAGO_SHA256_LEN];
        uint64_t length;
        char version[IMAGO_VREPORT_VERSION_MAX + 1];
        uint32_t sec;
        uint8_t prev_sha256[IMAGO_SHA256_LEN];
        uint64_t prev_length;
        char prev_version[IMAGO_VREPORT_VERSION_MAX + 1];
        uint32_t prev_sec;
        int trial_seen;    /* the target ran on trial */
        int health_failed; /* its health check failed */
        int reported;      /* final state reported for target (enum imago_vreport_state, 0 none) */
        uint64_t counter;  /* last report counter used */
        char nonce[33];    /* pending report's nonce ("" none) */
        char *report;      /* pending report (malloc'd) or NULL */
        size_t report_len;
};

struct imago_ota {
        char *dir, *director_root, *image_root, *flash, *hwid;
        char devid[IMAGO_DEVICE_ID_LEN + 1];
        int production;
        uint32_t ack_wait_ms;
        struct imago_tuf_limits lim;
        struct imago_ota_ops ops;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        struct ota_state st; /* guarded by mu where other threads look (nonce, report) */
        int crash_at;
        int step;
        /* download progress (worker thread only) */
        int prog_active;   /* a fetch reports its progress */
        unsigned prog_pct; /* last progress reported for that file */
        int prog_sent;     /* a report left in this process: prog_ms valid */
        uint64_t prog_ms;  /* when (ops.mono_ms) */
};

/* ota_state.c */
int ota_state_load(const char *path, struct ota_state *st);
int ota_state_save(const char *path, const struct ota_state *st);
/* Strict parse of state.json bytes (IMAGO_EMALFORMED, IMAGO_ETOOBIG); *st zeroed first. */
int ota_state_parse(const uint8_t *buf, size_t len, struct ota_state *st);
/* state.json text (malloc'd, NUL-terminated). */
int ota_state_dump(const struct ota_state *st, char **out);
void ota_state_clear_report(struct ota_state *st);
const char *ota_phase_name(enum ota_phase p);
/* Persist o->st (locks). */
int ota_save(struct imago_ota *o);
int ota_path(const struct imago_ota *o, const char *rel, char out[OTA_PATH_MAX]);

/* ota_report.c: build, persist (counter first), send.  target: o->st.target. */
int ota_report(struct imago_ota *o, enum imago_vreport_state state, int err, unsigned progress);
/* Wait up to o->ack_wait_ms for the pending report to be acked. */
void ota_wait_ack(struct imago_ota *o);

/* ota_progress.c: "downloading" reports while a file is fetched (see ota.h). */
#define OTA_PROGRESS_STEP   10   /* points of progress between two reports */
#define OTA_PROGRESS_MIN_MS 2000 /* ms between a report and a progress report */
uint64_t ota_mono_ms(struct imago_ota *o);
/* Around a fetch_file call: report its progress from 0 (no-op without tr.set_progress). */
void ota_progress_begin(struct imago_ota *o);
void ota_progress_end(struct imago_ota *o);

/* ota_fetch.c: the verified image T at download/SHA.img (delta first, then full). */
struct ota_target {
        const char *name; /* namebuf */
        char namebuf[IMAGO_VREPORT_TARGET_MAX + 1];
        uint64_t length;
        uint8_t sha256[IMAGO_SHA256_LEN];
        char sha_hex[65];
        char hwid[IMAGO_VREPORT_HWID_MAX + 1];
        char version[IMAGO_VREPORT_VERSION_MAX + 1];
        uint32_t sec;
        uint64_t rollout;
};
int ota_fetch(struct imago_ota *o, struct imago_tuf_client *img, const struct ota_target *t,
              const struct imago_ota_image *inst, char path[OTA_PATH_MAX]);
/* sha256 of a target from its hashes; IMAGO_ETUF_FORMAT when it has none. */
int ota_target_sha256(const struct imago_tuf_target *t, uint8_t out[IMAGO_SHA256_LEN]);
/* custom fields hardware_id, version, security_counter (all required). */
int ota_target_custom(const struct imago_tuf_target *t, struct ota_target *out);
/* Hash a whole file. */
int ota_file_sha256(const char *path, uint64_t *len, uint8_t out[IMAGO_SHA256_LEN]);

/* ota_installed.c: the primary slot's signed image bytes (malloc'd), checked against sha256. */
int ota_read_primary(const char *flash, const uint8_t sha256[IMAGO_SHA256_LEN], uint8_t **buf,
                     size_t *len);

/* ota_install.c */
int ota_install(struct imago_ota *o, const char *path, const struct ota_target *t);

/* Delete everything in download/ (a new assignment, or one that ended). */
void ota_clean_downloads(struct imago_ota *o);

/* A milestone: info log and ops->notice. */
void ota_notice(struct imago_ota *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Crash injection point (tests): IMAGO_ESTATE when o->crash_at is reached. */
int ota_step(struct imago_ota *o);

#endif
