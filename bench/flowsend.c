/* flowsend.c — replays flow export datagrams over UDP: the sender of the
 * collector benchmark (bench/collector_bench.sh).  The datagrams are what
 * Open vSwitch sends: sFlow v5 flow samples of 128-byte TCP headers, or
 * IPFIX with OVS's template (resent every 100 datagrams) and records of
 * its fields; the same bytes for every collector of a run (SEED).
 *
 *   flowsend -k sflow|ipfix -d HOST:PORT -n DATAGRAMS [-r RECORDS] [-p PPS]
 *            [-i ID] [-s SEED] [-f FLOWS] [-D DOMAIN]
 *
 * -r: samples or records per datagram (default 7 sFlow, 16 IPFIX: about
 * 1400 bytes, as OVS fills them); -i: the sFlow samples' input ifIndex or
 * the IPFIX records' observationPointId (default 1); -p: datagrams per
 * second (default: as fast as the socket takes them); -f: the TCP flows
 * the sFlow samples are spread over (default 64); -D: the IPFIX
 * observation domain (default VND's, VND_IPFIX_OBS_DOMAIN).  Prints
 * "DATAGRAMS RECORDS SECONDS PACKETS", PACKETS the packets the records
 * count (sFlow: one a sample; IPFIX: their packetDeltaCount). */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "synth/frame.h"
#include "synth/ipfix.h"
#include "synth/sflow.h"

static void usage(void)
{
    fputs("usage: flowsend -k sflow|ipfix -d HOST:PORT -n DATAGRAMS [-r RECORDS] [-p PPS]"
          " [-i ID] [-s SEED] [-f FLOWS] [-D DOMAIN]\n", stderr);
    exit(2);
}

static uint64_t rng = 88172645463325252ULL;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* sFlow v5 (XDR: big-endian words). */
static uint32_t nflows = 64;

static size_t sflow_datagram(struct vnd_ipfixw *w, uint32_t seq, int nrec, uint32_t ifindex)
{
    struct vnd_sflow_datagram d = {.agent_af = 4, .agent = {127, 0, 0, 1}, .sequence = seq,
                                   .uptime_ms = seq * 10, .nsamples = (uint32_t)nrec};
    vnd_sflow_begin(w, &d);
    static uint8_t frame[VND_FRAME_MAX];
    static uint8_t payload[VND_FRAME_MSS];
    for (int i = 0; i < nrec; i++) {
        uint32_t k = next() % nflows;                 /* the sample's flow */
        struct vnd_tcp_frame t = {.src = 0x0a000006 + k / 16384, .dst = 0x0a000008,
                                  .sport = (uint16_t)(40000 + k % 16384), .dport = 5201,
                                  .seq = next(), .ack = next(), .flags = VND_TCP_ACK,
                                  .ipid = (uint16_t)next(), .payload = payload,
                                  .len = VND_FRAME_MSS};
        uint32_t flen = vnd_frame_tcp(frame, &t);
        struct vnd_sflow_flow f = {
            .sequence = seq * 64 + (uint32_t)i, .source_index = ifindex, .sampling_rate = 1,
            .sample_pool = seq * 64 + (uint32_t)i, .in_value = ifindex,
            .out_value = ifindex + 1, .header_protocol = 1,   /* Ethernet */
            .frame_length = flen + 4, .stripped = 4,          /* the FCS */
            .header_length = 128, .header = frame};
        vnd_sflow_flow_sample(w, false, &f);
    }
    return w->n;
}

static uint64_t packets_sent;

static uint32_t domain = VND_IPFIX_OBS_DOMAIN;

static size_t ipfix_datagram(struct vnd_ipfixw *w, uint32_t seq, int nrec, uint32_t obs)
{
    vnd_ipfixw_begin(w, (uint32_t)time(NULL), seq, domain);
    if (seq % 100 == 0)
        vnd_ipfixw_ovs_template(w, 256);
    vnd_ipfixw_set(w, 256);
    for (int i = 0; i < nrec; i++) {
        struct vnd_ipfix_flow f;
        memset(&f, 0, sizeof f);
        f.obs_point = obs;
        memcpy(f.src_mac, "\x02\0\x0a\0\0\x06", 6);
        memcpy(f.dst_mac, "\x02\0\x0a\0\0\x08", 6);
        f.in_if = 7;
        f.proto = 6;
        uint32_t s = htonl(0x0a000006), d = htonl(0x0a000008 + next() % 16);
        memcpy(f.src, &s, 4);
        memcpy(f.dst, &d, 4);
        f.sport = (uint16_t)(40000 + next() % 4096);
        f.dport = 5201;
        f.packets = next() % 1000 + 1;
        packets_sent += f.packets;
        f.octets = f.packets * 1500;
        f.l2_octets = f.packets * 1514;
        f.octets_sq = f.packets * 1500 * 1500;
        f.end_reason = 2;
        f.tcp_flags = 0x18;
        vnd_ipfixw_ovs_record(w, &f, 1000000 + next() % 1000000, next() % 1000);
    }
    return vnd_ipfixw_end(w);
}

