/* cmd_service.c — `vnd submit`, `list`, `status`, `stop`, `fetch-pcap` and
 * `admin`: a tenant's diagnoses on the control server, through its API
 * (docs/api/controld.yaml; the client is src/api/client.c). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/client.h"
#include "cli/commands.h"
#include "cli/remote.h"
#include "output/output.h"
#include "util/util.h"

/* ---- what every command shares ---- */

struct common {
    const char *cmd;            /* "submit", "admin policy"... */
    const char *url, *token;
    enum vnd_fmt fmt;
};

#define COMMON_LONG_OPTS                                                  \
    {"url", required_argument, NULL, VND_REMOTE_OPT_URL},                 \
    {"token", required_argument, NULL, VND_REMOTE_OPT_TOKEN},             \
    {"format", required_argument, NULL, 'f'},                             \
    {"help", no_argument, NULL, 'h'}

#define HELP_FORMAT                                                                     \
    "  -f, --format FMT     table (default), csv, or json (the server's answer as\n"  \
    "                       is, docs/api/controld.yaml)\n"

/* Handles the shared options: 1 handled, 0 not ours, 2 --help shown,
 * -1 a bad value (said). */
static int common_opt(struct common *k, int c, const char *usage)
{
    switch (c) {
    case VND_REMOTE_OPT_URL: k->url = optarg; return 1;
    case VND_REMOTE_OPT_TOKEN: k->token = optarg; return 1;
    case 'f':
        if (vnd_fmt_parse(optarg, &k->fmt)) {
            fprintf(stderr, "vnd %s: -f takes table, csv or json, not '%s'\n", k->cmd, optarg);
            return -1;
        }
        return 1;
    case 'h': fputs(usage, stdout); return 2;
    default: return 0;
    }
}

static int usage_error(const struct common *k, const char *msg, const char *arg)
{
    fprintf(stderr, "vnd %s: ", k->cmd);
    fprintf(stderr, msg, arg);
    fprintf(stderr, " (try `vnd %s --help`)\n", k->cmd);
    return 2;
}

/* The shared getopt loop for commands with no options of their own.
 * Returns -1 to go on, else the exit status. */
static int parse_common(struct common *k, int argc, char **argv, const char *usage, int nargs)
{
    static const struct option opts[] = {COMMON_LONG_OPTS, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        int r = common_opt(k, c, usage);
        if (r == 2)
            return 0;
        if (r != 1)
            return r < 0 ? 2 : usage_error(k, "%s", "bad option");
    }
    if (argc - optind != nargs) {
        if (argc - optind > nargs)
            return usage_error(k, "unexpected '%s'", argv[optind + nargs]);
        fprintf(stderr, "vnd %s: missing arguments\n%s", k->cmd, usage);
        return 2;
    }
    return -1;
}

static void print_json(const json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s) {
        puts(s);
        free(s);
    }
}

/* A string member, or "" when absent or not a string. */
static const char *str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* Calls the API: the parsed answer, or NULL with the error said. */
static json_t *call(const struct common *k, const struct vnd_client *cl, const char *method,
                    const char *path, const json_t *body)
{
    char *err = NULL;
    json_t *j = vnd_client_json(cl, method, path, body, NULL, &err);
    if (!j) {
        fprintf(stderr, "vnd %s: %s\n", k->cmd, err);
        free(err);
    }
    return j;
}

/* ---- vnd submit ---- */

static const char submit_usage[] =
    "usage: vnd submit -c COLLECT.conf [-p PARSE.conf] [--duration S] [-f FMT]\n"
    "                  [--url URL] [--token T]\n"
    "\n"
    "Starts a diagnosis on the control server: the trace collection\n"
    "configuration says which flows to capture where (your virtual names:\n"
    "nodes, links, capture points), the parse configuration which packets\n"
    "become rows of which tables with which columns (default: the standard\n"
    "columns).  Prints the new diagnosis's id on the first line, then its\n"
    "traces and how each is captured: mode (mirror, sflow, ipfix, tap), sampling\n"
    "(1 in N packets) and its method (count or hash), snaplen (bytes kept)\n"
    "and flow_sampling (1 flow in N copied by the switch, as really set).\n"
    "An error in a file is reported at its place, e.g. collect.conf:3:7: ...,\n"
    "under the files' names without their folders.\n"
    "\n"
    "options:\n"
    "  -c, --collect FILE   the trace collection configuration (required)\n"
    "  -p, --parse FILE     the parse configuration\n"
    "      --duration S     capture stops by itself after S seconds\n"
    HELP_FORMAT
    VND_REMOTE_HELP_OPTS
    "  -h, --help           this text\n"
    "\n"
    VND_REMOTE_HELP_ENV
    "\n"
    "exit status: 0 started; 1 refused (the server's reason) or unreachable; 2 usage.\n";

