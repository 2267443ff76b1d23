/* sflow_source.c — the sFlow collector thread (see sflow_source.h). */
#include "capture/sflow_source.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "capture/flowrec.h"
#include "capture/sflow.h"
#include "capture/udp_listen.h"
#include "daemon/log.h"
#include "util/util.h"

/* ---- the port map ---- */

struct pentry {
    int slot, tag;
    uint32_t ifindex, sampling, count;
    bool from_port;
};

struct vnd_portmap {
    pthread_mutex_t lock;
    struct pentry *v;
    int n;
};

struct vnd_portmap *vnd_portmap_new(void)
{
    struct vnd_portmap *m = vnd_xcalloc(1, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

void vnd_portmap_free(struct vnd_portmap *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m->v);
    free(m);
}

void vnd_portmap_set(struct vnd_portmap *m, int slot, int tag, uint32_t ifindex,
                     bool from_port, uint32_t sampling)
{
    pthread_mutex_lock(&m->lock);
    m->v = vnd_xrealloc(m->v, (size_t)(m->n + 1) * sizeof *m->v);
    m->v[m->n++] = (struct pentry){slot, tag, ifindex, sampling > 1 ? sampling : 1, 0,
                                   from_port};
    pthread_mutex_unlock(&m->lock);
}

void vnd_portmap_clear(struct vnd_portmap *m, int slot)
{
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < m->n; )
        if (m->v[i].slot == slot)
            m->v[i] = m->v[--m->n];
        else
            i++;
    pthread_mutex_unlock(&m->lock);
}

/* ---- the collector ---- */

struct sflow_src {
    struct vnd_source up;
    int fd;
    struct vnd_portmap *map;
    struct vnd_pktq_writer w;
    pthread_t thread;
    bool running;
    atomic_bool stop;
    int64_t now_ns;              /* arrival of the datagram being read */
    _Atomic uint64_t received, untagged, unknown_tag, queued, queue_dropped, malformed;
    _Atomic uint64_t datagrams, sock_drops, subsampled;
    _Atomic uint64_t tag_drops[VND_TAGS];
};

static const struct vnd_source_class sflow_class;

