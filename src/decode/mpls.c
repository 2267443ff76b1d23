/* mpls.c — MPLS label stacks, RFC 3032, on Ethernet (EtherType 0x8847,
 * 0x8848), in GRE (RFC 4023, protocol 0x8847) and in UDP (RFC 7510, port
 * 6635), as overlay SDNs and L3VPN / EVPN backbones carry them.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                Label                  | TC  |S|      TTL      |  x depth
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  payload: IPv4 (first nibble 4), IPv6 (6), or a pseudowire control
 * |  word (RFC 4385: first nibble 0) and an Ethernet frame
 *
 * The stack has no payload type: the bottom label 0 (IPv4 explicit null)
 * or 2 (IPv6 explicit null) names it, otherwise the first nibble after
 * the stack does, as routers and tshark guess it.  Nibble 0 is an
 * Ethernet pseudowire (RFC 4448), with a control word unless an
 * EtherType we know sits 12 bytes in (a frame without one).  Ethernet after a
 * control word (VPLS, EVPN) is a tunnel's inner frame; IP is not (the
 * labels replace no header).  Stacks deeper than VND_MPLS_LABELS_MAX
 * stop with DEPTH_CAP.
 *
 * Fields: mpls.label, mpls.tc, mpls.ttl of the top entry; mpls.bottom_label
 * and mpls.depth of the whole stack.
 */
#include "decode/decode-int.h"

#define MPLS_S 0x100u
#define LABEL_IPV4_NULL 0
#define LABEL_IPV6_NULL 2

static bool plain_type(uint32_t t)
{
    return t == 0x0800 || t == 0x86dd || t == 0x0806 || t == 0x8100 || t == 0x88a8
           || t == 0x8847;
}

void vnd_dn_mpls(struct vnd_dissect *d, uint32_t off)
{
    uint32_t e = 0, n = 0;

    do {
        if (n == VND_MPLS_LABELS_MAX) {
            dn_flag(d, VND_PKT_DEPTH_CAP);
            return;
        }
        DN_READ(dn_be32(d, off, &e));
        if (n == 0) {
            dn_set(d, VND_F_MPLS_LABEL, e >> 12);
            dn_set(d, VND_F_MPLS_TC, (e >> 9) & 7);
            dn_set(d, VND_F_MPLS_TTL, e & 0xff);
        }
        n++;
        off += 4;
    } while (!(e & MPLS_S));
    uint32_t label = e >> 12, first;
    dn_set(d, VND_F_MPLS_BOTTOM_LABEL, label);
    dn_set(d, VND_F_MPLS_DEPTH, n);

    DN_READ(dn_u8(d, off, &first));
    if (label == LABEL_IPV4_NULL || (label != LABEL_IPV6_NULL && first >> 4 == 4))
        vnd_dn_ipv4(d, off);
    else if (label == LABEL_IPV6_NULL || first >> 4 == 6)
        vnd_dn_ipv6(d, off);
    else if (first >> 4 == 0) {
        /* An Ethernet pseudowire, with or without the control word: a
         * destination MAC may begin with nibble 0 too, so the frame is
         * taken without a control word when an EtherType we know sits
         * where it would then be, and with one otherwise. */
        uint32_t t;
        uint32_t cw = dn_be16(d, off + 12, &t) && plain_type(t) ? 0 : 4;
        DN_READ(dn_have(d, off, cw));
        if (vnd_dn_enter_tunnel(d))
            vnd_dn_ether(d, off + cw);
    }
}
