/* test_ddsketch.c — DDSketch (util/ddsketch.h): every quantile of random
 * data within alpha of the exact nearest-rank one, merging equal to
 * sketching the union, the serialized form read back (whole and in
 * parts) and malformed forms refused at every length; the SQL functions
 * over a column of sketches. */
#include "../tap.h"

#include <math.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lang/sqlfuncs.h"
#include "util/ddsketch.h"

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The exact nearest-rank quantile of sorted v, as the apps' SQL takes it. */
static double exact(const double *v, size_t n, double q)
{
    double r = ceil(q * (double)n);
    size_t k = r < 1 ? 1 : (size_t)r;
    return v[k - 1];
}

static uint64_t rng = 88172645463325252ULL;
static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* RTT-like values: log-normal around 1 ms, 5% of them 100x slower, some 0 */
static double rtt_like(void)
{
    double u = uniform();
    if (u < 0.02)
        return 0;
    double z = sqrt(-2 * log(uniform() + 1e-300)) * cos(2 * M_PI * uniform());
    double v = 1e-3 * exp(0.8 * z);
    return u > 0.95 ? v * 100 : v;
}

static void test_bound(void)
{
    const size_t n = 200000;
    double *v = malloc(n * sizeof *v);
    struct vnd_dds a, b, all;
    vnd_dds_init(&a, VND_DDS_ALPHA_PERMILLE);
    vnd_dds_init(&b, VND_DDS_ALPHA_PERMILLE);
    vnd_dds_init(&all, VND_DDS_ALPHA_PERMILLE);
    for (size_t i = 0; i < n; i++) {
        v[i] = rtt_like();
        vnd_dds_add(i % 3 ? &a : &b, v[i]);
        vnd_dds_add(&all, v[i]);
    }
    qsort(v, n, sizeof *v, cmp_d);
    double alpha = VND_DDS_ALPHA_PERMILLE / 1000.0, worst = 0;
    int bad = 0;
    for (int k = 0; k <= 1000; k++) {
        double q = k / 1000.0, e = exact(v, n, q), s = vnd_dds_quantile(&all, q);
        double rel = e == 0 ? (s == 0 ? 0 : INFINITY) : fabs(s - e) / e;
        worst = rel > worst ? rel : worst;
        bad += rel > alpha + 1e-12;
    }
    CHECK(bad == 0, "every q-quantile (q = 0, 0.001, ..., 1) of %zu values within alpha = %g of"
                    " the exact one (worst %.5f)", n, alpha, worst);
    CHECK(all.nb < 1000, "%d bins for values over 7 decades", all.nb);
    /* merge = sketch of the union, bin for bin */
    CHECK(vnd_dds_merge(&a, &b) == 0, "merge of sketches of one alpha");
    bool eq = a.count == all.count && a.zeros == all.zeros && a.nb == all.nb;
    for (int i = 0; eq && i < a.nb; i++)
        eq = a.b[i].idx == all.b[i].idx && a.b[i].n == all.b[i].n;
    CHECK(eq, "the merge of the sketches of two parts is the sketch of the whole");
    struct vnd_dds other;
    vnd_dds_init(&other, 20);
    vnd_dds_add(&other, 1.0);
    CHECK(vnd_dds_merge(&a, &other) == -1, "a sketch of another alpha does not merge");
    CHECK(vnd_dds_add(&a, -1) == -1 && vnd_dds_add(&a, NAN) == -1 && a.count == all.count,
          "negative and NaN values are refused, not counted");
    CHECK(isnan(vnd_dds_quantile(&other, 2)) == 0 && vnd_dds_quantile(&other, 0.5) >= 0.98 - 1e-12
              && vnd_dds_quantile(&other, 0.5) < 1.02,
          "one value: every quantile is it, within alpha");
    vnd_dds_free(&other);

    /* the serialized form: whole, and in parts whose merge is the whole */
    size_t len;
    uint8_t *p = vnd_dds_encode(&all, &len);
    struct vnd_dds back;
    CHECK(vnd_dds_decode(&back, p, len) == 0 && back.count == all.count && back.nb == all.nb
              && vnd_dds_quantile(&back, 0.99) == vnd_dds_quantile(&all, 0.99),
          "encode, decode: the same sketch (%zu bytes for %d bins)", len, all.nb);
    vnd_dds_free(&back);
    int bad_len = 0;
    for (size_t k = 0; k < len; k++) {
        struct vnd_dds t;
        bad_len += vnd_dds_decode(&t, p, k) == 0;
        vnd_dds_free(&t);
    }
    CHECK(bad_len == 0, "every truncation of the form is refused");
    struct vnd_dds t;
    uint8_t bad1[] = {'D', 'D', 2, 10, 0, 0};
    uint8_t bad2[] = {'D', 'D', 1, 10, 0, 2, 2, 1, 0, 1};      /* index not increasing */
    uint8_t bad3[] = {'D', 'D', 1, 10, 0, 1, 2, 0};            /* an empty bin */
    CHECK(vnd_dds_decode(&t, bad1, sizeof bad1) == -1 && vnd_dds_decode(&t, bad2, sizeof bad2) == -1
              && vnd_dds_decode(&t, bad3, sizeof bad3) == -1,
          "another version, indexes out of order, an empty bin: refused");
    vnd_dds_free(&t);
    free(p);
    uint8_t part[200];
    struct vnd_dds sum;
    vnd_dds_init(&sum, VND_DDS_ALPHA_PERMILLE);
    int from = 0, parts = 0, okp = 1;
    while (from < all.nb || parts == 0) {
        size_t m = vnd_dds_encode_part(&all, &from, part, sizeof part);
        okp &= m > 0 && vnd_dds_merge_encoded(&sum, part, m) == 0;
        parts++;
        if (!m)
            break;
    }
    eq = okp && sum.count == all.count && sum.nb == all.nb;
    for (int i = 0; eq && i < sum.nb; i++)
        eq = sum.b[i].idx == all.b[i].idx && sum.b[i].n == all.b[i].n;
    CHECK(eq, "%d parts of at most %zu bytes merge to the whole", parts, sizeof part);
    vnd_dds_free(&sum);
    vnd_dds_free(&a);
    vnd_dds_free(&b);
    vnd_dds_free(&all);
    free(v);
}

