"""A loopback HTTP range server for the peer benchmarks.

Why it exists: every reader under test reads through it, so requests and
bytes are counted where they arrive, not by the readers themselves, and a
fixed delay before each answer stands in for a distant object store.

Ranged GETs (`bytes=a-b`, `bytes=a-`, `bytes=-n`) and HEAD with
Content-Range, Content-Length, an ETag (size + mtime) and Accept-Ranges;
HTTP/1.1 keep-alive; TCP_NODELAY on every connection. Control endpoints
(not logged): `/__latency?ms=N` sets the delay, `/__log` returns the
requests since `/__clear` as JSON, `/__clear` empties that list.

    python3 range_server.py --root DIR [--port 0] [--log FILE] --ready FILE

The chosen port is written to --ready once the server listens; --log, when
given, also gets every logged request as one JSON line.
"""

import argparse
import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

STATE = {"latency": 0.0, "log": [], "lock": threading.Lock(), "logfile": None}


def parse_range(header, size):
    """(start, end_exclusive) for one `bytes=` range; None when unsatisfiable or malformed."""
    try:
        unit, _, spec = header.strip().partition("=")
        first, _, last = spec.strip().partition("-")
        if unit.strip() != "bytes" or "," in spec:
            return None
        if first == "":
            n = int(last)
            start, end = max(size - n, 0), size
        else:
            start = int(first)
            end = min(int(last) + 1, size) if last else size
    except ValueError:
        return None
    if start < 0 or start >= size or start >= end:
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

    def empty(self, status, extra=()):
        self.send_response(status)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def control(self, url):
        if url.path == "/__latency":
            STATE["latency"] = float(parse_qs(url.query).get("ms", ["0"])[0]) / 1000.0
            body = b"ok"
        elif url.path == "/__clear":
            with STATE["lock"]:
                STATE["log"].clear()
            body = b"ok"
        elif url.path == "/__log":
            with STATE["lock"]:
                body = json.dumps(STATE["log"]).encode()
        else:
            return self.empty(404)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
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
        root = os.path.realpath(self.root)
        path = os.path.realpath(os.path.join(root, url.path.lstrip("/")))
        try:
            if not path.startswith(root + os.sep):
                raise FileNotFoundError(path)
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            self.empty(404)
            return self.record(entry)
        try:
            st = os.fstat(fd)
            size = st.st_size
            start, end, status = 0, size, 200
            rng = self.headers.get("Range")
            if rng:
                span = parse_range(rng, size)
                if span is None:
                    self.empty(416, [("Content-Range", f"bytes */{size}")])
                    entry["status"] = 416
                    return self.record(entry)
                (start, end), status = span, 206
                entry["range"] = [start, end]
            self.send_response(status)
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
            self.send_header("Content-Length", str(end - start))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", f'"{size:x}-{st.st_mtime_ns:x}"')
            self.send_header("Last-Modified", self.date_time_string(int(st.st_mtime)))
            self.end_headers()
            entry["status"] = status
            if not head:
                data = os.pread(fd, end - start, start)
                entry["bytes"] = len(data)
                try:
                    self.connection.sendall(memoryview(data))
                except OSError:
                    # The reader hung up mid-body (GDAL may abort a transfer).
                    entry["aborted"] = True
                    self.close_connection = True
        finally:
            os.close(fd)
        self.record(entry)

    def record(self, entry):
        with STATE["lock"]:
            STATE["log"].append(entry)
            if STATE["logfile"]:
                STATE["logfile"].write(json.dumps(entry) + "\n")
                STATE["logfile"].flush()

    def do_GET(self):
        self.answer(False)

    def do_HEAD(self):
        self.answer(True)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog is 5: 64 readers connecting at once
    # overflow it and wait out SYN retransmits (1 s, 3 s, ...).
    request_queue_size = 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log")
    ap.add_argument("--ready", required=True)
    a = ap.parse_args()
    Handler.root = a.root
    if a.log:
        STATE["logfile"] = open(a.log, "a")
    server = Server(("127.0.0.1", a.port), Handler)
    with open(a.ready + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(a.ready + ".tmp", a.ready)
    server.serve_forever()


if __name__ == "__main__":
    main()
