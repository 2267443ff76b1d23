/* coord.c — drives the coordinator module (control/coordinator.h) the
 * way vnd-controld does, for tests/integration/distributed_pg.sh: no
 * bridges or table servers needed, the trace tables already in the table
 * servers' PostgreSQL.
 *
 *   tool_coord [-p PWFILE] [-t SECONDS] [-m MB] [-c] CONNINFO CMD ARGS...
 *     (-c: diag answers only the complete slots, as "complete": true)
 *     server HOST CONNINFO [PWFILE]          foreign server + user mapping
 *     create TENANT NUM HOST:TABLE[:ipfix]...   a diagnosis (standard columns;
 *                                            :ipfix, flow records')
 *     drop NUM
 *     query TENANT NUM FORMAT SQL HOST:TABLE...   rows to stdout
 *     diag TENANT NUM FORMAT APP OPTIONS-JSON HOST:TABLE...   (show-sql
 *                                            with FORMAT "sql")
 *
 * HOST:TABLE also names the capture point (the table's name) for
 * messages.  Exit 0, or 1 with "STATUS: message" on stderr. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/coord_diag.h"
#include "control/coordinator.h"
#include "diag/opts_json.h"
#include "lang/parseconf.h"
#include "store/sqlmem.h"
#include "util/util.h"

static int die(int status, char *err)
{
    fprintf(stderr, "%d: %s\n", status, err ? err : "failed");
    free(err);
    return 1;
}

static char *read_pw(const char *path)
{
    char *s = NULL;
    size_t n = 0;
    if (!path || vnd_read_file(path, &s, &n))
        return NULL;
    s[strcspn(s, "\r\n")] = 0;
    return s;
}

/* HOST:TABLE arguments as capture points. */
static struct vnd_coord_point *points_of(char **args, int n)
{
    struct vnd_coord_point *p = vnd_xcalloc((size_t)n + 1, sizeof *p);
    for (int i = 0; i < n; i++) {
        char *colon = strchr(args[i], ':');
        if (!colon) {
            fprintf(stderr, "tool_coord: %s: write HOST:TABLE\n", args[i]);
            exit(2);
        }
        *colon = 0;
        const char **t = vnd_xcalloc(2, sizeof *t);
        t[0] = colon + 1;
        p[i] = (struct vnd_coord_point){args[i], colon + 1, t, 1};
    }
    return p;
}

static void points_free(struct vnd_coord_point *p, int n)
{
    for (int i = 0; i < n; i++)
        free((void *)p[i].tables);
    free(p);
}

