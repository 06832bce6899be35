/*
 * imago-demo-payload: the application imago-boot runs from the primary
 * slot in the demo and tests.  It prints the boot status imago-boot put in
 * its environment, runs a health check (IMAGO_DEMO_HEALTHY=0 fails it), and
 * when healthy and not yet confirmed, confirms itself through the same host
 * interface: `imago-boot flash confirm $IMAGO_BOOT_FLASH`, with the
 * imago-boot program named by IMAGO_BOOT_PROGRAM.
 * Exit status: 0 healthy, 1 unhealthy or confirmation failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *env(const char *name)
{
        const char *v = getenv(name);

        return v ? v : "";
}

static int confirm(void)
{
        const char *prog = env("IMAGO_BOOT_PROGRAM"), *flash = env("IMAGO_BOOT_FLASH");
        int status;
        pid_t pid;

        if (!*prog || !*flash) {
                fprintf(stderr, "payload: IMAGO_BOOT_PROGRAM or IMAGO_BOOT_FLASH not set\n");
                return 1;
        }
        pid = fork();
        if (pid < 0)
                return 1;
        if (pid == 0) {
                execl(prog, prog, "flash", "confirm", flash, (char *)NULL);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return 1;
        return 0;
}

int main(int argc, char **argv)
{
        int i;

        printf("payload: running version %s (slot %s, security counter %s, confirmed %s, "
               "swap %s)\n",
               env("IMAGO_BOOT_VERSION"), env("IMAGO_BOOT_SLOT"),
               env("IMAGO_BOOT_SECURITY_COUNTER"), env("IMAGO_BOOT_CONFIRMED"),
               env("IMAGO_BOOT_SWAP"));
        for (i = 1; i < argc; i++)
                printf("payload: arg %d: %s\n", i, argv[i]);
        if (strcmp(env("IMAGO_DEMO_HEALTHY"), "0") == 0) {
                printf("payload: health check FAILED; not confirming (next boot reverts)\n");
                return 1;
        }
        printf("payload: health check passed\n");
        if (strcmp(env("IMAGO_BOOT_CONFIRMED"), "1") != 0) {
                if (confirm() != 0) {
                        fprintf(stderr, "payload: confirmation failed\n");
                        return 1;
                }
                printf("payload: confirmed this image\n");
        }
        return 0;
}
