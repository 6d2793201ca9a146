"""Tile-serving peer benchmark: `cog serve` against titiler, both reading
the same COG over HTTP from the loopback range server at a fixed latency.

Why it exists: the other peer benchmarks time readers; this one times what
a web map sees, tiles per second from a tile server, cold and warm.

A run starts a fresh server process (empty caches), requests every tile of
the list once (the COLD pass), then the same tiles again from the same
process (the WARM pass), and stops it. Runs alternate cog and titiler, the
one going first alternating too, for --runs rounds; medians are reported.
The tile list comes from the bounds of cog's /tilejson.json with the usual
Web Mercator formulas: every z=13 and z=14 tile that intersects them, or,
past --cap tiles, the cap/5 z=13 tiles nearest the image centre and their
z=14 children (a map zoomed in on the middle); z=13 first, the same list in
the same order for both servers. The client
keeps --clients keep-alive connections busy (a thread each). Every answer
must be 200, or 404 for a tile outside the image (counted); anything else
is an error. Server CPU seconds come from /proc/PID/stat (utime + stime,
all threads) around each pass (the client's and the range server's are
kept too: all three share the machine's cores); range requests from the
range server's /__log. Raw results go to target/peers/serve_results.json.
Asserts nothing.

titiler runs in its own venv (benches/peers/serve.sh makes it): a FastAPI
app with titiler.core's TilerFactory router, one uvicorn process, tiles at
/tiles/WebMercatorQuad/{z}/{x}/{y}.png?url=..., GDAL configured with
titiler's recommended settings (GDAL_ENV below).

    python3 benches/peers/serve.py [--runs 5] [--latency 20] [--cap 300]
        [--clients 8] [--cog target/release/cog]
        [--venv target/peers/titiler-venv] [--file fixtures/u8_big_header.tif]
"""

import argparse
import http.client
import json
import math
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "target", "peers")
TICK = os.sysconf("SC_CLK_TCK")
SERVERS = ("cog", "titiler")

# titiler's documented recommended GDAL settings for COGs over HTTP.
GDAL_ENV = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif",
    "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
    "GDAL_CACHEMAX": "200",
    "VSI_CACHE": "TRUE",
}

# Run with the venv's python; binds a free port itself and prints the same
# first line as `cog serve`, so both servers start the same way.
TITILER_APP = """
import socket, uvicorn
from fastapi import FastAPI
from titiler.core.factory import TilerFactory
app = FastAPI()
app.include_router(TilerFactory().router)
sock = socket.socket()
sock.bind(("127.0.0.1", 0))

class Server(uvicorn.Server):
    async def startup(self, sockets=None):
        await super().startup(sockets=sockets)
        print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}/", flush=True)

Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])
"""


def get(port, path, timeout=30):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return r.read()


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


# Web Mercator (XYZ) tile formulas; the epsilon keeps a bound that falls on a
# tile edge from pulling in the tile beyond it (as mercantile does).
def tile_x(lon, z):
    return min(max(int(math.floor((lon + 180.0) / 360.0 * 2**z)), 0), 2**z - 1)


def tile_y(lat, z):
    lat = max(min(lat, 85.0511287798), -85.0511287798)
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * 2**z
    return min(max(int(math.floor(y)), 0), 2**z - 1)


def tiles_in(bounds, z):
    w, s, e, n = bounds
    eps = 1e-9
    xs = range(tile_x(w + eps, z), tile_x(e - eps, z) + 1)
    ys = range(tile_y(n - eps, z), tile_y(s + eps, z) + 1)
    return [(z, x, y) for y in ys for x in xs]


