#!/usr/bin/env python3
"""The kernel's side of the network tests: a UDP echo server in the peer
namespace. It binds 198.18.0.2:9999 (or ADDR:9999), checks that datagram
number `seq` carries exactly the bytes afxdp_drive.c and the echo scripts
send (the same pattern), and sends it back to where it came from. Exits 0
after COUNT good datagrams, 1 on the first wrong byte or after TIMEOUT
seconds of silence.

    udp_echo_peer.py [--at ADDR] SIZE COUNT READY_FILE [TIMEOUT]
"""
import socket
import sys


def pattern(seq, size):
    return bytes((((j * 131) + seq * 7) ^ (j >> 8)) & 0xFF for j in range(size))


def main():
    args, at = sys.argv[1:], "198.18.0.2"
    if args[:1] == ["--at"]:
        at, args = args[1], args[2:]
    size, count, ready = int(args[0]), int(args[1]), args[2]
    timeout = float(args[3]) if len(args) > 3 else 20
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((at, 9999))
    s.settimeout(timeout)
    open(ready, "w").close()
    for seq in range(count):
        try:
            data, addr = s.recvfrom(65535)
        except socket.timeout:
            print(f"echo {at}: no datagram {seq} within {timeout} s", flush=True)
            return 1
        want = pattern(seq, size)
        if data != want:
            bad = next((i for i in range(min(len(data), size)) if data[i] != want[i]), None)
            print(f"echo {at}: datagram {seq} from {addr}: {len(data)} bytes, want {size}; "
                  f"first wrong byte {bad}", flush=True)
            return 1
        print(f"echo {at}: datagram {seq} from {addr[0]}:{addr[1]}: {len(data)} bytes, "
              "every byte equal; echoing", flush=True)
        s.sendto(data, addr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
