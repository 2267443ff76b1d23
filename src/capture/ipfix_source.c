/* ipfix_source.c — the IPFIX collector thread (see ipfix_source.h). */
#include "capture/ipfix_source.h"

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/udp_listen.h"
#include "daemon/log.h"
#include "util/util.h"

/* ---- the observation point map ---- */

struct oentry {
    int slot, tag;
    uint64_t obs_point;
};

struct vnd_obsmap {
    pthread_mutex_t lock;
    struct oentry *v;
    int n;
};

struct vnd_obsmap *vnd_obsmap_new(void)
{
    struct vnd_obsmap *m = vnd_xcalloc(1, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

void vnd_obsmap_free(struct vnd_obsmap *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m->v);
    free(m);
}

void vnd_obsmap_set(struct vnd_obsmap *m, int slot, int tag, uint64_t obs_point)
{
    pthread_mutex_lock(&m->lock);
    m->v = vnd_xrealloc(m->v, (size_t)(m->n + 1) * sizeof *m->v);
    m->v[m->n++] = (struct oentry){slot, tag, obs_point};
    pthread_mutex_unlock(&m->lock);
}

void vnd_obsmap_clear(struct vnd_obsmap *m, int slot)
{
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < m->n; )
        if (m->v[i].slot == slot)
            m->v[i] = m->v[--m->n];
        else
            i++;
    pthread_mutex_unlock(&m->lock);
}

/* ---- a record's fields ---- */

void vnd_ipfix_flow_fields(const struct vnd_ipfix_flow *f, struct vnd_pkt *p)
{
    memset(p->present, 0, sizeof p->present);
    p->anomalies = 0;
    p->payload = NULL;
    p->payload_caplen = 0;
    uint32_t h = f->has;
    if (h & VND_IPFIX_HAS_SRC_MAC)
        vnd_pkt_set_b(p, VND_F_ETH_SRC, f->src_mac, 6);
    if (h & VND_IPFIX_HAS_DST_MAC)
        vnd_pkt_set_b(p, VND_F_ETH_DST, f->dst_mac, 6);
    if (h & VND_IPFIX_HAS_ETH_TYPE)
        vnd_pkt_set_u(p, VND_F_ETH_TYPE, f->eth_type);
    if (h & VND_IPFIX_HAS_VLAN && f->vlan)
        vnd_pkt_set_u(p, VND_F_VLAN_ID, f->vlan);
    uint32_t alen = f->ip_version == 6 ? 16 : 4;
    if (h & VND_IPFIX_HAS_IP_VERSION)
        vnd_pkt_set_u(p, VND_F_IP_VERSION, f->ip_version);
    if (h & VND_IPFIX_HAS_SRC)
        vnd_pkt_set_b(p, VND_F_IP_SRC, f->src, alen);
    if (h & VND_IPFIX_HAS_DST)
        vnd_pkt_set_b(p, VND_F_IP_DST, f->dst, alen);
    if (h & VND_IPFIX_HAS_PROTO) {
        vnd_pkt_set_u(p, VND_F_IP_PROTO, f->proto);
        /* ports are the transport's: tcp.* for TCP, udp.* for UDP */
        enum vnd_field sf = f->proto == 6 ? VND_F_TCP_SRC : VND_F_UDP_SRC;
        enum vnd_field df = f->proto == 6 ? VND_F_TCP_DST : VND_F_UDP_DST;
        if (f->proto == 6 || f->proto == 17) {
            if (h & VND_IPFIX_HAS_SPORT)
                vnd_pkt_set_u(p, sf, f->sport);
            if (h & VND_IPFIX_HAS_DPORT)
                vnd_pkt_set_u(p, df, f->dport);
        }
        if (f->proto == 6 && h & VND_IPFIX_HAS_TCP_FLAGS) {
            vnd_pkt_set_u(p, VND_F_TCP_FLAGS, f->tcp_flags);
            vnd_pkt_set_u(p, VND_F_TCP_SYN, (f->tcp_flags >> 1) & 1);
            vnd_pkt_set_u(p, VND_F_TCP_FIN, f->tcp_flags & 1);
            vnd_pkt_set_u(p, VND_F_TCP_RST, (f->tcp_flags >> 2) & 1);
            vnd_pkt_set_u(p, VND_F_TCP_ACKFLAG, (f->tcp_flags >> 4) & 1);
        }
        if ((f->proto == 1 || f->proto == 58) && h & VND_IPFIX_HAS_ICMP) {
            vnd_pkt_set_u(p, VND_F_ICMP_TYPE, f->icmp_type);
            vnd_pkt_set_u(p, VND_F_ICMP_CODE, f->icmp_code);
        }
    }
    if (h & VND_IPFIX_HAS_START)
        vnd_pkt_set_u(p, VND_F_FLOW_START, (uint64_t)f->start_ns);
    if (h & VND_IPFIX_HAS_END)
        vnd_pkt_set_u(p, VND_F_FLOW_END, (uint64_t)f->end_ns);
    if (h & VND_IPFIX_HAS_PACKETS)
        vnd_pkt_set_u(p, VND_F_FLOW_PACKETS, f->packets);
    if (h & VND_IPFIX_HAS_OCTETS)
        vnd_pkt_set_u(p, VND_F_FLOW_BYTES, f->octets);
    if (h & VND_IPFIX_HAS_L2_OCTETS)
        vnd_pkt_set_u(p, VND_F_FLOW_L2_BYTES, f->l2_octets);
    if (h & VND_IPFIX_HAS_END_REASON)
        vnd_pkt_set_u(p, VND_F_FLOW_END_REASON, f->end_reason);
    if (h & VND_IPFIX_HAS_IN_IF)
        vnd_pkt_set_u(p, VND_F_FLOW_IN_IF, f->in_if);
    if (h & VND_IPFIX_HAS_OUT_IF)
        vnd_pkt_set_u(p, VND_F_FLOW_OUT_IF, f->out_if);
    if (h & VND_IPFIX_HAS_OBS_POINT)
        vnd_pkt_set_u(p, VND_F_FLOW_OBS_POINT, f->obs_point);
}

