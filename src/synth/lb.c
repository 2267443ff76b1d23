/* lb.c — the splitting L4 balancer of lb.h.  Nothing here depends on
 * queues or losses after the handshake, so the model needs no event loop:
 * it computes each connection's times (client side in order of arrival,
 * then the balancer in order of accept), then assigns ports (which only
 * label connections, and depend on when earlier ones closed), then emits
 * every packet and writes each capture in time order. */
#include "synth/lb.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/rng.h"
#include "synth/frame.h"

#define VIP 0x0a000064u              /* 10.0.0.100: what clients connect to */
#define LB_BE 0x0a000164u            /* 10.0.1.100: the balancer's backend side */
#define CLIENT0 0x0a010000u          /* 10.1.x.y */
#define BACKEND0 0x0a00020au         /* 10.0.2.(11 + b) */
#define VPORT 80
#define BPORT 8080
#define EPHEMERAL_LO 32768
#define LB_PORT_LO 10000
#define MAX_SYNS 4                   /* the first SYN and three retransmissions */

static const char request[] = "GET /index.html HTTP/1.1\r\nHost: shop.example\r\n"
                              "User-Agent: vnd-lb-model\r\nAccept: */*\r\n\r\n";
#define REQ_LEN ((uint32_t)(sizeof request - 1))

struct conn {
    int client, backend;
    double syn[MAX_SYNS];
    int nsyn;
    double synack, ack, req;         /* FE, client side */
    double so, sa_b, ack_b, req_b;   /* BE: SYN out, SYN-ACK, ACK, request */
    double data0;                    /* BE: the backend's first segment */
    double end_fe, end_be;
    uint32_t c_isn, l_isn, lb_isn, b_isn;   /* client, balancer (both sides), backend */
    uint16_t cport, lport;
    int ack_rank, syn_rank;
    bool ack_tied;                   /* another ACK has the same stored time */
};

/* one packet as a capture point sees it */
struct lpkt {
    int64_t ns;
    uint32_t gen;                    /* emission order: ties keep it */
    int conn;
    uint8_t up;                      /* 1: toward the server side */
    uint8_t flags;
    uint32_t seq, ack;
    uint32_t off, len;               /* response offset (request: len only) */
    uint8_t is_req;
};

struct side {
    struct lpkt *p;
    size_t n, cap;
};

struct model {
    const struct vnd_lb_params *p;
    struct vnd_rng rng;
    struct conn *c;
    double *cdelay;
    int64_t epoch_ns;
    struct side s[2];                /* FE, BE */
    uint32_t gen;
};

static double urand(struct model *m)
{
    return (double)(vnd_rng_next(&m->rng) >> 11) / 9007199254740992.0;
}

static int64_t to_ns(const struct model *m, double t)
{
    return m->epoch_ns + llround(t * 1e9);
}

static void emit(struct model *m, int side, int conn, double t, int up, uint8_t flags,
                 uint32_t seq, uint32_t ack, uint32_t off, uint32_t len, int is_req)
{
    struct side *s = &m->s[side];
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 4096;
        s->p = realloc(s->p, s->cap * sizeof *s->p);
        if (!s->p)
            abort();
    }
    s->p[s->n++] = (struct lpkt){to_ns(m, t), m->gen++, conn, (uint8_t)up, flags, seq, ack,
                                 off, len, (uint8_t)is_req};
}

/* ---- times ---- */

static void client_side(struct model *m)
{
    const struct vnd_lb_params *p = m->p;
    double t = 0.001;
    for (int i = 0; i < p->conns; i++) {
        struct conn *c = &m->c[i];
        t += -log(1 - urand(m)) / p->rate;
        c->client = (int)vnd_rng_range(&m->rng, 0, p->clients - 1);
        c->c_isn = (uint32_t)vnd_rng_next(&m->rng);
        c->l_isn = (uint32_t)vnd_rng_next(&m->rng);
        c->lb_isn = (uint32_t)vnd_rng_next(&m->rng);
        c->b_isn = (uint32_t)vnd_rng_next(&m->rng);
        c->syn[0] = t;
        c->nsyn = 1;
        double backoff = 1;
        while (c->nsyn < MAX_SYNS && urand(m) < p->syn_drop) {
            c->syn[c->nsyn] = c->syn[c->nsyn - 1] + backoff;
            c->nsyn++;
            backoff *= 2;
        }
        double d = m->cdelay[c->client];
        c->synack = c->syn[c->nsyn - 1] + 20e-6;
        c->ack = c->synack + 2 * d + 10e-6;
        c->req = c->ack + 5e-6 + 195e-6 * urand(m);
    }
}

