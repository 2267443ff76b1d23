/* progress.h — one self-rewriting status line on a terminal for long
 * work: packets, MB/s, percent and ETA.  Silent when not a TTY. */
#ifndef VND_CLI_PROGRESS_H
#define VND_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct vnd_progress {
    bool on;
    const char *what;
    int64_t total_bytes;     /* -1: unknown */
    double start, last;
};

void vnd_progress_init(struct vnd_progress *p, bool on);
void vnd_progress_start(struct vnd_progress *p, const char *what, int64_t total_bytes);
/* Cheap to call often: redraws at most 4 times a second. */
void vnd_progress_update(struct vnd_progress *p, uint64_t packets, int64_t bytes);
void vnd_progress_done(struct vnd_progress *p, uint64_t packets);
/* Clears the line, for a message of its own in the middle. */
void vnd_progress_clear(struct vnd_progress *p);

#endif
