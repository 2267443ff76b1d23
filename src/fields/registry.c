/* registry.c — field names, aliases, types, and value formatting. */
#include "fields/registry.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define F(id, name, aliases, type, doc) [id] = {id, name, aliases, type, doc}

static const struct vnd_field_info fields[VND_F_COUNT] = {
    F(VND_F_TIMESTAMP, "timestamp", "frame.time_epoch", VND_FT_REAL,
      "capture time, seconds since the epoch (REAL)"),
    F(VND_F_TIMESTAMP_NS, "timestamp_ns", NULL, VND_FT_UINT,
      "capture time, nanoseconds since the epoch"),
    F(VND_F_FRAME_LEN, "frame.len", NULL, VND_FT_UINT, "bytes on the wire"),
    F(VND_F_FRAME_CAPLEN, "frame.caplen", "frame.cap_len", VND_FT_UINT,
      "bytes captured"),
    F(VND_F_TRACE, "trace", NULL, VND_FT_STR, "trace id the packet belongs to"),
    F(VND_F_ETH_SRC, "eth.src", NULL, VND_FT_MAC, "Ethernet source"),
    F(VND_F_ETH_DST, "eth.dst", NULL, VND_FT_MAC, "Ethernet destination"),
    F(VND_F_ETH_TYPE, "eth.type", NULL, VND_FT_UINT,
      "EtherType after any VLAN tags"),
    F(VND_F_VLAN_ID, "vlan.id", NULL, VND_FT_UINT, "innermost 802.1Q VLAN id"),
    F(VND_F_ARP_OP, "arp.op", "arp.opcode", VND_FT_UINT, "ARP opcode"),
    F(VND_F_ARP_SHA, "arp.sha", "arp.src.hw_mac", VND_FT_MAC,
      "ARP sender hardware address"),
    F(VND_F_ARP_SPA, "arp.spa", "arp.src.proto_ipv4", VND_FT_IP,
      "ARP sender protocol address"),
    F(VND_F_ARP_THA, "arp.tha", "arp.dst.hw_mac", VND_FT_MAC,
      "ARP target hardware address"),
    F(VND_F_ARP_TPA, "arp.tpa", "arp.dst.proto_ipv4", VND_FT_IP,
      "ARP target protocol address"),
    F(VND_F_IP_VERSION, "ip.version", NULL, VND_FT_UINT, "4 or 6"),
    F(VND_F_IP_SRC, "ip.src", "ipv6.src", VND_FT_IP, "IP source"),
    F(VND_F_IP_DST, "ip.dst", "ipv6.dst", VND_FT_IP, "IP destination"),
    F(VND_F_IP_PROTO, "ip.proto", "ipv6.nxt", VND_FT_UINT,
      "transport protocol (after IPv6 extension headers)"),
    F(VND_F_IP_ID, "ip.id", NULL, VND_FT_UINT,
      "IPv4 identification (IPv6: fragment header id)"),
    F(VND_F_IP_TTL, "ip.ttl", "ipv6.hlim", VND_FT_UINT, "TTL / hop limit"),
    F(VND_F_IP_LEN, "ip.len", NULL, VND_FT_UINT,
      "IP total length (IPv6: 40 + payload length)"),
    F(VND_F_IP_DSCP, "ip.dscp", "ip.dsfield.dscp", VND_FT_UINT, "DSCP"),
    F(VND_F_IP_FLAGS, "ip.flags", NULL, VND_FT_UINT,
      "IPv4 flags (0x2 DF, 0x1 MF)"),
    F(VND_F_IP_FRAG, "ip.frag", "ip.frag_offset", VND_FT_UINT,
      "fragment offset in bytes"),
    F(VND_F_TCP_SRC, "tcp.src", "tcp.srcport", VND_FT_UINT, "TCP source port"),
    F(VND_F_TCP_DST, "tcp.dst", "tcp.dstport", VND_FT_UINT,
      "TCP destination port"),
    F(VND_F_TCP_SEQ, "tcp.seq", "tcp.seq_raw", VND_FT_UINT,
      "TCP sequence number (absolute)"),
    F(VND_F_TCP_ACK, "tcp.ack", "tcp.ack_raw", VND_FT_UINT,
      "TCP acknowledgement number (absolute)"),
    F(VND_F_TCP_FLAGS, "tcp.flags", NULL, VND_FT_UINT, "TCP flags byte"),
    F(VND_F_TCP_SYN, "tcp.syn", "tcp.flags.syn", VND_FT_UINT, "SYN flag"),
    F(VND_F_TCP_FIN, "tcp.fin", "tcp.flags.fin", VND_FT_UINT, "FIN flag"),
    F(VND_F_TCP_RST, "tcp.rst", "tcp.flags.reset", VND_FT_UINT, "RST flag"),
    F(VND_F_TCP_ACKFLAG, "tcp.ackflag", "tcp.flags.ack", VND_FT_UINT,
      "ACK flag"),
    F(VND_F_TCP_WINDOW, "tcp.window", "tcp.window_size_value", VND_FT_UINT,
      "TCP window (unscaled)"),
    F(VND_F_TCP_SACK, "tcp.sack", "tcp.options.sack", VND_FT_SACK,
      "SACK blocks as left-right pairs"),
    F(VND_F_UDP_SRC, "udp.src", "udp.srcport", VND_FT_UINT, "UDP source port"),
    F(VND_F_UDP_DST, "udp.dst", "udp.dstport", VND_FT_UINT,
      "UDP destination port"),
    F(VND_F_UDP_LEN, "udp.len", "udp.length", VND_FT_UINT, "UDP length"),
    F(VND_F_ICMP_TYPE, "icmp.type", "icmpv6.type", VND_FT_UINT,
      "ICMP or ICMPv6 type"),
    F(VND_F_ICMP_CODE, "icmp.code", "icmpv6.code", VND_FT_UINT,
      "ICMP or ICMPv6 code"),
    F(VND_F_DNS_ID, "dns.id", NULL, VND_FT_UINT, "DNS transaction id"),
    F(VND_F_DNS_QR, "dns.qr", "dns.flags.response", VND_FT_UINT,
      "1 for a response"),
    F(VND_F_DNS_QNAME, "dns.qname", "dns.qry.name", VND_FT_STR,
      "first question's name"),
    F(VND_F_DNS_QTYPE, "dns.qtype", "dns.qry.type", VND_FT_UINT,
      "first question's type"),
    F(VND_F_DNS_RCODE, "dns.rcode", "dns.flags.rcode", VND_FT_UINT,
      "response code"),
    F(VND_F_VXLAN_VNI, "vxlan.vni", NULL, VND_FT_UINT, "VXLAN network id"),
    F(VND_F_GRE_KEY, "gre.key", NULL, VND_FT_UINT, "GRE key (NVGRE: VSID<<8|flow id)"),
    F(VND_F_GENEVE_VNI, "geneve.vni", NULL, VND_FT_UINT, "Geneve network id"),
    F(VND_F_MPLS_LABEL, "mpls.label", NULL, VND_FT_UINT,
      "top (outermost) MPLS label of the stack"),
    F(VND_F_MPLS_TC, "mpls.tc", "mpls.exp", VND_FT_UINT,
      "traffic class (EXP) of the top label"),
    F(VND_F_MPLS_TTL, "mpls.ttl", NULL, VND_FT_UINT, "TTL of the top label"),
    F(VND_F_MPLS_BOTTOM_LABEL, "mpls.bottom_label", NULL, VND_FT_UINT,
      "bottom-of-stack MPLS label (the VPN / service label)"),
    F(VND_F_MPLS_DEPTH, "mpls.depth", NULL, VND_FT_UINT,
      "MPLS label stack entries"),
    F(VND_F_NSH_SPI, "nsh.spi", NULL, VND_FT_UINT,
      "NSH service path identifier"),
    F(VND_F_NSH_SI, "nsh.si", NULL, VND_FT_UINT, "NSH service index"),
    F(VND_F_NSH_NP, "nsh.np", "nsh.nextproto", VND_FT_UINT,
      "NSH next protocol (1 IPv4, 2 IPv6, 3 Ethernet, 5 MPLS)"),
    F(VND_F_PBB_ISID, "pbb.isid", "ieee8021ah.isid", VND_FT_UINT,
      "802.1ah (PBB) backbone service instance id"),
    F(VND_F_ETAG_ECID, "etag.ecid", NULL, VND_FT_UINT,
      "802.1BR E-Tag E-CID (GRP << 12 | base, plus ext << 14)"),
    F(VND_F_VNTAG_DVIF, "vntag.dvif", "vntag.dst", VND_FT_UINT,
      "VN-Tag destination virtual interface"),
    F(VND_F_VNTAG_SVIF, "vntag.svif", "vntag.src", VND_FT_UINT,
      "VN-Tag source virtual interface"),
    F(VND_F_PPPOE_SESSION, "pppoe.session", "pppoe.session_id", VND_FT_UINT,
      "PPPoE session id"),
    F(VND_F_FP_SWID, "fabricpath.swid", "cfp.swid", VND_FT_UINT,
      "Cisco FabricPath destination switch id"),
    F(VND_F_FP_FTAG, "fabricpath.ftag", "cfp.ftag", VND_FT_UINT,
      "Cisco FabricPath forwarding tag"),
    F(VND_F_ERSPAN_VERSION, "erspan.version", NULL, VND_FT_UINT,
      "ERSPAN header version (0 type I, 1 type II, 2 type III)"),
    F(VND_F_ERSPAN_SESSION, "erspan.session", "erspan.spanid", VND_FT_UINT,
      "ERSPAN session id"),
    F(VND_F_OUTER_ETH_SRC, "outer.eth.src", NULL, VND_FT_MAC,
      "outermost Ethernet source of a tunnelled packet"),
    F(VND_F_OUTER_ETH_DST, "outer.eth.dst", NULL, VND_FT_MAC,
      "outermost Ethernet destination"),
    F(VND_F_OUTER_IP_SRC, "outer.ip.src", NULL, VND_FT_IP,
      "outermost IP source (tunnel endpoint)"),
    F(VND_F_OUTER_IP_DST, "outer.ip.dst", NULL, VND_FT_IP,
      "outermost IP destination (tunnel endpoint)"),
    F(VND_F_OUTER_IP_PROTO, "outer.ip.proto", NULL, VND_FT_UINT,
      "outermost IP protocol"),
    F(VND_F_OUTER_UDP_SRC, "outer.udp.src", NULL, VND_FT_UINT,
      "outermost UDP source port"),
    F(VND_F_OUTER_UDP_DST, "outer.udp.dst", NULL, VND_FT_UINT,
      "outermost UDP destination port"),
    F(VND_F_PAYLOAD_LEN, "payload.len", NULL, VND_FT_UINT,
      "L4 payload bytes (from the headers' lengths, not the capture)"),
    F(VND_F_PAYLOAD_HASH, "payload.hash", NULL, VND_FT_UINT,
      "64-bit hash of the captured L4 payload"),
    F(VND_F_PKT_ID, "pkt.id", NULL, VND_FT_UINT,
      "packet ID: ip.id + (tcp.seq << 16), the paper's fingerprint"),
    F(VND_F_FLOW_START, "flow.start", "cflow.timestart", VND_FT_REAL,
      "flow record: first packet's time, seconds since the epoch (REAL)"),
    F(VND_F_FLOW_END, "flow.end", "cflow.timeend", VND_FT_REAL,
      "flow record: last packet's time, seconds since the epoch (REAL)"),
    F(VND_F_FLOW_PACKETS, "flow.packets", "cflow.packets", VND_FT_UINT,
      "flow record: packets (the exporter's estimate when it samples)"),
    F(VND_F_FLOW_BYTES, "flow.bytes", "cflow.octets", VND_FT_UINT,
      "flow record: IP bytes (octetDeltaCount)"),
    F(VND_F_FLOW_BYTES_SQ, "flow.bytes_sq", "cflow.delta_octets_squared", VND_FT_UINT,
      "flow record: sum of the IP packets' squared lengths (octetDeltaSumOfSquares; "
      "its 95% interval when the switch samples)"),
    F(VND_F_FLOW_L2_BYTES, "flow.l2_bytes", NULL, VND_FT_UINT,
      "flow record: Ethernet bytes (layer2OctetDeltaCount, what OVS's rule counters count)"),
    F(VND_F_FLOW_END_REASON, "flow.end_reason", NULL, VND_FT_UINT,
      "flow record: 1 idle, 2 active timeout, 3 end detected, 4 forced, 5 no resources"),
    F(VND_F_FLOW_IN_IF, "flow.in_if", "cflow.inputint", VND_FT_UINT,
      "flow record: ingressInterface (the port's ifIndex)"),
    F(VND_F_FLOW_OUT_IF, "flow.out_if", "cflow.outputint", VND_FT_UINT,
      "flow record: egressInterface (the port's ifIndex)"),
    F(VND_F_FLOW_OBS_POINT, "flow.obs_point", NULL, VND_FT_UINT,
      "flow record: observationPointId (OVS: the sample action's obs_point_id)"),
};