static int cmp_ack(const void *a, const void *b, void *vm)
{
    const struct model *m = vm;
    const struct conn *x = &m->c[*(const int *)a], *y = &m->c[*(const int *)b];
    if (x->ack != y->ack)
        return x->ack < y->ack ? -1 : 1;
    return *(const int *)a - *(const int *)b;
}

static void balancer(struct model *m, int *order)
{
    const struct vnd_lb_params *p = m->p;
    for (int i = 0; i < p->conns; i++)
        order[i] = i;
    qsort_r(order, (size_t)p->conns, sizeof *order, cmp_ack, m);
    double free_at = 0;
    uint32_t seg_n = (p->resp_bytes + VND_FRAME_MSS - 1) / VND_FRAME_MSS;
    double gap = (54.0 + VND_FRAME_MSS) * 8 / p->backend_bps;
    double db = p->backend_delay;
    for (int k = 0; k < p->conns; k++) {
        struct conn *c = &m->c[order[k]];
        double delay = p->lb_delay + p->lb_jitter * urand(m);
        if (delay < 1e-6)
            delay = 1e-6;
        if (p->threaded) {
            c->so = c->ack + delay;
        } else {                     /* one loop: the next accept waits */
            free_at = (free_at > c->ack ? free_at : c->ack) + delay;
            c->so = free_at;
        }
        c->backend = k % p->backends;
        c->sa_b = c->so + 2 * db + 10e-6;
        c->ack_b = c->sa_b + 5e-6;
        c->req_b = c->req + 20e-6 > c->ack_b + 1e-6 ? c->req + 20e-6 : c->ack_b + 1e-6;
        c->data0 = c->req_b + 2 * db + 100e-6 + 900e-6 * urand(m);
        double bfin = c->data0 + seg_n * gap;
        double dc = m->cdelay[c->client];
        c->end_be = bfin + 5e-6 + 2 * db + 10e-6;
        c->end_fe = bfin + 20e-6 + 2 * dc + 10e-6 + 5e-6;
    }
}

/* ---- ports ---- */

/* Takes the next port of a range whose last user closed before `t`. */
static int take_port(double *last_end, int range, int *next, double t, long long *reuses,
                     double end)
{
    for (int tries = 0; tries < range; tries++) {
        int i = (*next + tries) % range;
        if (last_end[i] < t) {
            if (last_end[i] > 0)
                (*reuses)++;
            last_end[i] = end;
            *next = (i + 1) % range;
            return i;
        }
    }
    return -1;
}

static int cmp_so(const void *a, const void *b, void *vm)
{
    const struct model *m = vm;
    const struct conn *x = &m->c[*(const int *)a], *y = &m->c[*(const int *)b];
    if (x->so != y->so)
        return x->so < y->so ? -1 : 1;
    return *(const int *)a - *(const int *)b;
}

static int ports(struct model *m, int *order, struct vnd_lb_truth *t, char **err)
{
    const struct vnd_lb_params *p = m->p;
    int n = p->clients > p->backends ? p->clients : p->backends;
    int range = p->port_range > p->lb_port_range ? p->port_range : p->lb_port_range;
    double *last = calloc((size_t)n * (size_t)range, sizeof *last);
    int *next = calloc((size_t)n, sizeof *next);
    if (!last || !next)
        abort();
    int ret = 0;
    for (int k = 0; k < p->clients; k++)
        next[k] = (int)vnd_rng_range(&m->rng, 0, p->port_range - 1);
    for (int i = 0; i < p->conns && !ret; i++) {     /* clients, in SYN order */
        struct conn *c = &m->c[i];
        int port = take_port(last + (size_t)c->client * (size_t)range, p->port_range,
                             &next[c->client], c->syn[0], &t->client_port_reuses, c->end_fe);
        if (port < 0) {
            if (asprintf(err, "client %d has no free port at t = %.6f s: raise --port-range",
                         c->client + 1, c->syn[0]) < 0)
                abort();
            ret = -1;
        }
        c->cport = (uint16_t)(EPHEMERAL_LO + port);
    }
    memset(last, 0, (size_t)n * (size_t)range * sizeof *last);
    for (int k = 0; k < p->backends; k++)
        next[k] = (int)vnd_rng_range(&m->rng, 0, p->lb_port_range - 1);
    for (int i = 0; i < p->conns; i++)
        order[i] = i;
    qsort_r(order, (size_t)p->conns, sizeof *order, cmp_so, m);
    for (int k = 0; k < p->conns && !ret; k++) {     /* the balancer, in SYN order */
        struct conn *c = &m->c[order[k]];
        int port = take_port(last + (size_t)c->backend * (size_t)range, p->lb_port_range,
                             &next[c->backend], c->so, &t->lb_port_reuses, c->end_be);
        if (port < 0) {
            if (asprintf(err, "the balancer has no free port to backend %d at t = %.6f s:"
                              " raise --lb-port-range", c->backend + 1, c->so) < 0)
                abort();
            ret = -1;
        }
        c->lport = (uint16_t)(LB_PORT_LO + port);
    }
    free(last);
    free(next);
    return ret;
}

