//! Window and bounds reads: `read`, `read_with`, `read_window`, `point`,
//! `preview`.
//!
//! A read names an area (map bounds, or a pixel window at a level) and an
//! output shape. Following GDAL's RasterIO:
//!
//! * **Level.** When the output is smaller than the window, the level read
//!   is the most reduced overview whose factor stays below the requested
//!   reduction times the oversampling threshold (1.2 for nearest, 1.0
//!   otherwise); the requested reduction is that of the less reduced axis.
//!   An explicit level overrides.
//! * **Window at that level.** The full-resolution window, in floating
//!   point, divided by the level's factor on each axis.
//! * **Nearest.** Output pixel `i` takes source pixel
//!   `floor((i + 0.5) * size / out + offset + 1e-10)`: the pixel that holds
//!   the output pixel's centre (GDAL's rule, epsilon included).
//! * **Other resampling.** See [`crate::resample`].
//!
//! Only the tiles the sampled pixels fall in are fetched (all in one batch
//! of merged requests through the block cache), decoded in parallel on the
//! blocking pool, and pasted straight into the output. Samples outside the
//! image are filled with nodata (else `Options::fill_value`) and masked; a
//! window entirely outside the image is an error unless the read is
//! boundless.

use std::sync::{Arc, Mutex};

use ndarray::Array3;

use crate::error::{Error, Location, Result};
use crate::geo::{Affine, Bounds};
use crate::profile::MaskSource;
use crate::raster::DataType;
use crate::raster::{ArrayData, MaskedArray, Nodata, Sample};
use crate::reader::CogReader;
use crate::resample::{Axis, Resampling, Taps, axis_taps, output_blocks, relative, resample_band};
use crate::tiff::Limits;

use crate::raster::dispatch;

/// A window in pixels of one level (fractional offsets and sizes allowed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// First column (may be negative or fractional).
    pub col_off: f64,
    /// First row.
    pub row_off: f64,
    /// Columns.
    pub width: f64,
    /// Rows.
    pub height: f64,
}

impl Window {
    /// A whole-pixel window.
    pub fn new(col_off: i64, row_off: i64, width: u64, height: u64) -> Window {
        Window {
            col_off: col_off as f64,
            row_off: row_off as f64,
            width: width as f64,
            height: height as f64,
        }
    }
}

/// What to read.
#[derive(Debug, Clone, PartialEq)]
pub enum Area {
    /// Map bounds in the file's CRS.
    Bounds(Bounds),
    /// A pixel window of the level given by `ReadRequest::level` (default 0).
    Window(Window),
}

/// Called as tiles finish decoding: (tiles done, tiles in the read).
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<dyn Fn(u64, u64) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// A read, with every option (see the module docs).
#[derive(Debug, Clone)]
pub struct ReadRequest {
    /// Bounds or a pixel window.
    pub area: Area,
    /// Output (rows, cols); default: the window's size at the level read.
    pub shape: Option<(usize, usize)>,
    /// 1-based bands to return; default: all data bands.
    pub bands: Option<Vec<usize>>,
    /// Resampling method.
    pub resampling: Resampling,
    /// Level to read (overrides the overview choice for bounds; the window's
    /// level for windows).
    pub level: Option<usize>,
    /// Allow an area entirely outside the image (all filled and masked).
    pub boundless: bool,
    /// Told as tiles decode (for progress bars).
    pub progress: Option<Progress>,
}

impl ReadRequest {
    /// Reads `bounds` with nearest resampling at the natural size.
    pub fn bounds(bounds: Bounds) -> Self {
        Self {
            area: Area::Bounds(bounds),
            shape: None,
            bands: None,
            resampling: Resampling::Nearest,
            level: None,
            boundless: false,
            progress: None,
        }
    }

    /// Reads `window` of level `level`.
    pub fn window(window: Window, level: usize) -> Self {
        Self {
            area: Area::Window(window),
            shape: None,
            bands: None,
            resampling: Resampling::Nearest,
            level: Some(level),
            boundless: false,
            progress: None,
        }
    }

    /// Sets the output (rows, cols).
    pub fn shape(mut self, rows: usize, cols: usize) -> Self {
        self.shape = Some((rows, cols));
        self
    }

    /// Sets the resampling.
    pub fn resampling(mut self, r: Resampling) -> Self {
        self.resampling = r;
        self
    }

    /// Sets the 1-based bands.
    pub fn bands(mut self, bands: Vec<usize>) -> Self {
        self.bands = Some(bands);
        self
    }

    /// Forces the level.
    pub fn level(mut self, z: usize) -> Self {
        self.level = Some(z);
        self
    }

    /// Reports decoding progress to `f(done, total)`.
    pub fn progress(mut self, f: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(Progress(std::sync::Arc::new(f)));
        self
    }

    /// Allows areas outside the image.
    pub fn boundless(mut self, yes: bool) -> Self {
        self.boundless = yes;
        self
    }
}

/// A read's result: the masked array, where it lies, and the level read.
#[derive(Debug, Clone, PartialEq)]
pub struct Raster {
    /// (bands, rows, cols), mask true = invalid.
    pub array: MaskedArray,
    /// Transform of the output pixels.
    pub transform: Affine,
    /// Extent of the output.
    pub bounds: Bounds,
    /// The level the pixels came from.
    pub level: usize,
}

