/* metrics.c — counters, gauges, histograms; the text exposition format. */
#include "daemon/metrics.h"

#include <math.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/util.h"

enum kind { COUNTER, GAUGE, HISTOGRAM };
static const char *const kind_name[] = {"counter", "gauge", "histogram"};

#define HASH_SIZE 64

struct series {
    struct series *chain;        /* same hash bucket */
    char *key;                   /* the label values joined by \x1f */
    char **values;
    double value;                /* counter, gauge */
    double sum;                  /* histogram */
    uint64_t count;
    uint64_t *in_bucket;         /* observations per bucket (not cumulative), +Inf last */
};

struct vnd_metric {
    struct vnd_metrics *reg;
    enum kind kind;
    char *name, *help;
    char **labels;
    int nlabels;
    double *bounds;
    int nbounds;
    struct series **v;           /* creation order: the rendering order */
    int n, cap;
    struct series *hash[HASH_SIZE];
};

struct collector {
    vnd_metrics_collect_fn fn;
    void *ctx;
};

struct vnd_metrics {
    pthread_mutex_t lock;        /* every family and series */
    pthread_mutex_t scrape;      /* one scrape at a time (collect + render) */
    struct vnd_metric **m;
    int n;
    struct collector *coll;
    int ncoll;
};

static const double default_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                         0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

struct vnd_metrics *vnd_metrics_new(void)
{
    struct vnd_metrics *reg = vnd_xcalloc(1, sizeof *reg);
    pthread_mutex_init(&reg->lock, NULL);
    pthread_mutex_init(&reg->scrape, NULL);
    return reg;
}

static void series_free(struct series *s, int nlabels)
{
    for (int i = 0; i < nlabels; i++)
        free(s->values[i]);
    free(s->values);
    free(s->key);
    free(s->in_bucket);
    free(s);
}

static void clear_locked(struct vnd_metric *m)
{
    for (int i = 0; i < m->n; i++)
        series_free(m->v[i], m->nlabels);
    m->n = 0;
    memset(m->hash, 0, sizeof m->hash);
}

void vnd_metrics_free(struct vnd_metrics *reg)
{
    if (!reg)
        return;
    for (int i = 0; i < reg->n; i++) {
        struct vnd_metric *m = reg->m[i];
        clear_locked(m);
        free(m->v);
        for (int k = 0; k < m->nlabels; k++)
            free(m->labels[k]);
        free(m->labels);
        free(m->bounds);
        free(m->name);
        free(m->help);
        free(m);
    }
    free(reg->m);
    free(reg->coll);
    pthread_mutex_destroy(&reg->lock);
    pthread_mutex_destroy(&reg->scrape);
    free(reg);
}

static struct vnd_metric *family(struct vnd_metrics *reg, enum kind kind, const char *name,
                                 const char *help, const char *labels)
{
    if (!reg)
        return NULL;
    struct vnd_metric *m = vnd_xcalloc(1, sizeof *m);
    m->reg = reg;
    m->kind = kind;
    m->name = vnd_xstrdup(name);
    m->help = vnd_xstrdup(help);
    for (const char *p = labels; p && *p;) {
        size_t n = strcspn(p, ",");
        m->labels = vnd_xrealloc(m->labels, (size_t)(m->nlabels + 1) * sizeof *m->labels);
        m->labels[m->nlabels++] = vnd_xstrndup(p, n);
        p += n + (p[n] == ',');
    }
    pthread_mutex_lock(&reg->lock);
    reg->m = vnd_xrealloc(reg->m, (size_t)(reg->n + 1) * sizeof *reg->m);
    reg->m[reg->n++] = m;
    pthread_mutex_unlock(&reg->lock);
    return m;
}

static struct series *series_get(struct vnd_metric *m, va_list ap);

/* A family without labels has its one series from the start, so it is
 * rendered (as 0) before its first update. */
static struct vnd_metric *with_default_series(struct vnd_metric *m, ...)
{
    if (m && m->nlabels == 0) {
        va_list ap;
        va_start(ap, m);
        pthread_mutex_lock(&m->reg->lock);
        series_get(m, ap);
        pthread_mutex_unlock(&m->reg->lock);
        va_end(ap);
    }
    return m;
}

struct vnd_metric *vnd_metrics_counter(struct vnd_metrics *reg, const char *name,
                                       const char *help, const char *labels)
{
    return with_default_series(family(reg, COUNTER, name, help, labels));
}

