/* ovs.h — the OVS adapter (paper §3.4.2, Fig. 9): capture rules into
 * table 0 of a bridge through ovs-ofctl, Open vSwitch's own tool.
 *
 * Layout (DESIGN.md): capture rules live in table 0, table 0's lowest
 * rule is goto_table:1, forwarding lives in table 1 and is never touched.
 * Every VND rule carries a cookie: VND_COOKIE_MAGIC in its top 16 bits,
 * the diagnosis in the next 32, the trace in the low 16, so one
 * diagnosis's rules go with one masked delete and a restarted control
 * server finds its own rules among anyone else's.
 *
 * A packet may belong to several traces on one bridge (the output of one
 * VM is the input of the next appliance), but OpenFlow runs only the
 * best rule of a table.  So a capture rule copies the packet, sets its
 * own bit in reg7, and looks table 0 up again with that bit set: the next
 * matching capture rule runs, and so on, until the lowest rule sends the
 * packet on to forwarding:
 *   reg7=0/BIT,MATCH actions=push_vlan:0x8100,set_field:4096|TAG->vlan_vid,
 *       output:MIRROR,pop_vlan,load:1->NXM_NX_REG7[B],resubmit(,0)
 * Rules that can never see the same packet may share a bit, so the 32
 * bits of reg7 bound only the rules that overlap on one bridge.
 *
 * Flow sampling (Flow Sampling N): the copy goes through a select group
 * of the trace, group_id VND_GROUP_ID(tag) (tags are unique per host):
 *   reg7=0/BIT,MATCH actions=group:G,load:1->NXM_NX_REG7[B],resubmit(,0)
 *   group_id=G,type=select,selection_method=dp_hash,
 *       selection_method_param=SYM_L4<<32,
 *       bucket=weight:S,actions=push_vlan:0x8100,set_field:..->vlan_vid,output:M
 *       bucket=weight:255-S,actions=drop  bucket=weight:1,actions=drop
 * OVS (ofproto-dpif.c, group_set_selection_method) hashes each packet in
 * the datapath with the symmetric L3/L4 hash (addresses, TCP/SCTP ports;
 * the same both ways, no MACs, so the same at every capture point) into
 * 256 values, shared among the buckets by weight (Webster's method: exact
 * when the weights add up to 256 and one is 1, which makes it use all
 * 256); so S/256 of the connections are copied whole and the others not
 * at all.  A bucket is an action set: it runs after the group with the
 * packet as it was before (a clone), and it cannot run output(max_len),
 * so Snaplen does not go with flow sampling. */
#ifndef VND_CONTROL_OVS_H
#define VND_CONTROL_OVS_H

#include <stdbool.h>
#include <stdint.h>

#define VND_COOKIE_MAGIC UINT64_C(0x564e)            /* "VN" */
#define VND_COOKIE(diag, trace) \
    ((VND_COOKIE_MAGIC << 48) | ((uint64_t)(uint32_t)(diag) << 16) | (uint16_t)(trace))
#define VND_COOKIE_DIAG_MASK UINT64_C(0xffffffffffff0000)
#define VND_COOKIE_MAGIC_MASK UINT64_C(0xffff000000000000)
#define VND_CAPTURE_PRIORITY 100
#define VND_CAPTURE_BITS 32                    /* reg7 */
#define VND_GROUP_ID(tag) ((uint32_t)(VND_COOKIE_MAGIC << 16) | (uint16_t)(tag))
#define VND_GROUP_MASK UINT32_C(0xffff0000)
#define VND_FLOW_HASH_VALUES 256               /* OVS's dp_hash select groups */

struct vnd_capture_rule {
    uint64_t cookie;
    char *match;            /* vnd_capture_match_text */
    int tag;                /* the trace's VLAN tag on the mirror port */
    int bit;                /* its reg7 bit */
    int mirror_port;
    int max_len;            /* Snaplen: bytes of the (untagged) packet the copy
                             * keeps, cut in the switch; 0: whole packets */
    int sampling;           /* > 0: Mode ipfix: no copy, but OVS's sample action,
                             * 1 in N, into collector set VND_IPFIX_SET with the
                             * tag as obs_point_id */
    int flow_sampling;      /* 1 flow in N copied (a select group); 0, 1: all */
};

/* The flow sample collector set of VND's ipfix rules on every bridge:
 * "VN", as their observation domain (VND_IPFIX_OBS_DOMAIN). */
#define VND_IPFIX_SET 22094
/* The sample action's probability is a count of 65535ths: 1 in N for N up
 * to this (the switch scales each sample by 65535/floor(65535/N)). */
#define VND_IPFIX_SAMPLING_MAX 65535
/* The 1-in-N the switch really samples at for an asked N (1 to
 * VND_IPFIX_SAMPLING_MAX), rounded down to a whole N that gives the same
 * probability: 1000 asks for 65, which is 1 in 1008.2, so 1008; 30000 for
 * 2, 1 in 32767.  What vnd_meta records. */
int vnd_ipfix_sampling_effective(int n);

