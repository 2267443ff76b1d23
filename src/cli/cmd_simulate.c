/* cmd_simulate.c — `vnd simulate`: the paper's data-center scalability
 * study (§5.4, Table 4) with capacities of our choosing. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "output/output.h"
#include "sim/sim.h"

#define MAX_UTILS 64

static void usage(FILE *f)
{
    fprintf(f,
"usage: vnd simulate [--servers N] [--util U,U,...] [--nic-gbps G]\n"
"                    [--switch-gbps G] [--executor-gbps G | --executor-pps P\n"
"                    [--packet-bytes B]] [--vms MIN:MAX] [--flow-mbps MIN:MAX]\n"
"                    [--flows random|ring|chain|pairs] [--place traffic|vms|random]\n"
"                    [--switch-load sender|both] [--order random|arrival]\n"
"                    [--stop first-reject|all] [--seed S] [-f table|csv|json]\n"
"\n"
"Simulates the VND paper's data center (SoCC'13, section 5.4, Table 4): how\n"
"many tenants can capture (and query in real time) all of their virtual\n"
"network's traffic.  One row per utilization; same seed, same output.\n"
"\n"
"The paper's parameters (the defaults):\n"
"  --servers N          servers behind one big switch (10000)\n"
"  --nic-gbps G         NIC capacity per direction, full duplex (10)\n"
"  --switch-gbps G      virtual switch capacity: forwarding + mirroring (18)\n"
"  --executor-gbps G    traffic one server's query executor runs a throughput\n"
"                       query over in real time (3); or derive it from a\n"
"                       measurement: --executor-pps P (packets/s the query\n"
"                       processes) x --packet-bytes B (1500) x 8 bits\n"
"  --vms MIN:MAX        VMs per tenant, uniform (2:20)\n"
"  --flow-mbps MIN:MAX  rate of each flow, uniform (1:100)\n"
"  --util U,...         link utilization targets, fractions in (0,1] or\n"
"                       percentages with %% (0.1,0.3,0.5,0.7,0.9)\n"
"\n"
"What the paper leaves open, and what we chose (docs/simulator.md says why):\n"
"  --flows random       how a tenant's VMs talk: random = each VM sends one flow\n"
"                       to a random other VM of its tenant (n flows; this is what\n"
"                       makes 18K tenants fill 10%% of the links, as in Table 4);\n"
"                       ring = VM i to VM i+1 mod n (n flows); chain = a pipeline,\n"
"                       VM i to i+1 (n-1 flows); pairs = one flow per pair of VMs\n"
"                       (n(n-1)/2 flows)\n"
"  --place sent         \"most available resources\", VM by VM: sent = the server\n"
"                       whose VMs send the least traffic (what its switch\n"
"                       forwards and mirrors and its executor queries: the\n"
"                       rule that reproduces Table 4); traffic = least sent +\n"
"                       received; max = least of max(sent, received); vms =\n"
"                       fewest VMs; random = any server (no balancing).  Ties\n"
"                       go to the lowest server number.  Only servers the VM\n"
"                       fits on are candidates: its sent and received rates\n"
"                       within the NIC and the switch even if no peer lands\n"
"                       beside it (filter, then weigh, as cloud schedulers do)\n"
"  allocation round     tenants arrive one by one until the mean NIC utilization\n"
"                       (inter-server traffic / (servers x NIC)) reaches the\n"
"                       target; the tenant crossing it stays.  A tenant with a\n"
"                       VM that fits nowhere ends the round (allocation=full).\n"
"                       Traffic between co-located VMs uses no link.\n"
"  --switch-load sender what the switch forwards before it can mirror: sender =\n"
"                       each flow once, on its sender's server (what Table 4's\n"
"                       numbers imply); both = on both ends (tx + rx + local)\n"
"  capture point        a tenant captures all its traffic once, at every VM's\n"
"                       output: the sender's virtual switch mirrors each flow\n"
"                       into the table server on that host, whose executor\n"
"                       queries it (VND keeps table servers local)\n"
"  a request            needs, on every server it touches, spare switch capacity\n"
"                       (and, for a query, spare executor capacity) for all of\n"
"                       its traffic there; all or nothing\n"
"  --order arrival      tenants request diagnosis in the order they were placed\n"
"                       (the paper's numbers come out this way), or random\n"
"                       (a seeded shuffle)\n"
"  --stop first-reject  stop at the first rejected request (the paper), or try\n"
"                       every tenant (all)\n"
"  --seed S             the random seed (1); rates are integer kbit/s and the\n"
"                       generator is our own xoshiro256**, so the output is the\n"
"                       same on every machine\n"
"\n"
"Columns: target_util_pct, tenants, vms, flows, link_util_pct (reached),\n"
"collected_pct (tenants whose capture fit the virtual switches), queried_pct\n"
"(capture and real-time query fit: Table 4's \"successful query\"),\n"
"queried_link_pct (traffic queried in real time, %% of all NIC capacity),\n"
"collect_limit and query_limit (what rejected the first failed request),\n"
"allocation (threshold reached, or full).\n");
}

/* 0 and *out when s is a whole number in [lo, hi]. */
static int parse_int(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* 0 and *out when s is a finite number > 0 and <= hi. */
static int parse_pos(const char *s, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* "A:B" of numbers > 0 with A <= B, each times `scale`, rounded. */
static int parse_range(const char *s, double hi, double scale, int whole, long long *a, long long *b)
{
    const char *colon = strchr(s, ':');
    if (!colon || colon == s || colon - s >= 64)
        return -1;
    char left[64];
    snprintf(left, sizeof left, "%.*s", (int)(colon - s), s);
    double x, y;
    if (parse_pos(left, hi, &x) || parse_pos(colon + 1, hi, &y) || x > y)
        return -1;
    if (whole && (x != floor(x) || y != floor(y)))
        return -1;
    *a = llround(x * scale);
    *b = llround(y * scale);
    return *a >= 1 ? 0 : -1;
}

/* "0.1,0.3" or "10%,30%" → fractions. */
static int parse_utils(const char *s, double *u, int *n)
{
    *n = 0;
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= 32 || *n == MAX_UTILS)
            return -1;
        char item[32];
        snprintf(item, sizeof item, "%.*s", (int)len, p);
        int pct = item[len - 1] == '%';
        if (pct)
            item[len - 1] = '\0';
        double v;
        if (parse_pos(item, pct ? 100 : 1, &v))
            return -1;
        u[(*n)++] = pct ? v / 100 : v;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* Index of s in names[], or -1. */
static int pick(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

static double pct(double part, double whole)
{
    return round(part / whole * 10000.0) / 100.0;
}

static int bad(const char *opt, const char *takes, const char *got)
{
    fprintf(stderr, "vnd simulate: %s takes %s, not '%s' (try --help)\n", opt, takes, got);
    return 2;
}

int cmd_simulate(int argc, char **argv)
{
    static const char *const flows_names[] = {"random", "ring", "chain", "pairs"};
    static const char *const place_names[] = {"traffic", "sent", "max", "vms", "random"};
    static const char *const load_names[] = {"sender", "both"};
    static const char *const order_names[] = {"random", "arrival"};
    static const char *const stop_names[] = {"first-reject", "all"};

    struct vnd_sim_params p;
    vnd_sim_params_default(&p);
    double utils[MAX_UTILS] = {0.1, 0.3, 0.5, 0.7, 0.9};
    int nutils = 5;
    enum vnd_fmt fmt = VND_FMT_TABLE;
    const char *exec_gbps = NULL, *exec_pps = NULL, *pkt_bytes = NULL;

    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i], *val = NULL;
        if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
            usage(stdout);
            return 0;
        }
        /* --opt=value or --opt value */
        char name[64];
        const char *eq = strncmp(opt, "--", 2) ? NULL : strchr(opt, '=');
        if (eq && eq - opt < (long)sizeof name) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - opt), opt);
            opt = name;
            val = eq + 1;
        } else if (opt[0] == '-') {
            if (i + 1 >= argc) {
                fprintf(stderr, "vnd simulate: %s needs a value (try --help)\n", opt);
                return 2;
            }
            val = argv[++i];
        } else {
            fprintf(stderr, "vnd simulate: unexpected '%s' (try --help)\n", opt);
            return 2;
        }

        long long a, b;
        double g;
        int k;
        if (!strcmp(opt, "--servers")) {
            if (parse_int(val, 1, 10000000, &a))
                return bad(opt, "a whole number from 1 to 10000000", val);
            p.servers = (int)a;
        } else if (!strcmp(opt, "--util")) {
            if (parse_utils(val, utils, &nutils))
                return bad(opt, "a comma-separated list of fractions in (0,1] or percentages "
                                "like 30%", val);
        } else if (!strcmp(opt, "--nic-gbps") || !strcmp(opt, "--switch-gbps")) {
            if (parse_pos(val, 1000, &g) || llround(g * 1e6) < 1)
                return bad(opt, "Gbit/s, a number above 0 and at most 1000", val);
            *(opt[2] == 'n' ? &p.nic_kbps : &p.switch_kbps) = llround(g * 1e6);
        } else if (!strcmp(opt, "--executor-gbps")) {
            if (parse_pos(val, 1000, &g) || llround(g * 1e6) < 1)
                return bad(opt, "Gbit/s, a number above 0 and at most 1000", val);
            exec_gbps = val;
            p.executor_kbps = llround(g * 1e6);
        } else if (!strcmp(opt, "--executor-pps")) {
            if (parse_pos(val, 1e11, &g))
                return bad(opt, "packets per second, a number above 0", val);
            exec_pps = val;
        } else if (!strcmp(opt, "--packet-bytes")) {
            if (parse_int(val, 1, 65535, &a))
                return bad(opt, "a packet size in bytes from 1 to 65535", val);
            pkt_bytes = val;
        } else if (!strcmp(opt, "--vms")) {
            if (parse_range(val, 1000, 1, 1, &a, &b) || a < 2)
                return bad(opt, "MIN:MAX, whole numbers with 2 <= MIN <= MAX <= 1000", val);
            p.vms_min = (int)a;
            p.vms_max = (int)b;
        } else if (!strcmp(opt, "--flow-mbps")) {
            if (parse_range(val, 1e6, 1000, 0, &a, &b))
                return bad(opt, "MIN:MAX in Mbit/s, with 0.001 <= MIN <= MAX", val);
            p.flow_min_kbps = a;
            p.flow_max_kbps = b;
        } else if (!strcmp(opt, "--flows")) {
            if ((k = pick(val, flows_names, 4)) < 0)
                return bad(opt, "random, ring, chain or pairs", val);
            p.flows = (enum vnd_sim_flows)k;
        } else if (!strcmp(opt, "--place")) {
            if ((k = pick(val, place_names, 5)) < 0)
                return bad(opt, "traffic, sent, max, vms or random", val);
            p.place = (enum vnd_sim_place)k;
        } else if (!strcmp(opt, "--switch-load")) {
            if ((k = pick(val, load_names, 2)) < 0)
                return bad(opt, "sender or both", val);
            p.switch_load = (enum vnd_sim_switch)k;
        } else if (!strcmp(opt, "--order")) {
            if ((k = pick(val, order_names, 2)) < 0)
                return bad(opt, "random or arrival", val);
            p.order = (enum vnd_sim_order)k;
        } else if (!strcmp(opt, "--stop")) {
            if ((k = pick(val, stop_names, 2)) < 0)
                return bad(opt, "first-reject or all", val);
            p.stop = (enum vnd_sim_stop)k;
        } else if (!strcmp(opt, "--seed")) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(val, &end, 0);
            if (errno || end == val || *end || val[0] == '-')
                return bad(opt, "a whole number from 0 to 2^64-1", val);
            p.seed = s;
        } else if (!strcmp(opt, "-f") || !strcmp(opt, "--format")) {
            if (vnd_fmt_parse(val, &fmt))
                return bad(opt, "table, csv or json", val);
        } else {
            fprintf(stderr, "vnd simulate: unknown option '%s' (try --help)\n", opt);
            return 2;
        }
    }

    if (exec_pps && exec_gbps) {
        fprintf(stderr, "vnd simulate: give --executor-gbps or --executor-pps, not both\n");
        return 2;
    }
    if (pkt_bytes && !exec_pps) {
        fprintf(stderr, "vnd simulate: --packet-bytes only applies to --executor-pps\n");
        return 2;
    }
    if (exec_pps) {
        /* kbit/s = packets/s × bytes × 8 / 1000 */
        double pps = strtod(exec_pps, NULL);
        double bytes = pkt_bytes ? strtod(pkt_bytes, NULL) : 1500;
        double kbps = pps * bytes * 8 / 1000;
        if (kbps < 1 || kbps > 1e9) {
            fprintf(stderr, "vnd simulate: --executor-pps %s x %g bytes is %g Gbit/s; "
                            "it must be between 1 kbit/s and 1000 Gbit/s\n",
                    exec_pps, bytes, kbps / 1e6);
            return 2;
        }
        p.executor_kbps = llround(kbps);
    }
    const char *why;
    if (vnd_sim_params_check(&p, &why)) {
        fprintf(stderr, "vnd simulate: %s\n", why);
        return 2;
    }

    struct vnd_out *o = vnd_out_new(stdout, fmt);
    const char *cols[] = {"target_util_pct", "tenants", "vms", "flows", "link_util_pct",
                          "collected_pct", "queried_pct", "queried_link_pct",
                          "collect_limit", "query_limit", "allocation"};
    vnd_out_columns(o, (int)(sizeof cols / sizeof *cols), cols);
    double capacity = (double)p.servers * (double)p.nic_kbps;
    for (int u = 0; u < nutils; u++) {
        struct vnd_sim_result r;
        int rc = vnd_sim_run(&p, utils[u], &r);
        if (rc) {
            vnd_out_finish(o);
            if (rc == E2BIG)
                fprintf(stderr, "vnd simulate: reaching %g%% utilization needs more than "
                                "20 million tenants; raise --flow-mbps or lower --nic-gbps "
                                "or --servers\n", utils[u] * 100);
            else
                fprintf(stderr, "vnd simulate: %s\n", strerror(rc));
            return 1;
        }
        vnd_out_real(o, round(utils[u] * 10000.0) / 100.0);
        vnd_out_int(o, r.tenants);
        vnd_out_int(o, r.vms);
        vnd_out_int(o, r.flows);
        vnd_out_real(o, round(r.link_util * 10000.0) / 100.0);
        if (r.tenants > 0) {
            vnd_out_real(o, pct((double)r.collected, (double)r.tenants));
            vnd_out_real(o, pct((double)r.queried, (double)r.tenants));
        } else {
            vnd_out_null(o);
            vnd_out_null(o);
        }
        vnd_out_real(o, pct((double)r.queried_kbps, capacity));
        vnd_out_text(o, vnd_sim_limit_name(r.collect_limit));
        vnd_out_text(o, vnd_sim_limit_name(r.query_limit));
        vnd_out_text(o, r.full ? "full" : "threshold");
        vnd_out_end_row(o);
    }
    vnd_out_finish(o);
    return 0;
}
