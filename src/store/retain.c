/* retain.c — bounded rings of pcap files (see retain.h). */
#include "store/retain.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

#define PCAP_HDR 24
#define REC_HDR 16

/* Held by the ring and by each download's view of it: while a view holds
 * files open, the ring does not overwrite any (it recycles files only when
 * it holds the only reference). */
struct vnd_retain_pins {
    atomic_int refs;
};

static void unpin(struct vnd_retain_pins *p)
{
    if (atomic_fetch_sub(&p->refs, 1) == 1)
        free(p);
}

struct vnd_retain {
    char *dir;
    uint64_t limit, file_limit, total;
    uint32_t snaplen;
    uint32_t *seqs;          /* files in the ring, oldest first */
    uint64_t *sizes;         /* their sizes in records written (buffered ones
                              * included); a recycled file's own size may be
                              * larger until it is closed */
    int n;
    int cur;                 /* the newest file, open for appending; -1 none */
    struct vnd_retain_pins *pins;
    /* Records are gathered here and written in large pieces: a write per
     * record (or stdio's two calls per record) cost more than the copy. */
    uint8_t *buf;
    size_t used;
};

#define BUF_BYTES (256 * 1024)

static int write_all(int fd, const uint8_t *p, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, p + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO;
        off += (size_t)n;
    }
    return 0;
}

/* Writes out the buffered records.  Returns 0 or errno (they stay
 * buffered, and the next write tries again). */
static int write_out(struct vnd_retain *r)
{
    int rc = write_all(r->cur, r->buf, r->used);
    if (rc == 0)
        r->used = 0;
    return rc;
}

static char *file_path(const struct vnd_retain *r, uint32_t seq)
{
    return vnd_strdup_printf("%s/%08u.pcap", r->dir, seq);
}

static uint32_t get32le(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Cuts a file a crash left mid-record back to its last whole record, so
 * downloads stay valid pcap.  A reused file (start_file) holds its older
 * records past the new ones until it is closed: a record stamped before
 * the file's first, or one no capture could have written, ends the file
 * (a capture's stamps do not go back). */
static void repair(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && st.st_size < PCAP_HDR) {
        unlink(path);
        return;
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    uint8_t h[REC_HDR];
    off_t good = 0;
    if (fseeko(f, PCAP_HDR, SEEK_SET) == 0) {
        good = PCAP_HDR;
        uint64_t first = 0;
        while (fread(h, 1, REC_HDR, f) == REC_HDR) {
            uint32_t ns = get32le(h + 4), caplen = get32le(h + 8);
            uint64_t ts = (uint64_t)get32le(h) * 1000000000u + ns;
            if (ns >= 1000000000u || caplen > 262144 || (first && ts < first)
                || fseeko(f, caplen, SEEK_CUR))
                break;
            off_t end = ftello(f);
            struct stat sb;
            if (fstat(fileno(f), &sb) || end > sb.st_size)
                break;
            if (!first)
                first = ts;
            good = end;
        }
    }
    fclose(f);
    if (truncate(path, good) != 0)
        return;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void put32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* Closes the newest file, giving back the blocks reserved past its end. */
static void close_file(struct vnd_retain *r)
{
    if (r->cur < 0)
        return;
    if (write_out(r) == 0 && ftruncate(r->cur, (off_t)r->sizes[r->n - 1]) != 0) {
        /* Harmless: the reserved blocks stay until the file is reused or
         * dropped, downloads read only sizes[] bytes, and a restart's
         * repair cuts a reused file's older records. */
    }
    close(r->cur);
    r->cur = -1;
    r->used = 0;
}

/* Forgets the oldest file (the caller unlinks or reuses it). */
static void drop_oldest(struct vnd_retain *r)
{
    r->total -= r->sizes[0];
    memmove(r->seqs, r->seqs + 1, (size_t)(r->n - 1) * sizeof *r->seqs);
    memmove(r->sizes, r->sizes + 1, (size_t)(r->n - 1) * sizeof *r->sizes);
    r->n--;
}

/* When the next file would push the oldest out, the oldest becomes the
 * next file: renamed and written over in place, its pages in the page
 * cache and its blocks on disk already.  A new file costs the kernel a
 * page and a block per 4 KiB written, and the unlink of the old one their
 * eviction: together half the ring's CPU on ext4 with whole frames
 * (bench/retain_bench.c).  Not while a download holds files open.
 * Returns the open file, or -1 (then a new file is made). */
static int recycle_oldest(struct vnd_retain *r, const char *path)
{
    if (r->n < 2 || r->total + r->file_limit <= r->limit || atomic_load(&r->pins->refs) != 1)
        return -1;
    char *old = file_path(r, r->seqs[0]);
    int moved = rename(old, path) == 0;
    free(old);
    if (!moved)
        return -1;
    drop_oldest(r);             /* it is the new name's now, whatever follows */
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        unlink(path);           /* then a new file takes the name */
    return fd;
}

static int start_file(struct vnd_retain *r)
{
    uint32_t seq = r->n ? r->seqs[r->n - 1] + 1 : 1;
    char *path = file_path(r, seq);
    close_file(r);
    int fd = recycle_oldest(r, path);
    if (fd < 0) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        /* Reserve the file's blocks now, past its end so that a download
         * sees only what is written: appending into reserved blocks saves
         * the kernel the allocation per write (a fifth of the ring's CPU
         * on ext4, bench/retain_bench.c).  Best effort: a filesystem that
         * cannot reserve grows the file write by write. */
        if (fd >= 0)
            (void)fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)(r->file_limit + 65536));
    }
    free(path);
    if (fd < 0)
        return errno;
    r->cur = fd;
    uint8_t *h = r->buf;
    memset(h, 0, PCAP_HDR);
    put32le(h, 0xa1b23c4d);          /* nanosecond timestamps */
    h[4] = 2; h[6] = 4;              /* version 2.4 */
    put32le(h + 16, r->snaplen ? r->snaplen : 262144);
    put32le(h + 20, 1);              /* LINKTYPE_ETHERNET */
    r->used = PCAP_HDR;
    r->seqs = vnd_xrealloc(r->seqs, (size_t)(r->n + 1) * sizeof *r->seqs);
    r->sizes = vnd_xrealloc(r->sizes, (size_t)(r->n + 1) * sizeof *r->sizes);
    r->seqs[r->n] = seq;
    r->sizes[r->n] = PCAP_HDR;
    r->n++;
    r->total += PCAP_HDR;
    return 0;
}

