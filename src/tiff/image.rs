//! The image an IFD describes: size, block layout, samples and codec.
//!
//! [`ImageIfd`] reads the baseline and extension tags of one IFD into typed
//! fields with the TIFF 6.0 defaults filled in, and checks them against each
//! other (the offset arrays must have one entry per block). Strips are
//! treated as tiles as wide as the image, so later reads see one block grid.

use super::enums::{Compression, ExtraSamples, Photometric, PlanarConfig, Predictor, SampleFormat};
use super::error::{Location, TiffError, TiffResult};
use super::ifd::Ifd;
use super::tags::Tag;
use crate::raster::DataType;

/// NewSubfileType bit: reduced-resolution version of another image.
pub const SUBFILE_REDUCED: u64 = 1;
/// NewSubfileType bit: transparency mask of another image.
pub const SUBFILE_MASK: u64 = 4;

/// One IFD read as an image.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ImageIfd {
    /// Index of the IFD in the chain.
    pub ifd: usize,
    /// ImageWidth.
    pub width: u64,
    /// ImageLength.
    pub height: u64,
    /// SamplesPerPixel (default 1).
    pub samples_per_pixel: u16,
    /// BitsPerSample (all samples must agree; default 1).
    pub bits_per_sample: u16,
    /// SampleFormat: 1 unsigned, 2 signed, 3 float (default 1).
    pub sample_format: SampleFormat,
    /// Compression code (default 1, none).
    pub compression: Compression,
    /// PhotometricInterpretation, when present.
    pub photometric: Option<Photometric>,
    /// PlanarConfiguration: 1 chunky, 2 planar (default 1).
    pub planar_config: PlanarConfig,
    /// Predictor: 1 none, 2 horizontal, 3 floating point (default 1).
    pub predictor: Predictor,
    /// NewSubfileType bits (default 0).
    pub subfile_type: u64,
    /// Tiled (TileWidth present) rather than striped.
    pub tiled: bool,
    /// Block width: TileWidth, or the image width for strips.
    pub block_width: u64,
    /// Block height: TileLength, or RowsPerStrip capped at the height.
    pub block_height: u64,
    /// ExtraSamples codes for the trailing samples (0 unspecified,
    /// 1 associated alpha, 2 unassociated alpha).
    pub extra_samples: Vec<ExtraSamples>,
    /// LercParameters: `[version, additional compression]` (0 none, 1 deflate, 2 zstd).
    pub lerc_parameters: Option<Vec<u64>>,
    /// Number of blocks in the grid (for chopped strips, the virtual ones).
    pub block_count: u64,
    /// Set when one uncompressed strip is read as virtual strips (see
    /// [`StripChop`]); the offset arrays then hold one entry.
    pub strip_chop: Option<StripChop>,
}

/// libtiff's (and so GDAL's) "strip chop": an uncompressed, pixel-interleaved
/// image stored as one strip is exposed as strips of about 8 KiB
/// (`max(1, 8192 / scanline)` rows), so a window read fetches only its rows.
/// Virtual strip `i` starts at `offset + i * rows_per_strip * scanline_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StripChop {
    /// Bytes in one row.
    pub scanline_bytes: u64,
    /// The RowsPerStrip the file declares.
    pub stored_rows_per_strip: u64,
}

/// libtiff's `STRIP_SIZE_DEFAULT`: the target size of a chopped strip.
const STRIP_CHOP_BYTES: u64 = 8192;

