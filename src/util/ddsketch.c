/* ddsketch.c — DDSketch (ddsketch.h): sparse sorted bins, the lowest
 * folded past VND_DDS_MAX_BINS, a varint serialized form. */
#include "util/ddsketch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void vnd_dds_init(struct vnd_dds *s, int alpha_pm)
{
    memset(s, 0, sizeof *s);
    if (alpha_pm < 1)
        alpha_pm = 1;
    if (alpha_pm > 200)
        alpha_pm = 200;
    s->alpha_pm = alpha_pm;
    double a = alpha_pm / 1000.0;
    s->lg = log((1 + a) / (1 - a));
}

void vnd_dds_free(struct vnd_dds *s)
{
    free(s->b);
    memset(s, 0, sizeof *s);
}

void vnd_dds_clear(struct vnd_dds *s)
{
    s->zeros = s->count = 0;
    s->nb = 0;
}

static void reserve(struct vnd_dds *s, int n)
{
    if (n <= s->cap)
        return;
    int cap = s->cap ? s->cap : 4;
    while (cap < n)
        cap *= 2;
    s->b = realloc(s->b, (size_t)cap * sizeof *s->b);
    if (!s->b)
        abort();
    s->cap = cap;
}

/* Past VND_DDS_MAX_BINS: the lowest bins fold into the next one up. */
static void collapse(struct vnd_dds *s)
{
    int extra = s->nb - VND_DDS_MAX_BINS;
    if (extra <= 0)
        return;
    uint64_t n = 0;
    for (int i = 0; i <= extra; i++)
        n += s->b[i].n;
    s->b[extra].n = n;
    memmove(s->b, s->b + extra, (size_t)(s->nb - extra) * sizeof *s->b);
    s->nb -= extra;
}

/* Adds n to bin idx, looking from position *at on (bins ascend: a caller
 * adding a sorted list of bins walks s once); *at is left at the bin. */
static void add_bin_from(struct vnd_dds *s, int32_t idx, uint64_t n, int *at)
{
    int i = *at;
    while (i < s->nb && s->b[i].idx < idx)
        i++;
    if (i < s->nb && s->b[i].idx == idx) {
        s->b[i].n += n;
        *at = i;
        return;
    }
    reserve(s, s->nb + 1);
    memmove(s->b + i + 1, s->b + i, (size_t)(s->nb - i) * sizeof *s->b);
    s->b[i].idx = idx;
    s->b[i].n = n;
    s->nb++;
    int before = s->nb;
    collapse(s);
    *at = s->nb == before ? i : 0;
}

/* Adds n to bin idx. */
static void add_bin(struct vnd_dds *s, int32_t idx, uint64_t n)
{
    /* values of one flow and slot mostly land in the bin of the last */
    if (s->last < s->nb && s->b[s->last].idx == idx) {
        s->b[s->last].n += n;
        return;
    }
    /* the first bin >= idx, without branches to mispredict (values of
     * one cell spread over tens of bins) */
    int lo = 0;
    if (s->nb) {
        const struct vnd_dds_bin *base = s->b;
        for (int len = s->nb; len > 1; len -= len / 2)
            base = base[len / 2].idx < idx ? base + len / 2 : base;
        lo = (int)(base - s->b) + (base->idx < idx);
    }
    s->last = lo;
    if (lo < s->nb && s->b[lo].idx == idx) {
        s->b[lo].n += n;
        return;
    }
    reserve(s, s->nb + 1);
    memmove(s->b + lo + 1, s->b + lo, (size_t)(s->nb - lo) * sizeof *s->b);
    s->b[lo].idx = idx;
    s->b[lo].n = n;
    s->nb++;
    collapse(s);
}

int vnd_dds_add(struct vnd_dds *s, double v)
{
    if (!(v >= 0) || !isfinite(v))
        return -1;
    s->count++;
    if (v == 0) {
        s->zeros++;
        return 0;
    }
    add_bin(s, vnd_dds_bin(s, v), 1);
    return 0;
}

int32_t vnd_dds_bin(const struct vnd_dds *s, double v)
{
    return (int32_t)ceil(log(v) / s->lg);
}

/* A sub-interval whose ends fall in different bins. */
#define SPLIT INT32_MIN

void vnd_dds_binner_init(struct vnd_dds_binner *b, int alpha_pm)
{
    memset(b, 0, sizeof *b);
    vnd_dds_init(&b->shape, alpha_pm);
}

void vnd_dds_binner_free(struct vnd_dds_binner *b)
{
    for (int i = 0; i < VND_DDS_OCTAVES; i++)
        free(b->oct[i]);
    vnd_dds_free(&b->shape);
}