const struct vnd_field_info *vnd_field_info(enum vnd_field f)
{
    return (unsigned)f < VND_F_COUNT ? &fields[f] : NULL;
}

/* True when `word` (len bytes) equals one of the space-separated names. */
static int name_in_list(const char *list, const char *word, size_t len)
{
    const char *p = list;
    while (p && *p) {
        const char *end = strchr(p, ' ');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncasecmp(p, word, len) == 0)
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

const struct vnd_field_info *vnd_field_lookup(const char *name, size_t len)
{
    for (int i = 0; i < VND_F_COUNT; i++) {
        const struct vnd_field_info *fi = &fields[i];
        if ((strlen(fi->name) == len && strncasecmp(fi->name, name, len) == 0)
            || (fi->aliases && name_in_list(fi->aliases, name, len)))
            return fi;
    }
    return NULL;
}

enum vnd_sql_type vnd_field_sql_type(enum vnd_field f)
{
    switch (fields[f].type) {
    case VND_FT_UINT: return VND_SQL_INTEGER;
    case VND_FT_REAL: return VND_SQL_REAL;
    default: return VND_SQL_TEXT;
    }
}

bool vnd_field_needs_payload(enum vnd_field f)
{
    switch (f) {
    case VND_F_PAYLOAD_HASH:
    case VND_F_DNS_ID: case VND_F_DNS_QR: case VND_F_DNS_QNAME: case VND_F_DNS_QTYPE:
    case VND_F_DNS_RCODE:
        return true;
    default:
        return false;
    }
}

const char *vnd_sql_type_name(enum vnd_sql_type t)
{
    return t == VND_SQL_INTEGER ? "INTEGER" : t == VND_SQL_REAL ? "REAL"
           : t == VND_SQL_BLOB ? "BLOB" : t == VND_SQL_NULL ? "NULL" : "TEXT";
}

bool vnd_value_eq(const struct vnd_value *a, const struct vnd_value *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case VND_SQL_INTEGER: return a->i == b->i;
    case VND_SQL_REAL: return !memcmp(&a->d, &b->d, sizeof a->d);
    case VND_SQL_TEXT:
    case VND_SQL_BLOB:
    case VND_SQL_ADDR: return a->slen == b->slen && (!a->slen || !memcmp(a->s, b->s, a->slen));
    default: return true;
    }
}

