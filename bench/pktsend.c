/* pktsend.c — sends the frames of a capture file out of an interface,
 * each with an 802.1Q tag pushed, as an OVS capture rule would: the
 * traffic source of the table server's tests and capture benchmark.
 *
 *   pktsend -i IF -t TAG [-n MAX] [-p PPS] [-l] FILE.pcap
 *
 * -l: from the file's start again at its end, until MAX frames (a small
 * file makes a long run of exactly known frames).
 * -t may be given several times: frame k goes out with tag k mod ntags.
 * Prints the number of frames sent.  Loopback or a test's own veth only. */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(void)
{
    fputs("usage: pktsend -i IF -t TAG [-t TAG...] [-n MAX] [-p PPS] [-l] FILE.pcap\n", stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *ifname = NULL;
    int tags[16], ntags = 0, c;
    long max = -1;
    double pps = 0;
    int loop = 0;
    while ((c = getopt(argc, argv, "i:t:n:p:l")) != -1) {
        switch (c) {
        case 'i': ifname = optarg; break;
        case 't':
            if (ntags == 16)
                usage();
            tags[ntags++] = atoi(optarg);
            break;
        case 'n': max = atol(optarg); break;
        case 'p': pps = atof(optarg); break;
        case 'l': loop = 1; break;
        default: usage();
        }
    }
    if (!ifname || !ntags || optind != argc - 1)
        usage();
    char ebuf[PCAP_ERRBUF_SIZE];
    pcap_t *in = pcap_open_offline(argv[optind], ebuf);
    if (!in) {
        fprintf(stderr, "pktsend: %s\n", ebuf);
        return 1;
    }
    if (pcap_datalink(in) != DLT_EN10MB) {
        fprintf(stderr, "pktsend: %s is not Ethernet\n", argv[optind]);
        return 1;
    }
    pcap_t *out = pcap_open_live(ifname, 65535, 0, 100, ebuf);
    if (!out) {
        fprintf(stderr, "pktsend: %s\n", ebuf);
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    uint8_t frame[65536 + 4];
    long sent = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (loop && max < 0)
        usage();
    for (;;) {
        if (max >= 0 && sent >= max)
            break;
        int rc = pcap_next_ex(in, &h, &data);
        if (rc == PCAP_ERROR_BREAK && loop && sent > 0) {
            pcap_close(in);
            if (!(in = pcap_open_offline(argv[optind], ebuf))) {
                fprintf(stderr, "pktsend: %s\n", ebuf);
                return 1;
            }
            continue;
        }
        if (rc != 1)
            break;
        if (h->caplen < 14 || h->caplen > 65536)
            continue;
        int tag = tags[sent % ntags];
        memcpy(frame, data, 12);
        frame[12] = 0x81;
        frame[13] = 0x00;
        frame[14] = (uint8_t)((tag >> 8) & 0x0f);
        frame[15] = (uint8_t)tag;
        memcpy(frame + 16, data + 12, h->caplen - 12);
        if (pcap_inject(out, frame, h->caplen + 4) < 0) {
            fprintf(stderr, "pktsend: frame %ld: %s\n", sent + 1, pcap_geterr(out));
            return 1;
        }
        sent++;
        if (pps > 0) {
            /* Paced against the start, so sleeping errors do not add up. */
            double due = (double)sent / pps;
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            double el = (double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9;
            if (due > el) {
                struct timespec d = {(time_t)(due - el), (long)((due - el - (long)(due - el)) * 1e9)};
                nanosleep(&d, NULL);
            }
        }
    }
    printf("%ld\n", sent);
    pcap_close(out);
    pcap_close(in);
    return 0;
}
