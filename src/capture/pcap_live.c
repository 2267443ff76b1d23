/* pcap_live.c — a live mirror port through libpcap (see pcap_live.h). */
#include "capture/pcap_live.h"

#include <errno.h>
#include <poll.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "daemon/log.h"
#include "util/util.h"

void vnd_tagmap_set(struct vnd_tagmap *m, int tag, int slot, uint32_t snaplen)
{
    atomic_store(&m->ent[tag], ((uint64_t)snaplen << 32) | (uint32_t)(slot + 1));
}

void vnd_tagmap_clear(struct vnd_tagmap *m, int tag)
{
    atomic_store(&m->ent[tag], 0);
}

struct pcap_live {
    struct vnd_source up;
    pcap_t *pcap;
    struct vnd_tagmap *map;      /* the mirror port's; NULL for a tap */
    int tap_slot, tap_tag;       /* a tap: the one trace it feeds */
    struct vnd_pktq_writer w;
    pthread_t thread;
    bool running;
    atomic_bool stop;
    double last_stats;
    int64_t newest_ns;           /* the newest frame read (ns), any tag */
    /* written by the capture thread only, read by anyone */
    _Atomic uint64_t received, untagged, unknown_tag, queued, queue_dropped;
    _Atomic uint64_t k_recv, k_drop, k_ifdrop;
    _Atomic uint64_t tag_drops[VND_TAGS];
    char *error;
};

static const struct vnd_source_class pcap_live_class;

/* libpcap's read timeout, which is also the kernel's timer that hands
 * over a ring block holding frames (TPACKET_V3's retire timeout) */
#define TIMEOUT_MS 100

/* An Ethernet interface opened for capture (pcap_activate done). */
static pcap_t *open_ethernet(const char *ifname, int buffer_mb, int snaplen, const char *what,
                             int *e, char **err)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(ifname, ebuf);
    if (!p) {
        *err = vnd_strdup_printf("interface %s: %s", ifname, ebuf);
        *e = ENODEV;
        return NULL;
    }
    pcap_set_snaplen(p, snaplen);
    pcap_set_promisc(p, 1);
    pcap_set_timeout(p, TIMEOUT_MS);
    pcap_set_immediate_mode(p, 0);
    pcap_set_buffer_size(p, buffer_mb * 1024 * 1024);
    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
    int rc = pcap_activate(p);
    if (rc < 0) {
        *err = vnd_strdup_printf("interface %s: cannot capture: %s%s", ifname,
                                 pcap_geterr(p)[0] ? pcap_geterr(p) : pcap_statustostr(rc),
                                 rc == PCAP_ERROR_PERM_DENIED
                                     ? " (run as root or give CAP_NET_RAW)" : "");
        pcap_close(p);
        *e = rc == PCAP_ERROR_PERM_DENIED ? EPERM : ENODEV;
        return NULL;
    }
    if (rc > 0)
        vnd_warn("interface %s: %s", ifname, pcap_geterr(p));
    if (pcap_datalink(p) != DLT_EN10MB) {
        *err = vnd_strdup_printf("interface %s: link type %s, not Ethernet: %s", ifname,
                                 pcap_datalink_val_to_name(pcap_datalink(p)), what);
        pcap_close(p);
        *e = EINVAL;
        return NULL;
    }
    /* the thread polls itself (run): libpcap's own wait on a TPACKET_V3
     * ring never times out while nothing comes, and the time the ring was
     * last found empty is what says the capture is complete (say_complete) */
    if (pcap_setnonblock(p, 1, ebuf) < 0 || pcap_get_selectable_fd(p) < 0) {
        *err = vnd_strdup_printf("interface %s: cannot poll the capture: %s", ifname, ebuf);
        pcap_close(p);
        *e = EINVAL;
        return NULL;
    }
    return p;
}

static struct pcap_live *live_new(pcap_t *p, const char *ifname, struct vnd_pktq *q)
{
    struct pcap_live *c = vnd_xcalloc(1, sizeof *c);
    c->up.cls = &pcap_live_class;
    c->up.name = vnd_xstrdup(ifname);
    c->pcap = p;
    c->w.q = q;
    return c;
}

