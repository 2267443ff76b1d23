/* fuzz_decode.c — the packet decoders on arbitrary bytes.
 *
 * The first input byte picks the link type (tests/fuzz/decode_links.h;
 * its high bit also claims a longer wire length, as a snaplen cut does,
 * and 0x40 decodes the frame as a copy a switch cut, vnd_decode_cut);
 * the rest is the captured frame.  Every field is then formatted through
 * the registry, so the formatting code is fuzzed too, and the decoder's
 * promises are checked: slices stay inside the frame, lengths are sane. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode_links.h"
#include "decode/packet.h"
#include "fields/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 20)
        return 0;
    int link = vnd_fuzz_links[(data[0] & 0x3f) % VND_FUZZ_NLINKS];
    bool cut = data[0] & 0x40;
    const uint8_t *frame = data + 1;
    uint32_t caplen = (uint32_t)(size - 1);
    uint32_t len = data[0] & 0x80 ? caplen + 1000 : caplen;

    struct vnd_pkt pkt;
    uint32_t an = cut ? vnd_decode_cut(&pkt, link, frame, caplen, 42)
                      : vnd_decode(&pkt, link, frame, caplen, len, 42);
    check(an == pkt.anomalies);
    /* a cut frame's wire length is at least what arrived, at most an IP
     * datagram's behind its headers */
    check(!cut || (pkt.v[VND_F_FRAME_LEN].u >= caplen
                   && pkt.v[VND_F_FRAME_LEN].u <= (uint64_t)caplen + 65535 + 40));
    check(vnd_decode_linktype_supported(link));

    for (int f = 0; f < VND_F_COUNT; f++) {
        char buf[VND_VALUE_TEXT_MAX];
        struct vnd_value v;
        const struct vnd_field_info *fi = vnd_field_info((enum vnd_field)f);
        if (!vnd_field_value(&pkt, (enum vnd_field)f, buf, &v))
            continue;
        switch (fi->type) {
        case VND_FT_MAC: case VND_FT_IP: {
            /* address slices point into the frame */
            const union vnd_pkt_val *pv = &pkt.v[f];
            check(pv->b.p >= frame && pv->b.p + pv->b.n <= frame + caplen);
            check(pv->b.n == (fi->type == VND_FT_MAC ? 6u : 4u) || pv->b.n == 16);
            break;
        }
        case VND_FT_STR:
            check(v.slen < VND_VALUE_TEXT_MAX && strlen(v.s) == v.slen);
            break;
        case VND_FT_SACK:
            check(pkt.nsack >= 1 && pkt.nsack <= VND_SACK_MAX);
            break;
        default:
            break;
        }
    }
    if (vnd_pkt_has(&pkt, VND_F_PAYLOAD_LEN)) {
        check(pkt.payload >= frame && pkt.payload + pkt.payload_caplen <= frame + caplen);
        check(pkt.payload_caplen <= pkt.v[VND_F_PAYLOAD_LEN].u);
    }
    if (vnd_pkt_has(&pkt, VND_F_DNS_QNAME))
        check(pkt.v[VND_F_DNS_QNAME].b.n < sizeof pkt.qname);
    return 0;
}
