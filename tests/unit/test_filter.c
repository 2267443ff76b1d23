/* test_filter.c — the filter language: values, operators, sets, prefixes,
 * precedence, absent fields, every error message, and the SQL form (run
 * against SQLite and compared row by row with vnd_filter_match). */
#include "../tap.h"

#include <arpa/inet.h>
#include <sqlite3.h>

#include "fields/registry.h"
#include "lang/filter.h"
#include "lang/sqlfuncs.h"

static uint8_t mac1[6] = {0x02, 0, 0, 0, 0, 0x01}, mac2[6] = {0x02, 0, 0, 0, 0, 0x02};
static uint8_t v4a[4], v4b[4], v4c[4], v6a[16], v6b[16];
static const char *qname = "www.example.com";
static const char *trace1 = "tr_1";
static const uint8_t payload[] = "GET / HTTP/1.1\r\n";

static struct vnd_pkt tcp4, udp6, arp, bare;

static void setup(void)
{
    inet_pton(AF_INET, "10.0.0.6", v4a);
    inet_pton(AF_INET, "10.0.0.8", v4b);
    inet_pton(AF_INET, "10.0.0.1", v4c);
    inet_pton(AF_INET6, "fe80::1", v6a);
    inet_pton(AF_INET6, "2001:db8::5", v6b);

    struct vnd_pkt *p = &tcp4;
    vnd_pkt_set_u(p, VND_F_TIMESTAMP_NS, UINT64_C(1370000000500000000));
    vnd_pkt_set_b(p, VND_F_TRACE, (const uint8_t *)trace1, 4);
    vnd_pkt_set_b(p, VND_F_ETH_SRC, mac1, 6);
    vnd_pkt_set_b(p, VND_F_ETH_DST, mac2, 6);
    vnd_pkt_set_u(p, VND_F_ETH_TYPE, 0x800);
    vnd_pkt_set_u(p, VND_F_IP_VERSION, 4);
    vnd_pkt_set_b(p, VND_F_IP_SRC, v4a, 4);
    vnd_pkt_set_b(p, VND_F_IP_DST, v4b, 4);
    vnd_pkt_set_u(p, VND_F_IP_PROTO, 6);
    vnd_pkt_set_u(p, VND_F_IP_TTL, 64);
    vnd_pkt_set_u(p, VND_F_TCP_SRC, 34567);
    vnd_pkt_set_u(p, VND_F_TCP_DST, 80);
    vnd_pkt_set_u(p, VND_F_TCP_SEQ, 1000);
    vnd_pkt_set_u(p, VND_F_TCP_FLAGS, 0x18);
    vnd_pkt_set_u(p, VND_F_PAYLOAD_LEN, sizeof payload - 1);
    p->payload = payload;
    p->payload_caplen = sizeof payload - 1;

    p = &udp6;
    vnd_pkt_set_u(p, VND_F_TIMESTAMP_NS, UINT64_C(1370000001000000000));
    vnd_pkt_set_b(p, VND_F_TRACE, (const uint8_t *)"tr_2", 4);
    vnd_pkt_set_u(p, VND_F_ETH_TYPE, 0x86dd);
    vnd_pkt_set_u(p, VND_F_IP_VERSION, 6);
    vnd_pkt_set_b(p, VND_F_IP_SRC, v6a, 16);
    vnd_pkt_set_b(p, VND_F_IP_DST, v6b, 16);
    vnd_pkt_set_u(p, VND_F_IP_PROTO, 17);
    vnd_pkt_set_u(p, VND_F_UDP_SRC, 53);
    vnd_pkt_set_u(p, VND_F_UDP_DST, 5353);
    vnd_pkt_set_b(p, VND_F_DNS_QNAME, (const uint8_t *)qname, (uint32_t)strlen(qname));

    p = &arp;
    vnd_pkt_set_u(p, VND_F_TIMESTAMP_NS, UINT64_C(1370000002000000000));
    vnd_pkt_set_b(p, VND_F_ETH_SRC, mac2, 6);
    vnd_pkt_set_u(p, VND_F_ETH_TYPE, 0x806);
    vnd_pkt_set_u(p, VND_F_ARP_OP, 1);
    vnd_pkt_set_b(p, VND_F_ARP_SPA, v4c, 4);
    /* `bare` has no fields at all */
}

/* 1 match, 0 no match, -1 did not compile (message printed). */
static int match(const char *text, const struct vnd_pkt *p)
{
    char *err = NULL;
    struct vnd_filter *f = vnd_filter_compile(text, "t", 1, 1, &err);
    if (!f) {
        printf("# %s: %s\n", text, err);
        free(err);
        return -1;
    }
    int r = vnd_filter_match(f, p);
    vnd_filter_free(f);
    return r;
}

