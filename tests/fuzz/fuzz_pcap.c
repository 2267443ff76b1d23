/* fuzz_pcap.c — the capture-file reader: arbitrary bytes as a pcap or
 * pcapng file through libpcap (as `vnd parse` opens it), every record
 * decoded and every field turned into its stored value. */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

#include "capture/pcap_file.h"
#include "decode/packet.h"
#include "fields/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    FILE *fp = fmemopen((void *)data, size, "rb");
    if (!fp)
        return 0;
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!p) {
        fclose(fp);
        return 0;
    }
    int lt = pcap_datalink(p);
    struct pcap_pkthdr *h;
    const u_char *bytes;
    static struct vnd_pkt pkt;
    char buf[VND_VALUE_TEXT_MAX];
    int n = 0;
    while (n++ < 10000 && pcap_next_ex(p, &h, &bytes) == 1) {
        if (!vnd_decode_linktype_supported(lt))
            continue;
        vnd_decode(&pkt, lt, bytes, h->caplen, h->len, vnd_pcap_ts_ns(h));
        for (int f = 0; f < VND_F_COUNT; f++) {
            struct vnd_value v;
            vnd_field_value(&pkt, (enum vnd_field)f, buf, &v);
        }
    }
    pcap_close(p);   /* closes fp */
    return 0;
}
