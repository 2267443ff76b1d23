/* sampling.c — the packet key of hash (consistent) sampling. */
#include "ingest/sampling.h"

#include <strings.h>

#include "decode/packet.h"
#include "fields/registry.h"

const char *vnd_sample_method_name(enum vnd_sample_method m)
{
    return m == VND_SAMPLE_HASH ? "hash" : "count";
}

bool vnd_sample_method_parse(const char *name, enum vnd_sample_method *out)
{
    if (!strcasecmp(name, "count"))
        *out = VND_SAMPLE_COUNT;
    else if (!strcasecmp(name, "hash"))
        *out = VND_SAMPLE_HASH;
    else
        return false;
    return true;
}

/* splitmix64's finalizer: every input bit moves every output bit. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

uint32_t vnd_sample_key(const struct vnd_pkt *pkt, const uint8_t *frame, uint32_t caplen)
{
    if (pkt->payload && pkt->payload_caplen > 0)
        return (uint32_t)(vnd_payload_hash(pkt->payload, pkt->payload_caplen) >> 32);
    bool ip = vnd_pkt_has(pkt, VND_F_IP_SRC);
    if (ip) {
        uint64_t id = vnd_pkt_has(pkt, VND_F_IP_ID) ? pkt->v[VND_F_IP_ID].u : 0;
        uint64_t seq = vnd_pkt_has(pkt, VND_F_TCP_SEQ) ? pkt->v[VND_F_TCP_SEQ].u : 0;
        uint64_t ack = vnd_pkt_has(pkt, VND_F_TCP_ACK) ? pkt->v[VND_F_TCP_ACK].u : 0;
        return (uint32_t)(mix(mix(id << 32 | seq) ^ ack) >> 32);
    }
    return (uint32_t)(vnd_payload_hash(frame, caplen) >> 32);
}