/* test names on one line */
static const char *oneline(const char *text)
{
    static char buf[200];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *p = buf; *p; p++)
        if (*p == '\n')
            *p = '|';
    return buf;
}

#define T(text, pkt) CHECK_EQ_INT(match(text, &pkt), 1, "%s matches %s", oneline(text), #pkt)
#define F(text, pkt) CHECK_EQ_INT(match(text, &pkt), 0, "%s does not match %s", oneline(text), #pkt)

static void error_is(const char *text, int line, int col, const char *want)
{
    char *err = NULL;
    struct vnd_filter *f = vnd_filter_compile(text, "t", line, col, &err);
    CHECK(f == NULL, "'%s' is refused", oneline(text));
    CHECK_EQ_STR(err, want, "error for '%s'", oneline(text));
    vnd_filter_free(f);
    free(err);
}

static void operators(void)
{
    T("tcp.dst = 80", tcp4);
    T("tcp.dst == 80", tcp4);
    T("tcp.dst = 0x50", tcp4);
    F("tcp.dst = 81", tcp4);
    T("tcp.dst != 81", tcp4);
    F("tcp.dst != 80", tcp4);
    T("tcp.dst < 81", tcp4);
    F("tcp.dst < 80", tcp4);
    T("tcp.dst <= 80", tcp4);
    F("tcp.dst <= 79", tcp4);
    T("tcp.dst > 79", tcp4);
    F("tcp.dst > 80", tcp4);
    T("tcp.dst >= 80", tcp4);
    F("tcp.dst >= 81", tcp4);
    T("tcp.srcport = 34567", tcp4);            /* Wireshark alias */
    T("TCP.DST = 80", tcp4);                   /* names are case-insensitive */
    T("tcp.seq = 1000 and tcp.flags = 0x18", tcp4);

    T("tcp.dst in {22, 80, 443}", tcp4);
    F("tcp.dst in {22, 443}", tcp4);
    T("tcp.dst in {80}", tcp4);

    T("ip.proto = tcp", tcp4);
    T("ip.proto = TCP", tcp4);
    F("ip.proto = udp", tcp4);
    T("ip.proto in {tcp, udp}", udp6);
    T("ip.proto = 17", udp6);
    T("eth.type = ipv4", tcp4);
    T("eth.type = ip", tcp4);
    T("eth.type = ipv6", udp6);
    T("eth.type = arp", arp);
    T("eth.type in {arp, vlan}", arp);

    T("tcp", tcp4);
    F("udp", tcp4);
    T("udp", udp6);
    T("ip", tcp4);
    F("ipv6", tcp4);
    T("ipv6", udp6);
    T("arp", arp);
    F("icmp", tcp4);
    F("icmpv6", udp6);
    T("tcp and ip", tcp4);

    T("timestamp > 1370000000.4", tcp4);
    T("timestamp < 1370000000.6", tcp4);
    T("timestamp >= 1370000000", tcp4);
    F("timestamp = 1370000000", tcp4);
    T("timestamp = 1370000001", udp6);
    T("timestamp_ns = 1370000000500000000", tcp4);

    char buf[96];
    snprintf(buf, sizeof buf, "payload.hash = %llu",
             (unsigned long long)vnd_payload_hash(payload, sizeof payload - 1));
    T(buf, tcp4);
    F("payload.hash = 1", tcp4);
    F("payload.hash != 1", udp6);             /* no payload: absent */
    T("payload.len = 16", tcp4);
}

