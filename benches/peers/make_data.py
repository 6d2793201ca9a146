"""The peer benchmarks' input files, made by GDAL with deterministic content.

Why it exists: every reader must read the same files, written by the
reference writer (GDAL's COG and GTiff drivers), without storing ~100 MB
of rasters in the repository. Files that exist are skipped; each file is
written under a temporary name and renamed, so an interrupted run leaves
nothing half-written behind. Prints a JSON summary {name: bytes}.

    /usr/bin/python3 make_data.py OUTDIR     (Debian's python3-gdal + numpy)
"""

import json
import os
import sys

import functools

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)


@functools.lru_cache(maxsize=1)
def pattern(bands, rows, cols, dtype="uint8", seed=7):
    """Gradients plus Gaussian noise, a stand-in for imagery."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:cols]
    a = np.stack([(x * (b + 1) + y * 2) / 16.0 + rng.normal(0, 1.5, (rows, cols)) for b in range(bands)])
    return (a % 256).astype(dtype) if dtype == "uint8" else a.astype(dtype)


def mem(data):
    gtype = {"uint8": gdal.GDT_Byte, "float32": gdal.GDT_Float32}[str(data.dtype)]
    bands, rows, cols = data.shape
    ds = gdal.GetDriverByName("MEM").Create("", cols, rows, bands, gtype)
    ds.SetGeoTransform((500000.0, 10.0, 0.0, 4500000.0, 0.0, -10.0))
    for b in range(bands):
        ds.GetRasterBand(b + 1).WriteArray(data[b])
    return ds


def make(name, write):
    """Run write(tmp_path) unless OUT/name exists, then rename into place."""
    path = os.path.join(OUT, name)
    if not os.path.exists(path):
        tmp = path + ".part.tif"
        write(tmp)
        os.replace(tmp, path)
    return path


def cog(name, data, **opts):
    """A COG of data() (made only when the file is missing)."""
    options = [f"{k}={v}" for k, v in opts.items()]
    return make(name, lambda p: gdal.GetDriverByName("COG").CreateCopy(p, mem(data()), options=options))


def sparse(p):
    """200000² tiles, all empty (offset 0) but block (400, 400)."""
    ds = gdal.GetDriverByName("GTiff").Create(
        p, 200000, 200000, 1, gdal.GDT_Byte,
        options=["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "SPARSE_OK=TRUE", "BIGTIFF=YES",
                 "COMPRESS=DEFLATE"])
    ds.SetGeoTransform((0.0, 1.0, 0.0, 0.0, 0.0, -1.0))
    ds.GetRasterBand(1).WriteArray(pattern(1, 256, 256, seed=11)[0], 400 * 256, 400 * 256)
    ds.FlushCache()


def main():
    files = [cog("rgb_deflate_4096.tif", lambda: pattern(3, 4096, 4096),
                 BLOCKSIZE=512, COMPRESS="DEFLATE", PREDICTOR="NO")]
    rgb = lambda: pattern(3, 2048, 2048, seed=3)  # noqa: E731 (cached: made once)
    for name, opts in [
        ("dec_deflate.tif", {"COMPRESS": "DEFLATE"}),
        ("dec_lzw.tif", {"COMPRESS": "LZW"}),
        ("dec_jpeg.tif", {"COMPRESS": "JPEG", "QUALITY": 85}),  # YCbCr, as the COG driver does for RGB
        ("dec_webp.tif", {"COMPRESS": "WEBP", "QUALITY": 85}),
        ("dec_zstd.tif", {"COMPRESS": "ZSTD"}),
    ]:
        files.append(cog(name, rgb, BLOCKSIZE=512, **opts))
    f32 = lambda: pattern(1, 2048, 2048, dtype="float32", seed=5)  # noqa: E731
    files.append(cog("dec_f32_pred3.tif", f32, BLOCKSIZE=512, COMPRESS="DEFLATE", PREDICTOR="FLOATING_POINT"))
    # Whole file inside a reader's first 16 KiB fetch.
    small = lambda: pattern(1, 120, 120, seed=9)  # noqa: E731
    files.append(cog("small_cog.tif", small, BLOCKSIZE=128, COMPRESS="DEFLATE"))
    files.append(make("sparse_200000.tif", sparse))
    print(json.dumps({os.path.basename(f): os.path.getsize(f) for f in files}))


main()
