/* rollup.c — a trace table's rollup (rollup.h), kept on the parser's
 * thread: one hash lookup per stored row, the RTT machine on TCP rows,
 * and per batch one row per touched (slot, flow, kind) cell. */
#include "ingest/rollup.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flow/tcp_rtt.h"
#include "ingest/rollup_records.h"
#include "store/store.h"
#include "util/ddsketch.h"
#include "util/util.h"

/* The table's columns the rollup reads, by standard name. */
enum { C_TS, C_SRC, C_SPORT, C_DST, C_DPORT, C_PROTO, C_LEN, C_SEQ, C_ACK, C_FLAGS, C_ID,
       C_SACK, C_N };
static const char *const col_names[C_N] = {
    "ts", "src_ip", "src_port", "dst_ip", "dst_port", "proto", "payload_len", "seq", "ack",
    "flags", VND_RTT_ID_COL, VND_RTT_SACK_COL,
};

/* The rollup table: its columns, in the order rows are written (slot,
 * packets and bytes NOT NULL). */
#define ROLLUP_COLS 18
static const char *const rollup_names[ROLLUP_COLS] = {
    "slot", "src_ip", "src_port", "dst_ip", "dst_port", "proto", "kind", "packets", "bytes",
    "flags", "ts_min", "ts_max", "rtt_n", "rtt_sum", "rtt_min", "rtt_max", "rtt_sketch", "flow",
};
static const enum vnd_sql_type rollup_types[ROLLUP_COLS] = {
    VND_SQL_INTEGER, VND_SQL_TEXT, VND_SQL_INTEGER, VND_SQL_TEXT, VND_SQL_INTEGER,
    VND_SQL_INTEGER, VND_SQL_INTEGER, VND_SQL_INTEGER, VND_SQL_INTEGER, VND_SQL_INTEGER,
    VND_SQL_REAL, VND_SQL_REAL, VND_SQL_INTEGER, VND_SQL_REAL, VND_SQL_REAL, VND_SQL_REAL,
    VND_SQL_BLOB, VND_SQL_TEXT,
};
/* The apps' --by-flow questions read the rows of one kind in (flow, slot)
 * order from these, groups in 5-tuple order, without sorting (the packets'
 * ones cover them). */
static const struct vnd_store_index rollup_indexes[] = {
    {"slot", "slot", NULL},
    {"flow", "flow, slot, packets, bytes", "kind IS NULL"},
    {"rtt", "flow, slot", "kind IS NOT NULL"},
    {"tuple", "src_ip, src_port, dst_ip, dst_port, proto, packets, bytes", "kind IS NULL"},
};
#define SKETCH_MAX 4096
/* TCP rows wait in groups this big before the RTT machine takes them, so
 * that the misses of its copies' table overlap (prefetched) */
#define PENDING 16
/* flows found without hashing their text (a power of 2) */
#define FCACHE 512

/* The bins of a cell's RTT samples since its last row, kept dense (an
 * add is an increment) within this many bins; samples beyond go to the
 * sketch itself */
#define DENSE_MAX 1024
/* Cells of slots this far behind the newest stay in memory (their rows
 * rewritten when touched again); older ones are let go (a late sample
 * then makes another row of that key, which readers add) */
#define KEEP_SLOTS 2
/* Flows are interned (their index keys cells and the RTT machine's
 * state).  A trace sees new flows for as long as it runs, and every flow
 * it ever saw cost about 600 bytes and a step of each batch's walk: a
 * table server taking sFlow samples of 2.8 M flows had grown to 1 GB.  So
 * once more than FLOWS_FLOOR are interned and under half of them had a row
 * in the slots still kept, a batch starts the flows afresh (the cells
 * written and let go, the RTT machine made anew): a memory of at most
 * about twice the live flows.  What that loses: the RTT samples of the
 * segments waiting for their ACK then (about one RTT of the live flows,
 * once per such batch), and copies of one frame across the reset are
 * taken as a retransmission (no sample). */
#define FLOWS_FLOOR 16384

struct cell {
    uint64_t packets, bytes;
    int64_t flags;
    double ts_min, ts_max;
    uint64_t rtt_n;
    double rsum, rmin, rmax;
    struct vnd_dds *sk;
    int64_t rowid;           /* its rows in the table: rowid .. + nrows - 1 */
    int nrows;
    bool dirty;              /* touched since they were written */
};

