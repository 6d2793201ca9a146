"""A small proxy in front of gcp-storage-emulator, so that object_store's
GCS client can read from it: the emulator sends no ETag or Last-Modified
(object_store requires them), has no HEAD, ignores suffix ranges and
conditional headers. The proxy serves the object URLs object_store 0.14.2
uses (`{base}/{bucket}/{percent-encoded path}`) from the emulator's JSON
API, with ETag (the quoted hex MD5, as GCS does), Last-Modified,
x-goog-generation, single ranges (206 + Content-Range, 416), If-Match and
the other preconditions, and a 404 that says NoSuchBucket or NoSuchKey.
One line per request goes to its log. Started by servers.py.
"""

import base64
import email.utils
import http.client
import json
import re
import threading
import time
import traceback
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

# First path segments the emulator serves itself (JSON API and its own paths);
# anything else of the form /{bucket}/{object} is an XML-API object URL.
EMULATOR_PREFIXES = {"storage", "upload", "download", "batch", "b", "wipe", ""}


def gcs_encode(path):
    """A path percent-encoded as object_store's GCS client does (every byte
    but ASCII letters and digits: percent_encoding's NON_ALPHANUMERIC)."""
    return "".join(chr(b) if chr(b).isascii() and chr(b).isalnum() else f"%{b:02X}" for b in path.encode())


def xml_error(code, message):
    return (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
            f"<Message>{message}</Message></Error>").encode()


def http_date(ts):
    return email.utils.formatdate(ts, usegmt=True)


def parse_http_date(value):
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def etag_in(header, etag, weak):
    """Whether an If-Match / If-None-Match list names `etag` (strong or weak comparison)."""
    if header.strip() == "*":
        return True
    for tag in (t.strip() for t in header.split(",")):
        if weak:
            if tag.removeprefix("W/") == etag:
                return True
        elif tag == etag:
            return True
    return False


UNSATISFIABLE = "unsatisfiable"


def parse_range(value, size):
    """(first, last) of one `bytes=` range, UNSATISFIABLE, or None to send the whole object."""
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", value or "")
    if not m or m.group(1) == m.group(2) == "":
        return None  # absent, malformed or several ranges: whole object, as servers may
    first, last = m.groups()
    if first == "":
        n = int(last)
        if n == 0 or size == 0:
            return UNSATISFIABLE
        return max(0, size - n), size - 1
    first = int(first)
    if last and int(last) < first:
        return None
    if first >= size:
        return UNSATISFIABLE
    return first, (min(int(last), size - 1) if last else size - 1)


class GcsProxy(ThreadingHTTPServer):
    """Serves object_store's GCS requests from gcp-storage-emulator.

    object_store 0.14.2 (src/gcp/client.rs) sends GET and HEAD (reads, with
    Range, If-Match, If-None-Match, If-(Un)Modified-Since and `?generation=`)
    and PUT (writes, with `x-goog-if-generation-match`) to
    `{base_url}/{bucket}/{path}`, the path with every non-alphanumeric byte
    percent-encoded, and needs ETag and Last-Modified on reads and ETag on
    writes (src/client/header.rs); x-goog-generation is the version. The
    emulator has no HEAD, no ETag / Last-Modified on downloads, ignores
    suffix ranges and conditional headers, and its PUT answers without ETag.
    So here the object's metadata comes from the JSON API, its bytes from the
    download endpoint (ranges forwarded as `bytes=first-last`, cut here if the
    answer is whole), and headers, ranges and preconditions are done here.
    The ETag is the quoted hex MD5 of the content, as real GCS gives for
    non-composite objects. Other paths are forwarded as they are.
    """

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, upstream_port, log_path, error_log_path):
        super().__init__(("127.0.0.1", 0), GcsProxyHandler)
        self.upstream_port = upstream_port
        self.log = open(log_path, "a", buffering=1)
        self.error_log = open(error_log_path, "a", buffering=1)
        self.log_lock = threading.Lock()
        self.put_lock = threading.Lock()
        # The emulator is a single-threaded http.server with a listen backlog
        # of 5: keep the connections to it few.
        self.upstream_slots = threading.BoundedSemaphore(4)

    def close_logs(self):
        self.log.close()
        self.error_log.close()

    def upstream(self, method, path, headers=None, body=None):
        with self.upstream_slots:
            conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
            try:
                conn.request(method, path, body=body, headers=headers or {})
                r = conn.getresponse()
                return r.status, r.headers, r.read()
            finally:
                conn.close()

    def metadata(self, bucket, name):
        """The object's JSON resource, or None if there is none."""
        status, _, body = self.upstream("GET", f"/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}")
        if status == 404:
            return None
        if status != 200:
            raise RuntimeError(f"metadata of {bucket}/{name}: {status} {body[:200]!r}")
        return json.loads(body)


