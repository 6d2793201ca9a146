//! What each fuzz target does with its input, as plain functions: the
//! targets under `fuzz_targets/` call them, and `tests/fuzz_regressions.rs`
//! replays every input kept under `tests/fuzz_regressions/` through them, so
//! a finding stays fixed under plain `cargo test`.
//!
//! Every input is opened with limits far below the defaults, so that an
//! input cannot ask for gigabytes and the fuzzer's malloc limit only
//! catches what escapes them.
#![allow(dead_code)]

use std::sync::OnceLock;

use async_cog::internals::{ChunkSpec, Codec, DecodeResult, HeaderDecoder, LercWrap, decode_chunk};
use async_cog::tiff::{ByteOrder, Photometric, Predictor};
use async_cog::{BlockCaching, CogReader, DataType, Limits, Options, ReadRequest, Resampling, TileCaching, Window};

/// The process's runtime (building one per input would dominate the run).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(2)
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

/// Limits far below the defaults.
pub fn small_limits() -> Limits {
    let mut l = Limits::default();
    l.max_ifds = 64;
    l.max_tags_per_ifd = 256;
    l.max_array_len = 1 << 16;
    l.max_header_bytes = 1 << 20;
    l.max_block_bytes = 4 << 20;
    l.max_read_bytes = 32 << 20;
    l.max_read_tiles = 256;
    l.max_deferred_bytes = 4 << 20;
    l
}

/// Options for an input: small limits, no caches shared across inputs.
pub fn options() -> Options {
    Options::default()
        .with_limits(small_limits())
        .with_block_caching(BlockCaching::Off)
        .with_tile_caching(TileCaching::Off)
}

/// (a) Open from bytes, then everything a user can ask without reading a
/// pixel: the profile, the levels, the IFDs and their tags, the object,
/// and the deferred block arrays, loaded as a read would load them.
pub fn open(data: &[u8]) {
    let bytes = bytes::Bytes::copy_from_slice(data);
    runtime().block_on(async {
        let Ok(cog) = CogReader::from_bytes(bytes, options()).await else {
            return;
        };
        let mut sink = String::new();
        use std::fmt::Write;
        let _ = write!(sink, "{:?}{:?}{:?}", cog.profile(), cog.levels(), cog.ifds());
        let _ = write!(sink, "{:?}{:?}", cog.object(), cog.stats());
        // Deferred tag arrays, loaded as a read would load them.
        for l in cog.levels() {
            let _ = cog.block_offsets(l.image.ifd).await;
            let _ = cog.block_byte_counts(l.image.ifd).await;
        }
        std::hint::black_box(sink);
    });
}

/// (b) Open from bytes, then decode blocks of every level (at most 16 per
/// level, spread over the grid, one batch each, and one past the grid), a
/// window across the image, a bilinear and a nearest bounds read, and a
/// boundless read.
pub fn read(data: &[u8]) {
    let bytes = bytes::Bytes::copy_from_slice(data);
    runtime().block_on(async {
        let Ok(cog) = CogReader::from_bytes(bytes, options()).await else {
            return;
        };
        for (z, l) in cog.levels().iter().enumerate() {
            let (across, down) = (l.image.blocks_across(), l.image.blocks_down());
            let n = across.saturating_mul(down);
            // Up to 16 blocks, spread over the grid: first, last and between.
            let step = (n / 16).max(1);
            let blocks: Vec<(u64, u64)> = (0..n.min(16))
                .map(|i| {
                    let k = i.saturating_mul(step).min(n.saturating_sub(1));
                    (k % across.max(1), k / across.max(1))
                })
                .collect();
            let _ = cog.read_blocks(z, &blocks).await;
            let _ = cog.get_tile(across, 0, z).await;
        }
        let p = cog.profile();
        let (w, h) = (p.width.min(300), p.height.min(300));
        let _ = cog.read_window(Window::new(0, 0, w, h), 0).await;
        let _ = cog
            .read_with(
                ReadRequest::bounds(p.bounds)
                    .shape(40, 50)
                    .resampling(Resampling::Bilinear),
            )
            .await;
        let _ = cog.read(p.bounds, (33, 17)).await;
        let _ = cog
            .read_with(ReadRequest::window(Window::new(-5, -5, 20, 20), 0).boundless(true))
            .await;
    });
}

