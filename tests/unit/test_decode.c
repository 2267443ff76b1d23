/* test_decode.c — the packet decoders on hand-built packets.
 *
 * Packets are assembled with the small builder below (headers appended in
 * order, lengths patched at the end), decoded, and read back through the
 * field registry, as a trace table would store them.
 *
 *   test_decode                   run the checks
 *   test_decode --write-seeds DIR also write every packet as a fuzz seed
 *                                 (first byte: link type index, see
 *                                 tests/fuzz/decode_links.h)
 */
#include "../tap.h"

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/decode_links.h"
#include "decode/packet.h"
#include "fields/registry.h"

/* ---- packet builder --------------------------------------------------- */

enum fixup { FIX_IPV4, FIX_IPV6, FIX_UDP, FIX_TCPDNS };

struct b {
    uint8_t buf[4096];
    uint32_t n;
    struct { enum fixup kind; uint32_t off; } fix[32];
    int nfix;
};

static void b_init(struct b *b) { memset(b, 0, sizeof *b); }
static void put8(struct b *b, uint32_t v) { b->buf[b->n++] = (uint8_t)v; }
static void put16(struct b *b, uint32_t v) { put8(b, v >> 8); put8(b, v); }
static void put24(struct b *b, uint32_t v) { put8(b, v >> 16); put16(b, v & 0xffff); }
static void put32(struct b *b, uint32_t v) { put16(b, v >> 16); put16(b, v & 0xffff); }
static void putn(struct b *b, const void *p, uint32_t n) { memcpy(b->buf + b->n, p, n); b->n += n; }
static void fix(struct b *b, enum fixup k) { b->fix[b->nfix].kind = k; b->fix[b->nfix++].off = b->n; }

static const uint8_t MAC_A[6] = {2, 0, 0, 0, 0, 1}, MAC_B[6] = {2, 0, 0, 0, 0, 2};

static void b_eth(struct b *b, const uint8_t dst[6], const uint8_t src[6], uint32_t type)
{
    putn(b, dst, 6);
    putn(b, src, 6);
    put16(b, type);
}

/* A VLAN tag after a TPID already written: TCI, then the next type. */
static void b_vlan(struct b *b, uint32_t id, uint32_t next)
{
    put16(b, 0x2000 | id);  /* PCP 1 */
    put16(b, next);
}

static void b_ipv4(struct b *b, uint32_t proto, const char *src4, const char *dst4,
                   uint32_t id, uint32_t fragword, uint32_t optlen)
{
    fix(b, FIX_IPV4);
    put8(b, 0x40 | (5 + optlen / 4));
    put8(b, 46 << 2);           /* DSCP EF */
    put16(b, 0);                /* total length: patched */
    put16(b, id);
    put16(b, fragword);
    put8(b, 64);
    put8(b, proto);
    put16(b, 0);                /* checksum: never checked */
    putn(b, src4, 4);
    putn(b, dst4, 4);
    for (uint32_t i = 0; i < optlen; i++)
        put8(b, i + 1 == optlen ? 0 : 1);   /* NOPs, then EOL */
}

static const char V4A[] = "\x0a\x00\x00\x01", V4B[] = "\x0a\x00\x00\x02";
static const char V4C[] = "\xc0\xa8\x01\x01", V4D[] = "\xc0\xa8\x01\x02";
static const char V6A[] = "\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\x01";
static const char V6B[] = "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02";

static void b_ipv6(struct b *b, uint32_t nh, const char *src, const char *dst)
{
    fix(b, FIX_IPV6);
    put32(b, 0x60000000 | (10u << 22) | 0x12345);  /* DSCP 10, a flow label */
    put16(b, 0);                /* payload length: patched */
    put8(b, nh);
    put8(b, 255);
    putn(b, src, 16);
    putn(b, dst, 16);
}

/* Hop-by-hop / routing / destination options: len8 units of 8 bytes
 * beyond the first 8. */
static void b_ip6opts(struct b *b, uint32_t nh, uint32_t len8)
{
    put8(b, nh);
    put8(b, len8);
    for (uint32_t i = 2; i < (len8 + 1) * 8; i++)
        put8(b, i == 2 ? 1 : 0);   /* PadN-ish filler */
}

static void b_ip6frag(struct b *b, uint32_t nh, uint32_t offset, int more, uint32_t id)
{
    put8(b, nh);
    put8(b, 0);
    put16(b, offset | (more ? 1 : 0));
    put32(b, id);
}

static void b_tcp(struct b *b, uint32_t sport, uint32_t dport, uint32_t seq, uint32_t ack,
                  uint32_t flags, const uint8_t *opts, uint32_t optlen)
{
    put16(b, sport);
    put16(b, dport);
    put32(b, seq);
    put32(b, ack);
    put16(b, ((5 + optlen / 4) << 12) | flags);
    put16(b, 29200);
    put16(b, 0);
    put16(b, 0);
    if (optlen)
        putn(b, opts, optlen);
}

static void b_udp(struct b *b, uint32_t sport, uint32_t dport)
{
    fix(b, FIX_UDP);
    put16(b, sport);
    put16(b, dport);
    put16(b, 0);                /* length: patched */
    put16(b, 0);
}

static void b_vxlan(struct b *b, uint32_t vni)
{
    put32(b, 0x08000000);
    put32(b, vni << 8);
}

static void b_payload(struct b *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        put8(b, 'a' + i % 26);
}

/* DNS header + one question for `name` (wire form given by the caller). */
static void b_dns(struct b *b, uint32_t id, uint32_t flags, const void *qname, uint32_t qlen,
                  uint32_t qtype)
{
    put16(b, id);
    put16(b, flags);
    put16(b, 1);
    put16(b, 0);
    put16(b, 0);
    put16(b, 0);
    putn(b, qname, qlen);
    put16(b, qtype);
    put16(b, 1);
}

/* Patches every length field to what follows it, innermost last. */
static void b_done(struct b *b)
{
    for (int i = 0; i < b->nfix; i++) {
        uint32_t o = b->fix[i].off, v;
        switch (b->fix[i].kind) {
        case FIX_IPV4: v = b->n - o; b->buf[o + 2] = (uint8_t)(v >> 8); b->buf[o + 3] = (uint8_t)v; break;
        case FIX_IPV6: v = b->n - o - 40; b->buf[o + 4] = (uint8_t)(v >> 8); b->buf[o + 5] = (uint8_t)v; break;
        case FIX_UDP: v = b->n - o; b->buf[o + 4] = (uint8_t)(v >> 8); b->buf[o + 5] = (uint8_t)v; break;
        case FIX_TCPDNS: v = b->n - o - 2; b->buf[o] = (uint8_t)(v >> 8); b->buf[o + 1] = (uint8_t)v; break;
        }
    }
}

/* ---- decode and read back --------------------------------------------- */

static struct vnd_pkt pkt;
static const char *seed_dir;
static int seed_n;

static int link_index(int linktype)
{
    for (int i = 0; i < VND_FUZZ_NLINKS; i++)
        if (vnd_fuzz_links[i] == linktype)
            return i;
    return -1;
}

static void write_seed(int linktype, const uint8_t *p, uint32_t n)
{
    int li = link_index(linktype);
    if (!seed_dir || li < 0)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/pkt%03d", seed_dir, seed_n++);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return;
    }
    fputc(li, f);
    fwrite(p, 1, n, f);
    fclose(f);
}

static uint32_t dec(int linktype, struct b *b)
{
    b_done(b);
    write_seed(linktype, b->buf, b->n);
    return vnd_decode(&pkt, linktype, b->buf, b->n, b->n, 1700000000123456789LL);
}

/* Integer field, or -1 when absent. */
static long long fu(enum vnd_field f)
{
    char buf[VND_VALUE_TEXT_MAX];
    struct vnd_value v;
    if (!vnd_field_value(&pkt, f, buf, &v))
        return -1;
    return v.i;
}

/* Text field, or "NULL" when absent. */
static const char *fs(enum vnd_field f)
{
    static char bufs[4][VND_VALUE_TEXT_MAX];
    static int k;
    char *buf = bufs[k++ % 4];
    struct vnd_value v;
    if (!vnd_field_value(&pkt, f, buf, &v))
        return "NULL";
    return v.s;
}

/* ---- the checks -------------------------------------------------------- */

