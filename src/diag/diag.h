/* diag.h — diagnostic applications (paper §3.3.1, §3.5, §5.1).
 *
 * An application is a name, the options it needs, and a function that
 * writes its SQL.  The SQL is the whole computation (plus, for the
 * bottleneck locator, a thin C step that reads its result and names the
 * hop); `vnd diag --show-sql` prints it and it runs unchanged on SQLite
 * and, with `pg` set, on PostgreSQL.  On SQLite most apps compute the
 * same rows in a thin C step (`run`) over plain SELECTs of their columns;
 * the tests compare the two.
 *
 * Tables and columns come from the tenant: every identifier is checked
 * against the database (vnd_diag_require) and quoted when it is written.
 *
 * Trace tables have the standard columns of `vnd parse` without -c:
 *   ts REAL seconds, id INTEGER (pkt.id), src_ip, dst_ip TEXT, proto,
 *   src_port, dst_port, seq, ack, flags, payload_len INTEGER
 * Applications name the columns they use; a table without one is an
 * error that names the column and the parse field that provides it.
 *
 * Time: every app reports `t`, the start of its slot in seconds since the
 * first packet of the tables it reads (so "at 10 s" means the same in every
 * table of a path). */
#ifndef VND_DIAG_DIAG_H
#define VND_DIAG_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "ingest/rollup_records.h"
#include "output/output.h"
#include "util/sb.h"


/* ---- options ---- */
enum vnd_diag_by { VND_BY_ID, VND_BY_PAYLOAD, VND_BY_ORDER };

/* rtt --kind: which samples (diag_rtt.c says how a sample gets its kind).
 * The code of a kind, as the SQL's column kd holds it, is its value - 1. */
enum vnd_rtt_kind { VND_RTT_ALL, VND_RTT_DATA, VND_RTT_FIN, VND_RTT_HANDSHAKE };
#define vnd_rtt_kind_code(k) ((int)(k) - 1)

#define VND_DIAG_PATH_MAX 16
#define VND_DIAG_FIELDS_MAX 16

struct vnd_diag_opts {
    const char *table;              /* -t */
    const char *in, *out;           /* --in, --out */
    const char *path[VND_DIAG_PATH_MAX];   /* --path A,B,C */
    int npath;
    const char *field;              /* --field */
    const char *fields[VND_DIAG_FIELDS_MAX]; /* --fields a,b */
    int nfields;
    const char *where;              /* --where, filter language */
    double slot;                    /* --slot seconds (> 0) */
    enum vnd_diag_by by;            /* --by */
    bool by_flow;                   /* --by-flow */
    enum vnd_rtt_kind rtt_kind;     /* rtt --kind (default all) */
    bool list;                      /* --list */
    double window;                  /* --window: an ID seen again this many
                                       seconds away is another packet */
    double origin;                  /* time 0 of `t`; NaN: first packet */
    double since;                   /* only rows with ts >= since (--follow);
                                       NaN: every row */
    double until;                   /* only rows with ts < until; NaN: all */
    double since_slot, until_slot;  /* only rows whose slot of ts (floor((ts -
                                       origin) / slot)) is >= since_slot and
                                       < until_slot: complete slots' bounds
                                       in the slots' own arithmetic (a time
                                       bound could put a row at a slot's
                                       edge in the slot before yet cut it
                                       off); NaN: none */
    double stored_in, stored_out;   /* loss: when --in's and --out's rows
                                       were last stored, read once per run
                                       (vnd_diag_pin_stored) so that its
                                       judging and its count of what waits
                                       see one moment of a live trace; NaN:
                                       read vnd_meta (vnd_diag_stored) */
    bool pg;                        /* PostgreSQL dialect */
    bool no_rollup;                 /* --no-rollup: the rows, never the
                                       rollup (also VND_ROLLUP=0) */
};

/* Defaults: slot 1 s, by id, window 1 s, origin/since/until NaN. */
void vnd_diag_opts_init(struct vnd_diag_opts *o);

/* ---- a result held in memory: what the C steps produce ---- */
enum vnd_cell_type { VND_CELL_NULL, VND_CELL_INT, VND_CELL_REAL, VND_CELL_TEXT };

