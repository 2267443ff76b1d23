/* diag_drops.c — what the captures of the tables an app reads dropped,
 * said beside its rows (diag.h, vnd_diag_drops_out).  A frame the capture
 * missed is missing from the rows, and the rows cannot show it: loss and
 * the bottleneck locator count a missed copy as a lost packet; delay,
 * correlate and rtt lose pairs; the counting apps count less. */
#include "diag/diag.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "output/output.h"
#include "util/util.h"

/* the tables `app` reads: -t, --in and --out, or the path */
static int tables_read(const struct vnd_diag_app *app, const struct vnd_diag_opts *o,
                       const char *t[VND_DIAG_PATH_MAX])
{
    int n = 0;
    if ((app->need & VND_NEED_TABLE) && o->table)
        t[n++] = o->table;
    if ((app->need & VND_NEED_INOUT) && o->in && o->out) {
        t[n++] = o->in;
        t[n++] = o->out;
    }
    if (app->need & VND_NEED_PATH)
        for (int i = 0; i < o->npath && n < VND_DIAG_PATH_MAX; i++)
            t[n++] = o->path[i];
    return n;
}

/* the sentence of one table's drops (the CLI's line, the API's "text"):
 * what a missed frame does to `app`'s answer */
static char *drops_text(const struct vnd_diag_app *app, const char *table, long long kernel,
                        long long queue)
{
    char *what;
    if (app == &vnd_diag_loss || app == &vnd_diag_bottleneck)
        what = vnd_strdup_printf("a packet whose copy it missed counts as lost on its way to %s",
                                 table);
    else if (app == &vnd_diag_delay || app == &vnd_diag_correlate || app == &vnd_diag_rtt)
        what = vnd_xstrdup("a packet it missed has no pair: fewer samples, none of them changed");
    else
        what = vnd_xstrdup("its rows lack them: counts and rates are low by up to as many "
                           "frames");
    char *text = vnd_strdup_printf("the capture of %s dropped frames (%lld in the kernel's ring, "
                                   "counted for its whole interface; %lld in the table server's "
                                   "queue): %s",
                                   table, kernel, queue, what);
    free(what);
    return text;
}

/* [{"table", "dropped_kernel", "dropped_queue", "text"}] of the tables
 * `app` reads whose captures dropped frames: what both the record and the
 * note say */
static json_t *drops_of(sqlite3 *db, const struct vnd_diag_app *app,
                        const struct vnd_diag_opts *o)
{
    const char *t[VND_DIAG_PATH_MAX];
    int n = tables_read(app, o, t);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        long long kernel, queue;
        vnd_diag_capture_drops(db, t[i], &kernel, &queue);
        if (kernel <= 0 && queue <= 0)
            continue;
        char *text = drops_text(app, t[i], kernel, queue);
        json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:s}", "table", t[i],
                                             "dropped_kernel", (json_int_t)kernel,
                                             "dropped_queue", (json_int_t)queue, "text", text));
        free(text);
    }
    return arr;
}

void vnd_diag_drops_out(struct vnd_out *out, sqlite3 *db, const struct vnd_diag_app *app,
                        const struct vnd_diag_opts *o)
{
    json_t *arr = drops_of(db, app, o);
    if (json_array_size(arr))
        vnd_out_record_json(out, "capture_drops", arr);
    else
        json_decref(arr);
}

void vnd_diag_drops_note(FILE *f, sqlite3 *db, const struct vnd_diag_app *app,
                         const struct vnd_diag_opts *o)
{
    json_t *arr = drops_of(db, app, o), *d;
    size_t i;
    json_array_foreach(arr, i, d)
        fprintf(f, "%s\n", json_string_value(json_object_get(d, "text")));
    json_decref(arr);
}