static void addresses(void)
{
    T("ip.src = 10.0.0.6", tcp4);
    F("ip.src = 10.0.0.7", tcp4);
    T("ip.src != 10.0.0.7", tcp4);
    T("ip.src = 10.0.0.0/24", tcp4);
    T("ip.src = 10.0.0.99/24", tcp4);          /* host bits are ignored */
    F("ip.src = 10.0.1.0/24", tcp4);
    T("ip.src != 10.0.1.0/24", tcp4);
    F("ip.src != 10.0.0.0/24", tcp4);
    T("ip.src = 10.0.0.0/20", tcp4);
    F("ip.src = 10.0.16.0/20", tcp4);
    T("ip.src = 10.0.0.6/31", tcp4);
    T("ip.src = 10.0.0.7/31", tcp4);
    F("ip.src = 10.0.0.4/31", tcp4);
    T("ip.src = 10.0.0.6/32", tcp4);
    T("ip.src = 0.0.0.0/0", tcp4);
    T("ip.dst in {10.0.0.7, 10.0.0.8}", tcp4);
    T("ip.dst in {192.168.0.0/16, 10.0.0.0/8}", tcp4);
    F("ip.dst in {192.168.0.0/16, 10.0.0.9}", tcp4);

    T("ip.src = fe80::1", udp6);
    T("ip.src = FE80:0:0::1", udp6);
    F("ip.src = fe80::2", udp6);
    T("ip.src = fe80::/10", udp6);
    T("ip.dst = 2001:db8::/32", udp6);
    F("ip.dst = 2001:db9::/32", udp6);
    T("ip.src = ::/0", udp6);
    F("ip.src = 0.0.0.0/0", udp6);             /* v4 prefix, v6 address */
    T("ip.src != 10.0.0.0/8", udp6);
    F("ip.src = ::/0", tcp4);
    F("ip.src = ::ffff:10.0.0.6", tcp4);       /* mapped is not the same bytes */
    T("arp.spa = 10.0.0.1", arp);

    T("eth.src = 02:00:00:00:00:01", tcp4);
    T("eth.src = 02:00:00:00:00:01 and eth.dst = 02:00:00:00:00:02", tcp4);
    F("eth.src = 02:00:00:00:00:02", tcp4);
    T("eth.src != 02:00:00:00:00:02", tcp4);
    T("eth.src in {aa:bb:cc:dd:ee:ff, 02:00:00:00:00:02}", arp);
    T("eth.src = 02:00:00:00:00:02", arp);
    T("eth.src = 02:00:00:00:00:01 and ip.src = ::1 or eth.type = 0x800", tcp4);
}

static void strings(void)
{
    T("trace = \"tr_1\"", tcp4);
    T("trace = 'tr_1'", tcp4);
    T("trace = tr_1", tcp4);
    F("trace = tr_2", tcp4);
    T("trace != tr_2", tcp4);
    T("trace in {tr_2, tr_3}", udp6);
    T("dns.qname = \"www.example.com\"", udp6);
    T("dns.qname = www.example.com", udp6);
    F("dns.qname = www.example.co", udp6);
    T("dns.qname > www.example.co", udp6);
    T("dns.qname < www.example.comm", udp6);
    T("dns.qname >= www.example.com and dns.qname <= www.example.com", udp6);
    F("dns.qname = \"www.\\\"example.com\"", udp6);
    F("dns.qname = \"\"", udp6);
}

static void logic(void)
{
    /* A = tcp.dst = 80 (true), B = tcp.dst = 81 (false) on tcp4 */
    T("tcp.dst = 80 or tcp.dst = 81 and tcp.dst = 81", tcp4);   /* A or (B and B) */
    F("(tcp.dst = 80 or tcp.dst = 81) and tcp.dst = 81", tcp4);
    T("not tcp.dst = 80 or tcp.dst = 80", tcp4);                /* (not A) or A */
    F("not (tcp.dst = 80 or tcp.dst = 80)", tcp4);
    F("not tcp.dst = 81 and tcp.dst = 81", tcp4);               /* (not B) and B */
    T("not not tcp.dst = 80", tcp4);
    T("tcp.dst = 80 && !tcp.dst = 81", tcp4);
    T("tcp.dst = 81 || tcp.dst = 80", tcp4);
    T("tcp.dst = 80 AND NOT tcp.dst = 81", tcp4);
    T("((((tcp.dst = 80))))", tcp4);
    F("tcp.dst = 80 and tcp.dst = 80 and tcp.dst = 81", tcp4);
    T("tcp.dst = 81 or tcp.dst = 82 or tcp.dst = 83 or tcp.dst = 80", tcp4);
    T("(tcp.dst = 81 or tcp.dst = 80) and (ip.src = 10.0.0.0/8 or udp)", tcp4);
    T("ip.proto = tcp\n  or ip.proto = udp", udp6);      /* spans lines */
    T("tcp.dst = 80 # web\n and ip.ttl = 64", tcp4);    /* comments */
    /* the paper's filter */
    T("ip.proto = tcp or ip.proto = udp", tcp4);
    F("ip.proto = tcp or ip.proto = udp", arp);

    /* absent fields: every comparison is false, `!=` too */
    F("tcp.dst = 80", udp6);
    F("tcp.dst != 80", udp6);
    F("tcp.dst < 80", udp6);
    F("tcp.dst in {80, 53}", udp6);
    T("not tcp.dst = 80", udp6);
    T("not tcp.dst != 80", udp6);
    T("not tcp.dst in {80}", udp6);
    F("ip.src = 10.0.0.0/8", arp);
    F("ip.src != 10.0.0.0/8", arp);
    F("eth.src != 02:00:00:00:00:01", udp6);
    F("dns.qname != x", tcp4);
    F("timestamp > 0", bare);
    T("not timestamp > 0", bare);
    F("trace = tr_1", bare);
    T("tcp.dst = 80 or not udp.dst = 1", bare);
}