struct vnd_cell {
    enum vnd_cell_type type;
    int64_t i;
    double r;
    char *s;                        /* owned */
};

struct vnd_diag_rows {
    int ncols;
    char **cols;
    struct vnd_cell *c;             /* row-major, ncols per row */
    size_t n, cap;                  /* cells */
};

/* Column names, once, before the first cell (copied). */
void vnd_rows_columns(struct vnd_diag_rows *r, int n, const char *const *names);
void vnd_rows_int(struct vnd_diag_rows *r, int64_t v);
void vnd_rows_real(struct vnd_diag_rows *r, double v);
/* NULL s writes a NULL cell. */
void vnd_rows_text(struct vnd_diag_rows *r, const char *s);
size_t vnd_rows_count(const struct vnd_diag_rows *r);
/* Index of column `name`, or -1. */
int vnd_rows_col(const struct vnd_diag_rows *r, const char *name);
/* Columns, then the rows whose column `t` (if any) is >= min_t, as
 * run_sql writes a statement's rows. */
void vnd_rows_write(const struct vnd_diag_rows *r, struct vnd_out *out, double min_t,
                    double max_t);
void vnd_rows_free(struct vnd_diag_rows *r);

/* ---- applications ---- */
#define VND_NEED_TABLE 0x01
#define VND_NEED_INOUT 0x02
#define VND_NEED_PATH 0x04
#define VND_NEED_FIELD 0x08
#define VND_NEED_FIELDS 0x10
#define VND_NEED_WHERE 0x20

struct vnd_diag_ctx {
    sqlite3 *db;                    /* for checking tables and columns */
    const struct vnd_diag_opts *o;
};

struct vnd_diag_app {
    const char *name;
    const char *summary;
    const char *usage;              /* the app's own options */
    unsigned need;                  /* VND_NEED_* */
    bool timed;                     /* has slots: --follow, --plot apply */
    /* Writes the app's SQL (one statement) into `sb`.  Returns 0, or -1
     * and a malloc'd message in *err. */
    int (*build)(const struct vnd_diag_ctx *c, struct vnd_sb *sb, char **err);
    /* Optional: the same rows computed by a C step over plain SELECTs of
     * the app's columns (SQLite only), used instead of running the SQL.
     * Returns 0 (rows filled), -1 and *err, or VND_DIAG_USE_SQL when the
     * table holds something the step does not model (values of another
     * type, say): the caller then runs the SQL. */
    int (*run)(const struct vnd_diag_ctx *c, struct vnd_diag_rows *rows, char **err);
};

#define VND_DIAG_USE_SQL 1

/* Every application, NULL-terminated. */
extern const struct vnd_diag_app *const vnd_diag_apps[];
const struct vnd_diag_app *vnd_diag_find(const char *name);
extern const struct vnd_diag_app vnd_diag_distribution, vnd_diag_groups, vnd_diag_filter,
    vnd_diag_throughput, vnd_diag_rtt, vnd_diag_delay, vnd_diag_loss, vnd_diag_correlate,
    vnd_diag_bottleneck;

/* Runs app's C step into `rows` when it has one and it applies (SQLite,
 * values it models): 0, or VND_DIAG_USE_SQL (rows left empty: run the
 * SQL), or -1 and *err.  Checks the options as vnd_diag_sql does. */
int vnd_diag_run_step(const struct vnd_diag_app *app, sqlite3 *db,
                      const struct vnd_diag_opts *o, struct vnd_diag_rows *rows, char **err);

/* Builds app's SQL after checking options: a malloc'd string, or NULL and
 * a malloc'd *err. */
char *vnd_diag_sql(const struct vnd_diag_app *app, sqlite3 *db,
                   const struct vnd_diag_opts *o, char **err);

/* Builds and runs (the app's C step when it has one, else its SQL); rows
 * go to `out` (which gets the columns).  Returns 0, or -1 and *err. */
int vnd_diag_run(const struct vnd_diag_app *app, sqlite3 *db,
                 const struct vnd_diag_opts *o, struct vnd_out *out,
                 char **err);

/* ---- answers from the rollups (diag_rollup.c, ingest/rollup.h) ---- */