/// GDAL's overview choice (`GDALBandGetBestOverviewLevel2`, GDAL 3.10).
/// `sizes` are the levels' (width, height), full resolution first; `win`
/// is the full-resolution window size and `out` the output (cols, rows).
///
/// Overviews are tried only when an axis is reduced. The asked reduction is
/// that of the less reduced axis, on the window's whole-pixel size. An
/// overview of factor `f` (the smaller of its two axes' factors) qualifies
/// when `f < asked * threshold + 0.1` (threshold 1.2 for nearest, else 1.0);
/// the most reduced qualifying one wins, and the search stops at the first
/// whose factor is within 0.1 of the asked reduction.
pub fn choose_level(sizes: &[(u64, u64)], win: (f64, f64), out: (usize, usize), r: Resampling) -> usize {
    let Some(&(fw, fh)) = sizes.first() else { return 0 };
    // GDAL works on the integer window size, int(max(1, size)).
    let (ww, wh) = (win.0.max(1.0).trunc(), win.1.max(1.0).trunc());
    let (bw, bh) = (out.0.max(1) as f64, out.1.max(1) as f64);
    if !(bw < ww || bh < wh) {
        return 0;
    }
    let desired = if ww / bw < wh / bh || out.1 == 1 {
        ww / bw
    } else {
        wh / bh
    };
    let limit = desired * r.oversampling_threshold() + 0.1;
    let (mut best, mut best_factor) = (0, 0.0);
    for (z, &(w, h)) in sizes.iter().enumerate().skip(1) {
        if w > fw || h > fh || w == 0 || h == 0 {
            continue;
        }
        let factor = (fw as f64 / w as f64).min(fh as f64 / h as f64);
        if factor >= limit || factor <= best_factor {
            continue;
        }
        best = z;
        best_factor = factor;
        if (desired - factor).abs() < 0.1 {
            break;
        }
    }
    best
}

/// Source indices of `out` nearest samples over a window starting at `off`
/// of `size` pixels, as GDAL's RasterIO computes them: the pixel holding
/// each output pixel's centre, `(i + 0.5) * size / out + off + 1e-10`.
/// Along rows GDAL accumulates the position sample by sample
/// (`accumulate`), down columns it computes each directly; the two differ
/// in the last bit, which decides ties. With `clamp` (reads within the
/// image) indices are clamped to `0..clamp`; without it (boundless reads)
/// they may fall outside.
pub fn nearest_indices(out: usize, off: f64, size: f64, clamp: Option<i64>, accumulate: bool) -> Vec<i64> {
    let inc = size / out.max(1) as f64;
    let mut at = 0.5 * inc + off + 1e-10;
    let mut v = Vec::with_capacity(out);
    for i in 0..out {
        if !accumulate {
            at = (i as f64 + 0.5) * inc + off + 1e-10;
        }
        let x = at.floor() as i64;
        v.push(clamp.map_or(x, |n| x.clamp(0, (n - 1).max(0))));
        at += inc;
    }
    v
}

/// rasterio's `Window.crop`: the part of `w` inside a `width` x `height`
/// image (a non-boundless read is stretched from it into the output shape).
fn crop(w: Window, width: f64, height: f64) -> Window {
    let (c0, r0) = (w.col_off.max(0.0).min(width), w.row_off.max(0.0).min(height));
    let (c1, r1) = (
        (w.col_off + w.width).min(width).max(0.0),
        (w.row_off + w.height).min(height).max(0.0),
    );
    Window {
        col_off: c0,
        row_off: r0,
        width: (c1 - c0).max(0.0),
        height: (r1 - r0).max(0.0),
    }
}

impl CogReader {
    /// Reads `bounds` (in the file's CRS) into `shape` (rows, cols) with
    /// nearest resampling at the level GDAL would choose.
    pub async fn read(&self, bounds: Bounds, shape: (usize, usize)) -> Result<Raster> {
        self.read_with(ReadRequest::bounds(bounds).shape(shape.0, shape.1))
            .await
    }

    /// Reads pixel `window` of level `level` at its own size.
    pub async fn read_window(&self, window: Window, level: usize) -> Result<MaskedArray> {
        Ok(self.read_with(ReadRequest::window(window, level)).await?.array)
    }

    /// Values of every band at map coordinate (x, y), shape (bands, 1, 1).
    pub async fn point(&self, x: f64, y: f64) -> Result<MaskedArray> {
        finite("point", &[x, y])?;
        let t = self.profile().transform;
        let det = t.a * t.e - t.b * t.d;
        if det == 0.0 {
            return Err(Error::InvalidRequest {
                message: "the transform cannot be inverted".into(),
            });
        }
        let (dx, dy) = (x - t.c, y - t.f);
        let col = ((t.e * dx - t.b * dy) / det).floor();
        let row = ((-t.d * dx + t.a * dy) / det).floor();
        let p = self.profile();
        if col < 0.0 || row < 0.0 || col >= p.width as f64 || row >= p.height as f64 {
            return Err(Error::InvalidRequest {
                message: format!(
                    "({x}, {y}) is outside the image (pixel {col}, {row} of {}x{})",
                    p.width, p.height
                ),
            });
        }
        self.read_window(
            Window {
                col_off: col,
                row_off: row,
                width: 1.0,
                height: 1.0,
            },
            0,
        )
        .await
    }

