/* test_retain.c — the raw packet ring (store/retain.h): what a download
 * gives back, read by libpcap itself; the bound; the blocks reserved past a
 * file's end given back; frames larger than the ring's buffer; a file a
 * crash cut mid-record; files reused, but not while a download holds them,
 * and a crash in a reused file. */
#include "../tap.h"

#include <dirent.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/retain.h"

#define T0 1764556200000000000LL

static void frame_of(uint8_t *f, size_t n, long i)
{
    for (size_t k = 0; k < n; k++)
        f[k] = (uint8_t)(i * 31 + (long)k);
}

/* The ring's download, whole. */
static char *download(struct vnd_retain *r, size_t *len)
{
    struct vnd_retain_view *v;
    if (vnd_retain_snapshot(r, &v))
        return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (cap - n < 65536)
            buf = realloc(buf, cap *= 2);
        ssize_t got = vnd_retain_view_read(v, buf + n, cap - n);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    vnd_retain_view_free(v);
    *len = n;
    return buf;
}

/* Reads a download with libpcap: the number of records, the index (from
 * the timestamp) of the first, and whether every record is the frame its
 * timestamp says, of caplen `caplen` (0: any) and wire length 1514. */
struct readback {
    long n, first;
    int all_right;
    char err[PCAP_ERRBUF_SIZE];
};
static struct readback read_back(char *buf, size_t len, uint32_t caplen)
{
    struct readback rb = {0, -1, 1, ""};
    FILE *f = fmemopen(buf, len, "rb");
    pcap_t *p = f ? pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, rb.err) : NULL;
    if (!p) {
        rb.all_right = 0;
        if (f)
            fclose(f);
        return rb;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    int rc;
    uint8_t *want = malloc(262144);
    while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
        long i = (long)(((int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec - T0) / 1000);
        if (rb.first < 0)
            rb.first = i;
        frame_of(want, h->caplen, i);
        if (i != rb.first + rb.n || (caplen && h->caplen != caplen) || memcmp(d, want, h->caplen))
            rb.all_right = 0;
        rb.n++;
    }
    if (rc != PCAP_ERROR_BREAK) {
        rb.all_right = 0;
        snprintf(rb.err, sizeof rb.err, "%s", pcap_geterr(p));
    }
    free(want);
    pcap_close(p);  /* closes f */
    return rb;
}

static void write_frames(struct vnd_retain *r, long from, long to, uint32_t caplen, int *failed)
{
    uint8_t f[262144];
    for (long i = from; i < to; i++) {
        frame_of(f, caplen, i);
        if (vnd_retain_write(r, T0 + i * 1000, f, caplen, caplen > 1514 ? caplen : 1514))
            (*failed)++;
    }
}

/* Sum of the ring's file sizes; *over: bytes allocated past the end of
 * every file but the newest (reserved blocks not given back). */
static uint64_t on_disk(const char *dir, uint64_t *over, int *files)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    uint64_t total = 0;
    char newest[256] = "", path[4608];
    *over = 0;
    *files = 0;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".pcap") && strcmp(e->d_name, newest) > 0)
            snprintf(newest, sizeof newest, "%s", e->d_name);
    rewinddir(d);
    while (d && (e = readdir(d))) {
        if (!strstr(e->d_name, ".pcap"))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st))
            continue;
        (*files)++;
        total += (uint64_t)st.st_size;
        uint64_t alloc = (uint64_t)st.st_blocks * 512, rounded = ((uint64_t)st.st_size + 4095) / 4096 * 4096;
        if (strcmp(e->d_name, newest) && alloc > rounded)
            *over += alloc - rounded;
    }
    if (d)
        closedir(d);
    return total;
}

/* The ring's files' inode numbers (up to 64), sorted; returns how many. */
static int inodes(const char *dir, ino_t *out)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)) && n < 64) {
        if (!strstr(e->d_name, ".pcap"))
            continue;
        char p[4608];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (stat(p, &st) == 0)
            out[n++] = st.st_ino;
    }
    if (d)
        closedir(d);
    return n;
}

static int all_in(const ino_t *a, int na, const ino_t *b, int nb)
{
    for (int i = 0; i < na; i++) {
        int found = 0;
        for (int k = 0; k < nb; k++)
            found |= a[i] == b[k];
        if (!found)
            return 0;
    }
    return 1;
}