static void test_eth_ipv4_tcp(void)
{
    struct b b;
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 6, V4A, V4B, 0x1234, 0x4000, 0);
    b_tcp(&b, 40000, 80, 1000, 2000, 0x18, NULL, 0);
    b_payload(&b, 100);
    CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), 0, "eth/ipv4/tcp: no anomalies");
    CHECK_EQ_INT(fu(VND_F_TIMESTAMP_NS), 1700000000123456789LL, "timestamp_ns");
    CHECK_EQ_INT(fu(VND_F_FRAME_LEN), 154, "frame.len");
    CHECK_EQ_INT(fu(VND_F_FRAME_CAPLEN), 154, "frame.caplen");
    CHECK_EQ_STR(fs(VND_F_ETH_SRC), "02:00:00:00:00:01", "eth.src");
    CHECK_EQ_STR(fs(VND_F_ETH_DST), "02:00:00:00:00:02", "eth.dst");
    CHECK_EQ_INT(fu(VND_F_ETH_TYPE), 0x0800, "eth.type");
    CHECK_EQ_INT(fu(VND_F_VLAN_ID), -1, "no vlan.id");
    CHECK_EQ_INT(fu(VND_F_IP_VERSION), 4, "ip.version");
    CHECK_EQ_STR(fs(VND_F_IP_SRC), "10.0.0.1", "ip.src");
    CHECK_EQ_STR(fs(VND_F_IP_DST), "10.0.0.2", "ip.dst");
    CHECK_EQ_INT(fu(VND_F_IP_PROTO), 6, "ip.proto");
    CHECK_EQ_INT(fu(VND_F_IP_ID), 0x1234, "ip.id");
    CHECK_EQ_INT(fu(VND_F_IP_TTL), 64, "ip.ttl");
    CHECK_EQ_INT(fu(VND_F_IP_LEN), 140, "ip.len");
    CHECK_EQ_INT(fu(VND_F_IP_DSCP), 46, "ip.dscp");
    CHECK_EQ_INT(fu(VND_F_IP_FLAGS), 2, "ip.flags DF");
    CHECK_EQ_INT(fu(VND_F_IP_FRAG), 0, "ip.frag");
    CHECK_EQ_INT(fu(VND_F_TCP_SRC), 40000, "tcp.src");
    CHECK_EQ_INT(fu(VND_F_TCP_DST), 80, "tcp.dst");
    CHECK_EQ_INT(fu(VND_F_TCP_SEQ), 1000, "tcp.seq");
    CHECK_EQ_INT(fu(VND_F_TCP_ACK), 2000, "tcp.ack");
    CHECK_EQ_INT(fu(VND_F_TCP_FLAGS), 0x18, "tcp.flags");
    CHECK_EQ_INT(fu(VND_F_TCP_ACKFLAG), 1, "tcp.ackflag");
    CHECK_EQ_INT(fu(VND_F_TCP_SYN), 0, "tcp.syn");
    CHECK_EQ_INT(fu(VND_F_TCP_FIN), 0, "tcp.fin");
    CHECK_EQ_INT(fu(VND_F_TCP_RST), 0, "tcp.rst");
    CHECK_EQ_INT(fu(VND_F_TCP_WINDOW), 29200, "tcp.window");
    CHECK_EQ_INT(fu(VND_F_TCP_SACK), -1, "no tcp.sack");
    CHECK_EQ_INT(fu(VND_F_UDP_SRC), -1, "no udp.src");
    CHECK_EQ_INT(fu(VND_F_PAYLOAD_LEN), 100, "payload.len");
    CHECK_EQ_INT(pkt.payload_caplen, 100, "payload captured");
    CHECK(pkt.payload && pkt.payload[0] == 'a', "payload points at the data");
    CHECK(fu(VND_F_PAYLOAD_HASH) != -1, "payload.hash present");
    CHECK_EQ_INT(fu(VND_F_PKT_ID), 0x1234 + (1000LL << 16), "pkt.id = ip.id + seq<<16");
    CHECK_EQ_INT(fu(VND_F_TRACE), -1, "trace left to the ingest");
    CHECK_EQ_INT(fu(VND_F_OUTER_IP_SRC), -1, "no outer fields without a tunnel");

    /* Ethernet padding: a bare ACK in a 60-byte frame has no payload. */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 6, V4A, V4B, 7, 0, 0);
    b_tcp(&b, 1, 2, 3, 4, 0x10, NULL, 0);
    b_done(&b);
    b.n = 60;
    vnd_decode(&pkt, VND_DLT_EN10MB, b.buf, b.n, b.n, 0);
    CHECK_EQ_INT(fu(VND_F_PAYLOAD_LEN), 0, "padding is not payload");

    /* Snaplen: the payload length comes from the IP header, not the capture. */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 6, V4A, V4B, 7, 0, 0);
    b_tcp(&b, 1, 2, 3, 4, 0x10, NULL, 0);
    b_payload(&b, 1400);
    b_done(&b);
    CHECK_EQ_INT(vnd_decode(&pkt, VND_DLT_EN10MB, b.buf, 96, b.n, 0), 0,
                 "snaplen cut inside the payload is not an anomaly");
    CHECK_EQ_INT(fu(VND_F_PAYLOAD_LEN), 1400, "payload.len from IP length under snaplen");
    CHECK_EQ_INT(pkt.payload_caplen, 42, "captured part of the payload");
}

static void test_reset_between_packets(void)
{
    struct b b;
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 6, V4A, V4B, 1, 0, 0);
    b_tcp(&b, 1, 2, 3, 4, 0x02, NULL, 0);
    dec(VND_DLT_EN10MB, &b);
    CHECK_EQ_INT(fu(VND_F_TCP_SYN), 1, "tcp.syn");
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0806);
    put16(&b, 1); put16(&b, 0x0800); put8(&b, 6); put8(&b, 4); put16(&b, 1);
    putn(&b, MAC_A, 6); putn(&b, V4A, 4); putn(&b, "\0\0\0\0\0\0", 6); putn(&b, V4B, 4);
    CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), 0, "arp: no anomalies");
    CHECK_EQ_INT(fu(VND_F_TCP_SYN), -1, "fields of the previous packet are gone");
    CHECK_EQ_INT(fu(VND_F_IP_SRC), -1, "no ip.src in ARP");
    CHECK_EQ_INT(fu(VND_F_PKT_ID), -1, "no pkt.id in ARP");
    CHECK_EQ_INT(fu(VND_F_ETH_TYPE), 0x0806, "eth.type ARP");
    CHECK_EQ_INT(fu(VND_F_ARP_OP), 1, "arp.op");
    CHECK_EQ_STR(fs(VND_F_ARP_SHA), "02:00:00:00:00:01", "arp.sha");
    CHECK_EQ_STR(fs(VND_F_ARP_SPA), "10.0.0.1", "arp.spa");
    CHECK_EQ_STR(fs(VND_F_ARP_THA), "00:00:00:00:00:00", "arp.tha");
    CHECK_EQ_STR(fs(VND_F_ARP_TPA), "10.0.0.2", "arp.tpa");

    /* ARP over another hardware type: only the opcode. */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0806);
    put16(&b, 6); put16(&b, 0x0800); put8(&b, 6); put8(&b, 4); put16(&b, 2);
    b_payload(&b, 20);
    dec(VND_DLT_EN10MB, &b);
    CHECK_EQ_INT(fu(VND_F_ARP_OP), 2, "arp.op for any hardware type");
    CHECK_EQ_STR(fs(VND_F_ARP_SPA), "NULL", "no arp.spa unless Ethernet/IPv4");
}

static void test_vlan(void)
{
    struct b b;
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x8100);
    b_vlan(&b, 42, 0x0800);
    b_ipv4(&b, 17, V4A, V4B, 9, 0, 0);
    b_udp(&b, 1000, 2000);
    b_payload(&b, 10);
    CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), 0, "802.1Q: no anomalies");
    CHECK_EQ_INT(fu(VND_F_VLAN_ID), 42, "802.1Q vlan.id");
    CHECK_EQ_INT(fu(VND_F_ETH_TYPE), 0x0800, "eth.type after the tag");
    CHECK_EQ_INT(fu(VND_F_UDP_DST), 2000, "udp.dst behind a tag");

    static const uint32_t tpids[] = {0x88a8, 0x9100};
    for (int i = 0; i < 2; i++) {
        b_init(&b);
        b_eth(&b, MAC_B, MAC_A, tpids[i]);
        b_vlan(&b, 100, 0x8100);
        b_vlan(&b, 200, 0x86dd);
        b_ipv6(&b, 17, V6A, V6B);
        b_udp(&b, 1000, 2000);
        b_payload(&b, 3);
        CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), 0, "QinQ 0x%04x: no anomalies", tpids[i]);
        CHECK_EQ_INT(fu(VND_F_VLAN_ID), 200, "QinQ 0x%04x: vlan.id is the inner tag", tpids[i]);
        CHECK_EQ_INT(fu(VND_F_ETH_TYPE), 0x86dd, "QinQ 0x%04x: eth.type after both tags", tpids[i]);
        CHECK_EQ_STR(fs(VND_F_IP_SRC), "fe80::1", "QinQ 0x%04x: ip.src", tpids[i]);
        CHECK_EQ_INT(fu(VND_F_PAYLOAD_LEN), 3, "QinQ 0x%04x: payload.len", tpids[i]);
    }

    /* 802.3 length + LLC/SNAP carrying IPv4. */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0);
    put24(&b, 0xaaaa03); put24(&b, 0); put16(&b, 0x0800);
    b_ipv4(&b, 1, V4A, V4B, 5, 0, 0);
    put8(&b, 8); put8(&b, 0); put16(&b, 0); put32(&b, 0x00010001);
    b_done(&b);
    b.buf[12] = (uint8_t)((b.n - 14) >> 8);
    b.buf[13] = (uint8_t)(b.n - 14);
    vnd_decode(&pkt, VND_DLT_EN10MB, b.buf, b.n, b.n, 0);
    CHECK_EQ_INT(fu(VND_F_ETH_TYPE), 0x0800, "SNAP: eth.type from the SNAP header");
    CHECK_EQ_INT(fu(VND_F_ICMP_TYPE), 8, "SNAP: icmp.type");
}