    /// The whole image at the coarsest level that is at least `max_size`
    /// pixels on its long side (full resolution if none is).
    pub async fn preview(&self, max_size: u64) -> Result<Raster> {
        let z = self
            .levels()
            .iter()
            .rposition(|l| l.width().max(l.height()) >= max_size)
            .unwrap_or(0);
        let l = self.level(z)?;
        self.read_with(ReadRequest::window(Window::new(0, 0, l.width(), l.height()), z))
            .await
    }

    /// The general read (see [`ReadRequest`] and the module docs).
    pub async fn read_with(&self, req: ReadRequest) -> Result<Raster> {
        let p = self.profile();
        let sizes: Vec<(u64, u64)> = self.levels().iter().map(|l| (l.width(), l.height())).collect();
        let (fw, fh) = (p.width as f64, p.height as f64);
        match &req.area {
            Area::Bounds(b) => finite("bounds", &[b.minx, b.miny, b.maxx, b.maxy])?,
            Area::Window(w) => {
                finite("window", &[w.col_off, w.row_off, w.width, w.height])?;
                if !(w.width > 0.0 && w.height > 0.0) {
                    return Err(Error::InvalidRequest {
                        message: format!("empty window {w:?}"),
                    });
                }
            }
        }
        // The window in full-resolution pixels; a read within the image
        // takes only the part of the area inside it, as rasterio does.
        let full = match &req.area {
            Area::Bounds(b) => {
                let w = bounds_window(&p.transform, b)?;
                if req.boundless { w } else { crop(w, fw, fh) }
            }
            Area::Window(w) => {
                let z = req.level.unwrap_or(0);
                let level = self.level(z)?;
                let (lw, lh) = (level.width() as f64, level.height() as f64);
                let w = if req.boundless { *w } else { crop(*w, lw, lh) };
                let (fx, fy) = (fw / lw, fh / lh);
                Window {
                    col_off: w.col_off * fx,
                    row_off: w.row_off * fy,
                    width: w.width * fx,
                    height: w.height * fy,
                }
            }
        };
        // Beyond 2^53 pixels coordinates lose whole pixels (and integer
        // window arithmetic would overflow): no image is that large.
        let full_ok = [full.col_off, full.row_off, full.width, full.height]
            .iter()
            .all(|v| v.is_finite() && v.abs() < 9.0e15);
        if !(full_ok && full.width >= 0.0 && full.height >= 0.0) {
            return Err(Error::InvalidRequest {
                message: format!("empty area: {full:?}"),
            });
        }
        let outside = full.col_off >= fw
            || full.row_off >= fh
            || full.col_off + full.width <= 0.0
            || full.row_off + full.height <= 0.0
            || full.width <= 0.0
            || full.height <= 0.0;
        if outside && !req.boundless {
            return Err(Error::InvalidRequest {
                message: format!(
                    "the area lies entirely outside the {}x{} image (ask for a boundless read)",
                    p.width, p.height
                ),
            });
        }
        let z = match (&req.area, req.level) {
            (_, Some(z)) => z,
            (Area::Bounds(_), None) => {
                let (rows, cols) = req
                    .shape
                    .unwrap_or((full.height.round() as usize, full.width.round() as usize));
                choose_level(&sizes, (full.width, full.height), (cols, rows), req.resampling)
            }
            (Area::Window(_), None) => 0,
        };
        let level = self.level(z)?.clone();
        let (lw, lh) = (level.width() as f64, level.height() as f64);
        let (fx, fy) = (fw / lw, fh / lh);
        let win = Window {
            col_off: full.col_off / fx,
            row_off: full.row_off / fy,
            width: full.width / fx,
            height: full.height / fy,
        };
        let (rows, cols) = req.shape.unwrap_or((
            win.height.round().max(1.0) as usize,
            win.width.round().max(1.0) as usize,
        ));
        if rows == 0 || cols == 0 {
            return Err(Error::InvalidRequest {
                message: "the output shape has no pixels".into(),
            });
        }
        let count = p.count;
        let bands: Vec<usize> = match &req.bands {
            Some(b) => {
                if b.is_empty() {
                    return Err(Error::InvalidRequest {
                        message: "no bands asked for".into(),
                    });
                }
                if let Some(bad) = b.iter().find(|&&i| i == 0 || i > count) {
                    return Err(Error::InvalidRequest {
                        message: format!("band {bad} does not exist: bands are 1..={count}"),
                    });
                }
                b.iter().map(|i| i - 1).collect()
            }
            None => (0..count).collect(),
        };
        // Refused before any buffer is sized: the output (rows x cols x bands
        // x sample size), the mask beside it, the nearest index vectors, and
        // for kernels the f64 values and validity each output passes through.
        let per_sample = p.dtype.size() as u64 + 1 + if req.resampling == Resampling::Nearest { 0 } else { 9 };
        let out_bytes = (rows as u64)
            .checked_mul(cols as u64)
            .and_then(|n| n.checked_mul(bands.len() as u64))
            .and_then(|n| n.checked_mul(per_sample))
            .and_then(|n| n.checked_add((rows as u64).checked_add(cols as u64)?.checked_mul(8)?));
        Limits::check(
            "max_read_bytes",
            out_bytes,
            self.options().limits().max_read_bytes,
            Location::new().source(self.url()),
        )?;
        let fill = p.nodata.unwrap_or(Nodata::Float(self.options().fill_value()));
        let explicit = req.level.is_some() || matches!(req.area, Area::Window(_));
        let sampling = Sampling {
            z,
            int_off: int_offset(&full, &win, explicit, (fx, fy), (lw, lh)),
            boundless: req.boundless,
            bands: &bands,
            fill,
            progress: req.progress.as_ref(),
        };
        let mut array = self.sample(&sampling, req.resampling, &win, (rows, cols)).await?;
        // An overview chosen for bounds but stored without a mask takes its
        // mask from the best level that has one, as GDAL's full-resolution
        // mask band does through its own overview list.
        let has_mask = |l: &crate::Level| l.mask.is_some();
        if p.mask == Some(crate::MaskSource::Internal) && req.level.is_none() && !has_mask(&level) {
            let masked: Vec<usize> = (0..self.levels().len())
                .filter(|&i| self.levels().get(i).is_some_and(has_mask))
                .collect();
            let msizes: Vec<(u64, u64)> = masked.iter().filter_map(|&i| sizes.get(i).copied()).collect();
            let pick = choose_level(&msizes, (full.width, full.height), (cols, rows), req.resampling);
            if let Some(&zm) = masked.get(pick) {
                let ml = self.level(zm)?;
                let (mx, my) = (fw / ml.width() as f64, fh / ml.height() as f64);
                let mwin = Window {
                    col_off: full.col_off / mx,
                    row_off: full.row_off / my,
                    width: full.width / mx,
                    height: full.height / my,
                };
                let (mlw, mlh) = (ml.width() as f64, ml.height() as f64);
                let at_mask = Sampling {
                    z: zm,
                    int_off: int_offset(&full, &mwin, false, (mx, my), (mlw, mlh)),
                    ..sampling
                };
                array.mask = self.sample(&at_mask, req.resampling, &mwin, (rows, cols)).await?.mask;
            }
        }
        let level_t = scale(&p.transform, fx, fy);
        let transform = Affine {
            a: level_t.a * win.width / cols as f64,
            b: level_t.b * win.height / rows as f64,
            c: level_t.c + level_t.a * win.col_off + level_t.b * win.row_off,
            d: level_t.d * win.width / cols as f64,
            e: level_t.e * win.height / rows as f64,
            f: level_t.f + level_t.d * win.col_off + level_t.e * win.row_off,
        };
        Ok(Raster {
            bounds: transform.bounds(cols as u64, rows as u64),
            transform,
            array,
            level: z,
        })
    }

