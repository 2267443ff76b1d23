/* icmp.c — ICMP (RFC 792) and ICMPv6 (RFC 4443): type and code.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          type-specific (echo: identifier, sequence)           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * payload.len counts what follows these 8 bytes (echo data, or the
 * quoted header of an error), which is not decoded further.
 */
#include "decode/decode-int.h"

void vnd_dn_icmp(struct vnd_dissect *d, uint32_t off)
{
    uint32_t type, code;

    DN_READ(dn_u8(d, off, &type));
    dn_set(d, VND_F_ICMP_TYPE, type);
    DN_READ(dn_u8(d, off + 1, &code));
    dn_set(d, VND_F_ICMP_CODE, code);
    DN_READ(dn_have(d, off, 8));
    vnd_dn_payload(d, off + 8, dn_remaining(d, off + 8));
}
