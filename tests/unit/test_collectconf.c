/* test_collectconf.c — trace collection configurations: the paper's Fig. 5
 * example and Fig. 4's spelling, IPv6, the pattern's text both ways (and
 * read back), keyword case, comments, settings and their defaults, the
 * limit on Cap blocks, and every error with its position. */
#include "../tap.h"

#include <arpa/inet.h>

#include "lang/collectconf.h"

static struct vnd_collect_conf *parse(const char *text)
{
    struct vnd_collect_conf *c = NULL;
    char *err = NULL;
    if (vnd_collectconf_parse(text, "collect.conf", &c, &err)) {
        printf("# %s\n", err);
        free(err);
        return NULL;
    }
    return c;
}

static void error_is(const char *text, const char *want)
{
    struct vnd_collect_conf *c = (struct vnd_collect_conf *)1;
    char *err = NULL;
    int rc = vnd_collectconf_parse(text, "collect.conf", &c, &err);
    char name[60];
    snprintf(name, sizeof name, "%s", text);
    for (char *p = name; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = '|';
    CHECK(rc == -1 && c == NULL, "refused: %s", name);
    CHECK_EQ_STR(err, want, "error for: %s", name);
    free(err);
}

static void text_is(const struct vnd_cc_pattern *pt, bool reverse, const char *want,
                    const char *what)
{
    char *s = vnd_cc_pattern_text(pt, reverse);
    CHECK_EQ_STR(s, want, "%s%s", what, reverse ? " (reversed)" : "");
    free(s);
}

static bool addr_is(const struct vnd_cc_prefix *a, const char *addr, int len)
{
    uint8_t want[16] = {0};
    int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(fam, addr, want) != 1)
        return false;
    return a->set && a->family == fam && a->len == len && memcmp(a->addr, want, 16) == 0;
}

static void figure5(void)
{
    /* Fig. 5 as printed, its "..." lines left out */
    const char *text =
        "Appliance Node : lb\n"
        "Cap input\n"
        "srcIP=10.0.0.6/32\n"
        "dstIP=10.0.0.8/32\n"
        "proto=TCP\n"
        "srcPort=*\n"
        "dstPort=80\n"
        "dualDirect=True\n"
        "Cap output\n";
    struct vnd_collect_conf *c = parse(text);
    CHECK(c != NULL, "Fig. 5 parses");
    if (!c)
        return;
    CHECK_EQ_INT(c->ntargets, 1, "one block");
    const struct vnd_cc_target *t = &c->targets[0];
    CHECK_EQ_INT(t->kind, VND_CC_APPLIANCE, "an appliance node");
    CHECK_EQ_STR(t->name, "lb", "named lb");
    CHECK(t->line == 1 && t->col == 18, "name at 1:18 (got %d:%d)", t->line, t->col);
    CHECK_EQ_INT(t->ncaps, 2, "two capture points");
    if (t->ncaps != 2)
        goto out;
    const struct vnd_cc_cap *in = &t->caps[0], *out = &t->caps[1];
    CHECK_EQ_STR(in->point, "input", "first: input");
    CHECK(in->line == 2 && in->col == 5, "input at 2:5 (got %d:%d)", in->line, in->col);
    CHECK(addr_is(&in->pattern.src, "10.0.0.6", 32), "srcIP 10.0.0.6/32");
    CHECK(addr_is(&in->pattern.dst, "10.0.0.8", 32), "dstIP 10.0.0.8/32");
    CHECK(in->pattern.proto_kind == VND_CC_IPPROTO && in->pattern.proto == 6, "proto TCP = 6");
    CHECK_EQ_INT(in->pattern.src_port, -1, "srcPort=* is any");
    CHECK_EQ_INT(in->pattern.dst_port, 80, "dstPort 80");
    CHECK(in->dual, "dualDirect=True");
    CHECK(in->mode == VND_CC_MIRROR && in->snaplen == 0 && in->sampling == 1,
          "defaults: mirror, whole packets, every packet");
    text_is(&in->pattern, false, "srcIP=10.0.0.6/32, dstIP=10.0.0.8/32, proto=TCP, dstPort=80",
            "Fig. 5 pattern text");
    text_is(&in->pattern, true, "srcIP=10.0.0.8/32, dstIP=10.0.0.6/32, proto=TCP, srcPort=80",
            "Fig. 5 pattern text");

    CHECK_EQ_STR(out->point, "output", "second: output");
    CHECK(out->line == 9 && out->col == 5, "output at 9:5");
    CHECK(!out->pattern.src.set && !out->pattern.dst.set && out->pattern.proto_kind == VND_CC_ANY
          && out->pattern.proto == -1 && out->pattern.src_port == -1
          && out->pattern.dst_port == -1 && !out->dual, "a bare Cap matches everything");
    text_is(&out->pattern, false, "any", "empty pattern");
    text_is(&out->pattern, true, "any", "empty pattern");
out:
    vnd_collectconf_free(c);
}