struct vnd_rollup {
    /* a table of flow records' rollup (rollup_records.h): everything
     * below but table unused */
    struct vnd_rec_rollup *rec;
    char *table;
    int col[C_N];                    /* the rule's column, -1: none */
    int ncols;                       /* the rule's */
    bool *present;                   /* of the row being read, by column */
    struct vnd_rowpipe_target ins;   /* rowid first */
    struct vnd_store *st;            /* a cell's old rows are deleted there */
    int64_t next_rowid;
    int64_t slot_max;                /* the newest slot seen */
    struct vnd_rtt_machine *m;       /* also interns the flows */
    bool rtt;                        /* RTT samples are the app's */
    const char *status;
    char *status_text;               /* status, and ": why" when not all */
    bool have_t0;
    double t0;
    uint64_t packets;
    struct vnd_gmap cells;
    struct cell *c;
    size_t cap;
    struct fcache {
        uint64_t k[7];
        int flow;                    /* + 1; 0: empty */
    } fcache[FCACHE];
    struct vnd_dds_binner bins;      /* the bin of a sample */
    struct vnd_rtt_in pend[PENDING];
    char pend_sack[PENDING][VND_VALUE_TEXT_MAX + 1];
    int npend;
    /* per flow, its rows' sums in one (slot, proto) until it changes (or
     * the batch ends): one cache line per row, the cells touched per slot */
    struct flowcell {
        int64_t slot, proto;
        bool set;
        uint64_t packets, bytes;
        int64_t flags;
        double ts_min, ts_max;
        /* and the RTT samples of one (slot, kind) where it is the data
         * direction: counted in dense bins (an add is an increment)
         * until they go into the cell's sketch */
        bool rset;
        int rkind;
        int64_t rslot;
        uint64_t rn;
        double rsum, rmin, rmax;
        uint64_t *dc;                /* bins dlo .. dlo + dn - 1 */
        int32_t dlo;
        int dn;
    } *fc;
    size_t fccap;
};

/* Answers less from now on: `status` if lower than the current one. */
static void degrade(struct vnd_rollup *r, const char *status, const char *why)
{
    static const char *const order[] = {VND_ROLLUP_STATUS_ALL, VND_ROLLUP_STATUS_NO_RTT,
                                        VND_ROLLUP_STATUS_TOTALS, VND_ROLLUP_STATUS_NONE};
    int now = 0, want = 0;
    for (int i = 0; i < 4; i++) {
        if (!strcmp(order[i], r->status))
            now = i;
        if (!strcmp(order[i], status))
            want = i;
    }
    if (want <= now)
        return;
    r->status = order[want];
    free(r->status_text);
    r->status_text = vnd_strdup_printf("%s: %s", r->status, why);
    r->rtt = false;
}

static void emit_sample(void *arg, int flow, double seg_ts, double ack_ts, int kind);

void vnd_rollup_sampled(struct vnd_rollup *r, uint32_t n)
{
    /* a record rollup's sums need no rate: the apps apply it */
    if (n <= 1 || !r->rtt || r->rec)
        return;
    char why[80];
    snprintf(why, sizeof why, "packets sampled 1 in %u (few segments keep their ACK)", n);
    degrade(r, VND_ROLLUP_STATUS_NO_RTT, why);
}

void vnd_rollup_columns(const char *const **names, const enum vnd_sql_type **types, int *n)
{
    *names = rollup_names;
    *types = rollup_types;
    *n = ROLLUP_COLS;
}

/* The rule's column of each col_names (-1: none); false when the table
 * lacks one of the standard columns up to payload_len (no rollup). */
static bool standard_columns(const char *const *columns, int ncolumns, int col[C_N])
{
    for (int k = 0; k < C_N; k++) {
        col[k] = -1;
        for (int c = 0; c < ncolumns; c++)
            if (!strcasecmp(columns[c], col_names[k]))
                col[k] = c;
        if (k <= C_LEN && col[k] < 0)
            return false;
    }
    return true;
}

bool vnd_rollup_kept_for(const char *const *columns, int ncolumns)
{
    int col[C_N];
    return standard_columns(columns, ncolumns, col);
}

/* A table of flow records' rollup, named `name`. */
static struct vnd_rollup *records_new(struct vnd_store *st, char *name,
                                      const struct vnd_parse_rule *rule, char **err)
{
    struct vnd_rec_rollup *rec = vnd_rec_rollup_new(st, name, rule, err);
    if (!rec) {
        free(name);
        return NULL;
    }
    struct vnd_rollup *r = vnd_xcalloc(1, sizeof *r);
    r->rec = rec;
    r->table = name;
    return r;
}

