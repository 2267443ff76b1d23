/* test_diag_opts.c — diagnostic options as JSON (diag/opts_json.h): every
 * option survives vnd_diag_opts_to_json → vnd_diag_opts_from_json, only
 * what differs from the defaults is written, and what the command line
 * would refuse (and what JSON adds: unknown keys, wrong types, NULs) is
 * refused with a message naming the key. */
#include "../tap.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>

#include "diag/opts_json.h"

static bool same_num(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool same_opts(const struct vnd_diag_opts *a, const struct vnd_diag_opts *b)
{
    if (!same_str(a->table, b->table) || !same_str(a->in, b->in) || !same_str(a->out, b->out)
        || !same_str(a->field, b->field) || !same_str(a->where, b->where)
        || a->npath != b->npath || a->nfields != b->nfields)
        return false;
    for (int i = 0; i < a->npath; i++)
        if (!same_str(a->path[i], b->path[i]))
            return false;
    for (int i = 0; i < a->nfields; i++)
        if (!same_str(a->fields[i], b->fields[i]))
            return false;
    return same_num(a->slot, b->slot) && a->by == b->by && a->by_flow == b->by_flow
           && a->list == b->list && a->no_rollup == b->no_rollup
           && same_num(a->window, b->window)
           && same_num(a->origin, b->origin) && same_num(a->since, b->since)
           && same_num(a->until, b->until) && a->pg == b->pg;
}

/* o → JSON text → back: the same options. */
static void round_trip(const struct vnd_diag_opts *o, const char *what)
{
    json_t *j = vnd_diag_opts_to_json(o);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    json_t *back = text ? json_loads(text, 0, NULL) : NULL;
    struct vnd_diag_opts p;
    char *err = NULL;
    int rc = back ? vnd_diag_opts_from_json(back, &p, &err) : -1;
    CHECK(rc == 0 && same_opts(o, &p), "round trip: %s", what);
    if (rc || !same_opts(o, &p))
        printf("#   %s %s\n", text ? text : "(no json)", err ? err : "");
    free(err);
    free(text);
    json_decref(back);
}

/* The JSON of o, compact with sorted keys (malloc'd). */
static char *dump(const struct vnd_diag_opts *o)
{
    json_t *j = vnd_diag_opts_to_json(o);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return s;
}

/* `text` refused with a message containing `want`. */
static void refused(const char *text, const char *want)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_ALLOW_NUL, &je);
    struct vnd_diag_opts o;
    char *err = NULL;
    int rc = j ? vnd_diag_opts_from_json(j, &o, &err) : 0;
    CHECK(rc == -1 && err && strstr(err, want), "refused: %s", text);
    if (!(rc == -1 && err && strstr(err, want)))
        printf("#   got \"%s\", want it to name %s\n", err ? err : "(accepted)", want);
    free(err);
    json_decref(j);
}

static void accepted(const char *text, struct vnd_diag_opts *o, json_t **keep)
{
    *keep = json_loads(text, 0, NULL);
    char *err = NULL;
    int rc = vnd_diag_opts_from_json(*keep, o, &err);
    CHECK(rc == 0, "accepted: %s", text);
    if (rc)
        printf("#   %s\n", err);
    free(err);
}

