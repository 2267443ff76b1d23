/* udp_listen.c — collector sockets (see udp_listen.h). */
#include "capture/udp_listen.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

int vnd_udp_listen(const char *addr, const char *flag, int *e, char **err)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof host || !colon[1]) {
        *err = vnd_strdup_printf("%s %s: give HOST:PORT (e.g. 127.0.0.1:6343)", flag, addr);
        *e = EINVAL;
        return -1;
    }
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = 0;
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = 0;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV}, *ai = NULL;
    int g = getaddrinfo(host, colon + 1, &hints, &ai);
    if (g) {
        *err = vnd_strdup_printf("%s %s: %s", flag, addr, gai_strerror(g));
        *e = EINVAL;
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int one = 1, rcvbuf = 8 << 20;
    if (fd >= 0) {
        /* past net.core.rmem_max when allowed (CAP_NET_ADMIN): exporters
         * send in bursts */
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf))
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
    }
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen)) {
        *e = errno;
        *err = vnd_strdup_printf("%s %s: %s", flag, addr, strerror(*e));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    return fd;
}

ssize_t vnd_udp_recv(int fd, void *buf, size_t cap, struct sockaddr_storage *from,
                     uint32_t *drops)
{
    char cbuf[CMSG_SPACE(sizeof(uint32_t))];
    struct iovec iov = {buf, cap};
    struct msghdr mh = {.msg_name = from, .msg_namelen = from ? sizeof *from : 0,
                        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                        .msg_controllen = sizeof cbuf};
    ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
    if (n < 0)
        return -1;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL)
            memcpy(drops, CMSG_DATA(cm), sizeof *drops);
    return n;
}
