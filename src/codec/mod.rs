//! Tile codecs: compressed bytes + chunk layout → native samples.
//!
//! One table ([`Codec::from_tiff`]) maps the TIFF Compression code to a
//! codec. [`decode_chunk`] turns one stored chunk (a tile, a strip, or one
//! band's plane of either) into samples in native byte order, pixel
//! interleaved, one [`DataType`](crate::DataType) element per sample: the
//! byte-stream codecs (none, LZW, Deflate, PackBits, ZSTD, LZMA) are
//! decompressed, predictors undone and samples swapped to native order;
//! JPEG, WebP and LERC decode to pixels directly. Sub-byte samples (1, 2, 4
//! bits, e.g. masks) get one byte each; 16-bit floats widen to f32.
//!
//! Nothing here trusts the stream: every decompressor writes into a buffer
//! of the size the layout implies and stops one byte past it, so a stream
//! that decodes to more or less than the chunk holds is an error, never an
//! allocation the file chooses. Pure and CPU-bound: callers run it on a
//! blocking pool.

mod jpeg;
mod lerc;
mod lzw;
mod packbits;
pub mod predictor;
pub(crate) mod scratch;
mod webp;

use std::io::Read;

use crate::raster::DataType;
use crate::tiff::{ByteOrder, Compression, Photometric, PlanarConfig, Predictor};

/// A decoding failure, described for a human: a feature this crate does
/// not decode, or a stream that does not decode to what the block holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// A valid layout this crate cannot decode (a predictor, a sample depth).
    #[error("{0}")]
    Unsupported(String),
    /// A stream that is broken or does not fit the block.
    #[error("{0}")]
    Corrupt(String),
}

/// Result of a codec.
pub type CodecResult<T> = std::result::Result<T, CodecError>;

fn err<T>(msg: impl Into<String>) -> CodecResult<T> {
    Err(CodecError::Corrupt(msg.into()))
}

fn unsupported<T>(msg: impl Into<String>) -> CodecResult<T> {
    Err(CodecError::Unsupported(msg.into()))
}

/// The wrapping of a LERC blob (LercParameters' second value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LercWrap {
    /// Plain LERC.
    None,
    /// LERC inside Deflate (GDAL's LERC_DEFLATE).
    Deflate,
    /// LERC inside ZSTD (GDAL's LERC_ZSTD).
    Zstd,
}

/// A supported TIFF compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// 1: no compression.
    None,
    /// 5: LZW, MSB-first with TIFF's early code-size switch.
    Lzw,
    /// 8 and 32946: zlib-wrapped Deflate.
    Deflate,
    /// 32773: PackBits run-length encoding.
    PackBits,
    /// 7: JPEG, with JPEGTables spliced in.
    Jpeg,
    /// 50001: WebP, lossy or lossless.
    WebP,
    /// 50000: Zstandard.
    Zstd,
    /// 34925: LZMA2 in an .xz container (libtiff's LZMA codec).
    Lzma,
    /// 34887: LERC, possibly wrapped.
    Lerc(LercWrap),
}

impl Codec {
    /// The codec for a TIFF compression; `None` when unsupported.
    pub fn from_tiff(compression: Compression, lerc_parameters: Option<&[u64]>) -> Option<Codec> {
        Some(match compression {
            Compression::None => Codec::None,
            Compression::Lzw => Codec::Lzw,
            Compression::Jpeg => Codec::Jpeg,
            Compression::Deflate | Compression::AdobeDeflate => Codec::Deflate,
            Compression::PackBits => Codec::PackBits,
            Compression::Lerc => Codec::Lerc(match lerc_parameters.and_then(|p| p.get(1)) {
                Some(1) => LercWrap::Deflate,
                Some(2) => LercWrap::Zstd,
                _ => LercWrap::None,
            }),
            Compression::Lzma => Codec::Lzma,
            Compression::Zstd => Codec::Zstd,
            Compression::WebP => Codec::WebP,
            _ => return None,
        })
    }
}

/// The layout of one stored chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSpec {
    /// Pixels per row (the block width).
    pub width: usize,
    /// Rows (the block height).
    pub height: usize,
    /// Samples per pixel in this chunk (1 for a planar chunk).
    pub samples: usize,
    /// Bits per sample.
    pub bits: u16,
    /// Output sample type.
    pub dtype: DataType,
    /// The file's byte order.
    pub byte_order: ByteOrder,
    /// Predictor.
    pub predictor: Predictor,
    /// PhotometricInterpretation (JPEG needs it).
    pub photometric: Option<Photometric>,
}

