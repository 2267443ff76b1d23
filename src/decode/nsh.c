/* nsh.c — Network Service Header, RFC 8300: service function chaining,
 * i.e. middlebox chains.  On Ethernet (EtherType 0x894f), in GRE
 * (protocol 0x894f) and in VXLAN-GPE (next protocol 4).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Ver|O|U|    TTL    |   Length  |U|U|U|U|MD Type| Next Protocol |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Service Path Identifier (SPI)        | Service Index |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            Context headers (MD type 1: 16 bytes; 2: TLVs)     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Length counts the whole header in 4-byte words (at least 2).  Next
 * protocol: 1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH, 5 MPLS.  An Ethernet
 * payload is a tunnel's inner frame; an IP payload keeps the carrier's
 * Ethernet header (NSH replaces none).  NSH within NSH is followed up to
 * VND_NSH_NEST_MAX headers; nsh.* are the innermost header's.
 */
#include "decode/decode-int.h"

void vnd_dn_nsh(struct vnd_dissect *d, uint32_t off)
{
    for (int nest = 0;; nest++) {
        uint32_t w0, sp, np;

        if (nest == VND_NSH_NEST_MAX) {
            dn_flag(d, VND_PKT_DEPTH_CAP);
            return;
        }
        DN_READ(dn_be32(d, off, &w0));
        if (w0 >> 30 != 0 || ((w0 >> 16) & 0x3f) < 2) {   /* version 0 only */
            dn_flag(d, VND_PKT_MALFORMED);
            return;
        }
        np = w0 & 0xff;
        dn_set(d, VND_F_NSH_NP, np);
        DN_READ(dn_be32(d, off + 4, &sp));
        dn_set(d, VND_F_NSH_SPI, sp >> 8);
        dn_set(d, VND_F_NSH_SI, sp & 0xff);
        uint32_t inner = off + ((w0 >> 16) & 0x3f) * 4;
        DN_READ(dn_have(d, off, inner - off));
        switch (np) {
        case 1: vnd_dn_ipv4(d, inner); return;
        case 2: vnd_dn_ipv6(d, inner); return;
        case 3:
            if (vnd_dn_enter_tunnel(d))
                vnd_dn_ether(d, inner);
            return;
        case 4: off = inner; break;
        case 5: vnd_dn_mpls(d, inner); return;
        default: return;
        }
    }
}
