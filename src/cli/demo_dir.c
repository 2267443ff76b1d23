/* demo_dir.c — a demo's working directory (demo_dir.h). */
#include "cli/demo_dir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int demo_dir_open(struct demo_dir *d, const char *dir, const char *who)
{
    d->own = !dir;
    d->path = dir;
    if (!d->own)
        return 0;
    snprintf(d->tmp, sizeof d->tmp, "/tmp/vnd-%s.XXXXXX", who);
    if (!(d->path = mkdtemp(d->tmp))) {
        fprintf(stderr, "vnd %s: cannot make a temporary directory: %s\n", who,
                strerror(errno));
        return -1;
    }
    return 0;
}

void demo_dir_close(struct demo_dir *d, const char *const *files)
{
    if (!d->own)
        return;
    for (const char *const *f = files; *f; f++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", d->path, *f);
        unlink(path);
    }
    rmdir(d->path);
}
