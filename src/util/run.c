/* run.c — a child process with an argv and pipes. */
#include "util/run.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/util.h"

extern char **environ;

int vnd_run(char *const argv[], const char *input, double timeout, char **out, char **errout)
{
    int in[2] = {-1, -1}, o[2] = {-1, -1}, e[2] = {-1, -1};
    struct vnd_buf so = {0}, se = {0};
    vnd_buf_add(&so, "", 0);
    vnd_buf_add(&se, "", 0);
    int status = -1;
    if (pipe2(in, O_CLOEXEC) || pipe2(o, O_CLOEXEC) || pipe2(e, O_CLOEXEC)) {
        vnd_buf_add(&se, strerror(errno), strlen(strerror(errno)));
        goto done;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, o[1], 1);
    posix_spawn_file_actions_adddup2(&fa, e[1], 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(o[1]);
    close(e[1]);
    in[0] = o[1] = e[1] = -1;
    if (rc) {
        char msg[256];
        snprintf(msg, sizeof msg, "cannot run %s: %s", argv[0], strerror(rc));
        vnd_buf_add(&se, msg, strlen(msg));
        goto done;
    }
    /* The input is small (a bundle of flows); a full pipe is still
     * handled by polling it with the outputs. */
    size_t ilen = input ? strlen(input) : 0, ipos = 0;
    if (!ilen) {
        close(in[1]);
        in[1] = -1;
    } else {
        fcntl(in[1], F_SETFL, O_NONBLOCK);
    }
    double deadline = vnd_now() + timeout;
    bool killed = false;
    while (o[0] >= 0 || e[0] >= 0) {
        struct pollfd p[3] = {{o[0], POLLIN, 0}, {e[0], POLLIN, 0}, {in[1], POLLOUT, 0}};
        double left = deadline - vnd_now();
        if (left <= 0) {
            kill(pid, SIGKILL);
            killed = true;
            break;
        }
        if (poll(p, 3, (int)(left * 1000) + 1) < 0 && errno != EINTR)
            break;
        char buf[4096];
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t k = read(p[i].fd, buf, sizeof buf);
            if (k > 0) {
                vnd_buf_add(i ? &se : &so, buf, (size_t)k);
            } else if (k == 0 || errno != EINTR) {
                close(p[i].fd);
                *(i ? &e[0] : &o[0]) = -1;
            }
        }
        if (in[1] >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t k = write(in[1], input + ipos, ilen - ipos);
            if (k > 0)
                ipos += (size_t)k;
            if (k < 0 && errno != EAGAIN && errno != EINTR)
                ipos = ilen;
            if (ipos >= ilen) {
                close(in[1]);
                in[1] = -1;
            }
        }
    }
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    if (killed) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s took longer than %.0f s and was stopped", argv[0], timeout);
        vnd_buf_add(&se, msg, strlen(msg));
    } else if (WIFEXITED(ws)) {
        status = WEXITSTATUS(ws);
    } else {
        char msg[128];
        snprintf(msg, sizeof msg, "%s ended by signal %d", argv[0], WTERMSIG(ws));
        vnd_buf_add(&se, msg, strlen(msg));
    }
done:
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0)
            close(in[i]);
        if (o[i] >= 0)
            close(o[i]);
        if (e[i] >= 0)
            close(e[i]);
    }
    if (out)
        *out = so.s;
    else
        free(so.s);
    if (errout)
        *errout = se.s;
    else
        free(se.s);
    return status;
}