static void test_ipv4_options_and_fragments(void)
{
    struct b b;
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 17, V4A, V4B, 77, 0, 12);
    b_udp(&b, 5000, 6000);
    b_payload(&b, 33);
    CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), 0, "ipv4 options: no anomalies");
    CHECK_EQ_INT(fu(VND_F_IP_LEN), 32 + 8 + 33, "ipv4 options: ip.len");
    CHECK_EQ_INT(fu(VND_F_UDP_SRC), 5000, "ipv4 options: udp.src after 12 option bytes");
    CHECK_EQ_INT(fu(VND_F_UDP_DST), 6000, "ipv4 options: udp.dst");
    CHECK_EQ_INT(fu(VND_F_UDP_LEN), 41, "ipv4 options: udp.len");
    CHECK_EQ_INT(fu(VND_F_PAYLOAD_LEN), 33, "ipv4 options: payload.len");
    CHECK_EQ_INT(fu(VND_F_PKT_ID), 77, "pkt.id is ip.id without TCP");

    /* First fragment: L4 decoded, MF set. */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 17, V4A, V4B, 78, 0x2000, 0);
    b_udp(&b, 5000, 6000);
    b_payload(&b, 100);
    CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), 0, "first fragment: no anomalies");
    CHECK_EQ_INT(fu(VND_F_IP_FLAGS), 1, "first fragment: ip.flags MF");
    CHECK_EQ_INT(fu(VND_F_UDP_SRC), 5000, "first fragment: udp.src");

    /* Later fragment: no L4, offset in bytes. */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 6, V4A, V4B, 79, 0x2000 | 185, 0);
    b_tcp(&b, 1111, 2222, 5, 6, 0x10, NULL, 0);   /* looks like TCP, is not */
    CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), VND_PKT_FRAGMENT, "later fragment: FRAGMENT");
    CHECK_EQ_INT(fu(VND_F_IP_FRAG), 1480, "ip.frag in bytes");
    CHECK_EQ_INT(fu(VND_F_IP_FLAGS), 1, "later fragment: MF");
    CHECK_EQ_INT(fu(VND_F_IP_PROTO), 6, "later fragment: ip.proto");
    CHECK_EQ_INT(fu(VND_F_TCP_SRC), -1, "later fragment: no tcp.src");
    CHECK_EQ_INT(fu(VND_F_PAYLOAD_LEN), -1, "later fragment: no payload.len");
    CHECK_EQ_INT(fu(VND_F_PKT_ID), 79, "later fragment: pkt.id = ip.id");
}

static void test_ipv4_malformed(void)
{
    struct b b;
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 6, V4A, V4B, 1, 0, 0);
    b_tcp(&b, 1, 2, 3, 4, 0x10, NULL, 0);
    b_done(&b);
    b.buf[14] = 0x44;    /* IHL 4 */
    CHECK(vnd_decode(&pkt, VND_DLT_EN10MB, b.buf, b.n, b.n, 0) & VND_PKT_MALFORMED,
          "ihl < 5: MALFORMED");
    CHECK_EQ_STR(fs(VND_F_IP_SRC), "10.0.0.1", "ihl < 5: ip.src still set");
    CHECK_EQ_INT(fu(VND_F_TCP_SRC), -1, "ihl < 5: no L4");

    b.buf[14] = 0x45;
    b.buf[16] = 0; b.buf[17] = 12;   /* total length 12 < 20 */
    CHECK(vnd_decode(&pkt, VND_DLT_EN10MB, b.buf, b.n, b.n, 0) & VND_PKT_MALFORMED,
          "total length < header: MALFORMED");
    CHECK_EQ_INT(fu(VND_F_IP_LEN), 12, "bogus ip.len kept as written");
    CHECK_EQ_INT(fu(VND_F_TCP_DST), 2, "bogus total length: L4 still decoded");
    CHECK_EQ_INT(fu(VND_F_PAYLOAD_LEN), 0, "bogus total length: payload from the frame");

    b.buf[14] = 0x65;    /* version 6 in an IPv4 EtherType */
    CHECK(vnd_decode(&pkt, VND_DLT_EN10MB, b.buf, b.n, b.n, 0) & VND_PKT_MALFORMED,
          "wrong version: MALFORMED");
    CHECK_EQ_INT(fu(VND_F_IP_VERSION), 6, "wrong version: ip.version as written");
    CHECK_EQ_INT(fu(VND_F_IP_SRC), -1, "wrong version: nothing else");

    /* TSO: total length 0, UDP length decides. */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 17, V4A, V4B, 1, 0, 0);
    b_udp(&b, 7, 9);
    b_payload(&b, 20);
    b_done(&b);
    b.buf[16] = b.buf[17] = 0;
    b.n += 6;    /* trailing padding the UDP length excludes */
    CHECK_EQ_INT(vnd_decode(&pkt, VND_DLT_EN10MB, b.buf, b.n, b.n, 0), 0,
                 "total length 0 (TSO) is not malformed");
    CHECK_EQ_INT(fu(VND_F_PAYLOAD_LEN), 20, "TSO: payload.len from udp.len");

    /* Over-MTU lengths are kept. */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 6, V4A, V4B, 1, 0, 0);
    b_tcp(&b, 1, 2, 3, 4, 0x10, NULL, 0);
    b_payload(&b, 100);
    b_done(&b);
    CHECK_EQ_INT(vnd_decode(&pkt, VND_DLT_EN10MB, b.buf, b.n, 60000, 0), 0,
                 "a GRO-sized frame is not an anomaly");
}

