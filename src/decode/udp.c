/* udp.c — User Datagram Protocol, RFC 768, and what rides on it here:
 * VXLAN (4789, and 8472, Linux's pre-IANA default), VXLAN-GPE (4790),
 * Geneve (6081), MPLS (6635, RFC 7510), DNS (53).  Tunnels are recognised by destination port, as senders pick
 * the source port from a flow hash.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            Length             |           Checksum            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * payload.len comes from the IP length when it is sane, else from the
 * UDP length when that fits the frame, else from the frame.
 */
#include "decode/decode-int.h"

#define PORT_DNS 53
#define PORT_VXLAN 4789
#define PORT_VXLAN_LINUX 8472
#define PORT_VXLAN_GPE 4790
#define PORT_GENEVE 6081
#define PORT_MPLS 6635

void vnd_dn_udp(struct vnd_dissect *d, uint32_t off)
{
    uint32_t sport, dport, ulen;

    DN_READ(dn_be16(d, off, &sport));
    dn_set(d, VND_F_UDP_SRC, sport);
    DN_READ(dn_be16(d, off + 2, &dport));
    dn_set(d, VND_F_UDP_DST, dport);
    DN_READ(dn_be16(d, off + 4, &ulen));
    dn_set(d, VND_F_UDP_LEN, ulen);
    uint32_t poff = off + 8, plen, left = dn_remaining(d, poff);
    if (ulen < 8)
        dn_flag(d, VND_PKT_MALFORMED);
    if (d->end_from_ip || ulen < 8 || ulen - 8 > left)
        plen = left;
    else
        plen = ulen - 8;
    vnd_dn_payload(d, poff, plen);
    d->end = poff + plen;    /* a tunnelled packet ends with the datagram */
    DN_READ(dn_have(d, off, 8));    /* the checksum */

    if (dport == PORT_VXLAN || dport == PORT_VXLAN_LINUX)
        vnd_dn_vxlan(d, poff);
    else if (dport == PORT_GENEVE)
        vnd_dn_geneve(d, poff);
    else if (dport == PORT_VXLAN_GPE)
        vnd_dn_vxlan_gpe(d, poff);
    else if (dport == PORT_MPLS) {
        if (vnd_dn_enter_tunnel(d))
            vnd_dn_mpls(d, poff);
    }
    else if (sport == PORT_DNS || dport == PORT_DNS)
        vnd_dn_dns(d, poff);
}
