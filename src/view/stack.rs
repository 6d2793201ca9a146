//! [`CogStack`]: many COGs on one grid as one lazy (T, C, H, W) reader, or
//! (T*C, H, W) unstacked: georeader's `RasterioReader` over a list of
//! paths. Opening opens every file concurrently (one request each for a
//! normal COG) and checks that they can be stacked; views narrow all files
//! at once; `load()` reads every file's part concurrently, all requests
//! through one shared budget and one shared pair of caches.
//!
//! May use: `reader`, `request`, `options`, `source`, `geo`, `raster`,
//! `error`.

use std::ops::Range;
use std::sync::Arc;

use futures::future::try_join_all;
use ndarray::{Array3, ArrayView4, Axis as NdAxis};

use crate::error::{Error, Result};
use crate::geo::{Affine, Bounds, Crs, Window};
use crate::options::Options;
use crate::raster::{ArrayData, DataType, Mask, MaskedArray, Nodata, Sample, dispatch};
use crate::reader::CogReader;
use crate::request::{Placement, Raster, ReadRequest};

use super::focus::{Axis, Focus, invalid};

/// How [`CogStack::open`] stacks files.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StackOptions {
    /// (T, C, H, W) when true (the default); (T*C, H, W) when false.
    pub stack: bool,
    /// Files may differ in size and origin (on one grid: same CRS and pixel
    /// size, origins a whole number of pixels apart); reads cover the
    /// union of their extents and pad each file. Default: false, sizes and
    /// transforms must be equal.
    pub allow_different_shapes: bool,
    /// Options for every file. A block or tile cache of the reader's own
    /// becomes one cache of that size shared by all files, and the
    /// concurrency bound one budget for all files.
    pub options: Options,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            stack: true,
            allow_different_shapes: false,
            options: Options::default(),
        }
    }
}

impl StackOptions {
    /// Defaults: stacked (T, C, H, W), equal shapes required, default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// (T, C, H, W) when `yes`, else (T*C, H, W).
    pub fn stack(mut self, yes: bool) -> Self {
        self.stack = yes;
        self
    }

    /// Lets files differ in size and origin on one grid.
    pub fn allow_different_shapes(mut self, yes: bool) -> Self {
        self.allow_different_shapes = yes;
        self
    }

    /// Options for every file.
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }
}

/// One file of a stack and where its full-resolution origin lies in the
/// stack's grid (whole pixels).
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub reader: CogReader,
    pub offset: (i64, i64),
}

/// The stack's grid at full resolution: the union of its files' extents.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Grid {
    pub transform: Affine,
    pub width: u64,
    pub height: u64,
}

/// Many COGs on one grid, read as one lazy (T, C, H, W) or (T*C, H, W)
/// array. Cheap to clone; every view method returns a new value without
/// I/O, and [`CogStack::load`] reads.
#[derive(Debug, Clone)]
pub struct CogStack {
    pub(crate) members: Arc<[Member]>,
    pub(crate) grid: Grid,
    /// The files selected (indices into `members`), in output order.
    pub(crate) times: Vec<usize>,
    pub(crate) focus: Focus,
    pub(crate) stacked: bool,
    pub(crate) allow_different_shapes: bool,
    pub(crate) fill: Option<f64>,
}

/// What [`CogStack::load`] returns: the pixels as one (T*C, H, W)
/// [`Raster`] (file by file, each file's bands in order), which is also
/// the memory layout of (T, C, H, W).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StackRaster {
    /// (T*C, H, W), mask `true` = invalid.
    pub raster: Raster,
    /// T: files read.
    pub times: usize,
    /// C: bands per file.
    pub bands: usize,
    /// Whether the stack reports (T, C, H, W) (else (T*C, H, W)).
    pub stacked: bool,
}

impl StackRaster {
    /// (T, C, H, W), or (T*C, H, W) for an unstacked stack.
    pub fn shape(&self) -> Vec<usize> {
        let (_, h, w) = self.raster.shape();
        if self.stacked {
            vec![self.times, self.bands, h, w]
        } else {
            vec![self.times * self.bands, h, w]
        }
    }