/* A configuration file as a JSON string: NULL (said) when it cannot be
 * read or is not UTF-8 text. */
static json_t *conf_text(const struct common *k, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    int e = vnd_read_file(path, &text, &len);
    if (e) {
        fprintf(stderr, "vnd %s: cannot read %s: %s\n", k->cmd, path, strerror(e));
        return NULL;
    }
    json_t *s = json_stringn(text, len);
    free(text);
    if (!s)
        fprintf(stderr, "vnd %s: %s is not UTF-8 text\n", k->cmd, path);
    return s;
}

/* The name a file is sent under (collect_name, parse_name): its last
 * component, in the characters the server takes (letters, digits, '.',
 * '_', '-'; others become '_'), at most 63 bytes.  Malloc'd. */
static char *file_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash && slash[1] ? slash + 1 : path;
    size_t n = strlen(base) < 63 ? strlen(base) : 63;
    char *name = vnd_xstrndup(base, n);
    for (char *c = name; *c; c++)
        if (!(((*c | 32) >= 'a' && (*c | 32) <= 'z') || (*c >= '0' && *c <= '9')
              || strchr("._-", *c)))
            *c = '_';
    if (!*name) {
        free(name);
        name = vnd_xstrdup("conf");
    }
    return name;
}

/* The error of a refused configuration goes out as the server wrote it
 * (FILE:LINE:COL: ...), where editors and compilers put theirs. */
static void submit_error(const char *err, const char *collect, const char *parse)
{
    const char *names[] = {collect, parse};
    for (int i = 0; i < 2; i++) {
        size_t n = names[i] ? strlen(names[i]) : 0;
        if (n && !strncmp(err, names[i], n) && err[n] == ':') {
            fprintf(stderr, "%s\n", err);
            return;
        }
    }
    fprintf(stderr, "vnd submit: %s\n", err);
}

