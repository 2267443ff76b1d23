/* packet.h — one decoded packet: the fields the decoders found, nothing more.
 *
 * The decoders (src/decode/) fill a struct vnd_pkt from raw bytes; the
 * field registry (src/fields/registry.h) names the fields and turns them into
 * values; the filter and the row writer read them.  Decoding never allocates:
 * address and string values point into the packet buffer or into the
 * struct's own scratch space, so a vnd_pkt is valid only while the captured
 * bytes it was decoded from are.
 *
 * A field is present when its bit is set in `present` (vnd_pkt_has());
 * everything else is
 * undefined and must not be read (values are not cleared between packets,
 * which keeps decoding cheap).
 */
#ifndef VND_DECODE_PACKET_H
#define VND_DECODE_PACKET_H

#include <stdbool.h>
#include <stdint.h>

/* Every field the registry knows.  Order is the registry's order; keep
 * src/fields/registry.c in step. */
enum vnd_field {
    /* frame */
    VND_F_TIMESTAMP, VND_F_TIMESTAMP_NS, VND_F_FRAME_LEN, VND_F_FRAME_CAPLEN,
    VND_F_TRACE,
    /* ethernet */
    VND_F_ETH_SRC, VND_F_ETH_DST, VND_F_ETH_TYPE, VND_F_VLAN_ID,
    /* arp */
    VND_F_ARP_OP, VND_F_ARP_SHA, VND_F_ARP_SPA, VND_F_ARP_THA, VND_F_ARP_TPA,
    /* ip (v4 and v6) */
    VND_F_IP_VERSION, VND_F_IP_SRC, VND_F_IP_DST, VND_F_IP_PROTO, VND_F_IP_ID,
    VND_F_IP_TTL, VND_F_IP_LEN, VND_F_IP_DSCP, VND_F_IP_FLAGS, VND_F_IP_FRAG,
    /* tcp */
    VND_F_TCP_SRC, VND_F_TCP_DST, VND_F_TCP_SEQ, VND_F_TCP_ACK, VND_F_TCP_FLAGS,
    VND_F_TCP_SYN, VND_F_TCP_FIN, VND_F_TCP_RST, VND_F_TCP_ACKFLAG,
    VND_F_TCP_WINDOW, VND_F_TCP_SACK,
    /* udp, icmp (v4 and v6) */
    VND_F_UDP_SRC, VND_F_UDP_DST, VND_F_UDP_LEN, VND_F_ICMP_TYPE, VND_F_ICMP_CODE,
    /* dns */
    VND_F_DNS_ID, VND_F_DNS_QR, VND_F_DNS_QNAME, VND_F_DNS_QTYPE, VND_F_DNS_RCODE,
    /* tunnels */
    VND_F_VXLAN_VNI, VND_F_GRE_KEY, VND_F_GENEVE_VNI,
    /* data-center encapsulations (mpls.c, nsh.c, pbb.c, ether.c tags,
     * pppoe.c, fabricpath.c, erspan.c) */
    VND_F_MPLS_LABEL, VND_F_MPLS_TC, VND_F_MPLS_TTL, VND_F_MPLS_BOTTOM_LABEL,
    VND_F_MPLS_DEPTH, VND_F_NSH_SPI, VND_F_NSH_SI, VND_F_NSH_NP, VND_F_PBB_ISID,
    VND_F_ETAG_ECID, VND_F_VNTAG_DVIF, VND_F_VNTAG_SVIF, VND_F_PPPOE_SESSION,
    VND_F_FP_SWID, VND_F_FP_FTAG, VND_F_ERSPAN_VERSION, VND_F_ERSPAN_SESSION,
    /* outermost headers of a tunnelled packet */
    VND_F_OUTER_ETH_SRC, VND_F_OUTER_ETH_DST, VND_F_OUTER_IP_SRC,
    VND_F_OUTER_IP_DST, VND_F_OUTER_IP_PROTO, VND_F_OUTER_UDP_SRC,
    VND_F_OUTER_UDP_DST,
    /* derived */
    VND_F_PAYLOAD_LEN, VND_F_PAYLOAD_HASH, VND_F_PKT_ID,
    /* flow records of an IPFIX collector (capture/ipfix_source.h), set by
     * the collector, never by the decoders; times in ns like timestamp_ns */
    VND_F_FLOW_START, VND_F_FLOW_END, VND_F_FLOW_PACKETS, VND_F_FLOW_BYTES,
    VND_F_FLOW_L2_BYTES, VND_F_FLOW_END_REASON, VND_F_FLOW_IN_IF, VND_F_FLOW_OUT_IF,
    VND_F_FLOW_OBS_POINT, VND_F_FLOW_BYTES_SQ,
    VND_F_COUNT
};

/* The present mask: one bit per field, in 64-bit words. */
#define VND_PKT_PRESENT_WORDS 2
_Static_assert(VND_F_COUNT <= 64 * VND_PKT_PRESENT_WORDS, "present mask too narrow");

