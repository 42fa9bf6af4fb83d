#!/usr/bin/env python3
"""Write the fuzz harnesses' seed inputs (tests/fuzz/corpus/NAME/*): a few
well-formed packets and operation sequences the fuzzer mutates from.
Run again after changing a harness's input layout."""
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(proto, payload, src=0xC6120001, dst=0xC6120002, frag=0):
    h = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + len(payload), 1, frag, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def pseudo(proto, l4, src=0xC6120001, dst=0xC6120002):
    return struct.pack("!IIBBH", src, dst, 0, proto, len(l4)) + l4


def eth(t, p):
    return bytes([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]) + struct.pack("!H", t) + p


def udp(data):
    u = struct.pack("!HHHH", 40000, 9999, 8 + len(data), 0) + data
    c = csum(pseudo(17, u))
    return eth(0x0800, ip4(17, u[:6] + struct.pack("!H", c) + u[8:]))


def tcp(data, opts=b""):
    hl = 20 + len(opts)
    t = struct.pack("!HHIIBBHHH", 40000, 8080, 1000, 77, (hl // 4) << 4, 0x18, 1024, 0, 0) + opts + data
    c = csum(pseudo(6, t))
    return eth(0x0800, ip4(6, t[:16] + struct.pack("!H", c) + t[18:]))


def icmp(data):
    i = struct.pack("!BBHHH", 8, 0, 0, 7, 1) + data
    return eth(0x0800, ip4(1, i[:2] + struct.pack("!H", csum(i)) + i[4:]))


def arp():
    return eth(0x0806, struct.pack("!HHBBH6sI6sI", 1, 0x0800, 6, 4, 1, bytes([2, 0, 0, 0, 0, 1]),
                                   0xC6120001, bytes(6), 0xC6120002))


OPTS = bytes([2, 4, 5, 0xB4, 1, 3, 3, 7, 4, 2, 8, 10]) + struct.pack("!II", 1, 2) + bytes([0, 0])


def write(name, seeds):
    d = os.path.join(here, name)
    os.makedirs(d, exist_ok=True)
    for i, s in enumerate(seeds):
        with open(os.path.join(d, "seed-%02d" % i), "wb") as f:
            f.write(s)


pkts = [udp(b"hello"), tcp(b"GET / HTTP/1.1\r\n\r\n", OPTS), tcp(b""), icmp(b"ping" * 8), arp(),
        eth(0x0800, ip4(17, b"\0" * 16, frag=0x2001))]
# dissect: cut count, cut points (2 bytes each), the packet
write("dissect", [bytes([0]) + p for p in pkts] + [bytes([2, 10, 0, 40, 0]) + pkts[1]])
# tcp: 0 = options, 1 = build and rewrite, 2 = addresses
write("tcp", [bytes([0]) + OPTS, bytes([0, 2, 4, 0, 0, 1]), bytes([1]) + bytes(range(64)) + b"payload",
              bytes([2]) + b"198.18.0.2:9999", bytes([2]) + b"02:00:00:00:00:01", bytes([2]) + b"1.2.3"])
# segment: flags a, b, headroom, mss, ports, ip id, [max], len, then data
seg = []
for st in range(7):
    for proto in (0, 0x10):
        a = (st << 1) | proto
        seg.append(bytes([a, 0x0E, 2]) + struct.pack("<HHHHH", 1448, 40000, 8080, 100, 9000) + b"abcdefgh")
write("segment", seg)
# reader: op, off(2), len(2), [bytes]
rd = b""
for op in (0, 1, 2, 4, 5, 6, 7, 8, 3):
    rd += bytes([op]) + struct.pack("<HH", 16, 300) + bytes(range(40))
write("reader", [rd, bytes([3, 0, 0, 60, 0]) + udp(b"payload of a packet")])