int cmd_submit(int argc, char **argv)
{
    static const struct option opts[] = {
        {"collect", required_argument, NULL, 'c'},
        {"parse", required_argument, NULL, 'p'},
        {"duration", required_argument, NULL, 1001},
        COMMON_LONG_OPTS, {0, 0, 0, 0},
    };
    struct common k = {.cmd = "submit"};
    const char *collect = NULL, *parse = NULL;
    double duration = NAN;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:p:f:h", opts, NULL)) != -1) {
        int r = common_opt(&k, c, submit_usage);
        if (r == 2)
            return 0;
        if (r < 0)
            return 2;
        if (r == 1)
            continue;
        char *end;
        switch (c) {
        case 'c': collect = optarg; break;
        case 'p': parse = optarg; break;
        case 1001:
            duration = strtod(optarg, &end);
            if (*end || end == optarg || !(duration > 0) || !isfinite(duration))
                return usage_error(&k, "--duration takes seconds > 0, not '%s'", optarg);
            break;
        default: return usage_error(&k, "%s", "bad option");
        }
    }
    if (optind != argc)
        return usage_error(&k, "unexpected '%s'", argv[optind]);
    if (!collect) {
        fprintf(stderr, "vnd submit: -c COLLECT.conf is required\n%s", submit_usage);
        return 2;
    }
    struct vnd_client cl;
    if (vnd_remote_client(&cl, k.cmd, k.url, k.token))
        return 1;
    json_t *body = json_object();
    json_t *ctext = conf_text(&k, collect), *ptext = parse ? conf_text(&k, parse) : NULL;
    if (!ctext || (parse && !ptext)) {
        json_decref(ctext);
        json_decref(ptext);
        json_decref(body);
        vnd_client_clear(&cl);
        return 1;
    }
    json_object_set_new(body, "collect", ctext);
    char *cname = file_name(collect), *pname = parse ? file_name(parse) : NULL;
    json_object_set_new(body, "collect_name", json_string(cname));
    if (ptext) {
        json_object_set_new(body, "parse", ptext);
        json_object_set_new(body, "parse_name", json_string(pname));
    }
    if (!isnan(duration))
        json_object_set_new(body, "duration", json_real(duration));
    char *err = NULL;
    json_t *d = vnd_client_json(&cl, "POST", "/v1/diagnoses", body, NULL, &err);
    json_decref(body);
    vnd_client_clear(&cl);
    if (!d)
        submit_error(err, cname, pname);
    free(cname);
    free(pname);
    if (!d) {
        free(err);
        return 1;
    }
    if (k.fmt == VND_FMT_JSON) {
        print_json(d);
        json_decref(d);
        return 0;
    }
    if (k.fmt == VND_FMT_TABLE)
        printf("%s\n", str(d, "id"));
    struct vnd_out *o = vnd_out_new(stdout, k.fmt);
    /* how each point is captured: mode, 1-in-N at the table server (or
     * the switch's for sflow/ipfix) and by what method, bytes kept, 1
     * flow in N copied */
    static const char *const ccols[] = {"diagnosis", "trace", "node", "point", "direction",
                                        "pattern", "tables", "mode", "sampling", "method",
                                        "snaplen", "flow_sampling"};
    bool csv = k.fmt == VND_FMT_CSV;
    vnd_out_columns(o, csv ? 12 : 11, csv ? ccols : ccols + 1);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(d, "traces"), i, t) {
        if (csv)
            vnd_out_text(o, str(d, "id"));
        vnd_out_text(o, str(t, "name"));
        vnd_out_text(o, str(t, "node"));
        vnd_out_text(o, str(t, "point"));
        vnd_out_text(o, str(t, "direction"));
        vnd_out_text(o, str(t, "pattern"));
        /* the tables as a list, "a b" */
        json_t *tabs = json_object_get(t, "tables"), *tb;
        size_t j;
        char *list = vnd_xstrdup("");
        json_array_foreach(tabs, j, tb) {
            char *n = vnd_strdup_printf("%s%s%s", list, j ? " " : "", json_string_value(tb)
                                                                   ? json_string_value(tb) : "");
            free(list);
            list = n;
        }
        vnd_out_text(o, list);
        free(list);
        vnd_remote_cell(o, json_object_get(t, "mode"));
        vnd_remote_cell(o, json_object_get(t, "sampling"));
        /* count or hash (an older control server: none) */
        vnd_remote_cell(o, json_object_get(t, "sampling_method"));
        vnd_remote_cell(o, json_object_get(t, "snaplen"));
        vnd_remote_cell(o, json_object_get(t, "flow_sampling"));
        vnd_out_end_row(o);
    }
    vnd_out_finish(o);
    json_decref(d);
    return 0;
}

/* ---- vnd list, vnd admin list ---- */

static const char list_usage[] =
    "usage: vnd list [-f FMT] [--url URL] [--token T]\n"
    "\n"
    "Your diagnoses on the control server: id, state (running, done, failed),\n"
    "when each was created and ends (UTC), and how many traces it has.\n"
    "\n"
    "options:\n"
    HELP_FORMAT
    VND_REMOTE_HELP_OPTS
    "  -h, --help           this text\n"
    "\n"
    VND_REMOTE_HELP_ENV;

/* The rows of {"diagnoses": [SUMMARY...]}; `tenant`: the admin column. */
static void write_summaries(const json_t *j, enum vnd_fmt fmt, bool tenant)
{
    struct vnd_out *o = vnd_out_new(stdout, fmt);
    static const char *const cols[] = {"id", "state", "created", "ends", "traces", "tenant"};
    vnd_out_columns(o, tenant ? 6 : 5, cols);
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(j, "diagnoses"), i, d) {
        for (int c = 0; c < (tenant ? 6 : 5); c++)
            vnd_remote_cell(o, json_object_get(d, cols[c]));
        vnd_out_end_row(o);
    }
    vnd_out_finish(o);
}

