//! One tile, sans I/O: which byte ranges hold it, and how its decoded chunks
//! become a masked array.
//!
//! A tile (x, y) of a level is one stored chunk for pixel-interleaved data
//! or one chunk per band for planar data, plus the matching chunk of the
//! level's mask IFD. Strips are tiles as wide as the image (the last one
//! holds only the remaining rows); libtiff's virtual strips of a single
//! uncompressed strip are slices of it. Sparse chunks (offset or byte count
//! 0) are not fetched: they read as nodata, or 0 when there is none.
//!
//! When GDAL's ghost area declares `BLOCK_LEADER=SIZE_AS_UINT4` and
//! `BLOCK_TRAILER=LAST_4_BYTES_REPEATED` (and the file was not edited since,
//! `KNOWN_INCOMPATIBLE_EDITION=NO`), each chunk is fetched with its 4-byte
//! leader and trailer and both are checked. Touching ranges are merged, so
//! with `MASK_INTERLEAVED_WITH_IMAGERY=YES` a tile and its mask are one
//! request.
//!
//! The mask follows GDAL's precedence: the internal mask, else nodata (per
//! band, NaN included), else the alpha band (alpha 0 = invalid), else all
//! valid. `true` = invalid, as in numpy.ma.

use std::ops::Range;

use ndarray::Array3;

use crate::codec::{ChunkSpec, Codec, decode_chunk};
use crate::error::{Error, Location, Result};
use crate::levels::Level;
use crate::profile::MaskSource;
use crate::raster::{ArrayData, DataType, MaskedArray, Nodata, Sample};
use crate::tiff::{ByteOrder, GhostArea, ImageIfd, RangeBuffers, Tag};

/// Compressed chunks larger than this multiple of their decoded size (plus
/// 1 MiB) are refused before fetching: a lying byte count must not make us
/// download gigabytes.
const MAX_COMPRESSION_OVERHEAD: u64 = 2;

/// One stored chunk of a tile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkRef {
    /// IFD the chunk belongs to.
    pub ifd: usize,
    /// Its index in the IFD's offset array.
    pub index: usize,
    /// Its bytes, or `None` for a sparse chunk.
    pub range: Option<Range<u64>>,
    /// Rows stored in it (fewer than the block height for a last strip).
    pub rows: usize,
}

/// Everything needed to fetch and decode one tile.
#[derive(Debug, Clone)]
pub struct TilePlan {
    /// Image chunks: one, or one per band when planar.
    pub chunks: Vec<ChunkRef>,
    /// The mask chunk, when the level has a mask.
    pub mask: Option<ChunkRef>,
    /// Bytes before each chunk to fetch and check (GDAL's block leader).
    pub leader: u64,
    /// Bytes after each chunk to fetch and check (GDAL's block trailer).
    pub trailer: u64,
    /// Rows of the tile inside the image (fewer in the last row of tiles).
    pub valid_rows: usize,
    /// Columns of the tile inside the image (fewer in the last column).
    pub valid_cols: usize,
}

/// The offset and byte-count arrays of one IFD.
#[derive(Debug, Clone, Copy)]
pub struct BlockIndex<'a> {
    /// Block offsets.
    pub offsets: &'a [u64],
    /// Block byte counts.
    pub counts: &'a [u64],
}

/// What decoding needs beyond the plan: the dataset's mask rules and tables.
#[derive(Debug, Clone)]
pub struct DecodeContext {
    /// Source name for errors.
    pub url: String,
    /// File byte order.
    pub byte_order: ByteOrder,
    /// Data bands returned (alpha excluded when it is the mask).
    pub count: usize,
    /// Which mask applies.
    pub mask_source: Option<MaskSource>,
    /// The nodata value.
    pub nodata: Option<Nodata>,
    /// 0-based alpha sample.
    pub alpha_band: Option<usize>,
    /// JPEGTables of the image IFD.
    pub jpeg_tables: Option<Vec<u8>>,
    /// JPEGTables of the mask IFD.
    pub mask_jpeg_tables: Option<Vec<u8>>,
}

