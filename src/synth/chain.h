/* chain.h — a packet-level model of the paper's middlebox chain (§5.1.1,
 * Fig. 10) that writes real captures and knows the truth about them.
 *
 *   server ──C── IDS ──B── RE ──A── client 1 (from t = 0)
 *                                └─ client 2 (from t = join_at)
 *
 * Each client downloads from the server over TCP: a handshake (the
 * client's third packet carries the request), then MSS-sized data paced at
 * `rate_bps` per connection, a cwnd with slow start, AIMD, fast retransmit,
 * NewReno partial ACKs and an RTO; the client ACKs every `ack_every`
 * segments after `turnaround` (+ up to `turnaround_jitter`), at once when a
 * segment is out of order, or after `delack`; with `sack`, ACKs carry SACK
 * blocks (RFC 2018) of what the client holds out of order, the first one
 * holding the segment just received (the sender ignores them: the packets
 * are the same as without, but for the option).  Each middlebox is one FIFO
 * shared by both directions: a service time of 1/service_pps per packet,
 * then `latency` ± `jitter` (order kept), random loss with probability
 * `loss`, tail drop beyond `queue` packets.  Capture points A, B, C record
 * every packet that passes them, in both directions, into A.pcap, B.pcap,
 * C.pcap: Ethernet/IPv4/TCP with correct checksums, ip.id counting per
 * host, nanosecond timestamps from `epoch`, at most `snaplen` bytes kept.
 *
 * The truth: per hop and direction, packets that passed and their mean
 * delay, packets dropped; per capture point, the RTT samples defined as
 * diag_rtt.c defines them (an ACK that advances what the point has seen
 * acknowledged gives one sample, from the segment that made the client
 * send it, unless it covers a segment the point saw as a retransmission),
 * computed here from the model's own knowledge of which segment triggered
 * each ACK.  With `sack`, also the samples as rtt defines them for a table
 * with a sack column: an ACK that first SACKs the segment that triggered it
 * gives a sample too, and Karn looks at the copies it SACKs. */
#ifndef VND_SYNTH_CHAIN_H
#define VND_SYNTH_CHAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define VND_CHAIN_POINTS 3   /* A, B, C */
#define VND_CHAIN_HOPS 2     /* RE (A-B), IDS (B-C) */
#define VND_CHAIN_CLIENTS 2
#define VND_CHAIN_SACK_MAX 4 /* blocks in one ACK: no timestamps option */

struct vnd_mbox_params {
    double latency, jitter;  /* seconds */
    double service_pps;      /* packets per second it can process */
    double loss;             /* random loss probability */
    int queue;               /* packets waiting before tail drop */
};

struct vnd_chain_params {
    uint64_t seed;
    double duration;         /* seconds the server sends data */
    double join_at;          /* client 2 starts; < 0: only client 1 */
    double rate_bps;         /* per-connection pacing at the server */
    double link_server;      /* server <-> C, one way */
    double link_client;      /* A <-> clients, one way */
    struct vnd_mbox_params mb[VND_CHAIN_HOPS];   /* [0] RE, [1] IDS */
    double turnaround, turnaround_jitter, delack;
    int ack_every;
    uint32_t isn;            /* server ISN of client 1 (client 2: + 1e9); 0:
                                from the seed.  Near 2^32 to test wrap. */
    uint32_t snaplen;
    double epoch;            /* timestamp of t = 0 */
    bool sack;               /* the client sends SACK blocks (default off) */
};

/* The paper's scenario: 20 s, client 2 at 10 s, 100 Mbit/s, an IDS of
 * 15,000 packets/s and 3 ms, an RE of 40,000 packets/s and 1 ms. */
void vnd_chain_defaults(struct vnd_chain_params *p);

struct vnd_chain_truth {
    /* [hop][dir]: dir 0 = toward the client (server data), 1 = toward the
     * server */
    long long passed[VND_CHAIN_HOPS][2], lost[VND_CHAIN_HOPS][2];
    double delay_sum[VND_CHAIN_HOPS][2];
    /* [point]: RTT samples of the server's data (the download direction) */
    long long rtt_n[VND_CHAIN_POINTS];
    double rtt_sum[VND_CHAIN_POINTS];
    /* with sack: the samples of rtt on a table with the sack column */
    bool sack;
    long long rtt_sack_n[VND_CHAIN_POINTS];
    double rtt_sack_sum[VND_CHAIN_POINTS];
    long long captured[VND_CHAIN_POINTS];
    long long data_segments[VND_CHAIN_CLIENTS], retransmissions[VND_CHAIN_CLIENTS];
    uint64_t bytes_delivered[VND_CHAIN_CLIENTS];
    double end;              /* simulated time of the last event */
};

/* Runs the model and writes DIR/A.pcap, DIR/B.pcap, DIR/C.pcap.  Returns
 * 0, or -1 and a malloc'd *err. */
int vnd_chain_generate(const struct vnd_chain_params *p, const char *dir,
                       struct vnd_chain_truth *t, char **err);

/* Writes the truth as "key value" lines (what tests compare with). */
void vnd_chain_truth_write(const struct vnd_chain_truth *t, FILE *f);

#endif
