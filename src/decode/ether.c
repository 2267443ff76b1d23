/* ether.c — Ethernet II, 802.1Q / 802.1ad (QinQ) tags, 802.2 SNAP, and
 * the EtherType dispatch that the other link layers share.
 *
 * IEEE 802.3, IEEE 802.1Q (C-tag 0x8100), 802.1ad (S-tag 0x88a8), and the
 * pre-standard QinQ TPID 0x9100.  RFC 1042 for SNAP.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  destination address (6 bytes)                |
 * +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                    source address (6 bytes)                   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  TPID 0x8100/0x88a8/0x9100    | PCP |D|      VLAN id          |  0..n tags
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   EtherType (>= 0x0600) or 802.3 length (<= 1500)             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * vlan.id is the innermost tag's id; eth.type is the EtherType after the
 * tags (for 802.3 + SNAP, the SNAP protocol id).
 */
#include "decode/decode-int.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_MIN 0x0600   /* below: an 802.3 length */
#define VLAN_TAGS_MAX 8        /* tags (and SNAP headers) followed: more than real networks stack */

static bool is_vlan_tpid(uint32_t type)
{
    return type == 0x8100 || type == 0x88a8 || type == 0x9100;
}

void vnd_dn_ether(struct vnd_dissect *d, uint32_t off)
{
    uint32_t type;

    DN_READ(dn_set_bytes(d, VND_F_ETH_DST, off, 6));
    DN_READ(dn_set_bytes(d, VND_F_ETH_SRC, off + 6, 6));
    DN_READ(dn_be16(d, off + 12, &type));
    vnd_dn_ethertype(d, off + 14, type);
}

/* 802.2 LLC + SNAP with the Ethernet OUI: AA AA 03 00 00 00 type. */
static bool snap_type(const struct vnd_dissect *d, uint32_t off, uint32_t *type)
{
    uint32_t llc, oui;

    return dn_be24(d, off, &llc) && llc == 0xaaaa03
           && dn_be24(d, off + 3, &oui) && oui == 0
           && dn_be16(d, off + 6, type);
}

void vnd_dn_ethertype(struct vnd_dissect *d, uint32_t off, uint32_t type)
{
    for (int tags = 0;; tags++) {
        if (tags > VLAN_TAGS_MAX) {
            dn_flag(d, VND_PKT_MALFORMED);
            return;
        }
        if (is_vlan_tpid(type)) {
            uint32_t tci;
            DN_READ(dn_be16(d, off, &tci));
            dn_set(d, VND_F_VLAN_ID, tci & 0x0fff);
            DN_READ(dn_be16(d, off + 2, &type));
            off += 4;
        } else if (type < ETHERTYPE_MIN) {
            /* 802.3: only SNAP-encapsulated EtherTypes carry on */
            if (!snap_type(d, off, &type))
                return;
            off += 8;
        } else {
            break;
        }
    }
    dn_set(d, VND_F_ETH_TYPE, type);
    switch (type) {
    case ETHERTYPE_IPV4: vnd_dn_ipv4(d, off); break;
    case ETHERTYPE_IPV6: vnd_dn_ipv6(d, off); break;
    case ETHERTYPE_ARP: vnd_dn_arp(d, off); break;
    default: break;
    }
}
