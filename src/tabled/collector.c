/* collector.c — libpcap live capture, tag demultiplexing, packet queue. */
#include "tabled/collector.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/log.h"
#include "util/util.h"

void vnd_tagmap_set(struct vnd_tagmap *m, int tag, int index, uint32_t snaplen)
{
    atomic_store(&m->ent[tag], ((uint64_t)snaplen << 32) | (uint32_t)(index + 1));
}

void vnd_tagmap_clear(struct vnd_tagmap *m, int tag)
{
    atomic_store(&m->ent[tag], 0);
}

/* ---- packet queue ---- */

struct vnd_pktq {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    struct vnd_batch *free_list, *full_head, *full_tail;
    struct vnd_batch **all;
    int nall;
};

#define REC_SIZE ((sizeof(struct vnd_pktrec) + 7) & ~(size_t)7)
#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

struct vnd_pktq *vnd_pktq_new(int nbatches, size_t batch_bytes)
{
    struct vnd_pktq *q = vnd_xcalloc(1, sizeof *q);
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->ready, NULL);
    q->all = vnd_xcalloc((size_t)nbatches, sizeof *q->all);
    q->nall = nbatches;
    for (int i = 0; i < nbatches; i++) {
        struct vnd_batch *b = vnd_xmalloc(sizeof *b + batch_bytes);
        b->cap = batch_bytes;
        b->used = 0;
        b->n = 0;
        b->next = q->free_list;
        q->free_list = b;
        q->all[i] = b;
    }
    return q;
}

void vnd_pktq_free(struct vnd_pktq *q)
{
    if (!q)
        return;
    for (int i = 0; i < q->nall; i++)
        free(q->all[i]);
    free(q->all);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->ready);
    free(q);
}

int vnd_pktq_depth(struct vnd_pktq *q, int *capacity)
{
    int n = 0;
    pthread_mutex_lock(&q->lock);
    for (struct vnd_batch *b = q->full_head; b; b = b->next)
        n++;
    pthread_mutex_unlock(&q->lock);
    *capacity = q->nall;
    return n;
}

static struct vnd_batch *pktq_get_free(struct vnd_pktq *q)
{
    pthread_mutex_lock(&q->lock);
    struct vnd_batch *b = q->free_list;
    if (b)
        q->free_list = b->next;
    pthread_mutex_unlock(&q->lock);
    if (b) {
        b->used = 0;
        b->n = 0;
        b->next = NULL;
    }
    return b;
}

static void pktq_put_full(struct vnd_pktq *q, struct vnd_batch *b)
{
    pthread_mutex_lock(&q->lock);
    b->next = NULL;
    if (q->full_tail)
        q->full_tail->next = b;
    else
        q->full_head = b;
    q->full_tail = b;
    pthread_cond_signal(&q->ready);
    pthread_mutex_unlock(&q->lock);
}

struct vnd_batch *vnd_pktq_take(struct vnd_pktq *q, double seconds)
{
    pthread_mutex_lock(&q->lock);
    if (!q->full_head && seconds > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long ns = ts.tv_nsec + (long)((seconds - (long)seconds) * 1e9);
        ts.tv_sec += (time_t)seconds + ns / 1000000000L;
        ts.tv_nsec = ns % 1000000000L;
        pthread_cond_timedwait(&q->ready, &q->lock, &ts);
    }
    struct vnd_batch *b = q->full_head;
    if (b) {
        q->full_head = b->next;
        if (!q->full_head)
            q->full_tail = NULL;
    }
    pthread_mutex_unlock(&q->lock);
    return b;
}

void vnd_pktq_release(struct vnd_pktq *q, struct vnd_batch *b)
{
    pthread_mutex_lock(&q->lock);
    b->next = q->free_list;
    q->free_list = b;
    pthread_mutex_unlock(&q->lock);
}