/* ---- the collector ---- */

struct ipfix_src {
    struct vnd_source up;
    int fd;
    struct vnd_obsmap *map;
    struct vnd_ipfix_cache *cache;
    struct vnd_pktq_writer w;
    pthread_t thread;
    bool running;
    atomic_bool stop;
    int64_t now_ns;              /* arrival of the message being read */
    _Atomic uint64_t received, untagged, unknown_tag, queued, queue_dropped, malformed;
    _Atomic uint64_t messages, sock_drops, templates, withdrawals, unknown_template, refused;
    _Atomic uint64_t tag_drops[VND_TAGS];
};

static const struct vnd_source_class ipfix_class;

static inline void add(_Atomic uint64_t *v, uint64_t n)
{
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static void on_flow(void *ctx, const struct vnd_ipfix_flow *f)
{
    struct ipfix_src *c = ctx;
    add(&c->received, 1);
    if (!(f->has & VND_IPFIX_HAS_OBS_POINT)) {
        add(&c->untagged, 1);
        return;
    }
    bool any = false;
    int64_t ts = f->has & VND_IPFIX_HAS_END ? f->end_ns : c->now_ns;
    pthread_mutex_lock(&c->map->lock);
    for (int i = 0; i < c->map->n; i++) {
        const struct oentry *e = &c->map->v[i];
        if (e->obs_point != f->obs_point)
            continue;
        any = true;
        struct vnd_pktrec r = {.ts_ns = ts, .index = e->slot, .caplen = sizeof *f,
                               .len = sizeof *f, .tag = (uint16_t)e->tag,
                               .type = VND_REC_FLOW};
        unsigned char *d = vnd_pktq_append(&c->w, &r);
        if (!d) {
            add(&c->queue_dropped, 1);
            add(&c->tag_drops[e->tag & (VND_TAGS - 1)], 1);
            continue;
        }
        memcpy(d, f, sizeof *f);
        add(&c->queued, 1);
    }
    pthread_mutex_unlock(&c->map->lock);
    if (!any)
        add(&c->unknown_tag, 1);
}

int vnd_ipfix_source_open(const char *addr, struct vnd_obsmap *map, struct vnd_pktq *q,
                          struct vnd_source **out, char **err)
{
    int e = 0;
    int fd = vnd_udp_listen(addr, "--ipfix-listen", &e, err);
    if (fd < 0)
        return e;
    struct ipfix_src *c = vnd_xcalloc(1, sizeof *c);
    c->up.cls = &ipfix_class;
    c->up.name = vnd_strdup_printf("ipfix:%s", addr);
    c->fd = fd;
    c->map = map;
    c->cache = vnd_ipfix_cache_new(0, 0);
    c->w.q = q;
    *out = &c->up;
    return 0;
}

/* The transport session of a sender: its address and port. */
static size_t session_of(const struct sockaddr_storage *ss, uint8_t *key)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        memcpy(key, &a->sin_addr, 4);
        memcpy(key + 4, &a->sin_port, 2);
        return 6;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        memcpy(key, &a->sin6_addr, 16);
        memcpy(key + 16, &a->sin6_port, 2);
        return 18;
    }
    return 0;
}