impl ChunkSpec {
    /// The layout of one full block of `image` (one band's plane when the
    /// image is planar).
    pub fn of(image: &crate::tiff::ImageIfd, byte_order: ByteOrder) -> crate::tiff::TiffResult<ChunkSpec> {
        Ok(ChunkSpec {
            width: image.block_width as usize,
            height: image.block_height as usize,
            samples: if image.planar_config == PlanarConfig::Planar {
                1
            } else {
                usize::from(image.samples_per_pixel)
            },
            bits: image.bits_per_sample,
            dtype: image.data_type()?,
            byte_order,
            predictor: image.predictor,
            photometric: image.photometric,
        })
    }

    /// Bytes of one stored row (rows are padded to whole bytes).
    pub fn stored_row_bytes(&self) -> usize {
        (self.width * self.samples * usize::from(self.bits)).div_ceil(8)
    }

    /// Bytes the decompressed chunk must have.
    pub fn stored_len(&self) -> usize {
        self.stored_row_bytes() * self.height
    }

    /// Samples in the chunk.
    pub fn sample_count(&self) -> usize {
        self.width * self.height * self.samples
    }

    /// Bytes of the decoded output.
    pub fn output_len(&self) -> usize {
        self.sample_count() * self.dtype.size()
    }
}

/// Decodes one chunk into native-order samples (see the module docs).
pub fn decode_chunk(codec: Codec, data: &[u8], spec: &ChunkSpec, jpeg_tables: Option<&[u8]>) -> CodecResult<Vec<u8>> {
    // Every size below is a product of these; callers check the block
    // against `Limits::max_block_bytes`, this guards the arithmetic itself.
    let fits = (spec.width.checked_mul(spec.samples))
        .and_then(|n| n.checked_mul(usize::from(spec.bits.max(8))))
        .and_then(|n| n.checked_mul(spec.height))
        .and_then(|n| n.checked_mul(spec.dtype.size().max(1)));
    if fits.is_none() {
        return err(format!(
            "a {}x{} chunk of {} {}-bit samples is too large to address",
            spec.width, spec.height, spec.samples, spec.bits
        ));
    }
    let expected = spec.stored_len();
    let raw = match codec {
        Codec::None => {
            let Some(b) = data.get(..expected) else {
                return err(format!(
                    "uncompressed chunk has {} bytes, the layout needs {expected}",
                    data.len()
                ));
            };
            b.to_vec()
        }
        Codec::Lzw => lzw(data, expected)?,
        Codec::Deflate => inflate(data, expected)?,
        Codec::Zstd => zstd_exact(data, expected)?,
        Codec::Lzma => lzma(data, expected)?,
        Codec::PackBits => packbits::decode(data, expected)?,
        Codec::Jpeg => return jpeg::decode(data, jpeg_tables, spec),
        Codec::WebP => return webp::decode(data, spec),
        Codec::Lerc(wrap) => {
            let blob = match wrap {
                LercWrap::None => data.to_vec(),
                // A LERC blob is at most a little larger than the raw samples.
                LercWrap::Deflate => read_bounded(flate2::read::ZlibDecoder::new(data), lerc_bound(spec), "Deflate")?,
                LercWrap::Zstd => read_bounded(zstd_reader(data)?, lerc_bound(spec), "ZSTD")?,
            };
            return lerc::decode(&blob, spec);
        }
    };
    finish_byte_stream(raw, spec)
}

/// Predictor, byte order, unpacking of odd bit depths and f16 widening for
/// the output of a byte-stream codec.
///
/// Samples narrower than their output type (1-7, 9-15, 17-31, ... bits:
/// GDAL's NBITS) are packed MSB-first with each row padded to a whole byte,
/// whatever the file's byte order: GDAL packs them so and libtiff leaves
/// them alone, except 24-bit samples of a big-endian file, which libtiff's
/// post-decode swab reverses (3 bytes, little-endian on disk). Each sample
/// is widened to the output type, zero-extended.
fn finish_byte_stream(mut raw: Vec<u8>, spec: &ChunkSpec) -> CodecResult<Vec<u8>> {
    let bits = usize::from(spec.bits);
    let native = if cfg!(target_endian = "little") {
        ByteOrder::LittleEndian
    } else {
        ByteOrder::BigEndian
    };
    let mut in_native = bits <= 8;
    match spec.predictor {
        Predictor::None => {}
        Predictor::Horizontal if matches!(bits, 8 | 16 | 32 | 64) => {
            predictor::undo_horizontal(&mut raw, spec.width, spec.samples, bits / 8, spec.byte_order);
        }
        Predictor::FloatingPoint if matches!(bits, 16 | 32 | 64) && spec.dtype.is_float() => {
            predictor::undo_floating_point(&mut raw, spec.width, spec.samples, bits / 8);
            in_native = true;
        }
        p => {
            return unsupported(format!(
                "predictor {} ({p}) with {bits}-bit samples is not supported",
                p.code()
            ));
        }
    }
    let size = spec.dtype.size();
    if bits % 8 != 0 || (bits / 8 != size && !(bits == 16 && spec.dtype == DataType::Float32)) {
        if spec.dtype.is_float() || bits > size * 8 {
            return unsupported(format!("{bits}-bit samples as {} are not supported", spec.dtype));
        }
        return Ok(unpack_samples(&raw, spec));
    }
    if !in_native && spec.byte_order != native {
        for s in raw.chunks_exact_mut(bits / 8) {
            s.reverse();
        }
    }
    if bits == 16 && spec.dtype == DataType::Float32 {
        return Ok(raw
            .chunks_exact(2)
            .flat_map(|c| f16_to_f32(u16::from_ne_bytes([c[0], c[1]])).to_ne_bytes())
            .collect());
    }
    Ok(raw)
}

