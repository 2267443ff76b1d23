/* header_ladder.h — a host budget's levers on one mirror trace whose
 * fields are all in the headers (policy.h's vnd_policy_header_bytes), as
 * one ladder of levels, each costing about half the one before:
 *
 *   0       what the tenant asked (its Snaplen, every flow)
 *   1       every flow's copies cut to the header bytes in the switch,
 *           which loses nothing the trace's fields read
 *   L >= 2  whole copies of 1 flow in 2^L: a group's bucket cannot
 *           truncate (collect.md), so the two levers do not combine; the
 *           table server still keeps only the bytes asked
 *
 * The table server took 6.8% of a core for copies cut to 128 bytes
 * against 14.7% for whole ones (docs/cost-targets-runs.csv): a cut copy
 * counts as half.  The header lever comes first because it keeps every
 * flow; coming down, the cut copies of every flow return before whole
 * ones do.  Pure functions: the control server applies them
 * (controld/diagnoses.c). */
#ifndef VND_CONTROL_HEADER_LADDER_H
#define VND_CONTROL_HEADER_LADDER_H

#define VND_LADDER_TOP 8            /* 1 flow in 256: VND_FLOW_HASH_VALUES */

/* What the switch does to a trace's packets. */
struct vnd_levers {
    int snaplen;                    /* bytes kept of each packet; 0: whole */
    int flow_sampling;              /* 1 flow in N copied; 1: every flow */
};

/* The trace's own: what the tenant asked, what its headers take. */
struct vnd_ladder {
    int snaplen_asked;              /* 0: whole packets */
    int header_bytes;               /* > 0: the trace is on the ladder */
};

/* The level `now` is at (0 when it is not one of the ladder's). */
int vnd_ladder_level(const struct vnd_ladder *l, struct vnd_levers now);

/* The levers at `level` (clamped to 0..VND_LADDER_TOP). */
struct vnd_levers vnd_ladder_at(const struct vnd_ladder *l, int level);

/* `level` moved up `shift` levels, or one down for shift <= 0, within
 * 0..VND_LADDER_TOP; from 0 up only to 1 whatever the shift: the cut,
 * which loses nothing the trace reads, is tried alone for a period before
 * any flow is given up (a burst's k of 2 or 3 would skip it). */
int vnd_ladder_step(int level, int shift);

/* The share of a whole copy of every flow that `level` costs: 2^-level. */
double vnd_ladder_kept(int level);

/* "whole packets of every flow", "the first 128 bytes of every flow",
 * "whole packets of 1 flow in 4" (a group copies whole packets).
 * malloc'd. */
char *vnd_levers_text(struct vnd_levers v);

#endif
