//! A window or bounds read, planned: the level GDAL would read, the window
//! there, the output shape, bands and transform, and where the mask comes
//! from when the level has none. Pure: no bytes, no reader.

use crate::error::{Error, Result};
use crate::geo::{Affine, Window, from_bounds};
use crate::levels::Level;
use crate::profile::Profile;
use crate::raster::{MaskSource, Nodata};
use crate::request::{Area, ReadRequest, Shape};
use crate::resample::Resampling;
use crate::tiff::{Limits, Location};

use super::level::{Size, choose_level, int_offset};

/// One level's part of a read: which window of which level to sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LevelRead {
    /// The level.
    pub z: usize,
    /// The window at that level.
    pub win: Window,
    /// GDAL's integer window offset (columns, rows) at the level.
    pub int_off: (i64, i64),
    /// Only the level's mask is wanted (a mask borrowed for another
    /// level's pixels): its image blocks are neither fetched nor decoded.
    pub mask_only: bool,
}

/// Everything a read does, decided before any byte is fetched.
#[derive(Debug, Clone)]
pub(crate) struct ReadPlan {
    /// The pixels.
    pub data: LevelRead,
    /// Where the mask comes from when the level read has none (an overview
    /// stored without a mask takes it from the best level that has one, as
    /// GDAL's full-resolution mask band does through its own overviews).
    pub mask: Option<LevelRead>,
    /// The output shape.
    pub out: Shape,
    /// 0-based bands.
    pub bands: Vec<usize>,
    pub resampling: Resampling,
    pub boundless: bool,
    /// What pixels outside the image hold (the request's fill value, else
    /// nodata, else the reader's fill value).
    pub fill: Nodata,
    /// Transform of the output pixels.
    pub transform: Affine,
}

impl ReadPlan {
    /// Plans `req` over `levels` of the file described by `p`; `fill_value`
    /// is used outside the image when the file has no nodata.
    pub fn new(levels: &[Level], p: &Profile, req: &ReadRequest, limits: &Limits, fill_value: f64) -> Result<ReadPlan> {
        let sizes: Vec<Size> = levels.iter().map(|l| Size::of(l.width(), l.height())).collect();
        let level = |z: usize| {
            levels.get(z).ok_or_else(|| Error::InvalidRequest {
                message: format!("no level {z}: levels are 0..={}", levels.len().saturating_sub(1)),
            })
        };
        let (fw, fh) = (p.width as f64, p.height as f64);
        // The window in full-resolution pixels; a read within the image
        // takes only the part of the area inside it, as rasterio does.
        let full = match &req.area {
            Area::Bounds(b) => {
                finite("bounds", &[b.minx, b.miny, b.maxx, b.maxy])?;
                if !p.transform.is_rectilinear() {
                    return Err(Error::unsupported(
                        Location::new(),
                        "bounds reads of rotated images (use a pixel window)",
                    ));
                }
                if !(b.maxx > b.minx && b.maxy > b.miny) {
                    return Err(invalid(format!("empty bounds {b:?}")));
                }
                let w = from_bounds(&p.transform, b).ok_or_else(|| invalid("the transform cannot be inverted"))?;
                if req.boundless { w } else { w.crop(fw, fh) }
            }
            Area::Window { window: w, level: z } => {
                finite("window", &[w.col_off, w.row_off, w.width, w.height])?;
                if !(w.width > 0.0 && w.height > 0.0) {
                    return Err(invalid(format!("empty window {w:?}")));
                }
                let l = level(*z)?;
                let (lw, lh) = (l.width() as f64, l.height() as f64);
                let w = if req.boundless { *w } else { w.crop(lw, lh) };
                w.magnify(fw / lw, fh / lh)
            }
        };
        // Beyond 2^53 pixels coordinates lose whole pixels (and integer
        // window arithmetic would overflow): no image is that large.
        let parts = [full.col_off, full.row_off, full.width, full.height];
        if !(parts.iter().all(|v| v.is_finite() && v.abs() < 9.0e15) && full.width >= 0.0 && full.height >= 0.0) {
            return Err(invalid(format!("empty area: {full:?}")));
        }
        let outside = full.col_off >= fw
            || full.row_off >= fh
            || full.col_off + full.width <= 0.0
            || full.row_off + full.height <= 0.0
            || full.width <= 0.0
            || full.height <= 0.0;
        if outside && !req.boundless {
            return Err(invalid(format!(
                "the area lies entirely outside the {}x{} image (ask for a boundless read)",
                p.width, p.height
            )));
        }
        let win_size = Size {
            width: full.width,
            height: full.height,
        };
        let natural = Shape::new(full.height.round() as usize, full.width.round() as usize);
        let z = match (&req.area, req.level) {
            (_, Some(z)) => z,
            (Area::Bounds(_), None) => choose_level(&sizes, win_size, req.shape.unwrap_or(natural), req.resampling),
            (Area::Window { level, .. }, None) => *level,
        };
        let explicit = req.level.is_some() || matches!(req.area, Area::Window { .. });
        let at = |z: usize, explicit: bool| -> Result<LevelRead> {
            let l = level(z)?;
            let (lw, lh) = (l.width() as f64, l.height() as f64);
            let factor = (fw / lw, fh / lh);
            let win = full.decimate(factor.0, factor.1);
            Ok(LevelRead {
                z,
                int_off: int_offset(&full, &win, explicit, factor, Size::of(l.width(), l.height())),
                win,
                mask_only: false,
            })
        };
        let data = at(z, explicit)?;
        let out = req.shape.unwrap_or(Shape::new(
            data.win.height.round().max(1.0) as usize,
            data.win.width.round().max(1.0) as usize,
        ));
        if out.rows == 0 || out.cols == 0 {
            return Err(invalid("the output shape has no pixels"));
        }
        let bands = bands(req.bands.as_deref(), p.count)?;
        check_output(p, &bands, out, req.resampling, limits)?;
        let mask = if p.mask == Some(MaskSource::Internal) && !explicit && level(z)?.mask.is_none() {
            let masked: Vec<usize> = (0..levels.len())
                .filter(|&i| levels.get(i).is_some_and(|l| l.mask.is_some()))
                .collect();
            let msizes: Vec<Size> = masked.iter().filter_map(|&i| sizes.get(i).copied()).collect();
            let pick = choose_level(&msizes, win_size, out, req.resampling);
            let borrowed = masked.get(pick).map(|&zm| at(zm, false)).transpose()?;
            borrowed.map(|m| LevelRead { mask_only: true, ..m })
        } else {
            None
        };
        let l = level(z)?;
        let level_t = p.transform.decimated(fw / l.width() as f64, fh / l.height() as f64);
        Ok(ReadPlan {
            transform: data.win.transform(&level_t, out.cols, out.rows),
            data,
            mask,
            out,
            bands,
            resampling: req.resampling,
            boundless: req.boundless,
            fill: req
                .fill
                .map(Nodata::Float)
                .or(p.nodata)
                .unwrap_or(Nodata::Float(fill_value)),
        })
    }
}