static void *run(void *arg)
{
    struct ipfix_src *c = arg;
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
            struct sockaddr_storage from;
            memset(&from, 0, sizeof from);
            uint32_t drops = UINT32_MAX;
            ssize_t n = vnd_udp_recv(c->fd, buf, sizeof buf, &from, &drops);
            if (n < 0)
                break;
            if (drops != UINT32_MAX)
                atomic_store(&c->sock_drops, drops);
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            c->now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
            add(&c->messages, 1);
            uint8_t key[VND_IPFIX_SESSION_MAX];
            size_t klen = session_of(&from, key);
            struct vnd_ipfix_counts cn;
            const char *why = NULL;
            if (vnd_ipfix_parse(c->cache, key, klen, (double)ts.tv_sec, buf, (size_t)n,
                                on_flow, c, &cn, &why)) {
                add(&c->malformed, 1);
                vnd_debug("ipfix: a malformed message (%zd bytes): %s", n, why);
            }
            add(&c->templates, cn.templates + cn.options_templates);
            add(&c->withdrawals, cn.withdrawals);
            add(&c->unknown_template, cn.unknown_template);
            add(&c->refused, cn.refused_templates);
        }
        if (c->now_ns - handed_ns > 50000000) {
            vnd_pktq_hand_over(&c->w);
            handed_ns = c->now_ns;
        }
    }
    vnd_pktq_hand_over(&c->w);
    return NULL;
}

static int ix_start(struct vnd_source *s)
{
    struct ipfix_src *c = (struct ipfix_src *)s;
    int rc = pthread_create(&c->thread, NULL, run, c);
    c->running = rc == 0;
    return rc;
}

static void ix_stop(struct vnd_source *s)
{
    struct ipfix_src *c = (struct ipfix_src *)s;
    if (!c->running)
        return;
    atomic_store(&c->stop, true);
    pthread_join(c->thread, NULL);
    c->running = false;
}

static void ix_destroy(struct vnd_source *s)
{
    struct ipfix_src *c = (struct ipfix_src *)s;
    close(c->fd);
    vnd_ipfix_cache_free(c->cache);
    free(c);
}

static void ix_stats(const struct vnd_source *s, struct vnd_source_stats *st)
{
    const struct ipfix_src *c = (const struct ipfix_src *)s;
    st->received = atomic_load(&c->received);
    st->untagged = atomic_load(&c->untagged);
    st->unknown_tag = atomic_load(&c->unknown_tag);
    st->queued = atomic_load(&c->queued);
    st->queue_dropped = atomic_load(&c->queue_dropped);
    st->malformed = atomic_load(&c->malformed);
    st->kernel_received = atomic_load(&c->messages);
    st->kernel_dropped = atomic_load(&c->sock_drops);
}

void vnd_ipfix_source_counts(const struct vnd_source *s, struct vnd_ipfix_source_counts *out)
{
    const struct ipfix_src *c = (const struct ipfix_src *)s;
    out->messages = atomic_load(&c->messages);
    out->templates = atomic_load(&c->templates);
    out->withdrawals = atomic_load(&c->withdrawals);
    out->unknown_template = atomic_load(&c->unknown_template);
    out->refused_templates = atomic_load(&c->refused);
}

static uint64_t ix_tag_drops(const struct vnd_source *s, int tag)
{
    return atomic_load(&((const struct ipfix_src *)s)->tag_drops[tag]);
}

static const struct vnd_source_class ipfix_class = {
    "ipfix", ix_start, ix_stop, ix_destroy, ix_stats, ix_tag_drops, NULL,
};
