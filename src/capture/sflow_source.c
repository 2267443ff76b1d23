/* sflow_source.c — the sFlow collector thread (see sflow_source.h). */
#include "capture/sflow_source.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "capture/sflow.h"
#include "capture/udp_collector.h"
#include "util/util.h"

/* ---- the port map ---- */

struct pentry {
    int slot, tag;
    uint32_t ifindex, sampling, count;
    bool from_port;
};

/* Entries sorted by ifIndex: a sample finds its traces by binary searches
 * (as the IPFIX collector its points: a scan grows with the traces); the
 * map changes only when a trace starts or ends. */
struct vnd_portmap {
    pthread_mutex_t lock;
    struct pentry *v;
    int n;
};

/* The first entry of ifIndex `x` or past it; past it alone when `past`. */
static int bound(const struct vnd_portmap *m, uint32_t x, bool past)
{
    int lo = 0, hi = m->n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (m->v[mid].ifindex < x || (past && m->v[mid].ifindex == x))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

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

/* Takes slot's entries out, in order: the rest stay sorted (m locked). */
static void drop_slot(struct vnd_portmap *m, int slot)
{
    int k = 0;
    for (int i = 0; i < m->n; i++)
        if (m->v[i].slot != slot)
            m->v[k++] = m->v[i];
    m->n = k;
}

void vnd_portmap_set(struct vnd_portmap *m, int slot, int tag, uint32_t ifindex,
                     bool from_port, uint32_t sampling)
{
    pthread_mutex_lock(&m->lock);
    /* the slot's entry replaced: a change of the agent's rate sets it
     * again (an entry added beside the old one stored each sample twice) */
    drop_slot(m, slot);
    m->v = vnd_xrealloc(m->v, (size_t)(m->n + 1) * sizeof *m->v);
    int at = bound(m, ifindex, true);           /* after those of its ifIndex */
    memmove(m->v + at + 1, m->v + at, (size_t)(m->n - at) * sizeof *m->v);
    m->v[at] = (struct pentry){slot, tag, ifindex, sampling > 1 ? sampling : 1, 0, from_port};
    m->n++;
    pthread_mutex_unlock(&m->lock);
}

void vnd_portmap_clear(struct vnd_portmap *m, int slot)
{
    pthread_mutex_lock(&m->lock);
    drop_slot(m, slot);
    pthread_mutex_unlock(&m->lock);
}

/* ---- the collector ---- */

struct sflow_src {
    struct vnd_udp_collector c;  /* first: the source */
    struct vnd_portmap *map;
    _Atomic uint64_t subsampled;
};

static const struct vnd_source_class sflow_class;

static void put(struct sflow_src *S, const struct pentry *e, uint16_t type, const void *data,
                uint32_t caplen, uint32_t len)
{
    struct vnd_pktrec r = {.ts_ns = S->c.now_ns, .index = e->slot, .caplen = caplen,
                           .len = len, .tag = (uint16_t)e->tag, .type = type};
    unsigned char *d = vnd_udp_collector_put(&S->c, &r);
    if (d)
        memcpy(d, data, caplen);
}

static void on_flow(void *ctx, const struct vnd_sflow_datagram *d, const struct vnd_sflow_flow *f)
{
    (void)d;
    struct sflow_src *S = ctx;
    vnd_udp_count(&S->c.received, 1);
    if (f->header_protocol != 1) {          /* not Ethernet */
        vnd_udp_count(&S->c.untagged, 1);
        return;
    }
    uint32_t len = f->frame_length >= f->stripped ? f->frame_length - f->stripped : 0;
    uint32_t caplen = f->header_length;
    if (len && caplen > len)
        caplen = len;
    uint32_t rate = f->sampling_rate ? f->sampling_rate : 1;
    bool any = false;
    /* the map is locked by read_datagram, once a datagram: the traces of
     * the sample's input port (from_port), then of its output port */
    for (int side = 0; side < 2; side++) {
        bool from_port = side == 0;
        uint32_t fmt = from_port ? f->in_format : f->out_format;
        uint32_t val = from_port ? f->in_value : f->out_value;
        if (fmt != VND_SFLOW_IF_INDEX || !val)
            continue;
        for (int i = bound(S->map, val, false); i < S->map->n && S->map->v[i].ifindex == val;
             i++) {
            struct pentry *e = &S->map->v[i];
            if (e->from_port != from_port)
                continue;
            any = true;
            uint32_t keep = e->sampling > rate ? e->sampling / rate : 1;
            if (keep > 1 && e->count++ % keep != 0) {
                vnd_udp_count(&S->subsampled, 1);
                continue;
            }
            put(S, e, VND_REC_PACKET, f->header, caplen, len);
        }
    }
    if (!any)
        vnd_udp_count(&S->c.untagged, 1);
}

static void on_counters(void *ctx, const struct vnd_sflow_datagram *d,
                        const struct vnd_ifcounters *k)
{
    (void)d;
    struct sflow_src *S = ctx;
    if (!k->if_index)
        return;
    for (int i = bound(S->map, k->if_index, false);
         i < S->map->n && S->map->v[i].ifindex == k->if_index; i++)
        put(S, &S->map->v[i], VND_REC_COUNTERS, k, sizeof *k, sizeof *k);
}

static const char *read_datagram(struct vnd_udp_collector *c, const uint8_t *buf, size_t n,
                                 const struct sockaddr_storage *from)
{
    (void)from;
    struct sflow_src *S = (struct sflow_src *)c;
    struct vnd_sflow_handler h = {on_flow, on_counters, c};
    const char *why = NULL;
    /* one lock a datagram, not a sample: the map changes only when a
     * trace starts or ends */
    pthread_mutex_lock(&S->map->lock);
    int bad = vnd_sflow_parse(buf, n, &h, NULL, &why);
    pthread_mutex_unlock(&S->map->lock);
    return bad ? why : NULL;
}

int vnd_sflow_source_open(const char *addr, struct vnd_portmap *map, struct vnd_pktq *q,
                          struct vnd_source **out, char **err)
{
    struct sflow_src *S = vnd_xcalloc(1, sizeof *S);
    int e = vnd_udp_collector_open(&S->c, &sflow_class, addr, "--sflow-listen", q,
                                   read_datagram, err);
    if (e) {
        free(S);
        return e;
    }
    S->map = map;
    *out = &S->c.up;
    return 0;
}

static void sf_destroy(struct vnd_source *s)
{
    vnd_udp_collector_close((struct vnd_udp_collector *)s);
    free(s);
}

static const struct vnd_source_class sflow_class = {
    "sflow", vnd_udp_collector_start, vnd_udp_collector_stop, sf_destroy,
    vnd_udp_collector_stats, vnd_udp_collector_tag_drops, NULL,
};
