/* demo_lb.c — `vnd demo lb`: clients reach backends through an L4
 * balancer that splits their TCP connections; headers and payloads tell
 * nothing, so `vnd diag correlate --by order` pairs the connections by the
 * order they were made (paper §3.5 case 3), and the model's truth says how
 * many pairs are right. */
#include "cli/demo_lb.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/demo_dir.h"
#include "diag/diag.h"
#include "store/guard.h"
#include "synth/lb.h"

static const char usage_text[] =
    "usage: vnd demo lb [--dir DIR] [--seed N] [--generate-only] [model options]\n"
    "\n"
    "Paper §3.5 case 3: clients connect to an L4 load balancer (10.0.0.100:80)\n"
    "that accepts each TCP connection and opens a new one to a backend\n"
    "(10.0.2.x:8080, round robin).  The two connections share no header field,\n"
    "and every client fetches the same page, so payloads cannot tell them apart\n"
    "either.  Capture FE sees the balancer's client side, BE its backend side.\n"
    "The demo writes FE.pcap, BE.pcap, pairs.csv (the truth: which client\n"
    "connection became which backend connection) and truth.txt into DIR\n"
    "(default: a temporary directory, removed afterwards), parses them, runs\n"
    "  vnd diag correlate --in FE --out BE --by order\n"
    "and counts the pairs it got right.\n"
    "\n"
    "  --generate-only        write the captures and the truth, then stop\n"
    "\n"
    "the model (defaults in brackets):\n"
    "  --conns N              client connections [500]\n"
    "  --clients N            client hosts [20]\n"
    "  --backends N           backends [4]\n"
    "  --rate R               connection openings per second, Poisson [200]\n"
    "  --client-delay MIN,MAX one-way client delay, seconds, per client [0.0005,0.01]\n"
    "  --backend-delay S      one-way balancer-backend delay [0.0002]\n"
    "  --lb-delay S           balancer time from client ACK to backend SYN [0.0003]\n"
    "  --lb-jitter S          plus uniform [0, S) per connection [0.0002]\n"
    "  --threaded             a thread per connection: SYNs may leave out of order\n"
    "                         (default: one accept loop, first come first served)\n"
    "  --syn-drop P           the balancer drops a client SYN (retransmitted) [0]\n"
    "  --port-range N         ephemeral ports per client; small: 4-tuples repeat [28232]\n"
    "  --lb-port-range N      the balancer's source ports per backend [28232]\n"
    "  --resp-bytes N         response size [20000]\n";

/* The truth: out_flow and out_rank by n (1-based; [0] unused). */
struct truth {
    char **out;
    int n;
};

static int read_truth(const char *path, struct truth *t)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[512];
    int cap = 0;
    t->n = 0;
    t->out = NULL;
    if (!fgets(line, sizeof line, f)) {       /* header */
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        char *a = strchr(line, ','), *b = a ? strchr(a + 1, ',') : NULL,
             *c = b ? strchr(b + 1, ',') : NULL;
        if (!c)
            continue;
        *c = 0;
        if (t->n + 2 > cap) {
            cap = cap ? 2 * cap : 1024;
            t->out = realloc(t->out, (size_t)cap * sizeof *t->out);
            if (!t->out)
                abort();
        }
        t->out[++t->n] = strdup(b + 1);
        if (!t->out[t->n])
            abort();
    }
    fclose(f);
    return 0;
}

static void free_truth(struct truth *t)
{
    for (int i = 1; t->out && i <= t->n; i++)
        free(t->out[i]);
    free(t->out);
}

/* Runs correlate --by order and counts rows whose out_flow is the truth's. */
static int judge(const char *db, const struct truth *tr, int *right, int *rows)
{
    struct vnd_guard *g = NULL;
    char *err = NULL;
    if (vnd_guard_open(db, NULL, &g, &err)) {
        fprintf(stderr, "vnd demo lb: %s\n", err);
        free(err);
        return -1;
    }
    struct vnd_diag_opts o;
    vnd_diag_opts_init(&o);
    o.in = "FE";
    o.out = "BE";
    o.by = VND_BY_ORDER;
    int ret = -1;
    sqlite3_stmt *st = NULL;
    char *sql = vnd_diag_sql(&vnd_diag_correlate, vnd_guard_db(g), &o, &err);
    if (!sql || vnd_guard_prepare(g, sql, &st, &err)) {
        fprintf(stderr, "vnd demo lb: correlate: %s\n", err);
        free(err);
        goto out_sql;
    }
    *right = *rows = 0;
    vnd_guard_start(g);
    while (sqlite3_step(st) == SQLITE_ROW) {
        long long n = sqlite3_column_int64(st, 0);
        const char *out = (const char *)sqlite3_column_text(st, 3);
        (*rows)++;
        if (n >= 1 && n <= tr->n && out && !strcmp(out, tr->out[n]))
            (*right)++;
    }
    ret = 0;
    sqlite3_finalize(st);
out_sql:
    free(sql);
    vnd_guard_close(g);
    return ret;
}

static int parse_pair(const char *s, double *a, double *b)
{
    char *end;
    *a = strtod(s, &end);
    if (*end != ',')
        return -1;
    *b = strtod(end + 1, &end);
    return *end ? -1 : 0;
}

