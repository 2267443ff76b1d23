/* synth/ipfix.c — building IPFIX messages (see ipfix.h). */
#include "synth/ipfix.h"

#include <string.h>

void vnd_ipfixw_bytes(struct vnd_ipfixw *w, const void *p, size_t n)
{
    if (w->overflow || sizeof w->buf - w->n < n) {
        w->overflow = true;
        return;
    }
    if (n)
        memcpy(w->buf + w->n, p, n);
    w->n += n;
}

void vnd_ipfixw_u8(struct vnd_ipfixw *w, uint8_t v)
{
    vnd_ipfixw_bytes(w, &v, 1);
}

void vnd_ipfixw_u16(struct vnd_ipfixw *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    vnd_ipfixw_bytes(w, b, 2);
}

void vnd_ipfixw_u32(struct vnd_ipfixw *w, uint32_t v)
{
    vnd_ipfixw_u16(w, (uint16_t)(v >> 16));
    vnd_ipfixw_u16(w, (uint16_t)v);
}

void vnd_ipfixw_u64(struct vnd_ipfixw *w, uint64_t v)
{
    vnd_ipfixw_u32(w, (uint32_t)(v >> 32));
    vnd_ipfixw_u32(w, (uint32_t)v);
}

static void put16_at(struct vnd_ipfixw *w, size_t at, size_t v)
{
    w->buf[at] = (uint8_t)(v >> 8);
    w->buf[at + 1] = (uint8_t)v;
}

void vnd_ipfixw_begin(struct vnd_ipfixw *w, uint32_t export_time, uint32_t seq, uint32_t domain)
{
    w->n = 0;
    w->set_at = 0;
    w->overflow = false;
    vnd_ipfixw_u16(w, 10);
    vnd_ipfixw_u16(w, 0);            /* length, at the end */
    vnd_ipfixw_u32(w, export_time);
    vnd_ipfixw_u32(w, seq);
    vnd_ipfixw_u32(w, domain);
}

void vnd_ipfixw_begin_v9(struct vnd_ipfixw *w, uint32_t uptime_ms, uint32_t unix_secs,
                         uint32_t seq, uint32_t source_id)
{
    w->n = 0;
    w->set_at = 0;
    w->overflow = false;
    vnd_ipfixw_u16(w, 9);
    vnd_ipfixw_u16(w, 0);            /* count: vnd_ipfixw_v9_count; VND does not read it */
    vnd_ipfixw_u32(w, uptime_ms);
    vnd_ipfixw_u32(w, unix_secs);
    vnd_ipfixw_u32(w, seq);
    vnd_ipfixw_u32(w, source_id);
}

void vnd_ipfixw_v9_count(struct vnd_ipfixw *w, uint16_t count)
{
    if (w->n >= 4)
        put16_at(w, 2, count);
}

static void close_set(struct vnd_ipfixw *w)
{
    if (w->set_at && !w->overflow)
        put16_at(w, w->set_at + 2, w->n - w->set_at);
    w->set_at = 0;
}

void vnd_ipfixw_set(struct vnd_ipfixw *w, uint16_t id)
{
    close_set(w);
    w->set_at = w->n;
    vnd_ipfixw_u16(w, id);
    vnd_ipfixw_u16(w, 0);
}

void vnd_ipfixw_field(struct vnd_ipfixw *w, uint16_t ie, uint16_t len, uint32_t pen)
{
    vnd_ipfixw_u16(w, pen ? (uint16_t)(ie | 0x8000) : ie);
    vnd_ipfixw_u16(w, len);
    if (pen)
        vnd_ipfixw_u32(w, pen);
}

size_t vnd_ipfixw_end(struct vnd_ipfixw *w)
{
    close_set(w);
    if (!w->overflow && w->n >= 4 && w->buf[0] == 0 && w->buf[1] == 10)
        put16_at(w, 2, w->n);
    return w->n;
}

/* IE, length, enterprise: the fields in the order OVS sends them. */
static const struct { uint16_t ie, len; uint32_t pen; } ovs_fields[] = {
    {138, 4, 0},                 /* observationPointId */
    {61, 1, 0},                  /* flowDirection */
    {56, 6, 0}, {80, 6, 0},      /* source/destinationMacAddress */
    {256, 2, 0},                 /* ethernetType */
    {10, 4, 0},                  /* ingressInterface */
    {82, 65535, 0},              /* interfaceName: variable */
    {4, 1, 0},                   /* protocolIdentifier */
    {8, 4, 0}, {12, 4, 0},       /* source/destinationIPv4Address */
    {7, 2, 0}, {11, 2, 0},       /* source/destinationTransportPort */
    {100, 4, 32473},             /* an enterprise field (the documentation PEN) */
    {158, 4, 0}, {159, 4, 0},    /* flowStart/EndDeltaMicroseconds */
    {2, 8, 0},                   /* packetDeltaCount */
    {352, 8, 0},                 /* layer2OctetDeltaCount */
    {136, 1, 0},                 /* flowEndReason */
    {1, 8, 0},                   /* octetDeltaCount */
    {198, 8, 0},                 /* octetDeltaSumOfSquares */
    {6, 2, 0},                   /* tcpControlBits */
};

void vnd_ipfixw_ovs_template(struct vnd_ipfixw *w, uint16_t id)
{
    vnd_ipfixw_set(w, 2);
    vnd_ipfixw_u16(w, id);
    vnd_ipfixw_u16(w, (uint16_t)(sizeof ovs_fields / sizeof *ovs_fields));
    for (size_t i = 0; i < sizeof ovs_fields / sizeof *ovs_fields; i++)
        vnd_ipfixw_field(w, ovs_fields[i].ie, ovs_fields[i].len, ovs_fields[i].pen);
}

void vnd_ipfixw_ovs_record(struct vnd_ipfixw *w, const struct vnd_ipfix_flow *f,
                           uint32_t start_delta_us, uint32_t end_delta_us)
{
    static const char ifname[] = "vnd-port";
    vnd_ipfixw_u32(w, (uint32_t)f->obs_point);
    vnd_ipfixw_u8(w, f->direction);
    vnd_ipfixw_bytes(w, f->src_mac, 6);
    vnd_ipfixw_bytes(w, f->dst_mac, 6);
    vnd_ipfixw_u16(w, 0x0800);
    vnd_ipfixw_u32(w, f->in_if);
    vnd_ipfixw_u8(w, (uint8_t)(sizeof ifname - 1));
    vnd_ipfixw_bytes(w, ifname, sizeof ifname - 1);
    vnd_ipfixw_u8(w, f->proto);
    vnd_ipfixw_bytes(w, f->src, 4);
    vnd_ipfixw_bytes(w, f->dst, 4);
    vnd_ipfixw_u16(w, f->sport);
    vnd_ipfixw_u16(w, f->dport);
    vnd_ipfixw_u32(w, 0xdeadbeef);
    vnd_ipfixw_u32(w, start_delta_us);
    vnd_ipfixw_u32(w, end_delta_us);
    vnd_ipfixw_u64(w, f->packets);
    vnd_ipfixw_u64(w, f->l2_octets);
    vnd_ipfixw_u8(w, f->end_reason);
    vnd_ipfixw_u64(w, f->octets);
    vnd_ipfixw_u64(w, f->octets_sq);
    vnd_ipfixw_u16(w, f->tcp_flags);
}
