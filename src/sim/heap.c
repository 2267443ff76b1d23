/* heap.c — indexed min-heap of servers by (load, id). */
#include "sim/heap.h"

#include <errno.h>
#include <stdlib.h>

int vnd_heap_init(struct vnd_heap *h, int n)
{
    h->n = n;
    h->slot = malloc((size_t)n * sizeof *h->slot);
    h->pos = malloc((size_t)n * sizeof *h->pos);
    h->key = calloc((size_t)n, sizeof *h->key);
    if (!h->slot || !h->pos || !h->key) {
        vnd_heap_destroy(h);
        return ENOMEM;
    }
    /* All keys equal: ids in order already form a valid heap. */
    for (int i = 0; i < n; i++)
        h->slot[i] = h->pos[i] = i;
    return 0;
}

void vnd_heap_destroy(struct vnd_heap *h)
{
    free(h->slot);
    free(h->pos);
    free(h->key);
    h->slot = h->pos = NULL;
    h->key = NULL;
    h->n = 0;
}

static int less(const struct vnd_heap *h, int a, int b)
{
    return h->key[a] < h->key[b] || (h->key[a] == h->key[b] && a < b);
}

static void put(struct vnd_heap *h, int i, int id)
{
    h->slot[i] = id;
    h->pos[id] = i;
}

void vnd_heap_set(struct vnd_heap *h, int id, int64_t key)
{
    h->key[id] = key;
    int i = h->pos[id];
    while (i > 0) {
        int p = (i - 1) / 2;
        if (!less(h, id, h->slot[p]))
            break;
        put(h, i, h->slot[p]);
        i = p;
    }
    for (;;) {
        int c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && less(h, h->slot[c + 1], h->slot[c]))
            c++;
        if (!less(h, h->slot[c], id))
            break;
        put(h, i, h->slot[c]);
        i = c;
    }
    put(h, i, id);
}

/* Candidates are heap positions kept in a small heap of their own: the
 * next-smallest server is always the smallest child of one already seen. */
int vnd_heap_first(const struct vnd_heap *h, int limit, int (*ok)(void *ctx, int id), void *ctx)
{
    int cand[2 * VND_HEAP_SCAN_MAX + 2];
    int nc = 0;
    if (limit > VND_HEAP_SCAN_MAX)
        limit = VND_HEAP_SCAN_MAX;
    if (h->n > 0)
        cand[nc++] = 0;
    for (int seen = 0; seen < limit && nc > 0; seen++) {
        int top = cand[0];
        /* pop the smallest candidate */
        int last = cand[--nc], i = 0;
        for (;;) {
            int c = 2 * i + 1;
            if (c >= nc)
                break;
            if (c + 1 < nc && less(h, h->slot[cand[c + 1]], h->slot[cand[c]]))
                c++;
            if (!less(h, h->slot[cand[c]], h->slot[last]))
                break;
            cand[i] = cand[c];
            i = c;
        }
        if (nc > 0)
            cand[i] = last;
        int id = h->slot[top];
        if (ok(ctx, id))
            return id;
        /* push its children */
        for (int c = 2 * top + 1; c <= 2 * top + 2 && c < h->n; c++) {
            int j = nc++;
            while (j > 0 && less(h, h->slot[c], h->slot[cand[(j - 1) / 2]])) {
                cand[j] = cand[(j - 1) / 2];
                j = (j - 1) / 2;
            }
            cand[j] = c;
        }
    }
    return -1;
}