/* Past VND_DDS_MAX_BINS the lowest bins fold: the count stays, the top
 * quantiles keep the bound. */
static void test_collapse(void)
{
    struct vnd_dds s;
    vnd_dds_init(&s, VND_DDS_ALPHA_PERMILLE);
    for (int i = 0; i < 5000; i++)
        vnd_dds_add(&s, pow(1.03, i - 2500));
    CHECK(s.nb <= VND_DDS_MAX_BINS && s.count == 5000, "collapsed to %d bins, 5000 values", s.nb);
    double e = pow(1.03, 4949 - 2500), q = vnd_dds_quantile(&s, 0.99);
    CHECK(fabs(q - e) / e <= 0.01 + 1e-12, "p99 after collapsing within alpha (%g vs %g)", q, e);
    vnd_dds_free(&s);
}

static void test_sql(void)
{
    sqlite3 *db;
    sqlite3_open(":memory:", &db);
    CHECK(vnd_sql_register_functions(db) == SQLITE_OK, "functions registered");
    sqlite3_exec(db, "CREATE TABLE k (g INTEGER, s BLOB)", NULL, NULL, NULL);
    sqlite3_stmt *ins;
    sqlite3_prepare_v2(db, "INSERT INTO k VALUES (?, ?)", -1, &ins, NULL);
    double v[300];
    for (int g = 0; g < 3; g++) {
        struct vnd_dds s;
        vnd_dds_init(&s, VND_DDS_ALPHA_PERMILLE);
        for (int i = 0; i < 100; i++) {
            v[g * 100 + i] = 0.001 * (1 + g * 100 + i);
            vnd_dds_add(&s, v[g * 100 + i]);
        }
        size_t n;
        uint8_t *p = vnd_dds_encode(&s, &n);
        sqlite3_bind_int(ins, 1, g);
        sqlite3_bind_blob(ins, 2, p, (int)n, free);
        sqlite3_step(ins);
        sqlite3_reset(ins);
        vnd_dds_free(&s);
    }
    sqlite3_finalize(ins);
    sqlite3_exec(db, "INSERT INTO k VALUES (9, NULL)", NULL, NULL, NULL);
    sqlite3_stmt *q;
    sqlite3_prepare_v2(db, "SELECT vnd_dds_quantile(vnd_dds_merge(s), 0.5),"
                           " vnd_dds_quantile(vnd_dds_merge(s), 0.99) FROM k", -1, &q, NULL);
    CHECK(sqlite3_step(q) == SQLITE_ROW, "merge and quantile run");
    double p50 = sqlite3_column_double(q, 0), p99 = sqlite3_column_double(q, 1);
    CHECK(fabs(p50 - exact(v, 300, 0.5)) / exact(v, 300, 0.5) <= 0.01
              && fabs(p99 - exact(v, 300, 0.99)) / exact(v, 300, 0.99) <= 0.01,
          "SQL: p50 %g, p99 %g of three sketches merged, within 1%% of 0.15, 0.297", p50, p99);
    sqlite3_finalize(q);
    char *err = NULL;
    int rc = sqlite3_exec(db, "SELECT vnd_dds_quantile(x'00', 0.5)", NULL, NULL, &err);
    CHECK(rc != SQLITE_OK && err && strstr(err, "not a sketch"), "a BLOB that is no sketch: %s",
          err ? err : "no error");
    sqlite3_free(err);
    sqlite3_close(db);
}

int main(void)
{
    test_bound();
    test_collapse();
    test_sql();
    return tap_done();
}
