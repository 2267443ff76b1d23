/* opts_json.c — diagnostic options as JSON, and the checks `vnd diag`'s
 * command line shares with it. */
#include "diag/opts_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const by_names[] = {[VND_BY_ID] = "id", [VND_BY_PAYLOAD] = "payload",
                                       [VND_BY_ORDER] = "order"};

const char *vnd_diag_by_name(enum vnd_diag_by by)
{
    return (unsigned)by < sizeof by_names / sizeof *by_names ? by_names[by] : "?";
}

int vnd_diag_opt_by(const char *name, const char *s, enum vnd_diag_by *dst, char **err)
{
    for (size_t i = 0; i < sizeof by_names / sizeof *by_names; i++)
        if (!strcmp(s, by_names[i])) {
            *dst = (enum vnd_diag_by)i;
            return 0;
        }
    *err = vnd_diag_errf("%s takes id, payload or order, not '%.80s'", name, s);
    return -1;
}

static const char *const kind_names[] = {"all", "data", "fin", "handshake"};

const char *vnd_diag_rtt_kind_name(enum vnd_rtt_kind k)
{
    return (unsigned)k < sizeof kind_names / sizeof *kind_names ? kind_names[k] : "?";
}

int vnd_diag_opt_rtt_kind(const char *name, const char *s, enum vnd_rtt_kind *dst, char **err)
{
    for (size_t i = 0; i < sizeof kind_names / sizeof *kind_names; i++)
        if (!strcmp(s, kind_names[i])) {
            *dst = (enum vnd_rtt_kind)i;
            return 0;
        }
    *err = vnd_diag_errf("%s takes all, handshake, data or fin, not '%.80s'", name, s);
    return -1;
}

int vnd_diag_opt_name(const char *name, const char *s, const char **dst, char **err)
{
    if (!*s) {
        *err = vnd_diag_errf("%s takes a name, not an empty string", name);
        return -1;
    }
    *dst = s;
    return 0;
}

int vnd_diag_opt_add(const char *name, const char *s, const char **list, int *n, int max,
                     char **err)
{
    if (*n >= max) {
        *err = vnd_diag_errf("%s takes at most %d names", name, max);
        return -1;
    }
    if (vnd_diag_opt_name(name, s, &list[*n], err))
        return -1;
    (*n)++;
    return 0;
}

int vnd_diag_opt_seconds(const char *name, double v, bool positive, double *dst, char **err)
{
    /* a slot is at least a nanosecond, the timestamps' own grain: a
     * shorter one numbers slots past where a double counts by ones */
    if (!isfinite(v) || (positive ? !(v >= VND_DIAG_SLOT_MIN) : !(v >= 0))) {
        *err = vnd_diag_errf("%s must be a number of seconds %s", name,
                             positive ? "of 1e-9 (a nanosecond) or more" : "of 0 or more");
        return -1;
    }
    *dst = v;
    return 0;
}

int vnd_diag_opt_seconds_text(const char *name, const char *s, bool positive, double *dst,
                              char **err)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end) {
        *err = vnd_diag_errf("%s takes seconds, not '%.80s'", name, s);
        return -1;
    }
    return vnd_diag_opt_seconds(name, v, positive, dst, err);
}

/* ---- JSON ---- */

enum kind { K_NAME, K_TEXT, K_LIST, K_SLOT, K_SECONDS, K_TIME, K_BY, K_BOOL, K_KIND };

static const struct key {
    const char *key;
    enum kind kind;
} keys[] = {
    {"table", K_NAME},   {"in", K_NAME},      {"out", K_NAME},      {"field", K_NAME},
    {"where", K_TEXT},   {"path", K_LIST},    {"fields", K_LIST},   {"slot", K_SLOT},
    {"window", K_SECONDS}, {"by", K_BY},      {"by_flow", K_BOOL},  {"list", K_BOOL},
    {"since", K_TIME},   {"until", K_TIME},   {"kind", K_KIND},     {"no_rollup", K_BOOL},
};

/* The string of `v`, or NULL and *err. */
static const char *string_of(const char *name, const json_t *v, char **err)
{
    if (!json_is_string(v)) {
        *err = vnd_diag_errf("%s must be a string", name);
        return NULL;
    }
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v)) {
        *err = vnd_diag_errf("%s contains a NUL character", name);
        return NULL;
    }
    return s;
}

static int set_list(struct vnd_diag_opts *o, const char *key, const char *name,
                    const json_t *v, char **err)
{
    bool path = !strcmp(key, "path");
    const char **list = path ? o->path : o->fields;
    int *n = path ? &o->npath : &o->nfields;
    int max = path ? VND_DIAG_PATH_MAX : VND_DIAG_FIELDS_MAX;
    if (!json_is_array(v)) {
        *err = vnd_diag_errf("%s must be an array of %s names", name, path ? "table" : "column");
        return -1;
    }
    *n = 0;
    for (size_t i = 0; i < json_array_size(v); i++) {
        const char *s = string_of(name, json_array_get(v, i), err);
        if (!s || vnd_diag_opt_add(name, s, list, n, max, err))
            return -1;
    }
    return 0;
}

