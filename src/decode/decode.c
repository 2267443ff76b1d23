/* decode.c — vnd_decode(): frame fields, link-type dispatch, tunnels,
 * derived fields.  The protocols themselves are one file each. */
#include "decode/packet.h"

#include <stddef.h>

#include "decode/decode-int.h"

/* Bit of field f in word w of the present mask (0 when f is elsewhere). */
#define WBIT(w, f) ((unsigned)(f) >> 6 == (w) ? UINT64_C(1) << ((unsigned)(f) & 63) : 0)
/* Fields a tunnel's inner packet replaces: eth .. dns are contiguous in
 * enum vnd_field (and all in word 0), then the L4 payload. */
_Static_assert(VND_F_DNS_RCODE < 64, "eth .. dns in word 0 of the present mask");
#define INNER_W0 \
    (((UINT64_C(1) << (VND_F_DNS_RCODE + 1)) - (UINT64_C(1) << VND_F_ETH_SRC)) \
     | WBIT(0, VND_F_PAYLOAD_LEN))
#define INNER_W1 WBIT(1, VND_F_PAYLOAD_LEN)

bool vnd_decode_linktype_supported(int linktype)
{
    switch (linktype) {
    case VND_DLT_NULL: case VND_DLT_EN10MB: case VND_DLT_RAW:
    case VND_DLT_RAW_BSD: case VND_LINKTYPE_RAW: case VND_DLT_LOOP:
    case VND_DLT_LINUX_SLL: case VND_LINKTYPE_IPV4: case VND_LINKTYPE_IPV6:
    case VND_DLT_LINUX_SLL2:
        return true;
    default:
        return false;
    }
}

bool vnd_dn_enter_tunnel(struct vnd_dissect *d)
{
    static const struct { enum vnd_field from, to; } outer[] = {
        {VND_F_ETH_SRC, VND_F_OUTER_ETH_SRC}, {VND_F_ETH_DST, VND_F_OUTER_ETH_DST},
        {VND_F_IP_SRC, VND_F_OUTER_IP_SRC}, {VND_F_IP_DST, VND_F_OUTER_IP_DST},
        {VND_F_IP_PROTO, VND_F_OUTER_IP_PROTO}, {VND_F_UDP_SRC, VND_F_OUTER_UDP_SRC},
        {VND_F_UDP_DST, VND_F_OUTER_UDP_DST},
    };
    struct vnd_pkt *pkt = d->pkt;

    if (d->tunnels >= VND_TUNNEL_DEPTH_MAX) {
        dn_flag(d, VND_PKT_DEPTH_CAP);
        return false;
    }
    if (d->tunnels++ == 0) {
        for (size_t i = 0; i < sizeof outer / sizeof outer[0]; i++)
            if (vnd_pkt_has(pkt, outer[i].from)) {
                union vnd_pkt_val v = pkt->v[outer[i].from];
                vnd_pkt_set_b(pkt, outer[i].to, v.b.p, v.b.n);  /* marks it present */
                pkt->v[outer[i].to] = v;
            }
    }
    pkt->present[0] &= ~INNER_W0;
    pkt->present[1] &= ~INNER_W1;
    pkt->payload = NULL;
    pkt->payload_caplen = 0;
    d->end_from_ip = false;
    return true;
}

void vnd_dn_payload(struct vnd_dissect *d, uint32_t off, uint32_t len)
{
    uint32_t at = off < d->caplen ? off : d->caplen;
    uint32_t cap = d->caplen - at;

    dn_set(d, VND_F_PAYLOAD_LEN, len);
    d->pkt->payload = d->p + at;
    d->pkt->payload_caplen = len < cap ? len : cap;
}

void vnd_dn_raw_ip(struct vnd_dissect *d, uint32_t off)
{
    uint32_t vhl;

    DN_READ(dn_u8(d, off, &vhl));
    if (vhl >> 4 == 6)
        vnd_dn_ipv6(d, off);
    else
        vnd_dn_ipv4(d, off);    /* reports any other version as malformed */
}