static void test_ipv6(void)
{
    struct b b;
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x86dd);
    b_ipv6(&b, 0, V6A, V6B);
    b_ip6opts(&b, 43, 0);        /* hop-by-hop, 8 bytes */
    b_ip6opts(&b, 44, 1);        /* routing, 16 bytes */
    b_ip6frag(&b, 60, 0, 1, 0xdeadbeef);
    b_ip6opts(&b, 51, 0);        /* destination options */
    put8(&b, 6); put8(&b, 1); put16(&b, 0); put32(&b, 1); put32(&b, 2);  /* AH, 12 bytes */
    b_tcp(&b, 443, 50000, 0x01020304, 0, 0x12, NULL, 0);
    b_payload(&b, 10);
    CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), 0, "ipv6 chain: no anomalies");
    CHECK_EQ_INT(fu(VND_F_IP_VERSION), 6, "ipv6 ip.version");
    CHECK_EQ_STR(fs(VND_F_IP_SRC), "fe80::1", "ipv6 ip.src");
    CHECK_EQ_STR(fs(VND_F_IP_DST), "2001:db8::2", "ipv6 ip.dst");
    CHECK_EQ_INT(fu(VND_F_IP_DSCP), 10, "ipv6 ip.dscp");
    CHECK_EQ_INT(fu(VND_F_IP_TTL), 255, "ipv6 hop limit");
    CHECK_EQ_INT(fu(VND_F_IP_LEN), 40 + 8 + 16 + 8 + 8 + 12 + 20 + 10, "ipv6 ip.len");
    CHECK_EQ_INT(fu(VND_F_IP_PROTO), 6, "ipv6 ip.proto after the chain");
    CHECK_EQ_INT(fu(VND_F_IP_ID), 0xdeadbeef, "ipv6 ip.id from the fragment header");
    CHECK_EQ_INT(fu(VND_F_IP_FRAG), 0, "ipv6 first fragment offset");
    CHECK_EQ_INT(fu(VND_F_IP_FLAGS), 1, "ipv6 first fragment MF");
    CHECK_EQ_INT(fu(VND_F_TCP_SRC), 443, "ipv6 tcp.src after the chain");
    CHECK_EQ_INT(fu(VND_F_TCP_SYN), 1, "ipv6 tcp.syn");
    CHECK_EQ_INT(fu(VND_F_PAYLOAD_LEN), 10, "ipv6 payload.len minus extension headers");
    CHECK_EQ_INT(fu(VND_F_PKT_ID), 0xdeadbeefLL + (0x01020304LL << 16), "ipv6 pkt.id");

    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x86dd);
    b_ipv6(&b, 44, V6A, V6B);
    b_ip6frag(&b, 17, 1232, 0, 99);
    b_payload(&b, 30);
    CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), VND_PKT_FRAGMENT, "ipv6 later fragment: FRAGMENT");
    CHECK_EQ_INT(fu(VND_F_IP_FRAG), 1232, "ipv6 later fragment: ip.frag");
    CHECK_EQ_INT(fu(VND_F_IP_PROTO), 17, "ipv6 later fragment: ip.proto");
    CHECK_EQ_INT(fu(VND_F_UDP_SRC), -1, "ipv6 later fragment: no L4");
    CHECK_EQ_INT(fu(VND_F_PKT_ID), 99, "ipv6 later fragment: pkt.id");

    /* More extension headers than the cap. */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x86dd);
    b_ipv6(&b, 60, V6A, V6B);
    for (int i = 0; i < VND_IPV6_EXT_MAX + 1; i++)
        b_ip6opts(&b, i < VND_IPV6_EXT_MAX ? 60 : 17, 0);
    b_udp(&b, 1, 2);
    CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), VND_PKT_DEPTH_CAP, "ipv6 chain over the cap: DEPTH_CAP");
    CHECK_EQ_INT(fu(VND_F_IP_PROTO), 60, "ipv6 chain over the cap: ip.proto where it stopped");
    CHECK_EQ_INT(fu(VND_F_UDP_SRC), -1, "ipv6 chain over the cap: no L4");

    /* ICMPv6 */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x86dd);
    b_ipv6(&b, 58, V6A, V6B);
    put8(&b, 128); put8(&b, 0); put16(&b, 0); put32(&b, 0x00070001);
    b_payload(&b, 56);
    dec(VND_DLT_EN10MB, &b);
    CHECK_EQ_INT(fu(VND_F_ICMP_TYPE), 128, "icmpv6.type");
    CHECK_EQ_INT(fu(VND_F_ICMP_CODE), 0, "icmpv6.code");
    CHECK_EQ_INT(fu(VND_F_PAYLOAD_LEN), 56, "icmpv6 echo data");
}

static void test_tcp_options(void)
{
    static const uint8_t sack[] = {
        1, 1, 5, 26,
        0, 0, 0, 10, 0, 0, 0, 20,
        0, 0, 0, 30, 0, 0, 0, 40,
        0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 5,
    };
    static const uint8_t sack4[] = {
        1, 1, 5, 34,
        0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
        0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8,
        1, 1,
    };
    static const uint8_t bad[] = {2, 4, 5, 0xb4, 8, 1, 0, 0};   /* MSS, then length 1 */
    struct b b;

    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 6, V4A, V4B, 1, 0, 0);
    b_tcp(&b, 1, 2, 3, 4, 0x10, sack, sizeof sack);
    b_payload(&b, 5);
    CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), 0, "SACK: no anomalies");
    CHECK_EQ_STR(fs(VND_F_TCP_SACK), "10-20,30-40,4294967280-5", "tcp.sack blocks");
    CHECK_EQ_INT(fu(VND_F_PAYLOAD_LEN), 5, "payload after 28 option bytes");

    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 6, V4A, V4B, 1, 0, 0);
    b_tcp(&b, 1, 2, 3, 4, 0x10, sack4, sizeof sack4);
    dec(VND_DLT_EN10MB, &b);
    CHECK_EQ_STR(fs(VND_F_TCP_SACK), "1-2,3-4,5-6,7-8", "tcp.sack with four blocks");
    CHECK_EQ_INT(pkt.nsack, 4, "nsack");

    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 6, V4A, V4B, 1, 0, 0);
    b_tcp(&b, 1, 2, 3, 4, 0x10, bad, sizeof bad);
    CHECK(dec(VND_DLT_EN10MB, &b) & VND_PKT_MALFORMED, "option length 1: MALFORMED");
    CHECK_EQ_INT(fu(VND_F_TCP_SACK), -1, "option length 1: no tcp.sack");
    CHECK_EQ_INT(fu(VND_F_PAYLOAD_LEN), 0, "option length 1: header still skipped");

    /* data offset < 5 */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 6, V4A, V4B, 1, 0, 0);
    b_tcp(&b, 1, 2, 3, 4, 0x11, NULL, 0);
    b_done(&b);
    b.buf[14 + 20 + 12] = 0x30;
    CHECK(vnd_decode(&pkt, VND_DLT_EN10MB, b.buf, b.n, b.n, 0) & VND_PKT_MALFORMED,
          "tcp data offset 3: MALFORMED");
    CHECK_EQ_INT(fu(VND_F_TCP_FIN), 1, "tcp data offset 3: flags still set");
}

static const uint8_t WWW_EXAMPLE[] = "\3www\7example\3com";   /* + the final 0 */

static void test_dns(void)
{
    struct b b;

    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 17, V4A, V4B, 1, 0, 0);
    b_udp(&b, 33333, 53);
    b_dns(&b, 0xbeef, 0x0100, WWW_EXAMPLE, sizeof WWW_EXAMPLE, 28);
    CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), 0, "dns query: no anomalies");
    CHECK_EQ_INT(fu(VND_F_DNS_ID), 0xbeef, "dns.id");
    CHECK_EQ_INT(fu(VND_F_DNS_QR), 0, "dns.qr query");
    CHECK_EQ_INT(fu(VND_F_DNS_RCODE), 0, "dns.rcode");
    CHECK_EQ_STR(fs(VND_F_DNS_QNAME), "www.example.com", "dns.qname");
    CHECK_EQ_INT(fu(VND_F_DNS_QTYPE), 28, "dns.qtype");

    /* A response whose question points forward at a name later on
     * ("www" + pointer to "example.com" at offset 40). */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 17, V4A, V4B, 1, 0, 0);
    b_udp(&b, 53, 33333);
    b_dns(&b, 7, 0x8183, "\3www\xc0\x28", 6, 1);
    while (b.n < 14 + 20 + 8 + 40)
        put8(&b, 0);
    putn(&b, "\7example\3com", 13);
    CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), 0, "dns pointer: no anomalies");
    CHECK_EQ_INT(fu(VND_F_DNS_QR), 1, "dns.qr response");
    CHECK_EQ_INT(fu(VND_F_DNS_RCODE), 3, "dns.rcode NXDOMAIN");
    CHECK_EQ_STR(fs(VND_F_DNS_QNAME), "www.example.com", "dns.qname through a pointer");
    CHECK_EQ_INT(fu(VND_F_DNS_QTYPE), 1, "dns.qtype right after the pointer");

    /* A pointer to itself. */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 17, V4A, V4B, 1, 0, 0);
    b_udp(&b, 53, 33333);
    b_dns(&b, 8, 0x8180, "\1a\xc0\x0c", 4, 1);
    CHECK(dec(VND_DLT_EN10MB, &b) & VND_PKT_MALFORMED, "dns pointer loop: MALFORMED");
    CHECK_EQ_STR(fs(VND_F_DNS_QNAME), "NULL", "dns pointer loop: no qname");
    CHECK_EQ_INT(fu(VND_F_DNS_ID), 8, "dns pointer loop: header fields kept");

    /* Root, and a non-printable byte. */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 17, V4A, V4B, 1, 0, 0);
    b_udp(&b, 33333, 53);
    b_dns(&b, 9, 0, "", 1, 2);
    dec(VND_DLT_EN10MB, &b);
    CHECK_EQ_STR(fs(VND_F_DNS_QNAME), "<Root>", "dns root name");
    CHECK_EQ_INT(fu(VND_F_DNS_QTYPE), 2, "dns qtype after the root");
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 17, V4A, V4B, 1, 0, 0);
    b_udp(&b, 33333, 53);
    b_dns(&b, 9, 0, "\2a\xff\0", 4, 16);
    dec(VND_DLT_EN10MB, &b);
    CHECK_EQ_STR(fs(VND_F_DNS_QNAME), "a?", "dns non-printable byte");

    /* DNS over TCP, with its length prefix. */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 6, V4A, V4B, 1, 0, 0);
    b_tcp(&b, 40000, 53, 1, 1, 0x18, NULL, 0);
    fix(&b, FIX_TCPDNS);
    put16(&b, 0);
    b_dns(&b, 0x4242, 0x0100, WWW_EXAMPLE, sizeof WWW_EXAMPLE, 15);
    CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), 0, "dns over tcp: no anomalies");
    CHECK_EQ_INT(fu(VND_F_DNS_ID), 0x4242, "dns over tcp: dns.id");
    CHECK_EQ_STR(fs(VND_F_DNS_QNAME), "www.example.com", "dns over tcp: qname");
    CHECK_EQ_INT(fu(VND_F_DNS_QTYPE), 15, "dns over tcp: qtype");
}

