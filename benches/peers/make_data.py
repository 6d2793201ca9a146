"""The peer benchmarks' input files, made by GDAL (deterministic content) into
OUTDIR, skipping files that exist. Run under Debian's python3-gdal.

    make_data.py OUTDIR
"""

import json
import os
import sys

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)


def pattern(bands, rows, cols, dtype="uint8", seed=7):
    """Gradients plus noise: compresses 2-4x, like imagery."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:cols]
    out = []
    for b in range(bands):
        v = (x * (b + 1) + y * 2) / 16.0 + rng.normal(0, 1.5, (rows, cols))
        out.append(v)
    a = np.stack(out)
    return (a % 256).astype(dtype) if dtype == "uint8" else a.astype(dtype)


def mem(data):
    gtype = {"uint8": gdal.GDT_Byte, "float32": gdal.GDT_Float32}[str(data.dtype)]
    bands, rows, cols = data.shape
    ds = gdal.GetDriverByName("MEM").Create("", cols, rows, bands, gtype)
    ds.SetGeoTransform((500000.0, 10.0, 0.0, 4500000.0, 0.0, -10.0))
    for b in range(bands):
        ds.GetRasterBand(b + 1).WriteArray(data[b])
    return ds


def cog(name, data, **opts):
    path = os.path.join(OUT, name)
    if not os.path.exists(path):
        gdal.GetDriverByName("COG").CreateCopy(path, mem(data), options=[f"{k}={v}" for k, v in opts.items()])
    return path


def main():
    files = []
    files.append(cog("rgb_deflate_4096.tif", pattern(3, 4096, 4096), BLOCKSIZE=512, COMPRESS="DEFLATE"))
    rgb = pattern(3, 2048, 2048, seed=3)
    for name, opts in [
        ("dec_deflate.tif", {"COMPRESS": "DEFLATE"}),
        ("dec_lzw.tif", {"COMPRESS": "LZW"}),
        ("dec_jpeg.tif", {"COMPRESS": "JPEG", "QUALITY": 85}),
        ("dec_webp.tif", {"COMPRESS": "WEBP", "QUALITY": 85}),
        ("dec_zstd.tif", {"COMPRESS": "ZSTD"}),
    ]:
        files.append(cog(name, rgb, BLOCKSIZE=512, **opts))
    f32 = pattern(1, 2048, 2048, dtype="float32", seed=5)
    files.append(cog("dec_f32_pred3.tif", f32, BLOCKSIZE=512, COMPRESS="DEFLATE", PREDICTOR="FLOATING_POINT"))
    files.append(cog("small_cog.tif", pattern(1, 120, 120, seed=9), BLOCKSIZE=128, COMPRESS="DEFLATE"))
    sparse = os.path.join(OUT, "sparse_200000.tif")
    if not os.path.exists(sparse):
        ds = gdal.GetDriverByName("GTiff").Create(
            sparse, 200000, 200000, 1, gdal.GDT_Byte,
            options=["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "SPARSE_OK=TRUE", "BIGTIFF=YES",
                     "COMPRESS=DEFLATE"])
        ds.SetGeoTransform((0.0, 1.0, 0.0, 0.0, 0.0, -1.0))
        ds.GetRasterBand(1).WriteArray(pattern(1, 256, 256, seed=11)[0], 400 * 256, 400 * 256)
        ds = None
    files.append(sparse)
    print(json.dumps({os.path.basename(f): os.path.getsize(f) for f in files}))


main()