static inline void bump(_Atomic uint64_t *v)
{
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static void put(struct sflow_src *c, const struct pentry *e, uint16_t type, const void *data,
                uint32_t caplen, uint32_t len)
{
    struct vnd_pktrec r = {.ts_ns = c->now_ns, .index = e->slot, .caplen = caplen,
                           .len = len, .tag = (uint16_t)e->tag, .type = type};
    unsigned char *d = vnd_pktq_append(&c->w, &r);
    if (!d) {
        bump(&c->queue_dropped);
        bump(&c->tag_drops[e->tag & (VND_TAGS - 1)]);
        return;
    }
    memcpy(d, data, caplen);
    bump(&c->queued);
}

static void on_flow(void *ctx, const struct vnd_sflow_datagram *d, const struct vnd_sflow_flow *f)
{
    (void)d;
    struct sflow_src *c = ctx;
    bump(&c->received);
    if (f->header_protocol != 1) {          /* not Ethernet */
        bump(&c->untagged);
        return;
    }
    uint32_t len = f->frame_length >= f->stripped ? f->frame_length - f->stripped : 0;
    uint32_t caplen = f->header_length;
    if (len && caplen > len)
        caplen = len;
    uint32_t rate = f->sampling_rate ? f->sampling_rate : 1;
    bool any = false;
    pthread_mutex_lock(&c->map->lock);
    for (int i = 0; i < c->map->n; i++) {
        struct pentry *e = &c->map->v[i];
        uint32_t fmt = e->from_port ? f->in_format : f->out_format;
        uint32_t val = e->from_port ? f->in_value : f->out_value;
        if (fmt != VND_SFLOW_IF_INDEX || val != e->ifindex || !val)
            continue;
        any = true;
        uint32_t keep = e->sampling > rate ? e->sampling / rate : 1;
        if (keep > 1 && e->count++ % keep != 0) {
            bump(&c->subsampled);
            continue;
        }
        put(c, e, VND_REC_PACKET, f->header, caplen, len);
    }
    pthread_mutex_unlock(&c->map->lock);
    if (!any)
        bump(&c->untagged);
}

static void on_counters(void *ctx, const struct vnd_sflow_datagram *d,
                        const struct vnd_ifcounters *k)
{
    (void)d;
    struct sflow_src *c = ctx;
    pthread_mutex_lock(&c->map->lock);
    for (int i = 0; i < c->map->n; i++)
        if (c->map->v[i].ifindex == k->if_index && k->if_index)
            put(c, &c->map->v[i], VND_REC_COUNTERS, k, sizeof *k, sizeof *k);
    pthread_mutex_unlock(&c->map->lock);
}

int vnd_sflow_source_open(const char *addr, struct vnd_portmap *map, struct vnd_pktq *q,
                          struct vnd_source **out, char **err)
{
    int e = 0;
    int fd = vnd_udp_listen(addr, "--sflow-listen", &e, err);
    if (fd < 0)
        return e;
    struct sflow_src *c = vnd_xcalloc(1, sizeof *c);
    c->up.cls = &sflow_class;
    c->up.name = vnd_strdup_printf("sflow:%s", addr);
    c->fd = fd;
    c->map = map;
    c->w.q = q;
    *out = &c->up;
    return 0;
}

static void *run(void *arg)
{
    struct sflow_src *c = arg;
    struct vnd_sflow_handler h = {on_flow, on_counters, c};
    static _Thread_local uint8_t buf[65536];
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
        /* a burst: read what is there */
        for (int k = 0; k < 256; k++) {
            uint32_t drops = UINT32_MAX;
            ssize_t n = vnd_udp_recv(c->fd, buf, sizeof buf, NULL, &drops);
            if (n < 0)
                break;
            if (drops != UINT32_MAX)
                atomic_store(&c->sock_drops, drops);
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            c->now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
            bump(&c->datagrams);
            const char *why = NULL;
            if (vnd_sflow_parse(buf, (size_t)n, &h, NULL, &why)) {
                bump(&c->malformed);
                vnd_debug("sflow: a malformed datagram (%zd bytes): %s", n, why);
            }
        }
        if (c->now_ns - handed_ns > 50000000) {
            vnd_pktq_hand_over(&c->w);
            handed_ns = c->now_ns;
        }
    }
    vnd_pktq_hand_over(&c->w);
    return NULL;
}

static int sf_start(struct vnd_source *s)
{
    struct sflow_src *c = (struct sflow_src *)s;
    int rc = pthread_create(&c->thread, NULL, run, c);
    c->running = rc == 0;
    return rc;
}

static void sf_stop(struct vnd_source *s)
{
    struct sflow_src *c = (struct sflow_src *)s;
    if (!c->running)
        return;
    atomic_store(&c->stop, true);
    pthread_join(c->thread, NULL);
    c->running = false;
}

static void sf_destroy(struct vnd_source *s)
{
    struct sflow_src *c = (struct sflow_src *)s;
    close(c->fd);
    free(c);
}

static void sf_stats(const struct vnd_source *s, struct vnd_source_stats *st)
{
    const struct sflow_src *c = (const struct sflow_src *)s;
    st->received = atomic_load(&c->received);
    st->untagged = atomic_load(&c->untagged);
    st->unknown_tag = atomic_load(&c->unknown_tag);
    st->queued = atomic_load(&c->queued);
    st->queue_dropped = atomic_load(&c->queue_dropped);
    st->malformed = atomic_load(&c->malformed);
    st->kernel_received = atomic_load(&c->datagrams);
    st->kernel_dropped = atomic_load(&c->sock_drops);
}

static uint64_t sf_tag_drops(const struct vnd_source *s, int tag)
{
    return atomic_load(&((const struct sflow_src *)s)->tag_drops[tag]);
}

static const struct vnd_source_class sflow_class = {
    "sflow", sf_start, sf_stop, sf_destroy, sf_stats, sf_tag_drops, NULL,
};