impl ImageIfd {
    /// Reads the image tags of `ifd`.
    pub fn from_ifd(ifd: &Ifd) -> TiffResult<ImageIfd> {
        let loc = |tag: Tag| Location::new().ifd(ifd.index).tag(tag);
        let required = |tag: Tag| {
            ifd.u64(tag)
                .filter(|&v| v > 0)
                .ok_or_else(|| TiffError::corrupt(loc(tag), "missing or zero"))
        };
        let small = |tag: Tag, default: u16| -> TiffResult<u16> {
            match ifd.u64(tag) {
                None => Ok(default),
                Some(v) => {
                    u16::try_from(v).map_err(|_| TiffError::corrupt(loc(tag), format!("value {v} out of range")))
                }
            }
        };
        let width = required(Tag::ImageWidth)?;
        let height = required(Tag::ImageLength)?;
        let samples_per_pixel = small(Tag::SamplesPerPixel, 1)?;
        if samples_per_pixel == 0 {
            return Err(TiffError::corrupt(loc(Tag::SamplesPerPixel), "zero samples per pixel"));
        }
        let bits_all = ifd
            .value(Tag::BitsPerSample)
            .and_then(|v| v.to_u64_vec())
            .unwrap_or_else(|| vec![1]);
        let bits = bits_all.first().copied().unwrap_or(1);
        if bits_all.iter().any(|&b| b != bits) {
            return Err(TiffError::unsupported(
                loc(Tag::BitsPerSample),
                format!("samples of different sizes {bits_all:?}"),
            ));
        }
        let bits_per_sample = u16::try_from(bits)
            .ok()
            .filter(|b| (1..=64).contains(b))
            .ok_or_else(|| TiffError::corrupt(loc(Tag::BitsPerSample), format!("{bits} bits per sample")))?;
        let formats = ifd
            .value(Tag::SampleFormat)
            .and_then(|v| v.to_u64_vec())
            .unwrap_or_else(|| vec![1]);
        let sample_format = formats
            .first()
            .copied()
            .and_then(|f| u16::try_from(f).ok())
            .map_or(SampleFormat::Uint, SampleFormat::from_code);
        let planar_config = PlanarConfig::from_code(small(Tag::PlanarConfiguration, 1)?);
        if let PlanarConfig::Unknown(v) = planar_config {
            return Err(TiffError::corrupt(
                loc(Tag::PlanarConfiguration),
                format!("value {v}, expected 1 or 2"),
            ));
        }
        let tiled = ifd.entry(Tag::TileWidth).is_some() || ifd.entry(Tag::TileOffsets).is_some();
        let (block_width, block_height) = if tiled {
            (required(Tag::TileWidth)?, required(Tag::TileLength)?)
        } else {
            let rows = ifd.u64(Tag::RowsPerStrip).filter(|&r| r > 0).unwrap_or(height);
            (width, rows.min(height))
        };
        let (offsets_tag, counts_tag) = if tiled {
            (Tag::TileOffsets, Tag::TileByteCounts)
        } else {
            (Tag::StripOffsets, Tag::StripByteCounts)
        };
        let mut image = ImageIfd {
            ifd: ifd.index,
            width,
            height,
            samples_per_pixel,
            bits_per_sample,
            sample_format,
            compression: Compression::from_code(small(Tag::Compression, 1)?),
            photometric: ifd
                .u64(Tag::PhotometricInterpretation)
                .and_then(|v| u16::try_from(v).ok())
                .map(Photometric::from_code),
            planar_config,
            predictor: Predictor::from_code(small(Tag::Predictor, 1)?),
            subfile_type: ifd.u64(Tag::NewSubfileType).unwrap_or(0),
            tiled,
            block_width,
            block_height,
            extra_samples: ifd
                .value(Tag::ExtraSamples)
                .and_then(|v| v.to_u64_vec())
                .unwrap_or_default()
                .into_iter()
                .map(|v| ExtraSamples::from_code(u16::try_from(v).unwrap_or(0)))
                .collect(),
            lerc_parameters: ifd.value(Tag::LercParameters).and_then(|v| v.to_u64_vec()),
            block_count: 0,
            strip_chop: None,
        };
        let expected = image
            .blocks_across()
            .checked_mul(image.blocks_down())
            .and_then(|n| {
                n.checked_mul(if planar_config == PlanarConfig::Planar {
                    u64::from(samples_per_pixel)
                } else {
                    1
                })
            })
            .ok_or_else(|| TiffError::corrupt(loc(Tag::ImageWidth), "block count overflows"))?;
        for tag in [offsets_tag, counts_tag] {
            let entry = ifd.entry(tag).ok_or_else(|| TiffError::corrupt(loc(tag), "missing"))?;
            if entry.count < expected {
                return Err(TiffError::corrupt(
                    loc(tag),
                    format!("{} entries, but the layout has {expected} blocks", entry.count),
                ));
            }
        }
        image.block_count = expected;
        image.chop_single_strip();
        Ok(image)
    }

