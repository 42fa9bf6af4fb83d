#!/usr/bin/env python3
"""tcp_sink.py - the Linux kernel's end for ringlab's `send tcp` (run it in
the testbed's peer namespace):

    ip netns exec rl-peer python3 scripts/tcp_sink.py 198.18.0.2 8080

Listens on ADDR:PORT; each connection is read until the sender closes its
side (FIN), then answered with "<bytes> bytes crc32 <hex>" and closed.
`send tcp` compares that line with the CRC-32 of what it sent, so the
prompt can say whether the bytes arrived intact. Ctrl-C stops it.
"""
import os
import socket
import sys
import threading
import zlib


def serve(conn, peer):
    n, crc = 0, 0
    with conn:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            n += len(chunk)
            crc = zlib.crc32(chunk, crc)
        line = "%d bytes crc32 %08x" % (n, crc & 0xFFFFFFFF)
        print("%s:%d sent %s" % (peer[0], peer[1], line), flush=True)
        conn.sendall((line + "\n").encode())


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: tcp_sink.py ADDR PORT   e.g. tcp_sink.py 198.18.0.2 8080")
    addr, port = sys.argv[1], sys.argv[2]
    if not port.isdigit() or not 0 < int(port) < 65536:
        sys.exit("tcp_sink.py: port %r is not a port - e.g. tcp_sink.py 198.18.0.2 8080" % port)
    port = int(port)
    try:
        srv = socket.create_server((addr, port), reuse_port=False)
    except OSError as err:
        sys.exit("tcp_sink.py: cannot listen on %s:%d: %s - %s" % (
            addr, port, os.strerror(err.errno) if err.errno else err,
            "is a sink already running? (ss -ltnp in this namespace)" if err.errno == 98
            else "run it in the testbed's peer namespace: ip netns exec rl-peer python3 ..."))
    print("listening on %s:%d - send tcp %s:%d size=64k from ringlab" % (addr, port, addr, port),
          flush=True)
    try:
        while True:
            conn, peer = srv.accept()
            threading.Thread(target=serve, args=(conn, peer), daemon=True).start()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
