/* pbb.c — Provider Backbone Bridges, IEEE 802.1ah (MAC-in-MAC): a
 * customer frame behind a backbone header and an I-TAG (EtherType
 * 0x88e7), usually after a backbone VLAN tag (B-TAG, 0x88a8).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |I-PCP|D|U| Res |            I-SID (service instance)           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  customer destination, source (12 bytes), EtherType / C-tags ...
 *
 * The customer frame is a tunnel's inner packet: eth.* are the
 * customer's, outer.eth.* the backbone's; pbb.isid the service.
 */
#include "decode/decode-int.h"

void vnd_dn_pbb(struct vnd_dissect *d, uint32_t off)
{
    uint32_t tci;

    DN_READ(dn_be32(d, off, &tci));
    if (!vnd_dn_enter_tunnel(d))
        return;
    dn_set(d, VND_F_PBB_ISID, tci & 0xffffff);
    vnd_dn_ether(d, off + 4);
}