    /// `win` of level `s.z` resampled to (rows, cols).
    async fn sample(
        &self,
        s: &Sampling<'_>,
        r: Resampling,
        win: &Window,
        (rows, cols): (usize, usize),
    ) -> Result<MaskedArray> {
        match r {
            Resampling::Nearest => {
                let level = self.level(s.z)?;
                let (w, h) = (level.width() as i64, level.height() as i64);
                let (cw, ch) = if s.boundless { (None, None) } else { (Some(w), Some(h)) };
                let xs = nearest_indices(cols, win.col_off, win.width, cw, true);
                let ys = nearest_indices(rows, win.row_off, win.height, ch, false);
                self.sample_nearest(s, &xs, &ys).await
            }
            r => self.sample_kernel(s, r, win, (rows, cols)).await,
        }
    }

    /// The tiles of level `z` holding the given source pixels.
    fn tile_keys(&self, z: usize, cols: &[i64], rows: &[i64]) -> Result<Vec<(u64, u64)>> {
        let level = self.level(z)?;
        let (bw, bh) = (level.image.block_width as i64, level.image.block_height as i64);
        let (w, h) = (level.width() as i64, level.height() as i64);
        let mut txs: Vec<u64> = cols
            .iter()
            .filter(|&&x| x >= 0 && x < w)
            .map(|&x| (x / bw) as u64)
            .collect();
        let mut tys: Vec<u64> = rows
            .iter()
            .filter(|&&y| y >= 0 && y < h)
            .map(|&y| (y / bh) as u64)
            .collect();
        txs.sort_unstable();
        txs.dedup();
        tys.sort_unstable();
        tys.dedup();
        Ok(tys.iter().flat_map(|&y| txs.iter().map(move |&x| (x, y))).collect())
    }

