/* flowrec.h — records a collector hands to the parser without packet
 * bytes: an interface's counters (sFlow counter samples). */
#ifndef VND_CAPTURE_FLOWREC_H
#define VND_CAPTURE_FLOWREC_H

#include <stdint.h>

/* sFlow v5 generic interface counters (RFC 2233 names), as the agent sent
 * them. */
struct vnd_ifcounters {
    uint32_t if_index, if_type, if_direction, if_status;
    uint64_t if_speed;
    uint64_t in_octets, out_octets;
    uint32_t in_ucast, in_mcast, in_bcast, in_discards, in_errors, in_unknown;
    uint32_t out_ucast, out_mcast, out_bcast, out_discards, out_errors;
    uint32_t promiscuous;
    uint32_t sequence;           /* the counter sample's sequence number */
    uint32_t agent_uptime_ms;
};

#endif