static void errors(void)
{
    error_is("ip.src = 80", 1, 1, "t:1:10: ip.src takes an address or prefix, found 80");
    error_is("ip.sorce = 10.0.0.1", 1, 1, "t:1:1: unknown field 'ip.sorce' (did you mean ip.src?)");
    error_is("tpc", 1, 1, "t:1:1: unknown field 'tpc' (did you mean tcp?)");
    error_is("frobnicate = 1", 1, 1, "t:1:1: unknown field 'frobnicate'");
    error_is("ip.src < 10.0.0.1", 1, 1,
             "t:1:8: ip.src takes =, != or in (addresses have no order), found '<'");
    error_is("eth.src >= 02:00:00:00:00:01", 1, 1,
             "t:1:9: eth.src takes =, != or in (addresses have no order), found '>='");
    error_is("tcp.dst = ", 1, 1, "t:1:11: expected a value for tcp.dst, found end of input");
    error_is("tcp.dst = }", 1, 1, "t:1:11: expected a value for tcp.dst, found '}'");
    error_is("tcp.dst in {80,}", 1, 1, "t:1:16: expected a value for tcp.dst, found '}'");
    error_is("tcp.dst in {}", 1, 1, "t:1:13: expected a value for tcp.dst, found '}'");
    error_is("tcp.dst in 80", 1, 1, "t:1:12: expected '{' after 'in', found 80");
    error_is("tcp.dst in {80 443}", 1, 1,
             "t:1:16: expected ',' or '}' to close the set opened at 1:12, found 443");
    error_is("(tcp.dst = 80", 1, 1,
             "t:1:14: expected ')' to close the '(' at 1:1, found end of input");
    error_is("tcp.dst = 80)", 1, 1, "t:1:13: unbalanced ')': no '(' is open, found ')'");
    error_is("tcp.dst 80", 1, 1,
             "t:1:9: expected an operator (=, !=, <, <=, >, >= or in) after tcp.dst, found 80");
    error_is("tcp.dst = 80 tcp.src = 1", 1, 1,
             "t:1:14: expected 'and', 'or' or the end of the filter, found 'tcp.src'");
    error_is("tcp.dst = 80 and", 1, 1,
             "t:1:17: expected a field name, 'not' or '(', found end of input");
    error_is("and tcp.dst = 80", 1, 1,
             "t:1:1: expected a field name, 'not' or '(', found 'and'");
    error_is("", 1, 1, "t:1:1: expected a filter expression, found end of input");
    error_is("   # only a comment", 1, 1,
             "t:1:20: expected a filter expression, found end of input");
    error_is("ip.proto = tpc", 1, 1, "t:1:12: unknown protocol 'tpc' for ip.proto (known: "
             "tcp, udp, icmp, icmpv6, gre, sctp, esp, ah)");
    error_is("eth.type = tcp", 1, 1,
             "t:1:12: unknown protocol 'tcp' for eth.type (known: ip, ipv4, arp, ipv6, vlan)");
    error_is("ip.proto = 10.0.0.1", 1, 1, "t:1:12: ip.proto takes a number or a protocol name "
             "(tcp, udp, icmp, icmpv6, gre, sctp, esp, ah), found 10.0.0.1");
    error_is("tcp.dst = tcp", 1, 1, "t:1:11: tcp.dst takes a number, found 'tcp'");
    error_is("tcp.dst = 1.5", 1, 1, "t:1:11: tcp.dst takes a number, found 1.5");
    error_is("eth.src = 10.0.0.1", 1, 1, "t:1:11: eth.src takes a MAC address "
             "(like 02:00:00:00:00:01), found 10.0.0.1");
    error_is("timestamp = 10.0.0.1", 1, 1, "t:1:13: timestamp takes seconds "
             "(a number like 1370000000.25), found 10.0.0.1");
    error_is("dns.qname = 80", 1, 1,
             "t:1:13: dns.qname takes a string (quoted, or a bare word), found 80");
    error_is("tcp.dst = 99999999999999999999", 1, 1,
             "t:1:11: number '99999999999999999999' is too large (at most 64 bits)");
    error_is("tcp.dst = 12ab", 1, 1, "t:1:11: malformed number '12ab' "
             "(decimal, 0x hex, or a decimal fraction like 1.5)");
    error_is("ip.src = 10.0.0.256", 1, 1, "t:1:10: malformed IPv4 address or prefix "
             "'10.0.0.256' (like 10.0.0.6 or 10.0.0.0/24)");
    error_is("ip.src = 10.0.0.0/33", 1, 1, "t:1:10: malformed IPv4 address or prefix "
             "'10.0.0.0/33' (like 10.0.0.6 or 10.0.0.0/24)");
    error_is("ip.src = fe80:::1", 1, 1, "t:1:10: malformed address 'fe80:::1' (IPv6 like "
             "fe80::1 or fe80::/64, MAC like 02:00:00:00:00:01)");
    error_is("ip.src = fe80::/129", 1, 1, "t:1:10: malformed address 'fe80::/129' (IPv6 like "
             "fe80::1 or fe80::/64, MAC like 02:00:00:00:00:01)");
    error_is("trace = \"abc", 1, 1,
             "t:1:9: unterminated string: expected \" before the end of the line");
    error_is("tcp.dst = 80 $", 1, 1, "t:1:14: unexpected character '$'");
    error_is("tcp.dst = 80 & 1", 1, 1, "t:1:14: unexpected character '&'");
    error_is("tcp.dst = \x01", 1, 1, "t:1:11: unexpected byte 0x01");

    /* positions count from where the text sits in its file */
    error_is("ip.src = 80", 3, 9, "t:3:18: ip.src takes an address or prefix, found 80");
    error_is("tcp.dst = 80 and\n  ip.src = 80", 5, 10,
             "t:6:12: ip.src takes an address or prefix, found 80");

    char deep[200];
    memset(deep, '(', 70);
    snprintf(deep + 70, sizeof deep - 70, "tcp");
    error_is(deep, 1, 1, "t:1:25: filter nested too deeply (more than 24 levels of '(' and 'not')");
    error_is("not not not not not not not not not not not not not not not not not not not not "
             "not not not not not not not not not not not not not not not not not not not not "
             "not not not not not not not not not not not not not not not not not not not not "
             "not not not not not not not not not not tcp", 1, 1,
             "t:1:97: filter nested too deeply (more than 24 levels of '(' and 'not')");

    char *err = NULL;
    struct vnd_filter *f = vnd_filter_compile("x", NULL, 1, 1, &err);
    CHECK(f == NULL, "NULL origin is allowed");
    CHECK(err && strncmp(err, "<input>:1:1: ", 13) == 0, "NULL origin reads <input>");
    free(err);
    vnd_filter_free(NULL);
    CHECK(1, "vnd_filter_free(NULL) is a no-op");
}