    async fn sample_nearest(&self, s: &Sampling<'_>, xs: &[i64], ys: &[i64]) -> Result<MaskedArray> {
        let level = self.level(s.z)?;
        let geom = Geometry {
            bw: level.image.block_width as i64,
            bh: level.image.block_height as i64,
            w: level.width() as i64,
            h: level.height() as i64,
        };
        let keys = self.tile_keys(s.z, xs, ys)?;
        let plan = Arc::new(PastePlan::new(&geom, xs, ys, s.bands));
        let shape = (s.bands.len(), ys.len(), xs.len());
        let n = shape.0 * shape.1 * shape.2;
        let progress = s.progress.map(|p| p.0.clone());
        let dtype = self.profile().dtype;
        // Each tile is pasted by the task that decoded it, in parallel with
        // the decoding of the others.
        macro_rules! go {
            ($t:ty) => {{
                let fill = <$t>::from_nodata(s.fill).unwrap_or_else(|| <$t>::from_f64(s.fill.as_f64()));
                let out = Arc::new(Mutex::new((vec![fill; n], vec![true; n])));
                let (p, o) = (plan.clone(), out.clone());
                let sink = Arc::new(move |tx: u64, ty: u64, tile: MaskedArray| -> Result<()> {
                    let mut g = o.lock().unwrap_or_else(|e| e.into_inner());
                    let (data, mask) = &mut *g;
                    p.paste::<$t>(tx, ty, &tile, data, mask);
                    Ok(())
                });
                self.for_each_tile(&keys, s.z, progress, sink).await?;
                let (data, mask) = std::mem::take(&mut *out.lock().unwrap_or_else(|e| e.into_inner()));
                (
                    ArrayData::from(Array3::from_shape_vec(shape, data).map_err(|e| Error::Internal(e.to_string()))?),
                    Array3::from_shape_vec(shape, mask).map_err(|e| Error::Internal(e.to_string()))?,
                )
            }};
        }
        let (data, mask) = dispatch!(dtype, go);
        Ok(MaskedArray { data, mask })
    }

    async fn sample_kernel(
        &self,
        s: &Sampling<'_>,
        r: Resampling,
        win: &Window,
        (rows, cols): (usize, usize),
    ) -> Result<MaskedArray> {
        let p = self.profile();
        let level = self.level(s.z)?;
        let (w, h) = (level.width() as i64, level.height() as i64);
        let x = Axis {
            off: win.col_off,
            size: win.width,
            int_off: s.int_off.0,
            out: cols,
            len: w,
        };
        let y = Axis {
            off: win.row_off,
            size: win.height,
            int_off: s.int_off.1,
            out: rows,
            len: h,
        };
        let (rx, ry) = (win.width / cols as f64, win.height / rows as f64);
        // GDAL resamples several bands at once (`GDALDataset::RasterIOResampled`)
        // for bilinear and cubic when no band has an overview to use and the
        // mask is not nodata: margins from the larger ratio, and outputs
        // without valid input are 0, never nodata.
        let reduced = (cols as f64) < win.width.max(1.0).trunc() || (rows as f64) < win.height.max(1.0).trunc();
        let dataset_level = s.bands.len() >= 2
            && matches!(r, Resampling::Bilinear | Resampling::Cubic)
            && p.mask != Some(MaskSource::Nodata)
            && !(s.z == 0 && self.levels().len() > 1 && reduced);
        let (mut fx, mut fy) = (((0.5 + rx) as i64).max(1), ((0.5 + ry) as i64).max(1));
        if dataset_level {
            (fx, fy) = (fx.max(fy), fx.max(fy));
        }
        let (bx, by) = output_blocks(&x, &y, level.image.block_width as i64);
        let (xt, yt) = (axis_taps(r, &x, bx, fx), axis_taps(r, &y, by, fy));
        let span = |t: &[Taps]| {
            let used = t.iter().filter(|t| !t.weights.is_empty());
            let lo = used.clone().map(|t| t.start).min().unwrap_or(0);
            let hi = used.map(|t| t.start + t.weights.len()).max().unwrap_or(lo);
            (lo, hi)
        };
        let ((x0, x1), (y0, y1)) = (span(&xt), span(&yt));
        let (sw, sh) = (x1 - x0, y1 - y0);
        // The source span is held as f64 and validity while the kernel runs,
        // and the horizontal pass holds source rows x output columns.
        let span = (sw as u64)
            .checked_mul(sh as u64)
            .and_then(|n| n.checked_mul(s.bands.len() as u64));
        let pass = (sh as u64).checked_mul(cols as u64).and_then(|n| n.checked_mul(2));
        Limits::check(
            "max_read_bytes",
            span.zip(pass).and_then(|(a, b)| a.checked_add(b)?.checked_mul(9)),
            self.options().limits().max_read_bytes,
            Location::new().source(self.url()),
        )?;
        let nb = s.bands.len();
        let nodata = if dataset_level {
            None
        } else {
            p.nodata.map(Nodata::as_f64)
        };
        let invalid_value = nodata.unwrap_or(0.0);
        let dtype = p.dtype;
        let kernel = KernelJob {
            r,
            mask: p.mask,
            nodata,
            invalid_value,
            fill: s.fill.as_f64(),
            nbits_max: (r == Resampling::Cubic && usize::from(level.image.bits_per_sample) < dtype.size() * 8)
                .then(|| 2f64.powi(i32::from(level.image.bits_per_sample)) - 1.0),
            dtype,
            xt: relative(&xt, x0),
            yt: relative(&yt, y0),
            sw,
            win: *win,
            size: (w, h),
            out: (rows, cols),
            boundless: s.boundless,
        };
        let shape = (nb, rows, cols);
        if sw == 0 || sh == 0 {
            let fill = vec![s.fill.as_f64(); nb * rows * cols];
            return typed(dtype, shape, &fill, vec![true; nb * rows * cols]);
        }
        let src_cols: Vec<i64> = (x0 as i64..x1 as i64).collect();
        let src_rows: Vec<i64> = (y0 as i64..y1 as i64).collect();
        let src = self.sample_nearest(s, &src_cols, &src_rows).await?;
        // The kernel and the conversion to the output type are CPU work:
        // off the async runtime.
        tokio::task::spawn_blocking(move || {
            let (data_out, mask_out) = kernel.run(&src, nb);
            typed(dtype, shape, &data_out, mask_out)
        })
        .await
        .map_err(|e| Error::Internal(format!("resampling task failed: {e}")))?
    }
}