int vnd_retain_open(const char *dir, uint64_t limit, uint32_t snaplen,
                    struct vnd_retain **out, char **err)
{
    if (mkdir(dir, 0750) && errno != EEXIST) {
        *err = vnd_strdup_printf("%s: cannot create: %s", dir, strerror(errno));
        return errno;
    }
    struct vnd_retain *r = vnd_xcalloc(1, sizeof *r);
    r->dir = vnd_xstrdup(dir);
    r->limit = limit;
    /* files of 1/16 of the bound: reusing the oldest as the next file
     * gives it up a file early, so 7/8 of the bound stays kept */
    r->file_limit = limit / 16 > 65536 ? limit / 16 : 65536;
    r->snaplen = snaplen;
    r->cur = -1;
    r->pins = vnd_xcalloc(1, sizeof *r->pins);
    atomic_init(&r->pins->refs, 1);
    r->buf = vnd_xmalloc(BUF_BYTES);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        unsigned seq;
        char tail;
        if (sscanf(e->d_name, "%8u.pcap%c", &seq, &tail) != 1 || strlen(e->d_name) != 13)
            continue;
        r->seqs = vnd_xrealloc(r->seqs, (size_t)(r->n + 1) * sizeof *r->seqs);
        r->seqs[r->n++] = seq;
    }
    if (d)
        closedir(d);
    if (r->n)
        qsort(r->seqs, (size_t)r->n, sizeof *r->seqs, cmp_u32);
    r->sizes = vnd_xcalloc((size_t)r->n + 1, sizeof *r->sizes);
    for (int i = 0; i < r->n; i++) {
        char *p = file_path(r, r->seqs[i]);
        if (i == r->n - 1)
            repair(p);
        struct stat sb;
        r->sizes[i] = stat(p, &sb) ? 0 : (uint64_t)sb.st_size;
        r->total += r->sizes[i];
        free(p);
    }
    /* A file cut by a crash may end mid-record: start a fresh one rather
     * than append after a partial record. */
    int rc = start_file(r);
    if (rc) {
        *err = vnd_strdup_printf("%s: cannot write a pcap file: %s", dir, strerror(rc));
        vnd_retain_close(r, 0);
        return rc;
    }
    *out = r;
    return 0;
}

