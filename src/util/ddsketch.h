/* ddsketch.h — a mergeable quantile sketch with a relative-error guarantee:
 * DDSketch (Masson, Rim, Lee, "DDSketch: A Fast and Fully-Mergeable
 * Quantile Sketch with Relative-Error Guarantees", VLDB 2019).
 *
 * Non-negative values (RTTs in seconds).  A positive value v goes to bin
 * i = ceil(log_gamma(v)), gamma = (1 + alpha) / (1 - alpha): bin i holds
 * (gamma^(i-1), gamma^i] and answers 2 gamma^i / (gamma + 1), which is
 * within alpha of every value in it, relatively.  0 has a bin of its own
 * (answers 0 exactly).  So the q-quantile the sketch answers is within
 * alpha (relative) of the exact one for every q, as long as no bins were
 * collapsed: the sketch keeps at most VND_DDS_MAX_BINS bins and, past
 * that, folds the lowest into the next (the paper's collapsing variant:
 * only quantiles falling in folded bins lose the bound).  With alpha =
 * 1%, 2048 bins span values from 1 ns to 10^8 s, so RTTs never fold.
 *
 * Merging two sketches of one alpha adds their bins: the result is the
 * sketch of the union of their values, exactly (merge order does not
 * matter).
 *
 * Serialized form (a BLOB of the rollup tables; docs/rollups.md):
 *   bytes 0-1   "DD"
 *   byte  2     version, 1
 *   byte  3     alpha in units of 0.1% (10: 1%)
 *   then LEB128 unsigned varints: the count of zeros, the number of
 *   non-empty bins, then per bin in increasing index order: the index's
 *   difference from the previous one (the first: from 0), zigzag-encoded,
 *   and the bin's count (>= 1).
 * Readers check every length and value; anything else is refused. */
#ifndef VND_UTIL_DDSKETCH_H
#define VND_UTIL_DDSKETCH_H

#include <stddef.h>
#include <stdint.h>

#define VND_DDS_ALPHA_PERMILLE 10        /* 1%: what the rollups use */
#define VND_DDS_MAX_BINS 2048

struct vnd_dds_bin {
    int32_t idx;
    uint64_t n;
};

struct vnd_dds {
    int alpha_pm;                /* alpha in 0.1% */
    double lg;                   /* log(gamma) */
    uint64_t zeros, count;
    struct vnd_dds_bin *b;       /* sorted by idx, n >= 1 */
    int nb, cap;
    int last;                    /* the bin added to last (a hint) */
};

/* An empty sketch of relative accuracy alpha_pm / 1000 (1..200). */
void vnd_dds_init(struct vnd_dds *s, int alpha_pm);
void vnd_dds_free(struct vnd_dds *s);
void vnd_dds_clear(struct vnd_dds *s);
/* Adds v (finite, >= 0): 0, or -1 for a value it cannot hold. */
int vnd_dds_add(struct vnd_dds *s, double v);
/* The bin of v > 0 (finite). */
int32_t vnd_dds_bin(const struct vnd_dds *s, double v);

/* vnd_dds_bin for many values (ingest's rollups): per octave of the
 * values' binary exponent, a table of the bin of each 1/256 of it that
 * lies in one bin, made when first needed; the log only for the others. */
#define VND_DDS_OCTAVES 128              /* exponents -64 .. 63 */
struct vnd_dds_binner {
    struct vnd_dds shape;
    int32_t *oct[VND_DDS_OCTAVES];
};
void vnd_dds_binner_init(struct vnd_dds_binner *b, int alpha_pm);
void vnd_dds_binner_free(struct vnd_dds_binner *b);
int32_t vnd_dds_binner_bin(struct vnd_dds_binner *b, double v);
/* Adds c[i] values to bin lo + i, i < n (counted elsewhere, densely:
 * ingest's rollups). */
void vnd_dds_add_bins(struct vnd_dds *s, int32_t lo, const uint64_t *c, int n);
/* Adds every value of `o` (same alpha): 0, or -1. */
int vnd_dds_merge(struct vnd_dds *s, const struct vnd_dds *o);
/* The nearest-rank q-quantile: the value of rank ceil(q * count) (at
 * least 1) as the sketch answers it; NaN when empty. */
double vnd_dds_quantile(const struct vnd_dds *s, double q);
/* The serialized form, malloc'd, its length in *len. */
uint8_t *vnd_dds_encode(const struct vnd_dds *s, size_t *len);
/* Part of the serialized form into out (max bytes, at least 44): the
 * zeros when *from is 0, then bins from *from on while they fit; *from
 * moves past them.  The parts of a sketch are sketches whose merge is
 * the whole.  Returns the length written (0: max too small).  The count
 * of bins is written as a two-byte varint (readers accept any form). */
size_t vnd_dds_encode_part(const struct vnd_dds *s, int *from, uint8_t *out, size_t max);
/* Reads a serialized form into `s` (initialized here): 0, or -1 when
 * malformed (s is then empty). */
int vnd_dds_decode(struct vnd_dds *s, const uint8_t *p, size_t len);
/* Merges a serialized form into s (initialized, any alpha when empty): 0,
 * or -1 when malformed or of another alpha (s is then partly merged: a
 * caller that goes on must start again). */
int vnd_dds_merge_encoded(struct vnd_dds *s, const uint8_t *p, size_t len);

#endif