size_t vnd_format_mac(const uint8_t m[6], char buf[18])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 6; i++) {
        buf[i * 3] = hex[m[i] >> 4];
        buf[i * 3 + 1] = hex[m[i] & 15];
        buf[i * 3 + 2] = i < 5 ? ':' : '\0';
    }
    return 17;
}

/* Dotted quad without snprintf: this runs for every stored address. */
static size_t format_ipv4(const uint8_t *a, char *buf)
{
    char *o = buf;
    for (int i = 0; i < 4; i++) {
        unsigned v = a[i];
        if (v >= 100) { *o++ = (char)('0' + v / 100); v %= 100; *o++ = (char)('0' + v / 10); }
        else if (v >= 10) *o++ = (char)('0' + v / 10);
        *o++ = (char)('0' + v % 10);
        if (i < 3) *o++ = '.';
    }
    *o = '\0';
    return (size_t)(o - buf);
}

size_t vnd_format_ip(const uint8_t *addr, uint32_t n, char buf[46])
{
    if (n == 4)
        return format_ipv4(addr, buf);
    if (n == 16 && inet_ntop(AF_INET6, addr, buf, 46))
        return strlen(buf);
    buf[0] = '\0';
    return 0;
}

size_t vnd_format_addr(const struct vnd_value *v, char buf[46])
{
    return vnd_format_ip((const uint8_t *)v->s, (uint32_t)v->slen, buf);
}

