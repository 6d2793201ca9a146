//! Decode throughput per codec, in MB/s of decoded output, on GDAL-made
//! tiles from `fixtures/`, beside a reference decoder measured in the same
//! run where one exists (libdeflate for Deflate, the C zstd library for
//! ZSTD, jpeg-decoder for JPEG). Prints numbers; asserts nothing about time.
//!
//! Run: `cargo bench --bench decode` (results go to BENCHMARKS.md by hand);
//! add `--features zstd-c` for the C ZSTD decoder.

use std::hint::black_box;
use std::time::Duration;

use async_cog::Limits;
use async_cog::internals::{ChunkSpec, Codec, decode_chunk};
use async_cog::internals::{DecodeResult, HeaderDecoder};
use async_cog::tiff::{ImageIfd, Tag, TiffFile, Value};
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// The level-0 tiles of a fixture: (codec, spec, JPEG tables, streams).
struct Tiles {
    codec: Codec,
    spec: ChunkSpec,
    tables: Option<Vec<u8>>,
    streams: Vec<Vec<u8>>,
}

fn parse(file: &[u8]) -> TiffFile {
    let mut d = HeaderDecoder::new(Limits::default());
    d.set_file_size(file.len() as u64);
    d.push_range(0, Bytes::copy_from_slice(file));
    match d.try_decode().expect("fixture parses") {
        DecodeResult::Data(t) => t,
        DecodeResult::NeedsData(r) => panic!("whole file pushed, still needs {r:?}"),
    }
}

fn tiles(name: &str) -> Tiles {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let file = std::fs::read(&path).expect("fixture");
    let tiff = parse(&file);
    let ifd = &tiff.ifds[0];
    let img = ImageIfd::from_ifd(ifd).expect("image");
    let offsets = ifd
        .value(img.offsets_tag())
        .and_then(Value::to_u64_vec)
        .expect("offsets");
    let counts = ifd
        .value(img.byte_counts_tag())
        .and_then(Value::to_u64_vec)
        .expect("counts");
    let streams = offsets
        .iter()
        .zip(&counts)
        .filter(|(o, c)| **o > 0 && **c > 0)
        .map(|(&o, &c)| file[o as usize..(o + c) as usize].to_vec())
        .collect();
    let tables = match ifd.value(Tag::JPEGTables) {
        Some(Value::Undefined(b)) => Some(b.clone()),
        _ => None,
    };
    Tiles {
        codec: Codec::from_tiff(img.compression, img.lerc_parameters.as_deref()).expect("codec"),
        spec: ChunkSpec::of(&img, tiff.header.byte_order).expect("spec"),
        tables,
        streams,
    }
}

fn decoded_bytes(t: &Tiles) -> u64 {
    (t.spec.output_len() * t.streams.len()) as u64
}

fn ours(c: &mut Criterion, label: &str, t: &Tiles) {
    let mut g = c.benchmark_group(label);
    g.throughput(Throughput::Bytes(decoded_bytes(t)));
    g.bench_function("async-cog", |b| {
        b.iter(|| {
            for s in &t.streams {
                black_box(decode_chunk(t.codec, s, &t.spec, t.tables.as_deref()).expect("decodes"));
            }
        })
    });
    g.finish();
}

fn codecs(c: &mut Criterion) {
    for (label, name) in [
        ("none u8", "u8_none_1b.tif"),
        ("lzw+pred2 u8 rgb", "u8_lzw_pred2_rgb.tif"),
        ("deflate+pred2 u16", "u16_deflate_pred2.tif"),
        ("deflate+pred3 f32", "f32_deflate_pred3_nan.tif"),
        ("zstd+pred2 i16", "i16_zstd_pred2_2b.tif"),
        ("zstd+pred3 f64", "f64_zstd_pred3_3b.tif"),
        ("lzma u32", "u32_lzma.tif"),
        ("packbits u8", "u8_packbits.tif"),
        ("webp lossy rgb", "u8_webp_lossy_rgb.tif"),
        ("webp lossless rgba", "u8_webp_lossless_rgba.tif"),
        ("lerc f32", "f32_lerc.tif"),
        ("lerc_deflate f32", "f32_lerc_deflate.tif"),
    ] {
        ours(c, label, &tiles(name));
    }
}