int32_t vnd_dds_binner_bin(struct vnd_dds_binner *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff) - 1023 + VND_DDS_OCTAVES / 2;
    if (e < 0 || e >= VND_DDS_OCTAVES || (bits >> 63))
        return vnd_dds_bin(&b->shape, v);
    int32_t *t = b->oct[e];
    if (!t) {
        /* bins are monotone in v: a sub-interval whose first and last
         * values share a bin lies in it whole */
        t = b->oct[e] = malloc(256 * sizeof *t);
        if (!t)
            abort();
        for (int j = 0; j < 256; j++) {
            int x = e - VND_DDS_OCTAVES / 2;
            double lo = ldexp(1 + j / 256.0, x);
            double hi = nextafter(ldexp(1 + (j + 1) / 256.0, x), 0);
            int32_t bl = vnd_dds_bin(&b->shape, lo);
            t[j] = bl == vnd_dds_bin(&b->shape, hi) ? bl : SPLIT;
        }
    }
    int32_t i = t[(bits >> 44) & 0xff];
    return i != SPLIT ? i : vnd_dds_bin(&b->shape, v);
}

void vnd_dds_add_bins(struct vnd_dds *s, int32_t lo, const uint64_t *c, int n)
{
    int at = 0;
    for (int i = 0; i < n; i++)
        if (c[i]) {
            add_bin_from(s, lo + i, c[i], &at);
            s->count += c[i];
        }
}

int vnd_dds_merge(struct vnd_dds *s, const struct vnd_dds *o)
{
    if (o->count == 0)
        return 0;
    if (s->count == 0 && s->alpha_pm != o->alpha_pm) {
        vnd_dds_free(s);
        vnd_dds_init(s, o->alpha_pm);
    }
    if (s->alpha_pm != o->alpha_pm)
        return -1;
    /* merge of two sorted lists into a new array */
    int cap = s->nb + o->nb + 1;
    struct vnd_dds_bin *m = malloc((size_t)cap * sizeof *m);
    if (!m)
        abort();
    int i = 0, j = 0, k = 0;
    while (i < s->nb || j < o->nb) {
        if (j >= o->nb || (i < s->nb && s->b[i].idx < o->b[j].idx))
            m[k++] = s->b[i++];
        else if (i >= s->nb || o->b[j].idx < s->b[i].idx)
            m[k++] = o->b[j++];
        else {
            m[k] = s->b[i++];
            m[k++].n += o->b[j++].n;
        }
    }
    free(s->b);
    s->b = m;
    s->nb = k;
    s->cap = cap;
    s->zeros += o->zeros;
    s->count += o->count;
    collapse(s);
    return 0;
}

double vnd_dds_quantile(const struct vnd_dds *s, double q)
{
    if (s->count == 0)
        return NAN;
    /* q outside [0, 1] or NaN, and counts near 2^64 (a BLOB a tenant
     * made): every conversion stays in uint64_t's range */
    if (!(q >= 0))
        q = 0;
    if (q > 1)
        q = 1;
    double r = ceil(q * (double)s->count);
    uint64_t rank = r < 1 ? 1 : r >= 18446744073709551616.0 ? s->count : (uint64_t)r;
    if (rank > s->count)
        rank = s->count;
    if (rank <= s->zeros)
        return 0;
    uint64_t seen = s->zeros;
    for (int i = 0; i < s->nb; i++) {
        seen += s->b[i].n;
        if (seen >= rank) {
            double g = exp(s->lg);
            return 2 * exp(s->lg * s->b[i].idx) / (g + 1);
        }
    }
    return NAN;   /* counts disagree: not reached for sketches made here */
}

/* ---- serialized form ---- */

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        p[n++] = c | (v ? 0x80 : 0);
    } while (v);
    return n;
}

static int get_varint(const uint8_t *p, size_t len, size_t *at, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*at >= len)
            return -1;
        uint8_t c = p[(*at)++];
        if (shift == 63 && c > 1)
            return -1;
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