/* ---- packets ---- */

static void packets(struct model *m)
{
    const struct vnd_lb_params *p = m->p;
    uint32_t R = p->resp_bytes;
    uint32_t seg_n = (R + VND_FRAME_MSS - 1) / VND_FRAME_MSS;
    double gap = (54.0 + VND_FRAME_MSS) * 8 / p->backend_bps;
    enum { FE = 0, BE = 1 };
    const uint8_t A = VND_TCP_ACK, S = VND_TCP_SYN, F = VND_TCP_FIN, PA = VND_TCP_PSH | VND_TCP_ACK;
    for (int i = 0; i < p->conns; i++) {
        struct conn *c = &m->c[i];
        double dc = m->cdelay[c->client];
        uint32_t ci = c->c_isn, li = c->l_isn, lb = c->lb_isn, bi = c->b_isn;
        /* the client side */
        for (int k = 0; k < c->nsyn; k++)
            emit(m, FE, i, c->syn[k], 1, S, ci, 0, 0, 0, 0);
        emit(m, FE, i, c->synack, 0, S | A, li, ci + 1, 0, 0, 0);
        emit(m, FE, i, c->ack, 1, A, ci + 1, li + 1, 0, 0, 0);
        emit(m, FE, i, c->req, 1, PA, ci + 1, li + 1, 0, REQ_LEN, 1);
        /* the backend side */
        emit(m, BE, i, c->so, 1, S, lb, 0, 0, 0, 0);
        emit(m, BE, i, c->sa_b, 0, S | A, bi, lb + 1, 0, 0, 0);
        emit(m, BE, i, c->ack_b, 1, A, lb + 1, bi + 1, 0, 0, 0);
        emit(m, BE, i, c->req_b, 1, PA, lb + 1, bi + 1, 0, REQ_LEN, 1);
        /* the response, relayed; ACKs every second segment and the last */
        for (uint32_t j = 0; j < seg_n; j++) {
            uint32_t off = j * VND_FRAME_MSS, len = R - off < VND_FRAME_MSS ? R - off : VND_FRAME_MSS;
            double tb = c->data0 + j * gap, tf = tb + 20e-6;
            uint8_t fl = j + 1 == seg_n ? PA : A;
            emit(m, BE, i, tb, 0, fl, bi + 1 + off, lb + 1 + REQ_LEN, off, len, 0);
            emit(m, FE, i, tf, 0, fl, li + 1 + off, ci + 1 + REQ_LEN, off, len, 0);
            if (j % 2 == 1 || j + 1 == seg_n) {
                emit(m, BE, i, tb + 5e-6, 1, A, lb + 1 + REQ_LEN, bi + 1 + off + len, 0, 0, 0);
                emit(m, FE, i, tf + 2 * dc + 10e-6, 1, A, ci + 1 + REQ_LEN, li + 1 + off + len,
                     0, 0, 0);
            }
        }
        /* the backend closes; the balancer closes both sides */
        double bfin = c->data0 + seg_n * gap;
        emit(m, BE, i, bfin, 0, F | A, bi + 1 + R, lb + 1 + REQ_LEN, 0, 0, 0);
        emit(m, BE, i, bfin + 5e-6, 1, F | A, lb + 1 + REQ_LEN, bi + 2 + R, 0, 0, 0);
        emit(m, BE, i, c->end_be, 0, A, bi + 2 + R, lb + 2 + REQ_LEN, 0, 0, 0);
        emit(m, FE, i, bfin + 20e-6, 0, F | A, li + 1 + R, ci + 1 + REQ_LEN, 0, 0, 0);
        emit(m, FE, i, bfin + 20e-6 + 2 * dc + 10e-6, 1, F | A, ci + 1 + REQ_LEN, li + 2 + R,
             0, 0, 0);
        emit(m, FE, i, c->end_fe, 0, A, li + 2 + R, ci + 2 + REQ_LEN, 0, 0, 0);
    }
}