/* The SQL answering `app` from o->table's rollup when the question fits
 * it, its first line a comment saying so: 1 and *sql (malloc'd).  0 when
 * it does not: *why (malloc'd) is then a comment line saying why when the
 * table has a rollup, else NULL.  -1 and *err for a --where that does not
 * compile. */
int vnd_diag_rollup_sql(const struct vnd_diag_ctx *c, const struct vnd_diag_app *app, char **sql,
                        char **why, char **err);
/* The rollup table (malloc'd) that may answer `app` on o->table: the
 * table has one that holds its rows and answers something, and the app is
 * one a rollup answers; NULL when not.  Whether the question fits it is
 * vnd_diag_rollup_sql's to say, once its rows are at hand (the
 * coordinator copies them first: coord_diag.c). */
char *vnd_diag_rollup_wanted(sqlite3 *db, const struct vnd_diag_app *app,
                             const struct vnd_diag_opts *o);
/* The rollup (malloc'd) of `table` whose slots hold the table's rows in
 * time (its first slot's first row is the table's first, min(ts)); NULL
 * when it has none or --no-rollup. */
char *vnd_diag_rollup_timed(sqlite3 *db, const struct vnd_diag_opts *o, const char *table);
/* The newest (else oldest) ts of o->table from its rollup, through the
 * rollup's slot index; NaN when it has no rollup fit for time. */
double vnd_diag_rollup_ts(sqlite3 *db, const struct vnd_diag_opts *o, bool newest);
/* A records table's settle from its rollup (rollup_records.h: how long
 * past a second the newest ts must be before no record still to come
 * reaches it); NaN when it has no such rollup. */
double vnd_diag_rollup_settle(sqlite3 *db, const struct vnd_diag_opts *o);

/* ---- helpers the apps share (diag_common.c) ---- */

/* Checks that `table` exists and has every column in the NULL-terminated
 * `cols`.  The message names the missing column and the parse field that
 * fills it.  Returns 0 or -1 and *err. */
int vnd_diag_require(const struct vnd_diag_ctx *c, const char *table,
                     const char *const *cols, char **err);

/* True when vnd_meta says an IPFIX collector wrote `table`: a row per
 * flow record, not per packet (no vnd_meta, as in a database of other
 * origin: false). */
bool vnd_diag_flow_records(sqlite3 *db, const char *table);

/* When loss's --in (side 0) or --out (1) was last stored: the pinned
 * value (vnd_diag_pin_stored pins both), else the newest vnd_meta.updated
 * of the traces that write the table (a live capture's time before which
 * every frame read is stored, as of the last commit; a stopped trace's
 * end).  Up to then its rows are whole; a packet that should show up in it
 * later is not missing yet.  NaN when unknown (no vnd_meta row: a table
 * made by SQL, a database of other origin). */
double vnd_diag_stored(const struct vnd_diag_ctx *c, int side);
void vnd_diag_pin_stored(sqlite3 *db, struct vnd_diag_opts *o);
/* What the captures of the tables an app reads dropped (-t, --in and
 * --out, the path), from vnd_meta: frames lost in the kernel's ring (an
 * interface's figure) and in the table server's queue (the trace's own).
 * The rows cannot show a frame the capture missed: loss and the
 * bottleneck count a missed copy as a lost packet, delay, correlate and
 * rtt lose pairs, the counting apps count less.  So every app says it
 * beside its rows: a record "capture_drops", [{"table", "dropped_kernel",
 * "dropped_queue", "text"}] (JSON, and CSV's comment line), or the text
 * per table under the table; nothing when none dropped. */
void vnd_diag_drops_out(struct vnd_out *out, sqlite3 *db, const struct vnd_diag_app *app,
                        const struct vnd_diag_opts *o);
void vnd_diag_drops_note(FILE *f, sqlite3 *db, const struct vnd_diag_app *app,
                         const struct vnd_diag_opts *o);
/* One table's: the sums over its traces' vnd_meta rows (0 and 0 without). */
void vnd_diag_capture_drops(sqlite3 *db, const char *table, long long *kernel, long long *queue);
/* Rows of every time: no since/until, no slot bounds (rtt unwraps
 * sequence numbers from a flow's first segment). */
