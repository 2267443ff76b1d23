/* fuzz_ipfix.c — the IPFIX / NetFlow v9 reader: arbitrary bytes as a
 * sequence of messages from four exporters against one template cache,
 * so templates, redefinitions and withdrawals of one message meet the
 * data sets of the next, and one exporter's flood of templates meets its
 * share of the cache (512 templates, 64 an exporter).  Input: [1 byte:
 * session 0-3, the low bits][2 bytes: length][message]..., the last
 * message takes what is left.  Lengths that lie, variable-length fields
 * past their set, unknown enterprise fields and template floods must be
 * refused or skipped, never read past; the cache stays within its cap. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/ipfix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t sink;

static void on_flow(void *ctx, const struct vnd_ipfix_flow *f)
{
    (void)ctx;
    sink += f->octets + f->packets + f->sport + f->src[0] + f->dst[15] + (uint64_t)f->end_ns;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vnd_ipfix_cache *c = vnd_ipfix_cache_new(512, 60);
    double now = 1000;
    for (int m = 0; size > 0 && m < 64; m++) {
        static const char *const names[] = {"exporter-a", "exporter-b", "exporter-c",
                                            "exporter-d"};
        const char *session = names[data[0] & 3];
        size_t n = size - 1;
        const uint8_t *p = data + 1;
        if (n >= 2 && data[0] & 0x80) {    /* a length: several messages */
            size_t len = (size_t)p[0] << 8 | p[1];
            p += 2;
            n -= 2;
            if (len < n)
                n = len;
        }
        /* a copy of exactly `n` bytes, so ASan sees any overread */
        uint8_t *copy = n ? malloc(n) : NULL;
        if (n)
            memcpy(copy, p, n);
        struct vnd_ipfix_counts cnt;
        const char *why = NULL;
        vnd_ipfix_parse(c, session, 10, now, copy, n, on_flow,
                        NULL, &cnt, &why);
        free(copy);
        now += data[0] & 0x40 ? 100 : 1;  /* sometimes past the template timeout */
        size_t used = (size_t)(p - data) + n;
        data += used;
        size -= used;
        if (vnd_ipfix_cache_size(c) > 512)
            abort();
    }
    vnd_ipfix_cache_free(c);
    return 0;
}
