"""Peer benchmarks: async-cog against GDAL (Debian python3-gdal, over
/vsicurl/) and the async-tiff crate, side by side in one run.

Every measurement is a fresh process; readers run interleaved (the order
rotates every round) for --runs rounds; medians are reported with CPU time
beside wall time, and requests and bytes as the loopback range server saw
them. Prints markdown tables with ratios to GDAL, writes every raw result
to target/peers/results.json. Asserts nothing.

    python3 benches/peers/run.py [--runs 5] [--cases a,b] [--quick]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.path.join(ROOT, "target", "bench-data", "peers")
GDAL_PY = "/usr/bin/python3"


def cases(quick):
    warm_n, opens_n = (200, 64) if quick else (1000, 256)
    c = {
        "window_lat20": (20, "rgb_deflate_4096.tif", ["window", 1024, 1024, 2048, 2048],
                         ["async-cog", "gdal", "gdal_allcpus"]),
    }
    for size in (512, 1024, 2048, 4096):
        off = (4096 - size) // 2
        c[f"window_lat0_{size}"] = (0, "rgb_deflate_4096.tif", ["window", off, off, size, size], ["async-cog", "gdal"])
    for codec in ("deflate", "lzw", "jpeg", "webp", "zstd", "f32_pred3"):
        c[f"decode_{codec}"] = (None, f"dec_{codec}.tif", ["decode"], ["async-cog", "gdal"])
    for codec in ("deflate", "jpeg"):
        c[f"warm_tile_{codec}"] = (0, f"dec_{codec}.tif", ["warm_tile", 2, 2, warm_n], ["async-cog", "gdal"])
    c["opens"] = (0, "rgb_deflate_4096.tif", ["opens", opens_n, 64], ["async-cog", "gdal"])
    c["memory_window2048"] = (0, "rgb_deflate_4096.tif", ["window", 1024, 1024, 2048, 2048], ["async-cog", "gdal"])
    c["sparse_first_tile"] = (0, "sparse_200000.tif", ["one_tile", 400, 400], ["async-cog", "gdal"])
    c["small_cog_tile"] = (0, "small_cog.tif", ["one_tile", 0, 0], ["async-cog", "gdal"])
    return c


def http(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as r:
        return r.read()


def run_one(reader, args, src, runner, local):
    threads = ["--threads", "1"] if args[0] == "decode" else []
    if reader.startswith("gdal"):
        t = ["--threads", "ALL_CPUS"] if reader == "gdal_allcpus" else ["--threads", "1"]
        cmd = [GDAL_PY, os.path.join(HERE, "gdal_runner.py"), args[0], src, *map(str, args[1:]), *t]
    else:
        cmd = [runner, reader, args[0], src, *map(str, args[1:]), *threads]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        return {"error": (p.stderr or p.stdout)[-500:]}
    return json.loads(lines[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cases", default="")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rust-runner", default=os.path.join(ROOT, "target", "peers", "release", "peer_runner"))
    a = ap.parse_args()
    runs = max(a.runs, 5)
    subprocess.run([GDAL_PY, os.path.join(HERE, "make_data.py"), DATA], check=True, stdout=subprocess.DEVNULL)
    have_rust = os.path.exists(a.rust_runner)
    if not have_rust:
        print(f"no Rust runner at {a.rust_runner}: Rust readers skipped (see BENCHMARKS.md)", file=sys.stderr)
    tmp = tempfile.mkdtemp()
    ready = os.path.join(tmp, "port")
    server = subprocess.Popen([sys.executable, os.path.join(HERE, "range_server.py"), "--root", DATA, "--ready", ready])
    results = {}
    try:
        for _ in range(100):
            if os.path.exists(ready):
                break
            time.sleep(0.05)
        port = int(open(ready).read())
        chosen = cases(a.quick)
        wanted = [c for c in a.cases.split(",") if c] or list(chosen)
        for name in wanted:
            latency, file, args, readers = chosen[name]
            readers = [r for r in readers if have_rust or r.startswith("gdal")]
            src = os.path.join(DATA, file) if latency is None else f"http://127.0.0.1:{port}/{file}"
            http(port, f"/__latency?ms={latency or 0}")
            rows = {r: [] for r in readers}
            for k in range(runs):
                order = readers[k % len(readers):] + readers[:k % len(readers)]
                for r in order:
                    http(port, "/__clear")
                    out = run_one(r, args, src, a.rust_runner, latency is None)
                    log = json.loads(http(port, "/__log"))
                    out["requests"] = sum(1 for l in log if l["method"] in ("GET", "HEAD"))
                    out["bytes"] = sum(l["bytes"] for l in log)
                    rows[r].append(out)
            results[name] = {"latency_ms": latency, "file": file, "args": args, "runs": rows}
            report(name, rows)
    finally:
        server.terminate()
        shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(ROOT, "target", "peers"), exist_ok=True)
    with open(os.path.join(ROOT, "target", "peers", "results.json"), "w") as f:
        json.dump(results, f, indent=1)


KEYS = ["wall_ms", "cpu_ms", "requests", "bytes", "peak_rss_growth_kb", "mpx_per_cpu_s", "tiles_per_s", "opens_per_s"]


def med(runs, key):
    vals = [r[key] for r in runs if isinstance(r.get(key), (int, float))]
    return statistics.median(vals) if vals else None


def report(name, rows):
    keys = [k for k in KEYS if any(med(v, k) is not None for v in rows.values())]
    print(f"\n### {name}\n")
    print("| reader | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    base = rows.get("gdal", [])
    for r, runs in rows.items():
        errs = [x["error"] for x in runs if "error" in x]
        cells = []
        for k in keys:
            m, g = med(runs, k), med(base, k)
            cell = "-" if m is None else f"{m:,.1f}"
            if m is not None and g and r != "gdal":
                cell += f" ({m / g:.2f}x)"
            cells.append(cell)
        print(f"| {r} | " + " | ".join(cells) + " |" + (f" errors: {errs[0][:80]}" if errs else ""))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