void vnd_diag_unbound(struct vnd_diag_opts *o);

/* True when `table` has column `col` (false when either is absent). */
bool vnd_diag_has_column(const struct vnd_diag_ctx *c, const char *table,
                         const char *col);

/* The parse field that fills standard column `col`, or NULL. */
const char *vnd_diag_field_of(const char *col);

/* Appends the rows of `table` the options select (time range and --where)
 * as a parenthesised sub-select "(SELECT * FROM t WHERE ...)".  Returns 0
 * or -1 and *err (a --where that does not compile). */
int vnd_diag_source(const struct vnd_diag_ctx *c, struct vnd_sb *sb,
                    const char *table, bool with_where, char **err);
/* The same with one more condition on the table's rows (`cond`: SQL, or
 * NULL), e.g. the rowid range of one part of a parallel scan. */
int vnd_diag_source_if(const struct vnd_diag_ctx *c, struct vnd_sb *sb,
                       const char *table, bool with_where, const char *cond, char **err);
/* True when the app reads `table` whole: no --where, --since or --until. */
bool vnd_diag_source_plain(const struct vnd_diag_ctx *c, bool with_where);

/* Appends the expression giving time 0: the option's origin, or the
 * smallest ts of the NULL-terminated `tables` (of a table of flow
 * records, the whole second of the smallest start_ts: its first packet). */
void vnd_diag_origin(const struct vnd_diag_ctx *c, struct vnd_sb *sb,
                     const char *const *tables);

/* A flow record's time span, as SQL over its columns (prefix "" or
 * "x."): its end, end_ts (ts, the arrival, when the exporter sent none);
 * its start, start_ts, unless that is missing, after the end or more than
 * VND_DIAG_RECORD_SPAN_MAX seconds before it (a time the exporter got
 * wrong: spread over years, one record would be a billion slots), when
 * the record is taken as a point at its end. */
#define VND_DIAG_RECORD_SPAN_MAX VND_RECORD_SPAN_MAX   /* the records' rollup's too */
void vnd_diag_record_start(struct vnd_sb *sb, const char *prefix);
void vnd_diag_record_end(struct vnd_sb *sb, const char *prefix);

/* Appends the SQL that turns text `expr` into the start of its slot
 * relative to `origin_expr`: floor((expr - origin) / slot) * slot. */
/* floor((expr - origin_expr) / slot): a row's slot index, what the
 * complete slots' bounds compare (runner.h) */
void vnd_diag_slot_index(const struct vnd_diag_ctx *c, struct vnd_sb *sb,
                         const char *expr, const char *origin_expr);
void vnd_diag_slot_expr(const struct vnd_diag_ctx *c, struct vnd_sb *sb,
                        const char *expr, const char *origin_expr);

/* A malloc'd printf-style message (for *err). */
char *vnd_diag_errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The per-direction flow label "src:sport>dst:dport" of columns with the
 * given prefix ("" or "x."). */
void vnd_diag_flow_label(struct vnd_sb *sb, const char *prefix);

/* Translates a --where filter into an SQL condition over a table with the
 * standard columns (lang/filter.h).  Returns a malloc'd string or NULL and
 * *err. */
char *vnd_diag_where_sql(const struct vnd_diag_ctx *c, const char *table,
                         const char *where, char **err);

/* Appends "SELECT g, packets, mean_ms, min_ms, p50_ms, p99_ms, max_ms"
 * over the rows of `from` (an SQL FROM item with columns `group_cols`, a
 * comma-separated list, and `v`, seconds), one row per group.  Percentiles
 * are nearest-rank, computed with window functions so both dialects run
 * them.  With `late`, `from` also has rows of late packets (v NULL):
 * packets, the statistics and the percentiles are the others', and a last
 * column late counts them (delay). */
void vnd_diag_stats(struct vnd_sb *sb, const char *from, const char *group_cols,
                    const char *order, bool late);

/* Signed difference of two 32-bit sequence numbers, as SQL around the
 * expression `x`: the value in [-2^31, 2^31) congruent to x mod 2^32. */
