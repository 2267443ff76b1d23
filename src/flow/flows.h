/* flows.h — flows interned by their 4-tuple, and groups keyed by three
 * int64: what the apps' C steps (diag/) and ingest's rollups (ingest/)
 * both count by.  Flows compare as SQLite compares their columns. */
#ifndef VND_FLOW_FLOWS_H
#define VND_FLOW_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- flows: (src_ip, src_port, dst_ip, dst_port), NULLs included ---- */
struct vnd_flow {
    char *src, *dst;                /* NULL: SQL NULL */
    size_t src_len, dst_len;
    int64_t sport, dport;
    unsigned nulls;                 /* bit 0 sport, bit 1 dport NULL */
    char *label;                    /* "src:sport>dst:dport"; NULL when a part is */
    int rev;                        /* the reverse flow, -1: none, -2: not looked up */
};

struct vnd_flows {
    struct vnd_flow *f;
    int n, cap;
    int *tab;                       /* open addressing: index + 1, 0 empty */
    size_t tabcap;
    int last, prev;                 /* the last two rows' flows: rows come in runs */
};

/* The flow of these values (src/dst NULL: SQL NULL; `nulls` as in struct
 * vnd_flow), created when new (diag/step.h's vnd_flows_row reads them
 * from a row). */
int vnd_flows_get(struct vnd_flows *fl, const char *src, size_t sl, int64_t sport,
                  const char *dst, size_t dl, int64_t dport, unsigned nulls);
/* The reverse of flow i (src and dst swapped), or -1 when never seen. */
int vnd_flows_rev(struct vnd_flows *fl, int i);
/* SQLite's order of the flows' tuples (NULL first, text by bytes). */
int vnd_flows_cmp_tuple(const struct vnd_flows *fl, int a, int b);
/* SQLite's order of their labels (NULL first). */
int vnd_flows_cmp_label(const struct vnd_flows *fl, int a, int b);
void vnd_flows_free(struct vnd_flows *fl);

/* SQLite's order of two nullable strings (NULL first, bytes). */
int vnd_cmp_text(const char *a, const char *b);

/* ---- groups by a key of three int64 (slot bits, flow, direction...) ---- */
struct vnd_gmap {
    int64_t *k;                     /* 3 per group */
    uint32_t n, cap;
    uint32_t *tab;                  /* group + 1, 0 empty */
    size_t tabcap;
    uint32_t last;
};

/* The group of (a, b, c), created when new (groups are numbered 0, 1, ...
 * in order of creation). */
uint32_t vnd_gmap_get(struct vnd_gmap *m, int64_t a, int64_t b, int64_t c);
void vnd_gmap_free(struct vnd_gmap *m);
/* A hash of an int64 key, for open addressing by its low bits. */
static inline uint64_t vnd_key_hash(int64_t k)
{
    uint64_t h = (uint64_t)k * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 29);
}
/* A double as a key: equal values (0.0 and -0.0 too) give equal keys. */
int64_t vnd_dkey(double v);
double vnd_keyd(int64_t k);

#endif