/* ---- SQL ---- */

static const char *std_column(enum vnd_field f, void *ctx)
{
    (void)ctx;
    switch (f) {
    case VND_F_TIMESTAMP: return "ts";
    case VND_F_TRACE: return "trace";
    case VND_F_IP_SRC: return "src_ip";
    case VND_F_IP_DST: return "dst_ip";
    case VND_F_IP_PROTO: return "proto";
    case VND_F_TCP_SRC: case VND_F_UDP_SRC: return "src_port";
    case VND_F_TCP_DST: case VND_F_UDP_DST: return "dst_port";
    case VND_F_ETH_DST: return "eth_dst";
    case VND_F_DNS_QNAME: return "qname";
    case VND_F_IP_VERSION: return "ipver";
    case VND_F_VLAN_ID: return "bad name";
    default: return NULL;
    }
}

static char *to_sql(const char *text, bool where, bool pg, char **err)
{
    struct vnd_filter *f = where ? vnd_filter_compile_where(text, "w", 1, 1, err)
                                 : vnd_filter_compile(text, "w", 1, 1, err);
    if (!f)
        return NULL;
    char *sql = vnd_filter_to_sql(f, std_column, NULL, pg, err);
    vnd_filter_free(f);
    return sql;
}

static void sql_is(const char *text, bool where, bool pg, const char *want)
{
    char *err = NULL;
    char *sql = to_sql(text, where, pg, &err);
    if (!sql)
        printf("# %s\n", err);
    CHECK_EQ_STR(sql, want, "SQL%s of '%s'", pg ? " (pg)" : "", text);
    free(sql);
    free(err);
}

static void sql_error_is(const char *text, bool where, const char *want)
{
    char *err = NULL;
    char *sql = to_sql(text, where, false, &err);
    CHECK(sql == NULL, "no SQL for '%s'", text);
    CHECK_EQ_STR(err, want, "SQL error for '%s'", text);
    free(sql);
    free(err);
}

