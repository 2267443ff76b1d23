/* lb.h — a model of an L4 load balancer that splits TCP connections
 * (paper §3.5 case 3), writing real captures of both its sides and the
 * truth about which client connection became which backend connection.
 *
 *   client 1..C ──FE── balancer 10.0.0.100:80 / 10.0.1.100 ──BE── backend 1..B :8080
 *
 * Clients open `conns` connections to the balancer's address, Poisson
 * arrivals at `rate` per second, each from a random client with its own
 * one-way delay to the balancer (uniform in [client_delay_min,
 * client_delay_max]), so handshakes overlap and complete in another order
 * than they started.  The balancer's kernel answers each SYN at once; a
 * SYN it drops (probability syn_drop, a full backlog: after the capture
 * point) is retransmitted by the client 1, 2, 4 s later with the same ISN.
 * When the client's handshake-completing ACK arrives, the balancer
 * accepts the connection and, after lb_delay + U[0, lb_jitter) seconds,
 * sends a SYN to the next backend (round robin in accept order) from its
 * own address and port.  With threaded false it accepts in one loop (a
 * FIFO queue: backend SYNs leave in the order the ACKs came); with
 * threaded true each connection is handled on its own (a thread per
 * connection: SYNs leave in the order of ACK time + delay, which reorders
 * them when the jitter exceeds the gap between two ACKs).
 *
 * After both handshakes the client sends the same request, the balancer
 * forwards it, the backend answers `resp_bytes` (the same bytes for every
 * connection: payloads cannot tell connections apart) paced at
 * backend_bps, the balancer relays every segment, both receivers ACK every
 * second segment, and each side closes with FIN, FIN, ACK.
 *
 * Ports: each client takes ephemeral ports in turn from its own range of
 * port_range ports (from a seeded start), the balancer from a range of
 * lb_port_range ports per backend; a port is taken again once the
 * connection that used it has closed, so a small range makes 4-tuples
 * repeat with new ISNs.
 *
 * Output: DIR/FE.pcap (the balancer's client side), DIR/BE.pcap (its
 * backend side), both directions, nanosecond timestamps from `epoch`; and
 * DIR/pairs.csv, the truth: one line per connection whose handshake
 * completed, ordered as `vnd diag correlate --by order` orders client
 * connections (the ACK's time as vnd parse stores it, then the client
 * 4-tuple):
 *   n,in_flow,out_flow,out_rank
 * with flows labelled as vnd diag labels them ("10.1.0.3:40001>
 * 10.0.0.100:80") and out_rank the position of its backend SYN in the
 * same ordering of the backend side. */
#ifndef VND_SYNTH_LB_H
#define VND_SYNTH_LB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct vnd_lb_params {
    uint64_t seed;
    int conns;                       /* client connections */
    int clients, backends;
    double rate;                     /* connection openings per second */
    double client_delay_min, client_delay_max;   /* one way, seconds */
    double backend_delay;            /* balancer <-> backend, one way */
    double lb_delay, lb_jitter;      /* client ACK -> backend SYN */
    bool threaded;
    double syn_drop;
    int port_range, lb_port_range;
    uint32_t resp_bytes;
    double backend_bps;
    uint32_t snaplen;
    double epoch;
};

/* 500 connections from 20 clients to 4 backends at 200/s, client delays
 * 0.5-10 ms, backend 0.2 ms, balancer 0.3 ms + up to 0.2 ms, one accept
 * loop, no SYN drops, Linux's 28,232 ephemeral ports, 20,000-byte
 * responses at 100 Mbit/s. */
void vnd_lb_defaults(struct vnd_lb_params *p);

/* NULL when the parameters make sense, else what is wrong (static). */
const char *vnd_lb_check(const struct vnd_lb_params *p);

struct vnd_lb_truth {
    long long conns;                 /* connections whose handshake completed */
    long long reordered;             /* ... whose backend SYN has another rank */
    /* ... whose ACK time, as vnd parse stores it (REAL seconds: steps of
     * 2^-22 s near today's epoch), equals another's: their order is the
     * addresses', not the balancer's */
    long long ack_ties;
    long long reordered_untied;      /* reordered without such a tie */
    long long syn_drops;
    long long client_port_reuses, lb_port_reuses;  /* 4-tuples used again */
    long long packets_fe, packets_be;
    double end;                      /* model time of the last packet, seconds */
};

/* Runs the model and writes DIR/FE.pcap, DIR/BE.pcap and DIR/pairs.csv.
 * Returns 0, or -1 and a malloc'd *err. */
int vnd_lb_generate(const struct vnd_lb_params *p, const char *dir, struct vnd_lb_truth *t,
                    char **err);

/* The truth's totals as "key value" lines. */
void vnd_lb_truth_write(const struct vnd_lb_truth *t, FILE *f);

#endif
