/* synth/sflow.c — sFlow v5 datagrams (see sflow.h). */
#include "synth/sflow.h"

static void u32(struct vnd_ipfixw *w, uint32_t v)
{
    vnd_ipfixw_u32(w, v);
}

static void u64(struct vnd_ipfixw *w, uint64_t v)
{
    vnd_ipfixw_u64(w, v);
}

/* Two fields in one word (`hi` in the bits above the `lo_bits` of `lo`),
 * or in a word each when `expanded`: a sample's source id (class, 8 bits;
 * index, 24) and a flow sample's interfaces (format, 2; value, 30). */
static void pair(struct vnd_ipfixw *w, bool expanded, uint32_t hi, uint32_t lo, int lo_bits)
{
    if (expanded) {
        u32(w, hi);
        u32(w, lo);
    } else {
        u32(w, hi << lo_bits | (lo & ((UINT32_C(1) << lo_bits) - 1)));
    }
}

void vnd_sflow_begin(struct vnd_ipfixw *w, const struct vnd_sflow_datagram *d)
{
    w->n = 0;
    w->set_at = 0;
    w->overflow = false;
    u32(w, 5);
    u32(w, d->agent_af == 6 ? 2 : 1);
    vnd_ipfixw_bytes(w, d->agent, d->agent_af == 6 ? 16 : 4);
    u32(w, d->sub_agent);
    u32(w, d->sequence);
    u32(w, d->uptime_ms);
    u32(w, d->nsamples);
}

void vnd_sflow_flow_sample(struct vnd_ipfixw *w, bool expanded, const struct vnd_sflow_flow *f)
{
    uint32_t padded = (f->header_length + 3) & ~3u;
    uint32_t rec_len = 16 + padded;                 /* raw packet header */
    uint32_t head = expanded ? 40 : 28;             /* the sample's words before its records */
    u32(w, expanded ? 3 : 1);
    u32(w, head + 4 + 8 + rec_len);
    u32(w, f->sequence);
    pair(w, expanded, f->source_class, f->source_index, 24);
    u32(w, f->sampling_rate);
    u32(w, f->sample_pool);
    u32(w, f->drops);
    pair(w, expanded, f->in_format, f->in_value, 30);
    pair(w, expanded, f->out_format, f->out_value, 30);
    u32(w, 1);                                      /* one record */
    u32(w, 1);                                      /* raw packet header */
    u32(w, rec_len);
    u32(w, f->header_protocol);
    u32(w, f->frame_length);
    u32(w, f->stripped);
    u32(w, f->header_length);
    vnd_ipfixw_bytes(w, f->header, f->header_length);
    static const uint8_t zero[3];
    vnd_ipfixw_bytes(w, zero, padded - f->header_length);
}

void vnd_sflow_counter_sample(struct vnd_ipfixw *w, bool expanded, uint32_t source_class,
                              uint32_t source_index, const struct vnd_ifcounters *k)
{
    uint32_t rec_len = 88;                          /* generic interface counters */
    u32(w, expanded ? 4 : 2);
    u32(w, (expanded ? 12 : 8) + 4 + 8 + rec_len);
    u32(w, k->sequence);
    pair(w, expanded, source_class, source_index, 24);
    u32(w, 1);                                      /* one record */
    u32(w, 1);                                      /* generic interface counters */
    u32(w, rec_len);
    u32(w, k->if_index);
    u32(w, k->if_type);
    u64(w, k->if_speed);
    u32(w, k->if_direction);
    u32(w, k->if_status);
    u64(w, k->in_octets);
    u32(w, k->in_ucast);
    u32(w, k->in_mcast);
    u32(w, k->in_bcast);
    u32(w, k->in_discards);
    u32(w, k->in_errors);
    u32(w, k->in_unknown);
    u64(w, k->out_octets);
    u32(w, k->out_ucast);
    u32(w, k->out_mcast);
    u32(w, k->out_bcast);
    u32(w, k->out_discards);
    u32(w, k->out_errors);
    u32(w, k->promiscuous);
}
