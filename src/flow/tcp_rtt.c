/* tcp_rtt.c — round-trip times from a TCP trace's rows: the pairing of
 * segments with the ACKs that cover them (tcp_rtt.h), in one pass over
 * the rows in time order.  The rtt app's step (diag/diag_rtt_step.c)
 * drives it over a table; ingest's rollups (ingest/rollup.c) over the
 * rows as they are parsed: the same samples.
 *
 * It computes exactly what the rtt app's SQL (`vnd diag rtt --show-sql`)
 * computes (tests/integration/diag_cli.sh compares the two): per
 * direction, seq unwrapped by signed 32-bit differences from its first
 * segment, ACKs unwrapped from their first ACK and anchored to the data
 * direction's first seq; a segment is a retransmission when it starts
 * below the highest end sent before it; each ACK that first covers some
 * segments gives one sample from the last of them, none when one of them
 * is a retransmission, and segments already covered when sent give none.
 *
 * With ids, copies of one frame (the same direction, id, seq, ack, flags
 * and length within VND_RTT_DUP_WINDOW of the previous one: the frame
 * seen on several interfaces) are left out first, as the SQL's vnd_p
 * does; the keys' table keeps those of the last window when it fills,
 * which bounds its memory to the rows of a few windows.
 *
 * With SACK, an ACK also covers the segments one of its SACK blocks
 * contains (edges unwrapped from the ACK's own ack number), if they were
 * not sent after it.  The rows of one ts take effect as the SQL has them
 * (process_ts): segments first, then the ACK numbers, then what the ACKs
 * of each direction cover, as one ACK.  Segments covered by SACK stay in
 * the heap, marked, until the cumulative ACK passes them; the heap is
 * rebuilt without them when walking past them has cost more than its
 * size. */
#include "flow/tcp_rtt.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/packet.h"

struct seg {
    int64_t e;
    double ts;
    int32_t len;             /* s = e - len */
    int32_t fl;              /* SEG_RETX, SEG_COVERED */
};

_Static_assert(VND_RTT_SACK_MAX == VND_SACK_MAX, "tcp.sack holds VND_SACK_MAX blocks");

#define SEG_RETX 1
#define SEG_COVERED 2        /* by a SACK block: the cumulative ACK skips it */
#define SEG_KIND_SHIFT 2     /* then the kind's code (SYN 2, FIN 1, data 0) */
#define SEG_KIND(fl) ((fl) >> SEG_KIND_SHIFT)

/* A segment's kind code from its flags, as diag_rtt.c's KIND_CODE. */
static int kind_code(int flags)
{
    return (flags & 2) ? 2 : (flags & 1) ? 1 : 0;
}

struct dir {
    const char *label;       /* "src:sport>dst:dport" (the flow's) */
    int idx;                 /* the flow's index */
    struct dir *rev;
    /* as a data direction */
    int have_s0;
    uint32_t s0, last_seq;
    int64_t us, max_e;
    int any_seg;
    struct seg *heap;        /* segments not yet covered, min-heap on e */
    int nheap, capheap;
    /* as the sender of ACKs for the reverse direction */
    int have_a0;
    uint32_t a0, last_ack;
    int64_t cum, max_cum;
    /* with SACK: covered segments still in the heap, and the cost of
     * walking past them since the last rebuild */
    int ncov;
    int64_t wasted;
    /* the rows of one ts: this direction's ACKs have covered (its stamp) */
    unsigned long stamp;
    /* with SACK: the open ACK (ts, running max) and what it covered */
    int gopen, gretx, gn, gkind;
    double gts, glast;
    int64_t gra;
};

/* A row as the step uses it; rows of equal ts wait in a buffer to be
 * put in (seq, ack) order. */
struct row {
    double ts;
    int flow;
    uint32_t seq, ack;
    int ack_null;
    int flags;
    int64_t len;
    int64_t cum;             /* the ACK's unwrapped ack, from its first ACK */
    int nsack;               /* SACK blocks (0 without the column) */
    int id_null;
    int64_t id;
    uint32_t sack[2 * VND_RTT_SACK_MAX];
};

