/* ipv4.c — Internet Protocol version 4, RFC 791.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |   DSCP    |ECN|          Total Length         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Identification        |Flags|      Fragment Offset    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Source Address                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination Address                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options (IHL > 5)                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * ip.flags is the 3 high bits of the flags/offset word (0x2 DF, 0x1 MF),
 * ip.frag the fragment offset in bytes.  Only the first fragment (offset
 * 0) carries the L4 header.  Checksums are not verified, and a total
 * length beyond the frame is kept as written (captures of segmentation
 * offload show both).  A total length of 0 is what Linux TSO writes: the
 * frame's own length is used instead, without calling it malformed.
 */
#include "decode/decode-int.h"

void vnd_dn_ipv4(struct vnd_dissect *d, uint32_t off)
{
    uint32_t vhl, tos, tot, id, frag, ttl, proto;

    DN_READ(dn_u8(d, off, &vhl));
    dn_set(d, VND_F_IP_VERSION, vhl >> 4);
    if (vhl >> 4 != 4) {
        dn_flag(d, VND_PKT_MALFORMED);
        return;
    }
    uint32_t hlen = (vhl & 0x0f) * 4;
    DN_READ(dn_u8(d, off + 1, &tos));
    dn_set(d, VND_F_IP_DSCP, tos >> 2);
    DN_READ(dn_be16(d, off + 2, &tot));
    dn_set(d, VND_F_IP_LEN, tot);
    DN_READ(dn_be16(d, off + 4, &id));
    dn_set(d, VND_F_IP_ID, id);
    DN_READ(dn_be16(d, off + 6, &frag));
    dn_set(d, VND_F_IP_FLAGS, frag >> 13);
    dn_set(d, VND_F_IP_FRAG, (frag & 0x1fff) * 8);
    DN_READ(dn_u8(d, off + 8, &ttl));
    dn_set(d, VND_F_IP_TTL, ttl);
    DN_READ(dn_u8(d, off + 9, &proto));
    dn_set(d, VND_F_IP_PROTO, proto);
    DN_READ(dn_set_bytes(d, VND_F_IP_SRC, off + 12, 4));
    DN_READ(dn_set_bytes(d, VND_F_IP_DST, off + 16, 4));

    if (hlen < 20) {
        /* the fixed fields above are still where RFC 791 puts them */
        dn_flag(d, VND_PKT_MALFORMED);
        return;
    }
    DN_READ(dn_have(d, off, hlen));    /* options */

    if (tot >= hlen && off + tot <= d->end) {
        d->end = off + tot;            /* drops Ethernet padding */
        d->end_from_ip = true;
        if (!d->wire_end)
            d->wire_end = off + tot;
    } else {
        d->end_from_ip = false;
        if (d->cut && !d->wire_end)
            d->end = d->caplen;        /* no length to go by: the bytes held */
        if (tot != 0 && tot < hlen)
            dn_flag(d, VND_PKT_MALFORMED);
    }
    if ((frag & 0x1fff) != 0) {
        dn_flag(d, VND_PKT_FRAGMENT);
        return;
    }
    vnd_dn_ip_proto(d, off + hlen, proto);
}
