/* ipfix_source.c — the IPFIX collector thread (see ipfix_source.h). */
#include "capture/ipfix_source.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "capture/udp_collector.h"
#include "util/util.h"

/* ---- the observation point map ---- */

struct oentry {
    int slot, tag;
    uint64_t obs_point;
};

/* Entries sorted by observation point: a record finds its traces by a
 * binary search (a scan of them all was 47% of a table server's CPU with
 * 1,000 ipfix traces); the map changes only when a trace starts or ends. */
struct vnd_obsmap {
    pthread_mutex_t lock;
    struct oentry *v;
    int n;
};

/* The first entry of point `p` or past it; past it alone when `past`. */
static int bound(const struct vnd_obsmap *m, uint64_t p, bool past)
{
    int lo = 0, hi = m->n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (m->v[mid].obs_point < p || (past && m->v[mid].obs_point == p))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

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
    int at = bound(m, obs_point, true);         /* after those of its point */
    memmove(m->v + at + 1, m->v + at, (size_t)(m->n - at) * sizeof *m->v);
    m->v[at] = (struct oentry){slot, tag, obs_point};
    m->n++;
    pthread_mutex_unlock(&m->lock);
}

void vnd_obsmap_clear(struct vnd_obsmap *m, int slot)
{
    pthread_mutex_lock(&m->lock);
    int k = 0;
    for (int i = 0; i < m->n; i++)      /* in order: the rest stay sorted */
        if (m->v[i].slot != slot)
            m->v[k++] = m->v[i];
    m->n = k;
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
    if (h & VND_IPFIX_HAS_OCTETS_SQ)
        vnd_pkt_set_u(p, VND_F_FLOW_BYTES_SQ, f->octets_sq);
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
    struct vnd_udp_collector c;  /* first: the source */
    struct vnd_obsmap *map;
    struct vnd_ipfix_cache *cache;
    _Atomic uint64_t templates, withdrawals, unknown_template, refused;
    /* the cache's, read by the API's thread (the cache is this thread's) */
    _Atomic uint64_t cached, evicted;
};

static const struct vnd_source_class ipfix_class;

static void on_flow(void *ctx, const struct vnd_ipfix_flow *f)
{
    struct ipfix_src *X = ctx;
    vnd_udp_count(&X->c.received, 1);
    if (!(f->has & VND_IPFIX_HAS_OBS_POINT)) {
        vnd_udp_count(&X->c.untagged, 1);
        return;
    }
    /* another exporter's point (a bridge's own IPFIX, a sender on the
     * management network) may have a trace's number: not its records */
    if (f->domain != VND_IPFIX_OBS_DOMAIN) {
        vnd_udp_count(&X->c.unknown_tag, 1);
        return;
    }
    bool any = false;
    int64_t ts = f->has & VND_IPFIX_HAS_END ? f->end_ns : X->c.now_ns;
    /* the map is locked by read_message, once a message */
    for (int i = bound(X->map, f->obs_point, false);
         i < X->map->n && X->map->v[i].obs_point == f->obs_point; i++) {
        const struct oentry *e = &X->map->v[i];
        any = true;
        struct vnd_pktrec r = {.ts_ns = ts, .index = e->slot, .caplen = sizeof *f,
                               .len = sizeof *f, .tag = (uint16_t)e->tag,
                               .type = VND_REC_FLOW};
        unsigned char *d = vnd_udp_collector_put(&X->c, &r);
        if (d)
            memcpy(d, f, sizeof *f);
    }
    if (!any)
        vnd_udp_count(&X->c.unknown_tag, 1);
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

static const char *read_message(struct vnd_udp_collector *c, const uint8_t *buf, size_t n,
                                const struct sockaddr_storage *from)
{
    struct ipfix_src *X = (struct ipfix_src *)c;
    uint8_t key[VND_IPFIX_SESSION_MAX];
    size_t klen = session_of(from, key);
    struct vnd_ipfix_counts cn;
    const char *why = NULL;
    /* one lock a message, not a record (4.7% of the collector's CPU at
     * 1.6 M records/s): the map changes only when a trace starts or ends */
    pthread_mutex_lock(&X->map->lock);
    int bad = vnd_ipfix_parse(X->cache, key, klen, (double)(c->now_ns / 1000000000), buf, n,
                              on_flow, X, &cn, &why);
    pthread_mutex_unlock(&X->map->lock);
    vnd_udp_count(&X->templates, cn.templates + cn.options_templates);
    vnd_udp_count(&X->withdrawals, cn.withdrawals);
    vnd_udp_count(&X->unknown_template, cn.unknown_template);
    vnd_udp_count(&X->refused, cn.refused_templates);
    atomic_store_explicit(&X->cached, vnd_ipfix_cache_size(X->cache), memory_order_relaxed);
    atomic_store_explicit(&X->evicted, vnd_ipfix_cache_evicted(X->cache), memory_order_relaxed);
    return bad ? why : NULL;
}

int vnd_ipfix_source_open(const char *addr, struct vnd_obsmap *map, struct vnd_pktq *q,
                          struct vnd_source **out, char **err)
{
    struct ipfix_src *X = vnd_xcalloc(1, sizeof *X);
    int e = vnd_udp_collector_open(&X->c, &ipfix_class, addr, "--ipfix-listen", q,
                                   read_message, err);
    if (e) {
        free(X);
        return e;
    }
    X->map = map;
    X->cache = vnd_ipfix_cache_new(0, 0);
    *out = &X->c.up;
    return 0;
}

static void ix_destroy(struct vnd_source *s)
{
    struct ipfix_src *X = (struct ipfix_src *)s;
    vnd_udp_collector_close(&X->c);
    vnd_ipfix_cache_free(X->cache);
    free(X);
}

void vnd_ipfix_source_counts(const struct vnd_source *s, struct vnd_ipfix_source_counts *out)
{
    const struct ipfix_src *X = (const struct ipfix_src *)s;
    out->messages = atomic_load(&X->c.datagrams);
    out->templates = atomic_load(&X->templates);
    out->withdrawals = atomic_load(&X->withdrawals);
    out->unknown_template = atomic_load(&X->unknown_template);
    out->refused_templates = atomic_load(&X->refused);
    out->templates_cached = atomic_load(&X->cached);
    out->templates_evicted = atomic_load(&X->evicted);
}

static const struct vnd_source_class ipfix_class = {
    "ipfix", vnd_udp_collector_start, vnd_udp_collector_stop, ix_destroy,
    vnd_udp_collector_stats, vnd_udp_collector_tag_drops, NULL,
};