/* Link types the decoder accepts (libpcap DLT_ values as pcap_datalink()
 * returns them, plus the LINKTYPE_ numbers that differ). */
#define VND_DLT_NULL 0      /* BSD loopback, host-order AF_ word */
#define VND_DLT_EN10MB 1
#define VND_DLT_RAW 12      /* DLT_RAW on Linux; LINKTYPE_RAW is 101 */
#define VND_DLT_RAW_BSD 14
#define VND_LINKTYPE_RAW 101
#define VND_DLT_LOOP 108    /* OpenBSD loopback, network-order AF_ word */
#define VND_DLT_LINUX_SLL 113
#define VND_LINKTYPE_IPV4 228
#define VND_LINKTYPE_IPV6 229
#define VND_DLT_LINUX_SLL2 276

/* Anomalies the decoder noticed; the packet is kept either way. */
#define VND_PKT_TRUNCATED 0x01    /* a header ran past the captured bytes */
#define VND_PKT_MALFORMED 0x02    /* a length or version field made no sense */
#define VND_PKT_DEPTH_CAP 0x04    /* tunnel/extension nesting hit the cap */
#define VND_PKT_FRAGMENT 0x08     /* not the first fragment: no L4 fields */
#define VND_PKT_UNKNOWN_LINK 0x10 /* link type not supported */

#define VND_TUNNEL_DEPTH_MAX 4    /* tunnels within tunnels before we stop */
#define VND_IPV6_EXT_MAX 8        /* extension headers followed per IPv6 hdr */
#define VND_DNS_HOPS_MAX 16       /* compression pointers followed per name */
#define VND_SACK_MAX 4            /* SACK blocks in one TCP option */
#define VND_MPLS_LABELS_MAX 16    /* label stack entries followed */
#define VND_NSH_NEST_MAX 4        /* NSH headers within NSH */

union vnd_pkt_val {
    uint64_t u;                  /* numeric fields */
    struct {
        const uint8_t *p;        /* bytes fields: addresses, names */
        uint32_t n;
    } b;
};

struct vnd_pkt {
    /* bit (f & 63) of word (f >> 6) set when field f is set */
    uint64_t present[VND_PKT_PRESENT_WORDS];
    uint32_t anomalies;          /* VND_PKT_* */
    union vnd_pkt_val v[VND_F_COUNT];

    /* L4 payload, for payload.hash (computed only when asked for). */
    const uint8_t *payload;
    uint32_t payload_caplen;     /* bytes of payload actually captured */

    /* Scratch the decoders write into when a value is not a plain slice of
     * the packet: decompressed DNS name, SACK blocks. */
    char qname[256];
    uint32_t sack[2 * VND_SACK_MAX];
    uint8_t nsack;
};

static inline bool vnd_pkt_has(const struct vnd_pkt *p, enum vnd_field f)
{
    return (p->present[(unsigned)f >> 6] >> ((unsigned)f & 63)) & 1;
}

static inline void vnd_pkt_set_u(struct vnd_pkt *p, enum vnd_field f, uint64_t u)
{
    p->v[f].u = u;
    p->present[(unsigned)f >> 6] |= UINT64_C(1) << ((unsigned)f & 63);
}

static inline void vnd_pkt_set_b(struct vnd_pkt *p, enum vnd_field f,
                                 const uint8_t *b, uint32_t n)
{
    p->v[f].b.p = b;
    p->v[f].b.n = n;
    p->present[(unsigned)f >> 6] |= UINT64_C(1) << ((unsigned)f & 63);
}

static inline void vnd_pkt_clear(struct vnd_pkt *p, enum vnd_field f)
{
    p->present[(unsigned)f >> 6] &= ~(UINT64_C(1) << ((unsigned)f & 63));
}

/* Decodes one captured frame of link type `linktype` (a VND_DLT_ value).
 * `caplen` bytes are readable at `data`; `len` is the length on the wire.
 * Sets the frame fields, every header field found, and the derived fields.
 * Never reads past data[caplen - 1].  Returns pkt->anomalies. */
uint32_t vnd_decode(struct vnd_pkt *pkt, int linktype, const uint8_t *data,
                    uint32_t caplen, uint32_t len, int64_t ts_ns);

/* As vnd_decode, for a copy a switch may have cut (OVS's output
 * max_len): the frame as received is all there is, so its length on the
 * wire is unknown.  The outermost IP header's total length gives it (and
 * frame.len); payload.len comes from the IP lengths as for a whole frame.
 * Without an IP header, frame.len is caplen. */
uint32_t vnd_decode_cut(struct vnd_pkt *pkt, int linktype, const uint8_t *data,
                        uint32_t caplen, int64_t ts_ns);

/* True when the decoder knows `linktype`. */
bool vnd_decode_linktype_supported(int linktype);

#endif