const struct vnd_pktrec *vnd_batch_next(const struct vnd_batch *b, size_t *off,
                                        const uint8_t **data)
{
    if (*off >= b->used)
        return NULL;
    const struct vnd_pktrec *r = (const struct vnd_pktrec *)(b->data + *off);
    *data = b->data + *off + REC_SIZE;
    *off += REC_SIZE + ALIGN8(r->caplen);
    return r;
}

/* ---- collector ---- */

struct vnd_collector {
    char *ifname;
    pcap_t *pcap;
    struct vnd_tagmap *map;
    struct vnd_pktq *q;
    struct vnd_batch *cur;
    pthread_t thread;
    bool running;
    atomic_bool stop;
    double last_stats;
    /* written by the capture thread only, read by anyone */
    _Atomic uint64_t received, untagged, unknown_tag, queued, queue_dropped;
    _Atomic uint64_t k_recv, k_drop, k_ifdrop;
    _Atomic uint64_t tag_drops[VND_TAGS];
    char *error;
};

int vnd_collector_open(const char *ifname, const struct vnd_collector_opts *o,
                       struct vnd_tagmap *map, struct vnd_pktq *q,
                       struct vnd_collector **out, char **err)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(ifname, ebuf);
    if (!p) {
        *err = vnd_strdup_printf("interface %s: %s", ifname, ebuf);
        return ENODEV;
    }
    pcap_set_snaplen(p, o->snaplen);
    pcap_set_promisc(p, 1);
    pcap_set_timeout(p, 100);
    pcap_set_immediate_mode(p, 0);
    pcap_set_buffer_size(p, o->buffer_mb * 1024 * 1024);
    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
    int rc = pcap_activate(p);
    if (rc < 0) {
        *err = vnd_strdup_printf("interface %s: cannot capture: %s%s", ifname,
                                 pcap_geterr(p)[0] ? pcap_geterr(p) : pcap_statustostr(rc),
                                 rc == PCAP_ERROR_PERM_DENIED
                                     ? " (run as root or give CAP_NET_RAW)" : "");
        pcap_close(p);
        return rc == PCAP_ERROR_PERM_DENIED ? EPERM : ENODEV;
    }
    if (rc > 0)
        vnd_warn("interface %s: %s", ifname, pcap_geterr(p));
    if (pcap_datalink(p) != DLT_EN10MB) {
        *err = vnd_strdup_printf("interface %s: link type %s, not Ethernet: a mirror port "
                                 "carries Ethernet frames", ifname,
                                 pcap_datalink_val_to_name(pcap_datalink(p)));
        pcap_close(p);
        return EINVAL;
    }
    /* Only what arrives: a mirror port sends nothing of interest. */
    if (pcap_setdirection(p, PCAP_D_IN))
        vnd_warn("interface %s: cannot capture inbound only: %s", ifname, pcap_geterr(p));
    struct vnd_collector *c = vnd_xcalloc(1, sizeof *c);
    c->ifname = vnd_xstrdup(ifname);
    c->pcap = p;
    c->map = map;
    c->q = q;
    *out = c;
    return 0;
}

