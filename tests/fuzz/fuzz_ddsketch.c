/* fuzz_ddsketch.c — DDSketch's serialized form (util/ddsketch.h), which
 * tenant SQL can hand to vnd_dds_quantile/vnd_dds_merge as any BLOB:
 * arbitrary bytes decoded and merged into a sketch, quantiles asked, the
 * sketch encoded again (whole and in parts) and read back the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/ddsketch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vnd_dds s, acc;
    vnd_dds_init(&acc, VND_DDS_ALPHA_PERMILLE);
    int rc = vnd_dds_decode(&s, data, size);
    /* twice into one accumulator: the walk over its bins from a bisection */
    if (vnd_dds_merge_encoded(&acc, data, size) == 0)
        vnd_dds_merge_encoded(&acc, data, size);
    if (rc == 0) {
        for (int k = 0; k <= 10; k++)
            (void)vnd_dds_quantile(&s, k / 10.0);
        size_t n;
        uint8_t *p = vnd_dds_encode(&s, &n);
        struct vnd_dds t;
        if (vnd_dds_decode(&t, p, n) != 0 || t.count != s.count || t.nb != s.nb)
            abort();
        vnd_dds_free(&t);
        free(p);
        uint8_t part[64];
        int from = 0;
        while (from < s.nb)
            if (!vnd_dds_encode_part(&s, &from, part, sizeof part))
                abort();
    }
    vnd_dds_free(&s);
    vnd_dds_free(&acc);
    return 0;
}