struct vnd_rollup *vnd_rollup_new(struct vnd_store *st, const char *table,
                                  const struct vnd_parse_rule *rule, bool records, char **err)
{
    int col[C_N];
    bool packets = !records
                   && standard_columns((const char *const *)rule->columns, rule->ncolumns, col);
    if (!packets && !(records && vnd_rec_rollup_kept_for((const char *const *)rule->columns,
                                                         rule->ncolumns)))
        return NULL;                 /* not a standard table: no rollup */
    char *name = vnd_strdup_printf("%s" VND_ROLLUP_SUFFIX, table);
    /* a trace may write a table of that name itself (a trace "X__rollup"):
     * it is not a rollup to make */
    if (vnd_store_trace_table(st, name)) {
        free(name);
        return NULL;
    }
    if (records)
        return records_new(st, name, rule, err);
    struct vnd_rollup *r = vnd_xcalloc(1, sizeof *r);
    memcpy(r->col, col, sizeof col);
    r->ncols = rule->ncolumns;
    r->present = vnd_xcalloc((size_t)rule->ncolumns + 1, sizeof *r->present);
    r->table = name;
    r->st = st;
    r->status = VND_ROLLUP_STATUS_ALL;
    r->status_text = vnd_xstrdup(r->status);
    r->rtt = col[C_SEQ] >= 0 && col[C_ACK] >= 0 && col[C_FLAGS] >= 0;
    if (!r->rtt)
        degrade(r, VND_ROLLUP_STATUS_NO_RTT, "the table has no seq, ack or flags column");
    r->m = vnd_rtt_machine_new(col[C_ID] >= 0, col[C_SACK] >= 0, emit_sample, r);
    /* a rollup of that name is a leftover: the table is this trace's alone */
    struct vnd_store_col cols[ROLLUP_COLS];
    for (int i = 0; i < ROLLUP_COLS; i++)
        cols[i] = (struct vnd_store_col){rollup_names[i], rollup_types[i],
                                         !strcmp(rollup_names[i], "slot")
                                             || !strcmp(rollup_names[i], "packets")
                                             || !strcmp(rollup_names[i], "bytes")};
    int rc = vnd_store_make_table(st, r->table, cols, ROLLUP_COLS, rollup_indexes,
                                  (int)(sizeof rollup_indexes / sizeof *rollup_indexes), err);
    if (rc == ENAMETOOLONG) {        /* a name the store cannot hold: no rollup */
        free(*err);
        *err = NULL;
    }
    if (rc) {
        vnd_rollup_free(r);
        return NULL;
    }
    r->ins.ncols = ROLLUP_COLS + 1;
    r->ins.writer = vnd_store_writer_new(st, r->table, (char *const *)rollup_names, ROLLUP_COLS,
                                         true, err);
    if (!r->ins.writer) {
        vnd_rollup_free(r);
        return NULL;
    }
    r->next_rowid = 1;
    vnd_dds_binner_init(&r->bins, VND_DDS_ALPHA_PERMILLE);
    return r;
}

int vnd_rollup_drop(struct vnd_store *st, const char *table, char **err)
{
    char *name = vnd_strdup_printf("%s" VND_ROLLUP_SUFFIX, table);
    int rc = vnd_store_trace_table(st, name) ? 0 : vnd_store_drop_table(st, name, err);
    free(name);
    return rc;
}

static void cell_free(struct cell *c)
{
    if (c->sk) {
        vnd_dds_free(c->sk);
        free(c->sk);
    }
}

/* Lets go of the cells of slots before `keep` (all: INT64_MAX). */
static void cells_evict(struct vnd_rollup *r, int64_t keep)
{
    struct vnd_gmap kept = {0};
    uint32_t n = r->cells.n;
    for (uint32_t i = 0; i < n; i++) {
        const int64_t *k = &r->cells.k[3 * (size_t)i];
        if (k[0] < keep)
            cell_free(&r->c[i]);
        else
            r->c[vnd_gmap_get(&kept, k[0], k[1], k[2])] = r->c[i];   /* j <= i */
    }
    vnd_gmap_free(&r->cells);
    r->cells = kept;
    for (size_t i = 0; i < r->fccap; i++)
        r->fc[i].set = r->fc[i].rset = false;
}

void vnd_rollup_free(struct vnd_rollup *r)
{
    if (!r)
        return;
    vnd_rec_rollup_free(r->rec);
    free(r->present);
    cells_evict(r, INT64_MAX);
    vnd_gmap_free(&r->cells);
    free(r->c);
    for (size_t i = 0; i < r->fccap; i++)
        free(r->fc[i].dc);
    vnd_dds_binner_free(&r->bins);
    free(r->fc);
    vnd_rtt_machine_free(r->m);
    vnd_store_writer_free(r->ins.writer);
    free(r->table);
    free(r->status_text);
    free(r);
}

