"""A loopback HTTP range server for the peer benchmarks.

Every reader under test reads through it, so requests and bytes are counted
where they arrive, not by the readers themselves. Ranged GETs (and HEAD)
with Content-Range and an ETag, HTTP/1.1 keep-alive, TCP_NODELAY on every
connection, and a fixed delay added before each answer (`/__latency?ms=N`)
to stand in for a distant object store. `/__log` returns the requests since
`/__clear`.

    python3 range_server.py --root DIR --ready FILE
"""

import argparse
import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

STATE = {"latency": 0.0, "log": [], "lock": threading.Lock()}


def parse_range(header, size):
    """(start, end_exclusive) for a single `bytes=` range, or None when unsatisfiable."""
    spec = header.strip().removeprefix("bytes=")
    first, _, last = spec.partition("-")
    if first == "":
        n = int(last)
        start, end = max(size - n, 0), size
    else:
        start = int(first)
        end = min(int(last) + 1, size) if last else size
    if start >= size or start >= end:
        return None
    return start, end


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = "."

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def control(self, url):
        if url.path == "/__latency":
            STATE["latency"] = float(parse_qs(url.query).get("ms", ["0"])[0]) / 1000.0
            body = b"ok"
        elif url.path == "/__clear":
            with STATE["lock"]:
                STATE["log"].clear()
            body = b"ok"
        else:
            with STATE["lock"]:
                body = json.dumps(STATE["log"]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def answer(self, head):
        url = urlparse(self.path)
        if url.path.startswith("/__"):
            return self.control(url)
        if STATE["latency"]:
            time.sleep(STATE["latency"])
        entry = {"method": self.command, "path": url.path, "range": None, "status": 404, "bytes": 0}
        path = os.path.realpath(os.path.join(self.root, url.path.lstrip("/")))
        try:
            if not path.startswith(os.path.realpath(self.root) + os.sep):
                raise FileNotFoundError
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return self.record(entry)
        try:
            st = os.fstat(fd)
            size = st.st_size
            etag = f'"{size:x}-{int(st.st_mtime_ns):x}"'
            rng = self.headers.get("Range")
            start, end, status = 0, size, 200
            if rng:
                span = parse_range(rng, size)
                if span is None:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    entry["status"] = 416
                    return self.record(entry)
                (start, end), status = span, 206
                entry["range"] = [start, end]
            self.send_response(status)
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
            self.send_header("Content-Length", str(end - start))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", self.date_time_string(int(st.st_mtime)))
            self.end_headers()
            entry["status"] = status
            if not head:
                data = os.pread(fd, end - start, start)
                self.wfile.write(memoryview(data))
                entry["bytes"] = len(data)
        finally:
            os.close(fd)
        self.record(entry)

    def record(self, entry):
        with STATE["lock"]:
            STATE["log"].append(entry)

    def do_GET(self):
        self.answer(False)

    def do_HEAD(self):
        self.answer(True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ready", required=True)
    a = ap.parse_args()
    Handler.root = a.root
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    with open(a.ready + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(a.ready + ".tmp", a.ready)
    server.serve_forever()


if __name__ == "__main__":
    main()
