/* demo_dir.h — where a demo writes its captures and database: the
 * user's --dir, or a temporary directory the demo removes when done. */
#ifndef VND_CLI_DEMO_DIR_H
#define VND_CLI_DEMO_DIR_H

#include <stdbool.h>

struct demo_dir {
    const char *path;
    bool own;                   /* a temporary directory of ours */
    char tmp[64];
};

/* `dir` (--dir, or NULL for a new temporary one named after `who`).
 * Returns 0, or -1 with a message on stderr. */
int demo_dir_open(struct demo_dir *d, const char *dir, const char *who);
/* Removes a temporary directory and the NULL-terminated `files` in it;
 * leaves a --dir as it is. */
void demo_dir_close(struct demo_dir *d, const char *const *files);

#endif