/* The cell of (slot, flow, proto, kind): kind -1 for packets, else the
 * RTT kind's code.  proto -1: NULL. */
static struct cell *cell_of(struct vnd_rollup *r, int64_t slot, int flow, int64_t proto, int kind)
{
    uint32_t n0 = r->cells.n;
    uint32_t i = vnd_gmap_get(&r->cells, slot, flow, proto * 4 + kind + 1);
    if (r->cells.n == n0)
        return &r->c[i];
    if (i >= r->cap) {
        r->cap = r->cap ? 2 * r->cap : 1024;
        r->c = vnd_xrealloc(r->c, r->cap * sizeof *r->c);
    }
    struct cell *c = &r->c[i];
    memset(c, 0, sizeof *c);
    c->ts_min = INFINITY;
    c->ts_max = -INFINITY;
    c->rmin = INFINITY;
    c->rmax = -INFINITY;
    return c;
}

/* The slot of ts: floor((ts - t0) / slot), as the apps' slots are taken. */
static int64_t slot_of(const struct vnd_rollup *r, double ts)
{
    return (int64_t)floor((ts - r->t0) / VND_ROLLUP_SLOT);
}

/* The sketch of an RTT cell. */
static struct vnd_dds *cell_sketch(struct cell *c)
{
    if (!c->sk) {
        c->sk = vnd_xmalloc(sizeof *c->sk);
        vnd_dds_init(c->sk, VND_DDS_ALPHA_PERMILLE);
    }
    return c->sk;
}

/* The samples flow's rows wait with, into their cell. */
static void fold_rtt(struct vnd_rollup *r, int flow)
{
    struct flowcell *f = &r->fc[flow];
    if (f->rset && f->rn) {
        struct cell *c = cell_of(r, f->rslot, flow, 6, f->rkind);
        vnd_dds_add_bins(cell_sketch(c), f->dlo, f->dc, f->dn);
        memset(f->dc, 0, (size_t)f->dn * sizeof *f->dc);
        c->dirty = true;
        c->rtt_n += f->rn;
        c->rsum += f->rsum;
        c->rmin = f->rmin < c->rmin ? f->rmin : c->rmin;
        c->rmax = f->rmax > c->rmax ? f->rmax : c->rmax;
    }
    f->rn = 0;
    f->rsum = 0;
    f->rmin = INFINITY;
    f->rmax = -INFINITY;
}

/* v into f's dense bins (grown with some room): false when 0 or too far
 * from the others, for the cell's sketch itself. */
static bool dense_add(struct flowcell *f, struct vnd_dds_binner *bins, double v)
{
    if (!(v > 0) || !isfinite(v))
        return false;
    int32_t b = vnd_dds_binner_bin(bins, v);
    if (!f->dn || b < f->dlo || b >= f->dlo + f->dn) {
        int64_t lo = f->dn ? f->dlo : b, hi = f->dn ? (int64_t)f->dlo + f->dn : (int64_t)b + 1;
        if (b < lo)
            lo = (int64_t)b - 16;
        if (b >= hi)
            hi = (int64_t)b + 17;
        if (hi - lo > DENSE_MAX)
            return false;
        uint64_t *dc = vnd_xcalloc((size_t)(hi - lo), sizeof *dc);
        if (f->dn)
            memcpy(dc + (f->dlo - lo), f->dc, (size_t)f->dn * sizeof *dc);
        free(f->dc);
        f->dc = dc;
        f->dlo = (int32_t)lo;
        f->dn = (int)(hi - lo);
    }
    f->dc[b - f->dlo]++;
    return true;
}

static void emit_sample(void *arg, int flow, double seg_ts, double ack_ts, int kind)
{
    struct vnd_rollup *r = arg;
    if (!r->rtt)
        return;
    int64_t slot = slot_of(r, seg_ts);
    struct flowcell *f = &r->fc[flow];          /* the flow's rows came first */
    if (!f->rset || f->rslot != slot || f->rkind != kind) {
        fold_rtt(r, flow);
        f->rset = true;
        f->rslot = slot;
        f->rkind = kind;
    }
    double v = ack_ts - seg_ts;
    if (!dense_add(f, &r->bins, v)) {
        struct cell *c = cell_of(r, slot, flow, 6, kind);
        if (vnd_dds_add(cell_sketch(c), v)) {
            degrade(r, VND_ROLLUP_STATUS_NO_RTT, "an RTT sample the sketch cannot hold");
            return;
        }
        c->dirty = true;
    }
    f->rn++;
    f->rsum += v;
    f->rmin = v < f->rmin ? v : f->rmin;
    f->rmax = v > f->rmax ? v : f->rmax;
}

