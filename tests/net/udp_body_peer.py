#!/usr/bin/env python3
"""udp_body_peer.py - the peer's kernel UDP socket for the 64 KiB bodies the
lab sends in datagrams (body_case.sh, dpdk_net.sh):

    udp_body_peer.py READY PORT [any-source]

binds 198.18.0.2:PORT, touches READY when it listens, and gathers datagrams
until it holds 65536 bytes; they must equal the lab's test body (byte i is
(i * 13 + i // 241) % 256) and come from 198.18.0.1 (unless any-source).
Exit 0 when intact; 1, with the reason, otherwise or after 10 s of silence.
"""
import socket
import sys

ready, port = sys.argv[1], int(sys.argv[2])
any_source = len(sys.argv) > 3 and sys.argv[3] == "any-source"
n = 65536
body = bytes((i * 13 + i // 241) % 256 for i in range(n))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
# 46 datagrams may arrive in one burst: room for all of them (as root in the
# peer namespace SO_RCVBUFFORCE passes the rmem_max limit)
s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 16 << 20)
s.bind(("198.18.0.2", port))
s.settimeout(10)
open(ready, "w").close()
got = b""
while len(got) < n:
    try:
        d, src = s.recvfrom(65536)
    except socket.timeout:
        print("peer: %d of %d bytes, then nothing for 10 s" % (len(got), n))
        sys.exit(1)
    if not any_source and src[0] != "198.18.0.1":
        print("peer: a datagram from", src)
        sys.exit(1)
    got += d
print("peer: %d bytes, %s" % (len(got), "intact" if got == body else "NOT INTACT"))
sys.exit(0 if got == body else 1)
