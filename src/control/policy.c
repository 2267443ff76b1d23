/* policy.c — trace collection configuration → collection policy. */
#include "control/policy.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control/ovs.h"
#include "lang/filter.h"
#include "util/util.h"

#define MAX_TRACES 1024

static int fail(char **err, const char *origin, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(char **err, const char *origin, int line, int col, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    *err = vnd_strdup_printf("%s:%d:%d: %s", origin, line, col, msg);
    return -1;
}

static void swap_pattern(struct vnd_cc_pattern *p)
{
    struct vnd_cc_prefix a = p->src;
    p->src = p->dst;
    p->dst = a;
    int port = p->src_port;
    p->src_port = p->dst_port;
    p->dst_port = port;
}

static const char *kind_word(enum vnd_cc_kind k)
{
    return k == VND_CC_VM ? "VM" : k == VND_CC_APPLIANCE ? "appliance" : "link";
}

/* Adds one trace: capture at `port` of `node`, into it or out of it. */
static int add_trace(struct vnd_policy *p, const char *name, const struct vnd_nib_node *node,
                     const struct vnd_nib_port *port, const char *point, bool into,
                     const struct vnd_cc_cap *cap, bool reverse, const char *origin, char **err)
{
    for (int i = 0; i < p->ntraces; i++)
        if (strcmp(p->traces[i].name, name) == 0)
            return fail(err, origin, cap->line, cap->col,
                        "this capture point is already captured above (trace %s)", name);
    if (p->ntraces >= MAX_TRACES)
        return fail(err, origin, cap->line, cap->col,
                    "more than %d traces in one diagnosis", MAX_TRACES);
    if (port->ofport <= 0 || !port->mac)
        return fail(err, origin, cap->line, cap->col,
                    "%s.%s cannot be captured now: its placement is not known "
                    "(ask your cloud's operator)", node->name, port->name);
    p->traces = vnd_xrealloc(p->traces, (size_t)(p->ntraces + 1) * sizeof *p->traces);
    struct vnd_policy_trace *t = &p->traces[p->ntraces++];
    memset(t, 0, sizeof *t);
    t->name = vnd_xstrdup(name);
    t->node = vnd_xstrdup(node->name);
    t->point = vnd_xstrdup(point);
    t->into = into;
    t->host = port->host;
    t->ofport = port->ofport;
    t->port_name = vnd_strdup_printf("%s.%s", node->name, port->name);
    t->match.pattern = cap->pattern;
    if (reverse)
        swap_pattern(&t->match.pattern);
    if (into)
        snprintf(t->match.dl_dst, sizeof t->match.dl_dst, "%s", port->mac);
    else
        t->match.in_port = port->ofport;
    t->mode = cap->mode;
    t->sampling = cap->sampling > 0 ? cap->sampling : 1;
    t->sampling_hash = cap->sampling_hash;
    t->snaplen = cap->snaplen;
    t->flow_sampling = cap->flow_sampling > 0 ? cap->flow_sampling : 1;
    t->active_timeout = cap->active_timeout >= 0 ? cap->active_timeout
                                                 : VND_IPFIX_ACTIVE_TIMEOUT_DEFAULT;
    t->max_flows = cap->max_flows >= 0 ? cap->max_flows : VND_IPFIX_MAX_FLOWS_DEFAULT;
    t->polling = cap->polling > 0 ? cap->polling : VND_SFLOW_POLLING_DEFAULT;
    /* the switch samples in whole 65535ths: say the rate it applies */
    if (t->mode == VND_CC_IPFIX)
        t->sampling = vnd_ipfix_sampling_effective(t->sampling);
    return 0;
}

/* Both directions of one capture point. */
static int add_point(struct vnd_policy *p, const char *base, const struct vnd_nib_node *node,
                     const struct vnd_nib_port *port, const char *point, bool into,
                     const struct vnd_cc_cap *cap, const char *origin, char **err)
{
    if (add_trace(p, base, node, port, point, into, cap, false, origin, err))
        return -1;
    if (!cap->dual)
        return 0;
    char rev[VND_NIB_NAME_MAX * 2 + 8];
    snprintf(rev, sizeof rev, "%s_rev", base);
    return add_trace(p, rev, node, port, point, !into, cap, true, origin, err);
}

static int compile_cap(struct vnd_policy *p, const struct vnd_nib_tenant *t,
                       const struct vnd_cc_target *tg, const struct vnd_cc_cap *cap,
                       const char *origin, char **err)
{
    /* the IPFIX cache's settings mean nothing to a mirror or sFlow */
    if (cap->mode != VND_CC_IPFIX && (cap->active_timeout >= 0 || cap->max_flows >= 0))
        return fail(err, origin, cap->line, cap->col,
                    "ActiveTimeout and MaxFlows set OVS's IPFIX cache: they go with Mode "
                    "ipfix, not Mode %s", vnd_cc_mode_name(cap->mode));
    if (cap->mode != VND_CC_SFLOW && cap->polling >= 0)
        return fail(err, origin, cap->line, cap->col,
                    "Polling sets how often the sFlow agent sends its interface counters: it "
                    "goes with Mode sflow, not Mode %s", vnd_cc_mode_name(cap->mode));
    if (cap->mode == VND_CC_IPFIX && cap->sampling > VND_IPFIX_SAMPLING_MAX)
        return fail(err, origin, cap->line, cap->col,
                    "Mode ipfix samples with the switch's sample action, 1 in at most %d "
                    "packets: Sampling %d is past it", VND_IPFIX_SAMPLING_MAX, cap->sampling);
    if (cap->mode == VND_CC_IPFIX && cap->snaplen)
        return fail(err, origin, cap->line, cap->col,
                    "Mode ipfix exports flow records, not packet bytes: Snaplen goes with "
                    "Mode mirror or Mode sflow");
    char name[VND_NIB_NAME_MAX * 2 + 8];
    if (tg->kind == VND_CC_LINK) {
        const struct vnd_nib_link *l = vnd_nib_link(t, tg->name);
        if (!l)
            return fail(err, origin, tg->line, tg->col, "no link %s in your network", tg->name);
        for (int e = 0; e < 2; e++) {
            const struct vnd_nib_node *n = &t->nodes[l->node[e]];
            if (strcmp(n->name, cap->point) == 0) {
                snprintf(name, sizeof name, "%s_%s", l->name, n->name);
                return add_point(p, name, n, &n->ports[l->port[e]], l->name, true, cap,
                                 origin, err);
            }
        }
        return fail(err, origin, cap->line, cap->col, "link %s does not end at %s "
                    "(its ends: %s, %s)", l->name, cap->point,
                    t->nodes[l->node[0]].name, t->nodes[l->node[1]].name);
    }
    const struct vnd_nib_node *n = vnd_nib_node(t, tg->name);
    bool want_vm = tg->kind == VND_CC_VM;
    if (!n)
        return fail(err, origin, tg->line, tg->col, "no %s %s in your network",
                    kind_word(tg->kind), tg->name);
    if ((n->kind == VND_NIB_VM) != want_vm)
        return fail(err, origin, tg->line, tg->col, "%s is %s, not %s: write %s Node : %s",
                    n->name, n->kind == VND_NIB_VM ? "a VM" : "an appliance",
                    want_vm ? "a VM" : "an appliance",
                    n->kind == VND_NIB_VM ? "VM" : "Appliance", n->name);
    bool input = strcmp(cap->point, "input") == 0;
    int pi = input ? n->input : n->output;
    if (pi < 0)
        return fail(err, origin, cap->line, cap->col, "%s has several ports: capture one of "
                    "them on a Virtual Appliance Link", n->name);
    /* A node's input is what enters it, its output what leaves it. */
    snprintf(name, sizeof name, "%s_%s", n->name, input ? "in" : "out");
    return add_point(p, name, n, &n->ports[pi], cap->point, input, cap, origin, err);
}

int vnd_policy_compile(const struct vnd_nib *nib, const struct vnd_nib_tenant *t,
                       const struct vnd_collect_conf *cc, const char *origin,
                       struct vnd_policy **out, char **err)
{
    (void)nib;
    struct vnd_policy *p = vnd_xcalloc(1, sizeof *p);
    for (int i = 0; i < cc->ntargets; i++)
        for (int c = 0; c < cc->targets[i].ncaps; c++)
            if (compile_cap(p, t, &cc->targets[i], &cc->targets[i].caps[c], origin, err)) {
                vnd_policy_free(p);
                return -1;
            }
    *out = p;
    return 0;
}

void vnd_policy_free(struct vnd_policy *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->ntraces; i++) {
        free(p->traces[i].name);
        free(p->traces[i].node);
        free(p->traces[i].point);
        free(p->traces[i].port_name);
    }
    free(p->traces);
    free(p);
}

