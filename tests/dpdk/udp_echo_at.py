#!/usr/bin/env python3
"""A kernel UDP echo server on ADDR:9999 for the DPDK network tests: checks
that datagram `seq` carries exactly the bytes dpdk_udp_echo.lua sends (the
pattern of tests/net/udp_echo_peer.py) and sends it back. Exits 0 after
COUNT good datagrams, 1 on a wrong byte or TIMEOUT seconds of silence.

    udp_echo_at.py ADDR SIZE COUNT READY_FILE [TIMEOUT]
"""
import socket
import sys


def pattern(seq, size):
    return bytes((((j * 131) + seq * 7) ^ (j >> 8)) & 0xFF for j in range(size))


def main():
    addr, size, count, ready = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 20
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 9999))
    s.settimeout(timeout)
    open(ready, "w").close()
    for seq in range(count):
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            print(f"echo {addr}: no datagram {seq} within {timeout} s", flush=True)
            return 1
        if data != pattern(seq, size):
            print(f"echo {addr}: datagram {seq}: wrong bytes", flush=True)
            return 1
        print(f"echo {addr}: datagram {seq} from {src[0]}:{src[1]}: {len(data)} bytes, "
              "every byte equal; echoing", flush=True)
        s.sendto(data, src)
    return 0


if __name__ == "__main__":
    sys.exit(main())