struct vnd_metric *vnd_metrics_gauge(struct vnd_metrics *reg, const char *name,
                                     const char *help, const char *labels)
{
    return with_default_series(family(reg, GAUGE, name, help, labels));
}

struct vnd_metric *vnd_metrics_histogram(struct vnd_metrics *reg, const char *name,
                                         const char *help, const char *labels,
                                         const double *buckets, int nbuckets)
{
    struct vnd_metric *m = family(reg, HISTOGRAM, name, help, labels);
    if (!m)
        return NULL;
    if (!buckets) {
        buckets = default_buckets;
        nbuckets = (int)(sizeof default_buckets / sizeof *default_buckets);
    }
    m->bounds = vnd_xcalloc((size_t)nbuckets, sizeof *m->bounds);
    memcpy(m->bounds, buckets, (size_t)nbuckets * sizeof *buckets);
    m->nbounds = nbuckets;
    return with_default_series(m);
}

static unsigned hash_key(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % HASH_SIZE;
}

/* The series of the label values in `ap` (made if new); lock held. */
static struct series *series_get(struct vnd_metric *m, va_list ap)
{
    const char *vals[16];
    size_t klen = 1;
    int nl = m->nlabels < 16 ? m->nlabels : 16;
    for (int i = 0; i < nl; i++) {
        vals[i] = va_arg(ap, const char *);
        if (!vals[i])
            vals[i] = "";
        klen += strlen(vals[i]) + 1;
    }
    char stack[256];
    char *key = klen <= sizeof stack ? stack : vnd_xmalloc(klen);
    size_t off = 0;
    key[0] = '\0';
    for (int i = 0; i < nl; i++) {
        size_t l = strlen(vals[i]);
        memcpy(key + off, vals[i], l);
        off += l;
        key[off++] = '\x1f';
        key[off] = '\0';
    }
    unsigned h = hash_key(key);
    struct series *s;
    for (s = m->hash[h]; s; s = s->chain)
        if (!strcmp(s->key, key))
            break;
    if (!s) {
        s = vnd_xcalloc(1, sizeof *s);
        s->key = vnd_xstrdup(key);
        s->values = vnd_xcalloc((size_t)nl + 1, sizeof *s->values);
        for (int i = 0; i < nl; i++)
            s->values[i] = vnd_xstrdup(vals[i]);
        if (m->kind == HISTOGRAM)
            s->in_bucket = vnd_xcalloc((size_t)m->nbounds + 1, sizeof *s->in_bucket);
        s->chain = m->hash[h];
        m->hash[h] = s;
        if (m->n == m->cap) {
            m->cap = m->cap ? 2 * m->cap : 8;
            m->v = vnd_xrealloc(m->v, (size_t)m->cap * sizeof *m->v);
        }
        m->v[m->n++] = s;
    }
    if (key != stack)
        free(key);
    return s;
}

void vnd_metric_add(struct vnd_metric *m, double v, ...)
{
    if (!m || m->kind == HISTOGRAM)
        return;
    va_list ap;
    va_start(ap, v);
    pthread_mutex_lock(&m->reg->lock);
    series_get(m, ap)->value += v;
    pthread_mutex_unlock(&m->reg->lock);
    va_end(ap);
}

void vnd_metric_set(struct vnd_metric *m, double v, ...)
{
    if (!m || m->kind == HISTOGRAM)
        return;
    va_list ap;
    va_start(ap, v);
    pthread_mutex_lock(&m->reg->lock);
    series_get(m, ap)->value = v;
    pthread_mutex_unlock(&m->reg->lock);
    va_end(ap);
}

void vnd_metric_observe(struct vnd_metric *m, double v, ...)
{
    if (!m || m->kind != HISTOGRAM || isnan(v))
        return;
    va_list ap;
    va_start(ap, v);
    pthread_mutex_lock(&m->reg->lock);
    struct series *s = series_get(m, ap);
    int b = 0;
    while (b < m->nbounds && v > m->bounds[b])
        b++;
    s->in_bucket[b]++;
    s->count++;
    s->sum += v;
    pthread_mutex_unlock(&m->reg->lock);
    va_end(ap);
}

void vnd_metric_clear(struct vnd_metric *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->reg->lock);
    clear_locked(m);
    pthread_mutex_unlock(&m->reg->lock);
}

