/* erspan.c — Encapsulated Remote SPAN (Cisco; draft-foschiano-erspan):
 * mirrored Ethernet frames in GRE, as switches and Open vSwitch send them
 * to a remote analyser.
 *
 * Type I: GRE protocol 0x88be without a sequence number, the frame right
 * after GRE.  Type II: 0x88be with a sequence number, an 8-byte header.
 * Type III: protocol 0x22eb, a 12-byte header plus an 8-byte platform
 * subheader when O is set.
 *
 * Type II:
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Ver  |          VLAN         | COS | En|T|    Session ID     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      Reserved         |                  Index                |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Type III:
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Ver  |          VLAN         | COS |BSO|T|     Session ID    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          Timestamp                            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |             SGT               |P|    FT   |   Hw ID   |D|Gra|O|
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The mirrored frame is decoded as a tunnel's inner packet.  Fields:
 * erspan.version (Ver: 1 type II, 2 type III; 0 for type I, which has no
 * header) and erspan.session.  Type III's FT names the frame: 0 Ethernet,
 * 2 an IP packet (no Ethernet header); any other value is not decoded and
 * the GRE carrier stays innermost.  A type II/III header whose Ver does
 * not match its GRE protocol is malformed.
 */
#include "decode/decode-int.h"

#define FT_ETHERNET 0
#define FT_IP 2

void vnd_dn_erspan(struct vnd_dissect *d, uint32_t off, int type)
{
    uint32_t inner = off, w0, ver = 0, ft = FT_ETHERNET;

    if (type >= 2) {
        DN_READ(dn_be32(d, off, &w0));
        ver = w0 >> 28;
        if (ver != (uint32_t)type - 1) {
            dn_flag(d, VND_PKT_MALFORMED);
            return;
        }
        dn_set(d, VND_F_ERSPAN_VERSION, ver);
        dn_set(d, VND_F_ERSPAN_SESSION, w0 & 0x3ff);
    } else {
        dn_set(d, VND_F_ERSPAN_VERSION, 0);
    }
    if (type == 2) {
        DN_READ(dn_have(d, off, 8));
        inner = off + 8;
    } else if (type == 3) {
        uint32_t w2;
        DN_READ(dn_be32(d, off + 8, &w2));
        ft = (w2 >> 10) & 0x1f;
        inner = off + 12 + (w2 & 1 ? 8 : 0);
        DN_READ(dn_have(d, off, inner - off));
    }
    if (ft != FT_ETHERNET && ft != FT_IP)
        return;
    if (!vnd_dn_enter_tunnel(d))
        return;
    if (ft == FT_IP)
        vnd_dn_raw_ip(d, inner);
    else
        vnd_dn_ether(d, inner);
}