    /// The samples as a (T, C, H, W) view, when they are `T`s.
    pub fn as_array4<T: Sample>(&self) -> Option<ArrayView4<'_, T>> {
        let (_, h, w) = self.raster.shape();
        self.raster
            .as_array::<T>()?
            .view()
            .into_shape_with_order((self.times, self.bands, h, w))
            .ok()
    }

    /// File `t`'s bands as a (C, H, W) array with its mask.
    pub fn time(&self, t: usize) -> Option<MaskedArray> {
        if t >= self.times {
            return None;
        }
        let r = t * self.bands..(t + 1) * self.bands;
        let a = &self.raster.array;
        macro_rules! go {
            ($t:ty) => {
                ArrayData::from(
                    a.data
                        .as_array::<$t>()?
                        .slice(ndarray::s![r.clone(), .., ..])
                        .to_owned(),
                )
            };
        }
        let data = dispatch!(a.data.dtype(), go);
        let mask = Mask::per_sample(a.mask.to_array().slice(ndarray::s![r, .., ..]).to_owned());
        Some(MaskedArray { data, mask })
    }
}

fn mismatch(url: &str, message: String) -> Error {
    Error::Mismatch {
        url: url.to_string(),
        message,
    }
}

fn same_crs(a: Option<&Crs>, b: Option<&Crs>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => match (a.epsg, b.epsg) {
            (Some(x), Some(y)) => x == y,
            _ => a.geokeys == b.geokeys,
        },
        _ => false,
    }
}

fn near(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-9 * scale.abs().max(a.abs()).max(1e-300)
}

/// Checks that `readers` can be stacked and finds where each lies in the
/// stack's grid.
fn grid_of(readers: &[CogReader], allow_different_shapes: bool) -> Result<(Grid, Vec<(i64, i64)>)> {
    let first = readers
        .first()
        .ok_or_else(|| invalid("a stack needs at least one file"))?;
    let p0 = first.profile();
    let t0 = p0.transform;
    let mut offsets = Vec::with_capacity(readers.len());
    let (mut c0, mut r0, mut c1, mut r1) = (0i64, 0i64, 0i64, 0i64);
    for r in readers {
        let p = r.profile();
        let url = r.url();
        if p.dtype != p0.dtype {
            return Err(mismatch(
                url,
                format!("data type {} where {} has {}", p.dtype, first.url(), p0.dtype),
            ));
        }
        if p.count != p0.count {
            return Err(mismatch(
                url,
                format!("{} bands where {} has {}", p.count, first.url(), p0.count),
            ));
        }
        if !same_crs(p.crs.as_ref(), p0.crs.as_ref()) {
            let name = |c: Option<&Crs>| c.map_or_else(|| "none".to_string(), Crs::to_string_short);
            return Err(mismatch(
                url,
                format!(
                    "CRS {} where {} has {}",
                    name(p.crs.as_ref()),
                    first.url(),
                    name(p0.crs.as_ref())
                ),
            ));
        }
        let t = p.transform;
        let res = t0.a.abs().max(t0.e.abs());
        let same_pixels = near(t.a, t0.a, res) && near(t.b, t0.b, res) && near(t.d, t0.d, res) && near(t.e, t0.e, res);
        let same = same_pixels && near(t.c, t0.c, res) && near(t.f, t0.f, res);
        let (w, h) = (p.width as i64, p.height as i64);
        let offset = if same && (p.width, p.height) == (p0.width, p0.height) {
            (0, 0)
        } else if !allow_different_shapes {
            return Err(mismatch(
                url,
                format!(
                    "{}x{} pixels at {:?} where {} has {}x{} at {:?} (allow different shapes to stack them)",
                    p.width,
                    p.height,
                    t.to_gdal(),
                    first.url(),
                    p0.width,
                    p0.height,
                    t0.to_gdal()
                ),
            ));
        } else if !same_pixels {
            return Err(mismatch(
                url,
                format!("pixels {:?} where {} has {:?}", t.to_gdal(), first.url(), t0.to_gdal()),
            ));
        } else {
            if !t0.is_rectilinear() {
                return Err(invalid("rotated files of different shapes cannot be stacked"));
            }
            let (dx, dy) = ((t.c - t0.c) / t0.a, (t.f - t0.f) / t0.e);
            if (dx - dx.round()).abs() > 1e-6 || (dy - dy.round()).abs() > 1e-6 || dx.abs() > 1e15 || dy.abs() > 1e15 {
                return Err(mismatch(
                    url,
                    format!("origin {dx} x {dy} pixels from {}'s: not on its grid", first.url()),
                ));
            }
            (dx.round() as i64, dy.round() as i64)
        };
        (c0, r0) = (c0.min(offset.0), r0.min(offset.1));
        (c1, r1) = (c1.max(offset.0 + w), r1.max(offset.1 + h));
        offsets.push(offset);
    }
    let offsets = offsets.into_iter().map(|(c, r)| (c - c0, r - r0)).collect();
    let grid = Grid {
        transform: t0.compose(&Affine::translation(c0 as f64, r0 as f64)),
        width: (c1 - c0) as u64,
        height: (r1 - r0) as u64,
    };
    Ok((grid, offsets))
}

