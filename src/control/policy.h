/* policy.h — the policy manager (paper §3.2.1, Fig. 6): a tenant's trace
 * collection configuration, checked against the tenant's own part of the
 * NIB, becomes the collection policy: one trace per capture point and
 * direction, each with the bridge where the port lives and the OpenFlow
 * match that copies exactly its packets.
 *
 * Where a capture point is a port P of node N (MAC M, OpenFlow port p on
 * host H's bridge):
 *   out of N through P:  in_port=p  and the pattern
 *   into N through P:    dl_dst=M   and the pattern (on H's bridge, where
 *                        every packet bound for P passes whatever its
 *                        in_port: the local ports' or the uplink's)
 * Both are scoped to the tenant's own port: a port number or a MAC is one
 * tenant's (the NIB refuses sharing), so tenants with the same private
 * addresses never see each other's packets.
 *
 *   Node Cap input   → N_in  (into N via its input port)
 *   Node Cap output  → N_out (out of N via its output port)
 *   Link L Cap N     → L_N   (into N via its end of L)
 *   dualDirect       → also NAME_rev: the reverse pattern, other direction
 *
 * Mode sflow: the same traces, but no rule: the host's bridge samples
 * (OVS's sFlow agent, per bridge) and the table server keeps the samples
 * of the capture point's port that match the pattern
 * (vnd_capture_filter_text).
 *
 * Mode ipfix: the same traces and the same rule, but the rule's action is
 * OVS's `sample` (1 in N, the trace's tag as the observation point) into
 * the bridge's VND flow sample collector set instead of a copy to the
 * mirror port: the switch exports IPFIX flow records of exactly the
 * rule's packets, which the table server files under the trace by that
 * observation point (capture/ipfix_source.h).  ActiveTimeout and MaxFlows
 * set the switch's flow cache (ActiveTimeout 0: a record per sampled
 * packet); they and Snaplen are refused with other modes.
 *
 * Nothing here talks to OVS or a table server (control/ovs.h and the
 * control server do); the policy is data, so it can be tested alone. */
#ifndef VND_CONTROL_POLICY_H
#define VND_CONTROL_POLICY_H

#include <stdbool.h>

#include "control/nib.h"
#include "lang/collectconf.h"
#include "lang/parseconf.h"

/* The part of an OpenFlow match a capture rule sets. */
struct vnd_capture_match {
    int in_port;                    /* 0: any */
    char dl_dst[18];                /* "": any */
    struct vnd_cc_pattern pattern;
};

struct vnd_policy_trace {
    char *name;                     /* the tenant's name for it: ids_in */
    char *node;                     /* virtual node */
    char *point;                    /* "input", "output", or the link's name */
    bool into;                      /* into the node (else out of it) */
    int host;                       /* NIB host index */
    int ofport;                     /* the capture point's port */
    char *port_name;                /* node.port, for the operator's view */
    struct vnd_capture_match match;
    enum vnd_cc_mode mode;          /* mirror, sflow, ipfix or tap */
    int sampling, snaplen;          /* sflow: 1 in N in the switch, header bytes */
    bool sampling_hash;             /* mirror: the table server samples by packet ID */
    int flow_sampling;              /* mirror: 1 flow in N copied by the switch */
    int active_timeout, max_flows;  /* ipfix: the switch's flow cache */
    int polling;                    /* sflow: seconds between the agent's counters */
};

#define VND_IPFIX_ACTIVE_TIMEOUT_DEFAULT 5   /* seconds */
#define VND_IPFIX_MAX_FLOWS_DEFAULT 8192
#define VND_SFLOW_POLLING_DEFAULT 5          /* seconds */

struct vnd_policy {
    struct vnd_policy_trace *traces;
    int ntraces;
};

/* Compiles `cc` for tenant `t`.  A name the tenant does not own is an
 * error at its line:col ("origin:3:16: no appliance ids9 in your
 * network"), worded the same whether it exists for another tenant or not
 * at all.  Returns 0 and *out, or -1 and *err (malloc'd). */
int vnd_policy_compile(const struct vnd_nib *nib, const struct vnd_nib_tenant *t,
                       const struct vnd_collect_conf *cc, const char *origin,
                       struct vnd_policy **out, char **err);
void vnd_policy_free(struct vnd_policy *p);

/* The match as ovs-ofctl writes it: "dl_dst=02:..,tcp,nw_src=10.0.0.6/32".
 * malloc'd. */
char *vnd_capture_match_text(const struct vnd_capture_match *m);

/* The match as a filter expression (lang/filter.h) the table server
 * applies to sampled packets: "eth.dst = 02:.. and ip.proto = 6 and
 * ip.src = 10.0.0.6/32 and (tcp.dst = 80 or udp.dst = 80)"; "" when it
 * takes everything.  The port (in_port) is not in it: an sFlow trace is
 * keyed to its port by the sample's ifIndex.  malloc'd. */
char *vnd_capture_filter_text(const struct vnd_capture_match *m);

/* The match in libpcap's filter language, for a tap (Mode tap): "ether
 * dst 02:.. and ip proto 6 and src net 10.0.0.6/32 and dst port 80", and
 * the same inside a VLAN tag; it passes at least what the filter
 * expression above keeps.  "" when it takes everything.  malloc'd. */
char *vnd_capture_bpf_text(const struct vnd_capture_match *m);

/* False when no packet can match both (conservative: true when unsure). */
bool vnd_capture_match_overlap(const struct vnd_capture_match *a,
                               const struct vnd_capture_match *b);

/* Checks the tenant's parse configuration against the policy's traces: a
 * Trace ID it names must be one of them (error at its line), every trace
 * must be covered by a rule.  Returns 0, or -1 and *err. */
int vnd_policy_check_parse(const struct vnd_policy *p, const struct vnd_parse_conf *pc,
                           const char *origin, char **err);

/* The parse configuration a table server gets for trace `name`: the
 * tenant's rules that cover it, each as "Trace ID all" with its table
 * named (the rule's Table ID, else the trace's own name).  *tables gets
 * the table names (malloc'd array of malloc'd strings).  malloc'd. */
/* The bytes a copy of trace `name` may be cut to in the switch and still
 * give every field the rules covering it read (their fields and
 * filters): VND_HEADER_SNAPLEN when none reads the L4 payload, else 0.
 * 128 bytes hold Ethernet, two VLAN tags, IPv6 (or IPv4 with 20 bytes of
 * options) and TCP with all 40 bytes of options; a deeper header (a
 * tunnel's inner packet) is cut, and counted in vnd_meta's
 * decode_anomalies. */
#define VND_HEADER_SNAPLEN 128
int vnd_policy_header_bytes(const struct vnd_parse_conf *pc, const char *name);

char *vnd_policy_parse_for(const struct vnd_parse_conf *pc, const char *name,
                           char ***tables, int *ntables);

#endif