def object_headers(meta):
    md5 = base64.b64decode(meta["md5Hash"]).hex()
    updated = datetime.fromisoformat(meta["updated"].replace("Z", "+00:00")).timestamp()
    return int(updated), {
        "ETag": f'"{md5}"',
        "Last-Modified": http_date(int(updated)),
        "Content-Type": meta.get("contentType") or "application/octet-stream",
        "Accept-Ranges": "bytes",
        "x-goog-generation": str(meta["generation"]),
        "x-goog-metageneration": str(meta.get("metageneration", "1")),
        "x-goog-stored-content-length": str(meta["size"]),
        "x-goog-hash": f"crc32c={meta.get('crc32c')},md5={meta['md5Hash']}",
    }


class GcsProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer has a Content-Length
    server_version = "async-cog-gcs-proxy"

    def log_message(self, format, *args):  # noqa: A002 - our own log line instead
        pass

    def do_GET(self):
        self.handle_any("GET")

    def do_HEAD(self):
        self.handle_any("HEAD")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_any(self, method):
        started = time.monotonic()
        status, headers, body = 500, {}, b""
        try:
            request_body = self.read_body()
            split = urlsplit(self.path)
            query = parse_qs(split.query)
            parts = split.path.split("/", 2)
            target = None
            if len(parts) == 3 and parts[1] not in EMULATOR_PREFIXES and parts[2]:
                target = (unquote(parts[1]), unquote(parts[2]))
            if target and method in ("GET", "HEAD"):
                status, headers, body = self.get_object(method, *target, query)
            elif target and method == "PUT":
                status, headers, body = self.put_object(*target, request_body)
            elif target and method == "DELETE":
                status, headers, body = self.delete_object(*target)
            else:
                status, headers, body = self.forward(method, request_body)
        except Exception:  # noqa: BLE001 - answer 502 and keep serving
            with self.server.log_lock:
                self.server.error_log.write(f"{method} {self.path}\n{traceback.format_exc()}\n")
            status, headers, body = 502, {"Content-Type": "text/plain"}, b"gcs-proxy error, see gcs-proxy-errors.log"
        try:
            self.respond(method, status, headers, body)
        finally:
            self.log_line(method, status, 0 if method == "HEAD" else len(body), started)

    def log_line(self, method, status, sent, started):
        def field(name):  # as nginx logs a header: "-" when absent, quotes as \x22
            return (self.headers.get(name) or "-").replace('"', "\\x22")

        line = (f'{datetime.now(timezone.utc).isoformat(timespec="milliseconds")} '
                f'"{method} {self.path} {self.request_version}" range="{field("Range")}" '
                f'if_match="{field("If-Match")}" if_none_match="{field("If-None-Match")}" '
                f'{status} {sent} {1000 * (time.monotonic() - started):.1f}ms\n')
        with self.server.log_lock:
            self.server.log.write(line)

    def respond(self, method, status, headers, body):
        self.send_response(status)
        length = headers.pop("Content-Length", None)
        for k, v in headers.items():
            self.send_header(k, v)
        if status != 304:
            # HEAD announces the length a GET would send.
            self.send_header("Content-Length", str(length if method == "HEAD" and length else len(body)))
        self.end_headers()
        if method != "HEAD" and status != 304 and body:
            self.wfile.write(body)

    def preconditions(self, etag, mtime):
        """412 / 304 from the conditional headers (RFC 9110, 13.2.2), or None."""
        h = self.headers
        if h.get("If-Match") is not None:
            if not etag_in(h["If-Match"], etag, weak=False):
                return 412
        elif h.get("If-Unmodified-Since"):
            since = parse_http_date(h["If-Unmodified-Since"])
            if since is not None and mtime > since:
                return 412
        if h.get("If-None-Match") is not None:
            if etag_in(h["If-None-Match"], etag, weak=True):
                return 304
        elif h.get("If-Modified-Since"):
            since = parse_http_date(h["If-Modified-Since"])
            if since is not None and mtime <= since:
                return 304
        return None

    def get_object(self, method, bucket, name, query):
        srv = self.server
        for _ in range(5):
            meta = srv.metadata(bucket, name)
            want = query.get("generation", [None])[0]
            if meta is None and srv.upstream("GET", f"/storage/v1/b/{quote(bucket, safe='')}")[0] == 404:
                # What GCS's XML API answers for a missing bucket.
                return 404, {"Content-Type": "application/xml"}, xml_error(
                    "NoSuchBucket", "The specified bucket does not exist.")
            if meta is None or (want is not None and want != str(meta["generation"])):
                return 404, {"Content-Type": "application/xml"}, xml_error("NoSuchKey", "The specified key does not exist.")
            size = int(meta["size"])
            mtime, headers = object_headers(meta)
            cond = self.preconditions(headers["ETag"], mtime)
            if cond == 412:
                return 412, {"Content-Type": "application/xml"}, xml_error(
                    "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.")
            if cond == 304:
                return 304, headers, b""
            rng = parse_range(self.headers.get("Range"), size)
            if_range = self.headers.get("If-Range")
            if rng is not None and if_range:
                same = (if_range.strip() == headers["ETag"] if if_range.strip().startswith(('"', "W/"))
                        else parse_http_date(if_range) == mtime)
                if not same:
                    rng = None
            if rng == UNSATISFIABLE:
                headers = {"Content-Range": f"bytes */{size}", "Content-Type": "application/xml"}
                return 416, headers, xml_error("InvalidRange", "The requested range cannot be satisfied.")
            first, last = rng if rng else (0, size - 1)
            status = 206 if rng else 200
            if rng:
                headers["Content-Range"] = f"bytes {first}-{last}/{size}"
            if method == "HEAD":
                headers["Content-Length"] = str(last - first + 1 if size else 0)
                return status, headers, b""
            path = f"/download/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}?alt=media"
            up_headers = {"Range": f"bytes={first}-{last}"} if rng else {}
            up_status, _, data = srv.upstream("GET", path, up_headers)
            if up_status == 200 and len(data) == size:
                data = data[first:last + 1]  # the emulator ignored the range: cut it here
            elif up_status not in (200, 206):
                continue  # replaced or deleted meanwhile: look again
            again = srv.metadata(bucket, name)
            if len(data) == last - first + 1 and again and again["generation"] == meta["generation"]:
                return status, headers, data
        raise RuntimeError(f"{bucket}/{name} kept changing while being read")

    def put_object(self, bucket, name, body):
        srv = self.server
        with srv.put_lock:  # the generation check and the write are one step
            meta = srv.metadata(bucket, name)
            current = str(meta["generation"]) if meta else "0"
            match = self.headers.get("x-goog-if-generation-match")
            if match is not None and match.strip() != current:
                return 412, {"Content-Type": "application/xml"}, xml_error(
                    "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.")
            content_type = self.headers.get("Content-Type", "application/octet-stream")
            path = f"/upload/storage/v1/b/{quote(bucket, safe='')}/o?uploadType=media&name={quote(name, safe='')}"
            status, _, data = srv.upstream("POST", path, {"Content-Type": content_type}, body)
            if status != 200:
                return status, {"Content-Type": "text/plain"}, data
            _, headers = object_headers(json.loads(data))
            keep = ("ETag", "x-goog-generation", "x-goog-metageneration", "x-goog-hash")
            return 200, {k: headers[k] for k in keep}, b""

    def delete_object(self, bucket, name):
        status, _, data = self.server.upstream(
            "DELETE", f"/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}")
        if status == 404:
            return 404, {"Content-Type": "application/xml"}, xml_error("NoSuchKey", "The specified key does not exist.")
        return (204 if 200 <= status < 300 else status), {}, b"" if 200 <= status < 300 else data

    def forward(self, method, body):
        hop = {"connection", "keep-alive", "transfer-encoding", "host", "content-length", "proxy-connection"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in hop}
        status, up_headers, data = self.server.upstream(method, self.path, headers, body or None)
        out = {k: v for k, v in up_headers.items() if k.lower() not in hop | {"date", "server"}}
        return status, out, data
