/* pcap_file.h — capture files (pcap and pcapng) through libpcap, with
 * nanosecond timestamps and the byte offset for progress reports. */
#ifndef VND_CAPTURE_PCAP_FILE_H
#define VND_CAPTURE_PCAP_FILE_H

#include <pcap/pcap.h>
#include <stdint.h>

struct vnd_pcap_file {
    pcap_t *pcap;
    char *path;
    int linktype;         /* pcap_datalink() */
    int64_t size;         /* bytes, -1 when unknown (a pipe) */
    uint64_t packets;     /* records read so far */
    char *iobuf;          /* the stream's buffer (freed after the stream) */
};

/* Opens `path` ("-" for standard input).  Refuses link types the decoder
 * does not know.  Returns 0, or errno-ish and a malloc'd message. */
int vnd_pcap_file_open(const char *path, struct vnd_pcap_file **out, char **err);

enum vnd_pcap_next {
    VND_PCAP_PACKET = 1,
    VND_PCAP_EOF = 0,
    VND_PCAP_TRUNCATED = -1,  /* the file ends inside a record */
    VND_PCAP_ERROR = -2,      /* a record is corrupt */
};

/* Reads the next record.  On VND_PCAP_TRUNCATED/ERROR, *err is a malloc'd
 * message naming the file and the record number. */
enum vnd_pcap_next vnd_pcap_file_next(struct vnd_pcap_file *f, struct pcap_pkthdr **hdr,
                                      const uint8_t **data, char **err);

/* Bytes consumed so far (for progress), -1 when unknown. */
int64_t vnd_pcap_file_offset(const struct vnd_pcap_file *f);

void vnd_pcap_file_close(struct vnd_pcap_file *f);

/* Timestamp of a record in nanoseconds (the file is opened with nanosecond
 * precision, so ts.tv_usec holds nanoseconds).  pcapng can carry times far
 * beyond 2262, which do not fit: the arithmetic wraps (unsigned) instead
 * of overflowing, and such packets get a meaningless but defined time. */
static inline int64_t vnd_pcap_ts_ns(const struct pcap_pkthdr *h)
{
    return (int64_t)((uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec);
}

#endif
