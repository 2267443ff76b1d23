/* cmd_parse.c — `vnd parse`: capture files into trace tables. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/pcap_file.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "ingest/ingest.h"
#include "lang/parseconf.h"
#include "store/store.h"
#include "util/util.h"

/* How long `vnd parse` waits for a store that stopped answering: a
 * PostgreSQL restart takes seconds; a minute also covers a failover. */
#define PG_RETRY_DEFAULT 60.0

/* Exit statuses, distinct so scripts can tell them apart. */
enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_TRUNCATED = 3 };

static const char usage_text[] =
    "usage: vnd parse [-c PARSE.conf] -o TRACES.db [options] [ID=]FILE...\n"
    "       vnd parse [-c PARSE.conf] --pg CONNINFO[#SCHEMA] [options] [ID=]FILE...\n"
    "\n"
    "Parses pcap/pcapng capture files into SQL trace tables (SQLite, or\n"
    "PostgreSQL with --pg).  Each FILE\n"
    "is one trace; its id is ID when given as ID=FILE, else the file's name\n"
    "without directory and extension.\n"
    "\n"
    "Without -c, every trace gets one table named after it (letters, digits\n"
    "and _ kept, other characters become _; a name over 63 characters keeps\n"
    "its first 54, then _ and 8 hex digits of a hash) with the standard\n"
    "columns the diagnostic applications use:\n"
    "    ts, id, src_ip, dst_ip, proto, src_port, dst_port, seq, ack, flags,\n"
    "    payload_len\n"
    "With -c, the parse configuration's rules decide tables, filters and\n"
    "columns (see `vnd fields` for the field names).\n"
    "\n"
    "options:\n"
    "  -c, --config FILE    parse configuration\n"
    "  -o, --output DB      trace database to create or add to\n"
    "      --pg CONNINFO    write into PostgreSQL instead (a libpq connection\n"
    "                       string, e.g. \"host=/run/postgresql dbname=vnd\"; the\n"
    "                       tables go into schema vnd, or SCHEMA after a '#'),\n"
    "                       with COPY; the same as -o pg:CONNINFO\n"
    "      --pg-retry SECONDS  PostgreSQL stopped answering (a restart, a broken\n"
    "                       connection): hold the open batch and try again for\n"
    "                       up to SECONDS (default 60), then send it again whole\n"
    "                       (no row lost or stored twice); past that, stop,\n"
    "                       saying what is stored (exit 1).  Not answering yet\n"
    "                       at the start: wait as long for it\n"
    "      --replace        parse a trace again that the database already has\n"
    "                       (its old rows go with its first new ones; other\n"
    "                       traces' rows in a shared table stay)\n"
    "      --append         add rows to a trace the database already has\n"
    "      --sampling N     keep 1 packet in N (systematic sampling)\n"
    "      --sampling-method count|hash  count: every Nth packet (default);\n"
    "                       hash: packets whose ID hashes to 0 mod N, the same\n"
    "                       packets at a middlebox's input and output\n"
    "      --snaplen N      decode only the first N bytes of each packet\n"
    "      --batch N        packets per committed batch (default 65536)\n"
    "  -q, --quiet          no progress line\n"
    "  -h, --help           this text\n"
    "\n"
    "The database's vnd_meta table records per trace and table: packets seen,\n"
    "matched, stored, sampled out, first/last timestamps and a status\n"
    "(complete, truncated, failed, or ingesting while a parse runs or after\n"
    "one was killed — the rows of every committed batch are then intact).\n"
    "A table with the standard columns also gets a rollup, T__rollup (with --pg\n"
    "too): per 1 s and flow, packets, bytes and RTT samples, from which `vnd\n"
    "diag` answers throughput, groups, distribution and rtt in a time that does\n"
    "not grow with the capture (vnd_meta's rollup columns; docs/rollups.md).\n"
    "VND_ROLLUP=0 keeps none.\n"
    "\n"
    "exit status: 0 done; 1 error (see message); 2 usage; 3 a capture file\n"
    "ends in the middle of a record (every whole packet before it is stored).\n";

