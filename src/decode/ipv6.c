/* ipv6.c — Internet Protocol version 6, RFC 8200, and its extension
 * header chain: hop-by-hop (0), routing (43), fragment (44), destination
 * options (60) and the authentication header (51, RFC 4302).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version| Traffic Class |           Flow Label                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Payload Length        |  Next Header  |   Hop Limit   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 Source Address (16 bytes)                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               Destination Address (16 bytes)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Extension headers (hop-by-hop, routing, destination options):
 * |  Next Header  |  Hdr Ext Len  |  ... (Hdr Ext Len + 1) * 8 bytes
 * AH: the same two bytes, length (Payload Len + 2) * 4 bytes.
 * Fragment (8 bytes):
 * |  Next Header  |   Reserved    |  Fragment Offset        |Res|M|
 * |                        Identification                         |
 *
 * ip.proto is the chain's final next header, ip.len 40 + payload length,
 * ip.id/ip.frag/ip.flags (MF) come from a fragment header.  A payload
 * length of 0 (jumbogram) leaves L4 lengths to the frame's length.
 */
#include "decode/decode-int.h"

enum { HOPOPTS = 0, ROUTING = 43, FRAGMENT = 44, AH = 51, DSTOPTS = 60 };

static bool is_ext(uint32_t nh)
{
    return nh == HOPOPTS || nh == ROUTING || nh == FRAGMENT || nh == AH
           || nh == DSTOPTS;
}

void vnd_dn_ipv6(struct vnd_dissect *d, uint32_t off)
{
    uint32_t w, plen, nh, hlim;

    DN_READ(dn_be32(d, off, &w));
    dn_set(d, VND_F_IP_VERSION, w >> 28);
    if (w >> 28 != 6) {
        dn_flag(d, VND_PKT_MALFORMED);
        return;
    }
    dn_set(d, VND_F_IP_DSCP, (w >> 22) & 0x3f);
    DN_READ(dn_be16(d, off + 4, &plen));
    dn_set(d, VND_F_IP_LEN, 40 + plen);
    DN_READ(dn_u8(d, off + 6, &nh));
    DN_READ(dn_u8(d, off + 7, &hlim));
    dn_set(d, VND_F_IP_TTL, hlim);
    DN_READ(dn_set_bytes(d, VND_F_IP_SRC, off + 8, 16));
    DN_READ(dn_set_bytes(d, VND_F_IP_DST, off + 24, 16));

    if (plen != 0 && off + 40 + plen <= d->end) {
        d->end = off + 40 + plen;
        d->end_from_ip = true;
        if (!d->wire_end)
            d->wire_end = off + 40 + plen;
    } else {
        d->end_from_ip = false;
        if (d->cut && !d->wire_end)
            d->end = d->caplen;        /* no length to go by: the bytes held */
    }
    off += 40;

    for (int n = 0; is_ext(nh); n++) {
        uint32_t next, len;
        if (n == VND_IPV6_EXT_MAX) {
            dn_set(d, VND_F_IP_PROTO, nh);
            dn_flag(d, VND_PKT_DEPTH_CAP);
            return;
        }
        DN_READ(dn_u8(d, off, &next));
        if (nh == FRAGMENT) {
            uint32_t fo, id;
            DN_READ(dn_be16(d, off + 2, &fo));
            DN_READ(dn_be32(d, off + 4, &id));
            dn_set(d, VND_F_IP_ID, id);
            dn_set(d, VND_F_IP_FRAG, fo & 0xfff8);
            dn_set(d, VND_F_IP_FLAGS, fo & 1);
            if ((fo & 0xfff8) != 0) {
                /* what follows is the middle of some L4 payload */
                dn_set(d, VND_F_IP_PROTO, next);
                dn_flag(d, VND_PKT_FRAGMENT);
                return;
            }
            len = 8;
        } else {
            DN_READ(dn_u8(d, off + 1, &len));
            len = nh == AH ? (len + 2) * 4 : (len + 1) * 8;
        }
        nh = next;
        off += len;
    }
    dn_set(d, VND_F_IP_PROTO, nh);
    vnd_dn_ip_proto(d, off, nh);
}