impl CogStack {
    /// Opens `urls` concurrently into one stack: every file must have the
    /// first file's CRS, data type and band count, and its transform and
    /// size unless [`StackOptions::allow_different_shapes`]; a file that
    /// differs is an [`Error::Mismatch`] naming it and what differs.
    pub async fn open<S: AsRef<str>>(urls: &[S], options: StackOptions) -> Result<CogStack> {
        let o = options.options.clone().shared();
        let readers = try_join_all(urls.iter().map(|u| CogReader::open_with(u.as_ref(), o.clone()))).await?;
        Self::from_readers(readers, &options)
    }

    /// A stack of readers already open (checked as [`CogStack::open`]
    /// checks them; their options are kept as they are).
    pub fn from_readers(readers: Vec<CogReader>, options: &StackOptions) -> Result<CogStack> {
        let (grid, offsets) = grid_of(&readers, options.allow_different_shapes)?;
        let count = readers.first().map_or(0, |r| r.profile().count);
        let members: Arc<[Member]> = readers
            .into_iter()
            .zip(offsets)
            .map(|(reader, offset)| Member { reader, offset })
            .collect();
        Ok(CogStack {
            times: (0..members.len()).collect(),
            focus: Focus::whole(0, grid.width, grid.height, count),
            members,
            grid,
            stacked: options.stack,
            allow_different_shapes: options.allow_different_shapes,
            fill: None,
        })
    }

    fn with_focus(&self, focus: Focus) -> CogStack {
        CogStack { focus, ..self.clone() }
    }

    /// The readers, in the order given to [`CogStack::open`] (all of them,
    /// whatever the time selection).
    pub fn readers(&self) -> impl Iterator<Item = &CogReader> {
        self.members.iter().map(|m| &m.reader)
    }

    /// The files selected, as indices into [`CogStack::readers`].
    pub fn times(&self) -> &[usize] {
        &self.times
    }

    /// (T, C, H, W), or (T*C, H, W) for an unstacked stack.
    pub fn shape(&self) -> Vec<usize> {
        let f = &self.focus;
        let n = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        let (t, c) = (self.times.len(), f.bands.len());
        if self.stacked {
            vec![t, c, n(f.height), n(f.width)]
        } else {
            vec![t * c, n(f.height), n(f.width)]
        }
    }

    /// The level read (0 = full resolution).
    pub fn level(&self) -> usize {
        self.focus.level
    }

    /// The decimation of level `z` (the first file's), and the grid's size
    /// there.
    fn level_grid(&self, z: usize) -> Result<((f64, f64), (u64, u64))> {
        let first = self
            .members
            .first()
            .map(|m| &m.reader)
            .ok_or_else(|| invalid("empty stack"))?;
        let p = first.profile();
        let l = first.level(z)?;
        let f = (p.width as f64 / l.width() as f64, p.height as f64 / l.height() as f64);
        let same_size = (self.grid.width, self.grid.height) == (p.width, p.height);
        let size = if same_size {
            (l.width(), l.height())
        } else {
            let up = |v: u64, d: f64| ((v as f64 / d) - 1e-9).ceil().max(1.0) as u64;
            (up(self.grid.width, f.0), up(self.grid.height, f.1))
        };
        Ok((f, size))
    }

    /// The transform of the stack's pixels.
    pub fn transform(&self) -> Affine {
        let f = self.level_grid(self.focus.level).map_or((1.0, 1.0), |g| g.0);
        self.focus.transform(&self.grid.transform.decimated(f.0, f.1))
    }

    /// The stack's extent.
    pub fn bounds(&self) -> Bounds {
        self.transform().bounds(self.focus.width, self.focus.height)
    }

    /// The CRS (every file's).
    pub fn crs(&self) -> Option<&Crs> {
        self.members.first().and_then(|m| m.reader.profile().crs.as_ref())
    }

    /// The sample type (every file's).
    pub fn dtype(&self) -> DataType {
        self.members
            .first()
            .map_or(DataType::UInt8, |m| m.reader.profile().dtype)
    }

    /// The same stack, padding with `value` instead of each file's nodata.
    pub fn with_fill_value(&self, value: f64) -> CogStack {
        CogStack {
            fill: Some(value),
            ..self.clone()
        }
    }

    /// Focuses every file on `window` (relative to the current focus, whole
    /// pixels, may reach outside: the outside reads as masked padding).
    pub fn window(&self, window: Window) -> Result<CogStack> {
        self.read_window(window, true)
    }

