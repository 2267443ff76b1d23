/* sqlmem.c — SQLite's allocator with per-query budgets. */
#include "store/sqlmem.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>

/* Budgets live in a fixed pool and are never freed: a block charged to a
 * budget may be freed after its query ended, on another thread, and a
 * thread may still point at a budget released since.  A released budget
 * charges nothing and refuses nothing. */
struct vnd_sqlmem_budget {
    atomic_llong used;
    long long limit;
    atomic_bool in_use;
};

#define NBUDGETS 512
static struct vnd_sqlmem_budget budgets[NBUDGETS];
static _Thread_local struct vnd_sqlmem_budget *current;
static bool installed;

/* Every block starts with its size and the budget it was charged to;
 * 16 bytes keep the malloc alignment. */
struct header {
    long long size;
    struct vnd_sqlmem_budget *budget;
};

static bool over(struct vnd_sqlmem_budget *b, long long more)
{
    return b && b->limit && atomic_load(&b->in_use)
           && atomic_load(&b->used) + more > b->limit;
}

static void charge(struct vnd_sqlmem_budget *b, long long n)
{
    if (b)
        atomic_fetch_add(&b->used, n);
}

static void *mem_malloc(int n)
{
    struct vnd_sqlmem_budget *b = current;
    if (b && !atomic_load(&b->in_use))
        b = NULL;
    if (over(b, n))
        return NULL;
    struct header *h = malloc(sizeof *h + (size_t)n);
    if (!h)
        return NULL;
    h->size = n;
    h->budget = b;
    charge(b, n);
    return h + 1;
}

static void mem_free(void *p)
{
    if (!p)
        return;
    struct header *h = (struct header *)p - 1;
    charge(h->budget, -h->size);
    free(h);
}

static void *mem_realloc(void *p, int n)
{
    struct header *h = (struct header *)p - 1;
    struct vnd_sqlmem_budget *b = h->budget;
    long long grow = n - h->size;
    if (grow > 0 && over(b, grow))
        return NULL;
    struct header *g = realloc(h, sizeof *g + (size_t)n);
    if (!g)
        return NULL;
    g->size = n;
    charge(b, grow);
    return g + 1;
}

static int mem_size(void *p)
{
    return p ? (int)((struct header *)p - 1)->size : 0;
}

static int mem_roundup(int n)
{
    return (n + 7) & ~7;
}

static int mem_init(void *arg)
{
    (void)arg;
    return SQLITE_OK;
}

static void mem_shutdown(void *arg)
{
    (void)arg;
}

bool vnd_sqlmem_install(void)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static const sqlite3_mem_methods methods = {
        mem_malloc, mem_free, mem_realloc, mem_size, mem_roundup, mem_init, mem_shutdown, NULL,
    };
    pthread_mutex_lock(&lock);
    if (!installed)
        installed = sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) == SQLITE_OK;
    bool ok = installed;
    pthread_mutex_unlock(&lock);
    return ok;
}

struct vnd_sqlmem_budget *vnd_sqlmem_acquire(uint64_t limit)
{
    for (int i = 0; i < NBUDGETS; i++) {
        bool free_slot = false;
        if (atomic_compare_exchange_strong(&budgets[i].in_use, &free_slot, true)) {
            struct vnd_sqlmem_budget *b = &budgets[i];
            b->limit = (long long)limit;
            return b;
        }
    }
    return NULL;
}

void vnd_sqlmem_release(struct vnd_sqlmem_budget *b)
{
    if (!b)
        return;
    if (current == b)
        current = NULL;
    atomic_store(&b->in_use, false);
}

void vnd_sqlmem_enter(struct vnd_sqlmem_budget *b)
{
    current = b;
}