/// Samples of `spec.bits` bits widened to the output type's size, in native
/// order (see [`finish_byte_stream`] for the packing).
fn unpack_samples(raw: &[u8], spec: &ChunkSpec) -> Vec<u8> {
    let bits = usize::from(spec.bits);
    let size = spec.dtype.size();
    let per_row = spec.width * spec.samples;
    let row_bytes = spec.stored_row_bytes();
    let keep = if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let mut out = Vec::with_capacity(spec.sample_count() * size);
    for row in raw.chunks_exact(row_bytes).take(spec.height) {
        for i in 0..per_row {
            let value = if bits == 24 && spec.byte_order == ByteOrder::BigEndian {
                // libtiff swaps 24-bit samples of a big-endian file (its
                // post-decode swab), turning GDAL's MSB-first bytes around.
                let b = row.get(i * 3..i * 3 + 3).unwrap_or_default();
                b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x))
            } else {
                // The bytes holding bits [first, first + bits), big-endian.
                let first = i * bits;
                let (lo, hi) = (first / 8, (first + bits - 1) / 8);
                let b = row.get(lo..=hi).unwrap_or_default();
                let word = b.iter().fold(0u128, |v, &x| (v << 8) | u128::from(x));
                let shift = (hi + 1) * 8 - first - bits;
                (word >> shift) as u64 & keep
            };
            match size {
                1 => out.push(value as u8),
                2 => out.extend_from_slice(&(value as u16).to_ne_bytes()),
                4 => out.extend_from_slice(&(value as u32).to_ne_bytes()),
                _ => out.extend_from_slice(&value.to_ne_bytes()),
            }
        }
    }
    out.resize(spec.sample_count() * size, 0);
    out
}

/// IEEE half to single precision.
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let frac = u32::from(h & 0x3ff);
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, f) => {
            // Subnormal: normalise.
            let mut e = 127 - 15 + 1;
            let mut f = f;
            while f & 0x400 == 0 {
                f <<= 1;
                e -= 1;
            }
            sign | (e << 23) | ((f & 0x3ff) << 13)
        }
        (0x1f, f) => sign | 0x7f80_0000 | (f << 13),
        (e, f) => sign | ((e + 127 - 15) << 23) | (f << 13),
    };
    f32::from_bits(bits)
}

/// Upper bound on a LERC blob for `spec`: the raw samples plus headers.
fn lerc_bound(spec: &ChunkSpec) -> usize {
    spec.sample_count() * 8 + spec.width * spec.height + 64 * 1024
}

/// ZSTD into exactly `expected` bytes: libzstd with the `zstd-c` feature,
/// else ruzstd (pure Rust).
fn zstd_exact(data: &[u8], expected: usize) -> CodecResult<Vec<u8>> {
    #[cfg(feature = "zstd-c")]
    {
        let d =
            zstd::stream::read::Decoder::with_buffer(data).map_err(|e| CodecError::Corrupt(format!("ZSTD: {e}")))?;
        read_exact(d, expected, "ZSTD")
    }
    #[cfg(not(feature = "zstd-c"))]
    read_exact(zstd_reader(data)?, expected, "ZSTD")
}

fn zstd_reader(data: &[u8]) -> CodecResult<impl Read + '_> {
    ruzstd::decoding::StreamingDecoder::new(data).map_err(|e| CodecError::Corrupt(format!("ZSTD: {e}")))
}