int main(int argc, char **argv)
{
    const char *kind = NULL, *dest = NULL;
    long n = 0;
    int nrec = 0, c;
    double pps = 0;
    uint32_t id = 1;
    while ((c = getopt(argc, argv, "k:d:n:r:p:i:s:f:D:")) != -1) {
        switch (c) {
        case 'k': kind = optarg; break;
        case 'd': dest = optarg; break;
        case 'n': n = atol(optarg); break;
        case 'r': nrec = atoi(optarg); break;
        case 'p': pps = atof(optarg); break;
        case 'i': id = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'D': domain = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 's': rng = strtoull(optarg, NULL, 10) * 2654435761ULL + 1; break;
        case 'f': nflows = (uint32_t)strtoul(optarg, NULL, 10); if (!nflows) usage(); break;
        default: usage();
        }
    }
    if (!kind || !dest || n <= 0 || (strcmp(kind, "sflow") && strcmp(kind, "ipfix")))
        usage();
    bool sflow = !strcmp(kind, "sflow");
    if (nrec <= 0)
        nrec = sflow ? 7 : 16;
    if (nrec > 64)
        usage();
    char host[256];
    const char *colon = strrchr(dest, ':');
    if (!colon || (size_t)(colon - dest) >= sizeof host)
        usage();
    memcpy(host, dest, (size_t)(colon - dest));
    host[colon - dest] = 0;
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST}, *ai;
    if (getaddrinfo(host, colon + 1, &hints, &ai)) {
        fprintf(stderr, "flowsend: %s: not an address\n", dest);
        return 2;
    }
    int fd = socket(ai->ai_family, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
        perror("flowsend");
        return 1;
    }
    freeaddrinfo(ai);
    /* Datagrams go 16 to a sendmmsg call, each built in its own writer,
     * and the sender keeps to the rate by sleeping once it is 0.2 ms
     * ahead: a send and a sleep per datagram (8 us apart at 125,000/s)
     * took half a core beside the collector under test, on the same two
     * cores.  The rate holds to 0.2 ms; within it datagrams come in
     * bursts, as an exporter flushing its cache sends them. */
    enum { BURST = 16 };
    static struct vnd_ipfixw w[BURST];
    struct mmsghdr mm[BURST];
    struct iovec iov[BURST];
    double t0 = now();
    long records = 0;
    for (long i = 0; i < n; ) {
        long k = BURST;
        if (pps > 0) {
            double due = t0 + (double)i / pps, t = now();
            if (due > t + 0.0002) {
                struct timespec d = {(time_t)(due - t), (long)((due - t - (long)(due - t)) * 1e9)};
                nanosleep(&d, NULL);
                t = now();
            }
            long owed = (long)((t - t0) * pps) + 1 - i;   /* due by now */
            k = owed < 1 ? 1 : owed < BURST ? owed : BURST;
        }
        if (k > n - i)
            k = n - i;
        for (long j = 0; j < k; j++) {
            size_t len = sflow ? sflow_datagram(&w[j], (uint32_t)(i + j), nrec, id)
                               : ipfix_datagram(&w[j], (uint32_t)(i + j), nrec, id);
            if (w[j].overflow) {
                fputs("flowsend: a datagram does not fit\n", stderr);
                return 1;
            }
            iov[j] = (struct iovec){w[j].buf, len};
            mm[j] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[j], .msg_iovlen = 1}};
        }
        /* loopback: send blocks while the receiver's buffer is full only
         * for the sender's own queue; a full receiver drops */
        for (long sent = 0; sent < k; ) {
            int m = sendmmsg(fd, mm + sent, (unsigned)(k - sent), 0);
            if (m < 0) {
                perror("flowsend: send");
                return 1;
            }
            sent += m;
        }
        records += k * nrec;
        if (sflow)
            packets_sent += (uint64_t)(k * nrec);
        i += k;
    }
    printf("%ld %ld %.3f %llu\n", n, records, now() - t0, (unsigned long long)packets_sent);
    close(fd);
    return 0;
}
