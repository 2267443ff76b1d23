/* rollup_records.c — a table of flow records' rollup (rollup_records.h):
 * per record, its share of each second it overlaps, added to that
 * second's cell; per batch, one row per cell it touched. */
#include "ingest/rollup_records.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ingest/rollup.h"
#include "lang/collectconf.h"
#include "store/provider.h"
#include "store/store.h"
#include "util/util.h"

/* The record columns read, by the names the apps read them by. */
enum { R_TS, R_START, R_END, R_PACKETS, R_BYTES, R_SQ, R_N };
static const char *const col_names[R_N] = {"ts", "start_ts", "end_ts", "packets", "bytes",
                                           "bytes_sq"};

#define COLS 8
static const char *const names[COLS] = {"slot", "packets", "bytes", "sq", "records", "firsts",
                                        "newest", "settle"};
static const enum vnd_sql_type types[COLS] = {VND_SQL_INTEGER, VND_SQL_REAL, VND_SQL_REAL,
                                              VND_SQL_REAL, VND_SQL_INTEGER, VND_SQL_INTEGER,
                                              VND_SQL_REAL, VND_SQL_REAL};
static const struct vnd_store_index indexes[] = {{"slot", "slot", NULL}};

/* Cells by second, direct-mapped on its low bits: records touch the last
 * few seconds (an exporter's active timeout back from their end), so a
 * second's cell is found without hashing; one that another second takes
 * the place of is written with the next batch and let go. */
#define CELLS 4096u
/* Cells let go in one batch, at most: records reaching this many seconds
 * beyond the CELLS held (records hours apart, or an exporter's times gone
 * wrong) stop the rollup rather than its memory growing with them. */
#define GONE_MAX 65536u

_Static_assert((int)VND_REC_ROLLUP_SPAN_MAX >= VND_CC_ACTIVE_TIMEOUT_MAX,
               "the rollup spreads the records of every ActiveTimeout VND sets");

struct cell {
    int64_t sec;
    double packets, bytes, sq;
    int64_t records, firsts;
    double newest, settle;          /* of the records it is the first second of */
    int64_t rowid;                  /* its row in the table (0: none yet) */
    bool used, dirty;
};

struct vnd_rec_rollup {
    char *table;
    struct vnd_store *st;
    struct vnd_rowpipe_target ins;  /* rowid first */
    int col[R_N];                   /* the rule's column, -1: none */
    int64_t next_rowid;
    uint64_t rows;
    double newest;                  /* the largest ts seen */
    bool live;                      /* it answers (status rollup-records) */
    char *status_text;
    struct cell cells[CELLS];
    /* the cells made dirty since the last emit, so that it visits them,
     * not all 4,096 (with 1,000 ipfix traces, the visits of every rollup
     * at every batch were 7% of a table server's CPU) */
    uint16_t touched[CELLS];
    unsigned ntouched;
    bool listed[CELLS];
    struct cell *gone;              /* let go since the last emit, still dirty */
    size_t ngone, gonecap;
};

static bool find_columns(const char *const *columns, int ncolumns, int col[R_N])
{
    for (int k = 0; k < R_N; k++) {
        col[k] = -1;
        for (int c = 0; c < ncolumns; c++)
            if (!strcasecmp(columns[c], col_names[k]))
                col[k] = c;
        if (k != R_SQ && col[k] < 0)
            return false;
    }
    return true;
}

bool vnd_rec_rollup_kept_for(const char *const *columns, int ncolumns)
{
    int col[R_N];
    return find_columns(columns, ncolumns, col);
}

void vnd_rec_rollup_columns(const char *const **n, const enum vnd_sql_type **t, int *count)
{
    *n = names;
    *t = types;
    *count = COLS;
}

struct vnd_rec_rollup *vnd_rec_rollup_new(struct vnd_store *st, const char *name,
                                          const struct vnd_parse_rule *rule, char **err)
{
    int col[R_N];
    if (!find_columns((const char *const *)rule->columns, rule->ncolumns, col))
        return NULL;
    struct vnd_rec_rollup *r = vnd_xcalloc(1, sizeof *r);
    memcpy(r->col, col, sizeof col);
    r->table = vnd_xstrdup(name);
    r->st = st;
    r->live = true;
    r->status_text = vnd_xstrdup(VND_ROLLUP_STATUS_RECORDS);
    r->next_rowid = 1;
    r->newest = -INFINITY;
    struct vnd_store_col cols[COLS];
    for (int i = 0; i < COLS; i++)
        cols[i] = (struct vnd_store_col){names[i], types[i], types[i] != VND_SQL_REAL
                                         || !strcmp(names[i], "packets")
                                         || !strcmp(names[i], "bytes")};
    int rc = vnd_store_make_table(st, r->table, cols, COLS, indexes,
                                  (int)(sizeof indexes / sizeof *indexes), err);
    if (!rc) {
        r->ins.ncols = COLS + 1;
        r->ins.writer = vnd_store_writer_new(st, r->table, (char *const *)names, COLS, true, err);
    }
    if (rc || !r->ins.writer) {
        vnd_rec_rollup_free(r);
        return NULL;
    }
    return r;
}

