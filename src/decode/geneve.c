/* geneve.c — Generic Network Virtualization Encapsulation, RFC 8926,
 * on UDP port 6081.  Options are skipped by their total length.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        Virtual Network Identifier (VNI)       |    Reserved   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Variable-Length Options (Opt Len * 4)      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Protocol Type is an EtherType: 0x6558 (Ethernet), 0x0800, 0x86dd.
 */
#include "decode/decode-int.h"

void vnd_dn_geneve(struct vnd_dissect *d, uint32_t off)
{
    uint32_t b0, proto, vni;

    DN_READ(dn_u8(d, off, &b0));
    if (b0 >> 6 != 0) {        /* only version 0 exists */
        dn_flag(d, VND_PKT_MALFORMED);
        return;
    }
    DN_READ(dn_be16(d, off + 2, &proto));
    DN_READ(dn_be24(d, off + 4, &vni));
    uint32_t inner = off + 8 + (b0 & 0x3f) * 4;
    DN_READ(dn_have(d, off, inner - off));
    if (proto != 0x6558 && proto != 0x0800 && proto != 0x86dd)
        return;
    if (!vnd_dn_enter_tunnel(d))
        return;
    dn_set(d, VND_F_GENEVE_VNI, vni);
    if (proto == 0x6558)
        vnd_dn_ether(d, inner);
    else if (proto == 0x0800)
        vnd_dn_ipv4(d, inner);
    else
        vnd_dn_ipv6(d, inner);
}
