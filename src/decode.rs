//! One tile, decoded: its fetched chunks become a masked array of the
//! file's type, (bands, block height, block width). CPU-bound and pure (the
//! bytes are already fetched); the reader runs it on the blocking pool.
//!
//! Sparse chunks read as nodata, or 0 when there is none. GDAL's block
//! leader and trailer, when planned, are checked before decoding. The mask
//! follows GDAL's precedence: the internal mask, else nodata (per band, NaN
//! included), else the alpha band (alpha 0 = invalid), else all valid.
//! `true` = invalid, as in numpy.ma.
//!
//! May use: `plan` (the tile plan), `levels`, `codec`, `raster`, `tiff`,
//! `error`.

use std::ops::Range;

use ndarray::{Array2, Array3};

use crate::codec::{ChunkSpec, Codec, decode_chunk, scratch};
use crate::error::{Error, Location, Result};
use crate::levels::Level;
use crate::plan::{ChunkRef, TilePlan};
use crate::raster::{ArrayData, DataType, Mask, MaskSource, MaskedArray, Nodata, Sample};
use crate::tiff::{ByteOrder, ImageIfd, PlanarConfig, RangeBuffers, Tag};

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

impl TilePlan {
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
        let chunk_samples = if img.planar_config == PlanarConfig::Planar {
            1
        } else {
            spp
        };
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
        let mut bands = if spp == 1 && decoded.len() == 1 {
            // One sample per pixel: the decoded chunk is the plane.
            decoded.pop().unwrap_or_default()
        } else {
            let mut bands = vec![0u8; spp * plane];
            if img.planar_config == PlanarConfig::Planar {
                for (out, d) in bands.chunks_exact_mut(plane).zip(&decoded) {
                    if let Some(d) = d.get(..plane) {
                        out.copy_from_slice(d);
                    }
                }
            } else if let Some(d) = decoded.first() {
                match size {
                    1 => deinterleave::<1>(d, &mut bands, spp, plane),
                    2 => deinterleave::<2>(d, &mut bands, spp, plane),
                    4 => deinterleave::<4>(d, &mut bands, spp, plane),
                    _ => deinterleave::<8>(d, &mut bands, spp, plane),
                }
            }
            // The chunks were copied: their buffers serve the next tile.
            decoded.into_iter().for_each(scratch::recycle);
            bands
        };
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
        let shape = (count, bh, bw);
        let mask = match ctx.mask_source {
            // An overview without a mask IFD reads as all valid, as GDAL's
            // GetMaskBand() of such an overview does (bounds reads take the
            // mask from a level that has one; see `read`).
            Some(MaskSource::Internal) if level.mask.is_none() => Mask::valid(shape),
            Some(MaskSource::Internal) => {
                let (Some(m), Some(c)) = (&level.mask, &self.mask) else {
                    return Err(Error::format(
                        Location::new().source(&ctx.url).ifd(img.ifd),
                        "the mask block was not planned",
                    ));
                };
                let mcodec = codec_of(m, &ctx.url)?;
                let bytes = self.decode_chunk(c, m, mcodec, buffers, ctx.mask_jpeg_tables.as_deref(), &[0], ctx)?;
                let mask = per_pixel(bytes.iter().map(|&v| v == 0), shape);
                scratch::recycle(bytes);
                mask
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
                Mask::per_sample(
                    Array3::from_shape_vec(shape, invalid).unwrap_or_else(|_| Array3::from_elem(shape, true)),
                )
            }
            Some(MaskSource::Alpha) => per_pixel(alpha_invalid.unwrap_or_default().into_iter(), shape),
            None => Mask::valid(shape),
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
            format!(
                "compression {} ({})",
                image.compression.code(),
                image.compression_name()
            ),
        )
    })
}

/// Pixel-interleaved samples of `N` bytes to one plane per sample: in one
/// pass for 3 and 4 samples (RGB, RGBA), else a plane at a time (strided
/// reads, contiguous writes).
fn deinterleave<const N: usize>(src: &[u8], dst: &mut [u8], spp: usize, plane: usize) {
    let mut planes = dst.chunks_exact_mut(plane);
    match (spp, planes.next(), planes.next(), planes.next(), planes.next()) {
        (3, Some(a), Some(b), Some(c), _) => {
            let out = a
                .chunks_exact_mut(N)
                .zip(b.chunks_exact_mut(N))
                .zip(c.chunks_exact_mut(N));
            for (px, ((a, b), c)) in src.chunks_exact(3 * N).zip(out) {
                a.copy_from_slice(&px[..N]);
                b.copy_from_slice(&px[N..2 * N]);
                c.copy_from_slice(&px[2 * N..]);
            }
        }
        (4, Some(a), Some(b), Some(c), Some(d)) => {
            let out = (a.chunks_exact_mut(N).zip(b.chunks_exact_mut(N)))
                .zip(c.chunks_exact_mut(N).zip(d.chunks_exact_mut(N)));
            for (px, ((a, b), (c, d))) in src.chunks_exact(4 * N).zip(out) {
                a.copy_from_slice(&px[..N]);
                b.copy_from_slice(&px[N..2 * N]);
                c.copy_from_slice(&px[2 * N..3 * N]);
                d.copy_from_slice(&px[3 * N..]);
            }
        }
        _ => {
            for (s, out) in dst.chunks_exact_mut(plane).enumerate().take(spp) {
                for (d, px) in out.chunks_exact_mut(N).zip(src.chunks_exact(spp * N)) {
                    if let Some(sample) = px.get(s * N..(s + 1) * N) {
                        d.copy_from_slice(sample);
                    }
                }
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

/// A per-pixel mask shared by every band; missing values are invalid.
fn per_pixel(invalid: impl Iterator<Item = bool>, (bands, rows, cols): (usize, usize, usize)) -> Mask {
    let v: Vec<bool> = invalid.chain(std::iter::repeat(true)).take(rows * cols).collect();
    let pixels = Array2::from_shape_vec((rows, cols), v).unwrap_or_else(|_| Array2::from_elem((rows, cols), true));
    Mask::per_pixel(bands, pixels)
}