int main(int argc, char **argv)
{
    vnd_sqlmem_install();
    const char *pwfile = NULL;
    double timeout = 60;
    long memory_mb = 0;
    bool complete = false;
    int o;
    while ((o = getopt(argc, argv, "+p:t:m:c")) != -1) {
        if (o == 'c')
            complete = true;
        else if (o == 'p')
            pwfile = optarg;
        else if (o == 'm')
            memory_mb = atol(optarg);
        else if (o == 't')
            timeout = atof(optarg);
        else
            return 2;
    }
    if (argc - optind < 2) {
        fprintf(stderr, "usage: tool_coord [-p PWFILE] [-t S] [-m MB] [-c] CONNINFO CMD ARGS...\n");
        return 2;
    }
    const char *conninfo = argv[optind], *cmd = argv[optind + 1];
    char **a = argv + optind + 2;
    int na = argc - optind - 2;
    char *err = NULL, *pw = read_pw(pwfile);
    struct vnd_coord *c = NULL;
    if (vnd_coord_open(conninfo, pw, timeout, &c, &err))
        return die(500, err);
    free(pw);
    vnd_coord_set_memory(c, memory_mb);
    int ret = 0;
    if (!strcmp(cmd, "server") && na >= 2) {
        char *spw = read_pw(na > 2 ? a[2] : NULL);
        if (vnd_coord_server(c, a[0], a[1], spw, &err))
            ret = die(500, err);
        free(spw);
    } else if (!strcmp(cmd, "create") && na >= 3) {
        /* HOST:TABLE:ipfix: a table of flow records, of their default
         * parse configuration */
        struct vnd_parse_conf *pc = vnd_parseconf_default(), *fpc = NULL;
        if (vnd_parseconf_parse(vnd_parseconf_flow_default_text, "flow", &fpc, &err))
            return die(500, err);
        int n = na - 2;
        struct vnd_coord_point *p = points_of(a + 2, n);
        struct vnd_coord_table *t = vnd_xcalloc((size_t)n, sizeof *t);
        for (int i = 0; i < n; i++) {
            char *kind = strchr(p[i].point, ':');
            bool records = kind && !strcmp(kind, ":ipfix");
            if (kind)
                *kind = 0;
            const struct vnd_parse_rule *r = records ? &fpc->rules[0] : &pc->rules[0];
            t[i] = (struct vnd_coord_table){p[i].host, p[i].point, r->ncolumns,
                                            (const char *const *)r->columns, r->coltypes,
                                            records};
        }
        char *remote = vnd_strdup_printf("%s-d%s", a[0], a[1]);
        if (vnd_coord_diagnosis_create(c, a[0], atoll(a[1]), remote, t, n, &err))
            ret = die(500, err);
        free(remote);
        free(t);
        points_free(p, n);
        vnd_parseconf_free(pc);
        vnd_parseconf_free(fpc);
    } else if (!strcmp(cmd, "drop") && na == 1) {
        if (vnd_coord_diagnosis_drop(c, atoll(a[0]), &err))
            ret = die(500, err);
    } else if ((!strcmp(cmd, "query") && na >= 4) || (!strcmp(cmd, "diag") && na >= 5)) {
        bool diag = cmd[0] == 'd';
        int first = diag ? 5 : 4, n = na - first;
        struct vnd_coord_point *p = points_of(a + first, n);
        struct vnd_coord_session *s = NULL;
        enum vnd_fmt fmt = VND_FMT_JSON;
        bool sql_only = !strcmp(a[2], "sql");
        if (!sql_only && vnd_fmt_parse(a[2], &fmt))
            return die(400, vnd_strdup_printf("format %s", a[2]));
        int st = vnd_coord_session_open(c, a[0], atoll(a[1]), p, n, &s, &err);
        if (!st && !diag) {
            st = vnd_coord_exec(s, a[3], &err);
            if (!st) {
                struct vnd_out *out = vnd_out_new(stdout, fmt);
                int nc = vnd_coord_ncols(s);
                const char **names = vnd_xcalloc((size_t)nc + 1, sizeof *names);
                for (int i = 0; i < nc; i++)
                    names[i] = vnd_coord_colname(s, i);
                vnd_out_columns(out, nc, names);
                free(names);
                int rc;
                while ((rc = vnd_coord_fetch(s, &err)) == 1)
                    vnd_coord_out_row(s, out);
                vnd_out_finish(out);
                st = rc;
            }
        } else if (!st) {
            json_t *j = json_loads(a[4], 0, NULL);
            struct vnd_diag_opts opts;
            const struct vnd_diag_app *app = vnd_diag_find(a[3]);
            if (!app)
                st = 400, err = vnd_strdup_printf("no app %s", a[3]);
            else if (!j || vnd_diag_opts_from_json(j, &opts, &err))
                st = 400;
            else if (sql_only) {
                char *sql = NULL;
                st = vnd_coord_diag(s, app, &opts, NULL, &sql, &err);
                if (!st)
                    printf("%s\n", sql);
                free(sql);
            } else {
                struct vnd_diag_view v = {.out = stdout, .fmt = fmt, .min_t = -INFINITY,
                                          .verdict = true, .complete = complete};
                st = vnd_coord_diag(s, app, &opts, &v, NULL, &err);
            }
            json_decref(j);
        }
        vnd_coord_session_close(s);
        points_free(p, n);
        if (st)
            ret = die(st, err);
    } else {
        fprintf(stderr, "tool_coord: unknown command or wrong arguments: %s\n", cmd);
        ret = 2;
    }
    vnd_coord_close(c);
    return ret;
}
