/* remote.c — the control server behind `vnd` commands: the client from
 * --url/--token, and `vnd query`/`vnd diag` with --diagnosis. */
#include "cli/remote.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag/opts_json.h"
#include "util/util.h"

int vnd_remote_client(struct vnd_client *c, const char *cmd, const char *url,
                      const char *token)
{
    char *err = NULL;
    if (vnd_client_init(c, url, token, &err) == 0)
        return 0;
    fprintf(stderr, "vnd %s: %s\n", cmd, err);
    free(err);
    return -1;
}

bool vnd_remote_name_ok(const char *cmd, const char *what, const char *id)
{
    if (vnd_plain_name(id))
        return true;
    fprintf(stderr, "vnd %s: %s '%s' is not one (1 to 63 letters, digits, '_' or '-')\n",
            cmd, what, id);
    return false;
}

void vnd_remote_cell(struct vnd_out *o, const json_t *v)
{
    if (!v || json_is_null(v)) {
        vnd_out_null(o);
    } else if (json_is_integer(v)) {
        vnd_out_int(o, json_integer_value(v));
    } else if (json_is_real(v)) {
        vnd_out_real(o, json_real_value(v));
    } else if (json_is_string(v)) {
        vnd_out_textn(o, json_string_value(v), json_string_length(v));
    } else if (json_is_boolean(v)) {
        vnd_out_int(o, json_is_true(v));
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        vnd_out_text(o, s);
        free(s);
    }
}

static const char *fmt_name(enum vnd_fmt fmt)
{
    return fmt == VND_FMT_JSON ? "json" : fmt == VND_FMT_CSV ? "csv" : "table";
}

/* ---- vnd query --diagnosis ---- */

int vnd_remote_query(const char *url, const char *token, const char *id, const char *sql,
                     enum vnd_fmt fmt)
{
    if (!vnd_remote_name_ok("query", "diagnosis id", id))
        return 2;
    struct vnd_client cl;
    if (vnd_remote_client(&cl, "query", url, token))
        return 1;
    json_t *body = json_pack("{s:s, s:s}", "sql", sql, "format", fmt_name(fmt));
    if (!body) {
        fprintf(stderr, "vnd query: the SQL is not UTF-8 text\n");
        vnd_client_clear(&cl);
        return 2;
    }
    char *path = vnd_strdup_printf("/v1/diagnoses/%s/query", id);
    char *err = NULL;
    int rc = vnd_client_stream(&cl, "POST", path, body, stdout, NULL, &err);
    free(path);
    json_decref(body);
    vnd_client_clear(&cl);
    if (rc) {
        fprintf(stderr, "vnd query: %s\n", err);
        free(err);
        return 1;
    }
    return 0;
}

/* ---- vnd diag --diagnosis ---- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static json_t *diag_body(const struct vnd_diag_app *app, const struct vnd_diag_opts *o,
                         enum vnd_fmt fmt, bool plot, double min_t, bool complete)
{
    json_t *options = vnd_diag_opts_to_json(o);
    json_t *body = json_pack("{s:s, s:o, s:s, s:b}", "app", app->name, "options",
                             options ? options : json_object(), "format", fmt_name(fmt),
                             "plot", plot);
    if (body && isfinite(min_t))
        json_object_set_new(body, "min_t", json_real(min_t));
    if (body && complete)
        json_object_set_new(body, "complete", json_true());
    return body;
}

/* One --follow answer (JSON rows, then the plot's text if asked) printed
 * in `fmt`; *last_t rises to the largest t among the rows.  Returns the
 * number of rows, or -1 when the answer is not what the API promises. */