static void figure4(void)
{
    /* Fig. 4's words: Capture Point, Flow Pattern with a list,
     * Appliance Type Node */
    const char *text =
        "Virtual Appliance Link : l1\n"
        "Capture Point node1\n"
        "Flow Pattern proto = UDP, dstPort = 53\n"
        "Capture Point node2\n"
        "Appliance Type Node : n1\n"
        "Capture Point input\n"
        "Capture Point output\n";
    struct vnd_collect_conf *c = parse(text);
    CHECK(c != NULL, "Fig. 4 parses");
    if (!c)
        return;
    CHECK_EQ_INT(c->ntargets, 2, "two blocks");
    if (c->ntargets == 2) {
        const struct vnd_cc_target *l = &c->targets[0], *n = &c->targets[1];
        CHECK(l->kind == VND_CC_LINK && strcmp(l->name, "l1") == 0, "link l1");
        CHECK_EQ_INT(l->ncaps, 2, "two link points");
        if (l->ncaps == 2) {
            CHECK_EQ_STR(l->caps[0].point, "node1", "link point node1");
            CHECK(l->caps[0].line == 2 && l->caps[0].col == 15, "node1 at 2:15");
            text_is(&l->caps[0].pattern, false, "proto=UDP, dstPort=53", "Flow Pattern list");
            CHECK_EQ_STR(l->caps[1].point, "node2", "link point node2");
        }
        CHECK(n->kind == VND_CC_APPLIANCE && strcmp(n->name, "n1") == 0,
              "Appliance Type Node is an appliance");
        CHECK(n->ncaps == 2 && strcmp(n->caps[0].point, "input") == 0
              && strcmp(n->caps[1].point, "output") == 0, "input and output");
    }
    vnd_collectconf_free(c);
}

static void ipv6_and_settings(void)
{
    const char *text =
        "VM Node : web-1.a_b\n"
        "Cap output\n"
        "srcIP=2001:db8::/32\n"
        "dstIP=2001:DB8::1\n"
        "proto=58\n"
        "Mode sflow\n"
        "Snaplen 128\n"
        "Sampling 1000000\n"
        "Cap input\n"
        "dstIP=::/0\n"
        "proto=6\n"
        "srcPort=65535\n"
        "dstPort=0\n"
        "Mode ipfix\n"
        "Snaplen 65535\n"
        "Sampling 1\n"
        "Cap input\n"
        "proto=ARP\n"
        "dstIP=10.0.0.0/8\n"
        "Cap output\n"
        "proto=132\n"
        "Mode mirror\n"
        "Snaplen 0\n";
    struct vnd_collect_conf *c = parse(text);
    CHECK(c != NULL, "IPv6 and settings parse");
    if (!c)
        return;
    const struct vnd_cc_target *t = &c->targets[0];
    CHECK(t->kind == VND_CC_VM && strcmp(t->name, "web-1.a_b") == 0, "VM web-1.a_b");
    CHECK_EQ_INT(t->ncaps, 4, "four caps (the same point twice is allowed)");
    if (t->ncaps == 4) {
        const struct vnd_cc_cap *a = &t->caps[0], *b = &t->caps[1];
        CHECK(addr_is(&a->pattern.src, "2001:db8::", 32), "IPv6 prefix");
        CHECK(addr_is(&a->pattern.dst, "2001:db8::1", 128), "IPv6 address is /128");
        CHECK(a->pattern.proto_kind == VND_CC_IPPROTO && a->pattern.proto == 58, "proto 58");
        CHECK(a->mode == VND_CC_SFLOW && a->snaplen == 128 && a->sampling == 1000000,
              "sflow, 128 bytes, 1 in 1000000");
        text_is(&a->pattern, false, "srcIP=2001:db8::/32, dstIP=2001:db8::1/128, proto=58",
                "IPv6 text");
        text_is(&a->pattern, true, "srcIP=2001:db8::1/128, dstIP=2001:db8::/32, proto=58",
                "IPv6 text");
        CHECK(addr_is(&b->pattern.dst, "::", 0) && !b->pattern.src.set, "::/0 is set, length 0");
        CHECK(b->pattern.proto == 6 && b->pattern.src_port == 65535 && b->pattern.dst_port == 0,
              "proto=6, ports 65535 and 0");
        CHECK(b->mode == VND_CC_IPFIX && b->snaplen == 65535 && b->sampling == 1,
              "ipfix, 65535, 1");
        text_is(&b->pattern, false, "dstIP=::/0, proto=TCP, srcPort=65535, dstPort=0",
                "proto=6 reads as TCP");
        text_is(&b->pattern, true, "srcIP=::/0, proto=TCP, srcPort=0, dstPort=65535",
                "proto=6 reads as TCP");
        CHECK(t->caps[2].pattern.proto_kind == VND_CC_ARP && t->caps[2].pattern.proto == -1,
              "ARP");
        text_is(&t->caps[2].pattern, false, "dstIP=10.0.0.0/8, proto=ARP", "ARP text");
        text_is(&t->caps[3].pattern, false, "proto=132", "a number");
        CHECK(t->caps[3].mode == VND_CC_MIRROR && t->caps[3].snaplen == 0, "mirror, 0");
    }
    CHECK_EQ_STR(vnd_cc_mode_name(VND_CC_MIRROR), "mirror", "mode name");
    CHECK_EQ_STR(vnd_cc_mode_name(VND_CC_SFLOW), "sflow", "mode name");
    CHECK_EQ_STR(vnd_cc_mode_name(VND_CC_IPFIX), "ipfix", "mode name");
    vnd_collectconf_free(c);
}