/// Inflates a zlib stream straight into a buffer of exactly `expected`
/// bytes (one call, no intermediate reads); fewer is an error, more are
/// ignored.
fn inflate(data: &[u8], expected: usize) -> CodecResult<Vec<u8>> {
    let mut out = scratch::zeroed(expected);
    let mut d = flate2::Decompress::new(true);
    match d.decompress(data, &mut out, flate2::FlushDecompress::Finish) {
        Ok(_) => {}
        Err(e) => return err(format!("Deflate: {e}")),
    }
    let n = d.total_out() as usize;
    if n != expected {
        return err(format!(
            "Deflate stream decoded to {n} bytes, the chunk holds {expected}"
        ));
    }
    Ok(out)
}

/// Reads exactly `expected` bytes; fewer is an error, more are ignored.
fn read_exact(r: impl Read, expected: usize, what: &str) -> CodecResult<Vec<u8>> {
    let mut out = Vec::with_capacity(expected);
    r.take(expected as u64)
        .read_to_end(&mut out)
        .map_err(|e| CodecError::Corrupt(format!("{what}: {e}")))?;
    if out.len() != expected {
        return err(format!(
            "{what} stream decoded to {} bytes, the chunk holds {expected}",
            out.len()
        ));
    }
    Ok(out)
}

/// Reads at most `bound` bytes; more is an error.
fn read_bounded(r: impl Read, bound: usize, what: &str) -> CodecResult<Vec<u8>> {
    let mut out = Vec::new();
    r.take(bound as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| CodecError::Corrupt(format!("{what}: {e}")))?;
    if out.len() > bound {
        return err(format!("{what} stream decodes to more than {bound} bytes"));
    }
    Ok(out)
}

fn lzw(data: &[u8], expected: usize) -> CodecResult<Vec<u8>> {
    let mut out = scratch::zeroed(expected);
    let pos = lzw::decode(data, &mut out).map_err(CodecError::Corrupt)?;
    if pos != expected {
        return err(format!("LZW stream decoded to {pos} bytes, the chunk holds {expected}"));
    }
    Ok(out)
}

/// LZMA as libtiff writes it: an .xz stream, usually with a delta filter
/// before LZMA2. A 64 MiB dictionary limit keeps a hostile header from
/// reserving more.
fn lzma(data: &[u8], expected: usize) -> CodecResult<Vec<u8>> {
    let reader = lzma_rust2::XzReader::new_mem_limit(data, false, 64 * 1024);
    read_exact(reader, expected, "LZMA")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(width: usize, height: usize, samples: usize, bits: u16, dtype: DataType) -> ChunkSpec {
        ChunkSpec {
            width,
            height,
            samples,
            bits,
            dtype,
            byte_order: ByteOrder::LittleEndian,
            predictor: Predictor::None,
            photometric: Some(Photometric::MinIsBlack),
        }
    }

    #[test]
    fn f16_widening() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
    }

    #[test]
    fn one_bit_rows_are_padded_and_msb_first() {
        let s = spec(10, 2, 1, 1, DataType::UInt8);
        let out = decode_chunk(Codec::None, &[0b1010_0000, 0b0100_0000, 0xff, 0xc0], &s, None).unwrap();
        assert_eq!(out[..10], [1, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(out[10..], [1; 10]);
    }

    #[test]
    fn malformed_streams_are_errors_not_panics() {
        let s = spec(64, 64, 1, 8, DataType::UInt8);
        let garbage: Vec<u8> = (0..300u32).map(|i| (i.wrapping_mul(2654435761) >> 7) as u8).collect();
        for codec in [
            Codec::None,
            Codec::Lzw,
            Codec::Deflate,
            Codec::Zstd,
            Codec::Lzma,
            Codec::PackBits,
            Codec::Jpeg,
            Codec::WebP,
            Codec::Lerc(LercWrap::None),
            Codec::Lerc(LercWrap::Deflate),
            Codec::Lerc(LercWrap::Zstd),
        ] {
            for input in [&[][..], &garbage[..], &garbage[..7]] {
                assert!(
                    decode_chunk(codec, input, &s, None).is_err(),
                    "{codec:?} accepted {} bytes of garbage",
                    input.len()
                );
            }
        }
    }

    #[test]
    fn a_stream_too_long_or_too_short_for_the_chunk_is_an_error() {
        use std::io::Write;
        let s = spec(16, 16, 1, 8, DataType::UInt8);
        for len in [255usize, 1000] {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(&vec![7u8; len]).unwrap();
            let data = z.finish().unwrap();
            let r = decode_chunk(Codec::Deflate, &data, &s, None);
            if len < 256 {
                assert!(r.is_err(), "short stream accepted");
            } else {
                assert_eq!(
                    r.unwrap().len(),
                    256,
                    "extra bytes are ignored, never allocated past the chunk"
                );
            }
        }
    }
}
