/* rowpipe.c — blocks of rows, a writer thread, two condition variables. */
#include "ingest/rowpipe.h"

#include <pthread.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define ROWPIPE_BLOCKS 4
#define BLOCK_ROWS 4096
#define BLOCK_CELLS (BLOCK_ROWS * 12)
#define BLOCK_TEXT (BLOCK_ROWS * 48)
#define RUN_ROWS 256            /* rows per call of a store writer */

struct row {
    const struct vnd_rowpipe_target *target;
    uint32_t first, n;          /* values[first .. first + n) */
};

struct block {
    uint32_t nrows, ncells, ntext;
    /* Run on the writer thread after the block's rows, in order with
     * them: how a batch is committed without the parsing thread waiting. */
    int (*op)(void *arg, char **msg);
    void *op_arg;
    struct row rows[BLOCK_ROWS];
    /* the rows' values as the store takes them, text in text[]: a run
     * of one writer's rows is handed over where it lies (converting each
     * value to a smaller cell and back was a tenth of an IPFIX
     * collector's instructions) */
    struct vnd_value values[BLOCK_CELLS];
    char text[BLOCK_TEXT];
    struct block *next;
};

struct vnd_rowpipe {
    pthread_t writer;
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    struct block *full_head, *full_tail;   /* waiting for the writer */
    struct block *free_list;
    struct block *cur;                     /* being filled by the caller */
    int busy;                              /* blocks handed over, not yet written */
    bool quit;
    int error;                             /* first failed write */
    char *errmsg;
};

/* Hands the block's rows to their writers, a run of rows of one writer at
 * a time (a writer batches its statements: SQLite binds 16 rows to one
 * INSERT, PostgreSQL's COPY takes them all). */
static void write_block(struct vnd_rowpipe *p, struct block *b)
{
    uint32_t r = 0;
    while (r < b->nrows) {
        const struct vnd_rowpipe_target *t = b->rows[r].target;
        uint32_t ncols = (uint32_t)t->ncols, first = b->rows[r].first, n = 1;
        /* a row of ncols values each, one after the other */
        while (r + n < b->nrows && b->rows[r + n].target == t && n < RUN_ROWS
               && b->rows[r + n].first == first + n * ncols)
            n++;
        char *msg = NULL;
        int rc = vnd_store_write_rows(t->writer, &b->values[first], (int)n, &msg);
        if (rc) {
            pthread_mutex_lock(&p->lock);
            if (!p->error) {
                p->error = rc;
                p->errmsg = msg;
                msg = NULL;
            }
            pthread_mutex_unlock(&p->lock);
            free(msg);
            return;             /* the batch will be rolled back */
        }
        r += n;
    }
}

static void *writer_main(void *arg)
{
    /* its own name: a thread started from an API request would keep the
     * request's, and a table server's CPU budget counts threads by name
     * (tabled/budget.h) */
    prctl(PR_SET_NAME, "vnd-rows", 0, 0, 0);
    struct vnd_rowpipe *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->full_head && !p->quit)
            pthread_cond_wait(&p->work, &p->lock);
        if (!p->full_head)
            break;
        struct block *b = p->full_head;
        p->full_head = b->next;
        if (!p->full_head)
            p->full_tail = NULL;
        bool skip = p->error != 0;
        pthread_mutex_unlock(&p->lock);
        if (!skip)
            write_block(p, b);
        if (b->op) {
            char *msg = NULL;
            /* Runs even after an error: it owns op_arg and must free it. */
            int rc = b->op(b->op_arg, &msg);
            pthread_mutex_lock(&p->lock);
            if (rc && !p->error) {
                p->error = rc;
                p->errmsg = msg;
                msg = NULL;
            }
            pthread_mutex_unlock(&p->lock);
            free(msg);
            b->op = NULL;
        }
        pthread_mutex_lock(&p->lock);
        b->next = p->free_list;
        p->free_list = b;
        p->busy--;
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

struct vnd_rowpipe *vnd_rowpipe_new(void)
{
    struct vnd_rowpipe *p = vnd_xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    for (int i = 0; i < ROWPIPE_BLOCKS; i++) {
        struct block *b = vnd_xmalloc(sizeof *b);
        b->next = p->free_list;
        p->free_list = b;
    }
    if (pthread_create(&p->writer, NULL, writer_main, p) != 0)
        abort();
    return p;
}

