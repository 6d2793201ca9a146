"""One peer-benchmark measurement with GDAL, in a fresh process, printed as
one JSON line with the same keys as the Rust runner (`runner/`).

Why it exists: GDAL is the reference reader, and a fresh process per
measurement keeps its caches, thread pools and heap out of the next one.

    gdal_runner.py CASE SRC [ARGS...] [--threads N|ALL_CPUS]

CASE: `window X Y W H` (open + read, all bands), `decode` (whole image of a
local file, after open), `warm_tile X Y N` (one block N times, GDAL's block
cache serving it), `opens N C` (N opens on C threads), `one_tile X Y`
(open + one block of band 1). SRC is an http URL (read via /vsicurl/) or a
local path. Wall, CPU (all threads of the process) and peak RSS growth
cover the measured part only. Runs under Debian's python3-gdal.
"""

import json
import os
import resource
import sys
import time

args = sys.argv[1:]
threads = "1"
if "--threads" in args:
    i = args.index("--threads")
    threads = args[i + 1]
    del args[i:i + 2]
# Before GDAL loads: no sidecar probes, no VSI block cache, the thread count asked for.
os.environ["GDAL_DISABLE_READDIR_ON_OPEN"] = "EMPTY_DIR"
os.environ["CPL_VSIL_CURL_ALLOWED_EXTENSIONS"] = ".tif"
os.environ["GDAL_NUM_THREADS"] = threads
os.environ["VSI_CACHE"] = "FALSE"
os.environ["GDAL_PAM_ENABLED"] = "NO"  # no .aux.xml lookups or writes

from osgeo import gdal  # noqa: E402

gdal.UseExceptions()
case, src = args[0], args[1]
nums = [int(a) for a in args[2:]]
path = "/vsicurl/" + src if src.startswith(("http://", "https://")) else src


class Span:
    """Wall, process CPU (time.process_time: every thread on Linux) and ru_maxrss growth."""

    def __init__(self):
        self.rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.cpu = time.process_time()
        self.wall = time.perf_counter()

    def stop(self):
        wall = time.perf_counter() - self.wall
        cpu = time.process_time() - self.cpu
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return {"wall_ms": wall * 1e3, "cpu_ms": cpu * 1e3, "peak_rss_growth_kb": rss - self.rss}


def block_window(ds, x, y):
    bx, by = ds.GetRasterBand(1).GetBlockSize()
    w = min(bx, ds.RasterXSize - x * bx)
    h = min(by, ds.RasterYSize - y * by)
    return x * bx, y * by, w, h


if case == "window":
    x, y, w, h = nums
    s = Span()
    ds = gdal.Open(path)
    ds.ReadRaster(x, y, w, h)
    out = s.stop()
    out["pixels"] = w * h
elif case == "decode":
    ds = gdal.Open(path)
    s = Span()
    ds.ReadRaster()
    out = s.stop()
    mpx = ds.RasterXSize * ds.RasterYSize / 1e6
    out["mpx"] = mpx
    out["mpx_per_cpu_s"] = mpx / (out["cpu_ms"] / 1e3) if out["cpu_ms"] else None
elif case == "warm_tile":
    x, y, n = nums
    ds = gdal.Open(path)
    win = block_window(ds, x, y)
    ds.ReadRaster(*win)
    s = Span()
    for _ in range(n):
        ds.ReadRaster(*win)
    out = s.stop()
    out["tiles"] = n
    out["tiles_per_s"] = n / (out["wall_ms"] / 1e3)
elif case == "opens":
    from concurrent.futures import ThreadPoolExecutor

    n, c = nums
    # Every open must fetch the header again. CPL_VSIL_CURL_NON_CACHED lists
    # path prefixes whose /vsicurl/ cached data (file size, header blocks) is
    # dropped when a file under them is opened; "/vsicurl/" covers every URL
    # and, unlike gdal.VSICurlClearCache() before each open, is thread safe.
    gdal.SetConfigOption("CPL_VSIL_CURL_NON_CACHED", "/vsicurl/")
    s = Span()
    with ThreadPoolExecutor(c) as pool:
        list(pool.map(lambda _: gdal.Open(path).RasterXSize, range(n)))
    out = s.stop()
    out["opens"] = n
    out["opens_per_s"] = n / (out["wall_ms"] / 1e3)
elif case == "one_tile":
    x, y = nums
    s = Span()
    ds = gdal.Open(path)
    ds.GetRasterBand(1).ReadBlock(x, y)
    out = s.stop()
else:
    print(json.dumps({"case": case, "error": "unknown case"}))
    sys.exit(2)

out.update(case=case, reader="gdal" if threads == "1" else "gdal_allcpus")
print(json.dumps(out))