static void sql_text(void)
{
    sql_is("ip.proto = tcp and tcp.dst in {80, 443}", false, false,
           "(\"proto\" = 6 AND \"dst_port\" IN (80, 443))");
    sql_is("tcp or udp", false, false, "(\"proto\" = 6 OR \"proto\" = 17)");
    sql_is("ipv6", false, false, "\"ipver\" = 6");
    sql_is("ip.src = 10.0.0.0/24", false, false, "vnd_in_prefix(\"src_ip\", '10.0.0.0/24')");
    sql_is("ip.src = 10.0.0.0/24", false, true, "(\"src_ip\"::inet <<= '10.0.0.0/24'::inet)");
    sql_is("ip.src != 10.0.0.9/8", false, false, "NOT vnd_in_prefix(\"src_ip\", '10.0.0.0/8')");
    sql_is("ip.src != fe80::/10", false, true, "NOT (\"src_ip\"::inet <<= 'fe80::/10'::inet)");
    sql_is("ip.src = FE80:0::1", false, false, "\"src_ip\" = 'fe80::1'");
    sql_is("ip.src = 10.0.0.6/32", false, false, "\"src_ip\" = '10.0.0.6'");
    sql_is("ip.src in {10.0.0.6, 10.1.0.0/16, fe80::/10}", false, false,
           "(\"src_ip\" IN ('10.0.0.6') OR vnd_in_prefix(\"src_ip\", '10.1.0.0/16') OR "
           "vnd_in_prefix(\"src_ip\", 'fe80::/10'))");
    sql_is("ip.src in {10.1.0.0/16}", false, false, "vnd_in_prefix(\"src_ip\", '10.1.0.0/16')");
    sql_is("eth.dst = 02:00:00:00:00:0A", false, false, "\"eth_dst\" = '02:00:00:00:00:0a'");
    sql_is("not tcp.dst = 80", false, false,
           "NOT ((\"dst_port\" IS NOT NULL AND \"dst_port\" = 80))");
    sql_is("not (tcp.dst != 80 or not udp.src < 5)", false, false,
           "NOT ((\"dst_port\" IS NOT NULL AND \"dst_port\" <> 80) OR "
           "NOT (\"src_port\" < 5))");
    sql_is("not not tcp.dst = 80", false, false, "\"dst_port\" = 80");
    sql_is("not not not tcp.dst = 80", false, false,
           "NOT ((\"dst_port\" IS NOT NULL AND \"dst_port\" = 80))");
    sql_is("(tcp.dst = 1 and (tcp.dst = 2 and tcp.dst = 3)) and ((tcp.dst = 4))", false, false,
           "(\"dst_port\" = 1 AND \"dst_port\" = 2 AND \"dst_port\" = 3 AND \"dst_port\" = 4)");
    sql_is("timestamp >= 1370000000.25", false, false, "\"ts\" >= 1370000000.25");
    sql_is("trace = tr_1", false, false, "\"trace\" = 'tr_1'");
    /* hostile text stays inside one literal */
    sql_is("dns.qname = \"'); drop table x; --\"", false, false,
           "\"qname\" = '''); drop table x; --'");
    sql_is("dns.qname = 'it\\'s'", false, false, "\"qname\" = 'it''s'");
    /* --where: plain names are columns */
    sql_is("src_ip = 10.0.0.6 and proto = tcp and dst_port in {80, 8080}", true, false,
           "(\"src_ip\" = '10.0.0.6' AND \"proto\" = 6 AND \"dst_port\" IN (80, 8080))");
    sql_is("src_ip = 10.0.0.0/8 or note = '); drop table t; --' or note = x", true, false,
           "(vnd_in_prefix(\"src_ip\", '10.0.0.0/8') OR \"note\" = '); drop table t; --' OR "
           "\"note\" = 'x')");
    sql_is("ip.dst = 10.0.0.8 and seq > 5", true, false,
           "(\"dst_ip\" = '10.0.0.8' AND \"seq\" > 5)");

    sql_error_is("eth.src = 02:00:00:00:00:01", false,
                 "w:1:1: this table has no column for eth.src");
    sql_error_is("tcp.dst = 1 and vlan.id = 1", false,
                 "w:1:17: column 'bad name' for vlan.id is not a plain SQL name");
    sql_error_is("src_ip = 10.0.0.6", false, "w:1:1: unknown field 'src_ip'");
    sql_error_is("ip.sorce = 10.0.0.6", true,
                 "w:1:1: unknown field 'ip.sorce' (did you mean ip.src?)");
    sql_error_is("src_ip < 10.0.0.6", true,
                 "w:1:10: '<' cannot compare addresses: use =, != or in");

    /* column references never match packets */
    char *err = NULL;
    struct vnd_filter *f = vnd_filter_compile_where("src_ip = 10.0.0.6", "w", 1, 1, &err);
    CHECK(f && !vnd_filter_match(f, &tcp4), "a column comparison does not match a packet");
    vnd_filter_free(f);
    free(err);
}

