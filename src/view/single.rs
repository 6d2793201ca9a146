//! [`CogView`]: a lazy, georeferenced view of one COG, georeader's
//! `RasterioReader` in async Rust. A view is an address book, not the
//! data: shape, transform, bounds and dtype are known without reading a
//! pixel, every view method returns a new cheap value (no I/O), and
//! [`CogView::load`] is the one read.
//!
//! May use: `reader`, `request`, `geo`, `raster`, `resample`, `error`.

use std::ops::Range;

use crate::error::Result;
use crate::geo::{Affine, Bounds, Crs, Window};
use crate::raster::{DataType, Nodata};
use crate::reader::CogReader;
use crate::request::{Raster, ReadRequest};
use crate::resample::Resampling;

use super::focus::{Axis, Focus, invalid};

/// A lazy view of one COG: a level, a whole-pixel window of it (which may
/// reach outside the image) and a band selection, over a shared reader.
/// Clone it, send it to other tasks, narrow it; [`CogView::load`] reads.
#[derive(Debug, Clone)]
pub struct CogView {
    pub(crate) reader: CogReader,
    pub(crate) focus: Focus,
    pub(crate) fill: Option<f64>,
}

impl CogReader {
    /// A view of the whole image: full resolution, every band.
    pub fn view(&self) -> CogView {
        CogView::new(self.clone())
    }
}

impl CogView {
    /// A view of all of `reader`'s image: full resolution, every band.
    pub fn new(reader: CogReader) -> CogView {
        let p = reader.profile();
        let focus = Focus::whole(0, p.width, p.height, p.count);
        CogView {
            reader,
            focus,
            fill: None,
        }
    }

    pub(crate) fn with_focus(&self, focus: Focus) -> CogView {
        CogView { focus, ..self.clone() }
    }

    /// The reader underneath (shared, not copied).
    pub fn reader(&self) -> &CogReader {
        &self.reader
    }

    /// (bands, rows, cols) that [`CogView::load`] returns.
    pub fn shape(&self) -> (usize, usize, usize) {
        let f = &self.focus;
        let n = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        (f.bands.len(), n(f.height), n(f.width))
    }

    /// Columns.
    pub fn width(&self) -> u64 {
        self.focus.width
    }

    /// Rows.
    pub fn height(&self) -> u64 {
        self.focus.height
    }

    /// Number of bands.
    pub fn count(&self) -> usize {
        self.focus.bands.len()
    }

    /// The 1-based bands of the file the view reads, in output order.
    pub fn bands(&self) -> &[usize] {
        &self.focus.bands
    }

    /// The level read (0 = full resolution).
    pub fn level(&self) -> usize {
        self.focus.level
    }

    /// The focus as a window of [`CogView::level`] (whole pixels).
    pub fn window_of_level(&self) -> Window {
        self.focus.window()
    }

    /// The transform of the level read (the full-resolution transform
    /// scaled by the level's decimation, as GDAL places overviews).
    pub(crate) fn level_transform(&self) -> Affine {
        let p = self.reader.profile();
        let (w, h) = self.level_size();
        p.transform
            .decimated(p.width as f64 / w.max(1) as f64, p.height as f64 / h.max(1) as f64)
    }

    /// (width, height) of the level read.
    pub(crate) fn level_size(&self) -> (u64, u64) {
        self.reader
            .levels()
            .get(self.focus.level)
            .map_or((1, 1), |l| (l.width(), l.height()))
    }

    /// The transform of the view's pixels.
    pub fn transform(&self) -> Affine {
        self.focus.transform(&self.level_transform())
    }

    /// The view's extent in the file's CRS.
    pub fn bounds(&self) -> Bounds {
        self.transform().bounds(self.focus.width, self.focus.height)
    }

    /// The file's CRS.
    pub fn crs(&self) -> Option<&Crs> {
        self.reader.profile().crs.as_ref()
    }

    /// The sample type.
    pub fn dtype(&self) -> DataType {
        self.reader.profile().dtype
    }

    /// The file's nodata value.
    pub fn nodata(&self) -> Option<Nodata> {
        self.reader.profile().nodata
    }

    /// What padding outside the image holds: the view's fill value, else
    /// nodata, else the reader's fill value (0 unless set).
    pub fn fill_value(&self) -> Nodata {
        match (self.fill, self.nodata()) {
            (Some(v), _) => Nodata::Float(v),
            (None, Some(n)) => n,
            (None, None) => Nodata::Float(self.reader.options().fill_value()),
        }
    }

    /// The same view, padding with `value` instead of nodata.
    pub fn with_fill_value(&self, value: f64) -> CogView {
        CogView {
            fill: Some(value),
            ..self.clone()
        }
    }

    /// Focuses on `window`, given relative to the current focus and in
    /// whole pixels; it may reach outside the image, which then reads as
    /// padding (georeader's `set_window`).
    pub fn window(&self, window: Window) -> Result<CogView> {
        self.read_window(window, true)
    }

    /// Focuses on `window` (relative to the current focus, whole pixels).
    /// Boundless, it is kept as given and what lies outside the image reads
    /// as masked padding, so every chip of a tiled scan has one shape; not
    /// boundless, it is cut to the image, which it must overlap
    /// (georeader's `read_from_window`).
    pub fn read_window(&self, window: Window, boundless: bool) -> Result<CogView> {
        Ok(self.with_focus(self.focus.sub_window(&window, boundless, self.level_size())?))
    }

    /// Picks bands by 1-based number (as rasterio's indexes), counted in
    /// the current selection: on a fresh view, the file's band numbers.
    pub fn select_bands(&self, bands: &[usize]) -> Result<CogView> {
        Ok(self.with_focus(self.focus.select_bands(bands)?))
    }

    /// numpy/xarray-style `isel` along `Axis::Band`, `Axis::Y` or `Axis::X`:
    /// a 0-based range relative to the view, cut to its size.
    pub fn isel(&self, axis: Axis, range: Range<usize>) -> Result<CogView> {
        Ok(self.with_focus(self.focus.isel(axis, range)?))
    }

    /// Reads level `level` (0 = full resolution) as if it were the image:
    /// the current focus becomes the same area on that level, widened to
    /// whole pixels.
    pub fn overview(&self, level: usize) -> Result<CogView> {
        let to = self.reader.level(level)?;
        let (w, h) = self.level_size();
        let factor = (
            w as f64 / to.width().max(1) as f64,
            h as f64 / to.height().max(1) as f64,
        );
        Ok(self.with_focus(self.focus.at_level(level, factor)?))
    }

    /// The read [`CogView::load`] makes, for changing before it runs
    /// (resampling to another shape, progress).
    pub fn request(&self) -> ReadRequest {
        let mut r = ReadRequest::window(self.focus.window(), self.focus.level)
            .bands(self.focus.bands.clone())
            .boundless(true);
        if let Some(v) = self.fill {
            r = r.fill_value(v);
        }
        r
    }

    /// Reads the view: (bands, rows, cols) of its level, padding outside
    /// the image filled and masked.
    pub async fn load(&self) -> Result<Raster> {
        self.reader.read_with(self.request()).await
    }

    /// Reads the view resampled to `rows` x `cols`.
    pub async fn load_resampled(&self, rows: usize, cols: usize, resampling: Resampling) -> Result<Raster> {
        if rows == 0 || cols == 0 {
            return Err(invalid(format!("empty output shape {rows}x{cols}")));
        }
        let req = self.request().shape(rows, cols).resampling(resampling);
        self.reader.read_with(req).await
    }
}
