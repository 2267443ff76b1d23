/* frame.h — what the capture models share (chain.c, lb.c): Ethernet/IPv4/TCP
 * frames with correct checksums, written to a nanosecond pcap file. */
#ifndef VND_SYNTH_FRAME_H
#define VND_SYNTH_FRAME_H

#include <pcap/pcap.h>
#include <stdint.h>

#define VND_FRAME_MSS 1448
#define VND_FRAME_MAX (14 + 20 + 60 + VND_FRAME_MSS)

#define VND_TCP_FIN 0x01
#define VND_TCP_SYN 0x02
#define VND_TCP_RST 0x04
#define VND_TCP_PSH 0x08
#define VND_TCP_ACK 0x10

struct vnd_tcp_frame {
    uint32_t src, dst;          /* IPv4 addresses, host order */
    uint16_t sport, dport;
    uint32_t seq, ack;          /* ack written only with VND_TCP_ACK */
    uint8_t flags;
    uint16_t ipid;
    const uint8_t *payload;     /* len bytes, len <= VND_FRAME_MSS */
    uint32_t len;
    const uint8_t *opts;        /* TCP options: optlen bytes, a multiple of 4, <= 40 */
    uint32_t optlen;
};

/* Writes the frame (MACs 02:00:<IPv4 address>) into f, which holds
 * VND_FRAME_MAX bytes; returns its length. */
uint32_t vnd_frame_tcp(uint8_t *f, const struct vnd_tcp_frame *t);

/* Appends frame f of `len` bytes at `ns` nanoseconds since the Unix epoch,
 * keeping at most `snaplen` bytes (0: all). */
void vnd_frame_dump(pcap_dumper_t *d, int64_t ns, const uint8_t *f, uint32_t len,
                    uint32_t snaplen);

/* A pcap_t that writes nanosecond Ethernet captures (pcap_dump_open). */
pcap_t *vnd_frame_dead(void);

/* Writes `msg` (n bytes, at most 65507) as a UDP datagram from port
 * `sport` of 10.0.0.1 to port `dport` of 10.0.0.2 into f (n + 42 bytes):
 * what a collector's capture holds.  Returns the frame's length. */
uint32_t vnd_frame_udp(uint8_t *f, const uint8_t *msg, size_t n, uint16_t sport,
                       uint16_t dport);

/* "10.1.0.7": a host-order IPv4 address in dotted form. */
void vnd_frame_ip_str(uint32_t ip, char *buf, size_t n);

#endif
