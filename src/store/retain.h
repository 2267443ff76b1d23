/* retain.h — raw packet retention: per trace, a bounded ring of pcap
 * files (nanosecond pcap, Ethernet, tag removed, cut to the trace's snap
 * length, after sampling: exactly the packets its tables describe).
 *
 * Files are DIR/NNNNNNNN.pcap; a new one starts at 1/16 of the bound.
 * When the next would push the total past the bound, the oldest becomes it
 * (renamed and written over) unless a download holds files open; else the
 * oldest go when the total passes the bound.  Between 7/8 and all of the
 * bound is kept.  A restarted table server continues the ring. */
#ifndef VND_STORE_RETAIN_H
#define VND_STORE_RETAIN_H

#include <stdint.h>
#include <sys/types.h>

struct vnd_retain;

/* Opens (creating) the ring in `dir` bounded by `limit_bytes`.  Returns 0,
 * or errno and *err. */
int vnd_retain_open(const char *dir, uint64_t limit_bytes, uint32_t snaplen,
                    struct vnd_retain **out, char **err);

/* Appends one packet; rotates and trims.  Returns 0 or errno (logged by
 * the caller once; retention then stops for the trace). */
int vnd_retain_write(struct vnd_retain *r, int64_t ts_ns, const uint8_t *data,
                     uint32_t caplen, uint32_t len);

/* Makes what was written readable by others (called every flush). */
void vnd_retain_flush(struct vnd_retain *r);

/* A consistent view for a download: every file, open, with its size now.
 * The stream is one pcap: the first file's header, then every file's
 * records.  Files removed by rotation meanwhile stay readable through
 * their descriptors. */
struct vnd_retain_view {
    int n;
    int *fds;
    off_t *sizes;
    int cur;                 /* reading position: file, offset */
    off_t off;
    struct vnd_retain_pins *pins;       /* the ring's: held while the view lives */
};
int vnd_retain_snapshot(struct vnd_retain *r, struct vnd_retain_view **out);
/* Copies up to `max` bytes of the stream at `pos`; returns bytes, 0 at the
 * end, -1 on a read error. */
ssize_t vnd_retain_view_read(struct vnd_retain_view *v, char *buf, size_t max);
void vnd_retain_view_free(struct vnd_retain_view *v);

uint64_t vnd_retain_bytes(const struct vnd_retain *r);

/* Closes; with `remove`, deletes the files and the directory. */
void vnd_retain_close(struct vnd_retain *r, int remove);

#endif
