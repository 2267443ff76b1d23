/* gre.c — Generic Routing Encapsulation, RFC 2784 with the key and
 * sequence number of RFC 2890; NVGRE (RFC 7637) is GRE with a key
 * (VSID << 8 | FlowID) carrying Ethernet (protocol 0x6558).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |C|R|K|S| Reserved0       | Ver |         Protocol Type         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      Checksum (optional)      |       Reserved1 (optional)    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Key (optional)                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 Sequence Number (optional)                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * ERSPAN (0x88be, 0x22eb) goes to erspan.c; MPLS (0x8847, RFC 4023) to
 * mpls.c; NSH (0x894f) to nsh.c.  Cisco MetaData (0x8909, as TrustSec
 * tunnels add it: in GRE the EtherType of what follows comes first, then
 * version, length, option and SGT, 8 bytes in all) is skipped.  Version 1 (PPTP's enhanced GRE) carries PPP and the R bit (RFC 1701
 * source routing) is obsolete: neither is followed.
 */
#include "decode/decode-int.h"

#define GRE_C 0x8000
#define GRE_R 0x4000
#define GRE_K 0x2000
#define GRE_S 0x1000

void vnd_dn_gre(struct vnd_dissect *d, uint32_t off)
{
    uint32_t fl, proto, key = 0;

    DN_READ(dn_be16(d, off, &fl));
    DN_READ(dn_be16(d, off + 2, &proto));
    if ((fl & 7) != 0 || (fl & GRE_R))
        return;
    uint32_t o = off + 4;
    if (fl & GRE_C)
        o += 4;
    if (fl & GRE_K) {
        DN_READ(dn_be32(d, o, &key));
        o += 4;
    }
    if (fl & GRE_S)
        o += 4;
    DN_READ(dn_have(d, off, o - off));
    if (proto == 0x88be || proto == 0x22eb) {
        vnd_dn_erspan(d, o, proto == 0x22eb ? 3 : fl & GRE_S ? 2 : 1);
        return;
    }
    if (proto == 0x8909) {     /* Cisco MetaData */
        DN_READ(dn_be16(d, o, &proto));
        DN_READ(dn_have(d, o, 8));
        o += 8;
    }
    if (proto != 0x6558 && !vnd_dn_l3_known(proto))
        return;
    if (!vnd_dn_enter_tunnel(d))
        return;
    if (fl & GRE_K)
        dn_set(d, VND_F_GRE_KEY, key);
    if (proto == 0x6558)
        vnd_dn_ether(d, o);
    else
        vnd_dn_l3(d, o, proto);
}
