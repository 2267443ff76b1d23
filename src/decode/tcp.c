/* tcp.c — Transmission Control Protocol, RFC 9293; SACK option, RFC 2018.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Sequence Number                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Acknowledgment Number                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Data |       |C|E|U|A|P|R|S|F|                               |
 * | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Checksum            |         Urgent Pointer        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options (Data Offset > 5)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * SACK option: kind 5, length 2 + 8n, then n (left edge, right edge)
 * pairs of 32-bit sequence numbers.
 *
 * tcp.flags is the byte CWR..FIN.  payload.len is what the IP length
 * leaves after the TCP header.  Port 53 carries DNS behind a 2-byte
 * length (RFC 1035 4.2.2); segments are decoded one by one, never
 * reassembled.
 */
#include "decode/decode-int.h"

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_SACK 5

/* Walks the options in [off, end), keeping up to VND_SACK_MAX blocks. */
static void tcp_options(struct vnd_dissect *d, uint32_t off, uint32_t end)
{
    struct vnd_pkt *pkt = d->pkt;

    pkt->nsack = 0;
    while (off < end) {
        uint32_t kind, len;
        DN_READ(dn_u8(d, off, &kind));
        if (kind == TCPOPT_EOL)
            return;
        if (kind == TCPOPT_NOP) {
            off++;
            continue;
        }
        DN_READ(dn_u8(d, off + 1, &len));
        if (len < 2 || len > end - off) {
            dn_flag(d, VND_PKT_MALFORMED);
            return;
        }
        if (kind == TCPOPT_SACK) {
            for (uint32_t b = off + 2; len - (b - off) >= 8 && pkt->nsack < VND_SACK_MAX;
                 b += 8) {
                uint32_t left, right;
                DN_READ(dn_be32(d, b, &left));
                DN_READ(dn_be32(d, b + 4, &right));
                pkt->sack[2 * pkt->nsack] = left;
                pkt->sack[2 * pkt->nsack + 1] = right;
                pkt->nsack++;
                dn_set(d, VND_F_TCP_SACK, pkt->nsack);
            }
        }
        off += len;
    }
}

void vnd_dn_tcp(struct vnd_dissect *d, uint32_t off)
{
    uint32_t sport, dport, seq, ack, offflags, win;

    DN_READ(dn_be16(d, off, &sport));
    dn_set(d, VND_F_TCP_SRC, sport);
    DN_READ(dn_be16(d, off + 2, &dport));
    dn_set(d, VND_F_TCP_DST, dport);
    DN_READ(dn_be32(d, off + 4, &seq));
    dn_set(d, VND_F_TCP_SEQ, seq);
    DN_READ(dn_be32(d, off + 8, &ack));
    dn_set(d, VND_F_TCP_ACK, ack);
    DN_READ(dn_be16(d, off + 12, &offflags));
    uint32_t flags = offflags & 0xff;
    dn_set(d, VND_F_TCP_FLAGS, flags);
    dn_set(d, VND_F_TCP_FIN, flags & 0x01);
    dn_set(d, VND_F_TCP_SYN, (flags >> 1) & 1);
    dn_set(d, VND_F_TCP_RST, (flags >> 2) & 1);
    dn_set(d, VND_F_TCP_ACKFLAG, (flags >> 4) & 1);
    DN_READ(dn_be16(d, off + 14, &win));
    dn_set(d, VND_F_TCP_WINDOW, win);

    uint32_t hlen = (offflags >> 12) * 4;
    if (hlen < 20) {
        dn_flag(d, VND_PKT_MALFORMED);
        return;
    }
    /* the lengths are known now, whether or not the options were captured */
    uint32_t poff = off + hlen;
    if (d->end_from_ip && poff > d->end)
        dn_flag(d, VND_PKT_MALFORMED);    /* header longer than the datagram */
    uint32_t plen = dn_remaining(d, poff);
    vnd_dn_payload(d, poff, plen);
    tcp_options(d, off + 20, poff);
    DN_READ(dn_have(d, off, hlen));

    uint32_t dnslen;
    if ((sport == 53 || dport == 53) && plen >= 2 + 12
        && dn_be16(d, poff, &dnslen) && dnslen >= 12)
        vnd_dn_dns(d, poff + 2);
}
