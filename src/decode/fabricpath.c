/* fabricpath.c — Cisco FabricPath (the pre-standard TRILL of Nexus data
 * centres): a 16-byte outer header before the classical Ethernet frame.
 * Cisco, "Cisco FabricPath Design Guide"; Wireshark's packet-cfp.c.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |EID 5:0    |U|I|E7 |R|O|SwitchID(11:8)|SwitchID 7:0 |Sub-SwID   |  outer DA
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        Local ID (LID)         |  outer SA (same layout) ...   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |       ...                     |      EtherType 0x8903         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     FTag (10)     | TTL (6)   |  classical Ethernet frame ...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The classical frame is a tunnel's inner packet; fabricpath.swid is the
 * outer destination's switch id, fabricpath.ftag the forwarding tree.
 */
#include "decode/decode-int.h"

void vnd_dn_fabricpath(struct vnd_dissect *d, uint32_t off)
{
    uint32_t sw, ft;

    DN_READ(dn_be24(d, off, &sw));
    DN_READ(dn_be16(d, off + 14, &ft));
    if (!vnd_dn_enter_tunnel(d))
        return;
    dn_set(d, VND_F_FP_SWID, sw & 0xfff);
    dn_set(d, VND_F_FP_FTAG, ft >> 6);
    vnd_dn_ether(d, off + 16);
}
