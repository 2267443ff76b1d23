/* make_captures.c — writes the golden captures (tests/golden/captures/).
 *
 * Each capture holds a few hand-built packets that exercise one corner of
 * the decoders; tests/golden/MANIFEST pairs it with a parse configuration
 * and the rows it must produce.  Packets are built inside out: payload
 * first, then each header is pushed in front, so every length field is
 * known when its header is written.
 *
 *   make_captures DIR     (tests/golden/regen runs it)
 */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ROOM 4096
struct pkt {
    uint8_t buf[ROOM];
    size_t off;             /* data is buf[off .. ROOM) */
};

static void pkt_init(struct pkt *p) { memset(p, 0, sizeof *p); p->off = ROOM; }
static size_t len(const struct pkt *p) { return ROOM - p->off; }
static uint8_t *push(struct pkt *p, size_t n) { p->off -= n; return p->buf + p->off; }
static void w16(uint8_t *b, unsigned v) { b[0] = (uint8_t)(v >> 8); b[1] = (uint8_t)v; }
static void w32(uint8_t *b, uint32_t v) { w16(b, v >> 16); w16(b + 2, v & 0xffff); }

static void payload(struct pkt *p, size_t n, uint8_t seed)
{
    uint8_t *b = push(p, n);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(seed + i * 7);
}

static void raw(struct pkt *p, const void *bytes, size_t n) { memcpy(push(p, n), bytes, n); }

static void tcp(struct pkt *p, unsigned sport, unsigned dport, uint32_t seq, uint32_t ack,
                unsigned flags, unsigned win, const uint8_t *opts, size_t optlen)
{
    uint8_t *h = push(p, 20 + optlen);
    w16(h, sport); w16(h + 2, dport); w32(h + 4, seq); w32(h + 8, ack);
    h[12] = (uint8_t)(((20 + optlen) / 4) << 4);
    h[13] = (uint8_t)flags;
    w16(h + 14, win);
    memcpy(h + 20, opts, optlen);
}

static void udp(struct pkt *p, unsigned sport, unsigned dport)
{
    size_t n = len(p) + 8;
    uint8_t *h = push(p, 8);
    w16(h, sport); w16(h + 2, dport); w16(h + 4, (unsigned)n);
}

static void icmp(struct pkt *p, unsigned type, unsigned code, unsigned id, unsigned seq)
{
    uint8_t *h = push(p, 8);
    h[0] = (uint8_t)type; h[1] = (uint8_t)code; w16(h + 4, id); w16(h + 6, seq);
}

static unsigned csum(const uint8_t *b, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(b[i] << 8 | b[i + 1]);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return ~s & 0xffff;
}

/* IPv4; `frag` is the whole flags+offset word (0x4000 DF, 0x2000 MF,
 * offset in 8-byte units); `total` 0 = computed. */
static void ipv4(struct pkt *p, unsigned proto, const char *src, const char *dst,
                 unsigned id, unsigned ttl, unsigned frag, const uint8_t *opts,
                 size_t optlen, unsigned total)
{
    size_t hl = 20 + optlen;
    size_t n = total ? total : len(p) + hl;
    uint8_t *h = push(p, hl);
    h[0] = (uint8_t)(0x40 | hl / 4);
    h[1] = 0x28;                     /* DSCP 10 (AF11) */
    w16(h + 2, (unsigned)n); w16(h + 4, id); w16(h + 6, frag);
    h[8] = (uint8_t)ttl; h[9] = (uint8_t)proto;
    inet_pton(AF_INET, src, h + 12); inet_pton(AF_INET, dst, h + 16);
    memcpy(h + 20, opts, optlen);
    w16(h + 10, csum(h, hl));
}

static void ipv6(struct pkt *p, unsigned nh, const char *src, const char *dst)
{
    size_t n = len(p);
    uint8_t *h = push(p, 40);
    w32(h, 0x60000000); w16(h + 4, (unsigned)n);
    h[6] = (uint8_t)nh; h[7] = 64;
    inet_pton(AF_INET6, src, h + 8); inet_pton(AF_INET6, dst, h + 24);
}