static int cmp_pkt(const void *a, const void *b)
{
    const struct lpkt *x = a, *y = b;
    if (x->ns != y->ns)
        return x->ns < y->ns ? -1 : 1;
    return x->gen < y->gen ? -1 : x->gen > y->gen;
}

/* The response's bytes at `off`: the same for every connection. */
static void response_bytes(uint8_t *dst, uint32_t off, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t x = (off + i) * 2654435761u;
        dst[i] = (uint8_t)(x >> 24);
    }
}

static uint32_t client_ip(int k) { return CLIENT0 + 1 + (uint32_t)k; }
static uint32_t backend_ip(int b) { return BACKEND0 + 1 + (uint32_t)b; }

static int write_side(struct model *m, int side, const char *path, char **err)
{
    struct side *s = &m->s[side];
    qsort(s->p, s->n, sizeof *s->p, cmp_pkt);
    pcap_t *dead = vnd_frame_dead();
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    if (!d) {
        if (asprintf(err, "%s: %s", path, pcap_geterr(dead)) < 0)
            abort();
        pcap_close(dead);
        return -1;
    }
    /* ip.id counts per sending host, in time order */
    int nh = m->p->clients + m->p->backends + 1;
    uint16_t *ipid = calloc((size_t)nh, sizeof *ipid);
    if (!ipid)
        abort();
    for (int h = 0; h < nh; h++)
        ipid[h] = (uint16_t)vnd_rng_next(&m->rng);
    uint8_t f[VND_FRAME_MAX], pl[VND_FRAME_MSS];
    for (size_t k = 0; k < s->n; k++) {
        const struct lpkt *pk = &s->p[k];
        const struct conn *c = &m->c[pk->conn];
        struct vnd_tcp_frame t = {0};
        uint32_t a, b;               /* the client-side and server-side ends */
        uint16_t ap, bp;
        int host;                    /* the sender: client k, backend, balancer */
        if (side == 0) {
            a = client_ip(c->client), ap = c->cport, b = VIP, bp = VPORT;
            host = pk->up ? c->client : nh - 1;
        } else {
            a = LB_BE, ap = c->lport, b = backend_ip(c->backend), bp = BPORT;
            host = pk->up ? nh - 1 : m->p->clients + c->backend;
        }
        t.src = pk->up ? a : b;
        t.dst = pk->up ? b : a;
        t.sport = pk->up ? ap : bp;
        t.dport = pk->up ? bp : ap;
        t.seq = pk->seq;
        t.ack = pk->ack;
        t.flags = pk->flags;
        t.ipid = ipid[host]++;
        t.len = pk->len;
        if (pk->len) {
            if (pk->is_req)
                memcpy(pl, request, REQ_LEN);
            else
                response_bytes(pl, pk->off, pk->len);
            t.payload = pl;
        }
        uint32_t len = vnd_frame_tcp(f, &t);
        vnd_frame_dump(d, pk->ns, f, len, m->p->snaplen);
    }
    free(ipid);
    pcap_dump_close(d);
    pcap_close(dead);
    return 0;
}

/* ---- the truth ---- */

static void flow_label(char *buf, size_t n, uint32_t sip, uint16_t sp, uint32_t dip, uint16_t dp)
{
    char s[16], d[16];
    vnd_frame_ip_str(sip, s, sizeof s);
    vnd_frame_ip_str(dip, d, sizeof d);
    snprintf(buf, n, "%s:%u>%s:%u", s, sp, d, dp);
}

/* the order of `vnd diag correlate --by order`: time as stored (ns / 1e9),
 * then the opener's address as text, its port, the peer, the ISN */