int cmd_list(int argc, char **argv)
{
    struct common k = {.cmd = "list"};
    int r = parse_common(&k, argc, argv, list_usage, 0);
    if (r >= 0)
        return r;
    struct vnd_client cl;
    if (vnd_remote_client(&cl, k.cmd, k.url, k.token))
        return 1;
    json_t *j = call(&k, &cl, "GET", "/v1/diagnoses", NULL);
    vnd_client_clear(&cl);
    if (!j)
        return 1;
    if (k.fmt == VND_FMT_JSON)
        print_json(j);
    else
        write_summaries(j, k.fmt, false);
    json_decref(j);
    return 0;
}

/* ---- vnd status ---- */

static const char status_usage[] =
    "usage: vnd status ID [-f FMT] [--url URL] [--token T]\n"
    "\n"
    "A diagnosis's state and, per trace, how complete its capture is:\n"
    "  seen            packets with the trace's tag that reached its table server\n"
    "  matched         of those kept, the ones a parse rule's filter matched\n"
    "  stored          rows written\n"
    "  sampled_out     skipped by 1-in-N sampling (not a loss)\n"
    "  sampling_now    the N the table server samples at now: above the trace's\n"
    "                  sampling when its CPU budget raised it (docs/cost.md)\n"
    "  dropped_queue   lost because the table server's packet queue was full\n"
    "  dropped_kernel  frames the kernel dropped on the mirror interface while\n"
    "                  the trace existed: an upper bound on the trace's own\n"
    "  complete        yes: nothing dropped; no: dropped_queue > 0; maybe: only\n"
    "                  dropped_kernel > 0 (the interface's, perhaps not ours)\n"
    "  first_ts, last_ts  the first and last packet (seconds since the epoch)\n"
    "\n"
    "options:\n"
    HELP_FORMAT
    VND_REMOTE_HELP_OPTS
    "  -h, --help           this text\n"
    "\n"
    VND_REMOTE_HELP_ENV;

static json_int_t num(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? json_integer_value(v) : (json_int_t)json_number_value(v);
}

/* `vnd CMD ID`: the options, then METHOD /v1/diagnoses/ID.  Returns the
 * answer, or NULL with the exit status in *rc. */
static json_t *on_diagnosis(struct common *k, int argc, char **argv, const char *usage,
                            const char *method, int *rc)
{
    int r = parse_common(k, argc, argv, usage, 1);
    if (r >= 0) {
        *rc = r;
        return NULL;
    }
    const char *id = argv[optind];
    *rc = 2;
    if (!vnd_remote_name_ok(k->cmd, "diagnosis id", id))
        return NULL;
    struct vnd_client cl;
    *rc = 1;
    if (vnd_remote_client(&cl, k->cmd, k->url, k->token))
        return NULL;
    char *path = vnd_strdup_printf("/v1/diagnoses/%s", id);
    json_t *d = call(k, &cl, method, path, NULL);
    free(path);
    vnd_client_clear(&cl);
    return d;
}

int cmd_status(int argc, char **argv)
{
    struct common k = {.cmd = "status"};
    int rc;
    json_t *d = on_diagnosis(&k, argc, argv, status_usage, "GET", &rc);
    if (!d)
        return rc;
    if (k.fmt == VND_FMT_JSON) {
        print_json(d);
        json_decref(d);
        return 0;
    }
    if (k.fmt == VND_FMT_TABLE) {
        const json_t *ends = json_object_get(d, "ends");
        printf("%s  %s  created %s  %s%s\n\n", str(d, "id"), str(d, "state"),
               str(d, "created"), json_is_string(ends) ? "ends " : "no end set",
               json_is_string(ends) ? json_string_value(ends) : "");
    }
    static const char *const cols[] = {"trace", "node", "point", "direction", "seen",
                                       "matched", "stored", "sampled_out", "sampling_now",
                                       "dropped_queue", "dropped_kernel", "complete", "first_ts",
                                       "last_ts"};
    const int ncols = (int)(sizeof cols / sizeof *cols);
    struct vnd_out *o = vnd_out_new(stdout, k.fmt);
    vnd_out_columns(o, ncols, cols);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(d, "traces"), i, t) {
        for (int c = 0; c < ncols; c++) {
            if (c == 0) {
                vnd_out_text(o, str(t, "name"));
            } else if (!strcmp(cols[c], "complete")) {
                json_int_t q = num(t, "dropped_queue"), kd = num(t, "dropped_kernel");
                vnd_out_text(o, q > 0 ? "no" : kd > 0 ? "maybe" : "yes");
            } else {
                vnd_remote_cell(o, json_object_get(t, cols[c]));
            }
        }
        vnd_out_end_row(o);
    }
    vnd_out_finish(o);
    json_decref(d);
    return 0;
}