fn chunk_ref(
    image: &ImageIfd,
    index: BlockIndex<'_>,
    i: usize,
    x: u64,
    y: u64,
    file_size: Option<u64>,
) -> Result<ChunkRef> {
    let loc = || Location::new().ifd(image.ifd).tag(image.offsets_tag());
    let first_row = y.saturating_mul(image.block_height);
    let rows_left = image.height.saturating_sub(first_row);
    let rows = if image.tiled {
        image.block_height
    } else {
        image.block_height.min(rows_left)
    } as usize;
    let (off, count) = match image.strip_chop {
        Some(chop) => {
            let (Some(&base), Some(&total)) = (index.offsets.first(), index.counts.first()) else {
                return Err(Error::format(loc(), "no strip offset"));
            };
            let start = first_row.checked_mul(chop.scanline_bytes);
            let len = (rows as u64).checked_mul(chop.scanline_bytes);
            let (Some(start), Some(len)) = (start, len) else {
                return Err(Error::format(loc(), "strip size overflows"));
            };
            if start.saturating_add(len) > total {
                return Err(Error::format(
                    loc(),
                    format!(
                        "strip holds {total} bytes, row {first_row} needs {}",
                        start.saturating_add(len)
                    ),
                ));
            }
            if base == 0 {
                (0, 0)
            } else {
                let at = base
                    .checked_add(start)
                    .ok_or_else(|| Error::format(loc(), "strip offset overflows"))?;
                (at, len)
            }
        }
        None => {
            let (Some(&o), Some(&c)) = (index.offsets.get(i), index.counts.get(i)) else {
                return Err(Error::format(
                    loc(),
                    format!(
                        "block {i} (tile {x},{y}) is past the {} entries of the offset array",
                        index.offsets.len()
                    ),
                ));
            };
            (o, c)
        }
    };
    let range = if off == 0 || count == 0 {
        None
    } else {
        let end = off
            .checked_add(count)
            .ok_or_else(|| Error::format(loc(), "block offset overflows"))?;
        if let Some(size) = file_size
            && end > size
        {
            return Err(Error::format(
                loc().range(off..end),
                format!("block {i} lies past the end of the file ({size} bytes)"),
            ));
        }
        // A lying byte count must not make us download gigabytes: a chunk
        // may be at most twice its decoded size, plus 1 MiB.
        let limit = image
            .decoded_block_bytes()
            .unwrap_or(u64::MAX)
            .saturating_mul(MAX_COMPRESSION_OVERHEAD)
            .saturating_add(1 << 20);
        if count > limit {
            return Err(Error::LimitExceeded {
                location: loc().range(off..end),
                what: "compressed block size",
                value: count,
                limit,
            });
        }
        Some(off..end)
    };
    Ok(ChunkRef {
        ifd: image.ifd,
        index: i,
        range,
        rows,
    })
}

impl TilePlan {
    /// Plans tile (x, y) of `level`. `index` is the image IFD's block
    /// arrays, `mask_index` the mask IFD's (when the level has a mask).
    pub fn new(
        level: &Level,
        x: u64,
        y: u64,
        index: BlockIndex<'_>,
        mask_index: Option<BlockIndex<'_>>,
        ghost: Option<&GhostArea>,
        file_size: Option<u64>,
    ) -> Result<TilePlan> {
        let img = &level.image;
        let (across, down) = (img.blocks_across(), img.blocks_down());
        if x >= across || y >= down {
            return Err(Error::InvalidRequest {
                message: format!(
                    "tile ({x}, {y}) is outside level {}'s grid of {across}x{down} tiles",
                    level.z
                ),
            });
        }
        let plane = across * down;
        let i = (y * across + x) as usize;
        let chunks = if img.planar_config == 2 {
            (0..u64::from(img.samples_per_pixel))
                .map(|b| chunk_ref(img, index, (b * plane) as usize + i, x, y, file_size))
                .collect::<Result<Vec<_>>>()?
        } else {
            vec![chunk_ref(img, index, i, x, y, file_size)?]
        };
        let mask = match (&level.mask, mask_index) {
            (Some(m), Some(mi)) => {
                if m.blocks_across() != across || m.blocks_down() != down {
                    return Err(Error::unsupported(
                        Location::new().ifd(m.ifd),
                        "mask blocks do not line up with image blocks",
                    ));
                }
                Some(chunk_ref(m, mi, i, x, y, file_size)?)
            }
            _ => None,
        };
        let checked = ghost.filter(|g| !g.known_incompatible_edition() && img.strip_chop.is_none());
        Ok(TilePlan {
            valid_rows: img.height.saturating_sub(y * img.block_height).min(img.block_height) as usize,
            valid_cols: img.width.saturating_sub(x * img.block_width).min(img.block_width) as usize,
            chunks,
            mask,
            leader: checked.map_or(0, GhostArea::block_leader_size),
            trailer: checked.map_or(0, GhostArea::block_trailer_size),
        })
    }

