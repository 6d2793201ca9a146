"""Peer benchmarks: async-cog against GDAL (Debian python3-gdal, over
/vsicurl/) and the async-tiff crate, side by side in one run.

Why it exists: one harness measures every reader the same way, so ratios
to GDAL mean something. Every measurement is a fresh process; readers run
interleaved, the starting reader rotating every round, for --runs rounds;
medians are reported with CPU time beside wall time, and requests and bytes
as the loopback range server saw them. Prints a markdown table per case
with ratios to single-threaded GDAL and writes every raw result and median
to target/peers/results.json. Asserts nothing.

    /usr/bin/python3 benches/peers/run.py [--runs 5] [--cases a,b] [--quick]
        [--rust-runner target/peers/release/peer_runner]

Rust readers (async-cog, async-tiff) are skipped when the runner is missing.
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
OUT = os.path.join(ROOT, "target", "peers")
GDAL_PY = "/usr/bin/python3"
RUST_READERS = ("async-cog", "async-tiff")
WINDOW_2048 = ["window", 1024, 1024, 2048, 2048]


def cases(quick):
    """name -> (latency ms, or None for a local path; file; runner args; readers)."""
    warm_n, opens_n = (200, 64) if quick else (1000, 256)
    c = {"window_lat20": (20, "rgb_deflate_4096.tif", WINDOW_2048,
                          ["async-cog", "gdal", "gdal_allcpus", "async-tiff"])}
    for size in (512, 1024, 2048, 4096):
        off = (4096 - size) // 2
        window = ["window", off, off, size, size]
        c[f"window_lat0_{size}"] = (0, "rgb_deflate_4096.tif", window, ["async-cog", "gdal"])
    for codec in ("deflate", "lzw", "jpeg", "webp", "zstd", "f32_pred3"):
        c[f"decode_{codec}"] = (None, f"dec_{codec}.tif", ["decode"], ["async-cog", "gdal"])
    for codec in ("deflate", "jpeg"):
        c[f"warm_tile_{codec}"] = (0, f"dec_{codec}.tif", ["warm_tile", 2, 2, warm_n], ["async-cog", "gdal"])
    c["opens"] = (0, "rgb_deflate_4096.tif", ["opens", opens_n, 64], ["async-cog", "gdal", "async-tiff"])
    c["memory_window2048"] = (0, "rgb_deflate_4096.tif", WINDOW_2048, ["async-cog", "gdal"])
    c["sparse_first_tile"] = (0, "sparse_200000.tif", ["one_tile", 400, 400], ["async-cog", "gdal"])
    c["small_cog_tile"] = (0, "small_cog.tif", ["one_tile", 0, 0], ["async-cog", "gdal"])
    return c


def http(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
        return r.read()


def run_one(reader, args, src, runner):
    """One measurement in a fresh process: its JSON line, or {"error": ...}."""
    case, rest = args[0], [str(a) for a in args[1:]]
    if reader.startswith("gdal"):
        threads = "ALL_CPUS" if reader == "gdal_allcpus" else "1"
        cmd = [GDAL_PY, os.path.join(HERE, "gdal_runner.py"), case, src, *rest, "--threads", threads]
    else:
        cmd = [runner, reader, case, src, *rest, *(["--threads", "1"] if case == "decode" else [])]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return {"reader": reader, "case": case, "error": "timed out after 600 s"}
    lines = [line for line in p.stdout.splitlines() if line.startswith("{")]
    try:
        out = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        out = {}
    if p.returncode != 0 or not out or "error" in out:
        detail = out.get("error") or (p.stderr or p.stdout).strip()[-500:]
        out = {"reader": reader, "case": case, "error": f"exit {p.returncode}: {detail}"}
    return out


def measure(port, name, spec, runs, runner, have_rust):
    latency, file, args, readers = spec
    readers = [r for r in readers if have_rust or r not in RUST_READERS]
    src = os.path.join(DATA, file) if latency is None else f"http://127.0.0.1:{port}/{file}"
    rows = {r: [] for r in readers}
    for k in range(runs):
        order = readers[k % len(readers):] + readers[:k % len(readers)]
        for r in order:
            http(port, f"/__latency?ms={latency or 0}")
            http(port, "/__clear")
            out = run_one(r, args, src, runner)
            log = json.loads(http(port, "/__log"))
            if latency is not None and "error" not in out:  # local reads never reach the server
                out["requests"] = len(log)
                out["bytes"] = sum(e["bytes"] for e in log)
            rows[r].append(out)
    medians = {r: {k: m for k in KEYS if (m := med(v, k)) is not None} for r, v in rows.items()}
    return {"latency_ms": latency, "file": file, "args": args, "medians": medians, "runs": rows}


# Lower is better for all but the throughputs, where higher is.
THROUGHPUTS = ["mpx_per_cpu_s", "tiles_per_s", "opens_per_s"]
KEYS = ["wall_ms", "cpu_ms", "requests", "bytes", "peak_rss_growth_kb", *THROUGHPUTS]


def med(runs, key):
    vals = [r[key] for r in runs if isinstance(r.get(key), (int, float))]
    return statistics.median(vals) if vals else None


def report(name, result):
    rows, medians = result["runs"], result["medians"]
    keys = [k for k in KEYS if any(k in m for m in medians.values())]
    lat = "local file" if result["latency_ms"] is None else f"{result['latency_ms']} ms latency"
    print(f"\n### {name}: {' '.join(map(str, result['args']))} on {result['file']}, {lat}\n")
    heads = [k + (" (higher better)" if k in THROUGHPUTS else "") for k in keys]
    print("| reader | " + " | ".join(heads) + " |")
    print("|---" * (len(keys) + 1) + "|")
    base = medians.get("gdal", {})
    for r, m in medians.items():
        cells = []
        for k in keys:
            v, g = m.get(k), base.get(k)
            cell = "-" if v is None else f"{v:,.0f}" if v == int(v) else f"{v:,.1f}"
            if v is not None and g and r != "gdal":
                cell += f" ({v / g:.2f}x gdal)"
            cells.append(cell)
        errs = [x["error"] for x in rows[r] if "error" in x]
        note = f" {len(errs)} errors, e.g. {errs[0][:100]!r}" if errs else ""
        print(f"| {r} | " + " | ".join(cells) + " |" + note)
    print("\nratio = reader / gdal (1 thread), for times, bytes and throughputs alike.")
    sys.stdout.flush()


def save(results):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(results, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cases", default="")
    ap.add_argument("--quick", action="store_true", help="fewer warm reads (200) and opens (64)")
    ap.add_argument("--rust-runner", default=os.path.join(OUT, "release", "peer_runner"))
    a = ap.parse_args()
    runs = max(a.runs, 5)
    chosen = cases(a.quick)
    wanted = [c for c in a.cases.split(",") if c] or list(chosen)
    unknown = [c for c in wanted if c not in chosen]
    if unknown:
        sys.exit(f"unknown cases {unknown}; known: {', '.join(chosen)}")
    subprocess.run([GDAL_PY, os.path.join(HERE, "make_data.py"), DATA], check=True, stdout=subprocess.DEVNULL)
    runner = os.path.abspath(a.rust_runner)
    have_rust = os.access(runner, os.X_OK)
    if not have_rust:
        print(f"no Rust runner at {runner}: async-cog and async-tiff skipped", file=sys.stderr)
    os.makedirs(OUT, exist_ok=True)
    tmp = tempfile.mkdtemp()
    ready = os.path.join(tmp, "port")
    log = os.path.join(OUT, "requests.log")
    if os.path.exists(log):
        os.remove(log)
    server = subprocess.Popen([sys.executable, os.path.join(HERE, "range_server.py"),
                               "--root", DATA, "--port", "0", "--log", log, "--ready", ready])
    results = {}
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(ready):
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit("range server did not start")
            time.sleep(0.05)
        with open(ready) as f:
            port = int(f.read())
        for name in wanted:
            results[name] = measure(port, name, chosen[name], runs, runner, have_rust)
            report(name, results[name])
            save(results)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)
        save(results)
    print(f"\nraw results: {os.path.join(OUT, 'results.json')}; request log: {log}")


if __name__ == "__main__":
    main()
