/* imago-boot: rendering of the boot status. */
#include "boot_main.h"

#include "base/err.h"

#include <inttypes.h>
#include <stdio.h>

static void hex(FILE *f, const uint8_t *b, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                fprintf(f, "%02x", b[i]);
}

void ib_print_status(const struct imago_flashfile *ff, const struct imago_boot_status *st, int json)
{
        const struct imago_image_version *v = &st->version;

        if (json) {
                printf("{\"layout\":\"%s\",\"slot_size\":%" PRIu32 ",\"bootable\":%s,",
                       ff->layout->name, ff->slot_size, st->bootable ? "true" : "false");
                if (st->bootable) {
                        printf("\"slot\":\"primary\",\"version\":\"%u.%u.%u+%" PRIu32 "\","
                               "\"security_counter\":%" PRIu32 ",\"image_size\":%" PRIu32
                               ",\"hash\":\"",
                               v->major, v->minor, v->revision, v->build, st->sec_cnt,
                               st->image_size);
                        hex(stdout, st->hash, sizeof(st->hash));
                        printf("\",");
                } else {
                        printf("\"primary_error\":\"%s\",", imago_errname(st->primary_err));
                }
                printf("\"confirmed\":%s,\"trial\":%s,\"swap_in_progress\":%s,"
                       "\"pending\":\"%s\",\"stored_security_counter\":%" PRIu32 "}\n",
                       st->confirmed ? "true" : "false", st->trial ? "true" : "false",
                       st->in_progress ? "true" : "false", imago_boot_swap_name(st->pending),
                       st->stored_sec_cnt);
                return;
        }
        printf("layout:            %s (slot %" PRIu32 " bytes)\n", ff->layout->name, ff->slot_size);
        if (st->bootable) {
                printf("primary:           version %u.%u.%u+%" PRIu32 ", security counter %" PRIu32
                       ", %" PRIu32 " bytes, verified\n",
                       v->major, v->minor, v->revision, v->build, st->sec_cnt, st->image_size);
                printf("sha256:            ");
                hex(stdout, st->hash, sizeof(st->hash));
                printf("\n");
        } else {
                printf("primary:           not bootable: %s (%s)\n",
                       imago_strerror(st->primary_err), imago_errname(st->primary_err));
        }
        printf("confirmed:         %s\n", st->confirmed ? "yes"
                                          : st->trial   ? "no (trial: reverts on next boot)"
                                                        : "no");
        if (st->in_progress)
                printf("swap:              in progress (resumes on next boot)\n");
        printf("pending request:   %s\n", imago_boot_swap_name(st->pending));
        printf("stored counter:    %" PRIu32 "\n", st->stored_sec_cnt);
}

void ib_print_recovery(const struct imago_boot_status *st)
{
        fprintf(stderr, "imago-boot: RECOVERY: no slot holds a bootable image\n");
        fprintf(stderr, "  primary:   %s (%s)\n", imago_strerror(st->primary_err),
                imago_errname(st->primary_err));
        fprintf(stderr, "  secondary: %s (%s)\n",
                st->secondary_err == IMAGO_ENOTFOUND ? "valid image, but no update requested"
                                                     : imago_strerror(st->secondary_err),
                imago_errname(st->secondary_err));
        fprintf(stderr, "  stored security counter: %" PRIu32 "\n", st->stored_sec_cnt);
}
