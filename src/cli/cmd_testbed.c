/* cmd_testbed.c — `vnd testbed up|down`: the test bed of DESIGN.md for
 * operators and tests alike.  The bed is built by a shell script driving
 * ip, ovs-vsctl, ovs-ofctl and tc (scripts/testbed.sh, docs/testbed.md);
 * this command checks for root and execs it with its arguments.
 *
 * The script is $VND_TESTBED_SCRIPT, else <dir of vnd>/../scripts/testbed.sh
 * (the source tree: build/vnd -> scripts/testbed.sh), else
 * <dir of vnd>/../share/vnd/testbed.sh (make install with any PREFIX), else
 * /usr/share/vnd/testbed.sh.  It learns the vnd binary's folder from
 * $VND_BIN_DIR, to find vnd-tabled and vnd-controld next to it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"

#define INSTALLED_SCRIPT "/usr/share/vnd/testbed.sh"

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

int cmd_testbed(int argc, char **argv)
{
    int help = argc < 2;   /* the script prints its usage */
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") || !strcmp(argv[i], "help"))
            help = 1;

    char dir[PATH_MAX] = "";
    int have_dir = bin_dir(dir, sizeof dir) == 0;
    char path[PATH_MAX + 64];
    const char *script = getenv("VND_TESTBED_SCRIPT");
    if (!script || !*script) {
        script = INSTALLED_SCRIPT;
        /* the source tree, then an install under any PREFIX */
        static const char *const near[] = {"%s/../scripts/testbed.sh",
                                           "%s/../share/vnd/testbed.sh"};
        for (int i = 0; have_dir && i < 2; i++) {
            snprintf(path, sizeof path, near[i], dir);
            if (access(path, R_OK) == 0) {
                script = path;
                break;
            }
        }
    }
    if (access(script, R_OK) != 0) {
        fprintf(stderr, "vnd testbed: cannot read the test bed script %s: %s\n"
                        "(set VND_TESTBED_SCRIPT, or install it as " INSTALLED_SCRIPT ")\n",
                script, strerror(errno));
        return 1;
    }
    /* --help works for anyone; building or removing a bed needs root. */
    if (!help && geteuid() != 0) {
        fprintf(stderr, "vnd testbed: must run as root (it creates network namespaces, "
                        "veth links and a private Open vSwitch)\n");
        return 1;
    }
    if (have_dir)
        setenv("VND_BIN_DIR", dir, 1);

    /* bash SCRIPT up|down [options]: argv[0] is "testbed" */
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (!args) {
        fprintf(stderr, "vnd testbed: out of memory\n");
        return 1;
    }
    args[0] = "bash";
    args[1] = (char *)script;
    for (int i = 1; i < argc; i++)
        args[i + 1] = argv[i];
    fflush(stdout);
    execvp("bash", args);
    fprintf(stderr, "vnd testbed: cannot run bash %s: %s\n", script, strerror(errno));
    free(args);
    return 1;
}
