/* options.c — one option table for the command line and the config file. */
#include "daemon/options.h"

#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static void list_clear(struct vnd_opt_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Sets option `d` from `value`; `where` prefixes errors. */
static int set_option(const struct vnd_opts *o, void *settings, const struct vnd_opt_def *d,
                      const char *value, const char *where)
{
    char *p = (char *)settings + d->off;
    char *end;
    switch (d->type) {
    case VND_OPT_STR:
        free(*(char **)p);
        *(char **)p = vnd_xstrdup(value);
        return 0;
    case VND_OPT_LIST: {
        struct vnd_opt_list *l = (struct vnd_opt_list *)p;
        l->v = vnd_xrealloc(l->v, (size_t)(l->n + 1) * sizeof *l->v);
        l->v[l->n++] = vnd_xstrdup(value);
        return 0;
    }
    case VND_OPT_LONG: {
        long v = strtol(value, &end, 10);
        if (*end || end == value || v < d->lo || v > d->hi) {
            fprintf(stderr, "%s: %s%s takes a whole number from %.0f to %.0f, not '%s'\n",
                    o->prog, where, d->name, d->lo, d->hi, value);
            return -1;
        }
        *(long *)p = v;
        return 0;
    }
    case VND_OPT_DOUBLE: {
        double v = strtod(value, &end);
        if (*end || end == value || !isfinite(v) || v < d->lo || v > d->hi) {
            fprintf(stderr, "%s: %s%s takes a number from %g to %g, not '%s'\n", o->prog,
                    where, d->name, d->lo, d->hi, value);
            return -1;
        }
        *(double *)p = v;
        return 0;
    }
    }
    return -1;
}

char *vnd_opts_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = '\0';
    return s;
}

/* `name = value` lines; `#` comments; names are the long options. */
static int load_config(const struct vnd_opts *o, void *settings, const char *path)
{
    char *text = NULL;
    int rc = vnd_read_file(path, &text, NULL);
    if (rc) {
        fprintf(stderr, "%s: %s: %s\n", o->prog, path, strerror(rc));
        return -1;
    }
    int line = 0, status = 0;
    /* line by line, empty ones too (strtok would skip them and miscount) */
    for (char *l = text, *next; l && !status; l = next) {
        next = strchr(l, '\n');
        if (next)
            *next++ = '\0';
        line++;
        char *hash = strchr(l, '#');
        if (hash)
            *hash = '\0';
        char *t = vnd_opts_trim(l);
        if (!*t)
            continue;
        char *eq = strchr(t, '=');
        if (!eq) {
            fprintf(stderr, "%s: %s:%d:%d: expected `name = value`\n", o->prog, path, line,
                    (int)(t - l) + 1);
            status = -1;
            break;
        }
        *eq = '\0';
        char *name = vnd_opts_trim(t), *value = vnd_opts_trim(eq + 1);
        const struct vnd_opt_def *d = NULL;
        for (size_t i = 0; i < o->ndefs; i++)
            if (!strcmp(o->defs[i].name, name))
                d = &o->defs[i];
        char where[512];
        snprintf(where, sizeof where, "%s:%d:%d: ", path, line, (int)(value - l) + 1);
        if (!d) {
            fprintf(stderr, "%s: %s:%d:%d: unknown option '%s' (see %s --help)\n", o->prog,
                    path, line, (int)(name - l) + 1, name, o->prog);
            status = -1;
        } else if (set_option(o, settings, d, value, where)) {
            status = -1;
        }
    }
    free(text);
    return status;
}

static const struct vnd_opt_def *by_key(const struct vnd_opts *o, int key)
{
    for (size_t i = 0; i < o->ndefs; i++)
        if (o->defs[i].key == key)
            return &o->defs[i];
    return NULL;
}

int vnd_opts_parse(const struct vnd_opts *o, int argc, char **argv, void *settings)
{
    struct option *lo = vnd_xcalloc(o->ndefs + 3, sizeof *lo);
    char shorts[128] = "c:h";
    size_t n = 0, ns = strlen(shorts);
    for (size_t i = 0; i < o->ndefs; i++) {
        lo[n++] = (struct option){o->defs[i].name, required_argument, NULL, o->defs[i].key};
        if (o->defs[i].key < 256 && ns + 3 < sizeof shorts) {
            shorts[ns++] = (char)o->defs[i].key;
            shorts[ns++] = ':';
            shorts[ns] = '\0';
        }
    }
    lo[n++] = (struct option){"config", required_argument, NULL, 'c'};
    lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
    lo[n] = (struct option){0, 0, 0, 0};
    int status = 0, c;
    /* The config file first, so the command line overrides it. */
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1)
        if (c == 'c' && load_config(o, settings, optarg)) {
            status = 2;
            goto out;
        }
    bool from_file[64] = {false};   /* lists the file filled, by def index */
    for (size_t i = 0; i < o->ndefs && i < 64; i++)
        from_file[i] = o->defs[i].type == VND_OPT_LIST
                       && ((struct vnd_opt_list *)((char *)settings + o->defs[i].off))->n;
    opterr = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        if (c == 'h') {
            fputs(o->usage, stdout);
            status = 1;
            goto out;
        }
        if (c == 'c')
            continue;
        const struct vnd_opt_def *d = by_key(o, c);
        if (!d) {
            fprintf(stderr, "try `%s --help`\n", o->prog);
            status = 2;
            goto out;
        }
        size_t at = (size_t)(d - o->defs);
        /* A list given on the command line replaces the file's. */
        if (d->type == VND_OPT_LIST && at < 64 && from_file[at]) {
            list_clear((struct vnd_opt_list *)((char *)settings + d->off));
            from_file[at] = false;
        }
        if (set_option(o, settings, d, optarg, "--")) {
            status = 2;
            goto out;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", o->prog, argv[optind]);
        status = 2;
    }
out:
    free(lo);
    return status;
}

void vnd_opts_free(const struct vnd_opts *o, void *settings)
{
    for (size_t i = 0; i < o->ndefs; i++) {
        char *p = (char *)settings + o->defs[i].off;
        if (o->defs[i].type == VND_OPT_STR) {
            free(*(char **)p);
            *(char **)p = NULL;
        } else if (o->defs[i].type == VND_OPT_LIST) {
            list_clear((struct vnd_opt_list *)p);
        }
    }
}
