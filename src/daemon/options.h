/* options.h — a daemon's options, declared once and read from both the
 * command line and a `name = value` configuration file (the command line
 * wins).  A program lists its options in a table of struct vnd_opt_def
 * whose fields point into its own settings struct.
 *
 *   static const struct vnd_opt_def defs[] = {
 *       {"db", 'd', VND_OPT_STR, offsetof(struct settings, db), 0, 0},
 *       {"buffer-mb", 1002, VND_OPT_LONG, offsetof(struct settings, buffer_mb), 1, 4096},
 *   };
 *
 * Errors go to stderr prefixed with the program's name and say where:
 * `FILE:LINE:COL: ...` for the file, `--name` for the command line. */
#ifndef VND_DAEMON_OPTIONS_H
#define VND_DAEMON_OPTIONS_H

#include <stddef.h>

enum vnd_opt_type {
    VND_OPT_STR,     /* char *, replaced */
    VND_OPT_LONG,    /* long in [lo, hi] */
    VND_OPT_DOUBLE,  /* double in [lo, hi] (finite) */
    VND_OPT_LIST,    /* struct vnd_opt_list, appended; the command line's
                      * values replace the file's */
};

struct vnd_opt_list {
    char **v;
    int n;
};

struct vnd_opt_def {
    const char *name;    /* the long option and the file's key */
    int key;             /* getopt's value: a short option letter or > 255 */
    enum vnd_opt_type type;
    size_t off;          /* of the field in the settings struct */
    double lo, hi;       /* VND_OPT_LONG, VND_OPT_DOUBLE */
};

struct vnd_opts {
    const char *prog;          /* for messages: "vnd-tabled" */
    const char *usage;         /* printed by --help */
    const struct vnd_opt_def *defs;
    size_t ndefs;
};

/* Reads `--config FILE` (if given) and then the command line into
 * `settings`.  Returns 0 to run, 1 when --help was printed, 2 on a usage
 * error (already reported). */
int vnd_opts_parse(const struct vnd_opts *o, int argc, char **argv, void *settings);

/* Frees the strings and lists the options own in `settings`. */
void vnd_opts_free(const struct vnd_opts *o, void *settings);

/* `s` without leading and trailing blanks (in place). */
char *vnd_opts_trim(char *s);

#endif
