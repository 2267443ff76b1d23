/* sflow.c — reading sFlow v5 datagrams (see sflow.h).  XDR: every field
 * is a big-endian 32-bit word (64-bit counters are two), opaque data is
 * padded to a multiple of 4. */
#include "capture/sflow.h"

#include <string.h>

struct rd {
    const uint8_t *p, *end;
    int bad;
};

static uint32_t u32(struct rd *r)
{
    if (r->bad || r->end - r->p < 4) {
        r->bad = 1;
        return 0;
    }
    uint32_t v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8
                 | r->p[3];
    r->p += 4;
    return v;
}

static uint64_t u64(struct rd *r)
{
    uint64_t hi = u32(r);
    return hi << 32 | u32(r);
}

/* A sub-reader over the next `len` bytes, and past them and their padding
 * to 4 (lengths in sFlow count the bytes, data is padded).  The padding
 * may end with the structure around it: an agent that counts a sample
 * without the last record's padding counts that record without it too. */
static struct rd sub(struct rd *r, uint32_t len)
{
    struct rd s = {r->p, r->p, 1};
    size_t left = (size_t)(r->end - r->p);
    size_t padded = ((size_t)len + 3) & ~(size_t)3;
    if (r->bad || left < len) {
        r->bad = 1;
        return s;
    }
    s.end = r->p + len;
    s.bad = 0;
    r->p += padded < left ? padded : left;
    return s;
}

static int flow_records(struct rd *r, const struct vnd_sflow_datagram *d,
                        struct vnd_sflow_flow *f, const struct vnd_sflow_handler *h,
                        struct vnd_sflow_counts *c)
{
    uint32_t nrec = u32(r);
    for (uint32_t i = 0; i < nrec && !r->bad; i++) {
        uint32_t fmt = u32(r), len = u32(r);
        struct rd x = sub(r, len);
        if (r->bad)
            break;
        if (fmt != 1) {         /* enterprise 0, raw packet header */
            c->skipped++;
            continue;
        }
        f->header_protocol = u32(&x);
        f->frame_length = u32(&x);
        f->stripped = u32(&x);
        f->header_length = u32(&x);
        if (x.bad || (size_t)(x.end - x.p) < f->header_length)
            return -1;
        f->header = x.p;
        c->flows++;
        if (h && h->flow)
            h->flow(h->ctx, d, f);
    }
    return r->bad ? -1 : 0;
}

static void read_ifcounters(struct rd *x, struct vnd_ifcounters *k)
{
    k->if_index = u32(x);
    k->if_type = u32(x);
    k->if_speed = u64(x);
    k->if_direction = u32(x);
    k->if_status = u32(x);
    k->in_octets = u64(x);
    k->in_ucast = u32(x);
    k->in_mcast = u32(x);
    k->in_bcast = u32(x);
    k->in_discards = u32(x);
    k->in_errors = u32(x);
    k->in_unknown = u32(x);
    k->out_octets = u64(x);
    k->out_ucast = u32(x);
    k->out_mcast = u32(x);
    k->out_bcast = u32(x);
    k->out_discards = u32(x);
    k->out_errors = u32(x);
    k->promiscuous = u32(x);
}

static int counter_records(struct rd *r, const struct vnd_sflow_datagram *d, uint32_t seq,
                           const struct vnd_sflow_handler *h, struct vnd_sflow_counts *c)
{
    uint32_t nrec = u32(r);
    for (uint32_t i = 0; i < nrec && !r->bad; i++) {
        uint32_t fmt = u32(r), len = u32(r);
        struct rd x = sub(r, len);
        if (r->bad)
            break;
        if (fmt != 1) {         /* enterprise 0, generic interface counters */
            c->skipped++;
            continue;
        }
        struct vnd_ifcounters k;
        memset(&k, 0, sizeof k);
        read_ifcounters(&x, &k);
        if (x.bad)
            return -1;
        k.sequence = seq;
        k.agent_uptime_ms = d->uptime_ms;
        c->counters++;
        if (h && h->counters)
            h->counters(h->ctx, d, &k);
    }
    return r->bad ? -1 : 0;
}

int vnd_sflow_parse(const uint8_t *p, size_t n, const struct vnd_sflow_handler *h,
                    struct vnd_sflow_counts *counts, const char **why)
{
    struct vnd_sflow_counts local;
    struct vnd_sflow_counts *c = counts ? counts : &local;
    memset(c, 0, sizeof *c);
    /* (NULL + 0 is undefined in C: an empty datagram may come as NULL) */
    struct rd r = {p, p ? p + n : p, 0};
    struct vnd_sflow_datagram d;
    memset(&d, 0, sizeof d);
    if (u32(&r) != 5) {
        *why = r.bad ? "shorter than a header" : "not sFlow version 5";
        return -1;
    }
    uint32_t af = u32(&r);
    if (af == 1) {
        d.agent_af = 4;
    } else if (af == 2) {
        d.agent_af = 6;
    } else {
        *why = "unknown agent address type";
        return -1;
    }
    size_t alen = d.agent_af == 4 ? 4 : 16;
    if ((size_t)(r.end - r.p) < alen) {
        *why = "ends inside the header";
        return -1;
    }
    memcpy(d.agent, r.p, alen);
    r.p += alen;
    d.sub_agent = u32(&r);
    d.sequence = u32(&r);
    d.uptime_ms = u32(&r);
    d.nsamples = u32(&r);
    if (r.bad) {
        *why = "ends inside the header";
        return -1;
    }
    for (uint32_t i = 0; i < d.nsamples; i++) {
        uint32_t fmt = u32(&r), len = u32(&r);
        struct rd s = sub(&r, len);
        if (r.bad) {
            *why = "a sample's length runs past the datagram";
            return -1;
        }
        struct vnd_sflow_flow f;
        memset(&f, 0, sizeof f);
        int rc = 0;
        switch (fmt) {
        case 1: {               /* flow sample */
            f.sequence = u32(&s);
            uint32_t src = u32(&s);
            f.source_class = src >> 24;
            f.source_index = src & 0xffffff;
            f.sampling_rate = u32(&s);
            f.sample_pool = u32(&s);
            f.drops = u32(&s);
            uint32_t in = u32(&s), out = u32(&s);
            f.in_format = in >> 30;
            f.in_value = in & 0x3fffffff;
            f.out_format = out >> 30;
            f.out_value = out & 0x3fffffff;
            rc = s.bad ? -1 : flow_records(&s, &d, &f, h, c);
            break;
        }
        case 3:                 /* expanded flow sample */
            f.sequence = u32(&s);
            f.source_class = u32(&s);
            f.source_index = u32(&s);
            f.sampling_rate = u32(&s);
            f.sample_pool = u32(&s);
            f.drops = u32(&s);
            f.in_format = u32(&s);
            f.in_value = u32(&s);
            f.out_format = u32(&s);
            f.out_value = u32(&s);
            rc = s.bad ? -1 : flow_records(&s, &d, &f, h, c);
            break;
        case 2: {               /* counter sample */
            uint32_t seq = u32(&s);
            u32(&s);            /* source id */
            rc = s.bad ? -1 : counter_records(&s, &d, seq, h, c);
            break;
        }
        case 4: {               /* expanded counter sample */
            uint32_t seq = u32(&s);
            u32(&s);
            u32(&s);
            rc = s.bad ? -1 : counter_records(&s, &d, seq, h, c);
            break;
        }
        default:
            c->skipped++;
            break;
        }
        if (rc) {
            *why = "a sample's records do not fit in it";
            return -1;
        }
    }
    return 0;
}
