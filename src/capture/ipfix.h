/* ipfix.h — IPFIX messages (RFC 7011) and NetFlow v9 export packets
 * (RFC 3954), read without trusting a length.
 *
 * Templates are per transport session and observation domain (RFC 7011
 * §8): the caller names the session (the exporter's address and port as
 * bytes, for UDP) and the cache keeps each (session, domain, template id)'s
 * field list.  What the cache does:
 *   - a template record defines or redefines its id (a redefinition
 *     replaces the old fields; RFC 7011 §8.1 allows it over UDP);
 *   - a template record with no fields withdraws its id, and one whose id
 *     is the set's own (2 or 3) withdraws every template of that kind in
 *     the domain (§8.1);
 *   - a template not refreshed for `template_timeout` seconds expires
 *     (UDP: §8.4, the exporter resends its templates periodically);
 *   - a data set whose template is unknown (not yet sent, withdrawn,
 *     expired) is counted and skipped, not decoded;
 *   - caps: VND_IPFIX_FIELDS_MAX fields in a template, templates in the
 *     cache (`max_templates`; the least recently refreshed of those no
 *     data set has used goes, else the least recently refreshed: an
 *     exporter whose records keep coming keeps its templates through a
 *     flood from many ports) and of
 *     one session (max_templates / VND_IPFIX_SESSION_SHARE, at least 64 or
 *     all when the cache is smaller; its own least
 *     recently refreshed goes: an exporter sending ever new templates
 *     evicts its own, not another's), sets in a message
 *     VND_IPFIX_SETS_MAX.  A template over the field cap is
 *     refused and counted; its data sets are then of an unknown template.
 * Variable-length fields (RFC 7011 §7: length 65535, then 1 or 3 bytes of
 * length) and enterprise-specific information elements (bit 15 of the id,
 * then a 4-byte enterprise number) are read and skipped unless known.
 * Unsigned fields may be sent in fewer bytes than their type's (reduced
 * size encoding, §6.2); an address or a time of the wrong size is
 * ignored.  A message whose lengths do not add up (set longer than the
 * message, template running past its set, variable length past the
 * record) is malformed: what was read before the fault has been handed
 * over, the rest is not. */
#ifndef VND_CAPTURE_IPFIX_H
#define VND_CAPTURE_IPFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VND_IPFIX_FIELDS_MAX 256          /* fields in one template */
#define VND_IPFIX_SETS_MAX 1024           /* sets in one message */
#define VND_IPFIX_SESSION_MAX 20          /* bytes naming a transport session */
/* A session may hold this part of the cache's templates: 512 of 4,096.
 * OVS defines 88 an observation domain (ofproto-dpif-ipfix.c: 2 kinds of
 * L2 x 11 of L3/L4 x tunnelled or not x 2 directions), and an exporter
 * sends for the domains its sample actions name (VND's: one). */
#define VND_IPFIX_SESSION_SHARE 8
/* The observation domain of VND's own sample actions (control/ovs.h's
 * capture rules: "VN"): the table server files a record under a trace
 * only from it (capture/ipfix_source.h). */
#define VND_IPFIX_OBS_DOMAIN 22094

/* Which fields of a record were present (vnd_ipfix_flow.has). */
enum {
    VND_IPFIX_HAS_OCTETS = 1u << 0, VND_IPFIX_HAS_PACKETS = 1u << 1,
    VND_IPFIX_HAS_PROTO = 1u << 2, VND_IPFIX_HAS_SPORT = 1u << 3,
    VND_IPFIX_HAS_DPORT = 1u << 4, VND_IPFIX_HAS_SRC = 1u << 5,
    VND_IPFIX_HAS_DST = 1u << 6, VND_IPFIX_HAS_TCP_FLAGS = 1u << 7,
    VND_IPFIX_HAS_IN_IF = 1u << 8, VND_IPFIX_HAS_OUT_IF = 1u << 9,
    VND_IPFIX_HAS_START = 1u << 10, VND_IPFIX_HAS_END = 1u << 11,
    VND_IPFIX_HAS_END_REASON = 1u << 12, VND_IPFIX_HAS_VLAN = 1u << 13,
    VND_IPFIX_HAS_SRC_MAC = 1u << 14, VND_IPFIX_HAS_DST_MAC = 1u << 15,
    VND_IPFIX_HAS_OBS_POINT = 1u << 16, VND_IPFIX_HAS_L2_OCTETS = 1u << 17,
    VND_IPFIX_HAS_ICMP = 1u << 18, VND_IPFIX_HAS_DIRECTION = 1u << 19,
    VND_IPFIX_HAS_ETH_TYPE = 1u << 20, VND_IPFIX_HAS_SAMPLING = 1u << 21,
    VND_IPFIX_HAS_IP_VERSION = 1u << 22, VND_IPFIX_HAS_OCTETS_SQ = 1u << 23,
};