/// The 0-based bands of 1-based `asked` (default: all `count`).
fn bands(asked: Option<&[usize]>, count: usize) -> Result<Vec<usize>> {
    let Some(b) = asked else {
        return Ok((0..count).collect());
    };
    if b.is_empty() {
        return Err(invalid("no bands asked for"));
    }
    if let Some(bad) = b.iter().find(|&&i| i == 0 || i > count) {
        return Err(invalid(format!("band {bad} does not exist: bands are 1..={count}")));
    }
    Ok(b.iter().map(|i| i - 1).collect())
}

/// Refuses, before any buffer is sized, outputs past `max_read_bytes`: the
/// output (rows x cols x bands x sample size), the mask beside it, the
/// nearest index vectors, and for kernels the f64 values and validity each
/// output passes through.
fn check_output(p: &Profile, bands: &[usize], out: Shape, r: Resampling, limits: &Limits) -> Result<()> {
    let per_sample = p.dtype.size() as u64 + 1 + if r == Resampling::Nearest { 0 } else { 9 };
    let (rows, cols) = (out.rows as u64, out.cols as u64);
    let bytes = rows
        .checked_mul(cols)
        .and_then(|n| n.checked_mul(bands.len() as u64))
        .and_then(|n| n.checked_mul(per_sample))
        .and_then(|n| n.checked_add(rows.checked_add(cols)?.checked_mul(8)?));
    Limits::check("max_read_bytes", bytes, limits.max_read_bytes, Location::new())?;
    Ok(())
}

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidRequest {
        message: message.into(),
    }
}

/// Refuses NaN and infinite coordinates: they would select pixel (0, 0)
/// or make a NaN transform.
pub(crate) fn finite(what: &str, values: &[f64]) -> Result<()> {
    if values.iter().all(|v| v.is_finite()) {
        return Ok(());
    }
    Err(invalid(format!("the {what} {values:?} is not finite")))
}