static void case_comments_blanks(void)
{
    const char *text =
        "# collection for the web tier\r\n"
        "\r\n"
        "  vm   NODE:Web1   # the front end\r\n"
        "\tCAP: OutPut\r\n"
        "   SRCIP = 10.1.0.0/16 ,DSTIP=*, PROTO = udp   # two fields and a wildcard\r\n"
        "  dualdirect = FALSE\r\n"
        "  mode = IPFIX\r\n"
        "  SNAPLEN: 64\r\n"
        "  sampling=2\r\n"
        "virtual appliance link   :   Link_2\r\n"
        "cap Web1\r\n"
        "pattern *\r\n"
        "capture point lb.internal\r\n"
        "flow pattern: ANY";       /* no final line break */
    struct vnd_collect_conf *c = parse(text);
    CHECK(c != NULL, "lower/upper case, comments, CRLF, blanks around : and =");
    if (!c)
        return;
    CHECK_EQ_INT(c->ntargets, 2, "two blocks");
    if (c->ntargets == 2) {
        const struct vnd_cc_target *t = &c->targets[0], *l = &c->targets[1];
        CHECK(t->kind == VND_CC_VM && strcmp(t->name, "Web1") == 0, "name kept as written");
        CHECK(t->line == 3 && t->col == 13, "name at 3:13 (got %d:%d)", t->line, t->col);
        CHECK(t->ncaps == 1 && strcmp(t->caps[0].point, "output") == 0,
              "point lower-cased");
        if (t->ncaps == 1) {
            const struct vnd_cc_cap *k = &t->caps[0];
            CHECK(k->line == 4 && k->col == 7, "point at 4:7 (got %d:%d)", k->line, k->col);
            text_is(&k->pattern, false, "srcIP=10.1.0.0/16, proto=UDP", "mixed-case fields");
            CHECK(!k->dual && k->mode == VND_CC_IPFIX && k->snaplen == 64 && k->sampling == 2,
                  "settings in any case");
        }
        CHECK(l->kind == VND_CC_LINK && strcmp(l->name, "Link_2") == 0, "link Link_2");
        CHECK(l->ncaps == 2 && strcmp(l->caps[0].point, "Web1") == 0
              && strcmp(l->caps[1].point, "lb.internal") == 0, "link points kept as written");
    }
    vnd_collectconf_free(c);
}

/* The text of a pattern reads back as the same pattern. */
static void round_trip(void)
{
    static const char *const lines[] = {
        "srcIP=10.0.0.6/32, dstIP=10.0.0.8/32, proto=TCP, dstPort=80",
        "srcIP=fe80::/10, proto=UDP, srcPort=53",
        "dstIP=0.0.0.0/0, proto=ICMP",
        "proto=ARP",
        "proto=0",
        "dstIP=::ffff:10.0.0.1/128",
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        char text[300];
        snprintf(text, sizeof text, "VM Node : a\nCap input\n%s\n", lines[i]);
        struct vnd_collect_conf *c = parse(text);
        CHECK(c != NULL, "parses: %s", lines[i]);
        if (!c)
            continue;
        const struct vnd_cc_pattern *pt = &c->targets[0].caps[0].pattern;
        text_is(pt, false, lines[i], "reads back");
        /* the reverse of the reverse */
        char *rev = vnd_cc_pattern_text(pt, true);
        snprintf(text, sizeof text, "VM Node : a\nCap input\nFlow Pattern %s\n", rev);
        struct vnd_collect_conf *c2 = strcmp(rev, "any") ? parse(text) : NULL;
        if (c2) {
            text_is(&c2->targets[0].caps[0].pattern, true, lines[i], "reverse of reverse");
            vnd_collectconf_free(c2);
        }
        free(rev);
        vnd_collectconf_free(c);
    }
}

static void limits_and_bytes(void)
{
    /* VND_CC_MAX_CAPS Cap blocks are fine, one more is not */
    size_t size = 64 + 40 * (VND_CC_MAX_CAPS + 1);
    char *text = malloc(size);
    size_t o = (size_t)snprintf(text, size, "VM Node : a\n");
    for (int i = 0; i < VND_CC_MAX_CAPS; i++)
        o += (size_t)snprintf(text + o, size - o, "Cap input\n");
    struct vnd_collect_conf *c = parse(text);
    CHECK(c != NULL && c->targets[0].ncaps == VND_CC_MAX_CAPS, "%d Cap blocks", VND_CC_MAX_CAPS);
    vnd_collectconf_free(c);
    snprintf(text + o, size - o, "Cap output\n");
    char want[120];
    snprintf(want, sizeof want, "collect.conf:%d:1: too many Cap blocks: a configuration holds "
             "at most %d", VND_CC_MAX_CAPS + 2, VND_CC_MAX_CAPS);
    error_is(text, want);
    /* counted over all blocks */
    o = (size_t)snprintf(text, size, "VM Node : a\nCap input\n");
    for (int i = 1; i < VND_CC_MAX_CAPS; i++)
        o += (size_t)snprintf(text + o, size - o, "VM Node : n%d\nCap input\n", i);
    c = parse(text);
    CHECK(c != NULL && c->ntargets == VND_CC_MAX_CAPS, "%d blocks", VND_CC_MAX_CAPS);
    vnd_collectconf_free(c);
    snprintf(text + o, size - o, "Appliance Node : x\nCap output\n");
    snprintf(want, sizeof want, "collect.conf:%d:1: too many Cap blocks: a configuration holds "
             "at most %d", 2 * VND_CC_MAX_CAPS + 2, VND_CC_MAX_CAPS);
    error_is(text, want);
    free(text);

    /* bytes with a length: no NUL needed at the end, a NUL inside refused */
    static const char buf[] = "VM Node : a\nCap input\nproto=TCP\ngarbage";
    char *err = NULL;
    c = NULL;
    int rc = vnd_collectconf_parse_n(buf, sizeof buf - 9, "mem", &c, &err);
    CHECK(rc == 0 && c && c->targets[0].caps[0].pattern.proto == 6, "parse_n reads len bytes");
    vnd_collectconf_free(c);
    static const char nul[] = "VM Node : a\nCap input\nproto=T\0CP\n";
    c = (struct vnd_collect_conf *)1;
    rc = vnd_collectconf_parse_n(nul, sizeof nul - 1, "mem", &c, &err);
    CHECK(rc == -1 && c == NULL, "a NUL byte is refused");
    CHECK_EQ_STR(err, "mem:3:8: NUL byte in the configuration (expected text)", "NUL error");
    free(err);
    static const char nul2[] = "VM Node : a\nCap input # \0 in a comment\n";
    err = NULL;
    rc = vnd_collectconf_parse_n(nul2, sizeof nul2 - 1, NULL, &c, &err);
    CHECK_EQ_STR(err, "<input>:2:13: NUL byte in the configuration (expected text)",
                 "a NUL in a comment too; origin defaults to <input>");
    free(err);
    rc = vnd_collectconf_parse(NULL, "x", &c, NULL);
    CHECK(rc == -1 && c == NULL, "NULL text is empty, err may be NULL");
    vnd_collectconf_free(NULL);
}