void vnd_dn_ip_proto(struct vnd_dissect *d, uint32_t off, uint32_t proto)
{
    switch (proto) {
    case 6: vnd_dn_tcp(d, off); break;
    case 17: vnd_dn_udp(d, off); break;
    case 1: case 58: vnd_dn_icmp(d, off); break;
    case 47: vnd_dn_gre(d, off); break;
    case 4:     /* IPv4 in IP, RFC 2003 */
        if (vnd_dn_enter_tunnel(d))
            vnd_dn_ipv4(d, off);
        break;
    case 41:    /* IPv6 in IP, RFC 4213 */
        if (vnd_dn_enter_tunnel(d))
            vnd_dn_ipv6(d, off);
        break;
    case 143:   /* Ethernet in IPv6, SRv6 L2 services (RFC 8986) */
        if (vnd_dn_enter_tunnel(d))
            vnd_dn_ether(d, off);
        break;
    default: break;
    }
}

static uint32_t decode(struct vnd_pkt *pkt, int linktype, const uint8_t *data,
                       uint32_t caplen, uint32_t len, bool cut, int64_t ts_ns)
{
    struct vnd_dissect d = {
        .pkt = pkt, .p = data, .caplen = caplen, .cut = cut,
        /* a capture claiming fewer wire bytes than captured is wrong:
         * trust the bytes we hold; a cut one's IP lengths say where the
         * frame ended */
        .end = cut ? UINT32_MAX : len >= caplen ? len : caplen,
    };

    pkt->present[0] = 0;
    pkt->present[1] = 0;
    pkt->anomalies = 0;
    pkt->payload = NULL;
    pkt->payload_caplen = 0;
    dn_set(&d, VND_F_TIMESTAMP_NS, (uint64_t)ts_ns);
    dn_set(&d, VND_F_FRAME_LEN, len);
    dn_set(&d, VND_F_FRAME_CAPLEN, caplen);

    switch (linktype) {
    case VND_DLT_EN10MB: vnd_dn_ether(&d, 0); break;
    case VND_DLT_RAW: case VND_DLT_RAW_BSD: case VND_LINKTYPE_RAW:
        vnd_dn_raw_ip(&d, 0);
        break;
    case VND_LINKTYPE_IPV4: vnd_dn_ipv4(&d, 0); break;
    case VND_LINKTYPE_IPV6: vnd_dn_ipv6(&d, 0); break;
    case VND_DLT_NULL: vnd_dn_null(&d, 0, false); break;
    case VND_DLT_LOOP: vnd_dn_null(&d, 0, true); break;
    case VND_DLT_LINUX_SLL: vnd_dn_sll(&d, 0); break;
    case VND_DLT_LINUX_SLL2: vnd_dn_sll2(&d, 0); break;
    default: dn_flag(&d, VND_PKT_UNKNOWN_LINK); break;
    }

    /* The paper's packet ID: a missing part counts as 0. */
    bool has_id = vnd_pkt_has(pkt, VND_F_IP_ID);
    bool has_seq = vnd_pkt_has(pkt, VND_F_TCP_SEQ);
    if (has_id || has_seq)
        vnd_pkt_set_u(pkt, VND_F_PKT_ID,
                      (has_id ? pkt->v[VND_F_IP_ID].u : 0)
                      + (has_seq ? pkt->v[VND_F_TCP_SEQ].u << 16 : 0));
    if (cut)
        vnd_pkt_set_u(pkt, VND_F_FRAME_LEN, d.wire_end > caplen ? d.wire_end : caplen);
    return pkt->anomalies;
}

uint32_t vnd_decode(struct vnd_pkt *pkt, int linktype, const uint8_t *data,
                    uint32_t caplen, uint32_t len, int64_t ts_ns)
{
    return decode(pkt, linktype, data, caplen, len, false, ts_ns);
}

uint32_t vnd_decode_cut(struct vnd_pkt *pkt, int linktype, const uint8_t *data,
                        uint32_t caplen, int64_t ts_ns)
{
    return decode(pkt, linktype, data, caplen, caplen, true, ts_ns);
}