struct rankkey {
    double t;
    char src[16], dst[16];
    uint16_t sp, dp;
    uint32_t isn;
    int conn;
};

static int cmp_rank(const void *a, const void *b)
{
    const struct rankkey *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    int c = strcmp(x->src, y->src);
    if (c)
        return c;
    if (x->sp != y->sp)
        return x->sp < y->sp ? -1 : 1;
    if ((c = strcmp(x->dst, y->dst)))
        return c;
    if (x->dp != y->dp)
        return x->dp < y->dp ? -1 : 1;
    return x->isn < y->isn ? -1 : x->isn > y->isn;
}

static int write_truth(struct model *m, const char *path, struct vnd_lb_truth *t, char **err)
{
    int n = m->p->conns;
    struct rankkey *r = calloc((size_t)n, sizeof *r);
    if (!r)
        abort();
    for (int side = 0; side < 2; side++) {
        for (int i = 0; i < n; i++) {
            const struct conn *c = &m->c[i];
            struct rankkey *k = &r[i];
            k->conn = i;
            if (side == 0) {
                k->t = (double)to_ns(m, c->ack) / 1e9;
                vnd_frame_ip_str(client_ip(c->client), k->src, sizeof k->src);
                vnd_frame_ip_str(VIP, k->dst, sizeof k->dst);
                k->sp = c->cport, k->dp = VPORT, k->isn = c->c_isn;
            } else {
                k->t = (double)to_ns(m, c->so) / 1e9;
                vnd_frame_ip_str(LB_BE, k->src, sizeof k->src);
                vnd_frame_ip_str(backend_ip(c->backend), k->dst, sizeof k->dst);
                k->sp = c->lport, k->dp = BPORT, k->isn = c->lb_isn;
            }
        }
        qsort(r, (size_t)n, sizeof *r, cmp_rank);
        for (int k = 0; k < n; k++) {
            if (side == 0) {
                m->c[r[k].conn].ack_rank = k + 1;
                m->c[r[k].conn].ack_tied = (k > 0 && r[k - 1].t == r[k].t)
                                           || (k + 1 < n && r[k + 1].t == r[k].t);
                t->ack_ties += m->c[r[k].conn].ack_tied;
            } else {
                m->c[r[k].conn].syn_rank = k + 1;
            }
        }
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        if (asprintf(err, "%s: %s", path, strerror(errno)) < 0)
            abort();
        free(r);
        return -1;
    }
    /* r holds the backend order now; list by client order */
    int *by_ack = calloc((size_t)n, sizeof *by_ack);
    if (!by_ack)
        abort();
    for (int i = 0; i < n; i++)
        by_ack[m->c[i].ack_rank - 1] = i;
    fprintf(f, "n,in_flow,out_flow,out_rank\n");
    for (int k = 0; k < n; k++) {
        const struct conn *c = &m->c[by_ack[k]];
        char in[64], out[64];
        flow_label(in, sizeof in, client_ip(c->client), c->cport, VIP, VPORT);
        flow_label(out, sizeof out, LB_BE, c->lport, backend_ip(c->backend), BPORT);
        fprintf(f, "%d,%s,%s,%d\n", k + 1, in, out, c->syn_rank);
        if (c->syn_rank != k + 1) {
            t->reordered++;
            t->reordered_untied += !c->ack_tied;
        }
    }
    t->conns = n;
    free(by_ack);
    free(r);
    if (fclose(f)) {
        if (asprintf(err, "%s: %s", path, strerror(errno)) < 0)
            abort();
        return -1;
    }
    return 0;
}

/* ---- running it ---- */

void vnd_lb_defaults(struct vnd_lb_params *p)
{
    memset(p, 0, sizeof *p);
    p->seed = 1;
    p->conns = 500;
    p->clients = 20;
    p->backends = 4;
    p->rate = 200;
    p->client_delay_min = 0.0005;
    p->client_delay_max = 0.010;
    p->backend_delay = 0.0002;
    p->lb_delay = 0.0003;
    p->lb_jitter = 0.0002;
    p->port_range = 28232;
    p->lb_port_range = 28232;
    p->resp_bytes = 20000;
    p->backend_bps = 100e6;
    p->snaplen = 128;
    p->epoch = 1700000000;
}