/* The table the default-ish columns make, filled from the test packets as
 * the ingest path would (vnd_field_value), so SQL and match can be
 * compared row by row. */
static const struct { const char *col; enum vnd_field f[2]; int nf; } cols[] = {
    {"ts", {VND_F_TIMESTAMP}, 1}, {"trace", {VND_F_TRACE}, 1},
    {"src_ip", {VND_F_IP_SRC}, 1}, {"dst_ip", {VND_F_IP_DST}, 1},
    {"proto", {VND_F_IP_PROTO}, 1}, {"src_port", {VND_F_TCP_SRC, VND_F_UDP_SRC}, 2},
    {"dst_port", {VND_F_TCP_DST, VND_F_UDP_DST}, 2}, {"eth_dst", {VND_F_ETH_DST}, 1},
    {"qname", {VND_F_DNS_QNAME}, 1}, {"ipver", {VND_F_IP_VERSION}, 1},
};
#define NCOLS (sizeof cols / sizeof cols[0])

static int sql_count(sqlite3 *db, const char *where)
{
    char q[8192];
    snprintf(q, sizeof q, "SELECT count(*) FROM t WHERE %s", where);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, q, -1, &s, NULL) != SQLITE_OK) {
        printf("# %s: %s\n", q, sqlite3_errmsg(db));
        return -1;
    }
    int n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
    sqlite3_finalize(s);
    return n;
}