static bool is(const struct vnd_value *v, const bool *present, int c, enum vnd_sql_type t)
{
    return present[c] && v[c].type == t;
}

/* The waiting rows into the machine. */
static void drain(struct vnd_rollup *r)
{
    for (int i = 0; i < r->npend && r->rtt; i++)
        if (vnd_rtt_machine_row(r->m, &r->pend[i]))
            degrade(r, VND_ROLLUP_STATUS_NO_RTT,
                    "rows out of time order (the rtt app sorts them)");
    r->npend = 0;
}

/* The row's TCP fields into the RTT machine, as the rtt step reads them. */
static void feed_rtt(struct vnd_rollup *r, const struct vnd_value *v, const bool *present,
                     int flow, double ts)
{
    const int *col = r->col;
    if (!is(v, present, col[C_PROTO], VND_SQL_INTEGER) || v[col[C_PROTO]].i != 6
        || !present[col[C_SEQ]])
        return;
    bool fl = present[col[C_FLAGS]];
    if (!is(v, present, col[C_SEQ], VND_SQL_INTEGER)
        || (present[col[C_ACK]] && v[col[C_ACK]].type != VND_SQL_INTEGER)
        || (fl && v[col[C_FLAGS]].type != VND_SQL_INTEGER)
        || (present[col[C_LEN]] && v[col[C_LEN]].type != VND_SQL_INTEGER)) {
        degrade(r, VND_ROLLUP_STATUS_NO_RTT, "a TCP field of another type than the rtt app's");
        return;
    }
    struct vnd_rtt_in in = {
        .ts = ts, .flow = flow, .seq = (uint32_t)v[col[C_SEQ]].i,
        .ack_null = !present[col[C_ACK]],
        .ack = present[col[C_ACK]] ? (uint32_t)v[col[C_ACK]].i : 0,
        .flags = fl ? (int)v[col[C_FLAGS]].i : 0, .id_null = 1,
    };
    in.len = !fl || !present[col[C_LEN]]
                 ? 0 : v[col[C_LEN]].i + (in.flags & 1) + ((in.flags >> 1) & 1);
    if (col[C_ID] >= 0 && present[col[C_ID]]) {
        if (v[col[C_ID]].type != VND_SQL_INTEGER) {
            degrade(r, VND_ROLLUP_STATUS_NO_RTT, "an id that is not an integer");
            return;
        }
        in.id_null = 0;
        in.id = v[col[C_ID]].i;
    }
    if (col[C_SACK] >= 0 && present[col[C_SACK]] && v[col[C_SACK]].type == VND_SQL_TEXT
        && (in.flags & 16)) {
        char *sack = r->pend_sack[r->npend];
        size_t n = v[col[C_SACK]].slen < VND_VALUE_TEXT_MAX ? v[col[C_SACK]].slen
                                                            : VND_VALUE_TEXT_MAX;
        memcpy(sack, v[col[C_SACK]].s, n);
        sack[n] = 0;
        in.sack = sack;
    }
    r->pend[r->npend++] = in;
    vnd_rtt_machine_prefetch(r->m, &in);
    if (r->npend == PENDING)
        drain(r);
}

/* The sums flow's rows wait with, into their cell. */
static void fold(struct vnd_rollup *r, int flow)
{
    struct flowcell *f = &r->fc[flow];
    if (f->set && f->packets) {
        struct cell *c = cell_of(r, f->slot, flow, f->proto, -1);
        c->dirty = true;
        c->packets += f->packets;
        c->bytes += f->bytes;
        c->flags |= f->flags;
        c->ts_min = f->ts_min < c->ts_min ? f->ts_min : c->ts_min;
        c->ts_max = f->ts_max > c->ts_max ? f->ts_max : c->ts_max;
    }
    f->packets = f->bytes = 0;
    f->flags = 0;
    f->ts_min = INFINITY;
    f->ts_max = -INFINITY;
}

/* Text of at most 16 bytes as two words (with its length, exactly: the
 * words of different texts of one length differ); false when longer. */
static bool text_words(const char *p, size_t n, uint64_t w[2])
{
    w[0] = w[1] = 0;
    if (!p)
        return true;                /* NULL: as empty, told apart by `nulls` */
    if (n > 16)
        return false;
    if (n >= 8) {
        memcpy(&w[0], p, 8);
        memcpy(&w[1], p + n - 8, 8);
    } else {
        for (size_t i = 0; i < n; i++)
            w[0] = w[0] << 8 | (unsigned char)p[i];
    }
    return true;
}

