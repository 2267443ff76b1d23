/* tenant_request.c — the control server's tenant API bodies, checked. */
#include "api/tenant_request.h"

#include <ctype.h>
#include <string.h>

#include "diag/opts_json.h"
#include "output/output.h"
#include "util/util.h"

static int bad(char **err, const char *fmt, const char *key)
{
    *err = vnd_strdup_printf(fmt, key);
    return 400;
}

/* Every key of `j` must be one of `allowed`. */
static int only_keys(const json_t *j, const char *const *allowed, char **err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)j, key, v) {
        bool ok = false;
        for (int i = 0; allowed[i] && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok) {
            char list[256] = "";
            size_t n = 0;
            for (int i = 0; allowed[i]; i++)
                n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "",
                                      allowed[i]);
            char shown[48];
            snprintf(shown, sizeof shown, "%.40s", key);
            for (char *c = shown; *c; c++)
                if (!isprint((unsigned char)*c))
                    *c = '?';
            *err = vnd_strdup_printf("unknown key \"%s\" (expected %s)", shown, list);
            return 400;
        }
    }
    return 0;
}

static int get_string(const json_t *j, const char *key, bool required, const char **out,
                      char **err)
{
    json_t *v = json_object_get(j, key);
    if (!v) {
        if (required)
            return bad(err, "\"%s\" (a string) is required", key);
        return 0;
    }
    if (!json_is_string(v))
        return bad(err, "\"%s\" must be a string", key);
    *out = json_string_value(v);
    return 0;
}

/* A configuration file's name, as shown in its errors. */
static bool file_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
            return false;
    return true;
}

static int check_format(const json_t *j, char **err)
{
    const char *f = NULL;
    enum vnd_fmt fmt;
    if (get_string(j, "format", false, &f, err))
        return 400;
    if (f && vnd_fmt_parse(f, &fmt))
        return bad(err, "\"format\" is json, csv or table, not \"%.20s\"", f);
    return 0;
}

static int parse_create(struct vnd_treq *r, char **err)
{
    static const char *const keys[] = {"collect", "parse", "collect_name", "parse_name",
                                       "duration", NULL};
    r->collect_name = "collect.conf";
    r->parse_name = "parse.conf";
    if (only_keys(r->json, keys, err) || get_string(r->json, "collect", true, &r->collect, err)
        || get_string(r->json, "parse", false, &r->parse, err)
        || get_string(r->json, "collect_name", false, &r->collect_name, err)
        || get_string(r->json, "parse_name", false, &r->parse_name, err))
        return 400;
    if (!file_name_ok(r->collect_name) || !file_name_ok(r->parse_name)) {
        *err = vnd_xstrdup("\"collect_name\" and \"parse_name\" are file names: 1 to 63 letters,"
                           " digits, '.', '_' or '-'");
        return 400;
    }
    json_t *d = json_object_get(r->json, "duration");
    if (d) {
        if (!json_is_number(d) || !(json_number_value(d) > 0)
            || json_number_value(d) > VND_TREQ_DURATION_MAX) {
            *err = vnd_strdup_printf("\"duration\" must be a number of seconds in (0, %.0f]",
                                     VND_TREQ_DURATION_MAX);
            return 400;
        }
        r->duration = json_number_value(d);
    }
    return 0;
}

static int parse_query(struct vnd_treq *r, char **err)
{
    static const char *const keys[] = {"sql", "format", NULL};
    if (only_keys(r->json, keys, err) || get_string(r->json, "sql", true, &r->sql, err)
        || check_format(r->json, err))
        return 400;
    return 0;
}

static int parse_diag(struct vnd_treq *r, char **err)
{
    static const char *const keys[] = {"app", "options", "format", "min_t", "complete",
                                       "plot", "show_sql", NULL};
    if (only_keys(r->json, keys, err) || get_string(r->json, "app", true, &r->app, err)
        || check_format(r->json, err))
        return 400;
    if (!vnd_diag_find(r->app))
        return bad(err, "no diagnostic application \"%.40s\" (vnd diag --help lists them)",
                   r->app);
    json_t *m = json_object_get(r->json, "min_t");
    if (m && !json_is_number(m))
        return bad(err, "\"%s\" must be a number", "min_t");
    json_t *p = json_object_get(r->json, "plot");
    if (p && !json_is_boolean(p))
        return bad(err, "\"%s\" must be true or false", "plot");
    p = json_object_get(r->json, "complete");
    if (p && !json_is_boolean(p))
        return bad(err, "\"%s\" must be true or false", "complete");
    p = json_object_get(r->json, "show_sql");
    if (p && !json_is_boolean(p))
        return bad(err, "\"%s\" must be true or false", "show_sql");
    json_t *o = json_object_get(r->json, "options");
    if (o && !json_is_object(o))
        return bad(err, "\"%s\" must be an object", "options");
    struct vnd_diag_opts opts;
    if (o && vnd_diag_opts_from_json(o, &opts, err))
        return 400;
    if (!o)
        vnd_diag_opts_init(&opts);
    const char *single[] = {opts.table, opts.in, opts.out};
    for (int i = 0; i < 3; i++)
        if (single[i])
            r->tables[r->ntables++] = single[i];
    for (int i = 0; i < opts.npath && r->ntables < VND_TREQ_TABLES_MAX; i++)
        r->tables[r->ntables++] = opts.path[i];
    return 0;
}

int vnd_treq_parse(enum vnd_treq_kind kind, const char *body, size_t len, bool too_large,
                   struct vnd_treq *out, char **err)
{
    memset(out, 0, sizeof *out);
    if (too_large) {
        *err = vnd_xstrdup("the request body is too large");
        return 413;
    }
    if (!body || !len) {
        *err = vnd_xstrdup("a JSON object body is required");
        return 400;
    }
    json_error_t je;
    out->json = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!out->json) {
        *err = vnd_strdup_printf("the body is not JSON: line %d column %d: %s", je.line,
                                 je.column, je.text);
        return 400;
    }
    if (!json_is_object(out->json)) {
        *err = vnd_xstrdup("the body must be a JSON object");
        return 400;
    }
    return kind == VND_TREQ_CREATE ? parse_create(out, err)
           : kind == VND_TREQ_QUERY ? parse_query(out, err) : parse_diag(out, err);
}

void vnd_treq_clear(struct vnd_treq *r)
{
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}
