/* cmd_testbed.c — the commands that are shell scripts driving ip,
 * ovs-vsctl, ovs-ofctl, tc and the vnd CLI itself, as OVS's ovs-sandbox
 * is: `vnd testbed up|down` (scripts/testbed.sh, docs/testbed.md: the test
 * bed of DESIGN.md for operators and tests alike) and `vnd demo --live`
 * (scripts/demo-live.sh, docs/paper.md: the paper's §5.1.1 on that bed).
 * This file checks for root and execs the script with its arguments.
 *
 * A script NAME is $VND_<NAME>_SCRIPT (VND_TESTBED_SCRIPT,
 * VND_DEMO_LIVE_SCRIPT), else <dir of vnd>/../scripts/NAME.sh (the source
 * tree: build/vnd -> scripts/), else <dir of vnd>/../share/vnd/NAME.sh
 * (make install with any PREFIX), else /usr/share/vnd/NAME.sh.  It learns
 * the vnd binary's folder from $VND_BIN_DIR, to find vnd, vnd-tabled and
 * vnd-controld next to it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"

/* The folder of the running vnd binary into dir[size]; 0, or -1. */
static int bin_dir(char *dir, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", dir, size - 1);
    if (n <= 0)
        return -1;
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return 0;
}

/* Runs script `name` (e.g. "testbed", "demo-live") with argv[1..]; `what`
 * names the command in messages.  Returns only on failure. */
int vnd_run_script(const char *name, const char *what, int argc, char **argv)
{
    int help = argc < 2 && strcmp(name, "testbed") == 0;   /* it prints its usage */
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") || !strcmp(argv[i], "help"))
            help = 1;

    char dir[PATH_MAX] = "", env[64], installed[128];
    int have_dir = bin_dir(dir, sizeof dir) == 0;
    snprintf(env, sizeof env, "VND_%s_SCRIPT", name);
    for (char *c = env; *c; c++)
        *c = *c == '-' ? '_' : (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
    snprintf(installed, sizeof installed, "/usr/share/vnd/%s.sh", name);
    char path[PATH_MAX + 64];
    const char *script = getenv(env);
    if (!script || !*script) {
        script = installed;
        /* the source tree, then an install under any PREFIX */
        static const char *const near[] = {"%s/../scripts/%s.sh", "%s/../share/vnd/%s.sh"};
        for (int i = 0; have_dir && i < 2; i++) {
            snprintf(path, sizeof path, near[i], dir, name);
            if (access(path, R_OK) == 0) {
                script = path;
                break;
            }
        }
    }
    if (access(script, R_OK) != 0) {
        fprintf(stderr, "vnd %s: cannot read the script %s: %s\n(set %s, or install it as %s)\n",
                what, script, strerror(errno), env, installed);
        return 1;
    }
    /* --help works for anyone; building or removing a bed needs root. */
    if (!help && geteuid() != 0) {
        fprintf(stderr, "vnd %s: must run as root (it creates network namespaces, "
                        "veth links and a private Open vSwitch)\n", what);
        return 1;
    }
    if (have_dir)
        setenv("VND_BIN_DIR", dir, 1);

    /* bash SCRIPT [options]: argv[0] is the command's name */
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (!args) {
        fprintf(stderr, "vnd %s: out of memory\n", what);
        return 1;
    }
    args[0] = "bash";
    args[1] = (char *)script;
    for (int i = 1; i < argc; i++)
        args[i + 1] = argv[i];
    fflush(stdout);
    execvp("bash", args);
    fprintf(stderr, "vnd %s: cannot run bash %s: %s\n", what, script, strerror(errno));
    free(args);
    return 1;
}

int cmd_testbed(int argc, char **argv)
{
    return vnd_run_script("testbed", "testbed", argc, argv);
}