/* The flow of a row: through a direct-mapped cache of flows whose
 * addresses fit in two words each (IPv4 text), else the machine's table. */
static int flow_of(struct vnd_rollup *r, const char *src, size_t sl, int64_t sport,
                   const char *dst, size_t dl, int64_t dport, unsigned nulls)
{
    uint64_t k[7];
    bool fits = text_words(src, sl, k) && text_words(dst, dl, k + 2);
    k[4] = (uint64_t)sport;
    k[5] = (uint64_t)dport;
    k[6] = sl | dl << 8 | (uint64_t)nulls << 16 | (uint64_t)!src << 18 | (uint64_t)!dst << 19;
    struct fcache *e = NULL;
    if (fits) {
        uint64_t h = 0;
        for (int i = 0; i < 7; i++)
            h = (h ^ k[i]) * 0x9e3779b97f4a7c15ULL;
        e = &r->fcache[(h ^ h >> 32) & (FCACHE - 1)];
        if (e->flow > 0 && !memcmp(e->k, k, sizeof k))
            return e->flow - 1;
    }
    int flow = vnd_flows_get(vnd_rtt_machine_flows(r->m), src, sl, sport, dst, dl, dport, nulls);
    if (e && flow >= 0) {
        memcpy(e->k, k, sizeof k);
        e->flow = flow + 1;
    }
    return flow;
}

/* An address column's text: TEXT as it is, an address's bytes (ingest's
 * VND_SQL_ADDR) made text in buf, as the trace table shows it. */
static const char *text_of(const struct vnd_value *v, char buf[46], size_t *n)
{
    if (v->type != VND_SQL_ADDR) {
        *n = v->slen;
        return v->s;
    }
    *n = vnd_format_addr(v, buf);
    return buf;
}

static bool is_address(const struct vnd_value *v)
{
    return v->type == VND_SQL_TEXT || v->type == VND_SQL_ADDR;
}

void vnd_rollup_row(struct vnd_rollup *r, const struct vnd_value *v)
{
    if (r->rec) {
        vnd_rec_rollup_row(r->rec, v);
        return;
    }
    bool *present = r->present;
    for (int c = 0; c < r->ncols; c++)
        present[c] = v[c].type != VND_SQL_NULL;
    const int *col = r->col;
    /* the types the apps' SQL and the rollup agree on */
    int s = col[C_SRC], d = col[C_DST], sp = col[C_SPORT], dp = col[C_DPORT];
    int pr = col[C_PROTO], ln = col[C_LEN];
    if ((present[s] && !is_address(&v[s])) || (present[d] && !is_address(&v[d]))
        || (present[sp] && v[sp].type != VND_SQL_INTEGER)
        || (present[dp] && v[dp].type != VND_SQL_INTEGER)
        || (present[pr] && (v[pr].type != VND_SQL_INTEGER || v[pr].i < 0 || v[pr].i > 65535))
        || (present[ln] && v[ln].type != VND_SQL_INTEGER)) {
        degrade(r, VND_ROLLUP_STATUS_NONE, "a flow column or payload_len of another type");
        return;
    }
    char sbuf[46], dbuf[46];
    size_t sl = 0, dl = 0;
    const char *src = present[s] ? text_of(&v[s], sbuf, &sl) : NULL;
    const char *dst = present[d] ? text_of(&v[d], dbuf, &dl) : NULL;
    int flow = flow_of(r, src, sl, present[sp] ? v[sp].i : 0, dst, dl, present[dp] ? v[dp].i : 0,
                       (unsigned)!present[sp] | (unsigned)!present[dp] << 1);
    if (flow < 0) {
        degrade(r, VND_ROLLUP_STATUS_NONE, "an address with a NUL inside");
        return;
    }
    int t = col[C_TS];
    bool timed = present[t] && (v[t].type == VND_SQL_REAL || v[t].type == VND_SQL_INTEGER);
    double ts = !timed ? NAN : v[t].type == VND_SQL_REAL ? v[t].d : (double)v[t].i;
    if (!timed) {
        degrade(r, VND_ROLLUP_STATUS_TOTALS, "a row without a ts");
    } else if (!r->have_t0) {
        r->have_t0 = true;
        r->t0 = ts;
    } else if (ts < r->t0) {
        degrade(r, VND_ROLLUP_STATUS_TOTALS, "a row before the first");
    }
    int64_t slot = timed && r->have_t0 ? slot_of(r, ts) : -1;
    r->slot_max = slot > r->slot_max ? slot : r->slot_max;
    int64_t proto = present[pr] ? v[pr].i : -1;
    if ((size_t)flow >= r->fccap) {
        size_t cap = r->fccap ? 2 * r->fccap : 256;
        while (cap <= (size_t)flow)
            cap *= 2;
        r->fc = vnd_xrealloc(r->fc, cap * sizeof *r->fc);
        memset(r->fc + r->fccap, 0, (cap - r->fccap) * sizeof *r->fc);
        r->fccap = cap;
    }
    struct flowcell *f = &r->fc[flow];
    if (!f->set || f->slot != slot || f->proto != proto) {
        fold(r, flow);
        f->slot = slot;
        f->proto = proto;
        f->set = true;
    }
    f->packets++;
    r->packets++;
    if (present[ln])
        f->bytes += (uint64_t)v[ln].i;
    if (col[C_FLAGS] >= 0 && is(v, present, col[C_FLAGS], VND_SQL_INTEGER))
        f->flags |= v[col[C_FLAGS]].i;
    if (timed) {
        f->ts_min = ts < f->ts_min ? ts : f->ts_min;
        f->ts_max = ts > f->ts_max ? ts : f->ts_max;
    }
    if (r->rtt) {
        if (!timed)
            degrade(r, VND_ROLLUP_STATUS_NO_RTT, "a row without a ts");
        else
            feed_rtt(r, v, present, flow, ts);
    }
}

