/* pktq.c — the bounded packet queue (see pktq.h). */
#include "capture/pktq.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/util.h"

struct vnd_pktq {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    struct vnd_batch *free_list, *full_head, *full_tail;
    struct vnd_batch **all;
    int nall;
    struct vnd_pktq_writer *watched;    /* vnd_pktq_watch's, linked */
    int64_t complete_ns;                /* vnd_pktq_complete's, never back */
};

#define REC_SIZE ((sizeof(struct vnd_pktrec) + 7) & ~(size_t)7)
#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

struct vnd_pktq *vnd_pktq_new(int nbatches, size_t batch_bytes)
{
    struct vnd_pktq *q = vnd_xcalloc(1, sizeof *q);
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->ready, NULL);
    q->all = vnd_xcalloc((size_t)nbatches, sizeof *q->all);
    q->nall = nbatches;
    for (int i = 0; i < nbatches; i++) {
        struct vnd_batch *b = vnd_xmalloc(sizeof *b + batch_bytes);
        b->cap = batch_bytes;
        b->used = 0;
        b->n = 0;
        b->next = q->free_list;
        q->free_list = b;
        q->all[i] = b;
    }
    return q;
}

void vnd_pktq_free(struct vnd_pktq *q)
{
    if (!q)
        return;
    for (int i = 0; i < q->nall; i++)
        free(q->all[i]);
    free(q->all);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->ready);
    free(q);
}

int vnd_pktq_depth(struct vnd_pktq *q, int *capacity)
{
    int n = 0;
    pthread_mutex_lock(&q->lock);
    for (struct vnd_batch *b = q->full_head; b; b = b->next)
        n++;
    pthread_mutex_unlock(&q->lock);
    *capacity = q->nall;
    return n;
}

static struct vnd_batch *get_free(struct vnd_pktq *q)
{
    pthread_mutex_lock(&q->lock);
    struct vnd_batch *b = q->free_list;
    if (b)
        q->free_list = b->next;
    pthread_mutex_unlock(&q->lock);
    if (b) {
        b->used = 0;
        b->n = 0;
        b->next = NULL;
    }
    return b;
}

static void put_full(struct vnd_pktq *q, struct vnd_batch *b)
{
    pthread_mutex_lock(&q->lock);
    b->next = NULL;
    if (q->full_tail)
        q->full_tail->next = b;
    else
        q->full_head = b;
    q->full_tail = b;
    pthread_cond_signal(&q->ready);
    pthread_mutex_unlock(&q->lock);
}

/* With q->lock held, the queue found empty by the parser: every batch a
 * watched writer handed over before saying it was complete to T has been
 * taken, and so parsed (the parser takes the next only when done).  The
 * writers' times are loaded first: one handed over after the check below
 * comes with a later time. */
static void note_complete(struct vnd_pktq *q)
{
    int64_t least = INT64_MAX;
    for (struct vnd_pktq_writer *w = q->watched; w; w = w->next_watched) {
        int64_t t = atomic_load_explicit(&w->complete_ns, memory_order_acquire);
        least = t < least ? t : least;
    }
    if (q->watched && !q->full_head && least > q->complete_ns)
        q->complete_ns = least;
}

void vnd_pktq_watch(struct vnd_pktq_writer *w, int64_t now_ns)
{
    struct vnd_pktq *q = w->q;
    atomic_store(&w->complete_ns, now_ns);
    pthread_mutex_lock(&q->lock);
    if (!w->watched) {
        w->next_watched = q->watched;
        q->watched = w;
        w->watched = true;
    }
    pthread_mutex_unlock(&q->lock);
}

void vnd_pktq_unwatch(struct vnd_pktq_writer *w)
{
    struct vnd_pktq *q = w->q;
    pthread_mutex_lock(&q->lock);
    for (struct vnd_pktq_writer **p = &q->watched; *p; p = &(*p)->next_watched)
        if (*p == w) {
            *p = w->next_watched;
            break;
        }
    w->watched = false;
    pthread_mutex_unlock(&q->lock);
}

void vnd_pktq_complete_to(struct vnd_pktq_writer *w, int64_t ns)
{
    if (ns > atomic_load_explicit(&w->complete_ns, memory_order_relaxed))
        atomic_store_explicit(&w->complete_ns, ns, memory_order_release);
}

double vnd_pktq_complete(struct vnd_pktq *q)
{
    pthread_mutex_lock(&q->lock);
    int64_t ns = q->complete_ns;
    pthread_mutex_unlock(&q->lock);
    return (double)ns / 1e9;
}

struct vnd_batch *vnd_pktq_take(struct vnd_pktq *q, double seconds)
{
    pthread_mutex_lock(&q->lock);
    note_complete(q);
    if (!q->full_head && seconds > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long ns = ts.tv_nsec + (long)((seconds - (long)seconds) * 1e9);
        ts.tv_sec += (time_t)seconds + ns / 1000000000L;
        ts.tv_nsec = ns % 1000000000L;
        pthread_cond_timedwait(&q->ready, &q->lock, &ts);
        note_complete(q);
    }
    struct vnd_batch *b = q->full_head;
    if (b) {
        q->full_head = b->next;
        if (!q->full_head)
            q->full_tail = NULL;
    }
    pthread_mutex_unlock(&q->lock);
    return b;
}

void vnd_pktq_release(struct vnd_pktq *q, struct vnd_batch *b)
{
    pthread_mutex_lock(&q->lock);
    b->next = q->free_list;
    q->free_list = b;
    pthread_mutex_unlock(&q->lock);
}

const struct vnd_pktrec *vnd_batch_next(const struct vnd_batch *b, size_t *off,
                                        const uint8_t **data)
{
    if (*off >= b->used)
        return NULL;
    const struct vnd_pktrec *r = (const struct vnd_pktrec *)(b->data + *off);
    *data = b->data + *off + REC_SIZE;
    *off += REC_SIZE + ALIGN8(r->caplen);
    return r;
}

void vnd_pktq_hand_over(struct vnd_pktq_writer *w)
{
    if (w->cur && w->cur->n) {
        put_full(w->q, w->cur);
        w->cur = NULL;
    }
}

unsigned char *vnd_pktq_append(struct vnd_pktq_writer *w, const struct vnd_pktrec *h)
{
    size_t need = REC_SIZE + ALIGN8(h->caplen);
    if (!w->cur || w->cur->used + need > w->cur->cap) {
        vnd_pktq_hand_over(w);
        if (!w->cur)
            w->cur = get_free(w->q);
        if (!w->cur || need > w->cur->cap)
            return NULL;
    }
    struct vnd_batch *b = w->cur;
    memcpy(b->data + b->used, h, sizeof *h);
    unsigned char *d = b->data + b->used + REC_SIZE;
    b->used += need;
    b->n++;
    return d;
}