uint64_t vnd_payload_hash(const uint8_t *p, size_t n)
{
    /* 64-bit multiply-xorshift over 8-byte words; the tail is folded in
     * byte by byte.  Good spread, a few cycles per word. */
    const uint64_t m = UINT64_C(0x9e3779b97f4a7c15);
    uint64_t h = UINT64_C(0xcbf29ce484222325) ^ (n * m);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h ^= w * m;
        h = (h << 31 | h >> 33) * UINT64_C(0xbf58476d1ce4e5b9);
    }
    for (; i < n; i++)
        h = (h ^ p[i]) * UINT64_C(0x100000001b3);
    h ^= h >> 29;
    h *= UINT64_C(0x94d049bb133111eb);
    h ^= h >> 32;
    return h;
}

int vnd_field_value(const struct vnd_pkt *pkt, enum vnd_field f, char *buf,
                    struct vnd_value *out)
{
    if (f == VND_F_TIMESTAMP) {
        if (!vnd_pkt_has(pkt, VND_F_TIMESTAMP_NS))
            return 0;
        out->type = VND_SQL_REAL;
        out->d = (double)(int64_t)pkt->v[VND_F_TIMESTAMP_NS].u / 1e9;
        return 1;
    }
    if (f == VND_F_FLOW_START || f == VND_F_FLOW_END) {
        if (!vnd_pkt_has(pkt, f))
            return 0;
        out->type = VND_SQL_REAL;
        out->d = (double)(int64_t)pkt->v[f].u / 1e9;
        return 1;
    }
    if (f == VND_F_PAYLOAD_HASH) {
        if (!pkt->payload || !vnd_pkt_has(pkt, VND_F_PAYLOAD_LEN))
            return 0;
        out->type = VND_SQL_INTEGER;
        out->i = (int64_t)vnd_payload_hash(pkt->payload, pkt->payload_caplen);
        return 1;
    }
    if (!vnd_pkt_has(pkt, f))
        return 0;

