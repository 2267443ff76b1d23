/* diag_sampling.h — how a trace table's rows were sampled, as the
 * diagnostic apps account for it (docs/capture.md, "How results account
 * for sampling").
 *
 * Read from the database the app runs on: vnd_sampling (trace, tbl,
 * from_ts, sampling, method, flow_sampling, reason, snaplen), the history
 * of the rates, when it is there; else one interval from vnd_meta
 * (sampling, flow_sampling, snaplen) with method 'count'.  The mode comes from vnd_meta's
 * source: "vnd-tabled" mirror, "vnd-tabled sflow", "vnd-tabled ipfix",
 * "vnd-tabled tap" tap (every packet, like mirror), anything else (a
 * capture file's path, from `vnd parse`) file.
 *
 * What the apps do with it:
 *  - throughput scales each row by its interval's factor (table-server N
 *    times in-switch flow sampling M; sFlow rows by the switch's N; IPFIX
 *    records not at all: the switch scaled them) and adds a 95% interval
 *    (Horvitz-Thompson, vnd_ht_* below);
 *  - apps that pair packets refuse sampled tables unless the sampling is
 *    consistent (vnd_diag_sampling_check);
 *  - every output says, per table, what it read (vnd_diag_sampling_out). */
#ifndef VND_DIAG_SAMPLING_H
#define VND_DIAG_SAMPLING_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sqlite3.h>

#include "diag/diag.h"
#include "output/output.h"

/* One interval of a table's history: rows with ts >= from_ts (up to the
 * next interval's from_ts) were sampled so. */
struct vnd_samp_iv {
    double from_ts;
    int64_t n;                      /* table-server 1-in-N (1: every packet) */
    bool hash;                      /* method 'hash' (consistent); else 'count' */
    double m;                       /* in-switch flow sampling (1: all flows) */
    int64_t snaplen;                /* bytes of each packet kept (0: whole packets); no
                                     * factor: the apps read lengths from the headers */
};

struct vnd_samp {
    char *table;
    const char *mode;               /* "mirror", "sflow", "ipfix", "tap", "file", "unknown" */
    bool known;                     /* vnd_meta has the table */
    bool history;                   /* read from vnd_sampling */
    bool mixed;                     /* the table's traces were sampled differently */
    int niv;
    struct vnd_samp_iv *iv;         /* by from_ts; at least one */
};

/* What `table` holds: always fills *s (a table vnd_meta does not know is
 * taken as every packet, mode "unknown"). */
void vnd_samp_read(sqlite3 *db, const char *table, struct vnd_samp *s);
void vnd_samp_free(struct vnd_samp *s);

/* Any interval with N > 1 (packets sampled: at the table server, or sFlow
 * in the switch). */
bool vnd_samp_packets(const struct vnd_samp *s);
/* Any interval with flow sampling > 1. */
bool vnd_samp_flows(const struct vnd_samp *s);
/* Rows stand for more than themselves and the throughput scales them: the
 * packets or flows were sampled and the switch did not scale the counts
 * (every mode but ipfix). */
bool vnd_samp_scaled(const struct vnd_samp *s);

/* The rates changed over the table's history, so the factors' SQL
 * below reads the time column (else it is a constant). */
bool vnd_samp_varies(const struct vnd_samp *s);

/* The SQL of a row's packet factor N and flow factor M as REAL
 * expressions of the time column `ts` (a CASE over the intervals, or a
 * constant). */
void vnd_samp_n_sql(struct vnd_sb *sb, const struct vnd_samp *s, const char *ts);
void vnd_samp_m_sql(struct vnd_sb *sb, const struct vnd_samp *s, const char *ts);
/* A sampled row's columns for the estimator: under flow sampling its
 * flow, the unit (f1..f4, of row s), then its factors "N AS n, M AS m"
 * at its time s.ts. */
void vnd_samp_row_factors_sql(struct vnd_sb *sb, const struct vnd_samp *s, bool flows);
/* The same N for an IPFIX table: the 1-in-N its switch sampled at and
 * scaled the records' counts by (vnd_samp_n_sql says 1, as the counts
 * need no factor), for the estimate's variance. */
void vnd_samp_switch_n_sql(struct vnd_sb *sb, const struct vnd_samp *s, const char *ts);
/* ",\n CASE ... END<unit> AS NAME_low,\n (est + hw)<unit> AS NAME_high": the
 * 95% interval of the estimate `est` with half-width `hw`, its low end
 * never below `seen`, what was seen (SQL expressions over a group's
 * rows); `unit` (e.g. " * 8.0 / 1.0", or "") follows each end. */
void vnd_samp_interval_sql(struct vnd_sb *sb, const char *name, const char *est, const char *hw,
                           const char *seen, const char *unit);