/* ---- matches ---- */

/* Clauses joined by `sep` ("," when NULL); `cut` once one did not fit. */
struct vnd_sbuf {
    char s[640];
    size_t n;
    const char *sep;
    bool cut;
};

static void put(struct vnd_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct vnd_sbuf *b, const char *fmt, ...)
{
    const char *sep = b->sep ? b->sep : ",";
    if (b->n) {
        int k = snprintf(b->s + b->n, sizeof b->s - b->n, "%s", sep);
        b->n += k > 0 && (size_t)k < sizeof b->s - b->n ? (size_t)k : 0;
    }
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->s + b->n, sizeof b->s - b->n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof b->s - b->n) {
        b->cut = true;
        b->n = sizeof b->s - 1;
    } else {
        b->n += (size_t)k;
    }
}

/* A prefix as `fmt` says it, e.g. "nw_src=%s/%d". */
static void put_prefix(struct vnd_sbuf *b, const char *fmt, const struct vnd_cc_prefix *x)
    __attribute__((format(printf, 2, 0)));
static void put_prefix(struct vnd_sbuf *b, const char *fmt, const struct vnd_cc_prefix *x)
{
    char a[INET6_ADDRSTRLEN];
    inet_ntop(x->family, x->addr, a, sizeof a);
    put(b, fmt, a, x->len);
}