/* The keys of recent rows (this runs on every TCP row, at ingest too):
 * a log of the rows in time order, written in sequence, and an index of 4
 * bytes per key (its log slot, and a tag of its hash above), small enough
 * to stay in cache.  A tag that matches is checked against the key in the
 * log, which holds the key's newest row or a later row.  The log grows while
 * its oldest row is younger than VND_RTT_DUP_WINDOW; the index is built
 * again from the log's rows of the last window when 3/4 full. */
struct dupkey {
    int64_t k[3];
    double ts;
};
struct dupset {
    struct dupkey *log;      /* row number x at log[x & (logcap - 1)] */
    uint32_t logcap, lb;     /* logcap = 1 << lb */
    uint32_t head;           /* the next row's number (mod 2^32) */
    uint64_t rows;           /* rows appended */
    uint32_t *ix;            /* tag | slot; 0 empty (tags have bit lb set) */
    size_t cap, n;
};

struct state {
    struct vnd_flows fl;
    vnd_rtt_emit emit;       /* where samples go */
    void *arg;
    struct row *buf;         /* the rows of the current ts */
    size_t nb, capb;
    bool ids;                /* the table has an id column */
    struct dupset dup;
    struct dir **dirs;       /* by flow index; NULL: not seen as a direction */
    size_t n;                /* dirs in use (flows) */
    size_t capdirs;
    bool sack;               /* the table has a sack column */
    int *stack;              /* heap walk */
    size_t capstack;
    unsigned long stamp;     /* counts the timestamps processed */
};

static int64_t seqdiff(int64_t x)
{
    int64_t m = ((x % 4294967296LL) + 4294967296LL + 2147483648LL) % 4294967296LL;
    return m - 2147483648LL;
}

/* The direction of flow f, made on first sight and linked to its reverse. */
static struct dir *dir_of(struct state *S, int f)
{
    if ((size_t)f >= S->capdirs) {
        size_t cap = S->capdirs ? 2 * S->capdirs : 64;
        while (cap <= (size_t)f)
            cap *= 2;
        S->dirs = realloc(S->dirs, cap * sizeof *S->dirs);
        if (!S->dirs)
            abort();
        memset(S->dirs + S->capdirs, 0, (cap - S->capdirs) * sizeof *S->dirs);
        S->capdirs = cap;
    }
    if ((size_t)f >= S->n)
        S->n = (size_t)f + 1;
    struct dir *d = S->dirs[f];
    if (d)
        return d;
    d = calloc(1, sizeof *d);
    if (!d)
        abort();
    S->dirs[f] = d;
    d->idx = f;
    d->label = S->fl.f[f].label;
    int r = vnd_flows_rev(&S->fl, f);
    if (r >= 0 && (size_t)r < S->capdirs && S->dirs[r]) {
        d->rev = S->dirs[r];
        d->rev->rev = d;
    }
    return d;
}