    const union vnd_pkt_val *v = &pkt->v[f];
    switch (fields[f].type) {
    case VND_FT_UINT:
        out->type = VND_SQL_INTEGER;
        out->i = (int64_t)v->u;
        return 1;
    case VND_FT_REAL:
        out->type = VND_SQL_REAL;
        out->d = (double)v->u;
        return 1;
    case VND_FT_MAC:
        if (v->b.n != 6)
            return 0;
        out->type = VND_SQL_TEXT;
        out->slen = vnd_format_mac(v->b.p, buf);
        out->s = buf;
        return 1;
    case VND_FT_IP:
        out->type = VND_SQL_TEXT;
        out->slen = vnd_format_ip(v->b.p, v->b.n, buf);
        out->s = buf;
        return out->slen > 0;
    case VND_FT_STR: {
        size_t n = v->b.n < VND_VALUE_TEXT_MAX - 1 ? v->b.n : VND_VALUE_TEXT_MAX - 1;
        memcpy(buf, v->b.p, n);
        buf[n] = '\0';
        out->type = VND_SQL_TEXT;
        out->s = buf;
        out->slen = n;
        return 1;
    }
    case VND_FT_SACK: {
        size_t o = 0;
        for (unsigned i = 0; i < pkt->nsack && i < VND_SACK_MAX; i++)
            o += (size_t)snprintf(buf + o, VND_VALUE_TEXT_MAX - o, "%s%u-%u",
                                  i ? "," : "", pkt->sack[2 * i],
                                  pkt->sack[2 * i + 1]);
        out->type = VND_SQL_TEXT;
        out->s = buf;
        out->slen = o;
        return 1;
    }
    }
    return 0;
}
