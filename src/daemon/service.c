/* service.c — a daemon's secret and its readiness. */
#include "daemon/service.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/options.h"
#include "util/util.h"

int vnd_daemon_read_secret(const char *path, char **out)
{
    char *text = NULL;
    int rc = vnd_read_file(path, &text, NULL);
    if (rc) {
        vnd_err("secret file %s: %s", path, strerror(rc));
        return rc;
    }
    char *t = vnd_opts_trim(text);
    if (strlen(t) < 16 || strchr(t, '\n')) {
        vnd_err("secret file %s: needs one line of at least 16 characters", path);
        free(text);
        return EINVAL;
    }
    struct stat sb;
    if (stat(path, &sb) == 0 && (sb.st_mode & 077))
        vnd_warn("secret file %s can be read by other users (chmod 600 it)", path);
    *out = vnd_xstrdup(t);
    free(text);
    return 0;
}

/* Tells systemd (Type=notify) that we are up, without libsystemd. */
void vnd_daemon_notify_ready(void)
{
    const char *sock = getenv("NOTIFY_SOCKET");
    if (!sock || (sock[0] != '/' && sock[0] != '@'))
        return;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(sock);
    if (n >= sizeof sa.sun_path)
        return;
    memcpy(sa.sun_path, sock, n);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    static const char msg[] = "READY=1";
    if (sendto(fd, msg, sizeof msg - 1, 0, (struct sockaddr *)&sa,
               (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
        vnd_debug("sd_notify: %s", strerror(errno));
    close(fd);
}

volatile sig_atomic_t vnd_daemon_stop, vnd_daemon_hup;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        vnd_daemon_hup = 1;
    else
        vnd_daemon_stop = sig;
}

void vnd_daemon_block_signals(sigset_t *old)
{
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, old);
}

void vnd_daemon_catch_signals(const sigset_t *old)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t mask = *old;
    sigdelset(&mask, SIGTERM);
    sigdelset(&mask, SIGINT);
    sigdelset(&mask, SIGHUP);
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
}

int vnd_daemon_open_log(const char *prog, const char *file, const char *level)
{
    enum vnd_log_level l = VND_LOG_INFO;
    if (level && vnd_log_level_parse(level, &l)) {
        fprintf(stderr, "%s: --log-level takes error, warn, info or debug\n", prog);
        return 2;
    }
    if (vnd_log_open(file, l)) {
        fprintf(stderr, "%s: %s: %s\n", prog, file, strerror(errno));
        return 1;
    }
    return 0;
}