/* Hands the current block to the writer. */
static void submit(struct vnd_rowpipe *p)
{
    struct block *b = p->cur;
    p->cur = NULL;
    if (!b)
        return;
    if (b->nrows == 0 && !b->op) {
        pthread_mutex_lock(&p->lock);
        b->next = p->free_list;
        p->free_list = b;
        pthread_mutex_unlock(&p->lock);
        return;
    }
    b->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->full_tail)
        p->full_tail->next = b;
    else
        p->full_head = b;
    p->full_tail = b;
    p->busy++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
}

static void take_block(struct vnd_rowpipe *p)
{
    pthread_mutex_lock(&p->lock);
    while (!p->free_list)
        pthread_cond_wait(&p->done, &p->lock);
    struct block *b = p->free_list;
    p->free_list = b->next;
    pthread_mutex_unlock(&p->lock);
    b->nrows = b->ncells = b->ntext = 0;
    b->op = NULL;
    p->cur = b;
}

void vnd_rowpipe_begin_row(struct vnd_rowpipe *p, const struct vnd_rowpipe_target *target)
{
    uint32_t ncols = (uint32_t)target->ncols;
    struct block *b = p->cur;
    /* A row must fit whole: its cells and a full text buffer per column
     * would be too much to reserve, so reserve cells and one text max;
     * vnd_rowpipe_text_buf re-checks per column. */
    if (b && (b->nrows == BLOCK_ROWS || b->ncells + ncols > BLOCK_CELLS
              || b->ntext + ncols * VND_VALUE_TEXT_MAX > BLOCK_TEXT))
        submit(p);
    if (!p->cur)
        take_block(p);
    b = p->cur;
    struct row *r = &b->rows[b->nrows];
    r->target = target;
    r->first = b->ncells;
    r->n = 0;
}

char *vnd_rowpipe_text_buf(struct vnd_rowpipe *p)
{
    return p->cur->text + p->cur->ntext;
}

void vnd_rowpipe_put(struct vnd_rowpipe *p, const struct vnd_value *v)
{
    struct block *b = p->cur;
    struct vnd_value *c = &b->values[b->ncells++];
    b->rows[b->nrows].n++;
    if (!v) {
        c->type = VND_SQL_NULL;
        return;
    }
    *c = *v;
    /* text was formatted into our buffer (text_buf): it stays there */
    if (v->type == VND_SQL_TEXT || v->type == VND_SQL_BLOB || v->type == VND_SQL_ADDR)
        b->ntext += (uint32_t)v->slen;
}

void vnd_rowpipe_end_row(struct vnd_rowpipe *p)
{
    p->cur->nrows++;
}

struct vnd_value *vnd_rowpipe_cells(struct vnd_rowpipe *p)
{
    return &p->cur->values[p->cur->ncells];
}

void vnd_rowpipe_text_taken(struct vnd_rowpipe *p, size_t n)
{
    p->cur->ntext += (uint32_t)n;
}

void vnd_rowpipe_end_cells(struct vnd_rowpipe *p, uint32_t ncols)
{
    struct block *b = p->cur;
    b->rows[b->nrows++].n = ncols;
    b->ncells += ncols;
}

void vnd_rowpipe_run(struct vnd_rowpipe *p, int (*op)(void *arg, char **msg), void *arg)
{
    if (!p->cur)
        take_block(p);
    p->cur->op = op;
    p->cur->op_arg = arg;
    submit(p);
}

bool vnd_rowpipe_failed(struct vnd_rowpipe *p)
{
    pthread_mutex_lock(&p->lock);
    bool failed = p->error != 0;
    pthread_mutex_unlock(&p->lock);
    return failed;
}

int vnd_rowpipe_drain(struct vnd_rowpipe *p, char **msg)
{
    submit(p);
    pthread_mutex_lock(&p->lock);
    while (p->busy > 0)
        pthread_cond_wait(&p->done, &p->lock);
    int rc = p->error;
    if (rc && msg)
        *msg = p->errmsg ? p->errmsg : vnd_xstrdup("write failed");
    else
        free(p->errmsg);
    p->error = 0;
    p->errmsg = NULL;
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void vnd_rowpipe_free(struct vnd_rowpipe *p)
{
    if (!p)
        return;
    vnd_rowpipe_drain(p, NULL);
    pthread_mutex_lock(&p->lock);
    p->quit = true;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->writer, NULL);
    if (p->cur) {
        p->cur->next = p->free_list;
        p->free_list = p->cur;
    }
    while (p->free_list) {
        struct block *b = p->free_list;
        p->free_list = b->next;
        free(b);
    }
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    free(p);
}
