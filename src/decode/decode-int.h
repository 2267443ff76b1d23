/* decode-int.h — what the protocol decoders share: the per-packet decode
 * state, bounds-checked byte accessors, and each protocol's entry point.
 *
 * Internal to src/decode/; everything else uses decode/packet.h.
 *
 * Conventions (the tcpdump way):
 *  - Offsets are absolute, from the start of the captured frame.
 *  - Every byte is read through dn_u8/dn_be16/dn_be24/dn_be32/dn_bytes,
 *    which fail (return false) rather than read past caplen.
 *  - A decoder reads its fields in header order and stops at the first
 *    read that fails, marking VND_PKT_TRUNCATED: the fields before the cut
 *    stay present, the rest stay absent (NULL).
 *  - No allocation, no I/O, no formatting: values are numbers or slices of
 *    the packet (or of the vnd_pkt scratch space).
 */
#ifndef VND_DECODE_DECODE_INT_H
#define VND_DECODE_DECODE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "decode/packet.h"

struct vnd_dissect {
    struct vnd_pkt *pkt;
    const uint8_t *p;       /* the captured frame */
    uint32_t caplen;        /* readable bytes at p */
    /* Where the current datagram ends on the wire: frame.len at first,
     * narrowed by each IP header's length.  L4 payload lengths are
     * computed against it, so Ethernet padding and snaplen cuts do not
     * count. */
    uint32_t end;
    bool end_from_ip;       /* `end` comes from a sane IP length field */
    bool cut;               /* vnd_decode_cut: frame.len from the first IP header */
    uint32_t wire_end;      /* where the first IP header says the frame ends; 0: none */
    uint8_t tunnels;        /* tunnels entered so far */
};

/* ---- bounds-checked accessors ---------------------------------------- */

/* True when n bytes at off are captured (overflow-safe). */
static inline bool dn_have(const struct vnd_dissect *d, uint32_t off, uint32_t n)
{
    return off <= d->caplen && d->caplen - off >= n;
}

static inline bool dn_u8(const struct vnd_dissect *d, uint32_t off, uint32_t *v)
{
    if (!dn_have(d, off, 1))
        return false;
    *v = d->p[off];
    return true;
}

static inline bool dn_be16(const struct vnd_dissect *d, uint32_t off, uint32_t *v)
{
    if (!dn_have(d, off, 2))
        return false;
    *v = (uint32_t)d->p[off] << 8 | d->p[off + 1];
    return true;
}

static inline bool dn_be24(const struct vnd_dissect *d, uint32_t off, uint32_t *v)
{
    if (!dn_have(d, off, 3))
        return false;
    *v = (uint32_t)d->p[off] << 16 | (uint32_t)d->p[off + 1] << 8 | d->p[off + 2];
    return true;
}

static inline bool dn_be32(const struct vnd_dissect *d, uint32_t off, uint32_t *v)
{
    if (!dn_have(d, off, 4))
        return false;
    *v = (uint32_t)d->p[off] << 24 | (uint32_t)d->p[off + 1] << 16
         | (uint32_t)d->p[off + 2] << 8 | d->p[off + 3];
    return true;
}

/* Sets field f to the n bytes at off when they are captured. */
static inline bool dn_set_bytes(struct vnd_dissect *d, enum vnd_field f,
                                uint32_t off, uint32_t n)
{
    if (!dn_have(d, off, n))
        return false;
    vnd_pkt_set_b(d->pkt, f, d->p + off, n);
    return true;
}

static inline void dn_set(struct vnd_dissect *d, enum vnd_field f, uint64_t v)
{
    vnd_pkt_set_u(d->pkt, f, v);
}

static inline void dn_flag(struct vnd_dissect *d, uint32_t anomaly)
{
    d->pkt->anomalies |= anomaly;
}

/* A header ran past the captured bytes. */
static inline void dn_truncated(struct vnd_dissect *d)
{
    d->pkt->anomalies |= VND_PKT_TRUNCATED;
}

/* Reads a field or, when it is not captured, marks the packet truncated
 * and returns from the (void) decoder: DN_READ(dn_be16(d, off, &v)); */
#define DN_READ(read) do {                                              \
        if (!(read)) { dn_truncated(d); return; }                       \
    } while (0)

/* ---- entry points, one per protocol file ------------------------------ */