static void trim(struct vnd_retain *r)
{
    while (r->n > 1 && r->total > r->limit) {
        char *p = file_path(r, r->seqs[0]);
        unlink(p);
        free(p);
        drop_oldest(r);
    }
}

int vnd_retain_write(struct vnd_retain *r, int64_t ts_ns, const uint8_t *data,
                     uint32_t caplen, uint32_t len)
{
    if (r->cur < 0)
        return EIO;
    if (r->sizes[r->n - 1] >= r->file_limit) {
        int rc = start_file(r);
        if (rc)
            return rc;
    }
    uint64_t add = REC_HDR + caplen;
    if (r->used + add > BUF_BYTES) {
        int rc = write_out(r);
        if (rc)
            return rc;
    }
    uint8_t *h = r->buf + r->used;
    put32le(h, (uint32_t)(ts_ns / 1000000000));
    put32le(h + 4, (uint32_t)(ts_ns % 1000000000));
    put32le(h + 8, caplen);
    put32le(h + 12, len);
    r->used += REC_HDR;
    if (add > BUF_BYTES) {
        /* a frame larger than the buffer goes out on its own */
        int rc = write_out(r);
        if (!rc)
            rc = write_all(r->cur, data, caplen);
        if (rc)
            return rc;
    } else {
        memcpy(r->buf + r->used, data, caplen);
        r->used += caplen;
    }
    r->sizes[r->n - 1] += add;
    r->total += add;
    trim(r);
    return 0;
}

void vnd_retain_flush(struct vnd_retain *r)
{
    if (r && r->cur >= 0)
        (void)write_out(r);
}

uint64_t vnd_retain_bytes(const struct vnd_retain *r)
{
    return r ? r->total : 0;
}

int vnd_retain_snapshot(struct vnd_retain *r, struct vnd_retain_view **out)
{
    vnd_retain_flush(r);
    struct vnd_retain_view *v = vnd_xcalloc(1, sizeof *v);
    v->fds = vnd_xcalloc((size_t)r->n, sizeof *v->fds);
    v->sizes = vnd_xcalloc((size_t)r->n, sizeof *v->sizes);
    for (int i = 0; i < r->n; i++) {
        if (r->sizes[i] < PCAP_HDR)
            continue;
        char *p = file_path(r, r->seqs[i]);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        free(p);
        if (fd < 0)
            continue;
        v->fds[v->n] = fd;
        v->sizes[v->n] = (off_t)r->sizes[i];     /* what was written, not the file's size */
        v->n++;
    }
    v->off = 0;
    /* no file is written over while this view holds it */
    v->pins = r->pins;
    atomic_fetch_add(&r->pins->refs, 1);
    *out = v;
    return 0;
}

ssize_t vnd_retain_view_read(struct vnd_retain_view *v, char *buf, size_t max)
{
    while (v->cur < v->n) {
        /* Only the first file's header goes out. */
        if (v->off == 0 && v->cur > 0)
            v->off = PCAP_HDR;
        if (v->off >= v->sizes[v->cur]) {
            v->cur++;
            v->off = 0;
            continue;
        }
        size_t want = (size_t)(v->sizes[v->cur] - v->off);
        if (want > max)
            want = max;
        ssize_t got = pread(v->fds[v->cur], buf, want, v->off);
        if (got <= 0)
            return -1;
        v->off += got;
        return got;
    }
    return 0;
}

void vnd_retain_view_free(struct vnd_retain_view *v)
{
    if (!v)
        return;
    for (int i = 0; i < v->n; i++)
        close(v->fds[i]);
    unpin(v->pins);
    free(v->fds);
    free(v->sizes);
    free(v);
}

void vnd_retain_close(struct vnd_retain *r, int remove)
{
    if (!r)
        return;
    close_file(r);
    free(r->buf);
    unpin(r->pins);
    if (remove) {
        for (int i = 0; i < r->n; i++) {
            char *p = file_path(r, r->seqs[i]);
            unlink(p);
            free(p);
        }
        rmdir(r->dir);
    }
    free(r->dir);
    free(r->seqs);
    free(r->sizes);
    free(r);
}
