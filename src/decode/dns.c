/* dns.c — Domain Name System header and first question, RFC 1035.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |              ID               |QR| Opcode |AA|TC|RD|RA| Z|RCODE|
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           QDCOUNT             |           ANCOUNT             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           NSCOUNT             |           ARCOUNT             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | question: QNAME (labels), QTYPE (2), QCLASS (2)               |
 *
 * A name is length-prefixed labels ending in a 0 byte, or in a
 * compression pointer (two bytes 11pppppp pppppppp: an offset from the
 * start of the message).  Pointers are followed at most VND_DNS_HOPS_MAX
 * times per name, so a loop ends as a malformed packet.  The name is
 * written dotted, without the trailing dot, the root as "<Root>" (as
 * tshark does); bytes outside printable ASCII become '?', which keeps
 * the text one byte per byte and valid UTF-8.
 */
#include "decode/decode-int.h"

#include <string.h>

#define DNS_NAME_TEXT_MAX 255   /* sizeof pkt->qname - 1 */

_Static_assert(sizeof(((struct vnd_pkt *)0)->qname) > DNS_NAME_TEXT_MAX,
               "qname holds a whole name");

void vnd_dn_dns(struct vnd_dissect *d, uint32_t off)
{
    struct vnd_pkt *pkt = d->pkt;
    uint32_t id, flags, qdcount, qtype;

    DN_READ(dn_be16(d, off, &id));
    dn_set(d, VND_F_DNS_ID, id);
    DN_READ(dn_be16(d, off + 2, &flags));
    dn_set(d, VND_F_DNS_QR, flags >> 15);
    dn_set(d, VND_F_DNS_RCODE, flags & 0x0f);
    DN_READ(dn_be16(d, off + 4, &qdcount));
    DN_READ(dn_have(d, off, 12));
    if (qdcount == 0)
        return;

    char *out = pkt->qname;
    uint32_t n = 0, pos = off + 12, after = 0, hops = 0;
    for (;;) {
        uint32_t c;
        DN_READ(dn_u8(d, pos, &c));
        if ((c & 0xc0) == 0xc0) {
            uint32_t lo;
            DN_READ(dn_u8(d, pos + 1, &lo));
            if (after == 0)
                after = pos + 2;    /* the question goes on after the pointer */
            if (++hops > VND_DNS_HOPS_MAX) {
                dn_flag(d, VND_PKT_MALFORMED);
                return;
            }
            pos = off + ((c & 0x3f) << 8 | lo);
            continue;
        }
        if (c & 0xc0) {             /* 01 and 10: obsolete label types */
            dn_flag(d, VND_PKT_MALFORMED);
            return;
        }
        if (c == 0)
            break;
        if (n + (n > 0) + c > DNS_NAME_TEXT_MAX) {
            dn_flag(d, VND_PKT_MALFORMED);
            return;
        }
        DN_READ(dn_have(d, pos + 1, c));
        if (n > 0)
            out[n++] = '.';
        const uint8_t *label = d->p + pos + 1;
        for (uint32_t i = 0; i < c; i++)
            out[n++] = label[i] >= 0x20 && label[i] < 0x7f ? (char)label[i] : '?';
        pos += 1 + c;
    }
    if (after == 0)
        after = pos + 1;
    if (n == 0) {
        memcpy(out, "<Root>", 6);
        n = 6;
    }
    out[n] = '\0';
    vnd_pkt_set_b(pkt, VND_F_DNS_QNAME, (const uint8_t *)out, n);
    DN_READ(dn_be16(d, after, &qtype));
    dn_set(d, VND_F_DNS_QTYPE, qtype);
}
