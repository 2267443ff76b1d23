/* vxlan.c — Virtual eXtensible Local Area Network, RFC 7348: an
 * Ethernet frame in UDP (port 4789; Linux's default 8472 too).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |R|R|R|R|I|R|R|R|            Reserved                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                VXLAN Network Identifier (VNI) |   Reserved    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  inner Ethernet frame ...
 *
 * The I flag is not required (tshark does not require it either).
 *
 * VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe, UDP 4790) puts a next protocol
 * in the last reserved byte of the first word:
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |R|R|Ver|I|P|B|O|       Reserved                |Next Protocol  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                VXLAN Network Identifier (VNI) |   Reserved    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * 1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH, 5 MPLS; vxlan.vni is set as for
 * VXLAN.
 */
#include "decode/decode-int.h"

void vnd_dn_vxlan(struct vnd_dissect *d, uint32_t off)
{
    uint32_t vni;

    DN_READ(dn_be24(d, off + 4, &vni));
    DN_READ(dn_have(d, off, 8));
    if (!vnd_dn_enter_tunnel(d))
        return;
    dn_set(d, VND_F_VXLAN_VNI, vni);
    vnd_dn_ether(d, off + 8);
}

void vnd_dn_vxlan_gpe(struct vnd_dissect *d, uint32_t off)
{
    static const uint16_t type_of[] = {0, 0x0800, 0x86dd, 0x6558, 0x894f, 0x8847};
    uint32_t np, vni;

    DN_READ(dn_u8(d, off + 3, &np));
    DN_READ(dn_be24(d, off + 4, &vni));
    DN_READ(dn_have(d, off, 8));
    if (np == 0 || np >= sizeof type_of / sizeof type_of[0])
        return;
    if (!vnd_dn_enter_tunnel(d))
        return;
    dn_set(d, VND_F_VXLAN_VNI, vni);
    if (np == 3)
        vnd_dn_ether(d, off + 8);
    else
        vnd_dn_l3(d, off + 8, type_of[np]);
}