static int pattern_family(const struct vnd_cc_pattern *p)
{
    if (p->src.set)
        return p->src.family;
    if (p->dst.set)
        return p->dst.family;
    return AF_INET;
}

char *vnd_capture_match_text(const struct vnd_capture_match *m)
{
    struct vnd_sbuf b = {.n = 0};
    b.s[0] = 0;
    if (m->in_port)
        put(&b, "in_port=%d", m->in_port);
    if (m->dl_dst[0])
        put(&b, "dl_dst=%s", m->dl_dst);
    const struct vnd_cc_pattern *p = &m->pattern;
    bool v6 = pattern_family(p) == AF_INET6;
    if (p->proto_kind == VND_CC_ARP) {
        put(&b, "arp");
        if (p->src.set)
            put_prefix(&b, "arp_spa=%s/%d", &p->src);
        if (p->dst.set)
            put_prefix(&b, "arp_tpa=%s/%d", &p->dst);
        return vnd_xstrdup(b.s);
    }
    if (p->proto_kind == VND_CC_IPPROTO) {
        int proto = p->proto;
        if (v6 && proto == 1)
            proto = 58;    /* ICMP means ICMPv6 between IPv6 addresses */
        if (proto == 6)
            put(&b, v6 ? "tcp6" : "tcp");
        else if (proto == 17)
            put(&b, v6 ? "udp6" : "udp");
        else if (proto == 1)
            put(&b, "icmp");
        else if (proto == 58)
            put(&b, "icmp6");
        else
            put(&b, "%s,nw_proto=%d", v6 ? "ipv6" : "ip", proto);
    } else if (p->src.set || p->dst.set) {
        put(&b, v6 ? "ipv6" : "ip");
    }
    if (p->src.set)
        put_prefix(&b, v6 ? "ipv6_src=%s/%d" : "nw_src=%s/%d", &p->src);
    if (p->dst.set)
        put_prefix(&b, v6 ? "ipv6_dst=%s/%d" : "nw_dst=%s/%d", &p->dst);
    if (p->src_port >= 0)
        put(&b, "tp_src=%d", p->src_port);
    if (p->dst_port >= 0)
        put(&b, "tp_dst=%d", p->dst_port);
    return vnd_xstrdup(b.s);
}

