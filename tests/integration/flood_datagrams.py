#!/usr/bin/env python3
"""flood_datagrams.py — hostile datagrams for a table server's collectors
(tests/integration/collector_flood.sh).

  flood_datagrams.py templates HOST PORT SECONDS RATE [SOCKETS]
      IPFIX messages of 172 new one-field templates each (ids cycling
      through 256..65535), RATE messages a second from one socket (or
      from SOCKETS sockets in turn, each its own source port, so each an
      exporter of its own within its share of the cache): an exporter
      that never stops defining templates.
  flood_datagrams.py longspan HOST PORT COUNT SPAN POINT
      COUNT IPFIX messages (VND's observation domain) of 16 records each
      at observation point POINT, each spanning SPAN seconds up to now.
  flood_datagrams.py junk HOST PORT COUNT RATE KIND
      COUNT malformed datagrams (KIND ipfix or sflow), RATE a second:
      random bytes under a wrong version, a header whose length lies, a
      set whose length lies, a template running past its set (IPFIX); a
      v5 header cut short, a sample count that lies (sFlow).
Prints the number of datagrams sent.  Loopback or the test's own
namespace only."""
import os
import random
import socket
import struct
import sys
import time


def pace(t0, sent, rate):
    if rate > 0:
        lag = t0 + sent / rate - time.monotonic()
        if lag > 0:
            time.sleep(lag)


def templates(host, port, secs, rate, nsock=1):
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(nsock)]
    bodies, tid = [], 256
    for _ in range(64):
        recs = b''
        for _ in range(172):
            recs += struct.pack('!HHHH', tid, 1, 2, 4)     # packetDeltaCount, 4 bytes
            tid = tid + 1 if tid < 65535 else 256
        bodies.append(struct.pack('!HH', 2, 4 + len(recs)) + recs)
    t0, sent = time.monotonic(), 0
    while time.monotonic() - t0 < secs:
        body = bodies[sent // nsock % len(bodies)]
        head = struct.pack('!HHIII', 10, 16 + len(body), int(time.time()), sent, 7)
        socks[sent % nsock].sendto(head + body, (host, port))
        sent += 1
        pace(t0, sent, rate)
    return sent


def longspan(host, port, count, span, point):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # observationPointId, addresses, protocol, ports, packets, bytes,
    # flowStartSeconds, flowEndSeconds
    fields = [(138, 4), (8, 4), (12, 4), (4, 1), (7, 2), (11, 2), (2, 8), (1, 8), (150, 4),
              (151, 4)]
    tmpl = struct.pack('!HH', 300, len(fields)) + b''.join(struct.pack('!HH', *f) for f in fields)
    tset = struct.pack('!HH', 2, 4 + len(tmpl)) + tmpl
    now = int(time.time())
    for m in range(count):
        recs = b''.join(struct.pack('!I4s4sBHHQQII', point, bytes([10, 0, 0, 1]),
                                    bytes([10, 0, 0, 2]), 6, 40000 + i, 80, 100, 150000,
                                    now - span, now) for i in range(16))
        body = tset + struct.pack('!HH', 300, 4 + len(recs)) + recs
        s.sendto(struct.pack('!HHIII', 10, 16 + len(body), now, m, 22094) + body, (host, port))
    return count


def ipfix_junk(r, i):
    k = i % 4
    if k == 0:      # random bytes, a version that is neither 9 nor 10
        return struct.pack('!H', r.choice([0, 1, 5, 11, 0xffff])) + r.randbytes(r.randint(0, 1400))
    if k == 1:      # a header whose length lies
        body = r.randbytes(r.randint(0, 200))
        return struct.pack('!HHIII', 10, 16 + len(body) + r.randint(1, 5000), 0, i, 1) + body
    if k == 2:      # a set whose length runs past the message
        body = struct.pack('!HH', 256, 400) + r.randbytes(40)
        return struct.pack('!HHIII', 10, 16 + len(body), 0, i, 1) + body
    # a template whose fields run past its set
    body = struct.pack('!HHHH', 2, 12, 300 + i % 1000, 50) + struct.pack('!HH', 1, 4)
    return struct.pack('!HHIII', 10, 16 + len(body), 0, i, 1) + body


def sflow_junk(r, i):
    if i % 2 == 0:  # a v5 header cut short
        return struct.pack('!II', 5, 1) + r.randbytes(r.randint(0, 15))
    # a v5 header (agent 127.0.0.1) saying more samples than it holds
    return struct.pack('!IIIIIII', 5, 1, 0x7f000001, 0, i, 0, 1000) + r.randbytes(r.randint(0, 64))


def junk(host, port, count, rate, kind):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r = random.Random(int.from_bytes(os.urandom(4), 'big'))
    make = ipfix_junk if kind == 'ipfix' else sflow_junk
    t0 = time.monotonic()
    for i in range(count):
        s.sendto(make(r, i), (host, port))
        pace(t0, i + 1, rate)
    return count


if __name__ == '__main__':
    a = sys.argv
    if len(a) in (6, 7) and a[1] == 'templates':
        print(templates(a[2], int(a[3]), float(a[4]), float(a[5]), int(a[6]) if len(a) == 7 else 1))
    elif len(a) == 7 and a[1] == 'longspan':
        print(longspan(a[2], int(a[3]), int(a[4]), int(a[5]), int(a[6])))
    elif len(a) == 7 and a[1] == 'junk' and a[6] in ('ipfix', 'sflow'):
        print(junk(a[2], int(a[3]), int(a[4]), float(a[5]), a[6]))
    else:
        sys.exit(__doc__)
