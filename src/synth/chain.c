/* chain.c — the middlebox-chain model of chain.h: a discrete-event
 * simulation of TCP downloads through two FIFO middleboxes, writing what
 * three capture points see. */
#include "synth/chain.h"
#include "synth/frame.h"

#include <errno.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MSS VND_FRAME_MSS
#define REQ_LEN 64
#define RING 8192            /* segments tracked per connection */
#define CWND_MAX 400.0       /* the client's receive window, in segments */

enum { DOWN = 0, UP = 1 };
enum { EV_ENTER, EV_DEPART, EV_AT_SERVER, EV_AT_CLIENT, EV_SEND, EV_RTO, EV_DELACK,
       EV_CTL_RTO, EV_START };

struct pkt {
    int flow, dir;
    uint64_t rseq, rack;     /* relative to the sender's / peer's ISN */
    uint32_t len;            /* payload bytes */
    uint8_t flags;
    uint16_t ipid;
    double t_at[VND_CHAIN_POINTS];
    double trig_at[VND_CHAIN_POINTS];  /* ACKs: when the segment that
                                          triggered it passed each point */
    bool has_trig;
    double entered;          /* when it entered the current middlebox */
    /* client ACKs with SACK: blocks [left, right) relative to the server's
     * ISN, the first holding the segment that triggered it; sack_new: that
     * segment was not held before (this ACK is the first to SACK it), and
     * passed each point at sack_at (trig_at stays the last in-order one:
     * what the ACK number covers) */
    uint64_t sack[2 * VND_CHAIN_SACK_MAX];
    int nsack;
    bool sack_new;
    double sack_at[VND_CHAIN_POINTS];
};

struct event {
    double t;
    uint64_t order;
    int type, a, gen;
    struct pkt *p;
};

struct mbox {
    struct vnd_mbox_params prm;
    double busy_until, last_depart;
    double *ends;            /* service ends of packets in the box (FIFO) */
    int head, count, cap;
};

/* what one capture point has seen of one connection's download */
struct seen {
    uint64_t max_end, acked;
    bool any_ack;
    uint64_t *retx_ends;     /* ends of copies seen as retransmissions,
                                not yet acknowledged */
    int nretx, capretx;
    uint64_t *sretx;         /* the same copies as [start, end) pairs, not
                                yet acknowledged nor SACKed (SACK truth) */
    int nsretx, capsretx;
};

struct conn {
    bool active;
    uint32_t s_isn, c_isn;
    uint16_t s_ipid, c_ipid;
    /* server sender */
    bool sending, fin_sent;
    uint64_t una, nxt, data_end, maxsent;  /* data_end: 0 until the FIN */
    double cwnd, ssthresh, srtt, rttvar, rto, next_pace;
    int dupacks, rto_gen;
    bool recovery, send_pending;
    uint64_t recover;
    double sent_t[RING];
    uint8_t seg_retx[RING];
    uint64_t c_next;         /* client bytes the server has received */
    bool c_fin_rcvd;
    /* client receiver */
    uint64_t rnxt;
    uint64_t ooo[RING];      /* rseq+1 of held out-of-order segments */
    uint64_t ooo_end;        /* end of the highest one held */
    int unacked, delack_gen;
    double last_trig[VND_CHAIN_POINTS];
    bool s_fin_rcvd;
    /* client control segments: 0 SYN, 1 request, 2 FIN, 3 done */
    int ctl, ctl_gen;
    double c_last_emit;      /* the client's NIC sends in order */
    bool ctl_acked;
    struct seen seen[VND_CHAIN_POINTS];
};

struct sim {
    const struct vnd_chain_params *p;
    struct vnd_chain_truth *t;
    uint64_t rng;
    struct event *heap;
    size_t nheap, capheap;
    uint64_t order;
    double now;
    struct mbox mb[VND_CHAIN_HOPS];
    struct conn c[VND_CHAIN_CLIENTS];
    pcap_t *dead;
    pcap_dumper_t *dump[VND_CHAIN_POINTS];
    int64_t epoch_ns;
};

/* ---- randomness ---- */

