/* test_options.c — daemon/options.c: one table read from the command line
 * and a config file, the command line winning, lists replaced as a whole,
 * errors that say where. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"
#include "daemon/options.h"

struct settings {
    struct vnd_opt_list ifs;
    char *db;
    long mb;
    double timeout;
};

static const struct vnd_opt_def defs[] = {
    {"interface", 'i', VND_OPT_LIST, offsetof(struct settings, ifs), 0, 0},
    {"db", 'd', VND_OPT_STR, offsetof(struct settings, db), 0, 0},
    {"buffer-mb", 1001, VND_OPT_LONG, offsetof(struct settings, mb), 1, 4096},
    {"timeout", 1002, VND_OPT_DOUBLE, offsetof(struct settings, timeout), 0, 86400},
};
static const struct vnd_opts opts = {"testd", "usage: testd ...\n", defs,
                                     sizeof defs / sizeof *defs};

static char conf[] = "/tmp/vnd-test-options.XXXXXX";

static void write_conf(const char *text)
{
    FILE *f = fopen(conf, "w");
    fputs(text, f);
    fclose(f);
}

/* Parses argv (NULL-terminated) into a fresh *s; stderr goes to `errbuf`. */
static int parse(struct settings *s, char *errbuf, size_t errsz, char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    memset(s, 0, sizeof *s);
    fflush(stderr);
    FILE *saved = stderr;
    char *buf = NULL;
    size_t len = 0;
    stderr = open_memstream(&buf, &len);
    int rc = vnd_opts_parse(&opts, argc, argv, s);
    fclose(stderr);
    stderr = saved;
    snprintf(errbuf, errsz, "%s", buf ? buf : "");
    free(buf);
    return rc;
}

int main(void)
{
    int fd = mkstemp(conf);
    if (fd < 0)
        return 2;
    close(fd);
    struct settings s;
    char err[512];

    char *a1[] = {"testd", "-i", "a", "--interface", "b", "-d", "x.db", "--buffer-mb", "64",
                  "--timeout", "2.5", NULL};
    CHECK_EQ_INT(parse(&s, err, sizeof err, a1), 0, "a command line of every kind");
    CHECK(s.ifs.n == 2 && !strcmp(s.ifs.v[1], "b"), "... a list, in order");
    CHECK(!strcmp(s.db, "x.db") && s.mb == 64 && s.timeout == 2.5, "... a string, a long, a double");
    vnd_opts_free(&opts, &s);
    CHECK(s.db == NULL && s.ifs.n == 0, "vnd_opts_free clears what it freed");

    write_conf("# a comment\ninterface = f1\ninterface = f2\n  db = file.db  # trailing\n"
               "buffer-mb = 8\n");
    char *a2[] = {"testd", "-c", conf, "--buffer-mb", "16", NULL};
    CHECK_EQ_INT(parse(&s, err, sizeof err, a2), 0, "a config file");
    CHECK(s.ifs.n == 2 && !strcmp(s.db, "file.db"), "... its values, comments and blanks stripped");
    CHECK_EQ_INT(s.mb, 16, "... the command line wins");
    vnd_opts_free(&opts, &s);
    char *a3[] = {"testd", "-i", "cli", "-c", conf, NULL};
    parse(&s, err, sizeof err, a3);
    CHECK(s.ifs.n == 1 && !strcmp(s.ifs.v[0], "cli"),
          "a list on the command line replaces the file's, wherever -c stands");
    vnd_opts_free(&opts, &s);

    write_conf("db = a\nbuffer-mb = 99999\n");
    char *a4[] = {"testd", "--config", conf, NULL};
    CHECK_EQ_INT(parse(&s, err, sizeof err, a4), 2, "a value out of range in the file");
    char want[600];
    snprintf(want, sizeof want, "testd: %s:2:13: buffer-mb takes a whole number from 1 to "
                                "4096, not '99999'\n", conf);
    CHECK_EQ_STR(err, want, "... says file:line:col, the range and the value");
    vnd_opts_free(&opts, &s);
    write_conf("db a\n");
    CHECK_EQ_INT(parse(&s, err, sizeof err, a4), 2, "a line without '='");
    CHECK(strstr(err, ":1:1: expected `name = value`") != NULL, "... says where");
    vnd_opts_free(&opts, &s);
    write_conf("\n  dbx = 1\n");
    CHECK_EQ_INT(parse(&s, err, sizeof err, a4), 2, "an unknown name in the file");
    CHECK(strstr(err, ":2:3: unknown option 'dbx'") != NULL, "... says where and which");
    vnd_opts_free(&opts, &s);

    static const char *const bad[] = {"nan", "inf", "1e10", "-1", "2x", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *a5[] = {"testd", "--timeout", (char *)bad[i], NULL};
        CHECK_EQ_INT(parse(&s, err, sizeof err, a5), 2, "--timeout '%s' is refused", bad[i]);
        vnd_opts_free(&opts, &s);
    }
    char *a6[] = {"testd", "--help", NULL};
    CHECK_EQ_INT(parse(&s, err, sizeof err, a6), 1, "--help: 1 (the usage is printed)");
    char *a7[] = {"testd", "stray", NULL};
    CHECK_EQ_INT(parse(&s, err, sizeof err, a7), 2, "a stray argument");
    CHECK(strstr(err, "unexpected argument 'stray'") != NULL, "... is named");
    char *a8[] = {"testd", "--nope", NULL};
    CHECK_EQ_INT(parse(&s, err, sizeof err, a8), 2, "an unknown option");
    unlink(conf);
    return tap_done();
}
