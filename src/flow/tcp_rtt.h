/* tcp_rtt.h — round-trip times from TCP rows in time order: each ACK
 * that first covers a segment gives a sample (Karn's rule, SACK, copies
 * of one frame left out).  tcp_rtt.c says exactly how. */
#ifndef VND_FLOW_TCP_RTT_H
#define VND_FLOW_TCP_RTT_H

#include <stdbool.h>
#include <stdint.h>

#include "flow/flows.h"

/* The column rtt reads SACK blocks from when the table has it (parse
 * field tcp.sack), and the blocks one ACK carries at most. */
#define VND_RTT_SACK_COL "sack"
#define VND_RTT_SACK_MAX 4
/* Copies of one frame seen on several interfaces are not retransmissions:
 * with an `id` column (ip.id), a TCP row of the same direction, id, seq,
 * ack, flags and payload_len as one less than VND_RTT_DUP_WINDOW seconds
 * before it is a copy and is left out (before Karn's rule could see it).
 * 0.2 s is Linux's smallest retransmission timeout: a real retransmission
 * comes later, and with a new IP id from every common stack.  An id of 0
 * identifies nothing (stacks that send DF packets with id 0): such rows
 * are never copies. */
#define VND_RTT_ID_COL "id"
#define VND_RTT_DUP_WINDOW 0.2
/* A direction keeps at most this many segments waiting for the ACK that
 * covers them; at more, the lower half by sequence is let go (their ACKs,
 * if they come, give no sample).  Without a bound a capture that sees data
 * but not its ACKs (one direction of a flow, or sampled) grew the table
 * server by 24 bytes a packet for the trace's life, and an rtt query over
 * such a table as much.  16,384 segments are a 23 MB window of full-size
 * ones, above Linux's largest default send buffer. */
#define VND_RTT_OPEN_MAX 16384
/* The blocks of tcp.sack's text "L-R,L-R" (raw 32-bit edges) into edges
 * (L0, R0, L1, R1, ...); returns how many.  NULL, empty or malformed text
 * (anything but 1 to 4 blocks of 1-10 digit numbers below 2^32) is 0: no
 * SACK.  The rtt SQL applies the same rule. */
int vnd_rtt_sack_parse(const char *txt, uint32_t edges[2 * VND_RTT_SACK_MAX]);
/* The pairing itself, rows in and samples out, for the rtt app's step
 * (diag/diag_rtt_step.c) and for the rollups of ingest (ingest/rollup.c):
 * the same samples.  Rows come in time order (rows of one ts in any
 * order); flows are indexes of vnd_rtt_machine_flows (flow/flows.h).  Each sample is emitted once: the
 * data direction's flow, the ts of the segment it is timed from (its
 * slot), the ACK's ts, and its kind's code (SYN 2, FIN 1, data 0;
 * diag.h's vnd_rtt_kind_code). */
struct vnd_rtt_machine;
struct vnd_rtt_in {
    double ts;
    int flow;
    uint32_t seq, ack;
    int ack_null;
    int flags;
    int64_t len;                    /* payload + SYN + FIN; 0 when NULL */
    int id_null;
    int64_t id;
    const char *sack;               /* tcp.sack text or NULL */
};
typedef void (*vnd_rtt_emit)(void *arg, int flow, double seg_ts, double ack_ts, int kind);
/* `ids`: rows carry ip.id (copies are recognised); `sack`: SACK text. */
struct vnd_rtt_machine *vnd_rtt_machine_new(bool ids, bool sack, vnd_rtt_emit emit, void *arg);
struct vnd_flows *vnd_rtt_machine_flows(struct vnd_rtt_machine *m);
/* 0, or VND_RTT_OUT_OF_ORDER for a row earlier than the one before (or a NaN
 * ts): the machine then stays as it was. */
#define VND_RTT_OUT_OF_ORDER 1
int vnd_rtt_machine_row(struct vnd_rtt_machine *m, const struct vnd_rtt_in *in);
/* A hint that `in` comes soon: its cache line in the copies' table is
 * fetched meanwhile (a caller that feeds rows in groups overlaps the
 * misses). */
void vnd_rtt_machine_prefetch(const struct vnd_rtt_machine *m, const struct vnd_rtt_in *in);
/* The last timestamp's rows and the ACKs still open: call once, at the end. */
void vnd_rtt_machine_end(struct vnd_rtt_machine *m);
void vnd_rtt_machine_free(struct vnd_rtt_machine *m);

#endif