void vnd_metrics_on_collect(struct vnd_metrics *reg, vnd_metrics_collect_fn fn, void *ctx)
{
    if (!reg)
        return;
    pthread_mutex_lock(&reg->scrape);
    reg->coll = vnd_xrealloc(reg->coll, (size_t)(reg->ncoll + 1) * sizeof *reg->coll);
    reg->coll[reg->ncoll++] = (struct collector){fn, ctx};
    pthread_mutex_unlock(&reg->scrape);
}

/* ---- rendering ---- */

static void put(struct vnd_buf *b, const char *s, size_t n)
{
    vnd_buf_add(b, s, n);
}

static void puts_(struct vnd_buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* `s` escaped: \ and newline always, " inside label values. */
static void put_escaped(struct vnd_buf *b, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            puts_(b, "\\\\");
        else if (*s == '\n')
            puts_(b, "\\n");
        else if (*s == '"' && quote)
            puts_(b, "\\\"");
        else
            put(b, s, 1);
    }
}

/* The shortest text that reads back as `v`; +Inf, -Inf, NaN as Go's
 * ParseFloat takes them. */
static void put_double(struct vnd_buf *b, double v)
{
    char t[40];
    if (isnan(v))
        snprintf(t, sizeof t, "NaN");
    else if (isinf(v))
        snprintf(t, sizeof t, v > 0 ? "+Inf" : "-Inf");
    else
        for (int p = 15; p <= 17; p++) {
            snprintf(t, sizeof t, "%.*g", p, v);
            if (strtod(t, NULL) == v)
                break;
        }
    puts_(b, t);
}

/* name[suffix]{labels[,le="x"]} value */
static void put_sample(struct vnd_buf *b, const struct vnd_metric *m, const struct series *s,
                       const char *suffix, const double *le, double value)
{
    puts_(b, m->name);
    puts_(b, suffix);
    if (m->nlabels || le) {
        puts_(b, "{");
        for (int i = 0; i < m->nlabels; i++) {
            if (i)
                puts_(b, ",");
            puts_(b, m->labels[i]);
            puts_(b, "=\"");
            put_escaped(b, s->values[i], true);
            puts_(b, "\"");
        }
        if (le) {
            puts_(b, m->nlabels ? ",le=\"" : "le=\"");
            put_double(b, *le);
            puts_(b, "\"");
        }
        puts_(b, "}");
    }
    puts_(b, " ");
    put_double(b, value);
    puts_(b, "\n");
}

char *vnd_metrics_render(struct vnd_metrics *reg)
{
    struct vnd_buf b = {0};
    puts_(&b, "");
    if (!reg)
        return b.s;
    pthread_mutex_lock(&reg->scrape);
    for (int i = 0; i < reg->ncoll; i++)
        reg->coll[i].fn(reg->coll[i].ctx);
    pthread_mutex_lock(&reg->lock);
    for (int i = 0; i < reg->n; i++) {
        const struct vnd_metric *m = reg->m[i];
        puts_(&b, "# HELP ");
        puts_(&b, m->name);
        puts_(&b, " ");
        put_escaped(&b, m->help, false);
        puts_(&b, "\n# TYPE ");
        puts_(&b, m->name);
        puts_(&b, " ");
        puts_(&b, kind_name[m->kind]);
        puts_(&b, "\n");
        for (int k = 0; k < m->n; k++) {
            const struct series *s = m->v[k];
            if (m->kind != HISTOGRAM) {
                put_sample(&b, m, s, "", NULL, s->value);
                continue;
            }
            uint64_t cum = 0;
            for (int j = 0; j <= m->nbounds; j++) {
                cum += s->in_bucket[j];
                double le = j < m->nbounds ? m->bounds[j] : INFINITY;
                put_sample(&b, m, s, "_bucket", &le, (double)cum);
            }
            put_sample(&b, m, s, "_sum", NULL, s->sum);
            put_sample(&b, m, s, "_count", NULL, (double)s->count);
        }
    }
    pthread_mutex_unlock(&reg->lock);
    pthread_mutex_unlock(&reg->scrape);
    return b.s;
}

void vnd_metrics_opaque_id(const char *id, char out[9])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!id || !EVP_Digest(id, strlen(id), md, &n, EVP_sha256(), NULL) || n < 4) {
        snprintf(out, 9, "00000000");
        return;
    }
    snprintf(out, 9, "%02x%02x%02x%02x", md[0], md[1], md[2], md[3]);
}