def tile_list(bounds, cap):
    """z13 tiles nearest the image centre and their z14 children inside the
    bounds, at most `cap` in all (0: every z13 and z14 tile), z13 first."""
    z13, z14 = tiles_in(bounds, 13), tiles_in(bounds, 14)
    if cap <= 0 or len(z13) + len(z14) <= cap:
        return z13 + z14, len(z13), len(z14)
    cx = sum(x for _, x, _ in z13) / len(z13) + 0.5
    cy = sum(y for _, _, y in z13) / len(z13) + 0.5
    near = sorted(z13, key=lambda t: ((t[1] + 0.5 - cx) ** 2 + (t[2] + 0.5 - cy) ** 2, t[2], t[1]))
    keep = set(near[:cap // 5])
    top = [t for t in z13 if t in keep]
    children = [t for t in z14 if (13, t[1] // 2, t[2] // 2) in keep]
    return top + children, len(z13), len(z14)


class Server:
    """A fresh tile-server process, its port and its tile URL pattern."""

    def __init__(self, kind, args, cog_url):
        self.kind = kind
        if kind == "cog":
            cmd = [args.cog, "serve", cog_url, "--port", "0"]
            env = dict(os.environ)
            self.pattern = "/tiles/{z}/{x}/{y}.png"
        else:
            cmd = [os.path.join(args.venv, "bin", "python"), "-c", TITILER_APP]
            env = {**os.environ, **GDAL_ENV}
            q = urllib.parse.urlencode({"url": cog_url})
            self.pattern = "/tiles/WebMercatorQuad/{z}/{x}/{y}.png?" + q
        self.errlog = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.errlog, env=env, text=True)
        # The first line comes once the server listens; none within 60 s is a failure.
        line = self.proc.stdout.readline() if select.select([self.proc.stdout], [], [], 60)[0] else ""
        if not line.startswith("listening on http://"):
            self.stop()
            self.errlog.seek(0)
            raise RuntimeError(f"{kind} did not start: {line!r} {self.errlog.read()[-800:]!r}")
        self.port = int(line.strip().rstrip("/").rsplit(":", 1)[1])
        # Drain the rest of stdout so the server never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def one_pass(server, tiles, clients, range_pid=None):
    """Requests every tile once, `clients` at a time, over keep-alive connections."""
    local = threading.local()

    def fetch(t):
        z, x, y = t
        path = server.pattern.format(z=z, x=x, y=y)
        for attempt in (0, 1):
            conn = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            try:
                conn.request("GET", path)
                r = conn.getresponse()
                body = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    local.conn = None
                return t, r.status, body
            except (http.client.HTTPException, OSError) as e:
                conn.close()
                local.conn = None
                if attempt:
                    return t, None, repr(e).encode()

    cpu0 = cpu_s(server.proc.pid)
    others0 = time.process_time(), range_pid and cpu_s(range_pid)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        answers = list(pool.map(fetch, tiles))
    wall = time.perf_counter() - t0
    cpu = cpu_s(server.proc.pid) - cpu0
    client_cpu = time.process_time() - others0[0]
    range_cpu = range_pid and cpu_s(range_pid) - others0[1]
    ok = [b for _, s, b in answers if s == 200]
    errors = [f"{t}: {s} {b[:200]!r}" for t, s, b in answers if s not in (200, 404)]
    bad_png = sum(1 for b in ok if not b.startswith(b"\x89PNG\r\n\x1a\n"))
    # IHDR: width, height, bit depth, colour type (0 grey, 2 RGB, 4 grey+alpha, 6 RGBA).
    kinds = sorted({(int.from_bytes(b[16:20], "big"), int.from_bytes(b[20:24], "big"), b[24], b[25])
                    for b in ok if len(b) > 26})
    return {
        "wall_s": wall,
        "tiles_per_s": len(tiles) / wall,
        "cpu_s": cpu,
        "cpu_s_per_100": cpu / len(tiles) * 100,
        "client_cpu_s": client_cpu,
        "range_server_cpu_s": range_cpu,
        "ok": len(ok),
        "not_found": sum(1 for _, s, _ in answers if s == 404),
        "not_found_tiles": [list(t) for t, s, _ in answers if s == 404],
        "errors": len(errors) + bad_png,
        "error_examples": errors[:3],
        "mean_png_bytes": statistics.mean(len(b) for b in ok) if ok else None,
        "png_kinds": [list(k) for k in kinds],
    }


def run_server(kind, args, rport, cog_url, tiles, range_pid=None):
    get(rport, f"/__latency?ms={args.latency}")
    get(rport, "/__clear")
    server = Server(kind, args, cog_url)
    try:
        # titiler opens nothing before its first tile; cog opens the COG before
        # it prints its address, so these are cog's open requests.
        startup = len(json.loads(get(rport, "/__log")))
        out = {"server": kind, "startup_requests": startup}
        for phase in ("cold", "warm"):
            get(rport, "/__clear")
            res = one_pass(server, tiles, args.clients, range_pid)
            log = json.loads(get(rport, "/__log"))
            res["requests"] = len(log)
            res["bytes"] = sum(e["bytes"] for e in log)
            out[phase] = res
        out["rss_mib_after"] = rss_mib(server.proc.pid)
        return out
    finally:
        server.stop()


def med(rows, phase, key):
    vals = [r[phase][key] for r in rows if not r[phase]["errors"] and r[phase].get(key) is not None]
    return statistics.median(vals) if vals else None


def fmt(v, digits=1):
    return "-" if v is None else f"{v:,.{digits}f}"


def report(rows, tiles, n13, n14, args, versions):
    m = {k: {(ph, key): med(rows[k], ph, key)
             for ph in ("cold", "warm")
             for key in ("tiles_per_s", "cpu_s_per_100", "requests", "mean_png_bytes", "not_found", "errors")}
         for k in SERVERS}
    k13 = sum(1 for t in tiles if t[0] == 13)
    print(f"\n{len(tiles)} tiles ({k13} of {n13} at z13, {len(tiles) - k13} of {n14} at z14), {args.clients} clients, "
          f"{args.latency} ms latency, {args.runs} runs, medians\n")
    print("| server | cold tiles/s | warm tiles/s | CPU s per 100 tiles cold / warm "
          "| range requests per cold pass | mean PNG bytes | 404s |")
    print("|---|---|---|---|---|---|---|")
    for k in SERVERS:
        x = m[k]
        start = statistics.median(r["startup_requests"] for r in rows[k]) if rows[k] else None
        extra = f" (+{start:.0f} at startup)" if start else ""
        print(f"| {k} | {fmt(x['cold', 'tiles_per_s'])} | {fmt(x['warm', 'tiles_per_s'])} "
              f"| {fmt(x['cold', 'cpu_s_per_100'], 2)} / {fmt(x['warm', 'cpu_s_per_100'], 2)} "
              f"| {fmt(x['cold', 'requests'], 0)}{extra} | {fmt(x['cold', 'mean_png_bytes'], 0)} "
              f"| {fmt(x['cold', 'not_found'], 0)} |")
    c, t = m["cog"], m["titiler"]
    for ph in ("cold", "warm"):
        a, b = c[ph, "tiles_per_s"], t[ph, "tiles_per_s"]
        ca, cb = c[ph, "cpu_s_per_100"], t[ph, "cpu_s_per_100"]
        if a and b:
            print(f"\n{ph}: cog/titiler tiles/s {a / b:.2f}x" + (f", CPU per tile {ca / cb:.2f}x" if ca and cb else ""))
    for k in SERVERS:
        errs = [e for r in rows[k] for ph in ("cold", "warm") for e in r[ph]["error_examples"]]
        n = sum(r[ph]["errors"] for r in rows[k] for ph in ("cold", "warm"))
        if n:
            print(f"\n{k}: {n} errors, e.g. {errs[:2]}")
        kinds = sorted({tuple(kd) for r in rows[k] for kd in r["cold"]["png_kinds"]})
        print(f"{k} PNGs (width, height, bit depth, colour type): {kinds}; warm-pass range requests "
              f"{[r['warm']['requests'] for r in rows[k]]}; RSS after MiB "
              f"{[round(r['rss_mib_after'] or 0) for r in rows[k]]}")
    print(f"\nversions: {versions}")


def titiler_versions(venv):
    code = ("import importlib.metadata as m, rasterio; "
            "print(' '.join(f'{p}=={m.version(p)}' for p in ('titiler.core', 'rio-tiler', 'rasterio', "
            "'fastapi', 'uvicorn')), 'GDAL', rasterio.__gdal_version__)")
    return subprocess.run([os.path.join(venv, "bin", "python"), "-c", code],
                          capture_output=True, text=True, check=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--latency", type=float, default=20)
    ap.add_argument("--cap", type=int, default=300)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--file", default=os.path.join(ROOT, "fixtures", "u8_big_header.tif"))
    ap.add_argument("--cog", default=os.path.join(ROOT, "target", "release", "cog"))
    ap.add_argument("--venv", default=os.path.join(OUT, "titiler-venv"))
    ap.add_argument("--servers", default=",".join(SERVERS))
    args = ap.parse_args()
    args.cog, args.venv, args.file = map(os.path.abspath, (args.cog, args.venv, args.file))
    servers = [s for s in args.servers.split(",") if s]
    versions = titiler_versions(args.venv) if "titiler" in servers else ""
    cog_version = subprocess.run([args.cog, "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip()
    cog_version += f" ({commit})" if commit else ""
    os.makedirs(OUT, exist_ok=True)
    tmp = tempfile.mkdtemp()
    ready = os.path.join(tmp, "port")
    rs = subprocess.Popen([sys.executable, os.path.join(HERE, "range_server.py"),
                           "--root", os.path.dirname(args.file), "--port", "0", "--ready", ready])
    results = {"args": vars(args), "versions": versions, "cog_version": cog_version, "gdal_env": GDAL_ENV}
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(ready):
            if rs.poll() is not None or time.monotonic() > deadline:
                sys.exit("range server did not start")
            time.sleep(0.05)
        with open(ready) as f:
            rport = int(f.read())
        cog_url = f"http://127.0.0.1:{rport}/{os.path.basename(args.file)}"
        get(rport, "/__latency?ms=0")
        probe = Server("cog", args, cog_url)
        try:
            tj = json.loads(get(probe.port, "/tilejson.json"))
        finally:
            probe.stop()
        tiles, n13, n14 = tile_list(tj["bounds"], args.cap)
        results.update(tilejson={k: tj[k] for k in ("minzoom", "maxzoom", "bounds")}, tiles=tiles)
        print(f"tilejson: minzoom {tj['minzoom']} maxzoom {tj['maxzoom']} bounds {tj['bounds']}", flush=True)
        rows = {k: [] for k in SERVERS}
        for run in range(args.runs):
            order = servers if run % 2 == 0 else servers[::-1]
            for kind in order:
                out = run_server(kind, args, rport, cog_url, tiles, rs.pid)
                out["run"] = run
                rows[kind].append(out)
                c, w = out["cold"], out["warm"]
                print(f"run {run + 1} {kind}: cold {c['tiles_per_s']:.1f} tiles/s {c['cpu_s']:.2f} CPU s "
                      f"{c['requests']} req (+{out['startup_requests']}), warm {w['tiles_per_s']:.1f} tiles/s "
                      f"{w['cpu_s']:.2f} CPU s {w['requests']} req, 404 {c['not_found']}/{w['not_found']}, "
                      f"client/range-server CPU s cold {c['client_cpu_s']:.2f}/{c['range_server_cpu_s']:.2f} "
                      f"warm {w['client_cpu_s']:.2f}/{w['range_server_cpu_s']:.2f}, "
                      f"errors {c['errors']}/{w['errors']}", flush=True)
                results["runs"] = rows
                with open(os.path.join(OUT, "serve_results.json"), "w") as f:
                    json.dump(results, f, indent=1)
        report(rows, tiles, n13, n14, args, versions)
        print(f"cog: {cog_version}; GDAL env for titiler: "
              + " ".join(f"{k}={v}" for k, v in GDAL_ENV.items()))
    finally:
        rs.terminate()
        rs.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"raw results: {os.path.join(OUT, 'serve_results.json')}")


if __name__ == "__main__":
    main()
