//! Warping a read onto another grid (a web-map tile): where each output
//! pixel's centre falls in the file, which level to read (GDAL's overview
//! choice for the area the tile covers), the window of that level to
//! fetch, and the sampling of that window, nearest or bilinear, as GDAL's
//! warp kernel samples (pixel centres; bilinear weights renormalised over
//! the valid neighbours).
//!
//! Pure: coordinates and arrays in, arrays out. May use: `geo`, `raster`,
//! `request`, `resample`, `error`.

use ndarray::{Array3, ArrayView3};

use crate::error::{Error, Result};
use crate::geo::{Affine, Window, approx_row};
use crate::raster::{ArrayData, Mask, MaskedArray, Nodata, Sample, dispatch};
use crate::request::Shape;
use crate::resample::Resampling;

use super::level::{Size, choose_level};

/// GDAL's default error threshold of the approximate transformer, in
/// source pixels.
const MAX_ERROR: f64 = 0.125;

/// A planned warp: the level, the window of it to read, and for each
/// output pixel (row-major) where its centre lies in that level's pixels.
#[derive(Debug, Clone)]
pub(crate) struct WarpPlan {
    pub z: usize,
    pub window: Window,
    pub shape: Shape,
    /// (column, row) at level `z`; NaN where the transform failed.
    pub coords: Vec<(f64, f64)>,
}

/// Plans a warp of `shape` output pixels placed by `out_t` (in the output
/// CRS) from a file whose full-resolution pixels are placed by `file_t`
/// (in the file's CRS) and whose levels have `sizes` (full resolution
/// first). `to_file` transforms output-CRS points into the file's CRS in
/// place. `None` when no output pixel's centre lies in the image.
pub(crate) fn plan_warp<F>(
    sizes: &[(u64, u64)],
    file_t: &Affine,
    out_t: &Affine,
    shape: Shape,
    resampling: Resampling,
    to_file: &F,
) -> Result<Option<WarpPlan>>
where
    F: Fn(&mut [f64], &mut [f64]),
{
    let inv = file_t.inverse().ok_or_else(|| Error::InvalidRequest {
        message: "the file's transform cannot be inverted".into(),
    })?;
    let &(fw, fh) = sizes
        .first()
        .ok_or_else(|| Error::Internal("a file without levels".into()))?;
    let (fw, fh) = (fw as f64, fh as f64);
    // Output pixel centres -> file CRS -> full-resolution pixels, one row
    // at a time through GDAL's approximate transformer.
    let exact = |xs: &mut [f64], ys: &mut [f64]| {
        for (x, y) in xs.iter_mut().zip(ys.iter_mut()) {
            (*x, *y) = out_t.apply(*x, *y);
        }
        to_file(xs, ys);
        for (x, y) in xs.iter_mut().zip(ys.iter_mut()) {
            (*x, *y) = inv.apply(*x, *y);
        }
    };
    let mut coords = Vec::with_capacity(shape.rows * shape.cols);
    let (mut xs, mut ys) = (vec![0.0; shape.cols], vec![0.0; shape.cols]);
    let (mut c0, mut r0, mut c1, mut r1) = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    let mut inside = false;
    for row in 0..shape.rows {
        for (i, (x, y)) in xs.iter_mut().zip(ys.iter_mut()).enumerate() {
            (*x, *y) = (i as f64 + 0.5, row as f64 + 0.5);
        }
        approx_row(&mut xs, &mut ys, MAX_ERROR, &exact);
        for (&x, &y) in xs.iter().zip(&ys) {
            if x.is_finite() && y.is_finite() {
                inside |= x >= 0.0 && y >= 0.0 && x < fw && y < fh;
                (c0, r0, c1, r1) = (c0.min(x), r0.min(y), c1.max(x), r1.max(y));
                coords.push((x, y));
            } else {
                coords.push((f64::NAN, f64::NAN));
            }
        }
    }
    if !inside {
        return Ok(None);
    }
    // The area the tile covers in the image, for GDAL's overview choice.
    let (cc0, rr0, cc1, rr1) = (c0.max(0.0), r0.max(0.0), c1.min(fw), r1.min(fh));
    let covered = Size {
        width: (cc1 - cc0).max(1.0),
        height: (rr1 - rr0).max(1.0),
    };
    let all: Vec<Size> = sizes.iter().map(|&(w, h)| Size::of(w, h)).collect();
    let z = choose_level(&all, covered, shape, resampling);
    let &(lw, lh) = sizes
        .get(z)
        .ok_or_else(|| Error::Internal("level choice out of range".into()))?;
    let (dx, dy) = (fw / lw as f64, fh / lh as f64);
    for p in &mut coords {
        *p = (p.0 / dx, p.1 / dy);
    }
    // Whole pixels of the level around every sample, one more each side
    // for bilinear, cut to the image (outside is masked anyway).
    let pad = if resampling == Resampling::Nearest { 0.0 } else { 1.0 };
    let (lw, lh) = (lw as f64, lh as f64);
    let a0 = ((cc0 / dx).floor() - pad).clamp(0.0, lw - 1.0);
    let b0 = ((rr0 / dy).floor() - pad).clamp(0.0, lh - 1.0);
    let a1 = ((cc1 / dx).ceil() + pad).clamp(a0 + 1.0, lw);
    let b1 = ((rr1 / dy).ceil() + pad).clamp(b0 + 1.0, lh);
    Ok(Some(WarpPlan {
        z,
        window: Window::from_f64(a0, b0, a1 - a0, b1 - b0),
        shape,
        coords,
    }))
}