size_t vnd_dds_encode_part(const struct vnd_dds *s, int *from, uint8_t *out, size_t max)
{
    if (max < 4 + 20 + 20)
        return 0;
    out[0] = 'D';
    out[1] = 'D';
    out[2] = 1;
    out[3] = (uint8_t)s->alpha_pm;
    /* the bin count is written once known: reserve its widest form */
    size_t n = 4;
    n += put_varint(out + n, *from == 0 ? s->zeros : 0);
    size_t at_nb = n;
    n += 2;                          /* at most VND_DDS_MAX_BINS: two bytes */
    int64_t prev = 0;
    int i = *from;
    for (; i < s->nb; i++) {
        uint8_t tmp[20];
        int64_t d = (int64_t)s->b[i].idx - prev;
        size_t k = put_varint(tmp, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
        k += put_varint(tmp + k, s->b[i].n);
        if (n + k > max)
            break;
        memcpy(out + n, tmp, k);
        n += k;
        prev = s->b[i].idx;
    }
    unsigned nb = (unsigned)(i - *from);
    out[at_nb] = (uint8_t)((nb & 0x7f) | 0x80);       /* two-byte varint */
    out[at_nb + 1] = (uint8_t)(nb >> 7);
    *from = i;
    return n;
}

uint8_t *vnd_dds_encode(const struct vnd_dds *s, size_t *len)
{
    /* 4 bytes of header, then at most 10 bytes per varint */
    uint8_t *p = malloc(4 + 20 + 20 * (size_t)s->nb);
    if (!p)
        abort();
    p[0] = 'D';
    p[1] = 'D';
    p[2] = 1;
    p[3] = (uint8_t)s->alpha_pm;
    size_t n = 4;
    n += put_varint(p + n, s->zeros);
    n += put_varint(p + n, (uint64_t)s->nb);
    int64_t prev = 0;
    for (int i = 0; i < s->nb; i++) {
        int64_t d = (int64_t)s->b[i].idx - prev;
        prev = s->b[i].idx;
        n += put_varint(p + n, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
        n += put_varint(p + n, s->b[i].n);
    }
    *len = n;
    return p;
}

int vnd_dds_decode(struct vnd_dds *s, const uint8_t *p, size_t len)
{
    vnd_dds_init(s, VND_DDS_ALPHA_PERMILLE);
    if (!p || len < 4 || p[0] != 'D' || p[1] != 'D' || p[2] != 1 || p[3] < 1 || p[3] > 200)
        return -1;
    vnd_dds_init(s, p[3]);
    size_t at = 4;
    uint64_t zeros, nb;
    if (get_varint(p, len, &at, &zeros) || get_varint(p, len, &at, &nb)
        || nb > VND_DDS_MAX_BINS)
        goto bad;
    reserve(s, (int)nb + 1);
    int64_t prev = 0;
    uint64_t count = zeros;
    for (uint64_t i = 0; i < nb; i++) {
        uint64_t z, n;
        if (get_varint(p, len, &at, &z) || get_varint(p, len, &at, &n) || n == 0)
            goto bad;
        int64_t d = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
        if ((i > 0 && d <= 0) || d > (int64_t)UINT32_MAX || d < -(int64_t)UINT32_MAX)
            goto bad;
        int64_t idx = prev + d;
        if (idx < INT32_MIN || idx > INT32_MAX || count + n < count)
            goto bad;
        prev = idx;
        count += n;
        s->b[s->nb].idx = (int32_t)idx;
        s->b[s->nb++].n = n;
    }
    if (at != len)
        goto bad;
    s->zeros = zeros;
    s->count = count;
    return 0;
bad:
    vnd_dds_free(s);
    vnd_dds_init(s, VND_DDS_ALPHA_PERMILLE);
    return -1;
}

int vnd_dds_merge_encoded(struct vnd_dds *s, const uint8_t *p, size_t len)
{
    /* straight into s, bin by bin: no sketch in between (the rollups'
     * queries merge thousands of small sketches) */
    if (!p || len < 4 || p[0] != 'D' || p[1] != 'D' || p[2] != 1 || p[3] < 1 || p[3] > 200)
        return -1;
    if (s->count == 0 && s->alpha_pm != p[3]) {
        vnd_dds_free(s);
        vnd_dds_init(s, p[3]);
    }
    if (s->alpha_pm != p[3])
        return -1;
    size_t at = 4;
    uint64_t zeros, nb;
    if (get_varint(p, len, &at, &zeros) || get_varint(p, len, &at, &nb) || nb > VND_DDS_MAX_BINS)
        return -1;
    int64_t prev = 0;
    uint64_t count = zeros;
    int pos = 0;
    for (uint64_t i = 0; i < nb; i++) {
        uint64_t z, n;
        if (get_varint(p, len, &at, &z) || get_varint(p, len, &at, &n) || n == 0)
            return -1;
        int64_t d = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
        if ((i > 0 && d <= 0) || d > (int64_t)UINT32_MAX || d < -(int64_t)UINT32_MAX)
            return -1;
        int64_t idx = prev + d;
        if (idx < INT32_MIN || idx > INT32_MAX || count + n < count)
            return -1;
        prev = idx;
        count += n;
        /* the first bin: found by bisection, the rest by walking on */
        if (i == 0) {
            int lo = 0, hi = s->nb;
            while (lo < hi) {
                int mid = (lo + hi) / 2;
                if (s->b[mid].idx < idx)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            pos = lo;
        }
        add_bin_from(s, (int32_t)idx, n, &pos);
    }
    if (at != len)
        return -1;
    s->zeros += zeros;
    s->count += count;
    return 0;
}