/// f64 values and a mask as a masked array of `dtype` (rounded and
/// saturated as GDAL stores resampled values).
fn typed(dtype: DataType, shape: (usize, usize, usize), values: &[f64], mask: Vec<bool>) -> Result<MaskedArray> {
    macro_rules! go {
        ($t:ty) => {{
            let v: Vec<$t> = values.iter().map(|&x| <$t>::from_f64(x)).collect();
            ArrayData::from(Array3::from_shape_vec(shape, v).map_err(|e| Error::Internal(e.to_string()))?)
        }};
    }
    let data = dispatch!(dtype, go);
    let mask = Array3::from_shape_vec(shape, mask).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(MaskedArray { data, mask })
}

/// A kernel read's CPU part: every band of the source span resampled,
/// with GDAL's values and rasterio's mask.
struct KernelJob {
    r: Resampling,
    mask: Option<MaskSource>,
    /// Band-level nodata (valid outputs equal to it are replaced).
    nodata: Option<f64>,
    /// What outputs without valid input hold.
    invalid_value: f64,
    /// What a boundless read's outputs outside the level hold.
    fill: f64,
    /// GDAL clamps cubic results of NBITS bands to `2^NBITS - 1`.
    nbits_max: Option<f64>,
    dtype: DataType,
    xt: Vec<Taps>,
    yt: Vec<Taps>,
    sw: usize,
    win: Window,
    size: (i64, i64),
    out: (usize, usize),
    boundless: bool,
}

impl KernelJob {
    /// Values (in f64, rounded through float32 where GDAL works in it) and
    /// the mask, band after band. The mask is rasterio's: all valid without
    /// a mask source; for nodata, valid where the kernel found valid input;
    /// for an internal mask or alpha, the mask itself resampled (0 or 255)
    /// and valid from 0.5 up.
    fn run(&self, src: &MaskedArray, nb: usize) -> (Vec<f64>, Vec<bool>) {
        let values = src.data.to_f64_vec();
        let valid: Vec<bool> = src.mask.iter().map(|m| !m).collect();
        let (rows, cols) = self.out;
        let plane = values.len() / nb.max(1);
        let float32_work = matches!(
            self.dtype,
            DataType::UInt8 | DataType::UInt16 | DataType::Int8 | DataType::Int16 | DataType::Float32
        );
        let mut data_out = Vec::with_capacity(nb * rows * cols);
        let mut mask_out = Vec::with_capacity(nb * rows * cols);
        for b in 0..nb {
            let (Some(vals), Some(ok_in)) = (
                values.get(b * plane..(b + 1) * plane),
                valid.get(b * plane..(b + 1) * plane),
            ) else {
                continue;
            };
            let data_valid = self.mask.map(|_| ok_in);
            let (v, ok) = resample_band(self.r, vals, data_valid, self.sw, &self.xt, &self.yt);
            let mask_ok: Vec<bool> = match self.mask {
                None => vec![true; v.len()],
                Some(MaskSource::Nodata) => ok.clone(),
                Some(_) => {
                    let m: Vec<f64> = ok_in.iter().map(|&o| if o { 255.0 } else { 0.0 }).collect();
                    let (mv, _) = resample_band(self.r, &m, None, self.sw, &self.xt, &self.yt);
                    mv.iter().map(|&x| (x as f32) >= 0.5).collect()
                }
            };
            for (i, ((val, good), keep)) in v.into_iter().zip(ok).zip(mask_ok).enumerate() {
                let mut value = if good { val } else { self.invalid_value };
                if let (true, Some(max)) = (good, self.nbits_max) {
                    value = value.min(max);
                }
                if float32_work {
                    value = f64::from(value as f32);
                }
                if good && let Some(nd) = self.nodata {
                    value = replace_nodata(self.dtype, value, nd);
                }
                // A boundless read's outputs centred outside the level stay invalid.
                let (oc, or) = ((i % cols) as f64 + 0.5, (i / cols) as f64 + 0.5);
                let (cx, cy) = (
                    self.win.col_off + oc * self.win.width / cols as f64,
                    self.win.row_off + or * self.win.height / rows as f64,
                );
                let inside = cx >= 0.0 && cy >= 0.0 && cx < self.size.0 as f64 && cy < self.size.1 as f64;
                let keep = keep && (!self.boundless || inside);
                data_out.push(if keep || !self.boundless { value } else { self.fill });
                mask_out.push(!keep);
            }
        }
        (data_out, mask_out)
    }
}

