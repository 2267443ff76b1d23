/* link-null.c — BSD loopback encapsulation: DLT_NULL and DLT_LOOP.
 *
 * A 4-byte address family, then the packet.  DLT_NULL writes it in the
 * capturing host's byte order (which the file does not record, so both
 * orders are tried); DLT_LOOP (OpenBSD) in network order.  Values from
 * libpcap's LINKTYPE_NULL documentation: AF_INET is 2 everywhere, AF_INET6
 * is 24 (NetBSD, OpenBSD, BSD/OS), 28 (FreeBSD, DragonFly) or 30 (Darwin).
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  address family (4 bytes)                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  IPv4 or IPv6 packet ...
 */
#include "decode/decode-int.h"

static bool af_known(uint32_t af)
{
    return af == 2 || af == 24 || af == 28 || af == 30;
}

void vnd_dn_null(struct vnd_dissect *d, uint32_t off, bool network_order)
{
    uint32_t af;

    DN_READ(dn_be32(d, off, &af));
    if (!network_order && !af_known(af))
        af = __builtin_bswap32(af);
    if (af == 2)
        vnd_dn_ipv4(d, off + 4);
    else if (af_known(af))
        vnd_dn_ipv6(d, off + 4);
}