/// Inflate alone (no predictor), ours against libdeflate, on the same
/// streams (the uint16 tiles of u16_deflate_pred2.tif).
fn deflate_vs_libdeflate(c: &mut Criterion) {
    let mut t = tiles("u16_deflate_pred2.tif");
    t.spec.predictor = async_cog::tiff::Predictor::None;
    let mut g = c.benchmark_group("inflate u16 tiles");
    g.throughput(Throughput::Bytes(decoded_bytes(&t)));
    g.bench_function("async-cog (flate2 zlib-rs)", |b| {
        b.iter(|| {
            for s in &t.streams {
                black_box(decode_chunk(t.codec, s, &t.spec, None).expect("inflates"));
            }
        })
    });
    let len = t.spec.output_len();
    g.bench_function("libdeflate (C)", |b| {
        let mut d = libdeflater::Decompressor::new();
        let mut out = vec![0u8; len];
        b.iter(|| {
            for s in &t.streams {
                black_box(d.zlib_decompress(s, &mut out).expect("inflates"));
            }
        })
    });
    g.finish();
}

/// ZSTD alone (no predictor), ours (ruzstd) against the C library.
fn zstd_vs_c(c: &mut Criterion) {
    let mut t = tiles("i16_zstd_pred2_2b.tif");
    t.spec.predictor = async_cog::tiff::Predictor::None;
    let mut g = c.benchmark_group("zstd i16 tiles");
    g.throughput(Throughput::Bytes(decoded_bytes(&t)));
    let ours = if cfg!(feature = "zstd-c") {
        "async-cog (libzstd, zstd-c)"
    } else {
        "async-cog (ruzstd)"
    };
    g.bench_function(ours, |b| {
        b.iter(|| {
            for s in &t.streams {
                black_box(decode_chunk(t.codec, s, &t.spec, None).expect("decodes"));
            }
        })
    });
    let len = t.spec.stored_len();
    g.bench_function("zstd (C)", |b| {
        let mut d = zstd::bulk::Decompressor::new().expect("zstd");
        b.iter(|| {
            for s in &t.streams {
                black_box(d.decompress(s, len).expect("decodes"));
            }
        })
    });
    g.finish();
}

/// JPEG tiles (YCbCr 4:2:0 with tables) to RGB: zune-jpeg against jpeg-decoder.
fn jpeg_vs_jpeg_decoder(c: &mut Criterion) {
    let t = tiles("u8_jpeg_rgb.tif");
    let tables = t.tables.clone().expect("JPEGTables");
    let spliced: Vec<Vec<u8>> = t
        .streams
        .iter()
        .map(|s| {
            let mut v = tables[..tables.len() - 2].to_vec();
            v.extend_from_slice(&s[2..]);
            v
        })
        .collect();
    let mut g = c.benchmark_group("jpeg rgb tiles");
    g.throughput(Throughput::Bytes(decoded_bytes(&t)));
    g.bench_function("async-cog (zune-jpeg)", |b| {
        b.iter(|| {
            for s in &t.streams {
                black_box(decode_chunk(t.codec, s, &t.spec, t.tables.as_deref()).expect("decodes"));
            }
        })
    });
    g.bench_function("jpeg-decoder", |b| {
        b.iter(|| {
            for s in &spliced {
                black_box(jpeg_decoder::Decoder::new(&s[..]).decode().expect("decodes"));
            }
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
}

criterion_group! {
    name = benches;
    config = config();
    targets = codecs, deflate_vs_libdeflate, zstd_vs_c, jpeg_vs_jpeg_decoder
}
criterion_main!(benches);
