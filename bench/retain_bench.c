/* retain_bench.c — what keeping raw packets costs the table server: the
 * CPU (user + system, this process) to write N frames of B bytes (cut to
 * 128 in the switch, or whole) into a ring of pcap files, through VND's
 * ring (store/retain.c: its own buffer, the oldest file reused as the
 * next) beside libpcap's own writer (pcap_dump, as
 * `tcpdump -w F -C 8 -W 8` writes: each file grown write by write), in
 * the same run, flushed every 5000 frames as the table server flushes
 * each batch.  Best of REPS runs each.
 *
 *   build/bench/retain_bench [DIR=/var/tmp] [FRAMES=2000000] [REPS=5] [BYTES=128]
 *
 * DIR should be on the filesystem the table server keeps its rings on. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/retain.h"
#include "util/util.h"

#define SNAP_MAX 1514
static uint32_t snap = 128;
#define FLUSH_EVERY 5000
#define RING_BYTES (64u << 20)            /* the control server's default retain_mb */
#define FILE_BYTES (RING_BYTES / 8)

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
         + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void remove_dir(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "retain_bench: could not remove %s\n", dir);
}

static double run_vnd(const char *dir, long frames, const uint8_t *frame)
{
    struct vnd_retain *r;
    char *err = NULL;
    double t0 = cpu_seconds();
    if (vnd_retain_open(dir, RING_BYTES, snap, &r, &err)) {
        fprintf(stderr, "retain_bench: %s\n", err);
        exit(1);
    }
    for (long i = 0; i < frames; i++) {
        if (vnd_retain_write(r, 1764556200000000000LL + i * 20000, frame, snap, 1514)) {
            fprintf(stderr, "retain_bench: %s: write failed\n", dir);
            exit(1);
        }
        if (i % FLUSH_EVERY == FLUSH_EVERY - 1)
            vnd_retain_flush(r);
    }
    vnd_retain_close(r, 0);
    return cpu_seconds() - t0;
}

/* libpcap's writer, rotated like tcpdump -C/-W: a new file at FILE_BYTES,
 * the oldest removed when there are more than 8. */
static double run_pcap_dump(const char *dir, long frames, const uint8_t *frame)
{
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, (int)snap, PCAP_TSTAMP_PRECISION_NANO);
    char path[4200];
    int seq = 0;
    long in_file = 0;
    double t0 = cpu_seconds();
    mkdir(dir, 0750);
    snprintf(path, sizeof path, "%s/%08d.pcap", dir, seq);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    if (!d) {
        fprintf(stderr, "retain_bench: %s: %s\n", path, pcap_geterr(dead));
        exit(1);
    }
    struct pcap_pkthdr h = {.caplen = snap, .len = 1514};
    for (long i = 0; i < frames; i++) {
        int64_t ns = 1764556200000000000LL + i * 20000;
        h.ts.tv_sec = (time_t)(ns / 1000000000);
        h.ts.tv_usec = (suseconds_t)(ns % 1000000000);   /* nanoseconds in a nano dumper */
        pcap_dump((u_char *)d, &h, frame);
        in_file += 16 + snap;
        if (i % FLUSH_EVERY == FLUSH_EVERY - 1)
            pcap_dump_flush(d);
        if (in_file >= FILE_BYTES) {
            pcap_dump_close(d);
            if (++seq >= 8) {
                snprintf(path, sizeof path, "%s/%08d.pcap", dir, seq - 8);
                unlink(path);
            }
            snprintf(path, sizeof path, "%s/%08d.pcap", dir, seq);
            d = pcap_dump_open(dead, path);
            if (!d) {
                fprintf(stderr, "retain_bench: %s: %s\n", path, pcap_geterr(dead));
                exit(1);
            }
            in_file = 0;
        }
    }
    pcap_dump_close(d);
    pcap_close(dead);
    return cpu_seconds() - t0;
}

int main(int argc, char **argv)
{
    const char *base = argc > 1 ? argv[1] : "/var/tmp";
    long frames = argc > 2 ? atol(argv[2]) : 2000000;
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    long bytes = argc > 4 ? atol(argv[4]) : 128;
    if (frames < FLUSH_EVERY || reps < 1 || bytes < 14 || bytes > SNAP_MAX) {
        fprintf(stderr, "usage: retain_bench [DIR] [FRAMES >= %d] [REPS >= 1] [BYTES 14-%d]\n",
                FLUSH_EVERY, SNAP_MAX);
        return 2;
    }
    snap = (uint32_t)bytes;
    uint8_t frame[SNAP_MAX];
    for (int i = 0; i < SNAP_MAX; i++)
        frame[i] = (uint8_t)(i * 37 + 11);
    char vdir[4096], pdir[4096];
    snprintf(vdir, sizeof vdir, "%s/vnd-retain-bench.%d.vnd", base, (int)getpid());
    snprintf(pdir, sizeof pdir, "%s/vnd-retain-bench.%d.pcap", base, (int)getpid());
    double best_v = 1e9, best_p = 1e9;
    for (int r = 0; r < reps; r++) {
        /* alternate which goes first, so that neither always meets a
         * page cache the other just filled */
        for (int k = 0; k < 2; k++) {
            if ((r + k) % 2 == 0) {
                double s = run_vnd(vdir, frames, frame);
                best_v = s < best_v ? s : best_v;
                remove_dir(vdir);
            } else {
                double s = run_pcap_dump(pdir, frames, frame);
                best_p = s < best_p ? s : best_p;
                remove_dir(pdir);
            }
        }
    }
    double mb = frames * (16.0 + snap) / 1e6;
    printf("retain_bench: %ld frames of %u bytes (%.0f MB) into a ring of %u MB (pcap_dump: 8 files of %u MB) "
           "under %s, flushed every %d; best of %d\n",
           frames, snap, mb, RING_BYTES >> 20, FILE_BYTES >> 20, base, FLUSH_EVERY, reps);
    printf("%-44s %12s %14s\n", "writer", "cpu-s/Mframe", "ns/byte");
    printf("%-44s %12.3f %14.2f\n", "VND ring (store/retain.c, files reused)",
           best_v / (frames / 1e6), best_v * 1e9 / (mb * 1e6));
    printf("%-44s %12.3f %14.2f\n", "libpcap pcap_dump (tcpdump -C 8 -W 8 style)",
           best_p / (frames / 1e6), best_p * 1e9 / (mb * 1e6));
    printf("VND / libpcap: %.2f\n", best_v / best_p);
    return 0;
}