struct input {
    char *id;
    const char *path;
    struct vnd_pcap_file *file;
    int trace;
    bool stored;             /* every packet read is in the store */
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static int parse_u32(const char *opt, const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || end == s || v > UINT32_MAX) {
        fprintf(stderr, "vnd parse: %s takes a whole number, not '%s'\n", opt, s);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* "ID=path" → id and path; "dir/name.pcap" → "name". */
static void split_input(char *arg, struct input *in)
{
    char *eq = strchr(arg, '=');
    if (eq && eq != arg && !memchr(arg, '/', (size_t)(eq - arg))) {
        in->id = vnd_xstrndup(arg, (size_t)(eq - arg));
        in->path = eq + 1;
        return;
    }
    in->path = arg;
    const char *base = strrchr(arg, '/');
    base = base ? base + 1 : arg;
    const char *dot = strchr(base, '.');
    in->id = dot && dot != base ? vnd_xstrndup(base, (size_t)(dot - base)) : vnd_xstrdup(base);
}

static struct vnd_parse_conf *load_config(const char *path)
{
    if (!path)
        return vnd_parseconf_default();
    char *text = NULL;
    int rc = vnd_read_file(path, &text, NULL);
    if (rc) {
        fprintf(stderr, "vnd parse: %s: %s\n", path, strerror(rc));
        return NULL;
    }
    struct vnd_parse_conf *conf = NULL;
    char *err = NULL;
    if (vnd_parseconf_parse(text, path, &conf, &err)) {
        fprintf(stderr, "vnd parse: %s\n", err);
        free(err);
    }
    free(text);
    return conf;
}

/* A trace id too long for a table name gets a shortened one (see
 * vnd_store_table_name): the user has to know it to query the table. */
static void say_long_table_name(const struct vnd_parse_conf *conf, const struct input *in)
{
    for (int r = 0; r < conf->nrules; r++) {
        if (conf->rules[r].table || !vnd_parse_rule_covers(&conf->rules[r], in->id))
            continue;
        size_t n = strlen(in->id) + 3;
        char *name = vnd_xmalloc(n);
        if (vnd_store_table_name(in->id, name, n))
            fprintf(stderr, "vnd parse: %s: the table of trace %s is named %s (a table name "
                    "holds at most %d characters); to choose the name, give the file as "
                    "NAME=%s\n", in->path, in->id, name, VND_STORE_NAME_MAX, in->path);
        free(name);
        return;
    }
}

/* A flush that found the store not answering (ENOTCONN: PostgreSQL
 * restarting, a connection broken) left its batch held (ingest.h): the
 * flush is tried again, at the store's own pace, until the store takes
 * the batch or `retry` seconds have passed since it stopped answering.
 * Returns the last flush's result (0: the batch is stored). */
static int wait_for_store(struct vnd_ingest *ing, int rc, char **err, double retry,
                          struct vnd_progress *pr)
{
    if (rc != ENOTCONN)
        return rc;
    double since = vnd_ingest_store_down(ing, NULL);
    vnd_progress_clear(pr);
    fprintf(stderr, "vnd parse: the store does not answer (%s); the open batch is held and "
            "goes again whole once it does: trying for up to %g s (--pg-retry)\n", *err, retry);
    const struct timespec pause = {0, 200 * 1000 * 1000};
    bool lost = false;
    while (rc == ENOTCONN && !interrupted && !lost && vnd_wall_now() - since < retry) {
        nanosleep(&pause, NULL);
        free(*err);
        *err = NULL;
        rc = vnd_ingest_flush(ing, err);
        /* a batch the store could not hold (VND_STORE_HOLD) is given up:
         * a file's parse stops rather than miss rows */
        lost = vnd_ingest_take_lost(ing) > 0;
    }
    if (!rc) {
        fprintf(stderr, "vnd parse: the store answers again after %.1f s; the held batch is "
                "stored, parsing goes on\n", vnd_wall_now() - since);
        return 0;
    }
    if (rc == ENOTCONN) {
        char *why = *err;
        if (lost)
            *err = vnd_strdup_printf("the store does not answer and the open batch grew past "
                                     "what may be held (%s)", why);
        else if (interrupted)
            *err = vnd_strdup_printf("interrupted while the store did not answer (%s)", why);
        else
            *err = vnd_strdup_printf("the store has not answered for %.0f s (--pg-retry): %s",
                                     vnd_wall_now() - since, why);
        free(why);
    }
    return rc;
}

/* Reads one file into its trace.  Returns an exit status; a store that
 * failed (or did not come back) also sets *store_failed: nothing more
 * can be stored. */
static int ingest_file(struct vnd_ingest *ing, struct input *in, struct vnd_progress *pr,
                       double retry, bool *store_failed)
{
    struct pcap_pkthdr *h;
    const uint8_t *data;
    char *err = NULL;
    enum vnd_pcap_next r;
    int status = EXIT_OK, rc = 0;

    vnd_progress_start(pr, in->id, in->file->size);
    while ((r = vnd_pcap_file_next(in->file, &h, &data, &err)) == VND_PCAP_PACKET) {
        vnd_ingest_packet(ing, in->trace, vnd_pcap_ts_ns(h), data, h->caplen, h->len);
        if ((in->file->packets & 1023) == 0) {
            if (interrupted)
                break;
            vnd_progress_update(pr, in->file->packets, vnd_pcap_file_offset(in->file));
        }
        /* asynchronous: other store errors come back at finish */
        if (vnd_ingest_batch_due(ing)
            && (rc = wait_for_store(ing, vnd_ingest_flush_async(ing, &err), &err, retry, pr)))
            break;
    }
    vnd_progress_done(pr, in->file->packets);
    if (rc) {
        fprintf(stderr, "vnd parse: %s: %s\n", in->path, err);
        free(err);
        *store_failed = true;
        return EXIT_ERROR;
    }

    const char *st = "complete";
    if (interrupted) {
        err = vnd_strdup_printf("interrupted after %llu packets",
                                (unsigned long long)in->file->packets);
        fprintf(stderr, "vnd parse: %s: %s\n", in->path, err);
        st = "failed";
        status = EXIT_ERROR;
    } else if (r == VND_PCAP_TRUNCATED) {
        fprintf(stderr, "vnd parse: %s; the %llu whole packets before it are stored\n",
                err, (unsigned long long)in->file->packets);
        st = "truncated";
        status = EXIT_TRUNCATED;
    } else if (r == VND_PCAP_ERROR) {
        fprintf(stderr, "vnd parse: %s; the %llu packets before it are stored\n",
                err, (unsigned long long)in->file->packets);
        st = "failed";
        status = EXIT_ERROR;
    }
    char *ferr = NULL;
    if (wait_for_store(ing, vnd_ingest_finish_trace(ing, in->trace, st, err, &ferr), &ferr,
                       retry, pr)) {
        fprintf(stderr, "vnd parse: %s: %s\n", in->path, ferr);
        free(ferr);
        *store_failed = true;
        status = EXIT_ERROR;
    } else {
        in->stored = true;
    }
    free(err);
    return status;
}

/* The store failed: what of each trace it holds (as its last batch
 * committed) and what it does not, so the user knows what to parse
 * again. */
static void say_stored(const struct vnd_ingest *ing, const struct input *in, int n)
{
    bool again = false;
    for (int i = 0; i < n; i++) {
        uint64_t seen, stored;
        vnd_ingest_committed(ing, in[i].trace, &seen, &stored);
        if (in[i].stored) {
            fprintf(stderr, "vnd parse: stored: %s, whole (%llu packets, %llu rows)\n", in[i].id,
                    (unsigned long long)seen, (unsigned long long)stored);
        } else if (seen) {
            fprintf(stderr, "vnd parse: stored: %s, its first %llu packets (%llu rows); not "
                    "stored: from packet %llu on\n", in[i].id, (unsigned long long)seen,
                    (unsigned long long)stored, (unsigned long long)seen + 1);
            again = true;
        } else {
            fprintf(stderr, "vnd parse: not stored: %s\n", in[i].id);
            again = true;
        }
    }
    if (again)
        fprintf(stderr, "vnd parse: once the store answers, parse the traces not stored whole "
                "again with --replace (their vnd_meta status stays 'ingesting')\n");
}

int cmd_parse(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"output", required_argument, NULL, 'o'},
        {"pg", required_argument, NULL, 'P'},
        {"replace", no_argument, NULL, 'R'},
        {"append", no_argument, NULL, 'A'},
        {"sampling", required_argument, NULL, 'S'},
        {"sampling-method", required_argument, NULL, 'M'},
        {"snaplen", required_argument, NULL, 's'},
        {"batch", required_argument, NULL, 'b'},
        {"pg-retry", required_argument, NULL, 'W'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    const char *config = NULL, *output = NULL;
    char *pg_output = NULL;
    bool replace = false, append = false, quiet = false;
    uint32_t sampling = 0, snaplen = 0, batch = 65536;
    enum vnd_sample_method method = VND_SAMPLE_COUNT;
    double retry = PG_RETRY_DEFAULT;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'o': output = optarg; break;
        case 'P':
            free(pg_output);
            output = pg_output = vnd_strdup_printf("pg:%s", optarg);
            break;
        case 'R': replace = true; break;
        case 'A': append = true; break;
        case 'q': quiet = true; break;
        case 'S': if (parse_u32("--sampling", optarg, &sampling)) return EXIT_USAGE; break;
        case 'M':
            if (!vnd_sample_method_parse(optarg, &method)) {
                fprintf(stderr, "vnd parse: --sampling-method: '%s' is not count or hash\n",
                        optarg);
                free(pg_output);
                return EXIT_USAGE;
            }
            break;
        case 's': if (parse_u32("--snaplen", optarg, &snaplen)) return EXIT_USAGE; break;
        case 'b': if (parse_u32("--batch", optarg, &batch) || !batch) return EXIT_USAGE; break;
        case 'W': {
            char *end;
            retry = strtod(optarg, &end);
            if (end == optarg || *end || !(retry >= 0 && retry <= 1e9)) {
                fprintf(stderr, "vnd parse: --pg-retry takes seconds (0 or more), not '%s'\n",
                        optarg);
                free(pg_output);
                return EXIT_USAGE;
            }
            break;
        }
        case 'h': fputs(usage_text, stdout); return EXIT_OK;
        default: fputs("try `vnd parse --help`\n", stderr); return EXIT_USAGE;
        }
    }
    if (!output || optind >= argc) {
        fprintf(stderr, "vnd parse: %s\n%s", !output ? "-o TRACES.db (or --pg) is required"
                                                     : "no capture file given", usage_text);
        free(pg_output);
        return EXIT_USAGE;
    }
    if (replace && append) {
        fprintf(stderr, "vnd parse: --replace and --append exclude each other\n");
        free(pg_output);
        return EXIT_USAGE;
    }

