#!/usr/bin/env python3
"""udp_expect_peer.py - a kernel UDP socket in the peer namespace that must
receive given datagrams, in order, from the lab.

    udp_expect_peer.py ADDR PORT READY_FILE SECONDS EXPECTED...

Each EXPECTED is one datagram's payload: literal text, or TEXT*N for TEXT
repeated N times. READY_FILE appears once the socket is bound. Every
datagram is printed with its source; the exit status is 0 only when each
arrived with exactly the expected bytes from 198.18.0.1, within SECONDS.
"""
import socket
import sys


def expected(arg):
    text, star, n = arg.rpartition("*")
    if star and n.isdigit():
        return text.encode() * int(n)
    return arg.encode()


def main():
    addr, port, ready, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    want = [expected(a) for a in sys.argv[5:]]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.settimeout(seconds)
    open(ready, "w").close()
    ok = True
    for i, w in enumerate(want, 1):
        try:
            data, src = s.recvfrom(65536)
        except socket.timeout:
            print("datagram %d of %d: none within %g s" % (i, len(want), seconds))
            return 1
        same = data == w and src[0] == "198.18.0.1"
        shown = data if len(data) <= 40 else data[:30] + b"..."
        print("datagram %d: %d bytes from %s:%d %r - %s" % (
            i, len(data), src[0], src[1], shown, "as expected" if same else
            "NOT as expected (want %d bytes %r from 198.18.0.1)" % (len(w), w[:30])), flush=True)
        ok = ok and same
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
