/* progress.c — the status line. */
#include "cli/progress.h"

#include <stdio.h>

#include "util/util.h"

void vnd_progress_init(struct vnd_progress *p, bool on)
{
    p->on = on;
}

void vnd_progress_start(struct vnd_progress *p, const char *what, int64_t total_bytes)
{
    p->what = what;
    p->total_bytes = total_bytes;
    p->start = p->last = vnd_now();
}

void vnd_progress_update(struct vnd_progress *p, uint64_t packets, int64_t bytes)
{
    if (!p->on)
        return;
    double now = vnd_now();
    if (now - p->last < 0.25)
        return;
    p->last = now;
    double el = now - p->start;
    double mbs = el > 0 && bytes > 0 ? (double)bytes / el / 1e6 : 0;
    if (p->total_bytes > 0 && bytes > 0) {
        double frac = (double)bytes / (double)p->total_bytes;
        double eta = frac > 0 ? el / frac - el : 0;
        fprintf(stderr, "\r\033[K%s: %llu packets, %.1f MB/s, %.0f%%, ETA %.0fs", p->what,
                (unsigned long long)packets, mbs, 100 * frac, eta);
    } else {
        fprintf(stderr, "\r\033[K%s: %llu packets, %.1f MB/s", p->what,
                (unsigned long long)packets, mbs);
    }
    fflush(stderr);
}

void vnd_progress_done(struct vnd_progress *p, uint64_t packets)
{
    if (!p->on)
        return;
    double el = vnd_now() - p->start;
    fprintf(stderr, "\r\033[K%s: %llu packets in %.2fs\n", p->what,
            (unsigned long long)packets, el);
}

void vnd_progress_clear(struct vnd_progress *p)
{
    if (p->on)
        fputs("\r\033[K", stderr);
}