/* Ethernet / IPv4 / UDP dport / VXLAN vni / Ethernet / IPv4 / TCP + 20 bytes. */
static void build_vxlan_tcp(struct b *b, uint32_t dport)
{
    b_init(b);
    b_eth(b, MAC_B, MAC_A, 0x0800);
    b_ipv4(b, 17, V4C, V4D, 0x1111, 0, 0);
    b_udp(b, 49152, dport);
    b_vxlan(b, 5001);
    static const uint8_t ia[6] = {2, 0, 0, 0, 0, 0xa}, ib[6] = {2, 0, 0, 0, 0, 0xb};
    b_eth(b, ib, ia, 0x0800);
    b_ipv4(b, 6, V4A, V4B, 0x2222, 0x4000, 0);
    b_tcp(b, 5555, 80, 123456, 654321, 0x18, NULL, 0);
    b_payload(b, 20);
}

static void test_vxlan(void)
{
    static const uint32_t ports[] = {4789, 8472};
    struct b b;
    for (int i = 0; i < 2; i++) {
        build_vxlan_tcp(&b, ports[i]);
        CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), 0, "vxlan %u: no anomalies", ports[i]);
        CHECK_EQ_INT(fu(VND_F_VXLAN_VNI), 5001, "vxlan %u: vni", ports[i]);
        CHECK_EQ_STR(fs(VND_F_OUTER_IP_SRC), "192.168.1.1", "vxlan %u: outer.ip.src", ports[i]);
        CHECK_EQ_STR(fs(VND_F_OUTER_IP_DST), "192.168.1.2", "vxlan %u: outer.ip.dst", ports[i]);
        CHECK_EQ_INT(fu(VND_F_OUTER_IP_PROTO), 17, "vxlan %u: outer.ip.proto", ports[i]);
        CHECK_EQ_INT(fu(VND_F_OUTER_UDP_SRC), 49152, "vxlan %u: outer.udp.src", ports[i]);
        CHECK_EQ_INT(fu(VND_F_OUTER_UDP_DST), ports[i], "vxlan %u: outer.udp.dst", ports[i]);
        CHECK_EQ_STR(fs(VND_F_OUTER_ETH_SRC), "02:00:00:00:00:01", "vxlan %u: outer.eth.src", ports[i]);
        CHECK_EQ_STR(fs(VND_F_OUTER_ETH_DST), "02:00:00:00:00:02", "vxlan %u: outer.eth.dst", ports[i]);
        CHECK_EQ_STR(fs(VND_F_ETH_SRC), "02:00:00:00:00:0a", "vxlan %u: inner eth.src", ports[i]);
        CHECK_EQ_STR(fs(VND_F_IP_SRC), "10.0.0.1", "vxlan %u: inner ip.src", ports[i]);
        CHECK_EQ_INT(fu(VND_F_IP_ID), 0x2222, "vxlan %u: inner ip.id", ports[i]);
        CHECK_EQ_INT(fu(VND_F_IP_PROTO), 6, "vxlan %u: inner ip.proto", ports[i]);
        CHECK_EQ_INT(fu(VND_F_UDP_SRC), -1, "vxlan %u: outer udp is not innermost", ports[i]);
        CHECK_EQ_INT(fu(VND_F_UDP_LEN), -1, "vxlan %u: no udp.len", ports[i]);
        CHECK_EQ_INT(fu(VND_F_TCP_SEQ), 123456, "vxlan %u: inner tcp.seq", ports[i]);
        CHECK_EQ_INT(fu(VND_F_PAYLOAD_LEN), 20, "vxlan %u: inner payload.len", ports[i]);
        CHECK_EQ_INT(fu(VND_F_PKT_ID), 0x2222 + (123456LL << 16), "vxlan %u: inner pkt.id", ports[i]);
    }
    /* Other ports are plain UDP. */
    build_vxlan_tcp(&b, 4790);
    dec(VND_DLT_EN10MB, &b);
    CHECK_EQ_INT(fu(VND_F_VXLAN_VNI), -1, "udp 4790 is not vxlan");
    CHECK_EQ_INT(fu(VND_F_UDP_DST), 4790, "udp 4790 stays innermost");
    CHECK_EQ_INT(fu(VND_F_PAYLOAD_LEN), 8 + 14 + 20 + 20 + 20, "udp 4790 payload.len");
}

static void test_gre_geneve_ipip(void)
{
    static const uint8_t ia[6] = {2, 0, 0, 0, 0, 0xa}, ib[6] = {2, 0, 0, 0, 0, 0xb};
    struct b b;

    /* NVGRE: K bit, protocol 0x6558, key = VSID << 8 | FlowID. */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 47, V4C, V4D, 1, 0, 0);
    put16(&b, 0x2000); put16(&b, 0x6558); put32(&b, (0x123456u << 8) | 0x7f);
    b_eth(&b, ib, ia, 0x0800);
    b_ipv4(&b, 17, V4A, V4B, 2, 0, 0);
    b_udp(&b, 1, 2);
    b_payload(&b, 9);
    CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), 0, "nvgre: no anomalies");
    CHECK_EQ_INT(fu(VND_F_GRE_KEY), (0x123456LL << 8) | 0x7f, "nvgre gre.key");
    CHECK_EQ_STR(fs(VND_F_OUTER_IP_SRC), "192.168.1.1", "nvgre outer.ip.src");
    CHECK_EQ_INT(fu(VND_F_OUTER_IP_PROTO), 47, "nvgre outer.ip.proto");
    CHECK_EQ_INT(fu(VND_F_OUTER_UDP_SRC), -1, "nvgre: no outer udp");
    CHECK_EQ_STR(fs(VND_F_ETH_DST), "02:00:00:00:00:0b", "nvgre inner eth.dst");
    CHECK_EQ_STR(fs(VND_F_IP_DST), "10.0.0.2", "nvgre inner ip.dst");
    CHECK_EQ_INT(fu(VND_F_PAYLOAD_LEN), 9, "nvgre inner payload.len");

    /* GRE with checksum and sequence number, carrying IPv6 directly. */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 47, V4C, V4D, 1, 0, 0);
    put16(&b, 0x9000); put16(&b, 0x86dd); put32(&b, 0); put32(&b, 77);
    b_ipv6(&b, 6, V6A, V6B);
    b_tcp(&b, 22, 60000, 1, 2, 0x10, NULL, 0);
    CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), 0, "gre/ipv6: no anomalies");
    CHECK_EQ_INT(fu(VND_F_GRE_KEY), -1, "gre without K: no key");
    CHECK_EQ_STR(fs(VND_F_IP_SRC), "fe80::1", "gre/ipv6 inner ip.src");
    CHECK_EQ_STR(fs(VND_F_ETH_SRC), "NULL", "gre/ipv6: no inner Ethernet");
    CHECK_EQ_STR(fs(VND_F_OUTER_ETH_SRC), "02:00:00:00:00:01", "gre/ipv6 outer.eth.src");
    CHECK_EQ_INT(fu(VND_F_TCP_SRC), 22, "gre/ipv6 tcp.src");

    /* GRE with key carrying IPv4. */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 47, V4C, V4D, 1, 0, 0);
    put16(&b, 0x2000); put16(&b, 0x0800); put32(&b, 1000);
    b_ipv4(&b, 1, V4A, V4B, 3, 0, 0);
    put8(&b, 0); put8(&b, 0); put16(&b, 0); put32(&b, 0);
    dec(VND_DLT_EN10MB, &b);
    CHECK_EQ_INT(fu(VND_F_GRE_KEY), 1000, "gre/ipv4 key");
    CHECK_EQ_INT(fu(VND_F_ICMP_TYPE), 0, "gre/ipv4 inner icmp.type");
    CHECK_EQ_INT(fu(VND_F_PKT_ID), 3, "gre/ipv4 pkt.id from the inner ip.id");

    /* Geneve with 8 bytes of options. */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x86dd);
    b_ipv6(&b, 17, V6B, V6A);
    b_udp(&b, 12345, 6081);
    put8(&b, 2); put8(&b, 0); put16(&b, 0x6558); put32(&b, 0xabcdef00);
    put16(&b, 0x0104); put8(&b, 0x80); put8(&b, 1); put32(&b, 0x11223344);
    b_eth(&b, ib, ia, 0x0800);
    b_ipv4(&b, 17, V4A, V4B, 4, 0, 0);
    b_udp(&b, 53, 1053);
    b_dns(&b, 5, 0x8000, "\1x\0", 3, 1);
    CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), 0, "geneve: no anomalies");
    CHECK_EQ_INT(fu(VND_F_GENEVE_VNI), 0xabcdef, "geneve.vni");
    CHECK_EQ_STR(fs(VND_F_OUTER_IP_SRC), "2001:db8::2", "geneve outer.ip.src (v6)");
    CHECK_EQ_INT(fu(VND_F_OUTER_UDP_DST), 6081, "geneve outer.udp.dst");
    CHECK_EQ_INT(fu(VND_F_UDP_SRC), 53, "geneve inner udp.src after the options");
    CHECK_EQ_STR(fs(VND_F_DNS_QNAME), "x", "geneve inner dns.qname");

    /* ERSPAN type II (GRE 0x88be with a sequence number, 8-byte header)
     * and type III (0x22eb, 12 bytes + 8 with O set). */
    for (int type = 2; type <= 3; type++) {
        b_init(&b);
        b_eth(&b, MAC_B, MAC_A, 0x0800);
        b_ipv4(&b, 47, V4C, V4D, 1, 0, 0);
        put16(&b, 0x1000); put16(&b, type == 2 ? 0x88be : 0x22eb); put32(&b, 5);
        if (type == 2) { put32(&b, 0x10000001); put32(&b, 0); }
        else { put32(&b, 0x20000001); put32(&b, 0); put32(&b, 1); put32(&b, 0); put32(&b, 0); }
        b_eth(&b, ib, ia, 0x8100);
        b_vlan(&b, 30, 0x0800);
        b_ipv4(&b, 6, V4A, V4B, 2, 0, 0);
        b_tcp(&b, 80, 1024, 1, 2, 0x10, NULL, 0);
        CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), 0, "erspan %d: no anomalies", type);
        CHECK_EQ_INT(fu(VND_F_VLAN_ID), 30, "erspan %d: mirrored frame's vlan.id", type);
        CHECK_EQ_INT(fu(VND_F_TCP_SRC), 80, "erspan %d: mirrored tcp.src", type);
        CHECK_EQ_STR(fs(VND_F_OUTER_IP_DST), "192.168.1.2", "erspan %d: outer.ip.dst", type);
    }

    /* IPv4 in IPv4. */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 4, V4C, V4D, 1, 0, 0);
    b_ipv4(&b, 17, V4A, V4B, 2, 0, 0);
    b_udp(&b, 3, 4);
    dec(VND_DLT_EN10MB, &b);
    CHECK_EQ_STR(fs(VND_F_OUTER_IP_SRC), "192.168.1.1", "ipip outer.ip.src");
    CHECK_EQ_STR(fs(VND_F_IP_SRC), "10.0.0.1", "ipip inner ip.src");
    CHECK_EQ_INT(fu(VND_F_UDP_DST), 4, "ipip inner udp.dst");
}