static double urand(struct sim *s)
{
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return (double)((s->rng * UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}

static uint64_t mix64(uint64_t z)
{
    z += UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* ---- events ---- */

static bool ev_less(const struct event *a, const struct event *b)
{
    return a->t < b->t || (a->t == b->t && a->order < b->order);
}

static void push(struct sim *s, double t, int type, int a, int gen, struct pkt *p)
{
    if (s->nheap == s->capheap) {
        s->capheap = s->capheap ? 2 * s->capheap : 1024;
        s->heap = realloc(s->heap, s->capheap * sizeof *s->heap);
        if (!s->heap)
            abort();
    }
    size_t i = s->nheap++;
    struct event e = {t, s->order++, type, a, gen, p};
    while (i > 0 && ev_less(&e, &s->heap[(i - 1) / 2])) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = e;
}

static struct event pop(struct sim *s)
{
    struct event top = s->heap[0], last = s->heap[--s->nheap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        const struct event *best = &last;
        if (l < s->nheap && ev_less(&s->heap[l], best))
            m = l, best = &s->heap[l];
        if (l + 1 < s->nheap && ev_less(&s->heap[l + 1], best))
            m = l + 1;
        if (m == i)
            break;
        s->heap[i] = s->heap[m];
        i = m;
    }
    if (s->nheap)
        s->heap[i] = last;
    return top;
}

/* ---- frames ---- */

/* The payload of connection `flow` at stream offset `off`: distinct per
 * segment from its first byte, so payload hashes tell segments apart. */
static void payload(uint8_t *dst, int flow, int dir, uint64_t off, uint32_t n)
{
    for (uint32_t i = 0; i < n; i += 8) {
        uint64_t w = mix64(((uint64_t)flow << 60) ^ ((uint64_t)dir << 59) ^ (off + i));
        for (uint32_t k = 0; k < 8 && i + k < n; k++)
            dst[i + k] = (uint8_t)(w >> (8 * k));
    }
}

static void capture(struct sim *s, int point, struct pkt *pk)
{
    const uint32_t srv = 0x0a00000a, cli = 0x0a000000 | (uint32_t)(1 + pk->flow);
    const struct conn *c = &s->c[pk->flow];
    bool down = pk->dir == DOWN;
    /* SACK option: NOP, NOP, kind 5, length, the blocks (RFC 2018) */
    uint8_t opts[40], pl[MSS], f[VND_FRAME_MAX];
    uint32_t optlen = pk->nsack ? 4 + 8 * (uint32_t)pk->nsack : 0;
    if (optlen) {
        opts[0] = opts[1] = 1;
        opts[2] = 5;
        opts[3] = (uint8_t)(2 + 8 * pk->nsack);
        for (int i = 0; i < 2 * pk->nsack; i++) {
            uint32_t edge = (uint32_t)(c->s_isn + pk->sack[i]);
            for (int k = 0; k < 4; k++)
                opts[4 + 4 * i + k] = (uint8_t)(edge >> (24 - 8 * k));
        }
    }
    if (pk->len)
        payload(pl, pk->flow, pk->dir, pk->rseq, pk->len);
    struct vnd_tcp_frame t = {
        .src = down ? srv : cli, .dst = down ? cli : srv,
        .sport = down ? 80 : (uint16_t)(40001 + pk->flow),
        .dport = down ? (uint16_t)(40001 + pk->flow) : 80,
        .seq = (uint32_t)((down ? c->s_isn : c->c_isn) + pk->rseq),
        .ack = (uint32_t)((down ? c->c_isn : c->s_isn) + pk->rack),
        .flags = pk->flags, .ipid = pk->ipid,
        .payload = pl, .len = pk->len, .opts = opts, .optlen = optlen,
    };
    uint32_t len = vnd_frame_tcp(f, &t);
    vnd_frame_dump(s->dump[point], s->epoch_ns + llround(s->now * 1e9), f, len, s->p->snaplen);
    s->t->captured[point]++;
}

/* ---- the truth about RTT samples at a point ---- */

static void seen_segment(struct conn *c, int point, const struct pkt *pk)
{
    struct seen *sn = &c->seen[point];
    uint64_t len = pk->len + ((pk->flags & 0x03) ? 1 : 0);
    if (!len)
        return;
    uint64_t e = pk->rseq + len;
    /* a copy of what this point already saw acknowledged taints no ACK */
    if (pk->rseq < sn->max_end && !(sn->any_ack && e <= sn->acked)) {
        if (sn->nretx == sn->capretx) {
            sn->capretx = sn->capretx ? 2 * sn->capretx : 16;
            sn->retx_ends = realloc(sn->retx_ends, (size_t)sn->capretx * sizeof *sn->retx_ends);
            if (!sn->retx_ends)
                abort();
        }
        sn->retx_ends[sn->nretx++] = e;
        if (sn->nsretx == sn->capsretx) {
            sn->capsretx = sn->capsretx ? 2 * sn->capsretx : 16;
            sn->sretx = realloc(sn->sretx, (size_t)sn->capsretx * 2 * sizeof *sn->sretx);
            if (!sn->sretx)
                abort();
        }
        sn->sretx[2 * sn->nsretx] = pk->rseq;
        sn->sretx[2 * sn->nsretx++ + 1] = e;
    }
    if (e > sn->max_end)
        sn->max_end = e;
}

/* The SACK truth: as seen_ack, and an ACK whose SACK newly covers the
 * segment that triggered it gives a sample too; Karn counts the copies it
 * covers either way. */
static void seen_ack_sack(struct sim *s, struct conn *c, int point, const struct pkt *pk)
{
    struct seen *sn = &c->seen[point];
    bool karn_ok = true;
    int keep = 0;
    for (int i = 0; i < sn->nsretx; i++) {
        uint64_t a = sn->sretx[2 * i], e = sn->sretx[2 * i + 1];
        bool cov = e <= pk->rack;
        for (int k = 0; k < pk->nsack && !cov; k++)
            cov = pk->sack[2 * k] <= a && e <= pk->sack[2 * k + 1];
        if (cov) {
            karn_ok = false;
        } else {
            sn->sretx[2 * keep] = a;
            sn->sretx[2 * keep++ + 1] = e;
        }
    }
    sn->nsretx = keep;
    bool covers = pk->rack > (sn->any_ack ? sn->acked : 0) && pk->rack <= sn->max_end;
    /* the segment SACKed came after those the ACK number covers */
    if (karn_ok && (covers || pk->sack_new) && pk->has_trig) {
        s->t->rtt_sack_n[point]++;
        s->t->rtt_sack_sum[point] += s->now - (pk->sack_new ? pk->sack_at : pk->trig_at)[point];
    }
}

static void seen_ack(struct sim *s, struct conn *c, int point, const struct pkt *pk)
{
    struct seen *sn = &c->seen[point];
    if ((pk->flags & 0x10) && s->p->sack)
        seen_ack_sack(s, c, point, pk);
    if (!(pk->flags & 0x10) || (sn->any_ack && pk->rack <= sn->acked))
        return;
    bool karn_ok = true;
    int keep = 0;
    for (int i = 0; i < sn->nretx; i++) {
        if (sn->retx_ends[i] <= pk->rack)
            karn_ok = false;
        else
            sn->retx_ends[keep++] = sn->retx_ends[i];
    }
    sn->nretx = keep;
    bool covers = pk->rack > (sn->any_ack ? sn->acked : 0) && pk->rack <= sn->max_end;
    sn->acked = pk->rack;
    sn->any_ack = true;
    if (karn_ok && covers && pk->has_trig) {
        s->t->rtt_n[point]++;
        s->t->rtt_sum[point] += s->now - pk->trig_at[point];
    }
}

static void at_point(struct sim *s, int point, struct pkt *pk)
{
    pk->t_at[point] = s->now;
    capture(s, point, pk);
    struct conn *c = &s->c[pk->flow];
    if (pk->dir == DOWN)
        seen_segment(c, point, pk);
    else
        seen_ack(s, c, point, pk);
}

/* ---- the path ---- */

static void mbox_enter(struct sim *s, int h, struct pkt *pk)
{
    struct mbox *m = &s->mb[h];
    while (m->count && m->ends[m->head] <= s->now) {
        m->head = (m->head + 1) % m->cap;
        m->count--;
    }
    if (urand(s) < m->prm.loss || m->count >= m->prm.queue) {
        s->t->lost[h][pk->dir]++;
        free(pk);
        return;
    }
    double start = s->now > m->busy_until ? s->now : m->busy_until;
    m->busy_until = start + 1.0 / m->prm.service_pps;
    m->ends[(m->head + m->count++) % m->cap] = m->busy_until;
    double dep = m->busy_until + m->prm.latency + m->prm.jitter * (2 * urand(s) - 1);
    if (dep < m->busy_until)
        dep = m->busy_until;
    /* one packet at a time on the wire out (1 Gbit/s): no two leave at once */
    double wire = (54.0 + pk->len) * 8 / 1e9;
    if (dep < m->last_depart + wire)
        dep = m->last_depart + wire;
    m->last_depart = dep;
    pk->entered = s->now;
    push(s, dep, EV_DEPART, h, 0, pk);
}

static void mbox_depart(struct sim *s, int h, struct pkt *pk)
{
    s->t->passed[h][pk->dir]++;
    s->t->delay_sum[h][pk->dir] += s->now - pk->entered;
    if (pk->dir == DOWN) {
        at_point(s, h, pk);
        if (h > 0)
            mbox_enter(s, h - 1, pk);
        else
            push(s, s->now + s->p->link_client, EV_AT_CLIENT, 0, 0, pk);
    } else {
        at_point(s, h + 1, pk);
        if (h + 1 < VND_CHAIN_HOPS)
            mbox_enter(s, h + 1, pk);
        else
            push(s, s->now + s->p->link_server, EV_AT_SERVER, 0, 0, pk);
    }
}

static struct pkt *new_pkt(int flow, int dir)
{
    struct pkt *pk = calloc(1, sizeof *pk);
    if (!pk)
        abort();
    pk->flow = flow;
    pk->dir = dir;
    return pk;
}

static void server_emit(struct sim *s, struct pkt *pk)
{
    pk->ipid = s->c[pk->flow].s_ipid++;
    push(s, s->now + s->p->link_server, EV_ENTER, VND_CHAIN_HOPS - 1, DOWN, pk);
}

static void client_emit(struct sim *s, struct pkt *pk)
{
    struct conn *c = &s->c[pk->flow];
    pk->ipid = c->c_ipid++;
    double t = s->now > c->c_last_emit + 1e-6 ? s->now : c->c_last_emit + 1e-6;
    c->c_last_emit = t;
    push(s, t + s->p->link_client, EV_ENTER, 0, UP, pk);
}

/* ---- the server ---- */

static void arm_rto(struct sim *s, int f)
{
    struct conn *c = &s->c[f];
    c->rto_gen++;
    push(s, s->now + c->rto, EV_RTO, f, c->rto_gen, NULL);
}

static void send_segment(struct sim *s, int f, uint64_t rseq, bool retx)
{
    struct conn *c = &s->c[f];
    struct pkt *pk = new_pkt(f, DOWN);
    pk->rseq = rseq;
    pk->rack = c->c_next;
    pk->flags = 0x10;
    if (c->data_end && rseq == c->data_end) {
        pk->flags |= 0x01;
        c->fin_sent = true;
    } else {
        pk->len = MSS;
        pk->flags |= 0x08;
    }
    uint64_t idx = (rseq / MSS) % RING;
    if (retx) {
        c->seg_retx[idx] = 1;
        s->t->retransmissions[f]++;
    } else {
        c->seg_retx[idx] = 0;
        c->sent_t[idx] = s->now;
        s->t->data_segments[f]++;
    }
    double wire = (54.0 + pk->len) * 8 / s->p->rate_bps;
    c->next_pace = (c->next_pace > s->now ? c->next_pace : s->now) + wire;
    server_emit(s, pk);
}

static void try_send(struct sim *s, int f)
{
    struct conn *c = &s->c[f];
    if (!c->sending)
        return;
    while (!(c->data_end && c->nxt > c->data_end)) {
        double flight = (double)(c->nxt - c->una) / MSS;
        if (flight >= (c->cwnd < CWND_MAX ? c->cwnd : CWND_MAX))
            break;
        if (c->next_pace > s->now) {
            if (!c->send_pending) {
                c->send_pending = true;
                push(s, c->next_pace, EV_SEND, f, 0, NULL);
            }
            break;
        }
        if (!c->data_end && c->nxt == c->maxsent && s->now >= s->p->duration)
            c->data_end = c->nxt;
        bool retx = c->nxt < c->maxsent;
        bool was_idle = c->una == c->nxt;
        send_segment(s, f, c->nxt, retx);
        c->nxt += (c->data_end && c->nxt == c->data_end) ? 1 : MSS;
        if (c->nxt > c->maxsent)
            c->maxsent = c->nxt;
        if (was_idle)
            arm_rto(s, f);
    }
}

static void server_pure_ack(struct sim *s, int f)
{
    struct conn *c = &s->c[f];
    struct pkt *pk = new_pkt(f, DOWN);
    pk->rseq = c->nxt;
    pk->rack = c->c_next;
    pk->flags = 0x10;
    server_emit(s, pk);
}

static void server_rx(struct sim *s, struct pkt *pk)
{
    int f = pk->flow;
    struct conn *c = &s->c[f];
    if (pk->flags & 0x02) {                    /* SYN: answer SYN-ACK */
        struct pkt *sa = new_pkt(f, DOWN);
        sa->rseq = 0;
        sa->rack = 1;
        sa->flags = 0x12;
        server_emit(s, sa);
        return;
    }
    if (pk->len && pk->rseq == 1 && c->c_next < 1 + REQ_LEN) {   /* the request */
        c->c_next = 1 + REQ_LEN;
        c->una = c->nxt = c->maxsent = 1;
        c->sending = true;
        try_send(s, f);
        return;
    }
    if (pk->flags & 0x01) {                    /* client FIN */
        c->c_next = 2 + REQ_LEN;
        c->c_fin_rcvd = true;
        server_pure_ack(s, f);
        return;
    }
    if (pk->len) {                             /* a repeated request */
        server_pure_ack(s, f);
        return;
    }
    if (!c->sending)
        return;
    uint64_t a = pk->rack;
    if (a > c->una) {
        uint64_t last = (a - 2) / MSS % RING;
        if (!c->seg_retx[last] && !c->recovery) {
            double r = s->now - c->sent_t[last];
            if (c->srtt == 0) {
                c->srtt = r;
                c->rttvar = r / 2;
            } else {
                c->rttvar = 0.75 * c->rttvar + 0.25 * fabs(c->srtt - r);
                c->srtt = 0.875 * c->srtt + 0.125 * r;
            }
            c->rto = c->srtt + 4 * c->rttvar;
            if (c->rto < 0.2)
                c->rto = 0.2;
        }
        double acked = (double)(a - c->una) / MSS;
        c->una = a;
        if (c->nxt < a)
            c->nxt = a;
        c->dupacks = 0;
        if (c->recovery) {
            if (a >= c->recover) {
                c->recovery = false;
                c->cwnd = c->ssthresh;
            } else {                           /* NewReno partial ACK */
                send_segment(s, f, a, true);
            }
        } else if (c->cwnd < c->ssthresh) {
            c->cwnd += acked;
        } else {
            c->cwnd += acked / c->cwnd;
        }
        if (c->una < c->nxt)
            arm_rto(s, f);
        else
            c->rto_gen++;
    } else if (a == c->una && c->nxt > c->una) {
        if (++c->dupacks == 3 && !c->recovery) {
            double flight = (double)(c->nxt - c->una) / MSS;
            c->ssthresh = flight / 2 > 2 ? flight / 2 : 2;
            c->cwnd = c->ssthresh + 3;
            c->recovery = true;
            c->recover = c->nxt;
            send_segment(s, f, c->una, true);
            arm_rto(s, f);
        } else if (c->recovery) {
            c->cwnd += 1;
        }
    }
    try_send(s, f);
}

static void server_rto(struct sim *s, int f)
{
    struct conn *c = &s->c[f];
    if (c->una >= c->nxt)
        return;
    double flight = (double)(c->nxt - c->una) / MSS;
    c->ssthresh = flight / 2 > 2 ? flight / 2 : 2;
    c->cwnd = 1;
    c->recovery = false;
    c->dupacks = 0;
    c->nxt = c->una;                           /* go back */
    c->rto = c->rto * 2 < 3 ? c->rto * 2 : 3;
    c->next_pace = s->now;
    try_send(s, f);
    arm_rto(s, f);
}

/* ---- the clients ---- */

static void client_ctl_send(struct sim *s, int f)
{
    struct conn *c = &s->c[f];
    struct pkt *pk = new_pkt(f, UP);
    if (c->ctl == 0) {
        pk->rseq = 0;
        pk->flags = 0x02;
    } else if (c->ctl == 1) {
        pk->rseq = 1;
        pk->len = REQ_LEN;
        pk->flags = 0x18;
        pk->rack = c->rnxt;
    } else {
        pk->rseq = 1 + REQ_LEN;
        pk->flags = 0x11;
        pk->rack = c->rnxt;
    }
    if (c->ctl >= 1) {
        memcpy(pk->trig_at, c->last_trig, sizeof pk->trig_at);
        pk->has_trig = true;
    }
    client_emit(s, pk);
    c->ctl_gen++;
    push(s, s->now + (c->ctl == 0 ? 1.0 : 0.2), EV_CTL_RTO, f, c->ctl_gen, NULL);
}

/* When a packet the client answers now leaves it. */
static double client_leave(struct sim *s, struct conn *c)
{
    double t = s->now + s->p->turnaround + s->p->turnaround_jitter * urand(s);
    if (t < c->c_last_emit + 1e-6)
        t = c->c_last_emit + 1e-6;
    c->c_last_emit = t;
    return t;
}

static bool held(const struct conn *c, uint64_t rseq)
{
    return c->ooo[(rseq / MSS) % RING] == rseq + 1;
}

/* The SACK blocks of what the client holds beyond rnxt: the run holding
 * `latest` (a segment just held, or 0) first, then the others from the
 * highest down, at most VND_CHAIN_SACK_MAX (RFC 2018). */
static void sack_blocks(const struct conn *c, uint64_t latest, struct pkt *pk)
{
    uint64_t other[2 * VND_CHAIN_SACK_MAX];
    int nother = 0;
    pk->nsack = 0;
    /* walk down from the top, so the highest runs are found first */
    for (uint64_t x = c->ooo_end; x >= c->rnxt + MSS;) {
        if (!held(c, x - MSS)) {
            x -= MSS;
            continue;
        }
        uint64_t end = x, start = x - MSS;
        while (start >= c->rnxt + MSS && held(c, start - MSS))
            start -= MSS;
        if (latest && start <= latest && latest < end) {
            pk->sack[0] = start;
            pk->sack[1] = end;
            pk->nsack = 1;
        } else if (nother < VND_CHAIN_SACK_MAX) {
            other[2 * nother] = start;
            other[2 * nother++ + 1] = end;
        }
        x = start;
    }
    for (int i = 0; i < nother && pk->nsack < VND_CHAIN_SACK_MAX; i++, pk->nsack++) {
        pk->sack[2 * pk->nsack] = other[2 * i];
        pk->sack[2 * pk->nsack + 1] = other[2 * i + 1];
    }
}

/* An ACK; `ooo`: the out-of-order segment that makes the client send it
 * at once (with SACK it triggers the ACK and leads its blocks). */
static void client_ack(struct sim *s, int f, const struct pkt *ooo, bool fresh)
{
    struct conn *c = &s->c[f];
    struct pkt *pk = new_pkt(f, UP);
    pk->rseq = c->ctl >= 2 ? 2 + REQ_LEN : 1 + REQ_LEN;
    pk->rack = c->rnxt;
    pk->flags = 0x10;
    memcpy(pk->trig_at, c->last_trig, sizeof pk->trig_at);
    pk->has_trig = true;
    if (s->p->sack && c->ooo_end > c->rnxt) {
        bool held_it = ooo && ooo->len && ooo->rseq > c->rnxt;
        sack_blocks(c, held_it ? ooo->rseq : 0, pk);
        if (held_it && fresh) {
            memcpy(pk->sack_at, ooo->t_at, sizeof pk->sack_at);
            pk->sack_new = true;
        }
    }
    c->unacked = 0;
    c->delack_gen++;
    /* the ACK leaves after the turnaround, in order with what went before */
    pk->ipid = c->c_ipid++;
    push(s, client_leave(s, c) + s->p->link_client, EV_ENTER, 0, UP, pk);
}

static void client_rx(struct sim *s, struct pkt *pk)
{
    int f = pk->flow;
    struct conn *c = &s->c[f];
    if ((pk->flags & 0x12) == 0x12) {          /* SYN-ACK */
        memcpy(c->last_trig, pk->t_at, sizeof c->last_trig);
        if (c->ctl == 0) {
            c->rnxt = 1;
            c->ctl = 1;                        /* the request acks it */
            memcpy(c->last_trig, pk->t_at, sizeof c->last_trig);
            struct pkt *rq = new_pkt(f, UP);
            rq->rseq = 1;
            rq->len = REQ_LEN;
            rq->flags = 0x18;
            rq->rack = 1;
            memcpy(rq->trig_at, pk->t_at, sizeof rq->trig_at);
            rq->has_trig = true;
            rq->ipid = c->c_ipid++;
            push(s, client_leave(s, c) + s->p->link_client, EV_ENTER, 0, UP, rq);
            c->ctl_gen++;
            push(s, s->now + 0.2, EV_CTL_RTO, f, c->ctl_gen, NULL);
        } else {
            client_ack(s, f, NULL, false);
        }
        return;
    }
    if (c->ctl == 1 && pk->rack >= 1 + REQ_LEN)
        c->ctl_gen++;                          /* request delivered */
    if (c->ctl == 2 && pk->rack >= 2 + REQ_LEN) {
        c->ctl = 3;
        c->ctl_gen++;
        return;
    }
    uint64_t len = pk->len + ((pk->flags & 0x01) ? 1 : 0);
    if (!len)
        return;
    if (pk->rseq == c->rnxt) {
        c->rnxt += len;
        if (pk->len)
            s->t->bytes_delivered[f] += pk->len;
        memcpy(c->last_trig, pk->t_at, sizeof c->last_trig);
        bool filled = false;
        for (;;) {                             /* segments held behind it */
            uint64_t i = (c->rnxt / MSS) % RING;
            if (c->ooo[i] != c->rnxt + 1)
                break;
            c->ooo[i] = 0;
            c->rnxt += MSS;
            s->t->bytes_delivered[f] += MSS;
            filled = true;
        }
        if (pk->flags & 0x01) {
            c->s_fin_rcvd = true;
            client_ack(s, f, NULL, false);
            c->ctl = 2;                        /* then our own FIN */
            client_ctl_send(s, f);
            return;
        }
        if (filled || ++c->unacked >= s->p->ack_every) {
            client_ack(s, f, NULL, false);
        } else {
            c->delack_gen++;
            push(s, s->now + s->p->delack, EV_DELACK, f, c->delack_gen, NULL);
        }
    } else {
        bool fresh = false;
        if (pk->rseq > c->rnxt && pk->len) {
            fresh = !held(c, pk->rseq);
            c->ooo[(pk->rseq / MSS) % RING] = pk->rseq + 1;
            if (pk->rseq + pk->len > c->ooo_end)
                c->ooo_end = pk->rseq + pk->len;
        }
        client_ack(s, f, pk, fresh);           /* duplicate ACK at once */
    }
}

/* ---- running it ---- */

void vnd_chain_defaults(struct vnd_chain_params *p)
{
    memset(p, 0, sizeof *p);
    p->seed = 1;
    p->duration = 20;
    p->join_at = 10;
    p->rate_bps = 100e6;
    p->link_server = 0.0001;
    p->link_client = 0.0002;
    p->mb[0] = (struct vnd_mbox_params){0.001, 0.0002, 40000, 0, 200};
    p->mb[1] = (struct vnd_mbox_params){0.003, 0.0003, 15000, 0, 100};
    p->turnaround = 0.00005;
    p->turnaround_jitter = 0.00002;
    p->delack = 0.04;
    p->ack_every = 2;
    p->snaplen = 128;
    p->epoch = 1700000000;
}

int vnd_chain_generate(const struct vnd_chain_params *p, const char *dir,
                       struct vnd_chain_truth *t, char **err)
{
    struct sim *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    memset(t, 0, sizeof *t);
    t->sack = p->sack;
    s->p = p;
    s->t = t;
    s->rng = mix64(p->seed) | 1;
    s->epoch_ns = (int64_t)floor(p->epoch) * 1000000000
                  + llround((p->epoch - floor(p->epoch)) * 1e9);
    int ret = -1;
    s->dead = vnd_frame_dead();
    const char *names[VND_CHAIN_POINTS] = {"A", "B", "C"};
    for (int i = 0; i < VND_CHAIN_POINTS; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.pcap", dir, names[i]);
        s->dump[i] = pcap_dump_open(s->dead, path);
        if (!s->dump[i]) {
            if (asprintf(err, "%s: %s", path, pcap_geterr(s->dead)) < 0)
                abort();
            goto out_close;
        }
    }
    for (int h = 0; h < VND_CHAIN_HOPS; h++) {
        s->mb[h].prm = p->mb[h];
        s->mb[h].cap = p->mb[h].queue + 1;
        s->mb[h].ends = calloc((size_t)s->mb[h].cap, sizeof *s->mb[h].ends);
        if (!s->mb[h].ends)
            abort();
    }
    for (int f = 0; f < VND_CHAIN_CLIENTS; f++) {
        struct conn *c = &s->c[f];
        c->s_isn = p->isn ? p->isn + (uint32_t)f * 1000000000u : (uint32_t)mix64(p->seed + 7 + f);
        c->c_isn = (uint32_t)mix64(p->seed + 101 + f);
        c->s_ipid = (uint16_t)mix64(p->seed + 201 + f);
        c->c_ipid = (uint16_t)mix64(p->seed + 301 + f);
        c->cwnd = 10;
        c->ssthresh = 1e9;
        c->rto = 0.2;
    }
    push(s, 0, EV_START, 0, 0, NULL);
    if (p->join_at >= 0)
        push(s, p->join_at, EV_START, 1, 0, NULL);
    while (s->nheap) {
        struct event e = pop(s);
        s->now = e.t;
        struct conn *c = &s->c[e.a];
        switch (e.type) {
        case EV_START:
            c->active = true;
            client_ctl_send(s, e.a);
            break;
        case EV_ENTER:                         /* gen holds the direction */
            at_point(s, e.gen == DOWN ? VND_CHAIN_POINTS - 1 : 0, e.p);
            mbox_enter(s, e.a, e.p);
            break;
        case EV_DEPART:
            mbox_depart(s, e.a, e.p);
            break;
        case EV_AT_SERVER:
            server_rx(s, e.p);
            free(e.p);
            break;
        case EV_AT_CLIENT:
            client_rx(s, e.p);
            free(e.p);
            break;
        case EV_SEND:
            c->send_pending = false;
            try_send(s, e.a);
            break;
        case EV_RTO:
            if (e.gen == c->rto_gen)
                server_rto(s, e.a);
            break;
        case EV_DELACK:
            if (e.gen == c->delack_gen && c->unacked)
                client_ack(s, e.a, NULL, false);
            break;
        case EV_CTL_RTO:
            if (e.gen == c->ctl_gen && c->ctl < 3)
                client_ctl_send(s, e.a);
            break;
        }
    }
    t->end = s->now;
    ret = 0;
out_close:
    for (int i = 0; i < VND_CHAIN_POINTS; i++)
        if (s->dump[i])
            pcap_dump_close(s->dump[i]);
    pcap_close(s->dead);
    for (int h = 0; h < VND_CHAIN_HOPS; h++)
        free(s->mb[h].ends);
    for (int f = 0; f < VND_CHAIN_CLIENTS; f++)
        for (int i = 0; i < VND_CHAIN_POINTS; i++)
        {
            free(s->c[f].seen[i].retx_ends);
            free(s->c[f].seen[i].sretx);
        }
    free(s->heap);
    free(s);
    return ret;
}

void vnd_chain_truth_write(const struct vnd_chain_truth *t, FILE *f)
{
    const char *hop[] = {"re", "ids"}, *dir[] = {"down", "up"}, *pt[] = {"A", "B", "C"};
    for (int h = 0; h < VND_CHAIN_HOPS; h++)
        for (int d = 0; d < 2; d++) {
            fprintf(f, "%s.%s.passed %lld\n", hop[h], dir[d], t->passed[h][d]);
            fprintf(f, "%s.%s.lost %lld\n", hop[h], dir[d], t->lost[h][d]);
            fprintf(f, "%s.%s.delay_ms %.6f\n", hop[h], dir[d],
                    t->passed[h][d] ? 1000 * t->delay_sum[h][d] / (double)t->passed[h][d] : 0);
        }
    for (int i = 0; i < VND_CHAIN_POINTS; i++) {
        fprintf(f, "%s.rtt.n %lld\n", pt[i], t->rtt_n[i]);
        fprintf(f, "%s.rtt_ms %.6f\n", pt[i],
                t->rtt_n[i] ? 1000 * t->rtt_sum[i] / (double)t->rtt_n[i] : 0);
        fprintf(f, "%s.packets %lld\n", pt[i], t->captured[i]);
        if (t->sack) {
            fprintf(f, "%s.rtt_sack.n %lld\n", pt[i], t->rtt_sack_n[i]);
            fprintf(f, "%s.rtt_sack_ms %.6f\n", pt[i],
                    t->rtt_sack_n[i] ? 1000 * t->rtt_sack_sum[i] / (double)t->rtt_sack_n[i] : 0);
        }
    }
    for (int c = 0; c < VND_CHAIN_CLIENTS; c++)
        fprintf(f, "client%d.segments %lld\nclient%d.retransmissions %lld\n"
                   "client%d.bytes %llu\n",
                c + 1, t->data_segments[c], c + 1, t->retransmissions[c], c + 1,
                (unsigned long long)t->bytes_delivered[c]);
    fprintf(f, "end %.6f\n", t->end);
}
