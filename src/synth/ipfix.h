/* synth/ipfix.h — IPFIX messages built byte by byte: what the unit tests,
 * the fuzz seeds, the tshark differential test and the collector
 * benchmark send.  A fixed buffer; writing past it sets `overflow` and
 * writes nothing (the caller checks it once at the end). */
#ifndef VND_SYNTH_IPFIX_H
#define VND_SYNTH_IPFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/ipfix.h"

struct vnd_ipfixw {
    uint8_t buf[65535];
    size_t n;
    size_t set_at;               /* the open set's header; 0: none */
    bool overflow;
};

/* Starts an IPFIX message (version 10). */
void vnd_ipfixw_begin(struct vnd_ipfixw *w, uint32_t export_time, uint32_t seq, uint32_t domain);
/* Starts a NetFlow v9 packet. */
void vnd_ipfixw_begin_v9(struct vnd_ipfixw *w, uint32_t uptime_ms, uint32_t unix_secs,
                         uint32_t seq, uint32_t source_id);
/* A NetFlow v9 packet's count: its template, options and data records
 * (RFC 3954 §5.1; tshark reads no more records than it says). */
void vnd_ipfixw_v9_count(struct vnd_ipfixw *w, uint16_t count);
/* Opens a set (closing the open one). */
void vnd_ipfixw_set(struct vnd_ipfixw *w, uint16_t id);
void vnd_ipfixw_u8(struct vnd_ipfixw *w, uint8_t v);
void vnd_ipfixw_u16(struct vnd_ipfixw *w, uint16_t v);
void vnd_ipfixw_u32(struct vnd_ipfixw *w, uint32_t v);
void vnd_ipfixw_u64(struct vnd_ipfixw *w, uint64_t v);
void vnd_ipfixw_bytes(struct vnd_ipfixw *w, const void *p, size_t n);
/* A field specifier of a template: IE `ie`, `len` bytes (65535:
 * variable), enterprise `pen` (0: IANA). */
void vnd_ipfixw_field(struct vnd_ipfixw *w, uint16_t ie, uint16_t len, uint32_t pen);
/* Closes the open set and the message (IPFIX: its length).  Returns the
 * message's length. */
size_t vnd_ipfixw_end(struct vnd_ipfixw *w);

/* The template Open vSwitch exports for IPv4 TCP/UDP flows (its
 * ofproto-dpif-ipfix.c, trimmed to the fields VND reads plus a few it
 * skips: an enterprise field and a variable-length interface name), as
 * template `id` in a set of its own. */
void vnd_ipfixw_ovs_template(struct vnd_ipfixw *w, uint16_t id);
/* One record of that template (in an open data set of its id). */
void vnd_ipfixw_ovs_record(struct vnd_ipfixw *w, const struct vnd_ipfix_flow *f,
                           uint32_t start_delta_us, uint32_t end_delta_us);

#endif
