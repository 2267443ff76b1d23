/* diag_drops.c — what the captures dropped, said beside the apps that pair
 * packets across capture points (loss, bottleneck): a packet whose copy a
 * capture missed looks lost where it should have been seen, and the rows
 * cannot tell it from a hop's drop (diag.h, vnd_diag_drops_out). */
#include "diag/diag.h"

#include <jansson.h>

#include "output/output.h"

/* the tables whose captures matter to `app`: loss's --in and --out, the
 * bottleneck's path; 0 for the others */
static int paired_tables(const struct vnd_diag_app *app, const struct vnd_diag_opts *o,
                         const char *t[VND_DIAG_PATH_MAX])
{
    if (app == &vnd_diag_loss && o->in && o->out) {
        t[0] = o->in;
        t[1] = o->out;
        return 2;
    }
    if (app == &vnd_diag_bottleneck) {
        for (int i = 0; i < o->npath; i++)
            t[i] = o->path[i];
        return o->npath;
    }
    return 0;
}

void vnd_diag_drops_out(struct vnd_out *out, sqlite3 *db, const struct vnd_diag_app *app,
                        const struct vnd_diag_opts *o)
{
    const char *t[VND_DIAG_PATH_MAX];
    int n = paired_tables(app, o, t);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        long long kernel, queue;
        vnd_diag_capture_drops(db, t[i], &kernel, &queue);
        if (kernel > 0 || queue > 0)
            json_array_append_new(arr, json_pack("{s:s, s:I, s:I}", "table", t[i],
                                                 "dropped_kernel", (json_int_t)kernel,
                                                 "dropped_queue", (json_int_t)queue));
    }
    if (json_array_size(arr))
        vnd_out_record_json(out, "capture_drops", arr);
    else
        json_decref(arr);
}

void vnd_diag_drops_note(FILE *f, sqlite3 *db, const struct vnd_diag_app *app,
                         const struct vnd_diag_opts *o)
{
    const char *t[VND_DIAG_PATH_MAX];
    int n = paired_tables(app, o, t);
    for (int i = 0; i < n; i++) {
        long long kernel, queue;
        vnd_diag_capture_drops(db, t[i], &kernel, &queue);
        if (kernel > 0 || queue > 0)
            fprintf(f, "the capture of %s dropped frames (%lld in the kernel's ring, counted "
                       "for its whole interface; %lld in the table server's queue): a packet "
                       "whose copy it missed counts as lost on its way to %s\n",
                    t[i], kernel, queue, t[i]);
    }
}
