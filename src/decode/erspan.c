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
 * The mirrored frame is decoded as a tunnel's inner packet; the session
 * id is not a field.
 */
#include "decode/decode-int.h"

void vnd_dn_erspan(struct vnd_dissect *d, uint32_t off, int type)
{
    uint32_t inner = off;

    if (type == 2) {
        DN_READ(dn_have(d, off, 8));
        inner = off + 8;
    } else if (type == 3) {
        uint32_t last;
        DN_READ(dn_u8(d, off + 11, &last));
        inner = off + 12 + (last & 1 ? 8 : 0);
    }
    if (!vnd_dn_enter_tunnel(d))
        return;
    vnd_dn_ether(d, inner);
}
