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
