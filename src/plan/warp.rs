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

/// Where each pixel centre of a `shape` grid placed by `out_t` (in the
/// output CRS) falls in a level of a file: `file_t` places the file's
/// full-resolution pixels (in its CRS), `decimation` is the level's, and
/// `to_file` transforms output-CRS points into the file's CRS in place.
/// Row by row through GDAL's approximate transformer, in the level's
/// pixels (as GDAL warps an overview). Row-major (column, row) pairs; NaN
/// where the transform failed.
pub(crate) fn grid_coords<F>(
    file_t: &Affine,
    decimation: (f64, f64),
    out_t: &Affine,
    shape: Shape,
    to_file: &F,
) -> Result<Vec<(f64, f64)>>
where
    F: Fn(&mut [f64], &mut [f64]),
{
    let inv = file_t
        .decimated(decimation.0, decimation.1)
        .inverse()
        .ok_or_else(|| Error::InvalidRequest {
            message: "the file's transform cannot be inverted".into(),
        })?;
    let exact = |xs: &mut [f64], ys: &mut [f64]| {
        for (x, y) in xs.iter_mut().zip(ys.iter_mut()) {
            (*x, *y) = out_t.apply(*x, *y);
        }
        to_file(xs, ys);
        for (x, y) in xs.iter_mut().zip(ys.iter_mut()) {
            (*x, *y) = inv.apply(*x, *y);
        }
    };
    let mut coords = Vec::with_capacity(shape.rows.saturating_mul(shape.cols));
    let (mut xs, mut ys) = (vec![0.0; shape.cols], vec![0.0; shape.cols]);
    for row in 0..shape.rows {
        for (i, (x, y)) in xs.iter_mut().zip(ys.iter_mut()).enumerate() {
            (*x, *y) = (i as f64 + 0.5, row as f64 + 0.5);
        }
        approx_row(&mut xs, &mut ys, MAX_ERROR, &exact);
        coords.extend(xs.iter().zip(&ys).map(|(&x, &y)| {
            if x.is_finite() && y.is_finite() {
                (x, y)
            } else {
                (f64::NAN, f64::NAN)
            }
        }));
    }
    Ok(coords)
}

/// The warp of `shape` output pixels whose centres fall at `coords` in
/// level `z` (of size `level`): the window of the level to read (whole
/// pixels around every sample, one more each side for bilinear, cut to the
/// image). `None` when no centre falls inside the image.
pub(crate) fn plan_warp(
    z: usize,
    level: (u64, u64),
    coords: Vec<(f64, f64)>,
    shape: Shape,
    resampling: Resampling,
) -> Option<WarpPlan> {
    let (lw, lh) = (level.0 as f64, level.1 as f64);
    let (mut c0, mut r0, mut c1, mut r1) = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for &(x, y) in &coords {
        if x >= 0.0 && y >= 0.0 && x < lw && y < lh {
            (c0, r0, c1, r1) = (c0.min(x), r0.min(y), c1.max(x), r1.max(y));
        }
    }
    if c0 > c1 {
        return None;
    }
    let pad = if resampling == Resampling::Nearest { 0.0 } else { 1.0 };
    let a0 = (c0.floor() - pad).max(0.0);
    let b0 = (r0.floor() - pad).max(0.0);
    let a1 = (c1.floor() + 1.0 + pad).min(lw);
    let b1 = (r1.floor() + 1.0 + pad).min(lh);
    Some(WarpPlan {
        z,
        window: Window::from_f64(a0, b0, a1 - a0, b1 - b0),
        shape,
        coords,
    })
}

/// GDAL's overview choice for a read of all of a `grid`-sized raster into
/// `out`, given the grid's overview sizes (RasterIO on a warped VRT).
pub(crate) fn choose_grid_level(sizes: &[(u64, u64)], out: Shape, resampling: Resampling) -> usize {
    let all: Vec<Size> = sizes.iter().map(|&(w, h)| Size::of(w, h)).collect();
    let Some(&full) = all.first() else { return 0 };
    choose_level(&all, full, out, resampling)
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
        let (cu, cv) = (u.floor() as i64, v.floor() as i64);
        for b in 0..bands {
            // As GDAL's warp kernel: a pixel whose centre falls on an
            // invalid source pixel (outside the image or masked) stays
            // invalid, whatever the kernel.
            let Some(centre) = at(b, cu, cv) else {
                continue;
            };
            let got = if resampling == Resampling::Nearest {
                Some(centre)
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
