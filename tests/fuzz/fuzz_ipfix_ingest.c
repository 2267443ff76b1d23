/* fuzz_ipfix_ingest.c — IPFIX from the wire to an ipfix trace's table and
 * its records rollup, as vnd-tabled takes it: arbitrary bytes as messages
 * (the framing of fuzz_ipfix), each record through vnd_ipfix_flow_fields
 * and vnd_ingest_record into one trace, batches flushed where the input
 * says.  The records' times, spans and counts are the input's: points,
 * starts after ends, spans past the rollup's limit, records years apart.
 * Nothing may crash or grow without bound (libFuzzer's RSS limit); and
 * when the rollup still answers throughput it must give the records'
 * answer: the same slots and records, the sums within 1e-6.  Input:
 * [1 byte: session (bit 0), flush after (bit 6), a length follows (bit 7)]
 * [2 bytes: length][message]..., the last message takes what is left. */
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/ipfix.h"
#include "capture/ipfix_source.h"
#include "decode/packet.h"
#include "diag/diag.h"
#include "ingest/ingest.h"
#include "lang/parseconf.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
    struct vnd_ingest *ing;
    int trace;
    double now;                 /* the arrival, s */
    double spread;              /* seconds the records span, in all */
};

static void on_flow(void *ctx, const struct vnd_ipfix_flow *f)
{
    struct run *R = ctx;
    struct vnd_pkt p;
    vnd_ipfix_flow_fields(f, &p);
    /* as the collector's on_flow: the flow's end, else its arrival */
    int64_t ts = f->has & VND_IPFIX_HAS_END ? f->end_ns : (int64_t)(R->now * 1e9);
    if (f->has & VND_IPFIX_HAS_START && f->has & VND_IPFIX_HAS_END && f->end_ns > f->start_ns)
        R->spread += (double)(f->end_ns - f->start_ns) / 1e9;
    R->spread += 1;
    vnd_ingest_record(R->ing, R->trace, ts, &p);
}

/* The answer of throughput (slot 1 s) as numbers, from the rollup or not;
 * false when it did not run.  *rollup: it came from the rollup. */
static bool answer(sqlite3 *db, bool no_rollup, double **v, int *nrows, int *ncols,
                   bool *rollup)
{
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.table = "rec";
    o.no_rollup = no_rollup;
    char *err = NULL, *sql = vnd_diag_sql(&vnd_diag_throughput, db, &o, &err);
    free(err);
    *v = NULL;
    *nrows = *ncols = 0;
    if (!sql)
        return false;
    *rollup = !strncmp(sql, "/* answered from the rollup", 27);
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK;
    free(sql);
    *ncols = ok ? sqlite3_column_count(st) : 0;
    size_t cap = 0;
    while (ok && sqlite3_step(st) == SQLITE_ROW) {
        if ((size_t)(*nrows + 1) * (size_t)*ncols > cap) {
            cap = cap ? 2 * cap : 64 * (size_t)*ncols;
            *v = realloc(*v, cap * sizeof **v);
        }
        for (int j = 0; j < *ncols; j++)
            (*v)[(size_t)*nrows * (size_t)*ncols + (size_t)j] =
                sqlite3_column_type(st, j) == SQLITE_NULL ? NAN : sqlite3_column_double(st, j);
        (*nrows)++;
    }
    sqlite3_finalize(st);
    return ok;
}

static bool near(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return fabs(a - b) <= 1e-6 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vnd_parse_conf *conf;
    char *err = NULL;
    if (!conf && vnd_parseconf_parse(vnd_parseconf_flow_default_text, "flow default", &conf,
                                     &err))
        abort();
    const char *tmp = getenv("TMPDIR");
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/vnd-fuzz-ingest.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        abort();
    snprintf(path, sizeof path, "%s/r.db", dir);
    struct vnd_store *st = NULL;
    if (vnd_store_open(path, &st, &err))
        abort();
    struct run R = {vnd_ingest_new(st, conf, 100000, 60), -1, 1700000000, 0};
    struct vnd_trace_opts o = {.id = "rec", .sampling = 1, .presampled = true, .packed = true,
                               .source = "vnd-tabled ipfix"};
    R.trace = vnd_ingest_add_trace(R.ing, &o, &err);
    if (R.trace < 0)
        abort();
    struct vnd_ipfix_cache *c = vnd_ipfix_cache_new(64, 60);
    for (int m = 0; size > 0 && m < 64; m++) {
        uint8_t flags = data[0];
        size_t n = size - 1;
        const uint8_t *p = data + 1;
        if (n >= 2 && flags & 0x80) {
            size_t len = (size_t)p[0] << 8 | p[1];
            p += 2;
            n -= 2;
            if (len < n)
                n = len;
        }
        uint8_t *copy = n ? malloc(n) : NULL;    /* exactly n bytes: ASan sees an overread */
        if (n)
            memcpy(copy, p, n);
        struct vnd_ipfix_counts cnt;
        const char *why = NULL;
        vnd_ipfix_parse(c, flags & 1 ? "exporter-b" : "exporter-a", 10, R.now, copy, n, on_flow,
                        &R, &cnt, &why);
        free(copy);
        if (flags & 0x40 && vnd_ingest_flush(R.ing, &err)) {
            free(err);
            err = NULL;
        }
        R.now += 1;
        size_t used = (size_t)(p - data) + n;
        data += used;
        size -= used;
    }
    vnd_ipfix_cache_free(c);
    if (vnd_ingest_finish_trace(R.ing, R.trace, "complete", NULL, &err)) {
        free(err);
        err = NULL;
    }
    /* the rollup against the records, where spreading them stays small
     * (the records' SQL makes a row a second a record spans) */
    sqlite3 *db = vnd_store_db(st);
    double *a, *b;
    int na, ca, nb, cb;
    bool ra, rb;
    if (R.spread < 20000 && answer(db, false, &a, &na, &ca, &ra)) {
        if (ra && answer(db, true, &b, &nb, &cb, &rb)) {
            if (na != nb || ca != cb)
                abort();
            for (int i = 0; i < na; i++)
                for (int j = 0; j < ca; j++) {
                    double x = a[i * ca + j], y = b[i * cb + j];
                    if (j == 0 || j == ca - 1 ? !(x == y || (isnan(x) && isnan(y)))
                                              : !near(x, y))
                        abort();
                }
            free(b);
        }
        if (getenv("VND_FUZZ_SHOW"))     /* what a seed reaches */
            fprintf(stderr, "# %d slots%s, %.0f s spread\n", na,
                    ra ? ", the rollup's and the records' alike" : ", not from the rollup",
                    R.spread);
        free(a);
    }
    vnd_ingest_free(R.ing);
    vnd_store_close(st);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}
