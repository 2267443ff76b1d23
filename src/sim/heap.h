/* heap.h — an indexed binary min-heap of servers ordered by (key, id).
 *
 * The placement rule "the server with the most free resources" is the
 * server with the smallest load key; ties go to the lowest server id, so
 * the choice never depends on the heap's internal layout.  Keys change in
 * place (vnd_heap_set) in O(log n), which is what makes placing ~1.8M
 * VMs on 10,000 servers take well under a second. */
#ifndef VND_SIM_HEAP_H
#define VND_SIM_HEAP_H

#include <stdint.h>

struct vnd_heap {
    int n;          /* servers in the heap: ids 0..n-1, all of them */
    int *slot;      /* slot[i]: the server at heap position i */
    int *pos;       /* pos[id]: where server id sits in slot[] */
    int64_t *key;   /* key[id]: its load; smaller = more free */
};

/* A heap of servers 0..n-1, every key 0.  Returns 0 or ENOMEM. */
int vnd_heap_init(struct vnd_heap *h, int n);
void vnd_heap_destroy(struct vnd_heap *h);

/* The server with the smallest (key, id). */
static inline int vnd_heap_top(const struct vnd_heap *h)
{
    return h->slot[0];
}

/* The first server, in (key, id) order, for which ok(ctx, id) is true,
 * looking at no more than `limit` (<= VND_HEAP_SCAN_MAX) servers; -1 when
 * none of them is.  O(limit · log limit), whatever the heap's size. */
#define VND_HEAP_SCAN_MAX 256
int vnd_heap_first(const struct vnd_heap *h, int limit, int (*ok)(void *ctx, int id), void *ctx);

/* Sets server id's key and restores the heap order. */
void vnd_heap_set(struct vnd_heap *h, int id, int64_t key);

#endif