/* An 8-byte hop-by-hop / destination options header (PadN). */
static void ip6_opts(struct pkt *p, unsigned nh)
{
    uint8_t *h = push(p, 8);
    h[0] = (uint8_t)nh; h[1] = 0; h[2] = 1; h[3] = 4;
}

static void ip6_frag(struct pkt *p, unsigned nh, unsigned offset8, int more, uint32_t id)
{
    uint8_t *h = push(p, 8);
    h[0] = (uint8_t)nh;
    w16(h + 2, offset8 << 3 | (more ? 1 : 0));
    w32(h + 4, id);
}

static void eth(struct pkt *p, unsigned type)
{
    uint8_t *h = push(p, 14);
    memcpy(h, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
    w16(h + 12, type);
}

static void vlan(struct pkt *p, unsigned tpid_next, unsigned vid)
{
    /* A tag is TCI + the EtherType that follows; the caller pushes the
     * outer EtherType (0x8100 or 0x88a8) with eth(). */
    uint8_t *h = push(p, 4);
    w16(h, vid); w16(h + 2, tpid_next);
}

static void vxlan(struct pkt *p, uint32_t vni)
{
    uint8_t *h = push(p, 8);
    h[0] = 0x08; w32(h + 4, vni << 8);
}

static void gre(struct pkt *p, unsigned proto, int with_key, uint32_t key)
{
    uint8_t *h = push(p, with_key ? 8 : 4);
    w16(h, with_key ? 0x2000 : 0); w16(h + 2, proto);
    if (with_key)
        w32(h + 4, key);
}

static void geneve(struct pkt *p, uint32_t vni)
{
    uint8_t *h = push(p, 16);        /* 8 fixed + one 8-byte option */
    h[0] = 2;                        /* opt len 2 words */
    w16(h + 2, 0x6558); w32(h + 4, vni << 8);
    w16(h + 8, 0x0102); h[10] = 0x80; h[11] = 1;   /* class, type, len 1 word */
}

struct out {
    pcap_t *dead;
    pcap_dumper_t *d;
    long long ts_ns;
};

static int open_out(struct out *o, const char *dir, const char *name, int dlt)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.pcap", dir, name);
    o->dead = pcap_open_dead_with_tstamp_precision(dlt, 65535, PCAP_TSTAMP_PRECISION_NANO);
    o->d = pcap_dump_open(o->dead, path);
    o->ts_ns = 1700000000LL * 1000000000LL + 123456789;
    if (!o->d) {
        fprintf(stderr, "%s: %s\n", path, pcap_geterr(o->dead));
        return -1;
    }
    return 0;
}

/* Writes p, keeping only `caplen` bytes when nonzero; `wirelen` overrides
 * the length on the wire when nonzero. */
static void emit_cut(struct out *o, const struct pkt *p, size_t caplen, size_t wirelen)
{
    struct pcap_pkthdr h;
    h.ts.tv_sec = o->ts_ns / 1000000000;
    h.ts.tv_usec = o->ts_ns % 1000000000;
    h.len = (bpf_u_int32)(wirelen ? wirelen : len(p));
    h.caplen = (bpf_u_int32)(caplen && caplen < len(p) ? caplen : len(p));
    pcap_dump((u_char *)o->d, &h, p->buf + p->off);
    o->ts_ns += 1000123;
}

static void emit(struct out *o, const struct pkt *p) { emit_cut(o, p, 0, 0); }

static void close_out(struct out *o)
{
    pcap_dump_close(o->d);
    pcap_close(o->dead);
}

static const uint8_t mss_sackok[] = {2, 4, 0x05, 0xb4, 4, 2, 1, 1};
static const uint8_t sack2[] = {1, 1, 5, 18, 0, 0, 0x10, 0, 0, 0, 0x20, 0,
                                0, 0, 0x30, 0, 0, 0, 0x40, 0};
static const uint8_t ipopt_rr[] = {7, 7, 4, 0, 0, 0, 0, 0};   /* record route + EOL pad */