/* A flow record's (row s's) sum of its sampled packets' squared lengths,
 * scaled as its counts: its bytes_sq (OVS's octetDeltaSumOfSquares, N L^2
 * a sampled packet) when `has_sq`, never below y^2 / p, its value were
 * the record's p packets of y bytes equal in size (the least it can be).
 * (N - 1) times it is the Horvitz-Thompson variance of its bytes.  The C
 * step of throughput computes the same from the same values. */
void vnd_samp_record_q_sql(struct vnd_sb *sb, bool has_sq);

/* groups (distribution false) or distribution of c->o->table when it is
 * sampled (vnd_samp_scaled): per group of `fields`, the estimated packets
 * and payload bytes (distribution: count and fraction of the estimated
 * whole) with 95% intervals, *_low and *_high, and flows_sampled under
 * flow sampling (diag_scaled_groups.c).  0 and the SQL in sb; 1 when the
 * table is not sampled (the app's own SQL then); -1 and *err. */
int vnd_diag_scaled_groups_sql(const struct vnd_diag_ctx *c, const char *const *fields,
                               int nfields, bool distribution, struct vnd_sb *sb, char **err);

/* groups or distribution of c->o->table, a table of flow records
 * (vnd_diag_flow_records): per group of `fields` the sums of the records'
 * packets and IP bytes (distribution: and their packets' fraction of the
 * whole) and how many records; when the switch sampled, the 95% intervals
 * packets_low..packets_high and bytes_low..bytes_high
 * (diag_scaled_groups.c).  0, or -1 and *err. */
int vnd_diag_record_groups_sql(const struct vnd_diag_ctx *c, const char *const *fields,
                               int nfields, bool distribution, struct vnd_sb *sb, char **err);

/* Refuses a run of `app` whose per-packet pairing sampling would make
 * wrong (delay, loss, correlate, bottleneck, rtt): -1 and *err naming the
 * table, its sampling and what to do; 0 when it may run.  Throughput on a
 * table whose traces were sampled differently is refused too (no single
 * factor per time). */
int vnd_diag_sampling_check(const struct vnd_diag_ctx *c, const struct vnd_diag_app *app,
                            char **err);

/* True when `app`'s answer from o->table's rollup would be wrong because
 * the table is sampled (the rollup holds unscaled sums): the caller reads
 * the rows instead, and *why (malloc'd) is the --show-sql comment. */
bool vnd_diag_sampling_no_rollup(const struct vnd_diag_ctx *c, const struct vnd_diag_app *app,
                                 char **why);

/* The tables `app` reads (o's -t, --in, --out, --path; each once),
 * NULL-terminated; returns how many. */
int vnd_diag_tables(const struct vnd_diag_opts *o, const char *tabs[VND_DIAG_PATH_MAX + 4]);

/* The sampling of every table `app` read: JSON (after vnd_out_object)
 * the member "sampling":[{...}, ...], CSV a line "# sampling: [...]"
 * when a table was sampled (else nothing: the rows alone, as before),
 * table nothing (vnd_diag_sampling_note prints it).  Call after the rows
 * (and the verdict). */
void vnd_diag_sampling_out(struct vnd_out *out, sqlite3 *db, const struct vnd_diag_app *app,
                           const struct vnd_diag_opts *o);
/* The table format's note: a line "sampling: ..." per table. */
void vnd_diag_sampling_note(FILE *f, sqlite3 *db, const struct vnd_diag_app *app,
                            const struct vnd_diag_opts *o);

/* ---- the estimator (Horvitz-Thompson), for the C side and the tests ----
 *
 * A sampled flow f (kept with probability 1/M) whose sampled packets i
 * (each kept with probability 1/N_i) have lengths x_i:
 *   Y_f = sum N_i x_i,  V_f = sum (N_i^2 - N_i) x_i^2,
 *   estimate = sum_f M Y_f,
 *   variance = sum_f (M^2 - M) Y_f^2 + M V_f,
 * and the 95% interval estimate +- 1.96 sqrt(variance), its low end no
 * lower than the bytes seen.  With M = 1 it is Bernoulli packet sampling,
 * sum (N^2 - N) x^2; with N = 1 flow sampling, (M^2 - M) sum Y_f^2. */
struct vnd_ht {
    double est, var, seen;
};

/* Adds one sampled flow's k packets (factors n[], lengths x[]) kept at
 * flow rate 1/m. */
void vnd_ht_flow(struct vnd_ht *h, double m, const double *n, const double *x, size_t k);
/* The 95% interval of h. */
void vnd_ht_interval(const struct vnd_ht *h, double *lo, double *hi);

#endif
