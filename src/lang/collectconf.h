/* collectconf.h — the tenant's trace collection configuration (paper
 * Fig. 4 and 5; DESIGN.md "Formats the tenant writes").
 *
 *   VM Node : web1                 # or: Appliance Node : lb
 *   Cap input                      # input | output  (a node's capture points)
 *   srcIP=10.0.0.6/32              # flow pattern, one field per line
 *   dstIP=10.0.0.8/32              # * or absent: any
 *   proto=TCP                      # TCP, UDP, ICMP, ARP or 0..255
 *   srcPort=*
 *   dstPort=80
 *   dualDirect=True                # also the reverse direction
 *   Mode mirror                    # mirror (default) | sflow | ipfix | tap
 *   Snaplen 128                    # bytes kept of each packet (0: all)
 *   Sampling 10                    # 1 in N (1: every packet); "Sampling 8 hash":
 *                                  #   by packet ID, the same packets at every point
 *   Flow Sampling 4                # mirror: the switch copies 1 flow in N
 *   ActiveTimeout 5                # ipfix: seconds a flow is cached (0: no cache)
 *   MaxFlows 8192                  # ipfix: flows the switch's cache holds
 *   Cap output
 *   ...
 *   Virtual Appliance Link : l1    # a link's capture points are the
 *   Cap lb                         # names of the nodes at its ends
 *
 * Keywords and field names are case-insensitive, `#` starts a comment,
 * ':' and '=' may have blanks around them ("Cap: input", "Snaplen = 128"
 * too).  "Appliance Type Node" (Fig. 4) is accepted for "Appliance Node".
 * Names are the tenant's virtual names: letters, digits, '_', '-', '.',
 * at most 63.  The configuration only names things; whether the tenant
 * owns them is the policy manager's question (control/policy.h).
 *
 * Errors are "origin:line:col: message" and point at the token at fault.
 *
 * Also accepted (docs/collect.md has the whole grammar):
 *   - Fig. 4's spelling "Capture Point input" for "Cap input";
 *   - several pattern fields on one line, separated by commas, optionally
 *     after "Flow Pattern" or "Pattern" (Fig. 4): so the canonical text of
 *     vnd_cc_pattern_text reads back as the same pattern, and
 *     "Pattern any" (or "Pattern *") is accepted and sets nothing;
 *   - "Mode", "Snaplen", "Sampling", "Flow Sampling", "Cap" and the block headers take an
 *     optional ':' or '=' after the keyword; pattern fields need their '='.
 * One Cap line names one point; a configuration holds at most
 * VND_CC_MAX_CAPS Cap blocks.  A node may have one block header (VM and
 * Appliance nodes share the names), and so may a link.  The addresses of
 * one Cap are of one family; proto=ARP and proto=ICMP go with IPv4 only
 * (ICMPv6 is proto=58).  proto is -1 unless proto_kind is VND_CC_IPPROTO. */
#ifndef VND_LANG_COLLECTCONF_H
#define VND_LANG_COLLECTCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VND_CC_NAME_MAX 63
#define VND_CC_SNAPLEN_MAX 65535
#define VND_CC_SAMPLING_MAX 1000000
#define VND_CC_FLOW_SAMPLING_MAX 256  /* a select group hashes to 256 values */
#define VND_CC_ACTIVE_TIMEOUT_MAX 3600
#define VND_CC_MAX_FLOWS_MAX 1000000
#define VND_CC_POLLING_MAX 3600
#define VND_CC_MAX_CAPS 256      /* Cap blocks in one configuration */

/* An address prefix as written: IPv4 or IPv6. */
struct vnd_cc_prefix {
    bool set;               /* false: any */
    int family;             /* AF_INET or AF_INET6 */
    uint8_t addr[16];       /* network byte order, host bits cleared */
    int len;                /* prefix length (32 or 128 when written without /) */
};

enum vnd_cc_proto_kind { VND_CC_ANY, VND_CC_IPPROTO, VND_CC_ARP };

struct vnd_cc_pattern {
    struct vnd_cc_prefix src, dst;
    enum vnd_cc_proto_kind proto_kind;
    int proto;              /* IP protocol number with VND_CC_IPPROTO */
    int src_port, dst_port; /* -1: any (ports need proto TCP or UDP) */
};

/* mirror: the switch copies to the mirror port; sflow, ipfix: the switch's
 * agent or exporter; tap: the table server reads the port's own
 * interface (the switch copies nothing) */
enum vnd_cc_mode { VND_CC_MIRROR, VND_CC_SFLOW, VND_CC_IPFIX, VND_CC_TAP };

/* One `Cap` block. */
struct vnd_cc_cap {
    char *point;            /* node: "input" or "output" (lower case);
                               link: a node name as written */
    struct vnd_cc_pattern pattern;
    bool dual;              /* dualDirect=True */
    enum vnd_cc_mode mode;
    int snaplen;            /* 0: whole packets */
    int sampling;           /* 1 in N; 1: every packet */
    bool sampling_hash;     /* "Sampling N hash": by packet ID (mirror only) */
    int flow_sampling;      /* mirror: 1 flow in N picked in the switch; 1: all */
    int active_timeout;     /* ipfix: seconds; -1: not given */
    int max_flows;          /* ipfix: flows in the switch's cache; -1: not given */
    int polling;            /* sflow: seconds between the agent's counter
                               samples; -1: not given */
    int line, col;          /* of the point's name, for the policy's errors */
};

enum vnd_cc_kind { VND_CC_VM, VND_CC_APPLIANCE, VND_CC_LINK };

/* One `VM Node :`, `Appliance Node :` or `Virtual Appliance Link :` block. */
struct vnd_cc_target {
    enum vnd_cc_kind kind;
    char *name;
    int line, col;          /* of the name */
    struct vnd_cc_cap *caps;
    int ncaps;
};

struct vnd_collect_conf {
    struct vnd_cc_target *targets;
    int ntargets;
};

/* Parses `text` (named `origin` in errors).  Returns 0 and *out, or -1
 * and a malloc'd "origin:line:col: ..." message in *err.  A block without
 * a Cap, a Cap without a block, a field given twice in one Cap, ports
 * without TCP/UDP, Snaplen/Sampling/Flow Sampling out of range, Flow
 * Sampling with a Mode other than mirror or with Snaplen, and an empty
 * configuration are errors. */
int vnd_collectconf_parse(const char *text, const char *origin,
                          struct vnd_collect_conf **out, char **err);
void vnd_collectconf_free(struct vnd_collect_conf *c);

/* The same on `len` bytes that need not end in a NUL: a NUL byte inside is
 * an error (a configuration is text), as is any other byte no token
 * allows. */
int vnd_collectconf_parse_n(const char *text, size_t len, const char *origin,
                            struct vnd_collect_conf **out, char **err);

/* "mirror", "sflow", "ipfix" or "tap". */
const char *vnd_cc_mode_name(enum vnd_cc_mode m);

/* The pattern in the configuration's own words, for vnd_meta and for
 * error messages: "srcIP=10.0.0.6/32, dstIP=10.0.0.8/32, proto=TCP,
 * dstPort=80" ("any" when empty); with `reverse`, source and destination
 * swapped.  malloc'd. */
char *vnd_cc_pattern_text(const struct vnd_cc_pattern *p, bool reverse);

#endif