    fn all_chunks(&self) -> impl Iterator<Item = &ChunkRef> {
        self.chunks.iter().chain(self.mask.as_ref())
    }

    fn with_framing(&self, r: &Range<u64>) -> Range<u64> {
        if r.start >= self.leader {
            r.start - self.leader..r.end + self.trailer
        } else {
            r.clone()
        }
    }

    /// The byte ranges to fetch: every non-sparse chunk with its leader and
    /// trailer (merging them into requests is the fetcher's job).
    pub fn chunk_ranges(&self) -> Vec<Range<u64>> {
        self.all_chunks()
            .filter_map(|c| c.range.as_ref())
            .map(|r| self.with_framing(r))
            .collect()
    }

    /// Checks GDAL's leader (byte count, u32 little-endian) and trailer (the
    /// chunk's last 4 bytes repeated) around `r`.
    fn check_framing(&self, c: &ChunkRef, r: &Range<u64>, buffers: &RangeBuffers, url: &str) -> Result<()> {
        if r.start < self.leader {
            return Ok(());
        }
        let loc = || {
            Location::new()
                .source(url)
                .ifd(c.ifd)
                .tag(Tag::TileOffsets)
                .range(r.clone())
        };
        if self.leader == 4 {
            let lead = buffers.get(r.start - 4..r.start).unwrap_or_default();
            let announced = lead.get(..4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            if announced != Some((r.end - r.start) as u32) {
                return Err(Error::format(
                    loc(),
                    format!(
                        "BLOCK_LEADER says {} bytes but TileByteCounts says {} (file edited after creation?)",
                        announced.map_or("nothing".into(), |v| v.to_string()),
                        r.end - r.start
                    ),
                ));
            }
        }
        if self.trailer == 4 && r.end - r.start >= 4 {
            let last = buffers.get(r.end - 4..r.end);
            let trail = buffers.get(r.end..r.end + 4);
            if last.is_none() || last != trail {
                return Err(Error::format(
                    loc(),
                    "BLOCK_TRAILER does not repeat the block's last 4 bytes",
                ));
            }
        }
        Ok(())
    }

    /// Decodes the fetched bytes into a masked array of shape
    /// (count, block height, block width). CPU-bound: run it off the runtime.
    pub fn decode(&self, level: &Level, buffers: &RangeBuffers, ctx: &DecodeContext) -> Result<MaskedArray> {
        let img = &level.image;
        let dtype = img.data_type()?;
        let (bw, bh) = (img.block_width as usize, img.block_height as usize);
        let spp = usize::from(img.samples_per_pixel);
        let fill = fill_value(dtype, ctx.nodata);
        let codec = codec_of(img, &ctx.url)?;
        let chunk_samples = if img.planar_config == 2 { 1 } else { spp };
        // Each chunk decoded to (bh, bw, chunk_samples) native bytes.
        let mut decoded = Vec::with_capacity(self.chunks.len());
        let row_bytes = bw * chunk_samples * dtype.size();
        for c in &self.chunks {
            let tables = ctx.jpeg_tables.as_deref();
            let mut d = self.decode_chunk(c, img, codec, buffers, tables, &fill, ctx)?;
            // Like GDAL, rows below the image in the last row of tiles read as 0
            // (the stored padding is whatever the encoder left there).
            if c.range.is_some()
                && let Some(pad) = d.get_mut(self.valid_rows * row_bytes..)
            {
                pad.fill(0);
            }
            decoded.push(d);
        }
        // (samples, rows, cols) native bytes.
        let size = dtype.size();
        let plane = bh * bw * size;
        let mut bands = vec![0u8; spp * plane];
        if img.planar_config == 2 {
            for (b, d) in decoded.iter().enumerate() {
                bands[b * plane..(b + 1) * plane].copy_from_slice(d);
            }
        } else if let Some(d) = decoded.first() {
            match size {
                1 => deinterleave::<1>(d, &mut bands, spp, plane),
                2 => deinterleave::<2>(d, &mut bands, spp, plane),
                4 => deinterleave::<4>(d, &mut bands, spp, plane),
                _ => deinterleave::<8>(d, &mut bands, spp, plane),
            }
        }
        let count = ctx.count.min(spp);
        // The alpha plane is read before the buffer becomes the data array.
        let alpha_invalid: Option<Vec<bool>> = (ctx.mask_source == Some(MaskSource::Alpha)).then(|| {
            let a = ctx.alpha_band.unwrap_or(spp - 1);
            let alpha = bands.get(a * plane..(a + 1) * plane).unwrap_or_default();
            alpha.chunks_exact(size).map(|s| s.iter().all(|&b| b == 0)).collect()
        });
        bands.truncate(count * plane);
        let data = ArrayData::from_ne_vec(dtype, (count, bh, bw), bands).ok_or_else(|| {
            Error::format(
                Location::new().source(&ctx.url).ifd(img.ifd),
                "decoded tile has the wrong size",
            )
        })?;
        let mask = match ctx.mask_source {
            // An overview without a mask IFD reads as all valid, as GDAL's
            // GetMaskBand() of such an overview does (bounds reads take the
            // mask from a level that has one; see `read`).
            Some(MaskSource::Internal) if level.mask.is_none() => Array3::from_elem((count, bh, bw), false),
            Some(MaskSource::Internal) => {
                let (Some(m), Some(c)) = (&level.mask, &self.mask) else {
                    return Err(Error::format(
                        Location::new().source(&ctx.url).ifd(img.ifd),
                        "the mask block was not planned",
                    ));
                };
                let mcodec = codec_of(m, &ctx.url)?;
                let bytes = self.decode_chunk(c, m, mcodec, buffers, ctx.mask_jpeg_tables.as_deref(), &[0], ctx)?;
                let invalid: Vec<bool> = bytes.iter().map(|&v| v == 0).collect();
                broadcast(&invalid, count, bh, bw)
            }
            Some(MaskSource::Nodata) => {
                // Like GDAL's nodata mask band, padding outside the image is
                // invalid; samples compare with nodata in their own type.
                let nd = ctx.nodata.unwrap_or(Nodata::Float(f64::NAN));
                let hits = nodata_hits(&data, nd);
                let (vr, vc) = (self.valid_rows, self.valid_cols);
                let invalid = hits
                    .iter()
                    .enumerate()
                    .map(|(i, &hit)| {
                        let (r, c) = ((i / bw) % bh, i % bw);
                        r >= vr || c >= vc || hit
                    })
                    .collect();
                Array3::from_shape_vec((count, bh, bw), invalid)
                    .unwrap_or_else(|_| Array3::from_elem((count, bh, bw), true))
            }
            Some(MaskSource::Alpha) => broadcast(alpha_invalid.as_deref().unwrap_or_default(), count, bh, bw),
            None => Array3::from_elem((count, bh, bw), false),
        };
        Ok(MaskedArray { data, mask })
    }

    #[allow(clippy::too_many_arguments)]
    fn decode_chunk(
        &self,
        c: &ChunkRef,
        image: &ImageIfd,
        codec: Codec,
        buffers: &RangeBuffers,
        tables: Option<&[u8]>,
        fill: &[u8],
        ctx: &DecodeContext,
    ) -> Result<Vec<u8>> {
        let block = ChunkSpec::of(image, ctx.byte_order)?;
        let full = block.output_len();
        let Some(range) = &c.range else {
            return Ok(fill.iter().copied().cycle().take(full).collect());
        };
        let loc = || {
            Location::new()
                .source(&ctx.url)
                .ifd(c.ifd)
                .tag(image.offsets_tag())
                .range(range.clone())
        };
        self.check_framing(c, range, buffers, &ctx.url)?;
        let bytes = buffers
            .get(range.clone())
            .ok_or_else(|| Error::format(loc(), "block bytes were not fetched (short read?)"))?;
        let spec = ChunkSpec {
            height: c.rows,
            ..block
        };
        let mut out = decode_chunk(codec, &bytes, &spec, tables)
            .map_err(|e| Error::codec(loc(), &format!("{codec:?} block {}", c.index), e))?;
        // A last strip holds fewer rows than the block: pad like GDAL (zeros).
        out.resize(full, 0);
        Ok(out)
    }
}

fn codec_of(image: &ImageIfd, url: &str) -> Result<Codec> {
    Codec::from_tiff(image.compression, image.lerc_parameters.as_deref()).ok_or_else(|| {
        Error::unsupported(
            Location::new().source(url).ifd(image.ifd).tag(Tag::Compression),
            format!("compression {} ({})", image.compression, image.compression_name()),
        )
    })
}

/// Pixel-interleaved samples of `N` bytes to one plane per sample, a plane
/// at a time (strided reads, contiguous writes).
fn deinterleave<const N: usize>(src: &[u8], dst: &mut [u8], spp: usize, plane: usize) {
    for (s, out) in dst.chunks_exact_mut(plane).enumerate().take(spp) {
        for (d, px) in out.chunks_exact_mut(N).zip(src.chunks_exact(spp * N)) {
            if let Some(sample) = px.get(s * N..(s + 1) * N) {
                d.copy_from_slice(sample);
            }
        }
    }
}

/// One sample of `value` (or 0 when it does not fit the type) in native bytes.
fn fill_value(dtype: DataType, value: Option<Nodata>) -> Vec<u8> {
    let v = value.unwrap_or(Nodata::Float(0.0));
    macro_rules! go {
        ($t:ty) => {
            <$t>::from_nodata(v).unwrap_or_default().to_ne_bytes().to_vec()
        };
    }
    crate::raster::dispatch!(dtype, go)
}

/// Which samples equal `nd` (NaN matches NaN), compared in the samples'
/// own type: a 64-bit integer nodata is matched exactly.
fn nodata_hits(data: &ArrayData, nd: Nodata) -> Vec<bool> {
    fn hits<T: Sample>(a: Option<&Array3<T>>, nd: Nodata) -> Vec<bool> {
        let Some(a) = a else { return Vec::new() };
        if T::DTYPE.is_float() && nd.is_nan() {
            return a.iter().map(|v| v.to_f64().is_nan()).collect();
        }
        match T::from_nodata(nd) {
            Some(n) => a.iter().map(|&v| v == n).collect(),
            None => vec![false; a.len()],
        }
    }
    macro_rules! go {
        ($t:ty) => {
            hits(<$t>::view(data), nd)
        };
    }
    crate::raster::dispatch!(data.dtype(), go)
}

/// A per-pixel mask repeated for every band.
fn broadcast(invalid: &[bool], bands: usize, rows: usize, cols: usize) -> Array3<bool> {
    let n = rows * cols;
    let mut v = Vec::with_capacity(bands * n);
    for _ in 0..bands {
        v.extend(invalid.iter().copied().chain(std::iter::repeat(true)).take(n));
    }
    Array3::from_shape_vec((bands, rows, cols), v).unwrap_or_else(|_| Array3::from_elem((bands, rows, cols), true))
}
