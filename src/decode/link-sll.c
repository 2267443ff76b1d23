/* link-sll.c — Linux "cooked" capture headers, SLL (DLT_LINUX_SLL, 113)
 * and SLL2 (DLT_LINUX_SLL2, 276), as libpcap writes them for `any`.
 *
 * See https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html and
 * LINKTYPE_LINUX_SLL2.html.  The protocol field is an EtherType (values
 * <= 1500 name non-Ethernet payloads; 4 is 802.2 LLC, which the SNAP
 * check in vnd_dn_ethertype handles).  No Ethernet addresses are set:
 * the header has only the sender's link address.
 *
 * SLL (16 bytes):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        packet type            |        ARPHRD type            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   link-layer address length   |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |               link-layer address (8 bytes)                    |
 * +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               |        protocol type          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * SLL2 (20 bytes):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        protocol type          |        reserved (MBZ)         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       interface index                         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        ARPHRD type            |  packet type  | addr length   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               link-layer address (8 bytes)                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
#include "decode/decode-int.h"

void vnd_dn_sll(struct vnd_dissect *d, uint32_t off)
{
    uint32_t proto;

    DN_READ(dn_be16(d, off + 14, &proto));
    vnd_dn_ethertype(d, off + 16, proto);
}

void vnd_dn_sll2(struct vnd_dissect *d, uint32_t off)
{
    uint32_t proto;

    /* the payload starts after the whole 20-byte header */
    DN_READ(dn_be16(d, off, &proto) && dn_have(d, off, 20));
    vnd_dn_ethertype(d, off + 20, proto);
}