    /// Focuses on `window`; not boundless, it is cut to the stack's grid.
    pub fn read_window(&self, window: Window, boundless: bool) -> Result<CogStack> {
        let (_, size) = self.level_grid(self.focus.level)?;
        Ok(self.with_focus(self.focus.sub_window(&window, boundless, size)?))
    }

    /// Picks bands of every file by 1-based number in the current selection.
    pub fn select_bands(&self, bands: &[usize]) -> Result<CogStack> {
        Ok(self.with_focus(self.focus.select_bands(bands)?))
    }

    /// numpy/xarray-style `isel` along any axis (`Axis::Time` picks files),
    /// 0-based and relative to the stack, cut to its size.
    pub fn isel(&self, axis: Axis, range: Range<usize>) -> Result<CogStack> {
        if axis != Axis::Time {
            return Ok(self.with_focus(self.focus.isel(axis, range)?));
        }
        let n = self.times.len();
        let (a, b) = (range.start.min(n), range.end.min(n));
        if a >= b {
            return Err(invalid(format!("isel Time {range:?} selects nothing of {n}")));
        }
        Ok(CogStack {
            times: self.times.get(a..b).map(<[usize]>::to_vec).unwrap_or_default(),
            ..self.clone()
        })
    }

    /// Reads level `level` of every file as if it were the image.
    pub fn overview(&self, level: usize) -> Result<CogStack> {
        for m in self.members.iter() {
            m.reader.level(level)?;
        }
        let (from, _) = self.level_grid(self.focus.level)?;
        let (to, _) = self.level_grid(level)?;
        let factor = (to.0 / from.0, to.1 / from.1);
        Ok(self.with_focus(self.focus.at_level(level, factor)?))
    }

    /// The read of file `m` for the current focus.
    fn request(&self, m: &Member) -> Result<ReadRequest> {
        let f = &self.focus;
        let own = m.reader.level(f.level)?;
        let (_, size) = self.level_grid(f.level)?;
        let req = if m.offset == (0, 0) && (own.width(), own.height()) == size {
            ReadRequest::window(f.window(), f.level)
        } else if f.level == 0 {
            let w = Window::new(f.col - m.offset.0, f.row - m.offset.1, f.width, f.height);
            ReadRequest::window(w, 0)
        } else {
            // Another grid at this level (files of other sizes decimate
            // differently): the focus's extent, resampled onto it.
            let n = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
            ReadRequest::bounds(self.bounds())
                .shape(n(f.height), n(f.width))
                .level(f.level)
        };
        let req = req.bands(f.bands.clone()).boundless(true);
        Ok(match self.fill {
            Some(v) => req.fill_value(v),
            None => req,
        })
    }

    /// Reads every selected file's part concurrently (one budget for all
    /// their requests) into one (T*C, H, W) raster.
    pub async fn load(&self) -> Result<StackRaster> {
        let members: Vec<&Member> = self.times.iter().filter_map(|&t| self.members.get(t)).collect();
        let reads = members
            .iter()
            .map(|m| async move { m.reader.read_with(self.request(m)?).await });
        let parts = try_join_all(reads).await?;
        let first = parts.first().ok_or_else(|| invalid("no files selected"))?;
        let nodata = first.nodata.filter(|n| parts.iter().all(|p| p.nodata == Some(*n)));
        let at = Placement {
            transform: self.transform(),
            crs: self.crs().cloned(),
            level: self.focus.level,
            nodata,
            fill_value: self.fill.map(Nodata::Float).unwrap_or(first.fill_value),
        };
        let data = concat_data(&parts)?;
        let masks: Vec<Array3<bool>> = parts.iter().map(|p| p.array.mask.to_array()).collect();
        let views: Vec<_> = masks.iter().map(|m| m.view()).collect();
        let mask = ndarray::concatenate(NdAxis(0), &views).map_err(|e| Error::Internal(e.to_string()))?;
        let array = MaskedArray {
            data,
            mask: Mask::per_sample(mask),
        };
        Ok(StackRaster {
            raster: Raster::new(array, at),
            times: parts.len(),
            bands: self.focus.bands.len(),
            stacked: self.stacked,
        })
    }
}

/// The files' samples one after another along the band axis.
fn concat_data(parts: &[Raster]) -> Result<ArrayData> {
    let dtype = parts.first().map_or(DataType::UInt8, |p| p.dtype());
    macro_rules! go {
        ($t:ty) => {{
            let views = parts
                .iter()
                .map(|p| p.as_array::<$t>().map(|a| a.view()))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| Error::Internal("stacked files of different types".into()))?;
            ArrayData::from(ndarray::concatenate(NdAxis(0), &views).map_err(|e| Error::Internal(e.to_string()))?)
        }};
    }
    Ok(dispatch!(dtype, go))
}