void vnd_rollup_finish(struct vnd_rollup *r)
{
    if (r->rec)
        return;
    drain(r);
    if (r->rtt)
        vnd_rtt_machine_end(r->m);
}

static void put_int(struct vnd_rowpipe *p, int64_t i)
{
    struct vnd_value v = {.type = VND_SQL_INTEGER, .i = i};
    vnd_rowpipe_put(p, &v);
}

static void put_real(struct vnd_rowpipe *p, double d)
{
    struct vnd_value v = {.type = VND_SQL_REAL, .d = d};
    vnd_rowpipe_put(p, isfinite(d) ? &v : NULL);
}

static void put_text(struct vnd_rowpipe *p, const char *s, size_t n)
{
    if (!s) {
        vnd_rowpipe_put(p, NULL);
        return;
    }
    char *buf = vnd_rowpipe_text_buf(p);
    memcpy(buf, s, n);
    struct vnd_value v = {.type = VND_SQL_TEXT, .s = buf, .slen = n};
    vnd_rowpipe_put(p, &v);
}

/* The rowid ranges of rows to delete, run on the writer thread (in the
 * batch, before its commit). */
struct deletion {
    struct vnd_store *st;
    const char *table;
    size_t n;
    int64_t range[][2];
};

static int delete_op(void *arg, char **msg)
{
    struct deletion *d = arg;
    char *why = NULL;
    int rc = vnd_store_delete_rowids(d->st, d->table, (const int64_t (*)[2])d->range, d->n, &why);
    if (rc)
        *msg = vnd_strdup_printf("rollup: %s", why);
    free(why);
    free(d);
    return rc;
}

void vnd_rollup_queue_delete(struct vnd_rowpipe *pipe, struct vnd_store *st, const char *table,
                             const int64_t (*ranges)[2], size_t n)
{
    if (!n)
        return;
    struct deletion *d = vnd_xmalloc(sizeof *d + n * sizeof d->range[0]);
    d->st = st;
    d->table = table;
    d->n = n;
    memcpy(d->range, ranges, n * sizeof d->range[0]);
    vnd_rowpipe_run(pipe, delete_op, d);
}

/* True when most interned flows had no row in the slots kept. */
static bool flows_stale(const struct vnd_rollup *r)
{
    size_t n = (size_t)vnd_rtt_machine_flows(r->m)->n, live = 0;
    if (n <= FLOWS_FLOOR)
        return false;
    for (size_t i = 0; i < n && i < r->fccap; i++)
        live += r->fc[i].slot >= r->slot_max - KEEP_SLOTS;
    return n > 2 * live;
}

/* The flows afresh (FLOWS_FLOOR), once the batch's cells are written. */
static void flows_restart(struct vnd_rollup *r)
{
    cells_evict(r, INT64_MAX);
    for (size_t i = 0; i < r->fccap; i++)
        free(r->fc[i].dc);
    free(r->fc);
    r->fc = NULL;
    r->fccap = 0;
    memset(r->fcache, 0, sizeof r->fcache);
    vnd_rtt_machine_free(r->m);
    r->m = vnd_rtt_machine_new(r->col[C_ID] >= 0, r->col[C_SACK] >= 0, emit_sample, r);
}

