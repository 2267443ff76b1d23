/* test_policy.c — the policy manager: the paper's Fig. 5 adapted to the
 * example NIB compiles to one trace per capture point and direction with
 * the matches DESIGN.md gives; names the tenant does not own are refused
 * alike whether another tenant has them or nobody; the OpenFlow rule
 * text; overlap of matches; the parse configuration per trace. */
#include "../tap.h"

#include <stdbool.h>
#include <pcap/pcap.h>

#include "control/nib.h"
#include "control/ovs.h"
#include "control/policy.h"
#include "lang/filter.h"
#include "lang/collectconf.h"
#include "lang/parseconf.h"
#include "util/util.h"

static struct vnd_nib *nib;

static struct vnd_policy *compile(const char *tenant, const char *text, char **err)
{
    struct vnd_collect_conf *cc = NULL;
    struct vnd_policy *p = NULL;
    *err = NULL;
    if (vnd_collectconf_parse(text, "c.conf", &cc, err))
        return NULL;
    if (vnd_policy_compile(nib, vnd_nib_tenant_by_id(nib, tenant), cc, "c.conf", &p, err))
        p = NULL;
    vnd_collectconf_free(cc);
    return p;
}

static void refused(const char *tenant, const char *text, const char *want)
{
    char *err;
    struct vnd_policy *p = compile(tenant, text, &err);
    char name[48];
    snprintf(name, sizeof name, "%s", text);
    for (char *c = name; *c; c++)
        if (*c == '\n')
            *c = '|';
    CHECK(p == NULL, "refused for %s: %s", tenant, name);
    CHECK_EQ_STR(err, want, "its message");
    vnd_policy_free(p);
    free(err);
}

static void match_is(const struct vnd_policy_trace *t, const char *want)
{
    char *m = vnd_capture_match_text(&t->match);
    CHECK_EQ_STR(m, want, "match of %s", t->name);
    free(m);
}

/* An Ethernet frame to 02:00:00:00:01:03 (in one VLAN tag when `tagged`):
 * IPv4 TCP from `src` to 10.0.1.3, destination port `dport`. */
static void tcp_frame(uint8_t *f, bool tagged, uint32_t src, int dport)
{
    memset(f, 0, 64);
    static const uint8_t dst[6] = {2, 0, 0, 0, 1, 3}, from[6] = {2, 0, 0, 0, 1, 2};
    memcpy(f, dst, 6);
    memcpy(f + 6, from, 6);
    int o = 12;
    if (tagged) {
        f[o] = 0x81, f[o + 1] = 0x00, f[o + 3] = 7;
        o += 4;
    }
    f[o] = 0x08, f[o + 1] = 0x00;
    uint8_t *ip = f + o + 2;
    ip[0] = 0x45, ip[3] = 40, ip[8] = 64, ip[9] = 6;
    ip[12] = (uint8_t)(src >> 24), ip[13] = (uint8_t)(src >> 16), ip[14] = (uint8_t)(src >> 8);
    ip[15] = (uint8_t)src;
    ip[16] = 10, ip[17] = 0, ip[18] = 1, ip[19] = 3;
    ip[20] = 0xc0, ip[21] = 0x01, ip[22] = (uint8_t)(dport >> 8), ip[23] = (uint8_t)dport;
    ip[32] = 0x50;
}