void vnd_diag_seqdiff(struct vnd_sb *sb, const char *x);

/* The null-safe equality operator of the dialect ("IS" or
 * "IS NOT DISTINCT FROM"). */
const char *vnd_diag_is(const struct vnd_diag_ctx *c);

/* Appends "a IS b" (SQLite), or for PostgreSQL the same null-safe equality
 * with an equality on the text of both sides in front, which the planner
 * can use as a hash join key (IS NOT DISTINCT FROM is none). */
void vnd_diag_same(const struct vnd_diag_ctx *c, struct vnd_sb *sb, const char *a,
                   const char *b);

/* Appends the CTE bodies `vnd_pi` and `vnd_po`: the rows of --in and
 * --out with their matching key k (id, or payload_hash for payloads), and
 * `vnd_pairs`: each (key, ts) of --in with its nearest out-row of the same
 * key within --window, unless that one is nearer still to an in-row of
 * another flow (columns i_*, o_* for ts and the 4-tuple, d = o_ts - i_ts).
 * With `back`, also `vnd_back` (i_k, o_ts): the same rule from --out.
 * Starts with ", vnd_pi AS (...)".  Returns 0 or -1 and *err. */
int vnd_diag_pairs(const struct vnd_diag_ctx *c, struct vnd_sb *sb, bool back, char **err);

/* Appends ", vnd_free_i AS (...), vnd_free_o AS (...)": the rows of
 * vnd_pi no pair starts at, and of vnd_po none ends at (ts, k, 4-tuple). */
void vnd_diag_late_free(struct vnd_sb *sb);
/* Appends "vnd_late AS (...)" (after vnd_diag_late_free): of the rows of
 * CTE `cand` (dirn: 1 entered from --in, -1 from --out; ts; k), those that
 * left all the same, later than --window: the other side holds a free row
 * of their key after that.  Columns dirn, ts, k and after, how long after
 * entering the first such row came.  (A hop that stalls holds packets
 * longer than any window a pairing can afford: late, not lost.)  The C
 * step's rule is left_late (diag_pairs_step.c). */
void vnd_diag_late(const struct vnd_diag_ctx *c, struct vnd_sb *sb, const char *cand);

/* "WITH vnd_origin AS (...)" over --in and --out, then vnd_diag_pairs:
 * how delay, loss and correlate start. */
int vnd_diag_hop_prologue(const struct vnd_diag_ctx *c, struct vnd_sb *sb, bool back,
                          char **err);

/* Appends CASE giving the direction 'IN>OUT' when `d` >= 0, else
 * 'OUT>IN' (table names of --in and --out). */
void vnd_diag_dir_expr(const struct vnd_diag_ctx *c, struct vnd_sb *sb, const char *d);

/* ---- the rtt app's C step (diag_rtt_step.c) ---- */
struct vnd_rtt_row {
    char *flow;                     /* NULL unless by_flow */
    double t;
    long long packets;
    double mean_ms, min_ms, p50_ms, p99_ms, max_ms;
};

struct vnd_rtt_result {
    struct vnd_rtt_row *rows;       /* ordered by (flow,) t, as the SQL */
    size_t n, cap;
};

/* What the rtt app's SQL yields, computed in one pass over c->o->table's
 * TCP rows in time order.  Returns 0 or -1 and *err. */
int vnd_rtt_compute(const struct vnd_diag_ctx *c, struct vnd_rtt_result *res, char **err);
void vnd_rtt_result_free(struct vnd_rtt_result *res);
/* (the pairing itself, rows in and samples out: flow/tcp_rtt.h) */
/* vnd_rtt_compute, then the rows: the rtt app's `run`. */
int vnd_diag_rtt_step(const struct vnd_diag_ctx *c, struct vnd_diag_rows *rows, char **err);

/* ---- the C steps of the other apps (diag_pairs_step.c): each an app's
 * `run` ---- */
int vnd_diag_delay_step(const struct vnd_diag_ctx *c, struct vnd_diag_rows *rows, char **err);
int vnd_diag_loss_step(const struct vnd_diag_ctx *c, struct vnd_diag_rows *rows, char **err);
int vnd_diag_correlate_step(const struct vnd_diag_ctx *c, struct vnd_diag_rows *rows,
                            char **err);
