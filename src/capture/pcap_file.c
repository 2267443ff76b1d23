/* pcap_file.c — reading capture files with libpcap. */
#include "capture/pcap_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode/packet.h"
#include "util/util.h"

int vnd_pcap_file_open(const char *path, struct vnd_pcap_file **out, char **err)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    /* We open the stream ourselves to give it a 1 MiB buffer: libpcap
     * reads record by record, and stdio's default 4 KiB buffer makes that
     * a read(2) every few packets.  The buffer must be ours: glibc's
     * setvbuf ignores the size when it is to allocate the buffer itself.
     * Not for stdin, which outlives pcap_close() and so would its buffer. */
    FILE *fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!fp) {
        *err = vnd_strdup_printf("%s: %s", path, strerror(errno));
        return errno;
    }
    enum { IOBUF = 1 << 20 };
    char *iobuf = fp != stdin ? vnd_xmalloc(IOBUF) : NULL;
    if (iobuf)
        setvbuf(fp, iobuf, _IOFBF, IOBUF);
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO,
                                                         errbuf);
    if (!p) {
        *err = vnd_strdup_printf("%s: cannot read as pcap or pcapng: %s", path, errbuf);
        if (fp != stdin)
            fclose(fp);
        free(iobuf);
        return EINVAL;
    }
    int lt = pcap_datalink(p);
    if (!vnd_decode_linktype_supported(lt)) {
        const char *name = pcap_datalink_val_to_name(lt);
        *err = vnd_strdup_printf("%s: link type %d (%s) is not supported; VND reads Ethernet, "
                                 "Linux cooked (SLL, SLL2), raw IP and BSD loopback captures",
                                 path, lt, name ? name : "unknown");
        pcap_close(p);
        free(iobuf);
        return ENOTSUP;
    }
    struct vnd_pcap_file *f = vnd_xcalloc(1, sizeof *f);
    f->pcap = p;
    f->iobuf = iobuf;
    f->path = vnd_xstrdup(path);
    f->linktype = lt;
    struct stat sb;
    f->size = strcmp(path, "-") && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)
              ? (int64_t)sb.st_size : -1;
    *out = f;
    return 0;
}

enum vnd_pcap_next vnd_pcap_file_next(struct vnd_pcap_file *f, struct pcap_pkthdr **hdr,
                                      const uint8_t **data, char **err)
{
    int rc = pcap_next_ex(f->pcap, hdr, data);
    if (rc == 1) {
        f->packets++;
        return VND_PCAP_PACKET;
    }
    if (rc == PCAP_ERROR_BREAK)
        return VND_PCAP_EOF;
    const char *msg = pcap_geterr(f->pcap);
    /* libpcap reports a file cut short mid-record as "truncated dump
     * file" (pcap) or "truncated pcapng dump file" / "...block" (pcapng). */
    bool truncated = msg && strstr(msg, "truncated");
    *err = vnd_strdup_printf("%s: record %llu: %s", f->path,
                             (unsigned long long)f->packets + 1, msg ? msg : "read error");
    return truncated ? VND_PCAP_TRUNCATED : VND_PCAP_ERROR;
}

int64_t vnd_pcap_file_offset(const struct vnd_pcap_file *f)
{
    FILE *fp = pcap_file(f->pcap);
    return fp ? (int64_t)ftello(fp) : -1;
}

void vnd_pcap_file_close(struct vnd_pcap_file *f)
{
    if (!f)
        return;
    pcap_close(f->pcap);
    free(f->iobuf);
    free(f->path);
    free(f);
}