static void sql_runs(void)
{
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(":memory:", &db), SQLITE_OK, "in-memory SQLite");
    CHECK_EQ_INT(vnd_sql_register_functions(db), SQLITE_OK, "vnd_in_prefix registered");
    sqlite3_exec(db, "CREATE TABLE t (ts REAL, trace TEXT, src_ip TEXT, dst_ip TEXT, "
                     "proto INTEGER, src_port INTEGER, dst_port INTEGER, eth_dst TEXT, "
                     "qname TEXT, ipver INTEGER); CREATE TABLE x (a);", NULL, NULL, NULL);
    const struct vnd_pkt *pkts[] = {&tcp4, &udp6, &arp, &bare};
    sqlite3_stmt *ins;
    sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?)", -1, &ins, NULL);
    char coltext[NCOLS][VND_VALUE_TEXT_MAX];
    for (size_t p = 0; p < 4; p++) {
        for (size_t c = 0; c < NCOLS; c++) {
            struct vnd_value v;
            int found = 0;
            for (int i = 0; i < cols[c].nf && !found; i++)
                found = vnd_field_value(pkts[p], cols[c].f[i], coltext[c], &v);
            int k = (int)c + 1;
            if (!found)
                sqlite3_bind_null(ins, k);
            else if (v.type == VND_SQL_INTEGER)
                sqlite3_bind_int64(ins, k, v.i);
            else if (v.type == VND_SQL_REAL)
                sqlite3_bind_double(ins, k, v.d);
            else
                sqlite3_bind_text(ins, k, v.s, (int)v.slen, SQLITE_TRANSIENT);
        }
        sqlite3_step(ins);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);

    static const char *filters[] = {
        "tcp", "udp", "not tcp", "tcp or udp", "ip.proto in {tcp, udp}",
        "tcp.dst = 80", "ip.version != 4", "not ip.version = 4", "not ip.version != 4",
        "udp.dst > 100", "not udp.dst > 100 and not tcp.dst < 100",
        "ip.src = 10.0.0.0/24", "ip.src != 10.0.0.0/24", "not ip.src = 10.0.0.0/24",
        "not ip.src != 10.0.0.0/24", "ip.src = fe80::/10", "ip.src = 0.0.0.0/0",
        "ip.src = ::/0", "ip.src in {10.0.0.6, fe80::/16}", "not ip.src in {fe80::1, 10.9.0.0/16}",
        "ip.dst = 2001:db8::5", "eth.dst = 02:00:00:00:00:02", "not eth.dst = 02:00:00:00:00:02",
        "dns.qname = www.example.com", "dns.qname != \"'); drop table x; --\"",
        "not dns.qname = \"'); drop table x; --\"", "timestamp > 1370000000.7",
        "not timestamp < 1370000001.5", "trace in {tr_1, tr_2}", "not trace = tr_1",
        "(tcp or udp) and not (ip.dst = 10.0.0.8 or dns.qname > a)", "ipv6 or ip",
    };
    /* the deepest filters the compiler takes must still parse in SQLite */
    static char deep_andor[2048], deep_not[2048];
    size_t o = 0, o2 = 0;
    for (int i = 0; i < 24; i++)
        o += (size_t)snprintf(deep_andor + o, sizeof deep_andor - o, "(tcp.dst = %d %s ", i,
                              i % 2 ? "and" : "or");
    o += (size_t)snprintf(deep_andor + o, sizeof deep_andor - o, "tcp");
    for (int i = 0; i < 24; i++)
        deep_andor[o++] = ')';
    for (int i = 0; i < 12; i++)
        o2 += (size_t)snprintf(deep_not + o2, sizeof deep_not - o2, "not (udp.dst = %d %s ",
                               i, i % 2 ? "and" : "or");
    o2 += (size_t)snprintf(deep_not + o2, sizeof deep_not - o2, "udp");
    for (int i = 0; i < 12; i++)
        deep_not[o2++] = ')';
    const char *deep[] = {deep_andor, deep_not};

    for (size_t i = 0; i < sizeof filters / sizeof filters[0] + 2; i++) {
        char *err = NULL;
        const char *text = i < sizeof filters / sizeof filters[0] ? filters[i]
                           : deep[i - sizeof filters / sizeof filters[0]];
        struct vnd_filter *f = vnd_filter_compile(text, "t", 1, 1, &err);
        char *sql = f ? vnd_filter_to_sql(f, std_column, NULL, false, &err) : NULL;
        if (!sql) {
            CHECK(0, "'%.60s' compiles to SQL: %s", text, err);
            free(err);
            vnd_filter_free(f);
            continue;
        }
        int want = 0;
        for (size_t p = 0; p < 4; p++)
            want += vnd_filter_match(f, pkts[p]);
        CHECK_EQ_INT(sql_count(db, sql), want, "SQL and match agree on '%.60s' (%.200s)", text,
                     sql);
        free(sql);
        vnd_filter_free(f);
    }
    CHECK_EQ_INT(sql_count(db, "1 = (SELECT count(*) FROM x)") >= 0, 1,
                 "table x survived the hostile strings");

    static const struct { const char *q; int want; } fn[] = {
        {"vnd_in_prefix('10.0.0.6', '10.0.0.0/24')", 1},
        {"vnd_in_prefix('10.0.1.6', '10.0.0.0/24')", 0},
        {"vnd_in_prefix('10.0.0.6', '10.0.0.6')", 1},
        {"vnd_in_prefix('fe80::1', 'fe80::/10')", 1},
        {"vnd_in_prefix('fe80::1', '0.0.0.0/0')", 0},
        {"vnd_in_prefix('10.0.0.6', '::/0')", 0},
        {"vnd_in_prefix(NULL, '10.0.0.0/8') IS NULL", 1},
        {"vnd_in_prefix('10.0.0.6', NULL) IS NULL", 1},
        {"vnd_in_prefix('not an address', '10.0.0.0/8') IS NULL", 1},
        {"(SELECT count(*) FROM t WHERE vnd_in_prefix(src_ip, '10.0.0.0/8'))", 1},
    };
    for (size_t i = 0; i < sizeof fn / sizeof fn[0]; i++) {
        char q[256];
        snprintf(q, sizeof q, "SELECT %s", fn[i].q);
        sqlite3_stmt *s;
        int got = -1;
        if (sqlite3_prepare_v2(db, q, -1, &s, NULL) == SQLITE_OK) {
            if (sqlite3_step(s) == SQLITE_ROW)
                got = sqlite3_column_int(s, 0);
            sqlite3_finalize(s);
        }
        CHECK_EQ_INT(got, fn[i].want, "%s", q);
    }
    sqlite3_stmt *s;
    sqlite3_prepare_v2(db, "SELECT vnd_in_prefix('10.0.0.1', 'nonsense')", -1, &s, NULL);
    CHECK_EQ_INT(sqlite3_step(s), SQLITE_ERROR, "a malformed prefix is an SQL error");
    CHECK(strstr(sqlite3_errmsg(db), "'nonsense' is not an address prefix") != NULL,
          "the error names the prefix: %s", sqlite3_errmsg(db));
    sqlite3_finalize(s);
    sqlite3_close(db);
}

int main(void)
{
    setup();
    operators();
    addresses();
    strings();
    logic();
    errors();
    sql_text();
    sql_runs();
    return tap_done();
}