    int status = EXIT_OK;
    int n = argc - optind;
    struct input *in = vnd_xcalloc((size_t)n, sizeof *in);
    struct vnd_parse_conf *conf = NULL;
    struct vnd_store *st = NULL;
    struct vnd_ingest *ing = NULL;
    char *err = NULL;

    /* Every input is opened before anything is written: a bad file costs
     * nothing. */
    for (int i = 0; i < n; i++) {
        split_input(argv[optind + i], &in[i]);
        if (vnd_pcap_file_open(in[i].path, &in[i].file, &err)) {
            fprintf(stderr, "vnd parse: %s\n", err);
            free(err);
            err = NULL;
            status = EXIT_ERROR;
        }
    }
    if (status)
        goto out;
    if (!(conf = load_config(config))) {
        status = EXIT_ERROR;
        goto out;
    }
    int orc = vnd_store_open(output, &st, &err);
    if (orc == ENOTCONN && retry > 0) {
        /* PostgreSQL not answering yet (starting, restarting): as a
         * store that stops answering mid-parse, wait up to --pg-retry */
        fprintf(stderr, "vnd parse: the store does not answer (%s): trying for up to %g s "
                "(--pg-retry)\n", err, retry);
        double since = vnd_wall_now();
        const struct timespec pause = {0, 200 * 1000 * 1000};
        while (orc == ENOTCONN && !interrupted && vnd_wall_now() - since < retry) {
            nanosleep(&pause, NULL);
            free(err);
            err = NULL;
            orc = vnd_store_open(output, &st, &err);
        }
        if (!orc)
            fprintf(stderr, "vnd parse: the store answers after %.1f s\n",
                    vnd_wall_now() - since);
    }
    if (orc) {
        fprintf(stderr, "vnd parse: %s\n", err);
        status = EXIT_ERROR;
        goto out;
    }
    for (int i = 0; i < n; i++)
        say_long_table_name(conf, &in[i]);
    ing = vnd_ingest_new(st, conf, batch, 1.0);
    for (int i = 0; i < n; i++) {
        struct vnd_trace_opts o = {
            .id = in[i].id, .linktype = in[i].file->linktype, .sampling = sampling,
            .sampling_method = method, .snaplen = snaplen, .replace = replace, .append = append, .source = in[i].path,
        };
        if ((in[i].trace = vnd_ingest_add_trace(ing, &o, &err)) < 0) {
            fprintf(stderr, "vnd parse: %s: %s\n", in[i].path, err);
            status = EXIT_ERROR;
            goto out;
        }
    }

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    struct vnd_progress pr;
    vnd_progress_init(&pr, !quiet && isatty(STDERR_FILENO));
    bool store_failed = false;
    for (int i = 0; i < n && !interrupted && !store_failed; i++) {
        int s = ingest_file(ing, &in[i], &pr, retry, &store_failed);
        if (s == EXIT_ERROR || (s == EXIT_TRUNCATED && status == EXIT_OK))
            status = s;
    }
    double broke;
    uint64_t reconnects = vnd_store_reconnects(st, &broke);
    if (store_failed) {
        say_stored(ing, in, n);
    } else if (!quiet) {
        for (int i = 0; i < n; i++) {
            const struct vnd_trace_stats *s = vnd_ingest_stats(ing, in[i].trace);
            fprintf(stderr, "%s: %llu packets, %llu matched, %llu rows stored%s\n", in[i].id,
                    (unsigned long long)s->seen, (unsigned long long)s->matched,
                    (unsigned long long)s->stored,
                    s->sampled_out ? " (sampling)" : "");
        }
        if (reconnects)
            fprintf(stderr, "the store's connection broke and was made again %llu time%s; "
                    "each batch it held was sent again whole\n",
                    (unsigned long long)reconnects, reconnects == 1 ? "" : "s");
    }

out:
    free(err);
    vnd_ingest_free(ing);
    vnd_store_close(st);
    vnd_parseconf_free(conf);
    for (int i = 0; i < n; i++) {
        vnd_pcap_file_close(in[i].file);
        free(in[i].id);
    }
    free(in);
    free(pg_output);
    return status;
}
