/*
 * imago-sim: a fleet simulator in one event-driven process (docs/sim.md).
 * Program-internal header: subcommands and small helpers.
 *
 * Device directory layout (written by `imago-sim factory`, read by
 * `imago-sim run`): DIR/devices/<n>.key (P-256 PKCS#8 PEM, 0600, file keys
 * are allowed in the simulator only), DIR/devices/<n>.crt (birth
 * certificate), DIR/devices/<n>.op.crt and <n>.chain.crt (operational
 * certificate and issuing CA, written after enrolment), DIR/manifest.json
 * and DIR/manifest.json.sig (signed batch manifest for imago-cloud
 * import-batch).
 */
#ifndef IMAGO_SIM_SIM_H
#define IMAGO_SIM_SIM_H

#include <stddef.h>
#include <stdint.h>

#define SIM_COUNT_MAX 100000U

int sim_factory(int argc, char **argv);
int sim_run(int argc, char **argv);

/* Passphrase from a file (first line) or IMAGO_KEY_PASSPHRASE; wipe with sim_secret_free. */
int sim_passphrase(const char *file, char **out);
void sim_secret_free(char *p);

/* Resident set size of this process in KiB (0 if unknown). */
uint64_t sim_rss_kib(void);

/* "DIR/devices/<n><suffix>" into buf. */
int sim_dev_path(const char *dir, uint32_t n, const char *suffix, char *buf, size_t size);

#endif