/* Of the 256 hash values, how many the copying bucket of `flow_sampling`
 * N gets (round(256/N), at least 1), and the 1-in-X share that makes
 * (256 / that): what vnd_meta records and results scale by. */
int vnd_flow_sampling_share(int flow_sampling);
double vnd_flow_sampling_effective(int flow_sampling);

/* The rule's select group as ovs-ofctl's add-group takes it (OpenFlow
 * 1.5), malloc'd; NULL when the rule copies every flow. */
char *vnd_capture_group_text(const struct vnd_capture_rule *r);

/* The flow as ovs-ofctl's add-flow takes it (malloc'd).  With max_len the
 * copy is output(port=MIRROR,max_len=max_len): OVS truncates it in the
 * datapath before the tag is pushed (its datapath actions are
 * trunc(N),push_vlan,output; seen on the bed: 100 + 4 bytes arrive), so
 * the table server gets max_len bytes of the packet and the switch copies
 * no more. */
char *vnd_capture_rule_text(const struct vnd_capture_rule *r);

/* Adds the rules to bridge `target` (ovs-ofctl's switch argument) in one
 * OpenFlow 1.4 bundle: all of them or none.  With flow sampling, their
 * groups first (add or modify: a group may be left from a rule lost), all
 * in one OpenFlow 1.5 bundle.  Returns 0, or -1 and *err. */
int vnd_ovs_add(const char *target, const struct vnd_capture_rule *rules, int n, char **err);

/* Deletes the groups of `tags` (VND_GROUP_ID); groups that are not there
 * are no error. */
int vnd_ovs_delete_groups(const char *target, const int *tags, int n, char **err);

/* The tags of VND's groups on the bridge (malloc'd array). */
int vnd_ovs_group_tags(const char *target, int **tags, int *n, char **err);

/* Deletes table 0's rules whose cookie matches `cookie` under `mask`. */
int vnd_ovs_delete(const char *target, uint64_t cookie, uint64_t mask, char **err);

/* The cookies of table 0's rules with VND's magic (malloc'd array). */
int vnd_ovs_cookies(const char *target, uint64_t **cookies, int *n, char **err);

/* Makes sure table 0 ends in goto_table:1 (adds it when missing).
 * *added tells whether it had to. */
int vnd_ovs_ensure_layout(const char *target, int *added, char **err);

/* sFlow on a bridge (OVS samples per bridge, not per flow; see
 * ovs-vswitchd.conf.db(5), table sFlow): `ovs-vsctl -- --id=@s create
 * sflow targets="TARGET" header=H sampling=N polling=P [agent=A] -- set
 * bridge BR sflow=@s`.  A NULL `target` clears the bridge's sflow column
 * (OVS then stops sampling; the unreferenced row is garbage-collected). */
struct vnd_sflow_conf {
    const char *target;     /* "127.0.0.1:6343": the table server's collector */
    int sampling;           /* 1 in N */
    int header;             /* bytes of each sampled packet */
    int polling;            /* seconds between interface counter samples */
    const char *agent;      /* an interface name or address; NULL: OVS picks */
};
int vnd_ovs_sflow_set(const char *ovsdb, const char *bridge, const struct vnd_sflow_conf *c,
                      char **err);

/* What the bridge's sflow column holds now (`ovs-vsctl get bridge BR
 * sflow`, then the row's columns): `set` false when the column is empty.
 * A column OVS leaves empty reads as 0 (OVS then uses its default); of
 * several targets, `target` is the first and `ntargets` says how many. */
struct vnd_sflow_state {
    bool set;
    int sampling, header, polling;
    int ntargets;
    char target[128];
};
int vnd_ovs_sflow_get(const char *ovsdb, const char *bridge, struct vnd_sflow_state *s,
                      char **err);

/* The bridge's IPFIX exporter for VND's sample actions (ovs-vswitchd.conf.db(5),
 * tables Flow_Sample_Collector_Set and IPFIX): `ovs-vsctl -- --id=@i create
 * IPFIX targets="TARGET" cache_active_timeout=T cache_max_flows=M --
 * create Flow_Sample_Collector_Set id=VND_IPFIX_SET bridge=BR ipfix=@i`,
 * or `set` on the bridge's existing set.  A NULL `c` destroys the set
 * (OVS flushes its cache first; the IPFIX row goes with it). */
struct vnd_ipfix_conf {
    const char *target;     /* "127.0.0.1:4739": the table server's collector */
    int active_timeout;     /* seconds; 0: no cache, a record per sampled packet */
    int max_flows;
};
int vnd_ovs_ipfix_set(const char *ovsdb, const char *bridge, const struct vnd_ipfix_conf *c,
                      char **err);

/* The ifIndex OVS gives the port of `bridge` with OpenFlow number `ofport`
 * (Interface:ifindex, what sFlow samples name).  0 and *err when none. */
int vnd_ovs_ifindex(const char *ovsdb, const char *bridge, int ofport, uint32_t *ifindex,
                    char **err);

#endif
