#!/usr/bin/python3
"""Writes the codec target's seeds into target/fuzz-seeds/codec/: the first
stored tile of each fixture (at most 16 KiB), behind the 8 bytes that
`exercise::codec` reads as the codec and layout. Uses Debian's python3-gdal
only to find the tile (offset and size); the bytes are the file's own.

    /usr/bin/python3 fuzz/seeds.py
"""
import glob
import os

from osgeo import gdal

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "target", "fuzz-seeds", "codec")
# Index into exercise.rs's CODECS table, by GDAL's COMPRESSION name.
CODECS = {None: 0, "LZW": 1, "DEFLATE": 2, "PACKBITS": 3, "JPEG": 4, "WEBP": 5,
          "ZSTD": 6, "LZMA": 7, "LERC": 8, "LERC_DEFLATE": 9, "LERC_ZSTD": 10}
# Index into exercise.rs's BITS table, by GDAL data type.
BITS = {gdal.GDT_Byte: 3, gdal.GDT_UInt16: 6, gdal.GDT_Int16: 7, gdal.GDT_Float32: 9,
        gdal.GDT_UInt32: 10, gdal.GDT_Float64: 11}


def main():
    os.makedirs(OUT, exist_ok=True)
    n = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "fixtures", "*.tif"))):
        ds = gdal.Open(path)
        band = ds.GetRasterBand(1)
        offset = band.GetMetadataItem("BLOCK_OFFSET_0_0", "TIFF")
        size = band.GetMetadataItem("BLOCK_SIZE_0_0", "TIFF")
        comp = ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE")
        if not offset or not size or int(size) > 16384 or comp not in CODECS:
            continue
        with open(path, "rb") as f:
            f.seek(int(offset))
            tile = f.read(int(size))
        bw, bh = band.GetBlockSize()
        interleave = ds.GetMetadataItem("INTERLEAVE", "IMAGE_STRUCTURE")
        samples = ds.RasterCount if interleave == "PIXEL" else 1
        head = bytes([CODECS[comp], BITS.get(band.DataType, 3), (bw - 1) % 64, (bh - 1) % 64,
                      (samples - 1) % 4, 0, 6 if comp == "JPEG" else 1, 0])
        name = os.path.splitext(os.path.basename(path))[0]
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(head + tile)
        n += 1
    print(f"{n} codec seeds in {OUT}")


if __name__ == "__main__":
    main()