const char *vnd_lb_check(const struct vnd_lb_params *p)
{
    if (p->conns < 1 || p->conns > 1000000)
        return "connections: 1 to 1,000,000";
    if (p->clients < 1 || p->clients > 65000)
        return "clients: 1 to 65,000";
    if (p->backends < 1 || p->backends > 240)
        return "backends: 1 to 240";
    if (!(p->rate > 0) || !isfinite(p->rate))
        return "the connection rate must be a positive number per second";
    if (!(p->client_delay_min >= 0) || !(p->client_delay_max >= p->client_delay_min)
        || p->client_delay_max > 10 || !(p->backend_delay >= 0) || p->backend_delay > 10)
        return "delays: 0 <= min <= max <= 10 seconds";
    if (!(p->lb_delay >= 0) || !(p->lb_jitter >= 0) || p->lb_delay + p->lb_jitter > 10)
        return "balancer delay and jitter: 0 to 10 seconds";
    if (!(p->syn_drop >= 0) || !(p->syn_drop < 1))
        return "SYN drop probability: 0 <= P < 1";
    if (p->port_range < 1 || p->port_range > 65535 - EPHEMERAL_LO + 1
        || p->lb_port_range < 1 || p->lb_port_range > 65535 - LB_PORT_LO + 1)
        return "port ranges: 1 to 32768 (clients), 1 to 55536 (the balancer)";
    if (p->resp_bytes < 1 || p->resp_bytes > 100000000)
        return "response: 1 byte to 100 MB";
    if (!(p->backend_bps >= 1e3))
        return "backend rate: at least 1000 bit/s";
    return NULL;
}

int vnd_lb_generate(const struct vnd_lb_params *p, const char *dir, struct vnd_lb_truth *t,
                    char **err)
{
    memset(t, 0, sizeof *t);
    const char *bad = vnd_lb_check(p);
    if (bad) {
        if (asprintf(err, "%s", bad) < 0)
            abort();
        return -1;
    }
    struct model m = {0};
    m.p = p;
    vnd_rng_seed(&m.rng, p->seed);
    m.epoch_ns = (int64_t)floor(p->epoch) * 1000000000
                 + llround((p->epoch - floor(p->epoch)) * 1e9);
    m.c = calloc((size_t)p->conns, sizeof *m.c);
    m.cdelay = calloc((size_t)p->clients, sizeof *m.cdelay);
    int *order = calloc((size_t)p->conns, sizeof *order);
    if (!m.c || !m.cdelay || !order)
        abort();
    for (int k = 0; k < p->clients; k++)
        m.cdelay[k] = p->client_delay_min
                      + (p->client_delay_max - p->client_delay_min) * urand(&m);
    client_side(&m);
    balancer(&m, order);
    int ret = ports(&m, order, t, err);
    if (!ret) {
        for (int i = 0; i < p->conns; i++) {
            t->syn_drops += m.c[i].nsyn - 1;
            double e = m.c[i].end_fe > m.c[i].end_be ? m.c[i].end_fe : m.c[i].end_be;
            if (e > t->end)
                t->end = e;
        }
        packets(&m);
        t->packets_fe = (long long)m.s[0].n;
        t->packets_be = (long long)m.s[1].n;
        char path[4096];
        snprintf(path, sizeof path, "%s/FE.pcap", dir);
        ret = write_side(&m, 0, path, err);
        if (!ret) {
            snprintf(path, sizeof path, "%s/BE.pcap", dir);
            ret = write_side(&m, 1, path, err);
        }
        if (!ret) {
            snprintf(path, sizeof path, "%s/pairs.csv", dir);
            ret = write_truth(&m, path, t, err);
        }
    }
    free(order);
    free(m.s[0].p);
    free(m.s[1].p);
    free(m.c);
    free(m.cdelay);
    return ret;
}

void vnd_lb_truth_write(const struct vnd_lb_truth *t, FILE *f)
{
    fprintf(f, "connections %lld\nreordered %lld\nack_ties %lld\nreordered_untied %lld\n"
               "syn_drops %lld\n"
               "client_port_reuses %lld\nlb_port_reuses %lld\n"
               "packets.FE %lld\npackets.BE %lld\nend %.6f\n",
            t->conns, t->reordered, t->ack_ties, t->reordered_untied, t->syn_drops,
            t->client_port_reuses, t->lb_port_reuses,
            t->packets_fe, t->packets_be, t->end);
}