/* One flow record, its fields resolved to plain values.  Times are
 * nanoseconds since the epoch whatever the IE's unit or base (delta
 * microseconds from the export time, system up time, seconds, NTP). */
struct vnd_ipfix_flow {
    uint32_t version;            /* 10 (IPFIX) or 9 (NetFlow v9) */
    uint32_t domain;             /* observation domain (v9: source id) */
    uint32_t export_time;        /* seconds since the epoch, the header's */
    uint16_t template_id;
    uint32_t has;                /* VND_IPFIX_HAS_* */
    int64_t start_ns, end_ns;
    uint64_t octets;             /* octetDeltaCount (IP bytes) or total */
    uint64_t l2_octets;          /* layer2OctetDeltaCount (Ethernet bytes) */
    uint64_t octets_sq;          /* octetDeltaSumOfSquares (or total): the sum of
                                    the IP packets' squared lengths, as scaled by a
                                    sampling exporter (OVS: N L^2 a sampled packet) */
    uint64_t packets;            /* packetDeltaCount or total */
    uint8_t ip_version;          /* 4 or 6 (from the addresses when not sent) */
    uint8_t src[16], dst[16];    /* 4 or 16 bytes, by ip_version */
    uint8_t proto;
    uint16_t tcp_flags;          /* tcpControlBits (9 bits used) */
    uint16_t sport, dport;
    uint8_t icmp_type, icmp_code;
    uint32_t in_if, out_if;      /* ingressInterface, egressInterface */
    uint8_t end_reason;          /* flowEndReason */
    uint8_t direction;           /* flowDirection: 0 ingress, 1 egress */
    uint16_t vlan;               /* vlanId or dot1qVlanId */
    uint16_t eth_type;
    uint8_t src_mac[6], dst_mac[6];
    uint64_t obs_point;          /* observationPointId */
    uint32_t sampling;           /* samplingInterval / samplingPacketInterval */
    uint16_t unknown_fields;     /* fields of this record not decoded */
};

/* What one message held (all zero before). */
struct vnd_ipfix_counts {
    uint32_t records;            /* data records handed over */
    uint32_t options_records;    /* data records of options templates (read, not handed) */
    uint32_t templates, options_templates, withdrawals;
    uint32_t unknown_template;   /* data sets whose template is unknown */
    uint32_t refused_templates;  /* over the field cap or otherwise unusable */
    uint32_t skipped_sets;       /* reserved set ids */
};

struct vnd_ipfix_cache;

/* A cache keeping up to `max_templates` templates (0: 4096), each expiring
 * `template_timeout` seconds after it was last sent (0: 1800). */
struct vnd_ipfix_cache *vnd_ipfix_cache_new(uint32_t max_templates, uint32_t template_timeout);
void vnd_ipfix_cache_free(struct vnd_ipfix_cache *c);
/* Templates held now, and let go so far to make room (an exporter over
 * its share, a full cache): an operator's sign of a flood or of a cache
 * too small for the exporters. */
uint32_t vnd_ipfix_cache_size(const struct vnd_ipfix_cache *c);
uint64_t vnd_ipfix_cache_evicted(const struct vnd_ipfix_cache *c);

typedef void (*vnd_ipfix_flow_fn)(void *ctx, const struct vnd_ipfix_flow *f);

/* Reads message `p` of `n` bytes from transport session `session`
 * (`slen` <= VND_IPFIX_SESSION_MAX bytes, e.g. the exporter's address and
 * port), received at `now` (seconds, for template expiry), handing each
 * flow record to `fn` (may be NULL).  Returns 0, or -1 with *why (a static
 * string) when malformed. */
int vnd_ipfix_parse(struct vnd_ipfix_cache *c, const void *session, size_t slen, double now,
                    const uint8_t *p, size_t n, vnd_ipfix_flow_fn fn, void *ctx,
                    struct vnd_ipfix_counts *counts, const char **why);

#endif