void vnd_rec_rollup_free(struct vnd_rec_rollup *r)
{
    if (!r)
        return;
    vnd_store_writer_free(r->ins.writer);
    free(r->gone);
    free(r->table);
    free(r->status_text);
    free(r);
}

/* The rollup answers nothing from now on, saying why (malloc'd): what
 * it holds is not written (its rows no reader takes now). */
static void give_up(struct vnd_rec_rollup *r, char *why)
{
    free(r->status_text);
    r->status_text = why;
    r->live = false;
    free(r->gone);
    r->gone = NULL;
    r->ngone = r->gonecap = 0;
    memset(r->cells, 0, sizeof r->cells);
    memset(r->listed, 0, sizeof r->listed);
    r->ntouched = 0;
}

/* The cell of second `sec`: the one in its place let go (kept for the
 * next emit when its sums are not written yet).  NULL when that would let
 * go more than GONE_MAX in one batch (the rollup gives up). */
static struct cell *cell_of(struct vnd_rec_rollup *r, int64_t sec)
{
    struct cell *c = &r->cells[(uint64_t)sec % CELLS];
    if (c->used && c->sec == sec)
        return c;
    if (c->used && c->dirty) {
        if (r->ngone == GONE_MAX) {
            give_up(r, vnd_strdup_printf(VND_ROLLUP_STATUS_NONE ": the records of one batch "
                                         "reached more than %u seconds (throughput reads the "
                                         "records)", CELLS + GONE_MAX));
            return NULL;
        }
        if (r->ngone == r->gonecap) {
            r->gonecap = r->gonecap ? 2 * r->gonecap : 64;
            r->gone = vnd_xrealloc(r->gone, r->gonecap * sizeof *r->gone);
        }
        r->gone[r->ngone++] = *c;
    }
    memset(c, 0, sizeof *c);
    c->used = true;
    c->sec = sec;
    c->newest = c->settle = -INFINITY;
    return c;
}

/* v[c] as a number: false when NULL (*x untouched) or not a number
 * (*bad set). */
static inline bool number(const struct vnd_value *v, int c, double *x, bool *bad)
{
    if (c < 0 || v[c].type == VND_SQL_NULL)
        return false;
    if (v[c].type == VND_SQL_INTEGER)
        *x = (double)v[c].i;
    else if (v[c].type == VND_SQL_REAL)
        *x = v[c].d;
    else
        *bad = true;
    return !*bad;
}

/* floor(x), without libm's call for the times of records (a tenth of
 * the row's instructions went to it) */
static inline double floor_of(double x)
{
    if (!(fabs(x) < 9e15))
        return floor(x);
    double t = (double)(int64_t)x;
    return t > x ? t - 1 : t;
}