static int set_one(struct vnd_diag_opts *o, const struct key *k, const json_t *v, char **err)
{
    char name[32];
    snprintf(name, sizeof name, "\"%s\"", k->key);
    const char *s;
    switch (k->kind) {
    case K_NAME: {
        const char **dst = !strcmp(k->key, "table") ? &o->table
                           : !strcmp(k->key, "in")  ? &o->in
                           : !strcmp(k->key, "out") ? &o->out
                                                    : &o->field;
        return (s = string_of(name, v, err)) ? vnd_diag_opt_name(name, s, dst, err) : -1;
    }
    case K_TEXT:
        return (o->where = string_of(name, v, err)) ? 0 : -1;
    case K_LIST:
        return set_list(o, k->key, name, v, err);
    case K_SLOT:
    case K_SECONDS:
        if (!json_is_number(v)) {
            *err = vnd_diag_errf("%s must be a number of seconds", name);
            return -1;
        }
        return vnd_diag_opt_seconds(name, json_number_value(v), k->kind == K_SLOT,
                                    k->kind == K_SLOT ? &o->slot : &o->window, err);
    case K_TIME:
        if (!json_is_number(v) || !isfinite(json_number_value(v))) {
            *err = vnd_diag_errf("%s must be a number (a ts)", name);
            return -1;
        }
        *(!strcmp(k->key, "since") ? &o->since : &o->until) = json_number_value(v);
        return 0;
    case K_BY:
        return (s = string_of(name, v, err)) ? vnd_diag_opt_by(name, s, &o->by, err) : -1;
    case K_KIND:
        return (s = string_of(name, v, err)) ? vnd_diag_opt_rtt_kind(name, s, &o->rtt_kind, err)
                                             : -1;
    case K_BOOL:
        if (!json_is_boolean(v)) {
            *err = vnd_diag_errf("%s must be true or false", name);
            return -1;
        }
        *(!strcmp(k->key, "list") ? &o->list : !strcmp(k->key, "no_rollup") ? &o->no_rollup
                                                                              : &o->by_flow)
            = json_is_true(v);
        return 0;
    }
    return -1;
}

int vnd_diag_opts_from_json(const json_t *j, struct vnd_diag_opts *o, char **err)
{
    vnd_diag_opts_init(o);
    if (!json_is_object(j)) {
        *err = vnd_diag_errf("the options must be a JSON object");
        return -1;
    }
    const char *key;
    json_t *v;
    /* jansson's iteration does not modify the object */
    json_object_foreach((json_t *)j, key, v) {
        const struct key *k = NULL;
        for (size_t i = 0; i < sizeof keys / sizeof *keys && !k; i++)
            if (!strcmp(keys[i].key, key))
                k = &keys[i];
        if (!k) {
            *err = vnd_diag_errf("unknown option \"%.80s\" (options: table, in, out, path, "
                                 "field, fields, where, slot, by, by_flow, list, window, "
                                 "since, until, kind, no_rollup)", key);
            return -1;
        }
        if (set_one(o, k, v, err))
            return -1;
    }
    return 0;
}

json_t *vnd_diag_opts_to_json(const struct vnd_diag_opts *o)
{
    struct vnd_diag_opts d;
    vnd_diag_opts_init(&d);
    json_t *j = json_object();
    bool bad = false;       /* a string jansson refuses (not UTF-8) */
    struct { const char *key, *v; } strs[] = {
        {"table", o->table}, {"in", o->in}, {"out", o->out}, {"field", o->field},
        {"where", o->where},
    };
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        if (strs[i].v && json_object_set_new(j, strs[i].key, json_string(strs[i].v)))
            bad = true;
    struct { const char *key; const char *const *v; int n; } lists[] = {
        {"path", o->path, o->npath}, {"fields", o->fields, o->nfields},
    };
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        if (lists[i].n <= 0)
            continue;
        json_t *a = json_array();
        for (int k = 0; k < lists[i].n; k++)
            if (json_array_append_new(a, json_string(lists[i].v[k])))
                bad = true;
        json_object_set_new(j, lists[i].key, a);
    }
    if (o->slot != d.slot)
        json_object_set_new(j, "slot", json_real(o->slot));
    if (o->window != d.window)
        json_object_set_new(j, "window", json_real(o->window));
    if (o->by != d.by)
        json_object_set_new(j, "by", json_string(vnd_diag_by_name(o->by)));
    if (o->by_flow)
        json_object_set_new(j, "by_flow", json_true());
    if (o->rtt_kind != d.rtt_kind)
        json_object_set_new(j, "kind", json_string(vnd_diag_rtt_kind_name(o->rtt_kind)));
    if (o->list)
        json_object_set_new(j, "list", json_true());
    if (o->no_rollup)
        json_object_set_new(j, "no_rollup", json_true());
    if (!isnan(o->since))
        json_object_set_new(j, "since", json_real(o->since));
    if (!isnan(o->until))
        json_object_set_new(j, "until", json_real(o->until));
    if (bad) {
        json_decref(j);
        return NULL;
    }
    return j;
}
