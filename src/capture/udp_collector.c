/* udp_collector.c — the UDP collectors' socket, thread and counters (see
 * udp_collector.h). */
#include "capture/udp_collector.h"

#include <errno.h>
#include <linux/sock_diag.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "util/util.h"

/* ---- the socket ---- */

static int udp_listen(const char *addr, const char *flag, int *e, char **err)
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
    int rcvbuf = 8 << 20;
    if (fd >= 0) {
        /* past net.core.rmem_max when allowed (CAP_NET_ADMIN): exporters
         * send in bursts */
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf))
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
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

/* Datagrams read with one recvmmsg: a system call per datagram was a
 * third of the IPFIX reader's CPU on a paravirtualized guest, where
 * entering the kernel is dear (bench/collector_bench.sh). */
#define BURST 32
#define DATAGRAM_MAX 65536

struct burst {
    struct mmsghdr m[BURST];
    struct iovec iov[BURST];
    struct sockaddr_storage from[BURST];
    uint8_t *buf;                /* BURST * DATAGRAM_MAX: pages the kernel
                                    never writes stay unmapped */
};

/* Up to BURST datagrams without waiting: how many (0 when none). */
static int udp_recv_burst(int fd, struct burst *b)
{
    for (int i = 0; i < BURST; i++) {
        b->iov[i] = (struct iovec){b->buf + (size_t)i * DATAGRAM_MAX, DATAGRAM_MAX};
        b->m[i].msg_hdr = (struct msghdr){
            .msg_name = &b->from[i], .msg_namelen = sizeof b->from[i], .msg_iov = &b->iov[i],
            .msg_iovlen = 1};
    }
    int n = recvmmsg(fd, b->m, BURST, MSG_DONTWAIT, NULL);
    return n > 0 ? n : 0;
}

/* The datagrams the socket dropped on a full buffer so far (the kernel's
 * sk_drops), read when the counters are asked: SO_RXQ_OVFL said the same
 * number in a control message on every datagram (the kernel's writing of
 * it, __sock_recv_cmsgs and put_cmsg, was half a percent of the
 * collector's CPU flat out in perf). */
static uint64_t socket_drops(int fd)
{
    uint32_t mem[SK_MEMINFO_VARS];
    socklen_t len = sizeof mem;
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len)
        || len < (SK_MEMINFO_DROPS + 1) * sizeof *mem)
        return 0;
    return mem[SK_MEMINFO_DROPS];
}

/* ---- the collector ---- */

int vnd_udp_collector_open(struct vnd_udp_collector *c, const struct vnd_source_class *cls,
                           const char *addr, const char *flag, struct vnd_pktq *q,
                           vnd_udp_reader *read, char **err)
{
    int e = 0;
    int fd = udp_listen(addr, flag, &e, err);
    if (fd < 0)
        return e;
    c->up.cls = cls;
    c->up.name = vnd_strdup_printf("%s:%s", cls->kind, addr);
    c->fd = fd;
    c->read = read;
    c->w.q = q;
    return 0;
}

void vnd_udp_collector_close(struct vnd_udp_collector *c)
{
    close(c->fd);
}

unsigned char *vnd_udp_collector_put(struct vnd_udp_collector *c, const struct vnd_pktrec *r)
{
    unsigned char *d = vnd_pktq_append(&c->w, r);
    if (!d) {
        vnd_udp_count(&c->queue_dropped, 1);
        vnd_udp_count(&c->tag_drops[r->tag & (VND_TAGS - 1)], 1);
        return NULL;
    }
    vnd_udp_count(&c->queued, 1);
    return d;
}

static void *run(void *arg)
{
    struct vnd_udp_collector *c = arg;
    char name[16];
    snprintf(name, sizeof name, "vnd-%s", c->up.cls->kind);   /* vnd-sflow, vnd-ipfix */
    prctl(PR_SET_NAME, name, 0, 0, 0);
    struct burst *b = vnd_xcalloc(1, sizeof *b);
    b->buf = vnd_xmalloc((size_t)BURST * DATAGRAM_MAX);
    int64_t handed_ns = 0;
    while (!atomic_load(&c->stop)) {
        struct pollfd pfd = {c->fd, POLLIN, 0};
        /* A batch being filled waits up to 5 ms for more records, and is
         * handed over at the latest 50 ms after the last one: handing each
         * burst over (a datagram or two when the collector keeps up) would
         * fill the queue's buffers with a few records each, and drop. */
        bool filling = c->w.cur && c->w.cur->n;
        int pr = poll(&pfd, 1, filling ? 5 : 100);
        if (pr <= 0) {
            vnd_pktq_hand_over(&c->w);
            continue;
        }
        /* a burst: read what is there, up to 8 * BURST datagrams */
        int k = 0;
        for (int round = 0; round < 8; round++) {
            int n = udp_recv_burst(c->fd, b);
            if (n == 0)
                break;
            /* they were all waiting: one arrival time serves */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            c->now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
            vnd_udp_count(&c->datagrams, (uint64_t)n);
            for (int i = 0; i < n; i++) {
                size_t len = b->m[i].msg_len;
                const char *why = c->read(c, b->iov[i].iov_base, len, &b->from[i]);
                if (why) {
                    vnd_udp_count(&c->malformed, 1);
                    vnd_debug("%s: a malformed datagram (%zu bytes): %s", c->up.name, len, why);
                }
            }
            k += n;
            if (n < BURST)
                break;
        }
        if (c->now_ns - handed_ns > 50000000) {
            vnd_pktq_hand_over(&c->w);
            handed_ns = c->now_ns;
        }
        /* A short burst means the exporter is slower than this thread,
         * which would then sleep and wake for every datagram or two (half
         * of its CPU at 100,000 datagrams/s, bench/collector_bench.sh).
         * Waiting 0.5 ms lets the socket gather a larger burst: at most
         * 2,000 wake-ups a second, and at 200,000 datagrams/s 100 of them
         * waiting, which even a socket held to the default rmem_max takes. */
        if (k < BURST && !atomic_load(&c->stop))
            nanosleep(&(struct timespec){0, 500000}, NULL);
    }
    vnd_pktq_hand_over(&c->w);
    free(b->buf);
    free(b);
    return NULL;
}

int vnd_udp_collector_start(struct vnd_source *s)
{
    struct vnd_udp_collector *c = (struct vnd_udp_collector *)s;
    int rc = pthread_create(&c->thread, NULL, run, c);
    c->running = rc == 0;
    return rc;
}

void vnd_udp_collector_stop(struct vnd_source *s)
{
    struct vnd_udp_collector *c = (struct vnd_udp_collector *)s;
    if (!c->running)
        return;
    atomic_store(&c->stop, true);
    pthread_join(c->thread, NULL);
    c->running = false;
}

void vnd_udp_collector_stats(const struct vnd_source *s, struct vnd_source_stats *st)
{
    const struct vnd_udp_collector *c = (const struct vnd_udp_collector *)s;
    st->received = atomic_load(&c->received);
    st->untagged = atomic_load(&c->untagged);
    st->unknown_tag = atomic_load(&c->unknown_tag);
    st->queued = atomic_load(&c->queued);
    st->queue_dropped = atomic_load(&c->queue_dropped);
    st->malformed = atomic_load(&c->malformed);
    st->kernel_received = atomic_load(&c->datagrams);
    st->kernel_dropped = socket_drops(c->fd);
}

uint64_t vnd_udp_collector_tag_drops(const struct vnd_source *s, int tag)
{
    return atomic_load(&((const struct vnd_udp_collector *)s)->tag_drops[tag]);
}