/* ---- vnd stop ---- */

static const char stop_usage[] =
    "usage: vnd stop ID [-f FMT] [--url URL] [--token T]\n"
    "\n"
    "Ends a diagnosis: its capture rules leave the switches, and its traces,\n"
    "trace tables and raw packets are deleted from the table servers.\n"
    "\n"
    "options:\n"
    HELP_FORMAT
    VND_REMOTE_HELP_OPTS
    "  -h, --help           this text\n"
    "\n"
    VND_REMOTE_HELP_ENV;

int cmd_stop(int argc, char **argv)
{
    struct common k = {.cmd = "stop"};
    int rc;
    json_t *d = on_diagnosis(&k, argc, argv, stop_usage, "DELETE", &rc);
    if (!d)
        return rc;
    if (k.fmt == VND_FMT_JSON) {
        print_json(d);
    } else {
        struct vnd_out *o = vnd_out_new(stdout, k.fmt);
        static const char *const cols[] = {"id", "state"};
        vnd_out_columns(o, 2, cols);
        vnd_remote_cell(o, json_object_get(d, "id"));
        vnd_remote_cell(o, json_object_get(d, "state"));
        vnd_out_end_row(o);
        vnd_out_finish(o);
    }
    json_decref(d);
    return 0;
}

/* ---- vnd fetch-pcap ---- */

static const char pcap_usage[] =
    "usage: vnd fetch-pcap ID TRACE -o FILE [--url URL] [--token T]\n"
    "\n"
    "Downloads the raw packets a trace's table server kept (as much as its\n"
    "retention allows) as a pcap file, for Wireshark or `vnd parse`.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE    where to write it (required; - for stdout); a\n"
    "                       failed download leaves no file behind\n"
    VND_REMOTE_HELP_OPTS
    "  -h, --help           this text\n"
    "\n"
    VND_REMOTE_HELP_ENV;

int cmd_fetch_pcap(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"url", required_argument, NULL, VND_REMOTE_OPT_URL},
        {"token", required_argument, NULL, VND_REMOTE_OPT_TOKEN},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    struct common k = {.cmd = "fetch-pcap"};
    const char *output = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        int r = common_opt(&k, c, pcap_usage);
        if (r == 2)
            return 0;
        if (r == 1)
            continue;
        if (c == 'o')
            output = optarg;
        else
            return usage_error(&k, "%s", "bad option");
    }
    if (argc - optind != 2) {
        if (argc - optind > 2)
            return usage_error(&k, "unexpected '%s'", argv[optind + 2]);
        fprintf(stderr, "vnd fetch-pcap: give a diagnosis id and a trace name\n%s", pcap_usage);
        return 2;
    }
    if (!output) {
        fprintf(stderr, "vnd fetch-pcap: -o FILE is required\n%s", pcap_usage);
        return 2;
    }
    const char *id = argv[optind], *trace = argv[optind + 1];
    if (!vnd_remote_name_ok(k.cmd, "diagnosis id", id)
        || !vnd_remote_name_ok(k.cmd, "trace name", trace))
        return 2;
    struct vnd_client cl;
    if (vnd_remote_client(&cl, k.cmd, k.url, k.token))
        return 1;
    bool to_stdout = !strcmp(output, "-");
    /* into a temporary beside FILE, renamed when whole */
    char *tmp = to_stdout ? NULL : vnd_strdup_printf("%s.part", output);
    FILE *f = to_stdout ? stdout : fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "vnd fetch-pcap: cannot write %s: %s\n", tmp, strerror(errno));
        free(tmp);
        vnd_client_clear(&cl);
        return 1;
    }
    char *path = vnd_strdup_printf("/v1/diagnoses/%s/traces/%s/pcap", id, trace);
    char *err = NULL;
    int rc = vnd_client_stream(&cl, "GET", path, NULL, f, NULL, &err);
    free(path);
    vnd_client_clear(&cl);
    if (!to_stdout) {
        if (fclose(f) && !rc) {
            err = vnd_strdup_printf("cannot write %s: %s", tmp, strerror(errno));
            rc = -1;
        }
        if (!rc && rename(tmp, output)) {
            err = vnd_strdup_printf("cannot write %s: %s", output, strerror(errno));
            rc = -1;
        }
        if (rc)
            unlink(tmp);
    }
    free(tmp);
    if (rc) {
        fprintf(stderr, "vnd fetch-pcap: %s\n", err);
        free(err);
        return 1;
    }
    return 0;
}

