/* sampling.h — which packets 1-in-N sampling keeps at the table server.
 *
 *   count  systematic: every Nth packet handed in (the first, N+1th, ...).
 *          Cheap (no decoding of the skipped packets), but two capture
 *          points of one path keep different packets.
 *   hash   consistent: a packet is kept when vnd_sample_key(pkt) % N == 0.
 *          The key is computed from what a router, NAT or L4 balancer
 *          leaves unchanged, so the same packets are kept at a middlebox's
 *          input and output (`vnd diag delay`/`loss` can join samples).
 *          With N a power of two, the packets kept at 2N are a subset of
 *          those kept at N. */
#ifndef VND_INGEST_SAMPLING_H
#define VND_INGEST_SAMPLING_H

#include <stdbool.h>
#include <stdint.h>

struct vnd_pkt;

enum vnd_sample_method { VND_SAMPLE_COUNT, VND_SAMPLE_HASH };

/* "count", "hash". */
const char *vnd_sample_method_name(enum vnd_sample_method m);

/* The method a name gives (case matters not); false when none. */
bool vnd_sample_method_parse(const char *name, enum vnd_sample_method *out);

/* The 32-bit key of a decoded packet: a hash of its captured L4 payload
 * when it has some (the bytes `payload.hash` covers, what `diag delay
 * --by payload` joins on), else of (ip.id, tcp.seq, tcp.ack) (`pkt.id`,
 * what `--by id` joins on, plus the ACK number that tells pure ACKs
 * apart), else — no IP header — of the captured frame. */
uint32_t vnd_sample_key(const struct vnd_pkt *pkt, const uint8_t *frame, uint32_t caplen);

#endif
