/* arp.c — Address Resolution Protocol, RFC 826.
 *
 * arp.op is set for any hardware/protocol pair; the addresses only for
 * Ethernet/IPv4 (hardware type 1, protocol 0x0800, lengths 6 and 4).
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        hardware type          |        protocol type          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  hw addr len  | proto addr len|          operation            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | sender hw address (6) | sender IP (4) | target hw (6) | target IP (4)
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
#include "decode/decode-int.h"

void vnd_dn_arp(struct vnd_dissect *d, uint32_t off)
{
    uint32_t htype, ptype, hlen, plen, op;

    DN_READ(dn_be16(d, off, &htype));
    DN_READ(dn_be16(d, off + 2, &ptype));
    DN_READ(dn_u8(d, off + 4, &hlen));
    DN_READ(dn_u8(d, off + 5, &plen));
    DN_READ(dn_be16(d, off + 6, &op));
    dn_set(d, VND_F_ARP_OP, op);
    if (htype != 1 || ptype != 0x0800 || hlen != 6 || plen != 4)
        return;
    DN_READ(dn_set_bytes(d, VND_F_ARP_SHA, off + 8, 6));
    DN_READ(dn_set_bytes(d, VND_F_ARP_SPA, off + 14, 4));
    DN_READ(dn_set_bytes(d, VND_F_ARP_THA, off + 18, 6));
    DN_READ(dn_set_bytes(d, VND_F_ARP_TPA, off + 24, 4));
}