/* The newest file's path and size. */
static off_t newest_file(const char *dir, char *path, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char best[256] = "";
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".pcap") && strcmp(e->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", e->d_name);
    if (d)
        closedir(d);
    snprintf(path, cap, "%s/%s", dir, best);
    struct stat st;
    return stat(path, &st) ? -1 : st.st_size;
}

int main(void)
{
    char base[] = "/tmp/vnd-test-retain.XXXXXX";
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        return 1;
    }
    char dir[256];
    snprintf(dir, sizeof dir, "%s/ring", base);
    struct vnd_retain *r;
    char *err = NULL;
    const uint64_t limit = 1 << 20;     /* files of 128 KiB */
    CHECK(vnd_retain_open(dir, limit, 128, &r, &err) == 0, "a ring opens in a new directory");

    /* what was written comes back, frame for frame */
    int failed = 0;
    write_frames(r, 0, 1000, 128, &failed);
    size_t len;
    char *buf = download(r, &len);
    struct readback rb = read_back(buf, len, 128);
    CHECK(failed == 0 && rb.all_right && rb.n == 1000 && rb.first == 0,
          "1000 frames of 128 bytes come back as libpcap reads them (%ld, from %ld) %s", rb.n, rb.first, rb.err);
    CHECK_EQ_INT(len, 24 + 1000 * (16 + 128), "the download is the pcap header and the records");
    free(buf);

    /* the bound: the oldest files go; what is left is the newest frames */
    write_frames(r, 1000, 20000, 128, &failed);
    uint64_t kept = vnd_retain_bytes(r);
    CHECK(kept <= limit && kept >= limit / 8 * 7 - 144, "the ring keeps between 7/8 of its bound and all of it (%llu of %llu)",
          (unsigned long long)kept, (unsigned long long)limit);
    buf = download(r, &len);
    rb = read_back(buf, len, 128);
    CHECK(failed == 0 && rb.all_right && rb.first + rb.n == 20000,
          "its download is the newest frames, in order, to the last (%ld from %ld)", rb.n, rb.first);
    free(buf);
    uint64_t over;
    int files;
    on_disk(dir, &over, &files);
    CHECK_EQ_INT(over, 0, "the blocks reserved past a file's end are given back when the next starts");

    /* frames larger than the ring's buffer, between small ones */
    char dir2[300];
    snprintf(dir2, sizeof dir2, "%s/big", base);
    struct vnd_retain *big;
    CHECK(vnd_retain_open(dir2, 64 << 20, 0, &big, &err) == 0, "a ring of whole frames opens");
    uint32_t sizes_big[] = {60, 200000, 262144, 1514, 262144, 60};
    failed = 0;
    for (long i = 0; i < 6; i++)
        write_frames(big, i, i + 1, sizes_big[i], &failed);
    buf = download(big, &len);
    rb = read_back(buf, len, 0);
    CHECK(failed == 0 && rb.all_right && rb.n == 6, "frames of up to 256 KiB, larger than the ring's buffer, come back whole (%ld) %s",
          rb.n, rb.err);
    free(buf);
    vnd_retain_close(big, 1);
    struct stat st;
    CHECK(stat(dir2, &st) != 0, "closing with remove takes the directory");

    /* a crash cuts the newest file mid-record: reopened, the ring repairs
     * it and goes on in a new file */
    buf = download(r, &len);
    long before = read_back(buf, len, 128).n;
    free(buf);
    kept = vnd_retain_bytes(r);
    vnd_retain_close(r, 0);
    /* (a reused file is as long as it was until it is closed) */
    uint64_t sizes = on_disk(dir, &over, &files);
    CHECK_EQ_INT(sizes, kept, "closed, the files' sizes add up to what the ring counts (%d files)", files);
    char newest[4608] = "";
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".pcap")) {
            char p[4608];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            if (strcmp(p, newest) > 0)
                snprintf(newest, sizeof newest, "%s", p);
        }
    if (d)
        closedir(d);
    int fd = open(newest, O_WRONLY | O_APPEND);
    uint8_t half[16 + 40] = {0};
    half[8] = 128;      /* a record header that says 128 bytes follow; 40 do */
    CHECK(fd >= 0 && write(fd, half, sizeof half) == (ssize_t)sizeof half, "a record cut short at the end of the newest file");
    if (fd >= 0)
        close(fd);
    CHECK(vnd_retain_open(dir, limit, 128, &r, &err) == 0, "the ring reopens");
    write_frames(r, 20000, 20010, 128, &failed);
    buf = download(r, &len);
    rb = read_back(buf, len, 0);
    CHECK(rb.n == before + 10 && rb.first + rb.n == 20010,
          "the cut record is gone, the frames before it kept, the new ones after (%ld, want %ld) %s", rb.n, before + 10, rb.err);
    free(buf);
    vnd_retain_close(r, 1);

    /* Files are reused: once the ring is full, the oldest becomes the next
     * (records of 144 bytes: 455 to a file of 64 KiB, 15 to 17 files). */
    char dir3[300];
    snprintf(dir3, sizeof dir3, "%s/reuse", base);
    CHECK(vnd_retain_open(dir3, limit, 128, &r, &err) == 0, "a third ring opens");
    failed = 0;
    write_frames(r, 0, 20000, 128, &failed);
    vnd_retain_flush(r);
    ino_t full[64], later[64];
    int nfull = inodes(dir3, full);
    write_frames(r, 20000, 40000, 128, &failed);
    vnd_retain_flush(r);
    int nlater = inodes(dir3, later);
    CHECK(failed == 0 && nlater > 0 && all_in(later, nlater, full, nfull),
          "20,000 frames more (44 files' worth) go into the files the full ring had (%d files, %d before)",
          nlater, nfull);
    buf = download(r, &len);
    rb = read_back(buf, len, 128);
    CHECK(rb.all_right && rb.first + rb.n == 40000 && rb.n >= (long)(limit / 8 * 7 / 144),
          "its download is the newest frames, in order, to the last (%ld from %ld) %s", rb.n, rb.first, rb.err);
    free(buf);

    /* ... but not while a download holds them: the view reads what was
     * there when it was taken, however much is written meanwhile */
    struct vnd_retain_view *v;
    CHECK(vnd_retain_snapshot(r, &v) == 0, "a download starts");
    write_frames(r, 40000, 60000, 128, &failed);
    size_t cap = 4 << 20;
    buf = malloc(cap);
    len = 0;
    for (ssize_t got; (got = vnd_retain_view_read(v, buf + len, cap - len)) > 0;)
        len += (size_t)got;
    vnd_retain_view_free(v);
    rb = read_back(buf, len, 128);
    CHECK(failed == 0 && rb.all_right && rb.first + rb.n == 40000,
          "a download taken at 40,000 frames gives those, whole, with 20,000 written while it ran (%ld from %ld) %s",
          rb.n, rb.first, rb.err);
    free(buf);
    nfull = inodes(dir3, full);
    write_frames(r, 60000, 80000, 128, &failed);
    nlater = inodes(dir3, later);
    CHECK(all_in(later, nlater, full, nfull), "once it ends, files are reused again");
    vnd_retain_close(r, 0);

    /* A crash while writing into a reused file: its older records are still
     * past the new ones.  Reopened, the ring cuts them off. */
    fflush(stdout);     /* the child must not print the parent's buffered lines */
    pid_t pid = fork();
    if (pid == 0) {
        struct vnd_retain *c;
        char *e2 = NULL;
        int f2 = 0;
        if (vnd_retain_open(dir3, limit, 128, &c, &e2))
            _exit(1);
        /* a fresh file at open, 23 more full ones (the oldest reused), half of the 25th */
        write_frames(c, 80000, 80000 + 455 * 24 + 227, 128, &f2);
        vnd_retain_flush(c);
        _exit(f2 ? 1 : 0);          /* no close: as a crash */
    }
    int status = -1;
    waitpid(pid, &status, 0);
    char np[4608];
    off_t crashed = newest_file(dir3, np, sizeof np);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0 && crashed == 24 + 455 * 144,
          "a writer dies halfway through a reused file, its older records past the new ones (%lld bytes)",
          (long long)crashed);
    CHECK(vnd_retain_open(dir3, limit, 128, &r, &err) == 0, "the ring reopens after it");
    struct stat cst;
    CHECK(stat(np, &cst) == 0 && cst.st_size == 24 + 227 * 144,
          "... cut back to the 227 records written into it (%lld bytes)", (long long)cst.st_size);
    buf = download(r, &len);
    rb = read_back(buf, len, 128);
    CHECK(rb.all_right && rb.first + rb.n == 80000 + 455 * 24 + 227,
          "its download ends at the last frame written, no older record after it (%ld from %ld) %s",
          rb.n, rb.first, rb.err);
    free(buf);
    vnd_retain_close(r, 1);
    rmdir(base);
    return tap_failed ? 1 : 0;
}