int main(void)
{
    char *text = NULL, *err = NULL;
    size_t len = 0;
    if (vnd_read_file("docs/examples/nib.json", &text, &len)
        || vnd_nib_parse(text, len, "nib.json", NULL, &nib, &err)) {
        printf("not ok 1 - docs/examples/nib.json loads: %s\n", err ? err : "unreadable");
        return 1;
    }
    free(text);

    /* Fig. 5, on alice's appliance. */
    struct vnd_policy *p = compile("alice",
        "Appliance Node : ids\n"
        "Cap input\n"
        "srcIP=10.0.1.2/32\n"
        "dstIP=10.0.1.3/32\n"
        "proto=TCP\n"
        "dstPort=5201\n"
        "dualDirect=True\n"
        "Cap output\n"
        "srcIP=10.0.1.2\n"
        "proto=TCP\n"
        "Sampling 10\n"
        "Snaplen 128\n", &err);
    CHECK(p != NULL, "Fig. 5 compiles%s%s", err ? ": " : "", err ? err : "");
    if (p) {
        CHECK_EQ_INT(p->ntraces, 3, "input both ways, output one way: 3 traces");
        CHECK_EQ_STR(p->traces[0].name, "ids_in", "input trace name");
        CHECK_EQ_STR(p->traces[1].name, "ids_in_rev", "its reverse");
        CHECK_EQ_STR(p->traces[2].name, "ids_out", "output trace name");
        CHECK(p->traces[0].into && !p->traces[1].into && !p->traces[2].into, "directions");
        CHECK_EQ_INT(p->traces[0].ofport, 3, "input port's OpenFlow number");
        CHECK_EQ_INT(p->traces[2].ofport, 4, "output port's OpenFlow number");
        CHECK_EQ_STR(nib->hosts[p->traces[0].host].name, "hv1", "captured where the port lives");
        match_is(&p->traces[0], "dl_dst=02:00:00:00:01:03,tcp,nw_src=10.0.1.2/32,"
                                "nw_dst=10.0.1.3/32,tp_dst=5201");
        match_is(&p->traces[1], "in_port=3,tcp,nw_src=10.0.1.3/32,nw_dst=10.0.1.2/32,"
                                "tp_src=5201");
        match_is(&p->traces[2], "in_port=4,tcp,nw_src=10.0.1.2/32");
        CHECK_EQ_INT(p->traces[2].sampling, 10, "sampling kept");
        CHECK_EQ_INT(p->traces[2].snaplen, 128, "snaplen kept");
        CHECK(!vnd_capture_match_overlap(&p->traces[0].match, &p->traces[1].match),
              "a trace and its reverse never see the same packet here");
        CHECK(vnd_capture_match_overlap(&p->traces[0].match, &p->traces[2].match),
              "dl_dst of one port and in_port of another may meet: counted as overlapping "
              "(the rules then take different reg7 bits)");
    }
    vnd_policy_free(p);

    /* The same names compile for bob to bob's own ports. */
    p = compile("bob", "Appliance Node : ids\nCap input\n", &err);
    CHECK(p && p->ntraces == 1, "bob's ids compiles");
    if (p) {
        match_is(&p->traces[0], "dl_dst=02:00:00:00:02:03");
        CHECK_EQ_STR(nib->hosts[p->traces[0].host].name, "hv2", "bob's ids is on hv2");
    }
    vnd_policy_free(p);

    /* Links, VMs, ICMP, ARP, IPv6. */
    p = compile("alice", "Virtual Appliance Link : l1\nCap ids\nproto=ICMP\n"
                         "VM Node : client\nCap output\nproto=ARP\n"
                         "VM Node : server\nCap input\nsrcIP=fe80::1/128\nproto=UDP\n", &err);
    CHECK(p && p->ntraces == 3, "link, VM and IPv6 capture points compile%s%s",
          err ? ": " : "", err ? err : "");
    if (p && p->ntraces == 3) {
        CHECK_EQ_STR(p->traces[0].name, "l1_ids", "link trace name");
        match_is(&p->traces[0], "dl_dst=02:00:00:00:01:03,icmp");
        CHECK_EQ_STR(p->traces[1].name, "client_out", "VM output trace");
        match_is(&p->traces[1], "in_port=1,arp");
        match_is(&p->traces[2], "dl_dst=02:00:00:00:01:05,udp6,ipv6_src=fe80::1/128");
        CHECK(vnd_capture_match_overlap(&p->traces[0].match, &p->traces[1].match) == false,
              "ICMP and ARP never overlap");
    }
    vnd_policy_free(p);

    /* Not owned: the same words whether another tenant has it or not. */
    refused("alice", "Appliance Node : lb\nCap input\n", "c.conf:1:18: no appliance lb in your network");
    refused("bob", "VM Node : web9\nCap input\n", "c.conf:1:11: no VM web9 in your network");
    refused("alice", "Virtual Appliance Link : l9\nCap ids\n", "c.conf:1:26: no link l9 in your network");
    refused("alice", "Virtual Appliance Link : l1\nCap server\n",
            "c.conf:2:5: link l1 does not end at server (its ends: client, ids)");
    refused("alice", "VM Node : ids\nCap input\n",
            "c.conf:1:11: ids is an appliance, not a VM: write Appliance Node : ids");
    refused("alice", "Appliance Node : ids\nCap input\nCap input\n",
            "c.conf:3:5: this capture point is already captured above (trace ids_in)");
    /* Mode sflow: the same traces, the pattern as the table server's filter */
    struct vnd_policy *ps = compile("alice",
        "Appliance Node : ids\n"
        "Cap input\n"
        "srcIP=10.0.1.2/32\n"
        "proto=TCP\n"
        "dstPort=5201\n"
        "Mode sflow\n"
        "Sampling 100\n"
        "Snaplen 128\n", &err);
    CHECK(ps != NULL, "Mode sflow compiles%s%s", err ? ": " : "", err ? err : "");
    if (ps) {
        CHECK(ps->ntraces == 1 && ps->traces[0].mode == VND_CC_SFLOW, "an sflow trace");
        CHECK_EQ_INT(ps->traces[0].sampling, 100, "sflow sampling 1 in 100");
        CHECK_EQ_INT(ps->traces[0].snaplen, 128, "header bytes");
        char *f = vnd_capture_filter_text(&ps->traces[0].match);
        CHECK_EQ_STR(f, "eth.dst = 02:00:00:00:01:03 and ip.proto = 6 and ip.src = 10.0.1.2/32"
                        " and (tcp.dst = 5201 or udp.dst = 5201)", "the pattern as a filter");
        char *ferr = NULL;
        struct vnd_filter *cf = vnd_filter_compile(f, "match", 1, 1, &ferr);
        CHECK(cf != NULL, "the table server can compile it%s%s", ferr ? ": " : "",
              ferr ? ferr : "");
        vnd_filter_free(cf);
        free(ferr);
        free(f);
        vnd_policy_free(ps);
    }
    free(err);
    err = NULL;
    /* Mode tap: the same pattern as the kernel's filter, which passes the
     * frames the match keeps, tagged or not, and not the others */
    struct vnd_policy *ptap = compile("alice",
        "Appliance Node : ids\n"
        "Cap input\n"
        "srcIP=10.0.1.2/32\n"
        "proto=TCP\n"
        "dstPort=5201\n"
        "Mode tap\n"
        "Sampling 4 hash\n"
        "Snaplen 128\n", &err);
    CHECK(ptap != NULL, "Mode tap compiles%s%s", err ? ": " : "", err ? err : "");
    if (ptap) {
        CHECK(ptap->ntraces == 1 && ptap->traces[0].mode == VND_CC_TAP, "a tap trace");
        CHECK(ptap->traces[0].sampling == 4 && ptap->traces[0].sampling_hash
              && ptap->traces[0].snaplen == 128, "its sampling (hash) and snap length");
        char *b = vnd_capture_bpf_text(&ptap->traces[0].match);
        CHECK_EQ_STR(b, "(ether dst 02:00:00:00:01:03 and ip proto 6 and src net 10.0.1.2/32 and "
                        "dst port 5201) or (vlan and ether dst 02:00:00:00:01:03 and ip proto 6 "
                        "and src net 10.0.1.2/32 and dst port 5201)", "the pattern as a BPF filter");
        pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
        struct bpf_program prog;
        bool compiled = pcap_compile(dead, &prog, b, 1, PCAP_NETMASK_UNKNOWN) == 0;
        CHECK(compiled, "libpcap compiles it%s%s", compiled ? "" : ": ", compiled ? ""
              : pcap_geterr(dead));
        if (compiled) {
            uint8_t f[64];
            struct pcap_pkthdr h = {.caplen = 58, .len = 58};
            tcp_frame(f, false, 0x0a000102, 5201);
            CHECK(pcap_offline_filter(&prog, &h, f), "it passes 10.0.1.2 -> :5201");
            tcp_frame(f, false, 0x0a000102, 80);
            CHECK(!pcap_offline_filter(&prog, &h, f), "not :80");
            tcp_frame(f, false, 0x0a000109, 5201);
            CHECK(!pcap_offline_filter(&prog, &h, f), "not from 10.0.1.9");
            h.caplen = h.len = 62;
            tcp_frame(f, true, 0x0a000102, 5201);
            CHECK(pcap_offline_filter(&prog, &h, f), "and the same in a VLAN tag");
            pcap_freecode(&prog);
        }
        pcap_close(dead);
        free(b);
        struct vnd_capture_match any = {0};
        any.pattern.src_port = any.pattern.dst_port = -1;
        b = vnd_capture_bpf_text(&any);
        CHECK_EQ_STR(b, "", "no pattern: no filter");
        free(b);
        any.pattern.proto_kind = VND_CC_IPPROTO;
        any.pattern.proto = 17;
        b = vnd_capture_bpf_text(&any);
        CHECK_EQ_STR(b, "((ip proto 17 or ip6)) or (vlan and (ip proto 17 or ip6))",
                     "a protocol without an address: IPv6 too (the match decides)");
        free(b);
        vnd_policy_free(ptap);
    }
    free(err);
    err = NULL;
    refused("alice", "Appliance Node : ids\nCap input\nMode tap\nPolling 3\n",
            "c.conf:2:5: Polling sets how often the sFlow agent sends its interface counters: it "
            "goes with Mode sflow, not Mode tap");
    /* Mode ipfix: the rule's traces, with the flow cache's settings */
    struct vnd_policy *pi = compile("alice", "Appliance Node : ids\nCap input\nMode ipfix\n"
                                    "Sampling 10\nActiveTimeout 2\nMaxFlows 100\n", &err);
    CHECK(pi != NULL, "Mode ipfix compiles%s%s", err ? ": " : "", err ? err : "");
    if (pi) {
        CHECK(pi->ntraces == 1 && pi->traces[0].mode == VND_CC_IPFIX, "an ipfix trace");
        CHECK(pi->traces[0].sampling == 10 && pi->traces[0].active_timeout == 2
              && pi->traces[0].max_flows == 100, "sampling, active timeout, max flows");
        vnd_policy_free(pi);
    }
    pi = compile("alice", "Appliance Node : ids\nCap input\nMode ipfix\n", &err);
    CHECK(pi && pi->traces[0].active_timeout == VND_IPFIX_ACTIVE_TIMEOUT_DEFAULT
          && pi->traces[0].max_flows == VND_IPFIX_MAX_FLOWS_DEFAULT, "the cache's defaults");
    vnd_policy_free(pi);
    refused("alice", "Appliance Node : ids\nCap input\nMode sflow\nActiveTimeout 3\n",
            "c.conf:2:5: ActiveTimeout and MaxFlows set OVS's IPFIX cache: they go with Mode "
            "ipfix, not Mode sflow");
    refused("alice", "Appliance Node : ids\nCap input\nMode ipfix\nSnaplen 64\n",
            "c.conf:2:5: Mode ipfix exports flow records, not packet bytes: Snaplen goes with "
            "Mode mirror or Mode sflow");
    /* sFlow's counter polling: its default, a tenant's, and nowhere else */
    pi = compile("alice", "Appliance Node : ids\nCap input\nMode sflow\n", &err);
    CHECK(pi && pi->traces[0].polling == VND_SFLOW_POLLING_DEFAULT, "sflow: polling 5 s");
    vnd_policy_free(pi);
    pi = compile("alice", "Appliance Node : ids\nCap input\nMode sflow\nPolling 2\n", &err);
    CHECK(pi && pi->traces[0].polling == 2, "sflow: Polling 2");
    vnd_policy_free(pi);
    refused("alice", "Appliance Node : ids\nCap input\nPolling 2\n",
            "c.conf:2:5: Polling sets how often the sFlow agent sends its interface counters: "
            "it goes with Mode sflow, not Mode mirror");
    /* the sample action's probability is in 65535ths: 1 in 65535 at most */
    refused("alice", "Appliance Node : ids\nCap input\nMode ipfix\nSampling 65536\n",
            "c.conf:2:5: Mode ipfix samples with the switch's sample action, 1 in at most "
            "65535 packets: Sampling 65536 is past it");
    pi = compile("alice", "Appliance Node : ids\nCap input\nMode ipfix\nSampling 65535\n", &err);
    CHECK(pi && pi->traces[0].sampling == 65535, "Mode ipfix, Sampling 65535: probability 1");
    vnd_policy_free(pi);
    /* the rate the switch applies, whole 65535ths: 1000 is 1 in 1008 */
    pi = compile("alice", "Appliance Node : ids\nCap input\nMode ipfix\nSampling 1000\n", &err);
    CHECK(pi && pi->traces[0].sampling == 1008, "Mode ipfix, Sampling 1000: 1 in 1008 said");
    vnd_policy_free(pi);
    int same = 1;
    for (int n = 1; n <= VND_IPFIX_SAMPLING_MAX; n++) {
        int e = vnd_ipfix_sampling_effective(n);
        if (65535 / e != 65535 / n || e < n)
            same = 0;
    }
    CHECK(same, "every N's rate gives its probability again, and is no denser");
    /* bob's server has only an iface_id: not placed until filled from OVS */
    refused("bob", "VM Node : server\nCap input\n",
            "c.conf:2:5: server.eth0 cannot be captured now: its placement is not known "
            "(ask your cloud's operator)");

    /* The OpenFlow rule of an ipfix trace: a sample instead of a copy */
    struct vnd_capture_rule ri = {.cookie = VND_COOKIE(7, 3), .match = "in_port=4,tcp",
                                  .tag = 17, .bit = 2, .mirror_port = 9, .sampling = 10};
    char *rit = vnd_capture_rule_text(&ri);
    CHECK_EQ_STR(rit, "table=0,priority=100,cookie=0x564e000000070003,reg7=0/0x4,in_port=4,tcp,"
                      "actions=sample(probability=6553,collector_set_id=22094,"
                      "obs_domain_id=22094,obs_point_id=17),load:1->NXM_NX_REG7[2],resubmit(,0)",
                 "ipfix rule text");
    free(rit);
    ri.sampling = 1;
    rit = vnd_capture_rule_text(&ri);
    CHECK(strstr(rit, "sample(probability=65535,") != NULL, "Sampling 1: every packet");
    free(rit);
    /* The OpenFlow rule. */
    struct vnd_capture_rule r = {VND_COOKIE(7, 2), "in_port=4,tcp", 17, 3, 9, 0, 0, 0};
    char *rt = vnd_capture_rule_text(&r);
    CHECK_EQ_STR(rt, "table=0,priority=100,cookie=0x564e000000070002,reg7=0/0x8,in_port=4,tcp,"
                     "actions=push_vlan:0x8100,set_field:4113->vlan_vid,output:9,pop_vlan,"
                     "load:1->NXM_NX_REG7[3],resubmit(,0)", "rule text");
    free(rt);
    /* Snaplen: truncated in the switch (before the tag is pushed) */
    r.max_len = 128;
    rt = vnd_capture_rule_text(&r);
    CHECK_EQ_STR(rt, "table=0,priority=100,cookie=0x564e000000070002,reg7=0/0x8,in_port=4,tcp,"
                     "actions=push_vlan:0x8100,set_field:4113->vlan_vid,"
                     "output(port=9,max_len=128),pop_vlan,load:1->NXM_NX_REG7[3],resubmit(,0)",
                     "rule text with Snaplen 128: output max_len");
    free(rt);
    CHECK((VND_COOKIE(7, 2) & VND_COOKIE_DIAG_MASK) == VND_COOKIE(7, 0), "diagnosis mask");
    CHECK(vnd_capture_group_text(&r) == NULL, "no group without flow sampling");
    /* Flow Sampling 4: the copy goes through the trace's select group */
    r.max_len = 0;
    r.flow_sampling = 4;
    rt = vnd_capture_rule_text(&r);
    CHECK_EQ_STR(rt, "table=0,priority=100,cookie=0x564e000000070002,reg7=0/0x8,in_port=4,tcp,"
                     "actions=group:1447952401,load:1->NXM_NX_REG7[3],resubmit(,0)",
                     "rule text with Flow Sampling 4: group 0x564e0011 (tag 17)");
    free(rt);
    rt = vnd_capture_group_text(&r);
    CHECK_EQ_STR(rt, "group_id=1447952401,type=select,selection_method=dp_hash,"
                     "selection_method_param=0x100000000,"
                     "bucket=bucket_id:0,weight:64,actions=push_vlan:0x8100,"
                     "set_field:4113->vlan_vid,output:9,"
                     "bucket=bucket_id:1,weight:191,actions=drop,"
                     "bucket=bucket_id:2,weight:1,actions=drop",
                     "group: 64 of 256 hash values copy, symmetric L4 dp_hash");
    free(rt);
    CHECK_EQ_INT(vnd_flow_sampling_share(4), 64, "1 in 4: 64 of 256");
    CHECK_EQ_INT(vnd_flow_sampling_share(10), 26, "1 in 10: 26 of 256 (rounded)");
    CHECK_EQ_INT(vnd_flow_sampling_share(256), 1, "1 in 256: 1");
    CHECK_EQ_INT(vnd_flow_sampling_share(200), 1, "1 in 200: 1 (rounded)");
    CHECK_EQ_INT(vnd_flow_sampling_share(1), 256, "every flow");
    CHECK(vnd_flow_sampling_effective(10) > 9.84 && vnd_flow_sampling_effective(10) < 9.85,
          "1 in 10 is really 1 in 9.846");
    CHECK(vnd_flow_sampling_effective(4) == 4.0, "1 in 4 is exact");

    /* Parse configuration per trace. */
    struct vnd_parse_conf *pc = NULL;
    CHECK(vnd_parseconf_parse("Trace ID ids_in\nFields: timestamp as ts, ip.id as id\n"
                              "Trace ID all\nTable ID flows\nFilter: ip.proto = tcp\n"
                              "Fields: timestamp as ts, ip.src as src\n", "p.conf", &pc, &err) == 0,
          "a parse configuration");
    char **tables = NULL;
    int nt = 0;
    char *pt = vnd_policy_parse_for(pc, "ids_in", &tables, &nt);
    CHECK_EQ_STR(pt, "Trace ID all\nTable ID ids_in\nFields: timestamp as ts, ip.id as id\n"
                     "Trace ID all\nTable ID flows\nFilter: ip.proto = tcp\n"
                     "Fields: timestamp as ts, ip.src as src\n", "ids_in's rules, tables named");
    CHECK(nt == 2 && !strcmp(tables[0], "ids_in") && !strcmp(tables[1], "flows"), "its tables");
    struct vnd_parse_conf *again = NULL;
    CHECK(vnd_parseconf_parse(pt, "x", &again, &err) == 0, "what a table server gets parses");
    vnd_parseconf_free(again);
    for (int i = 0; i < nt; i++)
        free(tables[i]);
    free(tables);
    free(pt);
    /* The header lever: bytes a copy may be cut to and keep what the
     * trace's rules read. */
    CHECK_EQ_INT(vnd_policy_header_bytes(pc, "ids_in"), 128,
                 "header fields only (both rules): its copies may be cut to 128 bytes");
    struct vnd_parse_conf *pay = NULL;
    CHECK(vnd_parseconf_parse("Trace ID ids_in\nFields: timestamp as ts, payload.hash as h\n"
                              "Trace ID ids_out\nFilter: dns.qname = \"a.example\"\n"
                              "Fields: timestamp as ts, ip.src as src\n"
                              "Trace ID lb_in\nFields: timestamp as ts, payload.len as n, tcp.sack as sack\n",
                              "q.conf", &pay, &err) == 0, "a parse configuration reading payloads");
    CHECK_EQ_INT(vnd_policy_header_bytes(pay, "ids_in"), 0, "a field of the payload: not cut");
    CHECK_EQ_INT(vnd_policy_header_bytes(pay, "ids_out"), 0, "a filter on DNS: not cut");
    CHECK_EQ_INT(vnd_policy_header_bytes(pay, "lb_in"), 128,
                 "payload.len and TCP options are the headers'");
    CHECK_EQ_INT(vnd_policy_header_bytes(pay, "web_in"), 128, "no rule covers it: nothing read");
    vnd_parseconf_free(pay);
    struct vnd_parse_conf *dflt = vnd_parseconf_default();
    CHECK_EQ_INT(vnd_policy_header_bytes(dflt, "ids_in"), 128,
                 "the standard columns are the headers'");
    vnd_parseconf_free(dflt);
    p = compile("alice", "Appliance Node : ids\nCap output\n", &err);
    CHECK(vnd_policy_check_parse(p, pc, "p.conf", &err) == -1, "a Trace ID not in the diagnosis");
    CHECK_EQ_STR(err, "p.conf:1:1: no trace ids_in in this diagnosis (its traces: ids_out)",
                 "its message");
    free(err);
    vnd_policy_free(p);
    vnd_parseconf_free(pc);
    vnd_nib_free(nib);
    return tap_done();
}