static void test_nested_tunnels(void)
{
    struct b b;
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    /* VND_TUNNEL_DEPTH_MAX + 2 VXLAN layers, each with its own addresses
     * and VNI, then TCP. */
    for (int i = 0; i < VND_TUNNEL_DEPTH_MAX + 2; i++) {
        char src[4] = {10, 1, (char)i, 1}, dst[4] = {10, 1, (char)i, 2};
        b_ipv4(&b, 17, src, dst, (uint32_t)i, 0, 0);
        b_udp(&b, 1000 + (uint32_t)i, 4789);
        b_vxlan(&b, 100 + (uint32_t)i);
        b_eth(&b, MAC_B, MAC_A, 0x0800);
    }
    b_ipv4(&b, 6, V4A, V4B, 99, 0, 0);
    b_tcp(&b, 1, 2, 3, 4, 0x10, NULL, 0);
    CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), VND_PKT_DEPTH_CAP, "nested tunnels: DEPTH_CAP");
    CHECK_EQ_STR(fs(VND_F_OUTER_IP_SRC), "10.1.0.1", "nested: outer is the outermost");
    CHECK_EQ_INT(fu(VND_F_OUTER_UDP_SRC), 1000, "nested: outer.udp.src outermost");
    CHECK_EQ_INT(fu(VND_F_VXLAN_VNI), 100 + VND_TUNNEL_DEPTH_MAX - 1, "nested: vni of the last tunnel entered");
    char want[32];
    snprintf(want, sizeof want, "10.1.%d.1", VND_TUNNEL_DEPTH_MAX);
    CHECK_EQ_STR(fs(VND_F_IP_SRC), want, "nested: innermost decoded ip.src");
    CHECK_EQ_INT(fu(VND_F_UDP_DST), 4789, "nested: the carrier that was not entered stays");
    CHECK_EQ_INT(fu(VND_F_TCP_SRC), -1, "nested: nothing past the cap");

    /* Exactly at the cap: everything decoded. */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    for (int i = 0; i < VND_TUNNEL_DEPTH_MAX; i++) {
        char src[4] = {10, 1, (char)i, 1}, dst[4] = {10, 1, (char)i, 2};
        b_ipv4(&b, 17, src, dst, (uint32_t)i, 0, 0);
        b_udp(&b, 1000 + (uint32_t)i, i % 2 ? 8472 : 4789);
        b_vxlan(&b, 100 + (uint32_t)i);
        b_eth(&b, MAC_B, MAC_A, 0x0800);
    }
    b_ipv4(&b, 6, V4A, V4B, 99, 0, 0);
    b_tcp(&b, 1, 2, 3, 4, 0x10, NULL, 0);
    CHECK_EQ_INT(dec(VND_DLT_EN10MB, &b), 0, "tunnels up to the cap: no anomalies");
    CHECK_EQ_INT(fu(VND_F_TCP_SRC), 1, "tunnels up to the cap: inner tcp");
    CHECK_EQ_STR(fs(VND_F_OUTER_IP_SRC), "10.1.0.1", "tunnels up to the cap: outermost");
}