void vnd_rec_rollup_row(struct vnd_rec_rollup *r, const struct vnd_value *v)
{
    r->rows++;
    if (!r->live)
        return;
    /* as the apps' SQL reads a record (diag_throughput.c): its end is
     * end_ts, else ts; its start start_ts when not after end_ts nor more
     * than a day before it, else the end; packets and bytes 0 when NULL */
    bool bad = false;
    double ts = NAN, end_ts = NAN, start_ts = NAN, p = 0, y = 0, sq = 0;
    bool has_ts = number(v, r->col[R_TS], &ts, &bad);
    bool has_end = number(v, r->col[R_END], &end_ts, &bad);
    bool has_start = number(v, r->col[R_START], &start_ts, &bad);
    number(v, r->col[R_PACKETS], &p, &bad);
    number(v, r->col[R_BYTES], &y, &bad);
    number(v, r->col[R_SQ], &sq, &bad);
    if (bad || (has_end && isnan(end_ts)) || (has_start && isnan(start_ts)) || isnan(p)
        || isnan(y) || isnan(sq)) {
        give_up(r, vnd_xstrdup(VND_ROLLUP_STATUS_NONE ": a record's time, packets or bytes is "
                               "not a number"));
        return;
    }
    if (!has_end && !has_ts)
        return;                      /* no time at all: in no slot */
    double b1 = has_end ? end_ts : ts;
    double b0 = has_start && has_end && start_ts <= end_ts
                        && end_ts - start_ts <= VND_RECORD_SPAN_MAX ? start_ts : b1;
    /* a cell a second: a record of a day's span was 86,400 of them (16
     * such records, one datagram, took 1.3 s and 120 MB) */
    if (b1 - b0 > VND_REC_ROLLUP_SPAN_MAX) {
        give_up(r, vnd_strdup_printf(VND_ROLLUP_STATUS_NONE ": a record spans %.0f s, more than "
                                     "the %.0f s the rollup spreads (throughput reads the "
                                     "records)", b1 - b0, VND_REC_ROLLUP_SPAN_MAX));
        return;
    }
    /* q as vnd_samp_record_q_sql: bytes_sq, never below y^2 / p */
    double q = 0;
    if (p > 0) {
        double y2p = y * y / p;
        q = r->col[R_SQ] >= 0 && sq > y2p ? sq : y2p;
    }
    /* how long after the newest ts seen (when it came) a second this
     * record reaches was still incomplete: its span and how far behind
     * the newest it came (--follow waits that long; rollup_records.h) */
    double row_ts = has_ts ? ts : b1;
    double settle = (b1 - b0) + (r->newest > row_ts ? r->newest - row_ts : 0);
    if (row_ts > r->newest)
        r->newest = row_ts;
    double k = floor_of(b0), kn = b1 > b0 ? floor_of(b1) : k;
    bool first = true;
    /* k + 1 > k: where a double no longer counts by ones the walk ends,
     * as the SQL's */
    for (; k <= kn; k = k + 1 > k ? k + 1 : INFINITY) {
        double w = 1.0;
        if (b1 > b0)
            w = ((b1 < k + 1 ? b1 : k + 1) - (b0 > k ? b0 : k)) / (b1 - b0);
        if (!(w > 0))
            continue;
        if (!(fabs(k) < 9e15))
            break;                   /* no second an int64 holds */
        struct cell *c = cell_of(r, (int64_t)k);
        if (!c)
            return;
        c->packets += w * p;
        c->bytes += w * y;
        c->sq += w * q;
        c->records++;
        if (first) {
            c->firsts++;
            c->newest = row_ts > c->newest ? row_ts : c->newest;
            c->settle = settle > c->settle ? settle : c->settle;
        }
        c->dirty = true;
        unsigned at = (unsigned)(c - r->cells);
        if (!r->listed[at]) {
            r->listed[at] = true;
            r->touched[r->ntouched++] = (uint16_t)at;
        }
        first = false;
    }
}

/* One cell's row, its old row (if any) to delete in *del. */
static void put_cell(struct vnd_rec_rollup *r, struct vnd_rowpipe *pipe, struct cell *c,
                     int64_t (*del)[2], size_t *ndel)
{
    if (c->rowid) {
        del[*ndel][0] = c->rowid;
        del[(*ndel)++][1] = c->rowid + 1;
    }
    c->rowid = r->next_rowid++;
    c->dirty = false;
    vnd_rowpipe_begin_row(pipe, &r->ins);
    struct vnd_value vals[COLS + 1] = {
        {.type = VND_SQL_INTEGER, .i = c->rowid},
        {.type = VND_SQL_INTEGER, .i = c->sec},
        {.type = VND_SQL_REAL, .d = c->packets},
        {.type = VND_SQL_REAL, .d = c->bytes},
        {.type = VND_SQL_REAL, .d = c->sq},
        {.type = VND_SQL_INTEGER, .i = c->records},
        {.type = VND_SQL_INTEGER, .i = c->firsts},
        {.type = VND_SQL_REAL, .d = c->newest},
        {.type = VND_SQL_REAL, .d = c->settle},
    };
    for (int i = 0; i <= COLS; i++)
        vnd_rowpipe_put(pipe, vals[i].type == VND_SQL_REAL && !isfinite(vals[i].d) ? NULL
                                                                                 : &vals[i]);
    vnd_rowpipe_end_row(pipe);
}

void vnd_rec_rollup_emit(struct vnd_rec_rollup *r, struct vnd_rowpipe *pipe)
{
    size_t n = r->ngone + r->ntouched;
    if (!n)
        return;
    int64_t (*del)[2] = vnd_xmalloc(n * sizeof *del);
    size_t ndel = 0;
    for (size_t i = 0; i < r->ngone; i++)
        put_cell(r, pipe, &r->gone[i], del, &ndel);
    r->ngone = 0;
    for (unsigned i = 0; i < r->ntouched; i++) {
        unsigned at = r->touched[i];
        r->listed[at] = false;
        if (r->cells[at].dirty)
            put_cell(r, pipe, &r->cells[at], del, &ndel);
    }
    r->ntouched = 0;
    vnd_rollup_queue_delete(pipe, r->st, r->table, (const int64_t (*)[2])del, ndel);
    free(del);
}

const char *vnd_rec_rollup_status(const struct vnd_rec_rollup *r)
{
    return r->status_text;
}

uint64_t vnd_rec_rollup_rows(const struct vnd_rec_rollup *r)
{
    return r->rows;
}