static void heap_push(struct dir *d, struct seg s)
{
    if (d->nheap == d->capheap) {
        d->capheap = d->capheap ? 2 * d->capheap : 64;
        d->heap = realloc(d->heap, (size_t)d->capheap * sizeof *d->heap);
        if (!d->heap)
            abort();
    }
    int i = d->nheap++;
    while (i > 0 && d->heap[(i - 1) / 2].e > s.e) {
        d->heap[i] = d->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    d->heap[i] = s;
}

static struct seg heap_pop(struct dir *d)
{
    struct seg top = d->heap[0], last = d->heap[--d->nheap];
    int i = 0;
    for (;;) {
        int l = 2 * i + 1, m = i;
        int64_t best = last.e;
        if (l < d->nheap && d->heap[l].e < best)
            m = l, best = d->heap[l].e;
        if (l + 1 < d->nheap && d->heap[l + 1].e < best)
            m = l + 1;
        if (m == i)
            break;
        d->heap[i] = d->heap[m];
        i = m;
    }
    if (d->nheap)
        d->heap[i] = last;
    return top;
}

/* The running maximum of the ACKs `a` sent for data direction `d`, in d's
 * unwrapped sequence space (valid when both have begun). */
static int64_t ack_ra(const struct dir *d, const struct dir *a)
{
    return seqdiff((int64_t)a->a0 - (int64_t)d->s0) + a->max_cum;
}


static void add_sample(struct state *S, int flow, double last, double ts, int kind)
{
    S->emit(S->arg, flow, last, ts, kind);
}

int vnd_rtt_sack_parse(const char *txt, uint32_t edges[2 * VND_RTT_SACK_MAX])
{
    if (!txt)
        return 0;
    int n = 0;
    const char *p = txt;
    for (;;) {
        for (int k = 0; k < 2; k++) {
            uint64_t v = 0;
            int digits = 0;
            while (*p >= '0' && *p <= '9' && digits <= 10) {
                v = 10 * v + (uint64_t)(*p++ - '0');
                digits++;
            }
            if (!digits || digits > 10 || v > UINT32_MAX)
                return 0;
            edges[2 * n + k] = (uint32_t)v;
            if (k == 0 && *p++ != '-')
                return 0;
        }
        n++;
        if (!*p)
            return n;
        if (*p++ != ',' || n == VND_RTT_SACK_MAX)
            return 0;
    }
}

/* The ACK d sent for r, keyed (ts, ra), covers sg: into d's open ACK. */
static void group_add(struct state *S, struct dir *d, double ts, int64_t ra,
                      const struct seg *sg)
{
    if (d->gopen && (d->gts != ts || d->gra != ra)) {
        if (!d->gretx)
            add_sample(S, d->rev->idx, d->glast, d->gts, d->gkind);
        d->gopen = 0;
    }
    if (!d->gopen) {
        d->gopen = 1;
        d->gts = ts;
        d->gra = ra;
        d->glast = -INFINITY;
        d->gretx = d->gn = d->gkind = 0;
    }
    d->glast = sg->ts > d->glast ? sg->ts : d->glast;
    d->gretx |= sg->fl & SEG_RETX;
    if (SEG_KIND(sg->fl) > d->gkind)
        d->gkind = SEG_KIND(sg->fl);
    d->gn++;
}

static void sift_down(struct dir *d, int i)
{
    struct seg x = d->heap[i];
    for (;;) {
        int l = 2 * i + 1, m = l;
        if (l >= d->nheap)
            break;
        if (l + 1 < d->nheap && d->heap[l + 1].e < d->heap[l].e)
            m = l + 1;
        if (d->heap[m].e >= x.e)
            break;
        d->heap[i] = d->heap[m];
        i = m;
    }
    d->heap[i] = x;
}

/* Lets the lower half (by e) of d's segments go, in linear time: a
 * quickselect puts the half to keep at the top of the array, which then
 * becomes the heap.  Once every VND_RTT_OPEN_MAX / 2 segments at most,
 * where a pop for each push cost the parser as much as all else per row. */
static void heap_halve(struct dir *d)
{
    struct seg *h = d->heap;
    int n = d->nheap, k = n / 2, lo = 0, hi = n - 1;
    while (lo < hi) {                   /* h[k] the k-th smallest e */
        int64_t pivot = h[lo + (hi - lo) / 2].e;
        int i = lo, j = hi;
        while (i <= j) {
            while (h[i].e < pivot)
                i++;
            while (h[j].e > pivot)
                j--;
            if (i <= j) {
                struct seg t = h[i];
                h[i++] = h[j];
                h[j--] = t;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
    memmove(h, h + k, (size_t)(n - k) * sizeof *h);
    d->nheap = n - k;
    d->ncov = 0;
    for (int i = 0; i < d->nheap; i++)
        d->ncov += (h[i].fl & SEG_COVERED) != 0;
    d->wasted = 0;
    for (int i = d->nheap / 2 - 1; i >= 0; i--)
        sift_down(d, i);
}

/* Drops the SACK-covered segments from r's heap. */
static void heap_rebuild(struct dir *r)
{
    int n = 0;
    for (int i = 0; i < r->nheap; i++)
        if (!(r->heap[i].fl & SEG_COVERED))
            r->heap[n++] = r->heap[i];
    r->nheap = n;
    for (int i = n / 2 - 1; i >= 0; i--)
        sift_down(r, i);
    r->ncov = 0;
    r->wasted = 0;
}

/* The segments of d->rev that d's ACKs up to ts cover cumulatively: one
 * sample without SACK, into d's open ACK with it. */
static void cover_cum(struct state *S, struct dir *d, double ts)
{
    struct dir *r = d->rev;
    if (!r || !r->nheap)
        return;
    int64_t ra = ack_ra(r, d);
    double last = -INFINITY;
    int retx = 0, n = 0, kind = 0;
    while (r->nheap && r->heap[0].e <= ra) {
        struct seg sg = heap_pop(r);
        if (!S->sack) {
            last = sg.ts > last ? sg.ts : last;
            retx |= sg.fl & SEG_RETX;
            kind = SEG_KIND(sg.fl) > kind ? SEG_KIND(sg.fl) : kind;
            n++;
        } else if (sg.fl & SEG_COVERED) {
            r->ncov--;
        } else {
            group_add(S, d, ts, ra, &sg);
        }
    }
    if (n && !retx)
        add_sample(S, r->idx, last, ts, kind);
}

/* The segments of r = d->rev (sent at or before the ACK rw) that one of
 * rw's SACK blocks contains, into d's open ACK (ts, running max). */
static void cover_sack(struct state *S, struct dir *d, const struct row *rw)
{
    struct dir *r = d->rev;
    if (!r || !r->nheap)
        return;
    double ts = rw->ts;
    int64_t ra = ack_ra(r, d);
    /* blocks in r's unwrapped space, from this ACK's own ack number; those
     * at or below the cumulative ACK (D-SACK) cover nothing new */
    int64_t bl[VND_RTT_SACK_MAX], br[VND_RTT_SACK_MAX], maxr = INT64_MIN;
    int nb = 0;
    int64_t ua = seqdiff((int64_t)d->a0 - (int64_t)r->s0) + rw->cum;
    for (int i = 0; i < rw->nsack; i++) {
        int64_t l = ua + seqdiff((int64_t)rw->sack[2 * i] - (int64_t)rw->ack);
        int64_t h = ua + seqdiff((int64_t)rw->sack[2 * i + 1] - (int64_t)rw->ack);
        if (h <= ra || h <= l)
            continue;
        bl[nb] = l;
        br[nb++] = h;
        maxr = h > maxr ? h : maxr;
    }
    if (!nb)
        return;
    /* walk the heap where e <= maxr (children never end earlier) */
    if (S->capstack < (size_t)r->nheap) {
        S->capstack = (size_t)r->nheap * 2;
        S->stack = realloc(S->stack, S->capstack * sizeof *S->stack);
        if (!S->stack)
            abort();
    }
    size_t top = 0;
    S->stack[top++] = 0;
    while (top) {
        int i = S->stack[--top];
        struct seg *sg = &r->heap[i];
        if (sg->e > maxr)
            continue;
        if (sg->fl & SEG_COVERED) {
            r->wasted++;
        } else if (sg->ts <= ts) {
            int64_t s = sg->e - sg->len;
            for (int k = 0; k < nb; k++)
                if (bl[k] <= s && sg->e <= br[k]) {
                    sg->fl |= SEG_COVERED;
                    r->ncov++;
                    group_add(S, d, ts, ra, sg);
                    break;
                }
        }
        /* each element is pushed once, by its parent: nheap suffices */
        if (2 * i + 1 < r->nheap)
            S->stack[top++] = 2 * i + 1;
        if (2 * i + 2 < r->nheap)
            S->stack[top++] = 2 * i + 2;
    }
    if (r->ncov && r->wasted > r->nheap)
        heap_rebuild(r);
}

/* The direction of a row; NULL for NULL ports and addresses, which join
 * nothing in the SQL either. */
static struct dir *row_dir(struct state *S, const struct row *rw)
{
    const struct vnd_flow *fw = &S->fl.f[rw->flow];
    if (!fw->src || !fw->dst || fw->nulls)
        return NULL;
    return dir_of(S, rw->flow);
}

/* A row as data of its direction d: seq unwrapped, a segment kept unless
 * ACKs of earlier timestamps cover it already. */
static void process_data(struct state *S, const struct row *rw)
{
    struct dir *d = row_dir(S, rw);
    if (!d)
        return;
    double ts = rw->ts;
    uint32_t seq = rw->seq;
    int64_t len = rw->len;
    if (!d->have_s0) {
        d->have_s0 = 1;
        d->s0 = d->last_seq = seq;
    } else {
        d->us += seqdiff((int64_t)seq - (int64_t)d->last_seq);
        d->last_seq = seq;
    }
    if (len > 0) {
        struct seg sg = {d->us + len, ts, (int32_t)len,
                         (d->any_seg && d->us < d->max_e ? SEG_RETX : 0)
                             | kind_code(rw->flags) << SEG_KIND_SHIFT};
        if (!d->any_seg || sg.e > d->max_e)
            d->max_e = sg.e;
        d->any_seg = 1;
        /* first covered before it was sent: no ACK claims it */
        if (!(d->rev && d->rev->have_a0 && sg.e <= ack_ra(d, d->rev))) {
            if (d->nheap >= VND_RTT_OPEN_MAX)
                heap_halve(d);
            heap_push(d, sg);
        }
    }
}

/* A row as an ACK d sends for d->rev: ack unwrapped (into rw->cum). */
static void process_ack(struct state *S, struct row *rw)
{
    if (!(rw->flags & 16))
        return;
    struct dir *d = row_dir(S, rw);
    if (!d)
        return;
    uint32_t ack = rw->ack;
    if (!d->have_a0) {
        d->have_a0 = 1;
        d->a0 = d->last_ack = ack;
    } else {
        d->cum += seqdiff((int64_t)ack - (int64_t)d->last_ack);
        d->last_ack = ack;
        if (d->cum > d->max_cum)
            d->max_cum = d->cum;
    }
    rw->cum = d->cum;
}

/* The rows of one timestamp, in (seq, ack) order.  Their capture order is
 * unknown, so: every segment counts as sent before every ACK (an ACK can
 * cover a segment of its own ts, as it must have followed the segment if
 * it covers new data), and the ACKs of one direction are one ACK, with
 * the highest ack among them. */
static void process_ts(struct state *S, struct row *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        process_data(S, &b[i]);
    for (size_t i = 0; i < n; i++)
        process_ack(S, &b[i]);
    S->stamp++;
    for (size_t i = 0; i < n; i++) {
        if (!(b[i].flags & 16))
            continue;
        struct dir *d = row_dir(S, &b[i]);
        if (!d)
            continue;
        if (d->stamp != S->stamp) {
            d->stamp = S->stamp;
            cover_cum(S, d, b[i].ts);
        }
        if (S->sack)
            cover_sack(S, d, &b[i]);
    }
}

/* The ACKs still open at the end of the rows (SACK only). */
static void flush_groups(struct state *S)
{
    for (size_t i = 0; i < S->n; i++) {
        struct dir *d = S->dirs[i];
        if (d && d->gopen && !d->gretx)
            add_sample(S, d->rev->idx, d->glast, d->gts, d->gkind);
        if (d)
            d->gopen = 0;
    }
}

static uint64_t dup_hash(const int64_t k[3])
{
    uint64_t h = (uint64_t)k[0] * 0x9e3779b97f4a7c15ULL;
    h = (h ^ (uint64_t)k[1]) * 0xff51afd7ed558ccdULL;
    h = (h ^ (h >> 29) ^ (uint64_t)k[2]) * 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 29);
}

static uint32_t dup_tag(const struct dupset *d, uint64_t h)
{
    return ((uint32_t)(h >> 32) | 1u << d->lb) & ~(d->logcap - 1);
}

/* The index entry of key k (hash h), or the empty one where it goes. */
static uint32_t *dup_find(struct dupset *d, const int64_t k[3], uint64_t h)
{
    uint32_t tag = dup_tag(d, h), slot = d->logcap - 1;
    size_t j = h & (d->cap - 1);
    for (; d->ix[j]; j = (j + 1) & (d->cap - 1))
        if ((d->ix[j] & ~slot) == tag && !memcmp(d->log[d->ix[j] & slot].k, k, 3 * sizeof *k))
            break;
    return &d->ix[j];
}

/* The index again, from the log's rows of the last window before `now`. */
static void dup_rebuild(struct dupset *d, double now)
{
    uint32_t live = 0;
    while (live < d->logcap && live < d->rows
           && now - d->log[(d->head - 1 - live) & (d->logcap - 1)].ts < VND_RTT_DUP_WINDOW)
        live++;
    size_t cap = 1024;
    while (cap < 2 * (size_t)live + 1024)
        cap *= 2;
    if (cap != d->cap) {
        free(d->ix);
        d->ix = malloc(cap * sizeof *d->ix);
        if (!d->ix)
            abort();
        d->cap = cap;
    }
    memset(d->ix, 0, cap * sizeof *d->ix);
    d->n = 0;
    for (uint32_t x = d->head - live; x != d->head; x++) {
        uint32_t sl = x & (d->logcap - 1);
        uint64_t h = dup_hash(d->log[sl].k);
        uint32_t *e = dup_find(d, d->log[sl].k, h);
        d->n += !*e;
        *e = dup_tag(d, h) | sl;
    }
}

/* Appends a row to the log, grown first (and the index rebuilt) when its
 * oldest row, which would go, is younger than the window.  Its slot. */
static uint32_t dup_append(struct dupset *d, const int64_t k[3], double ts)
{
    if (d->rows >= d->logcap
        && (!d->logcap || ts - d->log[d->head & (d->logcap - 1)].ts < VND_RTT_DUP_WINDOW)) {
        uint32_t lb = d->logcap ? d->lb + 1 : 12, cap = 1u << lb;
        struct dupkey *log = malloc((size_t)cap * sizeof *log);
        if (!log)
            abort();
        for (uint32_t x = d->head - d->logcap; x != d->head; x++)
            log[x & (cap - 1)] = d->log[x & (d->logcap - 1)];
        free(d->log);
        d->log = log;
        d->logcap = cap;
        d->lb = lb;
        dup_rebuild(d, ts);
    }
    uint32_t sl = d->head++ & (d->logcap - 1);
    memcpy(d->log[sl].k, k, sizeof d->log[sl].k);
    d->log[sl].ts = ts;
    d->rows++;
    return sl;
}

/* The key of a row in the copies' table. */
static void dup_key(int64_t k[3], int flow, int64_t id, uint32_t seq, uint32_t ack, int ack_null,
                    int flags, int64_t len)
{
    k[0] = (int64_t)flow + 1;
    k[1] = (int64_t)((uint64_t)id << 32 | seq);
    k[2] = (int64_t)((uint64_t)ack << 32 | (uint64_t)ack_null << 31 | (uint64_t)(flags & 0xff) << 23
                     | (uint64_t)(len & 0x7fffff));
}

/* True when rw is a copy of a row less than VND_RTT_DUP_WINDOW before it. */
static bool is_copy(struct state *S, const struct row *rw)
{
    if (!S->ids || rw->id_null || rw->id == 0)
        return false;
    struct dupset *d = &S->dup;
    int64_t k[3];
    dup_key(k, rw->flow, rw->id, rw->seq, rw->ack, rw->ack_null, rw->flags, rw->len);
    uint64_t h = dup_hash(k);
    if (4 * (d->n + 1) > 3 * d->cap)
        dup_rebuild(d, rw->ts);
    /* the key's newest row: the log holds it still (or one of the same
     * key, later) when it is within the window */
    uint32_t *e = dup_find(d, k, h);
    bool copy = *e && rw->ts - d->log[*e & (d->logcap - 1)].ts < VND_RTT_DUP_WINDOW;
    uint32_t logcap = d->logcap, sl = dup_append(d, k, rw->ts);
    if (d->logcap != logcap)        /* grown: the index was built again */
        e = dup_find(d, k, h);
    d->n += !*e;
    *e = dup_tag(d, h) | sl;
    return copy;
}

static void state_free(struct state *S)
{
    free(S->dup.ix);
    free(S->dup.log);
    for (size_t i = 0; i < S->n; i++)
        if (S->dirs[i]) {
            free(S->dirs[i]->heap);
            free(S->dirs[i]);
        }
    free(S->dirs);
    free(S->buf);
    free(S->stack);
    vnd_flows_free(&S->fl);
    memset(S, 0, sizeof *S);
}

/* (seq, ack) with a NULL ack first: the SQL's ORDER BY within one ts */
static int row_before(const struct row *a, const struct row *b)
{
    if (a->seq != b->seq)
        return a->seq < b->seq;
    if (a->ack_null != b->ack_null)
        return a->ack_null;
    return !a->ack_null && a->ack < b->ack;
}

/* Stable insertion sort of the rows of one timestamp (a handful). */
static void sort_tie(struct row *b, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct row x = b[i];
        size_t j = i;
        while (j > 0 && row_before(&x, &b[j - 1])) {
            b[j] = b[j - 1];
            j--;
        }
        b[j] = x;
    }
}

/* ---- the machine: rows in, samples out ---- */

struct vnd_rtt_machine {
    struct state S;
};

struct vnd_rtt_machine *vnd_rtt_machine_new(bool ids, bool sack, vnd_rtt_emit emit, void *arg)
{
    struct vnd_rtt_machine *m = calloc(1, sizeof *m);
    if (!m)
        abort();
    m->S.ids = ids;
    m->S.sack = sack;
    m->S.emit = emit;
    m->S.arg = arg;
    return m;
}

void vnd_rtt_machine_prefetch(const struct vnd_rtt_machine *m, const struct vnd_rtt_in *in)
{
    const struct dupset *d = &m->S.dup;
    if (!m->S.ids || in->id_null || in->id == 0 || !d->cap)
        return;
    int64_t k[3];
    dup_key(k, in->flow, in->id, in->seq, in->ack, in->ack_null, in->flags, in->len);
    __builtin_prefetch(&d->ix[dup_hash(k) & (d->cap - 1)]);
}

struct vnd_flows *vnd_rtt_machine_flows(struct vnd_rtt_machine *m)
{
    return &m->S.fl;
}

int vnd_rtt_machine_row(struct vnd_rtt_machine *m, const struct vnd_rtt_in *in)
{
    struct state *S = &m->S;
    if (isnan(in->ts) || (S->nb && in->ts < S->buf[0].ts))
        return VND_RTT_OUT_OF_ORDER;
    if (S->nb && in->ts != S->buf[0].ts) {
        sort_tie(S->buf, S->nb);
        process_ts(S, S->buf, S->nb);
        S->nb = 0;
    }
    if (S->nb == S->capb) {
        S->capb = S->capb ? 2 * S->capb : 64;
        S->buf = realloc(S->buf, S->capb * sizeof *S->buf);
        if (!S->buf)
            abort();
    }
    /* filled in place (the SACK edges only when there are some) */
    struct row *rw = &S->buf[S->nb];
    rw->ts = in->ts;
    rw->flow = in->flow;
    rw->seq = in->seq;
    rw->ack = in->ack;
    rw->ack_null = in->ack_null;
    rw->flags = in->flags;
    rw->len = in->len;
    rw->cum = 0;
    rw->id_null = in->id_null;
    rw->id = in->id;
    rw->nsack = S->sack && (in->flags & 16) ? vnd_rtt_sack_parse(in->sack, rw->sack) : 0;
    if (!is_copy(S, rw))
        S->nb++;
    return 0;
}

void vnd_rtt_machine_end(struct vnd_rtt_machine *m)
{
    struct state *S = &m->S;
    sort_tie(S->buf, S->nb);
    process_ts(S, S->buf, S->nb);
    S->nb = 0;
    flush_groups(S);
}

void vnd_rtt_machine_free(struct vnd_rtt_machine *m)
{
    if (!m)
        return;
    state_free(&m->S);
    free(m);
}