static void test_link_types(void)
{
    struct b b;
    uint8_t ipv4_pkt[64], ipv6_pkt[128];
    uint32_t n4, n6;

    b_init(&b);
    b_ipv4(&b, 17, V4A, V4B, 1, 0, 0);
    b_udp(&b, 10, 20);
    b_done(&b);
    memcpy(ipv4_pkt, b.buf, b.n);
    n4 = b.n;
    b_init(&b);
    b_ipv6(&b, 17, V6A, V6B);
    b_udp(&b, 10, 20);
    b_done(&b);
    memcpy(ipv6_pkt, b.buf, b.n);
    n6 = b.n;

    static const int raw[] = {VND_DLT_RAW, VND_DLT_RAW_BSD, VND_LINKTYPE_RAW};
    for (int i = 0; i < 3; i++) {
        b_init(&b); putn(&b, ipv4_pkt, n4);
        CHECK_EQ_INT(dec(raw[i], &b), 0, "raw %d v4: no anomalies", raw[i]);
        CHECK_EQ_STR(fs(VND_F_IP_SRC), "10.0.0.1", "raw %d v4 ip.src", raw[i]);
        CHECK_EQ_INT(fu(VND_F_ETH_TYPE), -1, "raw %d: no eth.type", raw[i]);
        b_init(&b); putn(&b, ipv6_pkt, n6);
        dec(raw[i], &b);
        CHECK_EQ_STR(fs(VND_F_IP_SRC), "fe80::1", "raw %d v6 ip.src", raw[i]);
        CHECK(vnd_decode_linktype_supported(raw[i]), "raw %d supported", raw[i]);
    }
    b_init(&b); putn(&b, ipv4_pkt, n4);
    dec(VND_LINKTYPE_IPV4, &b);
    CHECK_EQ_INT(fu(VND_F_UDP_DST), 20, "LINKTYPE_IPV4");
    b_init(&b); putn(&b, ipv6_pkt, n6);
    dec(VND_LINKTYPE_IPV6, &b);
    CHECK_EQ_INT(fu(VND_F_UDP_DST), 20, "LINKTYPE_IPV6");
    b_init(&b); putn(&b, ipv6_pkt, n6);
    CHECK(dec(VND_LINKTYPE_IPV4, &b) & VND_PKT_MALFORMED, "IPv6 bytes as LINKTYPE_IPV4: MALFORMED");

    /* DLT_NULL: either byte order; DLT_LOOP: network order. */
    static const struct { uint32_t af; bool v6; } afs[] = {{2, 0}, {24, 1}, {28, 1}, {30, 1}};
    for (int i = 0; i < 4; i++) {
        for (int be = 0; be < 2; be++) {
            b_init(&b);
            if (be) put32(&b, afs[i].af);
            else { put8(&b, afs[i].af); put8(&b, 0); put16(&b, 0); }
            if (afs[i].v6) putn(&b, ipv6_pkt, n6); else putn(&b, ipv4_pkt, n4);
            dec(VND_DLT_NULL, &b);
            CHECK_EQ_INT(fu(VND_F_IP_VERSION), afs[i].v6 ? 6 : 4, "DLT_NULL AF %u %s", afs[i].af,
                         be ? "big-endian" : "little-endian");
            CHECK_EQ_INT(fu(VND_F_UDP_SRC), 10, "DLT_NULL AF %u %s udp.src", afs[i].af,
                         be ? "big-endian" : "little-endian");
        }
        b_init(&b);
        put32(&b, afs[i].af);
        if (afs[i].v6) putn(&b, ipv6_pkt, n6); else putn(&b, ipv4_pkt, n4);
        dec(VND_DLT_LOOP, &b);
        CHECK_EQ_INT(fu(VND_F_IP_VERSION), afs[i].v6 ? 6 : 4, "DLT_LOOP AF %u", afs[i].af);
    }
    b_init(&b);
    put32(&b, 17);   /* AF_LINK or so: not IP */
    putn(&b, ipv4_pkt, n4);
    CHECK_EQ_INT(dec(VND_DLT_NULL, &b), 0, "DLT_NULL unknown AF: no anomaly");
    CHECK_EQ_INT(fu(VND_F_IP_VERSION), -1, "DLT_NULL unknown AF: nothing decoded");

    /* Linux cooked v1 and v2. */
    b_init(&b);
    put16(&b, 0); put16(&b, 1); put16(&b, 6); putn(&b, MAC_A, 6); put16(&b, 0);
    put16(&b, 0x0800);
    putn(&b, ipv4_pkt, n4);
    CHECK_EQ_INT(dec(VND_DLT_LINUX_SLL, &b), 0, "SLL: no anomalies");
    CHECK_EQ_INT(fu(VND_F_ETH_TYPE), 0x0800, "SLL eth.type");
    CHECK_EQ_INT(fu(VND_F_UDP_DST), 20, "SLL udp.dst");
    CHECK_EQ_STR(fs(VND_F_ETH_SRC), "NULL", "SLL: no eth.src");
    b_init(&b);
    put16(&b, 4); put16(&b, 1); put16(&b, 6); putn(&b, MAC_A, 6); put16(&b, 0);
    put16(&b, 0x8100);
    b_vlan(&b, 7, 0x86dd);
    putn(&b, ipv6_pkt, n6);
    dec(VND_DLT_LINUX_SLL, &b);
    CHECK_EQ_INT(fu(VND_F_VLAN_ID), 7, "SLL with a VLAN tag");
    CHECK_EQ_STR(fs(VND_F_IP_DST), "2001:db8::2", "SLL vlan ipv6 ip.dst");
    b_init(&b);
    put16(&b, 0x86dd); put16(&b, 0); put32(&b, 3); put16(&b, 1); put8(&b, 4); put8(&b, 6);
    putn(&b, MAC_A, 6); put16(&b, 0);
    putn(&b, ipv6_pkt, n6);
    CHECK_EQ_INT(dec(VND_DLT_LINUX_SLL2, &b), 0, "SLL2: no anomalies");
    CHECK_EQ_INT(fu(VND_F_ETH_TYPE), 0x86dd, "SLL2 eth.type");
    CHECK_EQ_INT(fu(VND_F_UDP_SRC), 10, "SLL2 udp.src");

    /* Unknown link type: frame fields only. */
    b_init(&b); putn(&b, ipv4_pkt, n4);
    CHECK_EQ_INT(dec(147, &b), VND_PKT_UNKNOWN_LINK, "unknown link: UNKNOWN_LINK");
    CHECK_EQ_INT(fu(VND_F_FRAME_LEN), n4, "unknown link: frame.len");
    CHECK_EQ_INT(fu(VND_F_IP_SRC), -1, "unknown link: nothing else");
    CHECK(!vnd_decode_linktype_supported(147), "147 unsupported");
    CHECK(vnd_decode_linktype_supported(VND_DLT_EN10MB), "EN10MB supported");
    CHECK(vnd_decode_linktype_supported(VND_DLT_LINUX_SLL2), "SLL2 supported");
}

/* Same stored value for field fa of a and fb of b. */
static bool same_value(const struct vnd_pkt *a, enum vnd_field fa, const struct vnd_pkt *b,
                       enum vnd_field fb)
{
    char ba[VND_VALUE_TEXT_MAX], bb[VND_VALUE_TEXT_MAX];
    struct vnd_value va, vb;
    int ha = vnd_field_value(a, fa, ba, &va), hb = vnd_field_value(b, fb, bb, &vb);
    if (ha != hb || va.type != vb.type)
        return false;
    if (!ha)
        return true;
    if (va.type == VND_SQL_TEXT)
        return va.slen == vb.slen && memcmp(va.s, vb.s, va.slen) == 0;
    return va.type == VND_SQL_INTEGER ? va.i == vb.i : va.d == vb.d;
}

/* Cuts the VXLAN+TCP packet at every length: never a read past the cut
 * (the sanitizer build checks), TRUNCATED exactly when a header is cut,
 * and every field whose bytes all precede the cut present with its full
 * value. */
static void test_truncation_everywhere(void)
{
    struct b b;
    build_vxlan_tcp(&b, 4789);
    b_done(&b);

    const uint32_t vx = 42, hdr_end = 104;   /* VXLAN header, end of the TCP header */
    /* Fields and the offset where their last byte ends; `pre` fields are
     * read before the tunnel is entered (the tunnel needs all 8 VXLAN
     * bytes), after which they move to outer.*. */
    static const struct { enum vnd_field f, moved_to; uint32_t end; bool inner; } fl[] = {
        {VND_F_ETH_DST, VND_F_OUTER_ETH_DST, 6, false},
        {VND_F_ETH_SRC, VND_F_OUTER_ETH_SRC, 12, false},
        {VND_F_IP_PROTO, VND_F_OUTER_IP_PROTO, 14 + 10, false},
        {VND_F_IP_SRC, VND_F_OUTER_IP_SRC, 14 + 16, false},
        {VND_F_IP_DST, VND_F_OUTER_IP_DST, 14 + 20, false},
        {VND_F_UDP_SRC, VND_F_OUTER_UDP_SRC, 34 + 2, false},
        {VND_F_UDP_DST, VND_F_OUTER_UDP_DST, 34 + 4, false},
        {VND_F_VXLAN_VNI, VND_F_VXLAN_VNI, 42 + 8, true},
        {VND_F_ETH_SRC, 0, 50 + 12, true},
        {VND_F_ETH_TYPE, 0, 50 + 14, true},
        {VND_F_IP_LEN, 0, 64 + 4, true},
        {VND_F_IP_SRC, 0, 64 + 16, true},
        {VND_F_IP_DST, 0, 64 + 20, true},
        {VND_F_TCP_SRC, 0, 84 + 2, true},
        {VND_F_TCP_SEQ, 0, 84 + 8, true},
        {VND_F_TCP_ACK, 0, 84 + 12, true},
        {VND_F_TCP_FLAGS, 0, 84 + 14, true},
        {VND_F_PAYLOAD_LEN, 0, 84 + 16, true},   /* set before the options */
        {VND_F_TCP_WINDOW, 0, 84 + 16, true},
    };

    struct vnd_pkt full;
    vnd_decode(&full, VND_DLT_EN10MB, b.buf, b.n, b.n, 1);
    int bad = 0;
    for (uint32_t cut = 0; cut <= b.n; cut++) {
        /* an exact-size copy, so the sanitizer sees any over-read */
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, b.buf, cut);
        uint32_t an = vnd_decode(&pkt, VND_DLT_EN10MB, copy, cut, b.n, 1);
        bool want_trunc = cut < hdr_end;
        if (!!(an & VND_PKT_TRUNCATED) != want_trunc || (an & ~(uint32_t)VND_PKT_TRUNCATED)) {
            printf("# cut %u: anomalies 0x%x\n", cut, an);
            bad++;
        }
        bool entered = cut >= vx + 8;
        for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) {
            if (fl[i].inner && !entered)
                continue;               /* the outer header's own value */
            enum vnd_field f = fl[i].inner || !entered ? fl[i].f : fl[i].moved_to;
            /* in the full decode, pre-tunnel values sit in outer.* */
            enum vnd_field in_full = fl[i].inner ? fl[i].f : fl[i].moved_to;
            bool present = vnd_pkt_has(&pkt, f);
            if (present != (cut >= fl[i].end)) {
                printf("# cut %u: %s present=%d\n", cut, vnd_field_info(f)->name, present);
                bad++;
            } else if (present && !same_value(&pkt, f, &full, in_full)) {
                printf("# cut %u: %s has another value\n", cut, vnd_field_info(f)->name);
                bad++;
            }
        }
        if (cut >= hdr_end && pkt.payload_caplen != cut - hdr_end) {
            printf("# cut %u: payload_caplen %u\n", cut, pkt.payload_caplen);
            bad++;
        }
        free(copy);
    }
    CHECK_EQ_INT(bad, 0, "truncation at each of %u offsets: fields before the cut, TRUNCATED "
                 "exactly when a header is cut", b.n + 1);
}

