/* fuzz_sflow.c — the sFlow v5 reader: arbitrary bytes as one datagram;
 * every sampled header is decoded as the table server would, every
 * counter record read.  Truncated samples, lengths that lie, unknown
 * enterprises and formats must be skipped or refused, never read past. */
#include <stdint.h>
#include <string.h>

#include "capture/sflow.h"
#include "decode/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t sink;

static void on_flow(void *ctx, const struct vnd_sflow_datagram *d, const struct vnd_sflow_flow *f)
{
    (void)ctx;
    (void)d;
    static struct vnd_pkt pkt;
    uint32_t len = f->frame_length >= f->stripped ? f->frame_length - f->stripped : 0;
    if (f->header_protocol == 1)
        vnd_decode(&pkt, VND_DLT_EN10MB, f->header, f->header_length, len, 0);
    for (uint32_t i = 0; i < f->header_length; i++)   /* every byte it names is readable */
        sink += f->header[i];
}

static void on_counters(void *ctx, const struct vnd_sflow_datagram *d,
                        const struct vnd_ifcounters *c)
{
    (void)ctx;
    (void)d;
    sink += c->in_octets + c->out_octets + c->if_index;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy of exactly `size` bytes, so ASan sees any overread */
    uint8_t *p = size ? __builtin_malloc(size) : NULL;
    if (size)
        memcpy(p, data, size);
    struct vnd_sflow_handler h = {on_flow, on_counters, NULL};
    struct vnd_sflow_counts c;
    const char *why = NULL;
    vnd_sflow_parse(p, size, &h, &c, &why);
    __builtin_free(p);
    return 0;
}