int vnd_pcap_live_open(const char *ifname, const struct vnd_pcap_live_opts *o,
                       struct vnd_tagmap *map, struct vnd_pktq *q,
                       struct vnd_source **out, char **err)
{
    int e = 0;
    pcap_t *p = open_ethernet(ifname, o->buffer_mb, o->snaplen,
                              "a mirror port carries Ethernet frames", &e, err);
    if (!p)
        return e;
    /* Only what arrives: a mirror port sends nothing of interest. */
    if (pcap_setdirection(p, PCAP_D_IN))
        vnd_warn("interface %s: cannot capture inbound only: %s", ifname, pcap_geterr(p));
    struct pcap_live *c = live_new(p, ifname, q);
    c->map = map;
    *out = &c->up;
    return 0;
}

int vnd_pcap_tap_open(const char *ifname, const struct vnd_pcap_tap_opts *o, struct vnd_pktq *q,
                      struct vnd_source **out, char **err)
{
    int e = 0;
    /* the kernel copies at most snaplen bytes of each frame into the ring */
    int snap = o->snaplen ? (int)o->snaplen : 262144;
    pcap_t *p = open_ethernet(ifname, o->buffer_mb, snap,
                              "a tap reads a port of Ethernet frames", &e, err);
    if (!p)
        return e;
    if (pcap_setdirection(p, o->sent ? PCAP_D_OUT : PCAP_D_IN)) {
        *err = vnd_strdup_printf("interface %s: cannot capture only what it %s: %s", ifname,
                                 o->sent ? "sends" : "receives", pcap_geterr(p));
        pcap_close(p);
        return EINVAL;
    }
    if (o->filter && *o->filter) {
        struct bpf_program prog;
        if (pcap_compile(p, &prog, o->filter, 1, PCAP_NETMASK_UNKNOWN)
            || pcap_setfilter(p, &prog)) {
            *err = vnd_strdup_printf("interface %s: filter \"%s\": %s", ifname, o->filter,
                                     pcap_geterr(p));
            pcap_close(p);
            return EINVAL;
        }
        pcap_freecode(&prog);
    }
    struct pcap_live *c = live_new(p, ifname, q);
    c->tap_slot = o->slot;
    c->tap_tag = o->tag & (VND_TAGS - 1);
    *out = &c->up;
    return 0;
}