/* throughput's, on a table of flow records (diag_throughput_step.c;
 * VND_DIAG_USE_SQL on any other) */
int vnd_diag_throughput_step(const struct vnd_diag_ctx *c, struct vnd_diag_rows *rows,
                             char **err);

/* What loss leaves unjudged, per side (--in, then --out): its packets that
 * entered less than --window before the other side's last store
 * (vnd_diag_stored) may still show up there.  vnd_diag_loss_sides fills
 * table, other and stored (NaN: unknown, nothing waits) and the SQL that
 * counts the side's rows past the bound (NULL: none to ask; the caller
 * runs it, on SQLite or PostgreSQL, and sets rows). */
struct vnd_loss_side {
    const char *table, *other;
    double stored;                  /* the other side's last store */
    char *count_sql;
    long long rows;                 /* of the side's rows, those waiting */
};
int vnd_diag_loss_sides(const struct vnd_diag_ctx *c, struct vnd_loss_side w[2], char **err);
/* Counts on SQLite (the embedded mode's and a table server's database). */
void vnd_diag_loss_count_waits(sqlite3 *db, struct vnd_loss_side w[2]);
/* The sides that have rows waiting: a record "waiting" (JSON, and CSV's
 * comment line), or sentences under the table; nothing when none wait. */
void vnd_diag_loss_sides_out(struct vnd_out *out, const struct vnd_loss_side w[2]);
void vnd_diag_loss_sides_note(FILE *f, const struct vnd_loss_side w[2]);
void vnd_diag_loss_sides_free(struct vnd_loss_side w[2]);

/* ---- the bottleneck locator's C step (diag_bottleneck.c) ---- */
struct vnd_hop_slot {
    double t;
    double proc_ms;                 /* NaN when no RTT sample */
    long long sent, lost;
};

struct vnd_bottleneck_verdict {
    int hop;                        /* index into path (between hop and
                                       hop+1), -1: no bottleneck */
    double since;                   /* t at which it became one */
    double base_ms, peak_ms;        /* processing time before / at worst */
    long long lost;                 /* packets lost at that hop */
};

/* Names the bottleneck from per-hop series (series[h] has n[h] slots,
 * sorted by t).  Pure: no SQL; tested on its own. */
void vnd_bottleneck_judge(int nhops, struct vnd_hop_slot *const *series,
                          const int *n, struct vnd_bottleneck_verdict *v);

struct vnd_plot;

/* Where the bottleneck app's series go when drawn (each may be NULL): RTT
 * at every capture point, processing time and loss per hop. */
struct vnd_bottleneck_plots {
    struct vnd_plot *rtt, *proc, *loss;
};

/* Runs the bottleneck app and its verdict: rows with t >= min_t to `out`
 * (may be NULL), series to `plots` (may be NULL), then a sentence to `msg`
 * (may be NULL).  Fills *v.  Returns 0 or -1 and *err. */
int vnd_bottleneck_run(sqlite3 *db, const struct vnd_diag_opts *o,
                       struct vnd_out *out, double min_t,
                       const struct vnd_bottleneck_plots *plots, FILE *msg,
                       struct vnd_bottleneck_verdict *v, char **err);

/* The verdict as the sentence `vnd diag bottleneck` prints under its table
 * ("bottleneck: the hop between B and C, from t = 10 s (...)", or "no
 * bottleneck: ..."); malloc'd. */
char *vnd_bottleneck_verdict_text(const struct vnd_diag_opts *o,
                                  const struct vnd_bottleneck_verdict *v);

/* The verdict as the record "verdict" after the rows (vnd_out_record; in
 * JSON after vnd_out_object): hop (the rows' hop), span ("B>C"), from, to,
 * since_s (a `t`), base_ms, peak_ms, lost, text (the sentence); all but
 * text are null when there is no bottleneck.  docs/diagnosis.md. */
void vnd_bottleneck_verdict_out(struct vnd_out *out, const struct vnd_diag_opts *o,
                                const struct vnd_bottleneck_verdict *v);

#endif
