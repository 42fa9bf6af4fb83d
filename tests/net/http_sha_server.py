#!/usr/bin/env python3
"""http_sha_server.py - the peer's HTTP server for ringlab's TCP tests.

    http_sha_server.py ADDR PORT READY_FILE [SECONDS]

A tiny http.server subclass (python3 -m http.server takes no POST): a POST
is read in full (Content-Length) and answered with the sha256 of its body,
in hex, and the body's length; every request is also written to stdout.
GET answers "ok". It creates READY_FILE once it listens and exits after
SECONDS (default 60).
"""
import hashlib
import http.server
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        digest = hashlib.sha256(body).hexdigest()
        print("POST %s %d bytes sha256 %s" % (self.path, len(body), digest), flush=True)
        self.answer(("%s %d\n" % (digest, len(body))).encode())

    def do_GET(self):
        print("GET %s" % self.path, flush=True)
        self.answer(b"ok\n")

    def log_message(self, fmt, *args):
        pass


def main():
    addr, port, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 60
    srv = http.server.ThreadingHTTPServer((addr, port), Handler)
    threading.Timer(seconds, srv.shutdown).start()
    open(ready, "w").close()
    srv.serve_forever()


if __name__ == "__main__":
    main()