void vnd_rollup_emit(struct vnd_rollup *r, struct vnd_rowpipe *pipe)
{
    if (r->rec) {
        vnd_rec_rollup_emit(r->rec, pipe);
        return;
    }
    drain(r);
    bool restart = flows_stale(r);
    if (restart && r->rtt)
        vnd_rtt_machine_end(r->m);      /* its buffered rows' samples, into this batch */
    for (size_t i = 0; i < r->fccap; i++) {
        fold(r, (int)i);
        fold_rtt(r, (int)i);
    }
    /* one row per cell (the RTT machine's pending samples wait): a cell
     * written before gets its rows replaced, so a (slot, flow, kind) has
     * one row however many batches it spans */
    size_t nold = 0, ndel = 0;
    for (uint32_t i = 0; i < r->cells.n; i++)
        nold += r->c[i].dirty && r->c[i].nrows;
    int64_t (*del)[2] = nold ? vnd_xmalloc(nold * sizeof *del) : NULL;
    const struct vnd_flows *fl = vnd_rtt_machine_flows(r->m);
    for (uint32_t i = 0; i < r->cells.n; i++) {
        const int64_t *k = &r->cells.k[3 * (size_t)i];
        struct cell *c = &r->c[i];
        if (!c->dirty)
            continue;
        c->dirty = false;
        if (c->nrows) {
            del[ndel][0] = c->rowid;
            del[ndel++][1] = c->rowid + c->nrows;
        }
        c->rowid = r->next_rowid;
        c->nrows = 0;
        const struct vnd_flow *f = &fl->f[k[1]];
        int64_t proto = (k[2] - ((k[2] % 4 + 4) % 4)) / 4;
        int kind = (int)((k[2] % 4 + 4) % 4) - 1;
        /* a sketch too long for one row goes in parts over several */
        int from = 0;
        do {
            vnd_rowpipe_begin_row(pipe, &r->ins);
            put_int(pipe, r->next_rowid++);
            c->nrows++;
            put_int(pipe, k[0]);
            put_text(pipe, f->src, f->src_len);
            if (f->nulls & 1)
                vnd_rowpipe_put(pipe, NULL);
            else
                put_int(pipe, f->sport);
            put_text(pipe, f->dst, f->dst_len);
            if (f->nulls & 2)
                vnd_rowpipe_put(pipe, NULL);
            else
                put_int(pipe, f->dport);
            if (proto < 0)
                vnd_rowpipe_put(pipe, NULL);
            else
                put_int(pipe, proto);
            if (kind < 0)
                vnd_rowpipe_put(pipe, NULL);
            else
                put_int(pipe, kind);
            bool first = from == 0;
            put_int(pipe, first ? (int64_t)c->packets : 0);
            put_int(pipe, first ? (int64_t)c->bytes : 0);
            put_int(pipe, first ? c->flags : 0);
            put_real(pipe, first ? c->ts_min : NAN);
            put_real(pipe, first ? c->ts_max : NAN);
            if (kind < 0) {
                for (int j = 0; j < 5; j++)
                    vnd_rowpipe_put(pipe, NULL);
                put_text(pipe, f->label, f->label ? strlen(f->label) : 0);
                vnd_rowpipe_end_row(pipe);
                break;
            }
            put_int(pipe, first ? (int64_t)c->rtt_n : 0);
            put_real(pipe, first ? c->rsum : 0);
            put_real(pipe, first ? c->rmin : NAN);
            put_real(pipe, first ? c->rmax : NAN);
            char *buf = vnd_rowpipe_text_buf(pipe);
            size_t n = vnd_dds_encode_part(c->sk, &from, (uint8_t *)buf, SKETCH_MAX);
            struct vnd_value v = {.type = VND_SQL_BLOB, .s = buf, .slen = n};
            vnd_rowpipe_put(pipe, &v);
            put_text(pipe, f->label, f->label ? strlen(f->label) : 0);
            vnd_rowpipe_end_row(pipe);
        } while (from < c->sk->nb);
    }
    vnd_rollup_queue_delete(pipe, r->st, r->table, (const int64_t (*)[2])del, ndel);
    free(del);
    if (restart)
        flows_restart(r);
    else
        cells_evict(r, r->slot_max - KEEP_SLOTS);
}

const char *vnd_rollup_table(const struct vnd_rollup *r)
{
    return r->table;
}

const char *vnd_rollup_status(const struct vnd_rollup *r)
{
    return r->rec ? vnd_rec_rollup_status(r->rec) : r->status_text;
}

uint64_t vnd_rollup_packets(const struct vnd_rollup *r)
{
    return r->rec ? vnd_rec_rollup_rows(r->rec) : r->packets;
}
