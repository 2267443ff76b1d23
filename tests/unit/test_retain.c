/* test_retain.c — the raw packet ring (store/retain.h): what a download
 * gives back, read by libpcap itself; the bound; the blocks reserved past a
 * file's end given back; frames larger than the ring's buffer; a file a
 * crash cut mid-record. */
#include "../tap.h"

#include <dirent.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
    uint64_t sizes = on_disk(dir, &over, &files);
    CHECK_EQ_INT(sizes, kept, "the files' sizes add up to what the ring counts (%d files)", files);
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
    vnd_retain_close(r, 0);
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
    rmdir(base);
    return tap_failed ? 1 : 0;
}