/* A TCP segment over IPv4, the most common packet. */
static void tcp4(struct pkt *p, const char *s, const char *d, unsigned sp, unsigned dp,
                 uint32_t seq, uint32_t ack, unsigned flags, size_t pl, unsigned ipid)
{
    pkt_init(p);
    payload(p, pl, (uint8_t)seq);
    tcp(p, sp, dp, seq, ack, flags, 29200, NULL, 0);
    ipv4(p, 6, s, d, ipid, 64, 0x4000, NULL, 0, 0);
}

static int basic(const char *dir)
{
    struct out o;
    struct pkt p;
    if (open_out(&o, dir, "basic", DLT_EN10MB))
        return -1;
    /* SYN with MSS + SACK-permitted */
    pkt_init(&p); tcp(&p, 40000, 80, 1000, 0, 0x02, 64240, mss_sackok, sizeof mss_sackok);
    ipv4(&p, 6, "10.0.0.6", "10.0.0.8", 1, 64, 0x4000, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    /* data, 100 bytes */
    tcp4(&p, "10.0.0.6", "10.0.0.8", 40000, 80, 1001, 5001, 0x18, 100, 2); eth(&p, 0x0800); emit(&o, &p);
    /* ACK with two SACK blocks */
    pkt_init(&p); tcp(&p, 80, 40000, 5001, 1101, 0x10, 501, sack2, sizeof sack2);
    ipv4(&p, 6, "10.0.0.8", "10.0.0.6", 77, 63, 0x4000, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    /* sequence number near wrap-around */
    tcp4(&p, "10.0.0.6", "10.0.0.8", 40000, 80, 0xfffffff0u, 5001, 0x10, 32, 3); eth(&p, 0x0800); emit(&o, &p);
    /* UDP */
    pkt_init(&p); payload(&p, 12, 1); udp(&p, 5353, 9999);
    ipv4(&p, 17, "192.168.1.1", "192.168.1.255", 4242, 1, 0, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    /* ICMP echo with IPv4 options (record route) */
    pkt_init(&p); payload(&p, 8, 0); icmp(&p, 8, 0, 1, 1);
    ipv4(&p, 1, "10.0.0.1", "10.0.0.2", 9, 64, 0, ipopt_rr, sizeof ipopt_rr, 0); eth(&p, 0x0800); emit(&o, &p);
    /* IPv4 fragments: first (MF, carries UDP header) and second (offset 8*8 bytes) */
    pkt_init(&p); payload(&p, 56, 3); udp(&p, 1111, 2222);
    ipv4(&p, 17, "10.1.1.1", "10.2.2.2", 555, 64, 0x2000, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    pkt_init(&p); payload(&p, 40, 9);
    ipv4(&p, 17, "10.1.1.1", "10.2.2.2", 555, 64, 8, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    /* ARP request */
    pkt_init(&p);
    raw(&p, "\x00\x01\x08\x00\x06\x04\x00\x01\x02\x00\x00\x00\x00\x01\x0a\x00\x00\x06"
            "\x00\x00\x00\x00\x00\x00\x0a\x00\x00\x08", 28);
    eth(&p, 0x0806); emit(&o, &p);
    /* a bad IP checksum and an over-MTU wire length: kept as captured */
    tcp4(&p, "10.0.0.6", "10.0.0.8", 40000, 80, 2000, 5001, 0x10, 20, 4);
    p.buf[p.off + 10] ^= 0xff; eth(&p, 0x0800); emit_cut(&o, &p, 0, 9014);
    /* an unknown EtherType */
    pkt_init(&p); payload(&p, 30, 0); eth(&p, 0x88b5); emit(&o, &p);
    close_out(&o);
    return 0;
}

static int vlans(const char *dir)
{
    struct out o;
    struct pkt p;
    if (open_out(&o, dir, "vlan", DLT_EN10MB))
        return -1;
    tcp4(&p, "10.0.0.6", "10.0.0.8", 40000, 80, 1, 1, 0x10, 0, 10);
    vlan(&p, 0x0800, 7); eth(&p, 0x8100); emit(&o, &p);
    pkt_init(&p); payload(&p, 4, 0); udp(&p, 53000, 4000);
    ipv4(&p, 17, "172.16.0.1", "172.16.0.2", 11, 64, 0, NULL, 0, 0);
    vlan(&p, 0x0800, 0x2000 | 300); vlan(&p, 0x8100, 100); eth(&p, 0x88a8); emit(&o, &p);
    close_out(&o);
    return 0;
}

static int v6(const char *dir)
{
    struct out o;
    struct pkt p;
    if (open_out(&o, dir, "ipv6", DLT_EN10MB))
        return -1;
    pkt_init(&p); payload(&p, 10, 5); tcp(&p, 443, 50000, 7, 8, 0x18, 100, NULL, 0);
    ipv6(&p, 6, "2001:db8::1", "2001:db8::2"); eth(&p, 0x86dd); emit(&o, &p);
    pkt_init(&p); payload(&p, 6, 5); udp(&p, 546, 547); ip6_opts(&p, 17);
    ipv6(&p, 0, "fe80::1", "ff02::1:2"); eth(&p, 0x86dd); emit(&o, &p);
    pkt_init(&p); payload(&p, 24, 1); udp(&p, 7000, 7001); ip6_frag(&p, 17, 0, 1, 0xabcdef);
    ipv6(&p, 44, "2001:db8::a", "2001:db8::b"); eth(&p, 0x86dd); emit(&o, &p);
    pkt_init(&p); payload(&p, 16, 1); ip6_frag(&p, 17, 4, 0, 0xabcdef);
    ipv6(&p, 44, "2001:db8::a", "2001:db8::b"); eth(&p, 0x86dd); emit(&o, &p);
    pkt_init(&p); payload(&p, 4, 0); icmp(&p, 128, 0, 3, 4);
    ipv6(&p, 58, "2001:db8::1", "2001:db8::2"); eth(&p, 0x86dd); emit(&o, &p);
    close_out(&o);
    return 0;
}

static int tunnels(const char *dir)
{
    struct out o;
    struct pkt p;
    if (open_out(&o, dir, "tunnels", DLT_EN10MB))
        return -1;
    /* VXLAN on 4789: inner TCP between tenant addresses */
    tcp4(&p, "10.0.0.6", "10.0.0.8", 40000, 80, 100, 200, 0x18, 50, 21); eth(&p, 0x0800);
    vxlan(&p, 5001); udp(&p, 49152, 4789);
    ipv4(&p, 17, "192.0.2.1", "192.0.2.2", 31, 64, 0x4000, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    /* VXLAN on 8472 (Linux default) */
    pkt_init(&p); payload(&p, 20, 0); udp(&p, 1000, 2000);
    ipv4(&p, 17, "10.0.0.6", "10.0.0.9", 22, 64, 0, NULL, 0, 0); eth(&p, 0x0800);
    vxlan(&p, 42); udp(&p, 49153, 8472);
    ipv4(&p, 17, "192.0.2.1", "192.0.2.3", 32, 64, 0x4000, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    /* NVGRE: GRE with key over transparent Ethernet bridging */
    tcp4(&p, "10.0.0.6", "10.0.0.8", 40001, 80, 300, 400, 0x10, 0, 23); eth(&p, 0x0800);
    gre(&p, 0x6558, 1, (777u << 8) | 5);
    ipv4(&p, 47, "192.0.2.1", "192.0.2.4", 33, 64, 0x4000, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    /* Geneve with one option, inner ICMP */
    pkt_init(&p); payload(&p, 8, 0); icmp(&p, 0, 0, 9, 9);
    ipv4(&p, 1, "10.0.0.8", "10.0.0.6", 24, 64, 0, NULL, 0, 0); eth(&p, 0x0800);
    geneve(&p, 0x123456); udp(&p, 49154, 6081);
    ipv4(&p, 17, "192.0.2.2", "192.0.2.1", 34, 64, 0x4000, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    /* plain GRE carrying IPv4 directly, no key */
    tcp4(&p, "10.9.0.1", "10.9.0.2", 22, 50022, 9, 10, 0x18, 5, 25);
    gre(&p, 0x0800, 0, 0);
    ipv4(&p, 47, "198.51.100.1", "198.51.100.2", 35, 64, 0, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    close_out(&o);
    return 0;
}

/* One MPLS label stack entry; the caller pushes entries bottom first. */
static void mpls(struct pkt *p, uint32_t label, unsigned tc, int bos, unsigned ttl)
{
    w32(push(p, 4), label << 12 | tc << 9 | (bos ? 0x100u : 0) | (ttl & 0xff));
}

/* NSH, MD type 1 (four 4-byte context headers): 24 bytes. */
static void nsh(struct pkt *p, unsigned np, uint32_t spi, unsigned si)
{
    uint8_t *h = push(p, 24);
    w16(h, 63 << 6 | 6); h[2] = 1; h[3] = (uint8_t)np;
    w32(h + 4, spi << 8 | si);
    w32(h + 8, 0x11111111); w32(h + 12, 0x22222222);
}

/* Ethernet with chosen addresses (the outer frame of PBB, FabricPath). */
static void eth_addr(struct pkt *p, const uint8_t dst[6], const uint8_t src[6], unsigned type)
{
    uint8_t *h = push(p, 14);
    memcpy(h, dst, 6); memcpy(h + 6, src, 6);
    w16(h + 12, type);
}

/* What data-center networks carry (src/decode/mpls.c, nsh.c, pbb.c,
 * pppoe.c, fabricpath.c, the tags of ether.c, erspan.c). */
static int datacenter(const char *dir)
{
    static const uint8_t bda[6] = {0x00, 0x1e, 0xbd, 0x00, 0x00, 0x0b},
                         bsa[6] = {0x00, 0x1e, 0xbd, 0x00, 0x00, 0x0a},
                         /* FabricPath: switch id 0x123, sub-switch 4, LID 5 */
                         fpda[6] = {0x02, 0x01, 0x23, 0x04, 0x00, 0x05},
                         fpsa[6] = {0x02, 0x00, 0x42, 0x00, 0x00, 0x07};
    struct out o;
    struct pkt p;
    if (open_out(&o, dir, "dc", DLT_EN10MB))
        return -1;
    /* 1. two labels (transport 1000, VPN 16) over Ethernet, IPv4 TCP */
    tcp4(&p, "10.1.0.1", "10.1.0.2", 40100, 443, 1000, 2000, 0x18, 10, 101);
    mpls(&p, 16, 0, 1, 63); mpls(&p, 1000, 5, 0, 64); eth(&p, 0x8847); emit(&o, &p);
    /* 2. IPv6 explicit null (label 2) carrying IPv6 UDP */
    pkt_init(&p); payload(&p, 12, 1); udp(&p, 5000, 6000);
    ipv6(&p, 17, "2001:db8::1", "2001:db8::2"); mpls(&p, 2, 0, 1, 32); eth(&p, 0x8847); emit(&o, &p);
    /* 3. MPLS over UDP (RFC 7510) carrying IPv4 ICMP */
    pkt_init(&p); payload(&p, 16, 2); icmp(&p, 8, 0, 7, 1);
    ipv4(&p, 1, "10.2.0.1", "10.2.0.2", 41, 64, 0, NULL, 0, 0); mpls(&p, 300, 0, 1, 64);
    udp(&p, 49999, 6635);
    ipv4(&p, 17, "192.0.2.10", "192.0.2.11", 42, 64, 0x4000, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    /* 4. MPLS over GRE (RFC 4023) carrying IPv4 TCP */
    tcp4(&p, "10.3.0.1", "10.3.0.2", 40200, 22, 5, 6, 0x10, 0, 43);
    mpls(&p, 400, 0, 1, 64); gre(&p, 0x8847, 0, 0);
    ipv4(&p, 47, "192.0.2.12", "192.0.2.13", 44, 64, 0x4000, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    /* 5. Ethernet pseudowire: control word and a customer frame, IPv4 UDP */
    pkt_init(&p); payload(&p, 10, 3); udp(&p, 7000, 7001);
    ipv4(&p, 17, "10.4.0.1", "10.4.0.2", 45, 64, 0, NULL, 0, 0); eth(&p, 0x0800);
    w32(push(&p, 4), 0); mpls(&p, 500, 0, 1, 64); mpls(&p, 600, 0, 0, 64);
    eth(&p, 0x8847); emit(&o, &p);
    /* 6. NSH on Ethernet carrying IPv4 TCP (SPI 42, SI 255) */
    tcp4(&p, "10.5.0.1", "10.5.0.2", 40300, 80, 7, 8, 0x18, 20, 46);
    nsh(&p, 1, 42, 255); eth(&p, 0x894f); emit(&o, &p);
    /* 7. VXLAN-GPE (UDP 4790) + NSH + Ethernet + IPv4 TCP */
    tcp4(&p, "10.6.0.1", "10.6.0.2", 40400, 8080, 9, 10, 0x18, 30, 47); eth(&p, 0x0800);
    nsh(&p, 3, 0x0abcde, 254);
    { uint8_t *h = push(&p, 8); h[0] = 0x0c; h[3] = 4; w32(h + 4, 700u << 8); }
    udp(&p, 50000, 4790);
    ipv4(&p, 17, "192.0.2.14", "192.0.2.15", 48, 64, 0x4000, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    /* 8. PBB: B-TAG 100, I-TAG I-SID 0x10203, customer IPv4 UDP */
    pkt_init(&p); payload(&p, 8, 4); udp(&p, 8000, 8001);
    ipv4(&p, 17, "10.7.0.1", "10.7.0.2", 49, 64, 0, NULL, 0, 0); eth(&p, 0x0800);
    w32(push(&p, 4), 0x10203); vlan(&p, 0x88e7, 100); eth_addr(&p, bda, bsa, 0x88a8); emit(&o, &p);
    /* 9. 802.1BR E-Tag (E-CID base 0x123, GRP 1, ext 2), IPv4 TCP */
    tcp4(&p, "10.8.0.1", "10.8.0.2", 40500, 25, 11, 12, 0x10, 0, 50);
    { uint8_t *h = push(&p, 8); w16(h, 0x2000); w16(h + 2, 1u << 12 | 0x123); h[5] = 2;
      w16(h + 6, 0x0800); }
    eth(&p, 0x893f); emit(&o, &p);
    /* 10. VN-Tag (dvif 33, svif 44) then 802.1Q 10, IPv4 UDP */
    pkt_init(&p); payload(&p, 6, 5); udp(&p, 9000, 9001);
    ipv4(&p, 17, "10.9.0.1", "10.9.0.2", 51, 64, 0, NULL, 0, 0); vlan(&p, 0x0800, 10);
    { uint8_t *h = push(&p, 6); w32(h, 33u << 16 | 44); w16(h + 4, 0x8100); }
    eth(&p, 0x8926); emit(&o, &p);
    /* 11. PPPoE session 0x1234 carrying IPv4 TCP */
    tcp4(&p, "10.10.0.1", "10.10.0.2", 40600, 110, 13, 14, 0x18, 4, 52);
    { size_t n = len(&p) + 2; uint8_t *h = push(&p, 8); h[0] = 0x11; w16(h + 2, 0x1234);
      w16(h + 4, (unsigned)n); w16(h + 6, 0x0021); }
    eth(&p, 0x8864); emit(&o, &p);
    /* 12. PPPoE session carrying IPv6 UDP */
    pkt_init(&p); payload(&p, 9, 6); udp(&p, 546, 547);
    ipv6(&p, 17, "2001:db8:1::1", "2001:db8:1::2");
    { size_t n = len(&p) + 2; uint8_t *h = push(&p, 8); h[0] = 0x11; w16(h + 2, 0x4321);
      w16(h + 4, (unsigned)n); w16(h + 6, 0x0057); }
    eth(&p, 0x8864); emit(&o, &p);
    /* 13. Cisco FabricPath (switch 0x123, FTag 1, TTL 32) over IPv4 TCP */
    tcp4(&p, "10.11.0.1", "10.11.0.2", 40700, 3306, 15, 16, 0x18, 8, 53); eth(&p, 0x0800);
    w16(push(&p, 2), 1u << 6 | 32); eth_addr(&p, fpda, fpsa, 0x8903); emit(&o, &p);
    /* 14. ARP in VXLAN: no inner IP; outer.ip.* are the tunnel's */
    pkt_init(&p);
    { uint8_t *a = push(&p, 28); w16(a, 1); w16(a + 2, 0x0800); a[4] = 6; a[5] = 4; w16(a + 6, 1);
      memcpy(a + 8, "\x02\x00\x00\x00\x00\x01", 6); inet_pton(AF_INET, "10.0.0.6", a + 14);
      inet_pton(AF_INET, "10.0.0.8", a + 24); }
    eth(&p, 0x0806); vxlan(&p, 5001); udp(&p, 49155, 4789);
    ipv4(&p, 17, "192.0.2.1", "192.0.2.2", 54, 64, 0x4000, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    /* 15. ERSPAN type II (session 77) mirroring IPv4 TCP */
    tcp4(&p, "10.12.0.1", "10.12.0.2", 40800, 443, 17, 18, 0x18, 12, 55); eth(&p, 0x0800);
    { uint8_t *h = push(&p, 8); w32(h, 1u << 28 | 77); w32(h + 4, 9); }
    { uint8_t *h = push(&p, 8); w16(h, 0x1000); w16(h + 2, 0x88be); w32(h + 4, 1); }
    ipv4(&p, 47, "192.0.2.16", "192.0.2.17", 56, 64, 0x4000, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    /* 16. ERSPAN type III (session 88, FT 0, O set: platform subheader) */
    tcp4(&p, "10.13.0.1", "10.13.0.2", 40900, 443, 19, 20, 0x18, 12, 57); eth(&p, 0x0800);
    { uint8_t *h = push(&p, 20); w32(h, 2u << 28 | 88); w32(h + 4, 123456); w32(h + 8, 1);
      w32(h + 12, 3u << 26); }
    { uint8_t *h = push(&p, 8); w16(h, 0x1000); w16(h + 2, 0x22eb); w32(h + 4, 2); }
    ipv4(&p, 47, "192.0.2.18", "192.0.2.19", 58, 64, 0x4000, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    /* 17. GRE with Cisco MetaData (SGT 10) carrying IPv4 ICMP */
    pkt_init(&p); payload(&p, 8, 7); icmp(&p, 8, 0, 3, 3);
    ipv4(&p, 1, "10.14.0.1", "10.14.0.2", 59, 64, 0, NULL, 0, 0);
    { uint8_t *h = push(&p, 8); w16(h, 0x0800); h[2] = 1; h[3] = 1; w16(h + 4, 1); w16(h + 6, 10); }
    gre(&p, 0x8909, 0, 0);
    ipv4(&p, 47, "192.0.2.20", "192.0.2.21", 60, 64, 0x4000, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    close_out(&o);
    return 0;
}

static int dns(const char *dir)
{
    struct out o;
    struct pkt p;
    if (open_out(&o, dir, "dns", DLT_EN10MB))
        return -1;
    static const uint8_t q[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                               "\x03" "www" "\x07" "example" "\x03" "com" "\x00\x00\x01\x00\x01";
    pkt_init(&p); raw(&p, q, sizeof q - 1); udp(&p, 33333, 53);
    ipv4(&p, 17, "10.0.0.6", "10.0.0.53", 40, 64, 0, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    /* response, NXDOMAIN; the question name is a pointer to a name later
     * in the message (unusual but legal) */
    static const uint8_t r[] = "\x12\x34\x81\x83\x00\x01\x00\x00\x00\x00\x00\x00"
                               "\xc0\x12\x00\x1c\x00\x01"
                               "\x04" "mail" "\x07" "example" "\x03" "org" "\x00";
    pkt_init(&p); raw(&p, r, sizeof r - 1); udp(&p, 53, 33333);
    ipv4(&p, 17, "10.0.0.53", "10.0.0.6", 41, 64, 0, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    /* a compression loop: must stop, not hang */
    static const uint8_t loop[] = "\x00\x07\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01";
    pkt_init(&p); raw(&p, loop, sizeof loop - 1); udp(&p, 33334, 53);
    ipv4(&p, 17, "10.0.0.6", "10.0.0.53", 42, 64, 0, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    /* DNS over TCP: a two-byte length in front */
    pkt_init(&p); raw(&p, q, sizeof q - 1); raw(&p, "\x00\x21", 2);
    tcp(&p, 40053, 53, 1, 1, 0x18, 1000, NULL, 0);
    ipv4(&p, 6, "10.0.0.6", "10.0.0.53", 43, 64, 0x4000, NULL, 0, 0); eth(&p, 0x0800); emit(&o, &p);
    close_out(&o);
    return 0;
}

static int links(const char *dir)
{
    struct out o;
    struct pkt p;
    /* (hex escapes are split from the letters that follow them: "\x07e"
     * would be one byte) */
    /* Linux cooked v1: packet type, ARPHRD, addr len, 8 addr bytes, proto */
    if (open_out(&o, dir, "sll", DLT_LINUX_SLL))
        return -1;
    tcp4(&p, "10.0.0.6", "10.0.0.8", 40000, 80, 5, 6, 0x10, 10, 50);
    raw(&p, "\x00\x00\x00\x01\x00\x06\x02\x00\x00\x00\x00\x01\x00\x00\x08\x00", 16); emit(&o, &p);
    close_out(&o);
    /* Linux cooked v2: proto, reserved, ifindex, ARPHRD, type, addr len, addr */
    if (open_out(&o, dir, "sll2", DLT_LINUX_SLL2))
        return -1;
    tcp4(&p, "10.0.0.6", "10.0.0.8", 40000, 80, 5, 6, 0x10, 10, 51);
    raw(&p, "\x08\x00\x00\x00\x00\x00\x00\x02\x00\x01\x04\x06\x02\x00\x00\x00\x00\x01\x00\x00", 20);
    emit(&o, &p);
    close_out(&o);
    /* raw IP: v4 and v6 in one file */
    if (open_out(&o, dir, "raw", DLT_RAW))
        return -1;
    tcp4(&p, "10.0.0.6", "10.0.0.8", 40000, 80, 5, 6, 0x10, 10, 52); emit(&o, &p);
    pkt_init(&p); payload(&p, 3, 0); udp(&p, 1, 2); ipv6(&p, 17, "::1", "::2"); emit(&o, &p);
    close_out(&o);
    /* BSD loopback: a host-order AF_INET word */
    if (open_out(&o, dir, "null", DLT_NULL))
        return -1;
    tcp4(&p, "127.0.0.1", "127.0.0.1", 40000, 80, 5, 6, 0x10, 10, 53);
    uint32_t af = 2;
    raw(&p, &af, 4); emit(&o, &p);
    close_out(&o);
    return 0;
}

/* The same TCP packet cut at several snap lengths. */
static int truncated(const char *dir)
{
    struct out o;
    struct pkt p;
    if (open_out(&o, dir, "truncated", DLT_EN10MB))
        return -1;
    tcp4(&p, "10.0.0.6", "10.0.0.8", 40000, 80, 1001, 5001, 0x18, 100, 60); eth(&p, 0x0800);
    static const size_t cuts[] = {10, 14, 20, 34, 38, 46, 54, 60};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++)
        emit_cut(&o, &p, cuts[i], 0);
    close_out(&o);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_captures DIR\n");
        return 2;
    }
    const char *d = argv[1];
    return basic(d) || vlans(d) || v6(d) || tunnels(d) || dns(d) || links(d) || truncated(d)
           || datacenter(d);
}