static inline void bump(_Atomic uint64_t *v)
{
    /* One writer: a relaxed load+store is enough and cheaper than a
     * locked add. */
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static void hand_over(struct vnd_collector *c)
{
    if (c->cur && c->cur->n) {
        pktq_put_full(c->q, c->cur);
        c->cur = NULL;
    }
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct vnd_collector *c = (struct vnd_collector *)user;
    bump(&c->received);
    /* The outer 802.1Q tag is ours (libpcap put back the one the kernel
     * took out of band). */
    if (h->caplen < 18 || bytes[12] != 0x81 || bytes[13] != 0x00) {
        bump(&c->untagged);
        return;
    }
    int tag = ((bytes[14] & 0x0f) << 8) | bytes[15];
    uint64_t e = atomic_load_explicit(&c->map->ent[tag], memory_order_acquire);
    if (!e) {
        bump(&c->unknown_tag);
        return;
    }
    uint32_t snap = (uint32_t)(e >> 32);
    uint32_t caplen = h->caplen - 4, len = h->len >= 4 ? h->len - 4 : 0;
    if (snap && caplen > snap)
        caplen = snap;
    size_t need = REC_SIZE + ALIGN8(caplen);
    if (!c->cur || c->cur->used + need > c->cur->cap) {
        hand_over(c);
        c->cur = pktq_get_free(c->q);
        if (!c->cur) {
            bump(&c->queue_dropped);
            bump(&c->tag_drops[tag]);
            return;
        }
    }
    struct vnd_batch *b = c->cur;
    struct vnd_pktrec *r = (struct vnd_pktrec *)(b->data + b->used);
    r->ts_ns = (int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec;
    r->index = (int32_t)(uint32_t)(e & 0xffffffffu) - 1;
    r->caplen = caplen;
    r->len = len;
    r->tag = (uint16_t)tag;
    r->pad = 0;
    unsigned char *d = b->data + b->used + REC_SIZE;
    memcpy(d, bytes, 12);
    memcpy(d + 12, bytes + 16, caplen - 12);
    b->used += need;
    b->n++;
    bump(&c->queued);
}

static void update_kernel_stats(struct vnd_collector *c)
{
    struct pcap_stat ps;
    if (pcap_stats(c->pcap, &ps) == 0) {
        /* libpcap sums the kernel's reset-on-read counters; 32 bits wrap
         * only after 4e9 packets, which we accept. */
        atomic_store(&c->k_recv, ps.ps_recv);
        atomic_store(&c->k_drop, ps.ps_drop);
        atomic_store(&c->k_ifdrop, ps.ps_ifdrop);
    }
}

static void *run(void *arg)
{
    struct vnd_collector *c = arg;
    while (!atomic_load(&c->stop)) {
        int n = pcap_dispatch(c->pcap, -1, on_frame, (u_char *)c);
        hand_over(c);
        if (n == PCAP_ERROR) {
            c->error = vnd_strdup_printf("interface %s: capture failed: %s", c->ifname,
                                         pcap_geterr(c->pcap));
            vnd_err("%s", c->error);
            break;
        }
        double now = vnd_now();
        if (now - c->last_stats >= 0.2) {
            update_kernel_stats(c);
            c->last_stats = now;
        }
    }
    update_kernel_stats(c);
    if (c->cur) {
        pktq_put_full(c->q, c->cur);
        c->cur = NULL;
    }
    return NULL;
}

int vnd_collector_start(struct vnd_collector *c)
{
    int rc = pthread_create(&c->thread, NULL, run, c);
    c->running = rc == 0;
    return rc;
}

void vnd_collector_stop(struct vnd_collector *c)
{
    if (!c || !c->running)
        return;
    atomic_store(&c->stop, true);
    pcap_breakloop(c->pcap);
    pthread_join(c->thread, NULL);
    c->running = false;
}

void vnd_collector_free(struct vnd_collector *c)
{
    if (!c)
        return;
    vnd_collector_stop(c);
    pcap_close(c->pcap);
    free(c->ifname);
    free(c->error);
    free(c);
}

const char *vnd_collector_name(const struct vnd_collector *c)
{
    return c->ifname;
}

void vnd_collector_stats(const struct vnd_collector *c, struct vnd_collector_stats *s)
{
    s->received = atomic_load(&c->received);
    s->untagged = atomic_load(&c->untagged);
    s->unknown_tag = atomic_load(&c->unknown_tag);
    s->queued = atomic_load(&c->queued);
    s->queue_dropped = atomic_load(&c->queue_dropped);
    s->kernel_received = atomic_load(&c->k_recv);
    s->kernel_dropped = atomic_load(&c->k_drop);
    s->if_dropped = atomic_load(&c->k_ifdrop);
}

uint64_t vnd_collector_tag_drops(const struct vnd_collector *c, int tag)
{
    return atomic_load(&((struct vnd_collector *)c)->tag_drops[tag]);
}

const char *vnd_collector_error(const struct vnd_collector *c)
{
    return c->error;
}
