/* step.h — what the diagnostic apps' C steps share (diag_step.c): the
 * flow of a row (flow/flows.h interns them), rows grouped by an integer key and sorted by
 * time, time 0, and the per-group statistics of vnd_diag_stats.
 *
 * Steps read rows with plain SELECTs of the columns they need and compute
 * what the app's SQL computes, with the same floating-point operations in
 * the same order where the result depends on it (slots, windows). */
#ifndef VND_DIAG_STEP_H
#define VND_DIAG_STEP_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

#include "diag/diag.h"
#include "flow/flows.h"

/* ---- flows (flow/flows.h): the one of a row ---- */

/* The flow of the current row of `st` (columns src, sport, dst, dport at
 * `col`, col+1, col+2, col+3), created when new.  Returns its index, or
 * -1 when a column holds a type the SQL would compare differently (REAL
 * or BLOB ports, non-text addresses): the step then leaves it to the SQL. */
int vnd_flows_row(struct vnd_flows *fl, sqlite3_stmt *st, int col);

/* ---- rows grouped by an int64 key, each group sorted by time ---- */
struct vnd_keyidx {
    int64_t *keys;                  /* per group */
    uint32_t *start;                /* ngroups + 1 offsets into rows */
    uint32_t *rows;                 /* row numbers, by (group, ts, row) */
    uint32_t ngroups;
    uint32_t *tab;                  /* open addressing: group + 1, 0 empty */
    size_t tabcap;
};

/* Groups rows 0..n-1 with has[i] by key[i], each group sorted by ts. */
void vnd_keyidx_build(struct vnd_keyidx *x, const int64_t *key, const unsigned char *has,
                      const double *ts, uint32_t n);
/* The group of `key`, or -1. */
int64_t vnd_keyidx_find(const struct vnd_keyidx *x, int64_t key);
void vnd_keyidx_free(struct vnd_keyidx *x);

/* ---- time ---- */

/* Time 0 of the app's `t`: the option's origin, or the smallest ts of the
 * NULL-terminated tables (NaN when all are empty).  Returns 0 or -1 and *err. */
int vnd_step_t0(const struct vnd_diag_ctx *c, const char *const *tables, double *t0,
                char **err);
/* floor((ts - t0) / slot) * slot, as the SQL computes it. */
double vnd_step_slot(double ts, double t0, double slot);

/* ---- statistics ---- */

/* packets, mean, min, p50, p99, max (the last five in ms) of the n values
 * v (seconds), as vnd_diag_stats: nearest-rank percentiles.  Sorts v. */
void vnd_step_stats(double *v, size_t n, double out[5]);

/* Prepares `sql` on c->db: 0, or -1 and *err naming the app. */
int vnd_step_prepare(const struct vnd_diag_ctx *c, const char *app, const char *sql,
                     sqlite3_stmt **st, char **err);
/* The error of a scan that ended with `rc` (not SQLITE_DONE). */
char *vnd_step_error(const struct vnd_diag_ctx *c, const char *app, int rc);

/* ---- threads ---- */

#define VND_DIAG_THREADS_MAX 8

/* How many threads a step may use: VND_THREADS when set (tests compare
 * runs on 1 and on several), else the CPUs online. */
int vnd_diag_threads(void);
/* Runs task(db', i, arg) for i = 0..ntasks-1 on up to `nthreads` threads:
 * the caller's on `db`, the others each on a twin connection (fewer when a
 * twin cannot be opened).  A task reports its errors through `arg`.
 * Returns the first non-zero task result in task order, else 0. */
int vnd_diag_parallel(sqlite3 *db, int ntasks, int nthreads,
                      int (*task)(sqlite3 *db, int i, void *arg), void *arg);

#endif
