/* ether.c — Ethernet II, 802.1Q / 802.1ad (QinQ) tags, the port
 * extender tags (802.1BR E-Tag, Cisco VN-Tag), Cisco MetaData, 802.2
 * SNAP, and the EtherType dispatch that the other link layers share.
 *
 * IEEE 802.3, IEEE 802.1Q (C-tag 0x8100), 802.1ad (S-tag 0x88a8), and the
 * pre-standard QinQ TPID 0x9100.  RFC 1042 for SNAP.  IEEE 802.1BR-2012
 * for the E-Tag (0x893f); Cisco's VN-Tag (0x8926, the pre-standard
 * 802.1Qbh); Cisco MetaData (0x8909, TrustSec's SGT).
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
 * E-Tag (6 bytes after its TPID):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |E-PCP|D| Ingress E-CID base    |Re |GRP|    E-CID base         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Ingr. E-CID ext | E-CID ext   |  EtherType
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * VN-Tag (4 bytes after its TPID):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |D|P|   destination VIF (14)    |L|R|Ver|   source VIF (12)     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Cisco MetaData (6 bytes after its TPID): version, length, option
 * (length and type), SGT; then the EtherType.
 *
 * vlan.id is the innermost tag's id; eth.type is the EtherType after the
 * tags (for 802.3 + SNAP, the SNAP protocol id).  Tags of every kind
 * count towards VLAN_TAGS_MAX.  After the tags: IPv4, IPv6, ARP, MPLS
 * (mpls.c), NSH (nsh.c), PBB (pbb.c), PPPoE sessions (pppoe.c); Cisco
 * FabricPath (fabricpath.c) only right after the addresses.
 */
#include "decode/decode-int.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_MPLS 0x8847
#define ETHERTYPE_MPLS_MC 0x8848
#define ETHERTYPE_NSH 0x894f
#define ETHERTYPE_PBB 0x88e7
#define ETHERTYPE_PPPOE_SES 0x8864
#define ETHERTYPE_FABRICPATH 0x8903
#define ETHERTYPE_ETAG 0x893f
#define ETHERTYPE_VNTAG 0x8926
#define ETHERTYPE_CMD 0x8909
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
    if (type == ETHERTYPE_FABRICPATH) {
        dn_set(d, VND_F_ETH_TYPE, type);
        vnd_dn_fabricpath(d, off);
        return;
    }
    vnd_dn_ethertype(d, off + 14, type);
}

bool vnd_dn_l3(struct vnd_dissect *d, uint32_t off, uint32_t type)
{
    switch (type) {
    case ETHERTYPE_IPV4: vnd_dn_ipv4(d, off); return true;
    case ETHERTYPE_IPV6: vnd_dn_ipv6(d, off); return true;
    case ETHERTYPE_MPLS: case ETHERTYPE_MPLS_MC: vnd_dn_mpls(d, off); return true;
    case ETHERTYPE_NSH: vnd_dn_nsh(d, off); return true;
    default: return false;
    }
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
        if (type == ETHERTYPE_IPV4 || type == ETHERTYPE_IPV6)
            break;          /* the common case first */
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
        } else if (type == ETHERTYPE_ETAG) {
            uint32_t w, ext;
            DN_READ(dn_be32(d, off, &w));
            DN_READ(dn_u8(d, off + 5, &ext));
            dn_set(d, VND_F_ETAG_ECID, ext << 14 | (w & 0x3fff));
            DN_READ(dn_be16(d, off + 6, &type));
            off += 8;
        } else if (type == ETHERTYPE_VNTAG) {
            uint32_t w;
            DN_READ(dn_be32(d, off, &w));
            dn_set(d, VND_F_VNTAG_DVIF, (w >> 16) & 0x3fff);
            dn_set(d, VND_F_VNTAG_SVIF, w & 0xfff);
            DN_READ(dn_be16(d, off + 4, &type));
            off += 6;
        } else if (type == ETHERTYPE_CMD) {
            DN_READ(dn_be16(d, off + 6, &type));
            off += 8;
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
    case ETHERTYPE_ARP: vnd_dn_arp(d, off); break;
    case ETHERTYPE_PBB: vnd_dn_pbb(d, off); break;
    case ETHERTYPE_PPPOE_SES: vnd_dn_pppoe(d, off); break;
    default: vnd_dn_l3(d, off, type); break;
    }
}
