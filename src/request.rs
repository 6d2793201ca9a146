//! What a read asks for and what every read returns: [`ReadRequest`]
//! ([`Area`], [`Shape`]) in, [`Raster`] out. Plain data: the `plan` layer
//! turns a request into the tiles and bytes it needs.
//!
//! May use: `geo`, `raster`, `resample`.

use std::sync::Arc;

use crate::geo::{Affine, Bounds, Crs, Window};
use crate::raster::{ArrayData, MaskedArray, Nodata, Sample};
use crate::resample::Resampling;

/// An output size in pixels: rows (height) and columns (width). Converts
/// from a `(rows, cols)` tuple, rasterio's `out_shape` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Shape {
    /// Rows (height).
    pub rows: usize,
    /// Columns (width).
    pub cols: usize,
}

impl Shape {
    /// `rows` x `cols`.
    pub fn new(rows: usize, cols: usize) -> Shape {
        Shape { rows, cols }
    }
}

impl From<(usize, usize)> for Shape {
    fn from((rows, cols): (usize, usize)) -> Shape {
        Shape { rows, cols }
    }
}

/// What to read.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Area {
    /// Map bounds in the file's CRS.
    Bounds(Bounds),
    /// A pixel window of level `level` (0 = full resolution).
    Window {
        /// The window, in pixels of `level`.
        window: Window,
        /// The level the window's pixels belong to.
        level: usize,
    },
}

/// Called as tiles finish decoding: (tiles done, tiles in the read).
#[derive(Clone)]
pub struct Progress(pub(crate) Arc<dyn Fn(u64, u64) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// A read, with every option: built with [`ReadRequest::bounds`] or
/// [`ReadRequest::window`] and the builder methods.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReadRequest {
    pub(crate) area: Area,
    pub(crate) shape: Option<Shape>,
    pub(crate) bands: Option<Vec<usize>>,
    pub(crate) resampling: Resampling,
    pub(crate) level: Option<usize>,
    pub(crate) boundless: bool,
    pub(crate) fill: Option<f64>,
    pub(crate) progress: Option<Progress>,
}

impl ReadRequest {
    fn of(area: Area) -> Self {
        Self {
            area,
            shape: None,
            bands: None,
            resampling: Resampling::Nearest,
            level: None,
            boundless: false,
            fill: None,
            progress: None,
        }
    }

    /// Reads `bounds` (in the file's CRS) with nearest resampling, at the
    /// level GDAL would choose and, without a shape, at that level's size.
    pub fn bounds(bounds: Bounds) -> Self {
        Self::of(Area::Bounds(bounds))
    }

    /// Reads `window` of level `level` (0 = full resolution), by default
    /// from that level at its own size.
    pub fn window(window: Window, level: usize) -> Self {
        Self::of(Area::Window { window, level })
    }

    /// Sets the output shape (rows, cols).
    pub fn shape(mut self, rows: usize, cols: usize) -> Self {
        self.shape = Some(Shape::new(rows, cols));
        self
    }

    /// Sets the resampling.
    pub fn resampling(mut self, r: Resampling) -> Self {
        self.resampling = r;
        self
    }

    /// Sets the 1-based bands to return (default: every data band).
    pub fn bands(mut self, bands: Vec<usize>) -> Self {
        self.bands = Some(bands);
        self
    }

    /// Reads the pixels from level `z` instead of the level GDAL would
    /// choose (for bounds) or the window's own level (for windows).
    pub fn level(mut self, z: usize) -> Self {
        self.level = Some(z);
        self
    }

    /// Reports decoding progress to `f(done, total)`.
    pub fn progress(mut self, f: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(Progress(Arc::new(f)));
        self
    }

    /// Allows areas partly or wholly outside the image: what lies outside
    /// is filled (nodata, else the fill value) and masked.
    pub fn boundless(mut self, yes: bool) -> Self {
        self.boundless = yes;
        self
    }

    /// What samples outside the image hold (and [`Raster::filled`] puts
    /// in masked samples): by default the file's nodata, else the reader's
    /// [`crate::Options::with_fill_value`] (0 unless set). An explicit value
    /// wins over nodata; padding stays masked either way.
    pub fn fill_value(mut self, value: f64) -> Self {
        self.fill = Some(value);
        self
    }

    /// The area asked for.
    pub fn area(&self) -> &Area {
        &self.area
    }

    /// The output shape asked for, if any.
    pub fn out_shape(&self) -> Option<Shape> {
        self.shape
    }
}

/// What every read returns: the pixels with their mask, where they lie,
/// and which level they came from.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Raster {
    /// (bands, rows, cols), mask `true` = invalid. Shared: a block served
    /// from the decoded-tile cache is this very array, not a copy
    /// (`Arc::unwrap_or_clone` gives an owned one).
    pub array: Arc<MaskedArray>,
    /// Transform of the output pixels.
    pub transform: Affine,
    /// Extent of the output.
    pub bounds: Bounds,
    /// The file's CRS, when it has one.
    pub crs: Option<Crs>,
    /// The level the pixels came from (0 = full resolution).
    pub level: usize,
    /// The file's nodata value, when it has one.
    pub nodata: Option<Nodata>,
    /// What padding outside the image holds and what [`Raster::filled`]
    /// puts in masked samples: the request's fill value, else nodata, else
    /// the reader's fill value (0 unless set).
    pub fill_value: Nodata,
}

/// Where a read's pixels lie and what its missing values are: everything
/// of a [`Raster`] but the array.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Placement {
    pub transform: Affine,
    pub crs: Option<Crs>,
    pub level: usize,
    pub nodata: Option<Nodata>,
    pub fill_value: Nodata,
}

impl Raster {
    /// A raster of `array` placed as `at` says.
    pub(crate) fn new(array: impl Into<Arc<MaskedArray>>, at: Placement) -> Raster {
        let array = array.into();
        let (_, rows, cols) = array.shape();
        Raster {
            bounds: at.transform.bounds(cols as u64, rows as u64),
            transform: at.transform,
            array,
            crs: at.crs,
            level: at.level,
            nodata: at.nodata,
            fill_value: at.fill_value,
        }
    }

    /// (bands, rows, cols).
    pub fn shape(&self) -> (usize, usize, usize) {
        self.array.shape()
    }

    /// The data type of the samples.
    pub fn dtype(&self) -> crate::raster::DataType {
        self.array.data.dtype()
    }

    /// Typed access to the samples (masked ones included, as stored):
    /// `Some` when the raster holds `T`.
    pub fn as_array<T: Sample>(&self) -> Option<&ndarray::Array3<T>> {
        self.array.data.as_array::<T>()
    }

    /// The mask as a (bands, rows, cols) array, `true` = invalid.
    pub fn mask_array(&self) -> ndarray::Array3<bool> {
        self.array.mask.to_array()
    }

    /// The samples with every masked one replaced by [`Raster::fill_value`]
    /// (numpy.ma's `filled()`), in the raster's own type; a fill value the
    /// type cannot hold is rounded and saturated, as GDAL converts.
    pub fn filled(&self) -> ArrayData {
        self.array.filled(self.fill_value)
    }
}