static inline void bump(_Atomic uint64_t *v)
{
    /* One writer: a relaxed load+store is enough and cheaper than a
     * locked add. */
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct pcap_live *c = (struct pcap_live *)user;
    bump(&c->received);
    c->newest_ns = (int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec;
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
    struct vnd_pktrec r = {
        .ts_ns = c->newest_ns,
        .index = (int32_t)(uint32_t)(e & 0xffffffffu) - 1,
        .caplen = caplen, .len = len, .tag = (uint16_t)tag, .type = VND_REC_PACKET,
    };
    unsigned char *d = vnd_pktq_append(&c->w, &r);
    if (!d) {
        bump(&c->queue_dropped);
        bump(&c->tag_drops[tag]);
        return;
    }
    memcpy(d, bytes, 12);
    memcpy(d + 12, bytes + 16, caplen - 12);
    bump(&c->queued);
}

/* A tap's frame: its trace's whatever it holds (the filter chose it), cut
 * already by the kernel to the trace's snap length. */
static void on_tap_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct pcap_live *c = (struct pcap_live *)user;
    bump(&c->received);
    c->newest_ns = (int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec;
    struct vnd_pktrec r = {
        .ts_ns = c->newest_ns,
        .index = c->tap_slot, .caplen = h->caplen, .len = h->len, .tag = (uint16_t)c->tap_tag,
        .type = VND_REC_PACKET,
    };
    unsigned char *d = vnd_pktq_append(&c->w, &r);
    if (!d) {
        bump(&c->queue_dropped);
        bump(&c->tag_drops[c->tap_tag]);
        return;
    }
    memcpy(d, bytes, h->caplen);
    bump(&c->queued);
}

static void update_kernel_stats(struct pcap_live *c)
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

static int64_t wall_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* After a pass over the ring, how far the capture is complete
 * (vnd_pktq_complete_to): the ring is in arrival order, so every frame
 * before the newest one read is handed over; and a pass that found no
 * block handed over by the kernel means no frame older than the kernel's
 * timer (and as long again for its slack) waits in one not yet handed. */
static void say_complete(struct pcap_live *c, int n)
{
    int64_t done = c->newest_ns;
    if (n == 0) {
        int64_t idle = wall_ns() - 2 * (int64_t)TIMEOUT_MS * 1000000;
        done = idle > done ? idle : done;
    }
    vnd_pktq_complete_to(&c->w, done);
}

static void *run(void *arg)
{
    struct pcap_live *c = arg;
    /* its own name: a tap's thread starts from an API request's, whose
     * name the CPU budget leaves out (tabled/budget.h) */
    prctl(PR_SET_NAME, c->map ? "vnd-pcap" : "vnd-tap", 0, 0, 0);
    struct pollfd ring = {.fd = pcap_get_selectable_fd(c->pcap), .events = POLLIN};
    while (!atomic_load(&c->stop)) {
        /* nonblocking: a block of the ring, or 0 when none is handed over */
        int n = pcap_dispatch(c->pcap, -1, c->map ? on_frame : on_tap_frame, (u_char *)c);
        vnd_pktq_hand_over(&c->w);
        if (n >= 0)
            say_complete(c, n);
        if (n == 0)
            poll(&ring, 1, TIMEOUT_MS);    /* a block, or the timeout to check stop */
        if (n == PCAP_ERROR) {
            c->error = vnd_strdup_printf("interface %s: capture failed: %s", c->up.name,
                                         pcap_geterr(c->pcap));
            vnd_err("%s", c->error);
            /* nothing more comes from it (its last batch is handed over
             * above): the other sources' traces need not wait for it to
             * say how far it is complete */
            vnd_pktq_unwatch(&c->w);
            break;
        }
        double now = vnd_now();
        if (now - c->last_stats >= 0.2) {
            update_kernel_stats(c);
            c->last_stats = now;
        }
    }
    update_kernel_stats(c);
    vnd_pktq_hand_over(&c->w);
    return NULL;
}

static int live_start(struct vnd_source *s)
{
    struct pcap_live *c = (struct pcap_live *)s;
    vnd_pktq_watch(&c->w, wall_ns());
    int rc = pthread_create(&c->thread, NULL, run, c);
    c->running = rc == 0;
    if (rc)
        vnd_pktq_unwatch(&c->w);
    return rc;
}

static void live_stop(struct vnd_source *s)
{
    struct pcap_live *c = (struct pcap_live *)s;
    if (!c->running)
        return;
    atomic_store(&c->stop, true);
    pcap_breakloop(c->pcap);
    pthread_join(c->thread, NULL);
    vnd_pktq_unwatch(&c->w);
    c->running = false;
}

static void live_destroy(struct vnd_source *s)
{
    struct pcap_live *c = (struct pcap_live *)s;
    pcap_close(c->pcap);
    free(c->error);
    free(c);
}

static void live_stats(const struct vnd_source *s, struct vnd_source_stats *st)
{
    const struct pcap_live *c = (const struct pcap_live *)s;
    st->received = atomic_load(&c->received);
    st->untagged = atomic_load(&c->untagged);
    st->unknown_tag = atomic_load(&c->unknown_tag);
    st->queued = atomic_load(&c->queued);
    st->queue_dropped = atomic_load(&c->queue_dropped);
    st->kernel_received = atomic_load(&c->k_recv);
    st->kernel_dropped = atomic_load(&c->k_drop);
    st->if_dropped = atomic_load(&c->k_ifdrop);
}

static uint64_t live_tag_drops(const struct vnd_source *s, int tag)
{
    return atomic_load(&((const struct pcap_live *)s)->tag_drops[tag]);
}

static const char *live_error(const struct vnd_source *s)
{
    return ((const struct pcap_live *)s)->error;
}

static const struct vnd_source_class pcap_live_class = {
    "pcap", live_start, live_stop, live_destroy, live_stats, live_tag_drops, live_error,
};
