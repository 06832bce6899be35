/*
 * imago-boot: private interface between the program's files.  Each
 * command returns an exit status: 0 success, 1 failure, 2 usage, 3 the
 * recovery state (no bootable image).
 */
#ifndef IMAGO_BOOT_MAIN_BOOT_MAIN_H
#define IMAGO_BOOT_MAIN_BOOT_MAIN_H

#include "boot/boot.h"
#include "boot/host/flashfile.h"

#define IB_OK       0
#define IB_FAIL     1
#define IB_USAGE    2
#define IB_RECOVERY 3

int ib_cmd_flash(int argc, char **argv);
int ib_cmd_run(int argc, char **argv);

/* Print an error "imago-boot: what: description" to stderr; returns IB_FAIL. */
int ib_fail(const char *what, int r);

/* Open the flash file or print why not. */
int ib_open(struct imago_flashfile *ff, const char *path, int writable);

/* Human and JSON renderings of a boot status. */
void ib_print_status(const struct imago_flashfile *ff, const struct imago_boot_status *st,
                     int json);
/* Recovery report on stderr. */
void ib_print_recovery(const struct imago_boot_status *st);

#endif
