/* See svc_priv.h: Mosquitto as a child process that never outlives us. */
#define _GNU_SOURCE
#include "cloud/svc_priv.h"

#include "base/err.h"
#include "cloud/svc_log.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BROKER_START_MS 10000
#define BROKER_STOP_MS  5000

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
}

static int listener_accepts(const char *host, uint16_t port)
{
        struct addrinfo hints, *ai = NULL, *p;
        char svc[8];
        int ok = 0;

        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV;
        snprintf(svc, sizeof(svc), "%u", (unsigned)port);
        if (getaddrinfo(host, svc, &hints, &ai) != 0)
                return 0;
        for (p = ai; p != NULL && !ok; p = p->ai_next) {
                int fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);

                if (fd < 0)
                        continue;
                ok = connect(fd, p->ai_addr, p->ai_addrlen) == 0;
                close(fd);
        }
        freeaddrinfo(ai);
        return ok;
}

static void child(const char *bin, const char *conf, pid_t parent)
{
        sigset_t none;

        /* Die with the parent, even when it is SIGKILLed. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
                _exit(127);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execl(bin, "mosquitto", "-c", conf, (char *)NULL);
        _exit(127);
}

int imago_svc_broker_start(struct imago_svc *s)
{
        char conf[IMAGO_CLOUD_PATH_MAX + 32];
        pid_t parent = getpid(), pid;
        int status, r, waited;

        if ((r = imago_svc_path(s, IMAGO_CLOUD_F_MOSQUITTO, conf, sizeof(conf))) != IMAGO_OK)
                return r;
        if (access(conf, R_OK) != 0) {
                imago_svc_log(IMAGO_LOG_ERROR, "broker_start", "result=IMAGO_ENOTFOUND conf=%s",
                              conf);
                return IMAGO_ENOTFOUND;
        }
        if (listener_accepts(s->cfg.mqtt_host, s->cfg.mqtt_port)) {
                imago_svc_log(IMAGO_LOG_ERROR, "broker_start", "result=IMAGO_EEXIST port=%u",
                              (unsigned)s->cfg.mqtt_port);
                return IMAGO_EEXIST;
        }
        if ((pid = fork()) < 0)
                return IMAGO_EIO;
        if (pid == 0)
                child(s->cfg.mosquitto_path, conf, parent);
        s->broker = pid;
        for (waited = 0; waited < BROKER_START_MS; waited += 50) {
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        s->broker = 0;
                        imago_svc_log(IMAGO_LOG_ERROR, "broker_start",
                                      "result=IMAGO_EIO pid=%ld exit=%d", (long)pid,
                                      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                        return IMAGO_EIO;
                }
                if (listener_accepts(s->cfg.mqtt_host, s->cfg.mqtt_port)) {
                        imago_svc_log(IMAGO_LOG_INFO, "broker_start",
                                      "result=ok pid=%ld port=%u wait_ms=%d", (long)pid,
                                      (unsigned)s->cfg.mqtt_port, waited);
                        return IMAGO_OK;
                }
                sleep_ms(50);
        }
        imago_svc_log(IMAGO_LOG_ERROR, "broker_start", "result=timeout pid=%ld", (long)pid);
        imago_svc_broker_stop(s);
        return IMAGO_EIO;
}

void imago_svc_broker_stop(struct imago_svc *s)
{
        int status, waited;
        pid_t pid = s->broker;

        if (pid <= 0)
                return;
        s->broker = 0;
        (void)kill(pid, SIGTERM);
        for (waited = 0; waited < BROKER_STOP_MS; waited += 20) {
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        imago_svc_log(IMAGO_LOG_INFO, "broker_stop", "result=ok pid=%ld",
                                      (long)pid);
                        return;
                }
                sleep_ms(20);
        }
        (void)kill(pid, SIGKILL);
        (void)waitpid(pid, &status, 0);
        imago_svc_log(IMAGO_LOG_WARN, "broker_stop", "result=killed pid=%ld", (long)pid);
}