    /// Applies libtiff's strip chop when its conditions hold: not tiled,
    /// PlanarConfiguration 1, one strip, no compression, and the chopped
    /// strips would have fewer rows than the stored one.
    fn chop_single_strip(&mut self) {
        if self.tiled
            || self.planar_config != PlanarConfig::Chunky
            || self.block_count != 1
            || self.compression != Compression::None
        {
            return;
        }
        let bits = u64::from(self.samples_per_pixel) * u64::from(self.bits_per_sample);
        let Some(scanline) = self.width.checked_mul(bits).map(|b| b.div_ceil(8)).filter(|&s| s > 0) else {
            return;
        };
        let rows = (STRIP_CHOP_BYTES / scanline).max(1);
        if rows >= self.block_height {
            return;
        }
        self.strip_chop = Some(StripChop {
            scanline_bytes: scanline,
            stored_rows_per_strip: self.block_height,
        });
        self.block_height = rows;
        self.block_count = self.blocks_down();
    }

    /// Blocks per row of the grid.
    pub fn blocks_across(&self) -> u64 {
        self.width.div_ceil(self.block_width)
    }

    /// Blocks per column of the grid.
    pub fn blocks_down(&self) -> u64 {
        self.height.div_ceil(self.block_height)
    }

    /// The tag holding block offsets (TileOffsets or StripOffsets).
    pub fn offsets_tag(&self) -> Tag {
        if self.tiled {
            Tag::TileOffsets
        } else {
            Tag::StripOffsets
        }
    }

    /// The tag holding block byte counts (TileByteCounts or StripByteCounts).
    pub fn byte_counts_tag(&self) -> Tag {
        if self.tiled {
            Tag::TileByteCounts
        } else {
            Tag::StripByteCounts
        }
    }

    /// Bytes of one decoded block (all samples, in the output type), or
    /// `None` when the product overflows. Checked against
    /// `Limits::max_block_bytes` before a block is planned or decoded.
    pub fn decoded_block_bytes(&self) -> Option<u64> {
        let out_sample = self.data_type().map_or(8, |d| d.size() as u64);
        let stored_sample = u64::from(self.bits_per_sample).div_ceil(8);
        self.block_width
            .checked_mul(self.block_height)?
            .checked_mul(u64::from(self.samples_per_pixel))?
            .checked_mul(out_sample.max(stored_sample))
    }

    /// A transparency mask (NewSubfileType bit 4).
    pub fn is_mask(&self) -> bool {
        self.subfile_type & SUBFILE_MASK != 0
    }

    /// A reduced-resolution image (NewSubfileType bit 1).
    pub fn is_reduced(&self) -> bool {
        self.subfile_type & SUBFILE_REDUCED != 0
    }

    /// The sample type, or an Unsupported error naming SampleFormat.
    pub fn data_type(&self) -> TiffResult<DataType> {
        DataType::from_tiff(self.sample_format.code(), self.bits_per_sample).ok_or_else(|| {
            TiffError::unsupported(
                Location::new().ifd(self.ifd).tag(Tag::SampleFormat),
                format!(
                    "SampleFormat {} with {} bits per sample",
                    self.sample_format, self.bits_per_sample
                ),
            )
        })
    }

    /// GDAL's lowercase compression name (`none`, `lzw`, `deflate`, `jpeg`,
    /// `webp`, `zstd`, `packbits`, `lzma`, `lerc`, `lerc_deflate`, `lerc_zstd`, ...).
    pub fn compression_name(&self) -> String {
        self.compression.gdal_name(self.lerc_inner())
    }

    /// The codec a LERC image wraps its blobs in (`LercParameters[1]`: 1
    /// Deflate, 2 ZSTD); `None` for other compressions or plain LERC.
    pub fn lerc_inner(&self) -> Option<Compression> {
        if self.compression != Compression::Lerc {
            return None;
        }
        match self.lerc_parameters.as_deref().and_then(|p| p.get(1)) {
            Some(1) => Some(Compression::Deflate),
            Some(2) => Some(Compression::Zstd),
            _ => None,
        }
    }
}