char *vnd_capture_filter_text(const struct vnd_capture_match *m)
{
    struct vnd_sbuf b = {.sep = " and "};
    if (m->dl_dst[0])
        put(&b, "eth.dst = %s", m->dl_dst);
    const struct vnd_cc_pattern *p = &m->pattern;
    if (p->proto_kind == VND_CC_ARP) {
        put(&b, "eth.type = 0x0806");
        if (p->src.set)
            put_prefix(&b, "arp.spa = %s/%d", &p->src);
        if (p->dst.set)
            put_prefix(&b, "arp.tpa = %s/%d", &p->dst);
        return vnd_xstrdup(b.s);
    }
    if (p->proto_kind == VND_CC_IPPROTO) {
        int proto = p->proto;
        if (pattern_family(p) == AF_INET6 && proto == 1)
            proto = 58;
        put(&b, "ip.proto = %d", proto);
    }
    if (p->src.set)
        put_prefix(&b, "ip.src = %s/%d", &p->src);
    if (p->dst.set)
        put_prefix(&b, "ip.dst = %s/%d", &p->dst);
    if (p->src_port >= 0)
        put(&b, "(tcp.src = %d or udp.src = %d)", p->src_port, p->src_port);
    if (p->dst_port >= 0)
        put(&b, "(tcp.dst = %d or udp.dst = %d)", p->dst_port, p->dst_port);
    return vnd_xstrdup(b.s);
}

/* The match in libpcap's language, for a tap's kernel filter: what it
 * passes is a superset of what vnd_capture_filter_text keeps (the table
 * server applies that too), so that the filter only spares the copies of
 * frames the trace would not keep.  IPv6's protocol is left to the match
 * (extension headers may stand before it). */
char *vnd_capture_bpf_text(const struct vnd_capture_match *m)
{
    struct vnd_sbuf b = {.sep = " and "};
    if (m->dl_dst[0])
        put(&b, "ether dst %s", m->dl_dst);
    const struct vnd_cc_pattern *p = &m->pattern;
    if (p->proto_kind == VND_CC_ARP) {
        put(&b, "arp");
    } else {
        /* the family a prefix gives; none: either (the match's ip.proto) */
        bool set = p->src.set || p->dst.set;
        if (p->proto_kind == VND_CC_IPPROTO && set && pattern_family(p) == AF_INET6)
            put(&b, "ip6");
        else if (p->proto_kind == VND_CC_IPPROTO && set)
            put(&b, "ip proto %d", p->proto);
        else if (p->proto_kind == VND_CC_IPPROTO)
            put(&b, "(ip proto %d or ip6)", p->proto);
        if (p->src.set)
            put_prefix(&b, "src net %s/%d", &p->src);
        if (p->dst.set)
            put_prefix(&b, "dst net %s/%d", &p->dst);
        if (p->src_port >= 0)
            put(&b, "src port %d", p->src_port);
        if (p->dst_port >= 0)
            put(&b, "dst port %d", p->dst_port);
    }
    if (b.cut || !b.n)
        return vnd_xstrdup("");     /* too long to say: the match alone */
    /* the same inside one VLAN tag (a trunk port's frames) */
    return vnd_strdup_printf("(%s) or (vlan and %s)", b.s, b.s);
}

/* True when one prefix contains the other (both set, same family). */
static bool prefixes_meet(const struct vnd_cc_prefix *a, const struct vnd_cc_prefix *b)
{
    if (!a->set || !b->set)
        return true;
    if (a->family != b->family)
        return false;
    int len = a->len < b->len ? a->len : b->len;
    for (int i = 0; i < len; i++) {
        int byte = i / 8, bit = 7 - i % 8;
        if (((a->addr[byte] >> bit) & 1) != ((b->addr[byte] >> bit) & 1))
            return false;
    }
    return true;
}