/// GDAL's `replaceValIfNodata`: a valid output that would store as the
/// nodata value is stored as the next value instead (nodata + 1, or - 1 at
/// the type's maximum; the next float towards +max for floats).
fn replace_nodata(dtype: DataType, value: f64, nd: f64) -> f64 {
    if dtype.is_float() {
        let stored = if dtype == DataType::Float32 {
            f64::from(value as f32)
        } else {
            value
        };
        if stored != nd {
            return value;
        }
        return match dtype {
            DataType::Float32 => {
                let n = nd as f32;
                f64::from(if n == f32::MAX { n.next_down() } else { n.next_up() })
            }
            _ => {
                if nd == f64::MAX {
                    nd.next_down()
                } else {
                    nd.next_up()
                }
            }
        };
    }
    let rounded = if value >= 0.0 {
        (value + 0.5).trunc()
    } else {
        (value - 0.5).trunc()
    };
    if rounded != nd {
        return value;
    }
    let max = match dtype {
        DataType::UInt8 => f64::from(u8::MAX),
        DataType::Int8 => f64::from(i8::MAX),
        DataType::UInt16 => f64::from(u16::MAX),
        DataType::Int16 => f64::from(i16::MAX),
        DataType::UInt32 => f64::from(u32::MAX),
        DataType::Int32 => f64::from(i32::MAX),
        _ => f64::MAX,
    };
    if nd == max { nd - 1.0 } else { nd + 1.0 }
}

/// What both samplers need: the level, the bands, the fill value, progress.
#[derive(Clone, Copy)]
struct Sampling<'a> {
    z: usize,
    /// GDAL's integer window offset (columns, rows) at the level.
    int_off: (i64, i64),
    /// Samples outside the level stay outside (filled, masked) rather than
    /// being clamped to its edge.
    boundless: bool,
    bands: &'a [usize],
    fill: Nodata,
    progress: Option<&'a Progress>,
}

/// Block and level sizes of the level sampled.
struct Geometry {
    bw: i64,
    bh: i64,
    w: i64,
    h: i64,
}

/// A run of output columns that read consecutive pixels of one tile column.
struct Run {
    /// First output column.
    c0: usize,
    /// Columns in the run.
    len: usize,
    /// Index into the distinct tile columns.
    txi: usize,
    /// First pixel column inside the tile.
    ix0: usize,
}

/// Where each tile's pixels go in the output: runs of output columns that
/// read consecutive pixels of one tile column, and each output row's tile
/// row. Pasting copies runs as slices (a 1:1 read is a memcpy per tile row).
struct PastePlan {
    txs: Vec<u64>,
    runs: Vec<Run>,
    rows: Vec<Option<(u64, usize)>>,
    cols: usize,
    bands: Vec<usize>,
}

impl PastePlan {
    fn new(g: &Geometry, xs: &[i64], ys: &[i64], bands: &[usize]) -> PastePlan {
        let mut txs: Vec<u64> = Vec::new();
        let mut runs: Vec<Run> = Vec::new();
        for (c, &x) in xs.iter().enumerate() {
            if x < 0 || x >= g.w {
                continue;
            }
            let (tx, ix) = ((x / g.bw) as u64, (x % g.bw) as usize);
            let txi = match txs.iter().position(|&t| t == tx) {
                Some(i) => i,
                None => {
                    txs.push(tx);
                    txs.len() - 1
                }
            };
            match runs.last_mut() {
                Some(r) if r.txi == txi && r.c0 + r.len == c && r.ix0 + r.len == ix => r.len += 1,
                _ => runs.push(Run {
                    c0: c,
                    len: 1,
                    txi,
                    ix0: ix,
                }),
            }
        }
        let rows = ys
            .iter()
            .map(|&y| (y >= 0 && y < g.h).then(|| ((y / g.bh) as u64, (y % g.bh) as usize)))
            .collect();
        PastePlan {
            txs,
            runs,
            rows,
            cols: xs.len(),
            bands: bands.to_vec(),
        }
    }

    /// Copies tile (tx, ty)'s samples and mask into the output.
    fn paste<T: Sample>(&self, tx: u64, ty: u64, tile: &MaskedArray, data: &mut [T], mask: &mut [bool]) {
        let Some(txi) = self.txs.iter().position(|&t| t == tx) else {
            return;
        };
        let (Some(src), Some(msrc)) = (T::view(&tile.data).and_then(|a| a.as_slice()), tile.mask.as_slice()) else {
            return;
        };
        let (tb, th, tw) = tile.shape();
        let nrows = self.rows.len();
        for (r, row) in self.rows.iter().enumerate() {
            let Some((rty, iy)) = *row else { continue };
            if rty != ty {
                continue;
            }
            for run in self.runs.iter().filter(|run| run.txi == txi) {
                for (o, &b) in self.bands.iter().enumerate() {
                    if b >= tb {
                        continue;
                    }
                    let s0 = (b * th + iy) * tw + run.ix0;
                    let d0 = (o * nrows + r) * self.cols + run.c0;
                    let (Some(s), Some(m)) = (src.get(s0..s0 + run.len), msrc.get(s0..s0 + run.len)) else {
                        continue;
                    };
                    if let Some(d) = data.get_mut(d0..d0 + run.len) {
                        d.copy_from_slice(s);
                    }
                    if let Some(d) = mask.get_mut(d0..d0 + run.len) {
                        d.copy_from_slice(m);
                    }
                }
            }
        }
    }
}