int main(void)
{
    struct vnd_diag_opts o;

    /* defaults: nothing to say */
    vnd_diag_opts_init(&o);
    char *s = dump(&o);
    CHECK_EQ_STR(s, "{}", "the defaults are the empty object");
    free(s);
    round_trip(&o, "defaults");

    /* each app's kind of options */
    vnd_diag_opts_init(&o);
    o.table = "tr_1";
    o.slot = 0.25;
    o.by_flow = true;
    round_trip(&o, "throughput -t tr_1 --slot 0.25 --by-flow");
    s = dump(&o);
    CHECK_EQ_STR(s, "{\"by_flow\":true,\"slot\":0.25,\"table\":\"tr_1\"}",
                 "only what differs from the defaults is written");
    free(s);

    vnd_diag_opts_init(&o);
    o.in = "B";
    o.out = "C";
    o.by = VND_BY_PAYLOAD;
    o.window = 0;
    o.list = true;
    round_trip(&o, "correlate --in B --out C --by payload --window 0 --list");

    vnd_diag_opts_init(&o);
    o.table = "B";
    o.no_rollup = true;
    round_trip(&o, "rtt -t B --no-rollup");

    vnd_diag_opts_init(&o);
    o.in = "B";
    o.out = "C";
    o.by = VND_BY_ORDER;
    round_trip(&o, "--by order");
    s = dump(&o);
    CHECK(s && strstr(s, "\"by\":\"order\""), "by is written by name");
    free(s);

    vnd_diag_opts_init(&o);
    for (int i = 0; i < VND_DIAG_PATH_MAX; i++)
        o.path[o.npath++] = i % 2 ? "odd \"name\"" : "x";
    round_trip(&o, "a path of 16 tables, quotes in a name");

    vnd_diag_opts_init(&o);
    o.table = "t";
    o.fields[o.nfields++] = "src_ip";
    o.fields[o.nfields++] = "dst_port";
    o.field = "proto";
    o.where = "tcp.dst = 80 and ip.src = 10.0.0.0/24";
    round_trip(&o, "fields, field, where");

    vnd_diag_opts_init(&o);
    o.table = "t";
    o.where = "";
    round_trip(&o, "an empty --where (as the command line takes it)");

    vnd_diag_opts_init(&o);
    o.table = "t";
    o.slot = 0.1;                       /* not exact in binary: must survive */
    o.window = 1e-9;
    o.since = 1700000000.123456789;
    o.until = 1700000060.987654321;
    round_trip(&o, "numbers that are not exact in binary, since and until");

    vnd_diag_opts_init(&o);
    o.table = "caf\xc3\xa9";
    round_trip(&o, "a UTF-8 table name");
    o.table = "bad\xff";
    json_t *nj = vnd_diag_opts_to_json(&o);
    CHECK(nj == NULL, "a name that is not UTF-8: no JSON rather than a key left out");
    json_decref(nj);

    /* reading: strings borrowed, integers as numbers */
    json_t *keep;
    accepted("{\"table\": \"tr_1\", \"slot\": 2, \"window\": 0, \"since\": -5, \"until\": 10}",
             &o, &keep);
    CHECK(o.table == json_string_value(json_object_get(keep, "table")),
          "strings are borrowed from the JSON");
    CHECK(o.slot == 2 && o.window == 0 && o.since == -5 && o.until == 10,
          "integers are numbers too");
    CHECK(o.by == VND_BY_ID && isnan(o.origin) && !o.pg, "the rest keeps its defaults");
    json_decref(keep);
    accepted("{\"path\": [], \"fields\": []}", &o, &keep);
    CHECK(o.npath == 0 && o.nfields == 0, "empty lists are no lists");
    json_decref(keep);

    /* refusals, each naming its key */
    refused("{\"tabel\": \"x\"}", "\"tabel\"");
    refused("{\"pg\": true}", "\"pg\"");
    refused("{\"origin\": 0}", "\"origin\"");
    refused("{\"by-flow\": true}", "\"by-flow\"");
    refused("{\"table\": 5}", "\"table\"");
    refused("{\"table\": null}", "\"table\"");
    refused("{\"table\": \"\"}", "\"table\"");
    refused("{\"in\": \"a\\u0000b\"}", "\"in\"");
    refused("{\"out\": [\"x\"]}", "\"out\"");
    refused("{\"field\": true}", "\"field\"");
    refused("{\"where\": 1}", "\"where\"");
    refused("{\"path\": \"a,b\"}", "\"path\"");
    refused("{\"path\": [\"a\", 2]}", "\"path\"");
    refused("{\"path\": [\"a\", \"\"]}", "\"path\"");
    refused("{\"path\": [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\","
            "\"11\",\"12\",\"13\",\"14\",\"15\",\"16\",\"17\"]}", "at most 16");
    refused("{\"fields\": {}}", "\"fields\"");
    refused("{\"slot\": 0}", "\"slot\"");
    refused("{\"slot\": -1}", "\"slot\"");
    /* shorter than a nanosecond: slot numbers past where a double counts
     * by ones (fuzz_diag hung on 1e-300, tests/fuzz/crashers/diag) */
    refused("{\"slot\": 1e-300}", "a nanosecond");
    json_t *ns;
    accepted("{\"table\": \"t\", \"slot\": 1e-9}", &o, &ns);
    json_decref(ns);
    refused("{\"slot\": \"1\"}", "\"slot\"");
    refused("{\"window\": -0.5}", "\"window\"");
    refused("{\"window\": false}", "\"window\"");
    refused("{\"by\": \"ip\"}", "\"by\"");
    refused("{\"by\": 1}", "\"by\"");
    refused("{\"by_flow\": 1}", "\"by_flow\"");
    refused("{\"list\": \"yes\"}", "\"list\"");
    refused("{\"no_rollup\": \"yes\"}", "\"no_rollup\"");
    refused("{\"since\": \"0\"}", "\"since\"");
    refused("{\"until\": null}", "\"until\"");
    refused("[]", "object");

    /* the shared checks, as `vnd diag` calls them */
    char *err = NULL;
    double v = 7;
    CHECK(vnd_diag_opt_seconds_text("--slot", "0.5", true, &v, &err) == 0 && v == 0.5,
          "--slot 0.5");
    CHECK(vnd_diag_opt_seconds_text("--slot", "0", true, &v, &err) == -1 && err
              && strstr(err, "--slot") && v == 0.5, "--slot 0 refused, naming --slot");
    free(err);
    err = NULL;
    CHECK(vnd_diag_opt_seconds_text("--window", "0", false, &v, &err) == 0 && v == 0,
          "--window 0");
    CHECK(vnd_diag_opt_seconds_text("--window", "1s", false, &v, &err) == -1 && err
              && strstr(err, "'1s'"), "--window 1s refused, quoting it");
    free(err);
    err = NULL;
    CHECK(vnd_diag_opt_seconds_text("--window", "inf", false, &v, &err) == -1,
          "--window inf refused");
    free(err);
    err = NULL;
    CHECK(vnd_diag_opt_seconds_text("--window", "nan", false, &v, &err) == -1,
          "--window nan refused");
    free(err);
    err = NULL;
    enum vnd_diag_by by = VND_BY_ID;
    CHECK(vnd_diag_opt_by("--by", "payload", &by, &err) == 0 && by == VND_BY_PAYLOAD,
          "--by payload");
    CHECK(vnd_diag_opt_by("--by", "Payload", &by, &err) == -1 && by == VND_BY_PAYLOAD,
          "--by is case-sensitive, as before");
    free(err);
    err = NULL;
    for (int b = VND_BY_ID; b <= VND_BY_ORDER; b++) {
        enum vnd_diag_by back = VND_BY_ID;
        CHECK(vnd_diag_opt_by("--by", vnd_diag_by_name((enum vnd_diag_by)b), &back, &err) == 0
                  && (int)back == b, "by name %s reads back", vnd_diag_by_name((enum vnd_diag_by)b));
    }
    return tap_done();
}