bool vnd_capture_match_overlap(const struct vnd_capture_match *a,
                               const struct vnd_capture_match *b)
{
    if (a->in_port && b->in_port && a->in_port != b->in_port)
        return false;
    if (a->dl_dst[0] && b->dl_dst[0] && strcasecmp(a->dl_dst, b->dl_dst) != 0)
        return false;
    const struct vnd_cc_pattern *p = &a->pattern, *q = &b->pattern;
    if (p->proto_kind != VND_CC_ANY && q->proto_kind != VND_CC_ANY) {
        if (p->proto_kind != q->proto_kind)
            return false;
        if (p->proto_kind == VND_CC_IPPROTO && p->proto != q->proto)
            return false;
    }
    if ((p->src.set || p->dst.set) && (q->src.set || q->dst.set)
        && pattern_family(p) != pattern_family(q))
        return false;
    if (!prefixes_meet(&p->src, &q->src) || !prefixes_meet(&p->dst, &q->dst))
        return false;
    if (p->src_port >= 0 && q->src_port >= 0 && p->src_port != q->src_port)
        return false;
    if (p->dst_port >= 0 && q->dst_port >= 0 && p->dst_port != q->dst_port)
        return false;
    return true;
}

/* ---- the parse configuration, per trace ---- */

static bool has_trace(const struct vnd_policy *p, const char *name)
{
    for (int i = 0; i < p->ntraces; i++)
        if (strcmp(p->traces[i].name, name) == 0)
            return true;
    return false;
}

int vnd_policy_check_parse(const struct vnd_policy *p, const struct vnd_parse_conf *pc,
                           const char *origin, char **err)
{
    for (int r = 0; r < pc->nrules; r++) {
        const struct vnd_parse_rule *rule = &pc->rules[r];
        for (int i = 0; i < rule->ntraces; i++)
            if (!has_trace(p, rule->traces[i])) {
                char list[1024] = "";
                size_t n = 0;
                for (int k = 0; k < p->ntraces && n < sizeof list - 80; k++)
                    n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", k ? ", " : "",
                                          p->traces[k].name);
                return fail(err, origin, rule->line, 1,
                            "no trace %s in this diagnosis (its traces: %s)",
                            rule->traces[i], list);
            }
    }
    for (int i = 0; i < p->ntraces; i++) {
        bool covered = false;
        for (int r = 0; r < pc->nrules && !covered; r++)
            covered = vnd_parse_rule_covers(&pc->rules[r], p->traces[i].name);
        if (!covered) {
            *err = vnd_strdup_printf("%s: no rule covers trace %s: name it on a Trace ID "
                                     "line, or write Trace ID all", origin, p->traces[i].name);
            return -1;
        }
    }
    return 0;
}

int vnd_policy_header_bytes(const struct vnd_parse_conf *pc, const char *name)
{
    for (int r = 0; r < pc->nrules; r++) {
        const struct vnd_parse_rule *rule = &pc->rules[r];
        if (!vnd_parse_rule_covers(rule, name))
            continue;
        if (vnd_filter_reads(rule->filter, vnd_field_needs_payload))
            return 0;
        for (int k = 0; k < rule->nfields; k++)
            if (vnd_field_needs_payload(rule->fields[k]))
                return 0;
    }
    return VND_HEADER_SNAPLEN;
}

char *vnd_policy_parse_for(const struct vnd_parse_conf *pc, const char *name,
                           char ***tables, int *ntables)
{
    size_t len = 0, cap = 256;
    char *s = vnd_xmalloc(cap);
    s[0] = 0;
    *tables = NULL;
    *ntables = 0;
    for (int r = 0; r < pc->nrules; r++) {
        const struct vnd_parse_rule *rule = &pc->rules[r];
        if (!vnd_parse_rule_covers(rule, name))
            continue;
        const char *table = rule->table ? rule->table : name;
        char *block = vnd_strdup_printf("Trace ID all\nTable ID %s\n%s%s%sFields: %s\n", table,
                                        rule->filter_text ? "Filter: " : "",
                                        rule->filter_text ? rule->filter_text : "",
                                        rule->filter_text ? "\n" : "",
                                        rule->fields_text ? rule->fields_text : "");
        size_t bl = strlen(block);
        if (len + bl + 1 > cap) {
            cap = (len + bl + 1) * 2;
            s = vnd_xrealloc(s, cap);
        }
        memcpy(s + len, block, bl + 1);
        len += bl;
        free(block);
        bool seen = false;
        for (int k = 0; k < *ntables; k++)
            seen |= strcmp((*tables)[k], table) == 0;
        if (!seen) {
            *tables = vnd_xrealloc(*tables, (size_t)(*ntables + 1) * sizeof **tables);
            (*tables)[(*ntables)++] = vnd_xstrdup(table);
        }
    }
    return s;
}