/* The golden data-center capture (one packet per encapsulation of
 * mpls.c, nsh.c, pbb.c, pppoe.c, fabricpath.c, the tags of ether.c,
 * erspan.c), each packet cut at every byte: nothing is read past the cut
 * (exact-size copies under the sanitizer build), no anomaly but
 * TRUNCATED, the uncut packet clean, and each new field, once present,
 * with its full value. */
static void test_datacenter_truncation(void)
{
    static const enum vnd_field dc[] = {
        VND_F_MPLS_LABEL, VND_F_MPLS_BOTTOM_LABEL, VND_F_MPLS_DEPTH, VND_F_NSH_SPI,
        VND_F_NSH_SI, VND_F_PBB_ISID, VND_F_ETAG_ECID, VND_F_VNTAG_DVIF, VND_F_VNTAG_SVIF,
        VND_F_PPPOE_SESSION, VND_F_FP_SWID, VND_F_FP_FTAG, VND_F_ERSPAN_VERSION,
        VND_F_ERSPAN_SESSION,
    };
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline("tests/golden/captures/dc.pcap", err);
    if (!pc) {
        printf("ok - # SKIP dc.pcap: %s\n", err);
        return;
    }
    struct pcap_pkthdr *h;
    const uint8_t *data;
    int n = 0, bad = 0, cuts = 0;
    struct vnd_pkt full;
    while (pcap_next_ex(pc, &h, &data) == 1) {
        n++;
        if (vnd_decode(&full, VND_DLT_EN10MB, data, h->caplen, h->len, 1) != 0) {
            printf("# packet %d: anomalies uncut\n", n);
            bad++;
        }
        for (uint32_t cut = 0; cut <= h->caplen; cut++, cuts++) {
            uint8_t *copy = malloc(cut ? cut : 1);
            memcpy(copy, data, cut);
            uint32_t an = vnd_decode(&pkt, VND_DLT_EN10MB, copy, cut, h->len, 1);
            if (an & ~(uint32_t)VND_PKT_TRUNCATED) {
                printf("# packet %d cut %u: anomalies 0x%x\n", n, cut, an);
                bad++;
            }
            for (size_t i = 0; i < sizeof dc / sizeof dc[0]; i++)
                if (vnd_pkt_has(&pkt, dc[i]) && !same_value(&pkt, dc[i], &full, dc[i])) {
                    printf("# packet %d cut %u: %s\n", n, cut, vnd_field_info(dc[i])->name);
                    bad++;
                }
            if (cut == h->caplen && memcmp(pkt.present, full.present, sizeof pkt.present)) {
                printf("# packet %d: uncut decode differs\n", n);
                bad++;
            }
            free(copy);
        }
    }
    pcap_close(pc);
    CHECK(n >= 17, "dc.pcap has its %d packets", n);
    CHECK_EQ_INT(bad, 0, "data-center encapsulations cut at each of %d offsets", cuts);
}

/* A copy the switch cut (OVS output max_len): the wire length and the
 * payload's come from the IP headers, not the cut frame. */
static void test_cut_in_switch(void)
{
    struct b b;
    static const uint8_t ts_opt[12] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 6, V4A, V4B, 7, 0x4000, 0);
    b_tcp(&b, 40000, 5201, 1000, 2000, 0x10, ts_opt, 12);
    b_payload(&b, 1448);
    b_done(&b);
    uint32_t a = vnd_decode_cut(&pkt, VND_DLT_EN10MB, b.buf, 128, 1700000000LL);
    CHECK(a == 0, "IPv4/TCP cut to 128 bytes: no anomaly (%u)", a);
    CHECK_EQ_INT(fu(VND_F_PAYLOAD_LEN), 1448, "payload.len from the IP length, not the cut");
    CHECK_EQ_INT(fu(VND_F_FRAME_LEN), 1514, "frame.len: Ethernet + the IP total length");
    CHECK_EQ_INT(fu(VND_F_FRAME_CAPLEN), 128, "frame.caplen: what arrived");
    CHECK_EQ_INT(fu(VND_F_IP_LEN), 1500, "ip.len");
    vnd_decode(&pkt, VND_DLT_EN10MB, b.buf, 128, 128, 1700000000LL);
    CHECK_EQ_INT(fu(VND_F_PAYLOAD_LEN), 62,
                 "the same bytes taken for a whole 128-byte frame: only what is there");
    /* IPv6 behind a VLAN tag */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x8100);
    b_vlan(&b, 101, 0x86dd);
    b_ipv6(&b, 6, V6A, V6B);
    b_tcp(&b, 40000, 5201, 1000, 2000, 0x10, NULL, 0);
    b_payload(&b, 1000);
    b_done(&b);
    vnd_decode_cut(&pkt, VND_DLT_EN10MB, b.buf, 100, 1700000000LL);
    CHECK(fu(VND_F_PAYLOAD_LEN) == 1000 && fu(VND_F_FRAME_LEN) == 18 + 40 + 20 + 1000,
          "IPv6 in a VLAN, cut to 100: payload.len 1000, frame.len 1078 (%lld, %lld)",
          fu(VND_F_PAYLOAD_LEN), fu(VND_F_FRAME_LEN));
    /* a short frame, whole: its padding stays in frame.len */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 6, V4A, V4B, 7, 0x4000, 0);
    b_tcp(&b, 40000, 5201, 1000, 2000, 0x10, NULL, 0);
    b_done(&b);
    memset(b.buf + b.n, 0, 6);
    vnd_decode_cut(&pkt, VND_DLT_EN10MB, b.buf, 60, 1700000000LL);
    CHECK(fu(VND_F_PAYLOAD_LEN) == 0 && fu(VND_F_FRAME_LEN) == 60,
          "a padded 60-byte ACK: payload 0, frame.len 60 (%lld, %lld)",
          fu(VND_F_PAYLOAD_LEN), fu(VND_F_FRAME_LEN));
    /* an IP length that cannot be (0, as a segmentation offload leaves it):
     * the bytes held */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0800);
    b_ipv4(&b, 6, V4A, V4B, 7, 0x4000, 0);
    b_tcp(&b, 40000, 5201, 1000, 2000, 0x10, NULL, 0);
    b_payload(&b, 500);
    b.buf[16] = b.buf[17] = 0;
    vnd_decode_cut(&pkt, VND_DLT_EN10MB, b.buf, 128, 1700000000LL);
    CHECK(fu(VND_F_PAYLOAD_LEN) == 128 - 54 && fu(VND_F_FRAME_LEN) == 128,
          "IP total length 0: payload and frame from the bytes held (%lld, %lld)",
          fu(VND_F_PAYLOAD_LEN), fu(VND_F_FRAME_LEN));
    /* no IP at all */
    b_init(&b);
    b_eth(&b, MAC_B, MAC_A, 0x0806);
    b_payload(&b, 28);
    vnd_decode_cut(&pkt, VND_DLT_EN10MB, b.buf, b.n, 1700000000LL);
    CHECK_EQ_INT(fu(VND_F_FRAME_LEN), 42, "ARP: frame.len is what arrived");
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
        seed_dir = argv[2];
    test_eth_ipv4_tcp();
    test_datacenter_truncation();
    test_reset_between_packets();
    test_vlan();
    test_ipv4_options_and_fragments();
    test_ipv4_malformed();
    test_ipv6();
    test_tcp_options();
    test_dns();
    test_vxlan();
    test_gre_geneve_ipip();
    test_nested_tunnels();
    test_link_types();
    test_truncation_everywhere();
    test_cut_in_switch();
    return tap_done();
}