/// GDAL's integer window offset at the level read: `int()` of the window's
/// offset at full resolution or at an explicitly opened level; at an
/// overview chosen for bounds, the full-resolution integer offset divided by
/// the level's factor and rounded (`GDALBandGetBestOverviewLevel2`), which
/// may lie after the floating-point offset.
fn int_offset(full: &Window, win: &Window, explicit: bool, (fx, fy): (f64, f64), (lw, lh): (f64, f64)) -> (i64, i64) {
    if explicit || (fx == 1.0 && fy == 1.0) {
        return (win.col_off.trunc() as i64, win.row_off.trunc() as i64);
    }
    let (nx, ny) = (full.col_off.trunc(), full.row_off.trunc());
    (
        ((nx / fx + 0.5).trunc().min(lw - 1.0)) as i64,
        ((ny / fy + 0.5).trunc().min(lh - 1.0)) as i64,
    )
}

/// Refuses NaN and infinite coordinates: they would select pixel (0, 0)
/// or make a NaN transform.
fn finite(what: &str, values: &[f64]) -> Result<()> {
    if values.iter().all(|v| v.is_finite()) {
        return Ok(());
    }
    Err(Error::InvalidRequest {
        message: format!("the {what} {values:?} is not finite"),
    })
}

/// The full-resolution pixel window of `b` (the transform must be north-up
/// or otherwise free of rotation).
fn bounds_window(t: &Affine, b: &Bounds) -> Result<Window> {
    if !t.is_rectilinear() {
        return Err(Error::unsupported(
            Location::new(),
            "bounds reads of rotated images (use a pixel window)",
        ));
    }
    if !(b.maxx > b.minx && b.maxy > b.miny) {
        return Err(Error::InvalidRequest {
            message: format!("empty bounds {b:?}"),
        });
    }
    // rasterio's `from_bounds`: the four corners through the inverse
    // transform as the affine package computes it (same operations, same
    // rounding: the last bit decides which pixel a boundary falls in).
    let idet = 1.0 / (t.a * t.e - t.b * t.d);
    let (ra, rb, rd, re) = (t.e * idet, -t.b * idet, -t.d * idet, t.a * idet);
    let (rc, rf) = (-t.c * ra - t.f * rb, -t.c * rd - t.f * re);
    let corners = [(b.minx, b.maxy), (b.maxx, b.maxy), (b.maxx, b.miny), (b.minx, b.miny)];
    let cols = corners.map(|(x, y)| ra * x + rb * y + rc);
    let rows = corners.map(|(x, y)| rd * x + re * y + rf);
    let (c0, c1) = (
        cols.iter().copied().fold(f64::MAX, f64::min),
        cols.iter().copied().fold(f64::MIN, f64::max),
    );
    let (r0, r1) = (
        rows.iter().copied().fold(f64::MAX, f64::min),
        rows.iter().copied().fold(f64::MIN, f64::max),
    );
    Ok(Window {
        col_off: c0,
        row_off: r0,
        width: c1 - c0,
        height: r1 - r0,
    })
}

/// The transform of a level whose pixels are `fx` x `fy` full-resolution pixels.
fn scale(t: &Affine, fx: f64, fy: f64) -> Affine {
    Affine {
        a: t.a * fx,
        b: t.b * fy,
        c: t.c,
        d: t.d * fx,
        e: t.e * fy,
        f: t.f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_choice_follows_gdal_thresholds() {
        // GDAL 3.10: an overview of factor f qualifies when f < asked * 1.2 + 0.1
        // (nearest) or f < asked + 0.1 (other resampling).
        let sizes = [(1000, 1000), (500, 500), (250, 250), (125, 125)];
        let pick = |out: (usize, usize), r| choose_level(&sizes, (1000.0, 1000.0), out, r);
        assert_eq!(pick((1000, 1000), Resampling::Nearest), 0, "no reduction");
        // Asked 1.923: 2 < 1.923 + 0.1 for bilinear too (the 1.01 factor once refused it).
        assert_eq!(pick((520, 520), Resampling::Bilinear), 1);
        // Asked 1.802: 2 >= 1.902 for bilinear, but 2 < 2.262 for nearest.
        assert_eq!(pick((555, 555), Resampling::Bilinear), 0);
        assert_eq!(pick((555, 555), Resampling::Nearest), 1);
        // Asked 4: factor 4 is within 0.1, the search stops there.
        assert_eq!(pick((250, 250), Resampling::Average), 2);
        // The less reduced axis decides.
        assert_eq!(pick((100, 500), Resampling::Nearest), 1);
        // Overview sizes GDAL rounded down: 1001 px over a 500 px overview is
        // factor 2.002, taken at a reduction of 1.641 with nearest.
        assert_eq!(
            choose_level(
                &[(1001, 1001), (500, 500)],
                (1001.0, 1001.0),
                (610, 610),
                Resampling::Nearest
            ),
            1
        );
    }

    #[test]
    fn nearest_indices_take_the_pixel_holding_the_centre() {
        assert_eq!(nearest_indices(4, 0.0, 4.0, None, true), [0, 1, 2, 3]);
        assert_eq!(nearest_indices(2, 0.0, 4.0, None, false), [1, 3]);
        assert_eq!(nearest_indices(3, 10.5, 3.0, None, true), [11, 12, 13]);
        assert_eq!(
            nearest_indices(2, -2.0, 4.0, None, true),
            [-1, 1],
            "outside stays outside"
        );
        assert_eq!(
            nearest_indices(2, -2.0, 4.0, Some(4), true),
            [0, 1],
            "clamped inside the image"
        );
    }
}