#define BLOCKS "\"VM Node :\", \"Appliance Node :\" or \"Virtual Appliance Link :\""
#define KEYWORDS "(expected " BLOCKS ", Cap, a pattern field such as srcIP=, Mode, Snaplen, " \
                 "Sampling, ActiveTimeout, MaxFlows, Polling or Flow Sampling)"
#define VC "VM Node : a\nCap input\n"

static void errors(void)
{
    /* the example of the brief: a comment line first */
    error_is("Appliance Node : lb\n# typo below\nCap input\nproto=TPC\n",
             "collect.conf:4:7: unknown protocol \"TPC\" (expected TCP, UDP, ICMP, ARP or a "
             "number 0..255)");
    error_is(VC "proto=256\n", "collect.conf:3:7: unknown protocol \"256\" (expected TCP, UDP, "
             "ICMP, ARP or a number 0..255)");
    error_is(VC "proto=-1\n", "collect.conf:3:7: unknown protocol \"-1\" (expected TCP, UDP, "
             "ICMP, ARP or a number 0..255)");

    /* empty */
    error_is("", "collect.conf:1:1: empty collection configuration: expected a " BLOCKS
             " line, found end of input");
    error_is("# only a comment\n\n   \n", "collect.conf:4:1: empty collection configuration: "
             "expected a " BLOCKS " line, found end of input");
    error_is("  # x", "collect.conf:1:6: empty collection configuration: expected a " BLOCKS
             " line, found end of input");

    /* order of lines */
    error_is("Cap input\n", "collect.conf:1:1: \"Cap\" before any block: a Cap belongs to a "
             BLOCKS " line above it");
    error_is("# x\n  Capture Point input\n", "collect.conf:2:3: \"Capture Point\" before any "
             "block: a Cap belongs to a " BLOCKS " line above it");
    error_is("srcIP=10.0.0.1\n", "collect.conf:1:1: \"srcIP=\" before any block: start with a "
             BLOCKS " line and a Cap line");
    error_is("Mode mirror\n", "collect.conf:1:1: \"Mode\" before any block: start with a "
             BLOCKS " line and a Cap line");
    error_is("VM Node : a\n  dstPort=80\n", "collect.conf:2:3: \"dstPort=\" before the first "
             "Cap of VM Node a: patterns and settings belong to the Cap line above them");
    error_is("Virtual Appliance Link : l\nSnaplen 4\n", "collect.conf:2:1: \"Snaplen\" before "
             "the first Cap of Virtual Appliance Link l: patterns and settings belong to the "
             "Cap line above them");
    error_is("Appliance Node : lb\nFlow Pattern any\n", "collect.conf:2:1: \"Flow Pattern\" "
             "before the first Cap of Appliance Node lb: patterns and settings belong to the "
             "Cap line above them");

    /* blocks without a Cap */
    error_is("VM Node : a\n", "collect.conf:1:1: VM Node a has no Cap line: add one such as "
             "\"Cap input\"");
    error_is("VM Node : a\nCap input\n  Appliance Node : b\n# none\nVM Node : c\nCap input\n",
             "collect.conf:3:3: Appliance Node b has no Cap line: add one such as \"Cap input\"");
    error_is("Virtual Appliance Link : l1\n", "collect.conf:1:1: Virtual Appliance Link l1 has "
             "no Cap line: add one naming the node at one of its ends (\"Cap NODE\")");

    /* the same block twice */
    error_is(VC "VM Node : a\nCap output\n", "collect.conf:3:11: node a already has a block "
             "(VM Node, line 1): put all its Cap lines under one header");
    error_is(VC "Appliance Node : a\nCap output\n", "collect.conf:3:18: node a already has a "
             "block (VM Node, line 1): put all its Cap lines under one header");
    error_is("Virtual Appliance Link : l\nCap a\nVirtual Appliance Link : l\nCap b\n",
             "collect.conf:3:26: link l already has a block (Virtual Appliance Link, line 1): "
             "put all its Cap lines under one header");
    struct vnd_collect_conf *c = parse(VC "Virtual Appliance Link : a\nCap a\n");
    CHECK(c != NULL, "a node and a link may share a name");
    vnd_collectconf_free(c);

    /* keywords */
    error_is(VC "foo bar\n", "collect.conf:3:1: unknown keyword \"foo\" " KEYWORDS);
    error_is(VC "Mode ipfix\nActiveTimeout 4000\n", "collect.conf:4:15: ActiveTimeout 4000 is out "
             "of range (expected 0..3600: seconds the switch aggregates a flow before exporting "
             "it, 0: no cache)");
    error_is(VC "Mode sflow\nPolling 0\n", "collect.conf:4:9: Polling 0 is out of range "
             "(expected 1..3600: seconds between the sFlow agent's interface counters)");
    error_is(VC "Polling 5\npolling=6\n", "collect.conf:4:1: Polling given twice in one Cap "
             "block (first at line 3)");
    struct vnd_collect_conf *pc = parse(VC "Mode sflow\nPolling: 2\n");
    CHECK(pc && pc->targets[0].caps[0].polling == 2, "Polling 2 (the colon optional)");
    vnd_collectconf_free(pc);
    pc = parse(VC "Mode sflow\n");
    CHECK(pc && pc->targets[0].caps[0].polling == -1, "no Polling: not given");
    vnd_collectconf_free(pc);
    error_is(VC "Mode ipfix\nMaxFlows 0\n", "collect.conf:4:10: MaxFlows 0 is out of range "
             "(expected 1..1000000: flows the switch's IPFIX cache holds)");
    error_is(VC "MaxFlows 5\nmaxflows=6\n", "collect.conf:4:1: MaxFlows given twice in one Cap "
             "block (first at line 3)");
    error_is(VC "  srcAddr=1.2.3.4\n", "collect.conf:3:3: unknown keyword \"srcAddr\" " KEYWORDS);
    error_is(VC "srcIP2=1.2.3.4\n", "collect.conf:3:1: unknown keyword \"srcIP2\" " KEYWORDS);
    error_is(VC "Capture input\n", "collect.conf:3:9: expected \"Point\" after \"Capture\", "
             "found \"input\"");
    error_is("VM Nod : a\n", "collect.conf:1:4: expected \"Node\" after \"VM\", found \"Nod\"");
    error_is("VM\n", "collect.conf:1:3: expected \"Node\" after \"VM\", found end of line");
    error_is("Appliance Type : a\n", "collect.conf:1:16: expected \"Node\" after \"Appliance\", "
             "found \":\"");
    error_is("Virtual Link : x\n", "collect.conf:1:9: expected \"Appliance\" after \"Virtual\", "
             "found \"Link\"");
    error_is("Virtual Appliance Node : x\n", "collect.conf:1:19: expected \"Link\" after "
             "\"Virtual Appliance\", found \"Node\"");
    error_is("\xef\xbb\xbfVM Node : a\n", "collect.conf:1:1: unknown keyword "
             "\"\\xef\\xbb\\xbfVM\" " KEYWORDS);
    error_is(VC "Flow Pattern\n", "collect.conf:3:13: expected a pattern after \"Flow Pattern\" "
             "(like srcIP=10.0.0.6/32, proto=TCP, or any), found end of line");
    error_is(VC "Pattern any more\n", "collect.conf:3:13: expected the end of the line after "
             "\"any\", found \"more\"");
    error_is(VC "Pattern srcIP=1.2.3.4 extra\n", "collect.conf:3:23: expected \",\" or the end "
             "of the line after \"srcIP=1.2.3.4\", found \"extra\"");
    error_is(VC "Pattern foo=1\n", "collect.conf:3:9: unknown pattern field \"foo\" (expected "
             "srcIP, dstIP, proto, srcPort, dstPort or dualDirect)");
    error_is(VC "proto=TCP, Mode=mirror\n", "collect.conf:3:12: unknown pattern field \"Mode\" "
             "(expected srcIP, dstIP, proto, srcPort, dstPort or dualDirect)");

    /* names */
    error_is("VM Node :\n", "collect.conf:1:10: expected a node name after \"VM Node :\", found "
             "end of line");
    error_is("VM Node : # c\n", "collect.conf:1:10: expected a node name after \"VM Node :\", "
             "found end of line");
    error_is("Virtual Appliance Link : \"l1\"\n", "collect.conf:1:26: expected a link name after "
             "\"Virtual Appliance Link :\", found \"\\x22l1\\x22\"");
    error_is("VM Node : a/b\n", "collect.conf:1:12: unexpected character \"/\" in node name: "
             "names are letters, digits, '_', '-' and '.'");
    error_is("VM Node : web\xc3\xa9\n", "collect.conf:1:14: unexpected character \"\\xc3\" in "
             "node name: names are letters, digits, '_', '-' and '.'");
    error_is("VM Node : a b\n", "collect.conf:1:13: expected the end of the line after \"a\", "
             "found \"b\"");
    error_is("VM Node : a\nCap input output\n", "collect.conf:2:11: expected the end of the "
             "line after \"input\", found \"output\"");
    error_is("VM Node : a\nCap input, output\n", "collect.conf:2:10: unexpected \",\" after "
             "\"input\": one capture point per line");
    error_is("VM Node : a\nCap\n", "collect.conf:2:4: expected a capture point after \"Cap\", "
             "found end of line");
    error_is("Virtual Appliance Link : l\nCap:\n", "collect.conf:2:5: expected a node name after "
             "\"Cap\", found end of line");
    error_is("VM Node : a\nCap inptu\n", "collect.conf:2:5: unknown capture point \"inptu\" (a "
             "node's capture points are input and output)");
    error_is("Appliance Node : a\nCapture Point: lb\n", "collect.conf:2:16: unknown capture "
             "point \"lb\" (a node's capture points are input and output)");
    char longname[200];
    snprintf(longname, sizeof longname, "VM Node : %.64s\n",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    error_is(longname, "collect.conf:1:11: node name \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
             "...\" is too long: 64 characters, at most 63");
    snprintf(longname, sizeof longname, "VM Node : %.63s\nCap input\n",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    c = parse(longname);
    CHECK(c != NULL && strlen(c->targets[0].name) == 63, "a name of 63 characters");
    vnd_collectconf_free(c);
    error_is("VM Node : a\x01\n", "collect.conf:1:12: unexpected character \"\\x01\" in node "
             "name: names are letters, digits, '_', '-' and '.'");

    /* addresses */
    error_is(VC "srcIP=10.0.0.6/24\n", "collect.conf:3:7: srcIP 10.0.0.6/24 has host bits set: "
             "write the network 10.0.0.0/24, or 10.0.0.6/32 for the one address");
    error_is(VC "dstIP = fe80::1/64\n", "collect.conf:3:9: dstIP fe80::1/64 has host bits set: "
             "write the network fe80::/64, or fe80::1/128 for the one address");
    error_is(VC "srcIP=10.0.0.6/33\n", "collect.conf:3:16: bad prefix length \"33\" for an IPv4 "
             "address (expected 0..32)");
    error_is(VC "srcIP=fe80::/129\n", "collect.conf:3:14: bad prefix length \"129\" for an IPv6 "
             "address (expected 0..128)");
    error_is(VC "srcIP=10.0.0.0/\n", "collect.conf:3:16: bad prefix length \"\" for an IPv4 "
             "address (expected 0..32)");
    error_is(VC "srcIP=10.0.0.300\n", "collect.conf:3:7: malformed address \"10.0.0.300\" after "
             "srcIP= (expected an IPv4 or IPv6 address with an optional /prefix, like "
             "10.0.0.6/32 or fe80::/64, or *)");
    error_is(VC "dstIP=web1\n", "collect.conf:3:7: malformed address \"web1\" after dstIP= "
             "(expected an IPv4 or IPv6 address with an optional /prefix, like 10.0.0.6/32 or "
             "fe80::/64, or *)");
    error_is(VC "srcIP=\n", "collect.conf:3:7: expected a value after \"srcIP=\", found end of "
             "line");
    error_is(VC "srcIP 10.0.0.1\n", "collect.conf:3:7: expected \"=\" after srcIP, found "
             "\"10.0.0.1\"");
    error_is(VC "srcIP=::1\ndstIP=10.0.0.1\n", "collect.conf:4:1: dstIP is IPv4 but srcIP "
             "(line 3) is IPv6: one Cap matches one address family");
    error_is(VC "srcIP=::1\nproto=ARP\n", "collect.conf:4:1: proto=ARP goes with IPv4 only, but "
             "srcIP (line 3) is IPv6");
    error_is(VC "proto=icmp\ndstIP=::1\n", "collect.conf:4:1: dstIP is IPv6 but proto=ICMP "
             "(line 3) goes with IPv4 only: ICMPv6 is proto=58");

    /* ports */
    error_is(VC "proto=ICMP\ndstPort=80\n", "collect.conf:4:1: dstPort needs proto=TCP or "
             "proto=UDP, but proto is ICMP (line 3)");
    error_is(VC "srcPort=80\nproto=ARP\n", "collect.conf:4:1: proto=ARP does not go with "
             "srcPort=80 (line 3): ports need proto=TCP or proto=UDP");
    error_is(VC "proto=*, srcPort=1\n", "collect.conf:3:10: srcPort needs proto=TCP or "
             "proto=UDP, but proto is * (line 3)");
    error_is(VC "dstPort=80\nCap output\n", "collect.conf:3:1: dstPort=80 needs proto=TCP or "
             "proto=UDP in its Cap block");
    error_is(VC "srcIP=10.0.0.1\n  srcPort=22\n", "collect.conf:4:3: srcPort=22 needs proto=TCP "
             "or proto=UDP in its Cap block");
    c = parse(VC "srcPort=*\ndstPort=*\nproto=ICMP\n");
    CHECK(c != NULL, "ports * go with any proto");
    vnd_collectconf_free(c);
    error_is(VC "proto=TCP\ndstPort=http\n", "collect.conf:4:9: dstPort \"http\" is not a port "
             "number (expected 0..65535 or *)");
    error_is(VC "proto=TCP\ndstPort=65536\n", "collect.conf:4:9: dstPort 65536 is out of range "
             "(expected 0..65535 or *)");
    error_is(VC "proto=TCP\ndstPort=99999999999999999999\n", "collect.conf:4:9: dstPort "
             "99999999999999999999 is out of range (expected 0..65535 or *)");

    /* dualDirect, Mode, Snaplen, Sampling */
    error_is(VC "dualDirect=yes\n", "collect.conf:3:12: expected True or False after "
             "dualDirect=, found \"yes\"");
    error_is(VC "Mode spy\n", "collect.conf:3:6: unknown mode \"spy\" (expected mirror, sflow, "
             "ipfix or tap)");
    error_is(VC "Mode\n", "collect.conf:3:5: expected a mode after \"Mode\" (mirror, sflow, "
             "ipfix or tap), found end of line");
    error_is(VC "Mode mirror sflow\n", "collect.conf:3:13: expected the end of the line after "
             "\"mirror\", found \"sflow\"");
    error_is(VC "Snaplen 65536\n", "collect.conf:3:9: Snaplen 65536 is out of range (expected "
             "0..65535: bytes kept of each packet, 0: whole packets)");
    error_is(VC "Snaplen -1\n", "collect.conf:3:9: expected a number 0..65535 after \"Snaplen\" "
             "(bytes kept of each packet, 0: whole packets), found \"-1\"");
    error_is(VC "Snaplen\n", "collect.conf:3:8: expected a number 0..65535 after \"Snaplen\" "
             "(bytes kept of each packet, 0: whole packets), found end of line");
    error_is(VC "Sampling 0\n", "collect.conf:3:10: Sampling 0 is out of range (expected "
             "1..1000000: 1 packet in N, 1: every packet)");
    error_is(VC "Sampling 1000001\n", "collect.conf:3:10: Sampling 1000001 is out of range "
             "(expected 1..1000000: 1 packet in N, 1: every packet)");
    error_is(VC "Sampling 1x\n", "collect.conf:3:10: expected a number 1..1000000 after "
             "\"Sampling\" (1 packet in N, 1: every packet), found \"1x\"");
    error_is(VC "Sampling 10 20\n", "collect.conf:3:13: expected the end of the line after "
             "\"10\", found \"20\"");

    /* a field twice in one Cap block (fine again in the next) */
    error_is(VC "proto=TCP\nproto=UDP\n", "collect.conf:4:1: proto given twice in one Cap "
             "block (first at line 3)");
    error_is(VC "srcIP=*\n# again\nSRCIP=10.0.0.1\n", "collect.conf:5:1: srcIP given twice in "
             "one Cap block (first at line 3)");
    error_is(VC "dstPort=*, dstPort=*\n", "collect.conf:3:12: dstPort given twice in one Cap "
             "block (first at line 3)");
    error_is(VC "Mode sflow\nmode sflow\n", "collect.conf:4:1: Mode given twice in one Cap "
             "block (first at line 3)");
    error_is(VC "Snaplen 1\nSnaplen: 1\n", "collect.conf:4:1: Snaplen given twice in one Cap "
             "block (first at line 3)");
    error_is(VC "Sampling 1\nSampling 1\n", "collect.conf:4:1: Sampling given twice in one Cap "
             "block (first at line 3)");
    error_is(VC "dualDirect=True\ndualDirect=True\n", "collect.conf:4:1: dualDirect given twice "
             "in one Cap block (first at line 3)");
    c = parse(VC "proto=TCP\nMode sflow\nCap output\nproto=UDP\nMode sflow\n");
    CHECK(c != NULL, "the same fields in the next Cap block");
    vnd_collectconf_free(c);

    /* commas */
    error_is(VC "srcIP=10.0.0.1,\n", "collect.conf:3:16: expected a pattern field after \",\", "
             "found end of line");
    error_is(VC "srcIP=10.0.0.1,,proto=TCP\n", "collect.conf:3:16: unknown pattern field \",\" "
             "(expected srcIP, dstIP, proto, srcPort, dstPort or dualDirect)");

    /* NUL in a NUL-terminated string cannot be seen; other control bytes are refused */
    error_is(VC "proto=TCP\x7f\n", "collect.conf:3:7: unknown protocol \"TCP\\x7f\" (expected "
             "TCP, UDP, ICMP, ARP or a number 0..255)");
    error_is("\tVM Node : a\nCap input\n\x1b[31m\n", "collect.conf:3:1: unknown keyword "
             "\"\\x1b[31m\" " KEYWORDS);
}

/* Flow Sampling N: Mode mirror only, not with Snaplen, 1..256, in any
 * order with the other settings; "Flow Pattern" still reads as before. */
static void flow_sampling(void)
{
    struct vnd_collect_conf *c = parse("VM Node : a\nCap input\nproto=TCP\nFlow Sampling 4\n"
                                       "Sampling 2\nCap output\nflow sampling: 256\n"
                                       "Mode mirror\nCap output\nFlow Pattern proto=UDP\n"
                                       "Flow  Sampling=1\n");
    CHECK(c != NULL, "Flow Sampling parses");
    if (c && c->targets[0].ncaps == 3) {
        const struct vnd_cc_cap *k = c->targets[0].caps;
        CHECK(k[0].flow_sampling == 4 && k[0].sampling == 2 && k[0].mode == VND_CC_MIRROR,
              "flow 1 in 4 beside packet sampling 1 in 2 at the table server");
        CHECK_EQ_INT(k[1].flow_sampling, 256, "lower case, ':' and the largest N");
        CHECK(k[2].flow_sampling == 1 && k[2].pattern.proto == 17,
              "Flow Pattern and Flow Sampling 1 in one Cap");
    }
    vnd_collectconf_free(c);
    c = parse("VM Node : a\nCap input\n");
    CHECK(c && c->targets[0].caps[0].flow_sampling == 1, "default: every flow");
    vnd_collectconf_free(c);
    error_is(VC "Flow Sampling 0\n", "collect.conf:3:15: Flow Sampling 0 is out of range "
             "(expected 1..256: 1 flow in N picked in the switch, 1: every flow)");
    error_is(VC "Flow Sampling 257\n", "collect.conf:3:15: Flow Sampling 257 is out of range "
             "(expected 1..256: 1 flow in N picked in the switch, 1: every flow)");
    error_is(VC "Flow Sampling ten\n", "collect.conf:3:15: expected a number 1..256 after "
             "\"Flow Sampling\" (1 flow in N picked in the switch, 1: every flow), found "
             "\"ten\"");
    error_is(VC "Flow Sampling 4\nFlow Sampling 4\n", "collect.conf:4:1: Flow Sampling given "
             "twice in one Cap block (first at line 3)");
    error_is(VC "Flow Sampling 4\nMode sflow\n", "collect.conf:4:1: Mode sflow cannot take "
             "Flow Sampling (line 3): flows are picked in the switch for Mode mirror only (use "
             "Sampling for sflow)");
    error_is(VC "Mode ipfix\nFlow Sampling 4\n", "collect.conf:4:1: Flow Sampling needs Mode "
             "mirror, but Mode is ipfix (line 3): use Sampling for ipfix");
    error_is(VC "Flow Sampling 4\nSnaplen 128\n", "collect.conf:4:1: Snaplen cannot go with "
             "Flow Sampling (line 3): the switch cannot cut the copies of sampled flows; drop "
             "one of them");
    error_is(VC "Snaplen 128\nFlow Sampling 4\n", "collect.conf:4:1: Flow Sampling cannot go "
             "with Snaplen (line 3): the switch cannot cut the copies of sampled flows; drop "
             "one of them");
    error_is("Flow Sampling 4\n", "collect.conf:1:1: \"Flow Sampling\" before any block: "
             "start with a " BLOCKS " line and a Cap line");
    error_is(VC "Flow Samplingx 4\n", "collect.conf:3:6: expected \"Pattern\" after \"Flow\", "
             "found \"Samplingx\"");
    /* Mode sflow with Flow Sampling 1 is no sampling in the switch: fine */
    c = parse(VC "Mode sflow\nFlow Sampling 1\n");
    CHECK(c != NULL, "Flow Sampling 1 goes with any mode");
    vnd_collectconf_free(c);
}

/* "Sampling N hash": the table server samples by packet ID; count (the
 * default) may be named; Mode mirror only, in either order. */
static void sampling_method(void)
{
    struct vnd_collect_conf *c = parse(VC "Sampling 8 hash\nCap output\nSampling = 4 count\n"
                                       "Cap output\nsampling 2  HASH   # both points\n");
    CHECK(c != NULL, "Sampling N hash parses");
    if (c && c->targets[0].ncaps == 3) {
        const struct vnd_cc_cap *k = c->targets[0].caps;
        CHECK(k[0].sampling == 8 && k[0].sampling_hash, "Sampling 8 hash");
        CHECK(k[1].sampling == 4 && !k[1].sampling_hash, "Sampling = 4 count");
        CHECK(k[2].sampling == 2 && k[2].sampling_hash, "case-insensitive, a comment after");
    }
    vnd_collectconf_free(c);
    c = parse(VC "Sampling 8\n");
    CHECK(c && !c->targets[0].caps[0].sampling_hash, "default: count");
    vnd_collectconf_free(c);
    error_is(VC "Sampling 8 often\n", "collect.conf:3:12: unknown sampling method \"often\" "
             "(expected count, every Nth packet, or hash, by packet ID)");
    error_is(VC "Sampling 8 hash 2\n", "collect.conf:3:17: expected the end of the line after "
             "\"hash\", found \"2\"");
    error_is(VC "Sampling 8 hash\nMode sflow\n", "collect.conf:4:1: Mode sflow cannot take "
             "\"Sampling N hash\" (line 3): the switch samples sflow; hash sampling is for Mode "
             "mirror or tap");
    error_is(VC "Mode ipfix\nSampling 8 hash\n", "collect.conf:4:1: \"Sampling N hash\" needs "
             "Mode mirror or tap, but Mode is ipfix (line 3): the switch samples ipfix");
    /* a tap's packets reach the table server whole: it samples them */
    c = parse(VC "Mode tap\nSampling 8 hash\n");
    CHECK(c && c->targets[0].caps[0].mode == VND_CC_TAP && c->targets[0].caps[0].sampling_hash,
          "Mode tap takes Sampling N hash");
    vnd_collectconf_free(c);
}

/* Mode tap: the table server reads the port's interface; Snaplen is the
 * kernel's there; flows are picked in the switch for mirror only. */
static void mode_tap(void)
{
    struct vnd_collect_conf *c = parse(VC "mode TAP\nSnaplen 128\nSampling 4\n");
    CHECK(c != NULL, "Mode tap parses (any case)");
    if (c) {
        const struct vnd_cc_cap *k = c->targets[0].caps;
        CHECK(k->mode == VND_CC_TAP && k->snaplen == 128 && k->sampling == 4,
              "Mode tap, Snaplen 128, Sampling 4");
        CHECK(strcmp(vnd_cc_mode_name(k->mode), "tap") == 0, "its name: tap");
    }
    vnd_collectconf_free(c);
    error_is(VC "Mode tap\nFlow Sampling 4\n", "collect.conf:4:1: Flow Sampling needs Mode "
             "mirror, but Mode is tap (line 3): use Sampling for tap");
}

int main(void)
{
    figure5();
    figure4();
    ipv6_and_settings();
    case_comments_blanks();
    round_trip();
    limits_and_bytes();
    errors();
    flow_sampling();
    sampling_method();
    mode_tap();
    return tap_done();
}
