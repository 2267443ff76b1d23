/* parallel.c — a C step's independent pieces (the parts of a table scan,
 * the points and hops of a path) on several threads.
 *
 * A SQLite connection serves one thread at a time, so every thread but
 * the caller's reads through a twin connection (vnd_guard_twin: the same
 * file, the same protections and time limit).  Each connection reads its
 * own snapshot: pieces are split so that each one's rows come from one
 * connection, and a table that grows meanwhile only adds rows at the end. */
#include "diag/step.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/guard.h"

int vnd_diag_threads(void)
{
    const char *e = getenv("VND_THREADS");
    if (e && *e) {
        char *end;
        long n = strtol(e, &end, 10);
        if (!*end && n >= 1)
            return n > VND_DIAG_THREADS_MAX ? VND_DIAG_THREADS_MAX : (int)n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > VND_DIAG_THREADS_MAX ? VND_DIAG_THREADS_MAX : (int)n;
}

struct run {
    sqlite3 *db;
    int ntasks;
    int (*task)(sqlite3 *db, int i, void *arg);
    void *arg;
    int *rc;
    atomic_int next;
};

static void take_tasks(struct run *r, sqlite3 *db)
{
    int i;
    while ((i = atomic_fetch_add(&r->next, 1)) < r->ntasks)
        r->rc[i] = r->task(db, i, r->arg);
}

static void *worker(void *vr)
{
    struct run *r = vr;
    struct vnd_guard *twin = vnd_guard_twin(r->db);
    if (twin) {                 /* else the others take this one's share */
        take_tasks(r, vnd_guard_db(twin));
        vnd_guard_close(twin);
    }
    return NULL;
}

int vnd_diag_parallel(sqlite3 *db, int ntasks, int nthreads,
                      int (*task)(sqlite3 *db, int i, void *arg), void *arg)
{
    struct run r = {.db = db, .ntasks = ntasks, .task = task, .arg = arg};
    r.rc = calloc((size_t)ntasks + 1, sizeof *r.rc);
    if (!r.rc)
        abort();
    atomic_init(&r.next, 0);
    if (nthreads > ntasks)
        nthreads = ntasks;
    if (nthreads > VND_DIAG_THREADS_MAX)
        nthreads = VND_DIAG_THREADS_MAX;
    pthread_t th[VND_DIAG_THREADS_MAX];
    int started = 0;
    for (int k = 1; k < nthreads; k++)
        if (!pthread_create(&th[started], NULL, worker, &r))
            started++;
    take_tasks(&r, db);
    for (int k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    int ret = 0;
    for (int i = 0; i < ntasks && !ret; i++)
        ret = r.rc[i];
    free(r.rc);
    return ret;
}
