/* vnd.c — the tenant's command line: dispatch to one subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "store/sqlmem.h"

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"parse", cmd_parse, "turn pcap/pcapng captures into SQL trace tables"},
    {"query", cmd_query, "run read-only SQL on trace tables"},
    {"fields", cmd_fields, "list the fields a parse configuration can name"},
    {"diag", cmd_diag, "diagnostic applications: throughput, RTT, delay, loss, bottleneck..."},
    {"demo", cmd_demo, "the paper's bottlenecked-middlebox diagnosis, start to finish"},
    {"simulate", cmd_simulate, "simulate a data center of tenants diagnosing (paper Table 4)"},
    {"testbed", cmd_testbed, "operator: build or remove the OVS test bed (root)"},
    {"submit", cmd_submit, "start a diagnosis on the control server (collect + parse config)"},
    {"list", cmd_list, "your diagnoses on the control server"},
    {"status", cmd_status, "a diagnosis's traces: seen, stored, sampled out, dropped"},
    {"stop", cmd_stop, "end a diagnosis: its rules, traces and tables go"},
    {"fetch-pcap", cmd_fetch_pcap, "download a trace's raw packets as pcap"},
    {"admin", cmd_admin, "operator: every tenant's diagnoses, a diagnosis's policy"},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vnd COMMAND [options]\n"
            "\n"
            "VND — virtual network diagnosis: capture traces, parse them into SQL\n"
            "tables, and diagnose a virtual network from its own traces.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`vnd COMMAND --help` explains each one.\n");
}

int main(int argc, char **argv)
{
    /* before SQLite starts: each tenant query's memory is budgeted */
    vnd_sqlmem_install();
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")
        || !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "vnd: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