/* ---- vnd admin ---- */

static const char admin_usage[] =
    "usage: vnd admin list [-f FMT] [--secret-file FILE] [--url URL]\n"
    "       vnd admin policy ID [--secret-file FILE] [--url URL]\n"
    "\n"
    "The operator's view of the control server, with the admin secret (not a\n"
    "tenant token):\n"
    "  list         every tenant's diagnoses, with their tenant\n"
    "  policy ID    the collection policy computed for a diagnosis (paper\n"
    "               Fig. 6): trace ids, patterns, physical capture points,\n"
    "               collectors and paths; never shown to tenants\n"
    "\n"
    "options:\n"
    "      --secret-file FILE  the admin secret (default: $VND_ADMIN_SECRET_FILE)\n"
    "      --url URL        the control server (default: $VND_URL)\n"
    HELP_FORMAT
    "  -h, --help           this text\n"
    "\n"
    "environment:\n"
    "  VND_URL              the control server, e.g. http://controller:7400\n"
    "  VND_ADMIN_SECRET_FILE  a file holding the admin secret\n";

int cmd_admin(int argc, char **argv)
{
    static const struct option opts[] = {
        {"secret-file", required_argument, NULL, 1001},
        {"url", required_argument, NULL, VND_REMOTE_OPT_URL},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    struct common k = {.cmd = "admin"};
    const char *secret_file = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        int r = common_opt(&k, c, admin_usage);
        if (r == 2)
            return 0;
        if (r < 0)
            return 2;
        if (r == 1)
            continue;
        if (c == 1001)
            secret_file = optarg;
        else
            return usage_error(&k, "%s", "bad option");
    }
    if (optind == argc) {
        fprintf(stderr, "vnd admin: give list or policy ID\n%s", admin_usage);
        return 2;
    }
    const char *sub = argv[optind];
    bool policy = !strcmp(sub, "policy");
    if (!policy && strcmp(sub, "list"))
        return usage_error(&k, "no subcommand '%s' (list, policy)", sub);
    int nargs = policy ? 1 : 0;
    if (argc - optind - 1 != nargs) {
        if (argc - optind - 1 > nargs)
            return usage_error(&k, "unexpected '%s'", argv[optind + 1 + nargs]);
        return usage_error(&k, "%s", "policy needs a diagnosis id");
    }
    k.cmd = policy ? "admin policy" : "admin list";
    const char *id = policy ? argv[optind + 1] : NULL;
    if (id && !vnd_remote_name_ok(k.cmd, "diagnosis id", id))
        return 2;
    struct vnd_client cl;
    char *err = NULL;
    if (vnd_client_init_secret(&cl, k.url, secret_file, "VND_ADMIN_SECRET_FILE", &err)) {
        fprintf(stderr, "vnd %s: %s\n", k.cmd, err);
        free(err);
        return 1;
    }
    int status = 0;
    if (policy) {
        char *path = vnd_strdup_printf("/v1/admin/diagnoses/%s/policy", id);
        if (vnd_client_stream(&cl, "GET", path, NULL, stdout, NULL, &err)) {
            fprintf(stderr, "vnd %s: %s\n", k.cmd, err);
            free(err);
            status = 1;
        }
        free(path);
    } else {
        json_t *j = call(&k, &cl, "GET", "/v1/admin/diagnoses", NULL);
        if (!j)
            status = 1;
        else if (k.fmt == VND_FMT_JSON)
            print_json(j);
        else
            write_summaries(j, k.fmt, true);
        json_decref(j);
    }
    vnd_client_clear(&cl);
    return status;
}
