/* pppoe.c — PPP over Ethernet session stage, RFC 2516 (EtherType
 * 0x8864), carrying IPv4 (PPP protocol 0x0021) or IPv6 (0x0057, RFC
 * 5072).  The discovery stage (0x8863) carries no IP and stops at
 * eth.type.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  VER  | TYPE  |      CODE     |          SESSION_ID           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            LENGTH             |   PPP protocol (1 or 2 bytes) |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * PPPoE is a link shim, not a tunnel: the Ethernet header stays.  A
 * protocol field with its low bit set in the first byte is the
 * compressed one-byte form (RFC 1661 PFC).
 */
#include "decode/decode-int.h"

void vnd_dn_pppoe(struct vnd_dissect *d, uint32_t off)
{
    uint32_t vt, code, sid, proto;

    DN_READ(dn_u8(d, off, &vt));
    DN_READ(dn_u8(d, off + 1, &code));
    if (vt != 0x11 || code != 0) {
        dn_flag(d, VND_PKT_MALFORMED);
        return;
    }
    DN_READ(dn_be16(d, off + 2, &sid));
    dn_set(d, VND_F_PPPOE_SESSION, sid);
    DN_READ(dn_have(d, off, 6));    /* the length: IP's own is used */
    uint32_t p = off + 6;
    DN_READ(dn_u8(d, p, &proto));
    if (proto & 1) {
        p += 1;
    } else {
        DN_READ(dn_be16(d, p, &proto));
        p += 2;
    }
    if (proto == 0x21)
        vnd_dn_ipv4(d, p);
    else if (proto == 0x57)
        vnd_dn_ipv6(d, p);
}