static int follow_print(const struct vnd_response *r, enum vnd_fmt fmt, double *last_t)
{
    json_error_t je;
    json_t *j = json_loadb(r->body, r->len, JSON_DISABLE_EOF_CHECK, &je);
    if (!j)
        return -1;
    const char *rest = r->body + je.position;
    json_t *rows = json_is_array(j) ? j : json_object_get(j, "rows");
    json_t *verdict = json_is_object(j) ? json_object_get(j, "verdict") : NULL;
    json_t *sampling = json_is_object(j) ? json_object_get(j, "sampling") : NULL;
    if (!json_is_array(rows)) {
        json_decref(j);
        return -1;
    }
    size_t n = json_array_size(rows);
    if (n == 0) {
        json_decref(j);
        return 0;
    }
    struct vnd_out *o = vnd_out_new(stdout, fmt);
    if (verdict || sampling)
        vnd_out_object(o);
    /* columns: the first row's keys, in order */
    json_t *first = json_array_get(rows, 0);
    size_t ncols = json_object_size(first);
    const char **names = vnd_xcalloc(ncols ? ncols : 1, sizeof *names);
    size_t c = 0;
    const char *key;
    json_t *v;
    json_object_foreach(first, key, v)
        names[c++] = key;
    vnd_out_columns(o, (int)ncols, names);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        for (c = 0; c < ncols; c++)
            vnd_remote_cell(o, json_object_get(row, names[c]));
        vnd_out_end_row(o);
        json_t *t = json_object_get(row, "t");
        if (json_is_number(t) && !(json_number_value(t) <= *last_t))
            *last_t = json_number_value(t);
    }
    if (json_is_object(verdict) && fmt != VND_FMT_TABLE) {
        size_t nv = json_object_size(verdict);
        const char **vk = vnd_xcalloc(nv ? nv : 1, sizeof *vk);
        c = 0;
        json_object_foreach(verdict, key, v)
            vk[c++] = key;
        vnd_out_record(o, "verdict", (int)nv, vk);
        for (c = 0; c < nv; c++)
            vnd_remote_cell(o, json_object_get(verdict, vk[c]));
        vnd_out_end_row(o);
        free(vk);
    }
    /* how the tables were sampled, as `vnd diag` says it (CSV: when one was) */
    bool sampled = false;
    json_t *e;
    json_array_foreach(sampling, i, e) {
        const char *tr = json_string_value(json_object_get(e, "treatment"));
        sampled = sampled || (tr && strcmp(tr, "exact"));
    }
    if (json_is_array(sampling) && fmt != VND_FMT_TABLE && (fmt == VND_FMT_JSON || sampled))
        vnd_out_record_json(o, "sampling", json_incref(sampling));
    vnd_out_finish(o);
    free(names);
    if (fmt == VND_FMT_TABLE)
        json_array_foreach(sampling, i, e)
            if (json_is_string(json_object_get(e, "text")))
                printf("sampling: %s\n", json_string_value(json_object_get(e, "text")));
    /* the table: the verdict's sentence, as `vnd diag` prints it */
    if (verdict && fmt == VND_FMT_TABLE && json_is_string(json_object_get(verdict, "text")))
        printf("\n%s\n", json_string_value(json_object_get(verdict, "text")));
    fputs(rest, stdout);
    fflush(stdout);
    json_decref(j);
    return (int)n;
}

int vnd_remote_diag(const char *url, const char *token, const char *id,
                    const struct vnd_diag_app *app, const struct vnd_diag_opts *o,
                    enum vnd_fmt fmt, bool plot, bool follow, double interval)
{
    char cmd[64];
    snprintf(cmd, sizeof cmd, "diag %s", app->name);
    if (!vnd_remote_name_ok(cmd, "diagnosis id", id))
        return 2;
    struct vnd_client cl;
    if (vnd_remote_client(&cl, cmd, url, token))
        return 1;
    char *path = vnd_strdup_printf("/v1/diagnoses/%s/diag", id);
    char *err = NULL;
    int status = 0;
    if (!follow) {
        json_t *body = diag_body(app, o, fmt, plot, -INFINITY, false);
        if (!body || vnd_client_stream(&cl, "POST", path, body, stdout, NULL, &err)) {
            fprintf(stderr, "vnd %s: %s\n", cmd, err ? err : "the options are not UTF-8 text");
            status = 1;
        }
        json_decref(body);
    } else {
        /* the periodic proxy over the API: the complete slots past the
         * last t received, asked again every interval until interrupted */
        stop = 0;
        struct sigaction sa = {.sa_handler = on_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        cl.cancel = &stop;
        if (!(interval > 0))
            interval = 1;
        double last_t = -INFINITY;
        while (!stop) {
            double min_t = isfinite(last_t) ? nextafter(last_t, INFINITY) : -INFINITY;
            json_t *body = diag_body(app, o, VND_FMT_JSON, plot, min_t, app->timed);
            struct vnd_response r = {0};
            int rc = body ? vnd_client_request(&cl, "POST", path, body, &r, &err) : -1;
            json_decref(body);
            if (rc && stop) {
                vnd_response_clear(&r);
                free(err);
                err = NULL;
                break;
            }
            if (rc || follow_print(&r, fmt, &last_t) < 0) {
                fprintf(stderr, "vnd %s: %s\n", cmd,
                        err ? err : !body ? "the options are not UTF-8 text"
                                          : "the control server's answer is not JSON rows");
                vnd_response_clear(&r);
                status = 1;
                break;
            }
            vnd_response_clear(&r);
            struct timespec ts = {(time_t)interval,
                                  (long)((interval - floor(interval)) * 1e9)};
            while (!stop && nanosleep(&ts, &ts))
                ;
        }
    }
    free(err);
    free(path);
    vnd_client_clear(&cl);
    return status;
}