int demo_lb(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"dir", required_argument, NULL, 'D'},         {"seed", required_argument, NULL, 's'},
        {"generate-only", no_argument, NULL, 'g'},     {"conns", required_argument, NULL, 'n'},
        {"clients", required_argument, NULL, 'c'},     {"backends", required_argument, NULL, 'b'},
        {"rate", required_argument, NULL, 'r'},        {"client-delay", required_argument, NULL, 'C'},
        {"backend-delay", required_argument, NULL, 'B'}, {"lb-delay", required_argument, NULL, 'l'},
        {"lb-jitter", required_argument, NULL, 'j'},   {"threaded", no_argument, NULL, 't'},
        {"syn-drop", required_argument, NULL, 'S'},    {"port-range", required_argument, NULL, 'p'},
        {"lb-port-range", required_argument, NULL, 'P'}, {"resp-bytes", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},              {0, 0, 0, 0},
    };
    struct vnd_lb_params p;
    vnd_lb_defaults(&p);
    const char *dir = NULL;
    bool gen_only = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'D': dir = optarg; break;
        case 's': p.seed = strtoull(optarg, NULL, 10); break;
        case 'g': gen_only = true; break;
        case 'n': p.conns = atoi(optarg); break;
        case 'c': p.clients = atoi(optarg); break;
        case 'b': p.backends = atoi(optarg); break;
        case 'r': p.rate = atof(optarg); break;
        case 'C':
            if (parse_pair(optarg, &p.client_delay_min, &p.client_delay_max)) {
                fprintf(stderr, "vnd demo lb: --client-delay takes MIN,MAX in seconds, not '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'B': p.backend_delay = atof(optarg); break;
        case 'l': p.lb_delay = atof(optarg); break;
        case 'j': p.lb_jitter = atof(optarg); break;
        case 't': p.threaded = true; break;
        case 'S': p.syn_drop = atof(optarg); break;
        case 'p': p.port_range = atoi(optarg); break;
        case 'P': p.lb_port_range = atoi(optarg); break;
        case 'R': p.resp_bytes = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs("try `vnd demo lb --help`\n", stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vnd demo lb: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    const char *bad = vnd_lb_check(&p);
    if (bad) {
        fprintf(stderr, "vnd demo lb: %s\n", bad);
        return 2;
    }
    struct demo_dir wd;
    if (demo_dir_open(&wd, dir, "demo-lb"))
        return 1;
    dir = wd.path;
    char fe[4096], be[4096], db[4096], truth[4096], pairs[4096];
    snprintf(fe, sizeof fe, "FE=%s/FE.pcap", dir);
    snprintf(be, sizeof be, "BE=%s/BE.pcap", dir);
    snprintf(db, sizeof db, "%s/traces.db", dir);
    snprintf(truth, sizeof truth, "%s/truth.txt", dir);
    snprintf(pairs, sizeof pairs, "%s/pairs.csv", dir);
    int status = 1;

    printf("VND demo — correlating the two halves of split connections (paper §3.5 case 3)\n\n"
           "  %d clients ─ FE ─ balancer ─ BE ─ %d backends\n\n"
           "1. %d connections at %g/s; the balancer opens each backend connection\n"
           "   %g-%g ms after the client's ACK, %s.  Writing FE.pcap, BE.pcap\n"
           "   and the truth to %s ...\n",
           p.clients, p.backends, p.conns, p.rate, p.lb_delay * 1e3,
           (p.lb_delay + p.lb_jitter) * 1e3,
           p.threaded ? "a thread per connection" : "in one accept loop", dir);
    fflush(stdout);
    struct vnd_lb_truth t;
    char *err = NULL;
    if (vnd_lb_generate(&p, dir, &t, &err)) {
        fprintf(stderr, "vnd demo lb: %s\n", err);
        free(err);
        goto out_dir;
    }
    FILE *tf = fopen(truth, "w");
    if (tf) {
        vnd_lb_truth_write(&t, tf);
        fclose(tf);
    }
    printf("   %lld and %lld packets at FE and BE; %lld backend SYNs left out of order.\n",
           t.packets_fe, t.packets_be, t.reordered);
    if (gen_only) {
        printf("   captures, pairs.csv and truth.txt are in %s\n", dir);
        return 0;
    }
    printf("\n2. $ vnd parse -o %s %s %s\n", db, fe, be);
    fflush(stdout);
    unlink(db);
    char *pargv[] = {"parse", "-q", "-o", db, fe, be, NULL};
    if (cmd_parse(6, pargv)) {
        fprintf(stderr, "vnd demo lb: parsing failed\n");
        goto out_dir;
    }
    printf("\n3. $ vnd diag correlate -d %s --in FE --out BE --by order\n", db);
    struct truth tr;
    if (read_truth(pairs, &tr)) {
        fprintf(stderr, "vnd demo lb: cannot read %s\n", pairs);
        goto out_dir;
    }
    int right = 0, rows = 0;
    if (judge(db, &tr, &right, &rows) == 0) {
        printf("   %d rows; %d of %d connections paired with their own backend connection.\n",
               rows, right, tr.n);
        if (right < tr.n)
            printf("   The method assumes the balancer opens backend connections in the order\n"
                   "   it accepted the clients; %lld of them were opened out of that order.\n",
                   t.reordered);
        status = 0;
    }
    free_truth(&tr);
out_dir:
    {
        const char *files[] = {"FE.pcap", "BE.pcap", "traces.db", "traces.db-wal",
                               "traces.db-shm", "truth.txt", "pairs.csv", NULL};
        demo_dir_close(&wd, files);
    }
    return status;
}