/* Link layers (link-*.c, ether.c).  `off` is where the header starts. */
void vnd_dn_ether(struct vnd_dissect *d, uint32_t off);
void vnd_dn_null(struct vnd_dissect *d, uint32_t off, bool network_order);
void vnd_dn_sll(struct vnd_dissect *d, uint32_t off);
void vnd_dn_sll2(struct vnd_dissect *d, uint32_t off);
/* Raw IP: the version nibble picks IPv4 or IPv6. */
void vnd_dn_raw_ip(struct vnd_dissect *d, uint32_t off);

/* What follows an EtherType (after VLAN tags are handled): IPv4, IPv6,
 * ARP, VLAN tags (again), or nothing we know.  Sets eth.type. */
void vnd_dn_ethertype(struct vnd_dissect *d, uint32_t off, uint32_t type);

void vnd_dn_arp(struct vnd_dissect *d, uint32_t off);
void vnd_dn_ipv4(struct vnd_dissect *d, uint32_t off);
void vnd_dn_ipv6(struct vnd_dissect *d, uint32_t off);

/* What follows an IP header (or IPv6 extension chain): `proto` at off. */
void vnd_dn_ip_proto(struct vnd_dissect *d, uint32_t off, uint32_t proto);

void vnd_dn_tcp(struct vnd_dissect *d, uint32_t off);
void vnd_dn_udp(struct vnd_dissect *d, uint32_t off);
void vnd_dn_icmp(struct vnd_dissect *d, uint32_t off);
/* DNS message at off (after any TCP length prefix). */
void vnd_dn_dns(struct vnd_dissect *d, uint32_t off);
void vnd_dn_vxlan(struct vnd_dissect *d, uint32_t off);
void vnd_dn_geneve(struct vnd_dissect *d, uint32_t off);
void vnd_dn_gre(struct vnd_dissect *d, uint32_t off);
/* ERSPAN type 1, 2 or 3 at off (right after GRE). */
void vnd_dn_erspan(struct vnd_dissect *d, uint32_t off, int type);
/* VXLAN-GPE (UDP 4790): VXLAN with a next-protocol byte. */
void vnd_dn_vxlan_gpe(struct vnd_dissect *d, uint32_t off);
/* An MPLS label stack at off and what its bottom entry carries. */
void vnd_dn_mpls(struct vnd_dissect *d, uint32_t off);
/* A Network Service Header at off. */
void vnd_dn_nsh(struct vnd_dissect *d, uint32_t off);
/* 802.1ah I-TAG at off (after EtherType 0x88e7), then the customer frame. */
void vnd_dn_pbb(struct vnd_dissect *d, uint32_t off);
/* PPPoE session header at off (after EtherType 0x8864). */
void vnd_dn_pppoe(struct vnd_dissect *d, uint32_t off);
/* Cisco FabricPath: `off` is the outer frame's start (its EtherType is
 * 0x8903). */
void vnd_dn_fabricpath(struct vnd_dissect *d, uint32_t off);

/* A network-layer packet named by an EtherType-valued protocol field
 * (GRE, NSH, VXLAN-GPE after mapping): IPv4, IPv6, MPLS, NSH.  Does not
 * set eth.type.  False when the type is none of them (nothing read). */
bool vnd_dn_l3(struct vnd_dissect *d, uint32_t off, uint32_t type);

/* True when vnd_dn_l3 decodes `type` (to decide before entering a tunnel). */
static inline bool vnd_dn_l3_known(uint32_t type)
{
    return type == 0x0800 || type == 0x86dd || type == 0x8847 || type == 0x8848
           || type == 0x894f;
}

/* ---- shared steps (decode.c) ------------------------------------------ */

/* Starts decoding a tunnel's inner packet: the first time, copies the
 * outermost headers into outer.*; every time, clears the inner fields
 * (eth, vlan, arp, ip, l4, dns, payload) so the inner packet's own values
 * replace them.  False when the nesting cap is reached (VND_PKT_DEPTH_CAP
 * set): the caller then stops and the tunnel's carrier stays innermost. */
bool vnd_dn_enter_tunnel(struct vnd_dissect *d);

/* Records the L4 payload starting at `off`: payload.len (`len` bytes on
 * the wire) and the captured part for payload.hash. */
void vnd_dn_payload(struct vnd_dissect *d, uint32_t off, uint32_t len);

/* Bytes from off to the end of the current datagram (0 when past it). */
static inline uint32_t dn_remaining(const struct vnd_dissect *d, uint32_t off)
{
    return off <= d->end ? d->end - off : 0;
}

#endif