const CODECS: [Codec; 11] = [
    Codec::None,
    Codec::Lzw,
    Codec::Deflate,
    Codec::PackBits,
    Codec::Jpeg,
    Codec::WebP,
    Codec::Zstd,
    Codec::Lzma,
    Codec::Lerc(LercWrap::None),
    Codec::Lerc(LercWrap::Deflate),
    Codec::Lerc(LercWrap::Zstd),
];
const BITS: [(u16, DataType); 12] = [
    (1, DataType::UInt8),
    (2, DataType::UInt8),
    (4, DataType::UInt8),
    (8, DataType::UInt8),
    (8, DataType::Int8),
    (12, DataType::UInt16),
    (16, DataType::UInt16),
    (16, DataType::Int16),
    (16, DataType::Float32),
    (32, DataType::Float32),
    (32, DataType::UInt32),
    (64, DataType::Float64),
];

/// (c) One codec on arbitrary bytes, with an arbitrary small chunk layout
/// chosen by the first 8 bytes of the input (JPEG tables from the next
/// ones when asked for). A decoded chunk never exceeds the layout.
pub fn codec(data: &[u8]) {
    let Some((head, rest)) = data.split_first_chunk::<8>() else {
        return;
    };
    let codec = CODECS[usize::from(head[0]) % CODECS.len()];
    let (bits, dtype) = BITS[usize::from(head[1]) % BITS.len()];
    let spec = ChunkSpec {
        width: usize::from(head[2] % 64) + 1,
        height: usize::from(head[3] % 64) + 1,
        samples: usize::from(head[4] % 4) + 1,
        bits,
        dtype,
        byte_order: if head[5] & 1 == 0 {
            ByteOrder::LittleEndian
        } else {
            ByteOrder::BigEndian
        },
        predictor: match head[5] >> 1 & 3 {
            0 => Predictor::None,
            1 => Predictor::Horizontal,
            2 => Predictor::FloatingPoint,
            _ => Predictor::Unknown(u16::from(head[6])),
        },
        photometric: Some(Photometric::from_code(u16::from(head[6] % 8))),
    };
    // Optional JPEG tables: the next `head[7]` bytes.
    let (tables, stream) = match head[7] {
        0 => (None, rest),
        n => {
            let n = usize::from(n).min(rest.len());
            (Some(&rest[..n]), &rest[n..])
        }
    };
    if let Ok(out) = decode_chunk(codec, stream, &spec, tables) {
        assert!(
            out.len() <= spec.width * spec.height * spec.samples * dtype.size(),
            "{codec:?} decoded {} bytes for a {spec:?}",
            out.len()
        );
    }
}

/// (d) The sans-I/O header decoder fed the input as a file, in the ranges
/// it asks for, pushed in an order and in pieces the input's last byte
/// chooses (with or without the file size), until it finishes or fails.
/// It must never ask for the same bytes forever.
pub fn header(data: &[u8]) {
    let Some((&knobs, file)) = data.split_last() else {
        return;
    };
    let file = bytes::Bytes::copy_from_slice(file);
    let len = file.len() as u64;
    let mut dec = HeaderDecoder::new(small_limits());
    if knobs & 1 == 1 {
        dec.set_file_size(len);
    }
    let piece = 1 + u64::from(knobs >> 4) * 37;
    for round in 0..64 {
        match dec.try_decode() {
            Ok(DecodeResult::Data(tiff)) => {
                std::hint::black_box(format!("{tiff:?}"));
                return;
            }
            Ok(DecodeResult::NeedsData(mut ranges)) => {
                if knobs & 2 == 2 {
                    ranges.reverse();
                }
                let before = dec.bytes_pushed();
                for r in ranges {
                    // Bytes past the end of the file do not exist.
                    let (a, b) = (r.start.min(len), r.end.min(len));
                    let mut at = a;
                    while at < b {
                        let end = if knobs & 4 == 4 { (at + piece).min(b) } else { b };
                        dec.push_range(at, file.slice(at as usize..end as usize));
                        at = end;
                    }
                }
                if dec.bytes_pushed() == before {
                    // Nothing more to give: the decoder must fail now, not ask again.
                    if let Ok(DecodeResult::NeedsData(r)) = dec.try_decode() {
                        dec.set_file_size(len);
                        let again = dec.try_decode();
                        assert!(
                            !matches!(again, Ok(DecodeResult::NeedsData(ref r2)) if r2 == &r && round > 32),
                            "the decoder asks for {r:?} again and again"
                        );
                    }
                    return;
                }
            }
            Err(_) => return,
        }
    }
}
