#!/usr/bin/env python3
"""tcp_sha_sink.py - the peer's plain TCP server for ringlab's `send tcp` tests.

    tcp_sha_sink.py ADDR PORT READY_FILE SIZE [SECONDS]

Accepts one connection, reads until the sender closes (FIN) or SIZE bytes
arrived, and compares the sha256 of what arrived with the sha256 of the
SIZE bytes ringlab sends: every 16 bytes the hex offset of their first
byte in 15 digits and a newline ("%015x\\n"), and SIZE % 16 '#' at the end
(the `send tcp size=` body, and the one tcp_body.lua sends). It answers
"<n> bytes crc32 <hex> sha256 <hex> intact|NOT intact", prints the same
line and exits 0 only when the body is intact. READY_FILE appears once it
listens; it gives up after SECONDS (default 30).
"""
import hashlib
import socket
import sys
import zlib


def body(size):
    whole = b"".join(b"%015x\n" % (i * 16) for i in range(size // 16))
    return whole + b"#" * (size % 16)


def main():
    addr, port, ready, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 30
    want = hashlib.sha256(body(size)).hexdigest()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(1)
    srv.settimeout(seconds)
    open(ready, "w").close()
    conn, peer = srv.accept()
    conn.settimeout(seconds)
    got = bytearray()
    while len(got) < size:
        chunk = conn.recv(65536)
        if not chunk:
            break
        got += chunk
    sha = hashlib.sha256(got).hexdigest()
    ok = sha == want and len(got) == size
    line = "%d bytes crc32 %08x sha256 %s %s" % (
        len(got), zlib.crc32(got) & 0xFFFFFFFF, sha, "intact" if ok else "NOT intact")
    print("from %s:%d: %s (want %d bytes sha256 %s)" % (peer[0], peer[1], line, size, want),
          flush=True)
    try:
        conn.sendall((line + "\n").encode())
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(2)
        while conn.recv(4096):
            pass
    except OSError:
        pass
    conn.close()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