/// Samples `src` (the plan's window, read) at the plan's coordinates into
/// (bands, rows, cols); samples outside the image or whose source is
/// masked are masked and hold `fill`.
pub(crate) fn warp_sample(
    src: &MaskedArray,
    plan: &WarpPlan,
    resampling: Resampling,
    fill: Nodata,
) -> Result<MaskedArray> {
    let (bands, h, w) = src.shape();
    let valid = src.mask.to_array();
    let (rows, cols) = (plan.shape.rows, plan.shape.cols);
    let mut mask = Array3::from_elem((bands, rows, cols), true);
    let (ox, oy) = (plan.window.col_off, plan.window.row_off);
    macro_rules! go {
        ($t:ty) => {{
            let a = src
                .data
                .as_array::<$t>()
                .ok_or_else(|| Error::Internal("warp source of another type".into()))?;
            let fillv = <$t>::from_nodata(fill).unwrap_or_else(|| <$t>::from_f64(fill.as_f64()));
            let mut out = Array3::from_elem((bands, rows, cols), fillv);
            sample::<$t>(
                a.view(),
                &valid,
                (w, h),
                (ox, oy),
                plan,
                resampling,
                &mut out,
                &mut mask,
            );
            ArrayData::from(out)
        }};
    }
    let data = dispatch!(src.data.dtype(), go);
    Ok(MaskedArray {
        data,
        mask: Mask::per_sample(mask),
    })
}

#[allow(clippy::too_many_arguments)]
fn sample<T: Sample>(
    a: ArrayView3<T>,
    invalid: &Array3<bool>,
    (w, h): (usize, usize),
    (ox, oy): (f64, f64),
    plan: &WarpPlan,
    resampling: Resampling,
    out: &mut Array3<T>,
    mask: &mut Array3<bool>,
) {
    let bands = a.dim().0;
    let cols = plan.shape.cols;
    let at = |b: usize, c: i64, r: i64| -> Option<T> {
        if c < 0 || r < 0 || c as usize >= w || r as usize >= h {
            return None;
        }
        let (c, r) = (c as usize, r as usize);
        (!invalid[[b, r, c]]).then(|| a[[b, r, c]])
    };
    for (k, &(u, v)) in plan.coords.iter().enumerate() {
        if !(u.is_finite() && v.is_finite()) {
            continue;
        }
        let (row, col) = (k / cols, k % cols);
        let (u, v) = (u - ox, v - oy);
        for b in 0..bands {
            let got = if resampling == Resampling::Nearest {
                at(b, u.floor() as i64, v.floor() as i64)
            } else {
                // GDAL's bilinear: weights on pixel centres, renormalised
                // over the valid neighbours.
                let (x, y) = (u - 0.5, v - 0.5);
                let (i, j) = (x.floor(), y.floor());
                let (fx, fy) = (x - i, y - j);
                let (i, j) = (i as i64, j as i64);
                let mut acc = 0.0;
                let mut wsum = 0.0;
                for (di, dj, wt) in [
                    (0, 0, (1.0 - fx) * (1.0 - fy)),
                    (1, 0, fx * (1.0 - fy)),
                    (0, 1, (1.0 - fx) * fy),
                    (1, 1, fx * fy),
                ] {
                    if wt > 0.0
                        && let Some(s) = at(b, i + di, j + dj)
                    {
                        acc += wt * s.to_f64();
                        wsum += wt;
                    }
                }
                (wsum > 1e-5).then(|| T::from_f64(acc / wsum))
            };
            if let Some(s) = got {
                out[[b, row, col]] = s;
                mask[[b, row, col]] = false;
            }
        }
    }
}
