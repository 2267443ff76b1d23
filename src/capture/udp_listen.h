/* udp_listen.h — the UDP socket a collector source (sFlow, IPFIX) reads:
 * "HOST:PORT" (IPv6 in brackets), an 8 MB receive buffer (beyond
 * net.core.rmem_max when the process may: SO_RCVBUFFORCE), and the
 * kernel's count of datagrams dropped on a full buffer (SO_RXQ_OVFL,
 * read with vnd_udp_recv). */
#ifndef VND_CAPTURE_UDP_LISTEN_H
#define VND_CAPTURE_UDP_LISTEN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Binds `addr`; `flag` names the option in errors ("--ipfix-listen").
 * Returns the socket, or -1 with errno's value in *e and *err. */
int vnd_udp_listen(const char *addr, const char *flag, int *e, char **err);

/* One datagram without waiting: its length, or -1 when none.  *drops gets
 * the socket's drop count when the kernel reported it; the sender's
 * address goes into `from` (may be NULL). */
ssize_t vnd_udp_recv(int fd, void *buf, size_t cap, struct sockaddr_storage *from,
                     uint32_t *drops);

#endif
