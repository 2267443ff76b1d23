/* frame.c — Ethernet/IPv4/TCP frames for the capture models (frame.h). */
#include "synth/frame.h"

#include <stdio.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)(p[n - 1] << 8);
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void mac(uint8_t *m, uint32_t ip)
{
    m[0] = 0x02;
    m[1] = 0x00;
    put32(m + 2, ip);
}

uint32_t vnd_frame_tcp(uint8_t *f, const struct vnd_tcp_frame *t)
{
    uint32_t plen = t->len > VND_FRAME_MSS ? VND_FRAME_MSS : t->len;
    uint32_t olen = t->optlen > 40 ? 40 : t->optlen & ~3u;
    uint32_t thl = 20 + olen;
    mac(f, t->dst);
    mac(f + 6, t->src);
    f[12] = 0x08;
    f[13] = 0x00;
    uint8_t *ip = f + 14, *tcp = f + 34;
    memset(ip, 0, 40);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + thl + plen));
    put16(ip + 4, t->ipid);
    ip[6] = 0x40;               /* don't fragment */
    ip[8] = 64;
    ip[9] = 6;
    put32(ip + 12, t->src);
    put32(ip + 16, t->dst);
    put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
    put16(tcp, t->sport);
    put16(tcp + 2, t->dport);
    put32(tcp + 4, t->seq);
    put32(tcp + 8, (t->flags & VND_TCP_ACK) ? t->ack : 0);
    tcp[12] = (uint8_t)((thl / 4) << 4);
    tcp[13] = t->flags;
    put16(tcp + 14, 65535);
    if (olen)
        memcpy(tcp + 20, t->opts, olen);
    if (plen)
        memcpy(tcp + thl, t->payload, plen);
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = 6;
    put16(pseudo + 10, (uint16_t)(thl + plen));
    put16(tcp + 16, csum_fold(csum_add(csum_add(0, pseudo, 12), tcp, thl + plen)));
    return 34 + thl + plen;
}

void vnd_frame_dump(pcap_dumper_t *d, int64_t ns, const uint8_t *f, uint32_t len,
                    uint32_t snaplen)
{
    struct pcap_pkthdr h;
    h.ts.tv_sec = (time_t)(ns / 1000000000);
    h.ts.tv_usec = (suseconds_t)(ns % 1000000000);   /* a nanosecond file */
    h.len = len;
    h.caplen = snaplen && snaplen < len ? snaplen : len;
    pcap_dump((u_char *)d, &h, f);
}

pcap_t *vnd_frame_dead(void)
{
    return pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
                                                PCAP_TSTAMP_PRECISION_NANO);
}

void vnd_frame_ip_str(uint32_t ip, char *buf, size_t n)
{
    snprintf(buf, n, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

uint32_t vnd_frame_udp(uint8_t *f, const uint8_t *msg, size_t n, uint16_t sport,
                       uint16_t dport)
{
    static const uint8_t head[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0};
    memcpy(f, head, 14);
    uint8_t *ip = f + 14, *udp = ip + 20;
    size_t tot = 20 + 8 + n;
    memset(ip, 0, 28);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)tot);
    ip[8] = 64;
    ip[9] = 17;
    put32(ip + 12, 0x0a000001);
    put32(ip + 16, 0x0a000002);
    put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
    put16(udp, sport);
    put16(udp + 2, dport);
    put16(udp + 4, (uint16_t)(8 + n));
    memcpy(udp + 8, msg, n);
    return (uint32_t)(14 + tot);
}
