//! Resampling a source window to an output size, the way GDAL's RasterIO
//! does (`GDALResampleChunk_Convolution` for bilinear and cubic,
//! area-weighted averaging for average).
//!
//! Output pixel `i` is centred on source coordinate
//! `(i + 0.5) * ratio + offset`. Bilinear (triangle, radius 1) and cubic
//! (Catmull-Rom, a = -0.5, radius 2) kernels are stretched by the reduction
//! factor when downsampling, so every source pixel contributes (GDAL's
//! antialiasing); the pass is separable, horizontal then vertical. Average
//! weighs each source pixel by the fraction of it the output pixel covers.
//! Invalid source pixels (masked, or nodata) get weight 0; an output pixel
//! with no valid weight is invalid. Integer outputs are rounded to nearest
//! and clamped to the type's range.

use std::str::FromStr;

/// How source pixels become output pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Resampling {
    /// The source pixel whose area holds the output pixel's centre (GDAL's rule).
    #[default]
    Nearest,
    /// Bilinear interpolation (antialiased when downsampling).
    Bilinear,
    /// Cubic convolution (Catmull-Rom; antialiased when downsampling).
    Cubic,
    /// Area-weighted average.
    Average,
}

impl Resampling {
    /// GDAL's oversampling threshold for choosing an overview (its
    /// `GDAL_OVERVIEW_OVERSAMPLING_THRESHOLD` default): 1.2 for nearest, 1.0
    /// otherwise; GDAL adds 0.1 to the product (see the `plan` module).
    pub fn oversampling_threshold(self) -> f64 {
        match self {
            Resampling::Nearest => 1.2,
            _ => 1.0,
        }
    }

    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Resampling::Nearest => "nearest",
            Resampling::Bilinear => "bilinear",
            Resampling::Cubic => "cubic",
            Resampling::Average => "average",
        }
    }
}

impl FromStr for Resampling {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "nearest" | "near" => Ok(Resampling::Nearest),
            "bilinear" => Ok(Resampling::Bilinear),
            "cubic" => Ok(Resampling::Cubic),
            "average" => Ok(Resampling::Average),
            other => Err(format!(
                "unknown resampling {other:?}: nearest, bilinear, cubic or average"
            )),
        }
    }
}

/// One output pixel's source indices and weights along one axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Taps {
    /// First source index (absolute in the level, or relative to a span).
    pub start: usize,
    /// Weights of source `start..start + weights.len()`.
    pub weights: Vec<f64>,
}

/// One axis of a resampled read at the level read, as GDAL's
/// `RasterIOResampled` sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    /// The floating-point window's offset at the level.
    pub off: f64,
    /// The floating-point window's size at the level.
    pub size: f64,
    /// The integer window's offset at the level (GDAL's `nXOff`; at an
    /// overview chosen for bounds, the full-resolution one divided and
    /// rounded, so it may lie after `off`).
    pub int_off: i64,
    /// Output pixels.
    pub out: usize,
    /// Pixels of the level along this axis.
    pub len: i64,
}

fn kernel(r: Resampling, x: f64) -> f64 {
    let x = x.abs();
    match r {
        Resampling::Bilinear => (1.0 - x).max(0.0),
        Resampling::Cubic => {
            if x <= 1.0 {
                x * x * (1.5 * x - 2.5) + 1.0
            } else if x <= 2.0 {
                x * x * (-0.5 * x + 2.5) - 4.0 * x + 2.0
            } else {
                0.0
            }
        }
        _ => 0.0,
    }
}

fn radius(r: Resampling) -> i64 {
    match r {
        Resampling::Cubic => 2,
        Resampling::Bilinear => 1,
        _ => 0,
    }
}

/// GDAL splits large reads into blocks of outputs, each computed from one
/// chunk of source pixels (at most 1024 x 1024); taps past its chunk are
/// dropped. The block size (columns, rows) for `x` and `y`.
pub fn output_blocks(x: &Axis, y: &Axis, block_width: i64) -> (usize, usize) {
    let (xr, yr) = (x.size / x.out.max(1) as f64, y.size / y.out.max(1) as f64);
    let x_size = x.size.max(1.0).trunc() as i64;
    let (mut bx, mut by) = (x.out.max(1), y.out.max(1));
    loop {
        let fx = x.len.min(3 + (bx as f64 * xr) as i64);
        let fy = y.len.min(3 + (by as f64 * yr) as i64);
        if (bx == 1 && by == 1) || fx.saturating_mul(fy) <= 1024 * 1024 {
            return (bx, by);
        }
        if fx >= x_size && x_size == block_width && by > 1 {
            by /= 2;
        } else if bx > 1 && (fx > fy || by == 1) {
            bx /= 2;
        } else {
            by /= 2;
        }
    }
}

/// The taps of every output pixel along `a` (absolute level indices), with
/// GDAL's chunk limits for outputs in blocks of `block` (see
/// [`output_blocks`]); `ovr_factor` is GDAL's margin factor
/// (`max(1, int(0.5 + ratio))`).
///
/// Bilinear and cubic (Catmull-Rom, a = -0.5) kernels are stretched by the
/// reduction when downsampling; average takes each source pixel by the
/// fraction the output covers, from the integer window's start, with
/// GDAL's arithmetic (a first weight above 1 when the integer window
/// starts after the floating one is GDAL's, kept on purpose).
pub fn axis_taps(r: Resampling, a: &Axis, block: usize, ovr_factor: i64) -> Vec<Taps> {
    let xr = a.size / a.out.max(1) as f64;
    let rad_px = radius(r) * ovr_factor;
    let block = block.max(1);
    (0..a.out)
        .map(|i| {
            let d0 = i / block * block;
            let n = block.min(a.out - d0);
            let c0 = a.int_off + (d0 as f64 * xr) as i64;
            let c1 = a.len.min(a.int_off + 1 + ((d0 + n) as f64 * xr).ceil() as i64);
            let (mut q0, mut qn) = (c0 - rad_px, (c1 - c0) + 2 * rad_px);
            if q0 < 0 {
                qn += q0;
                q0 = 0;
            }
            if q0 + qn > a.len {
                qn = a.len - q0;
            }
            let (first, weights) = if r == Resampling::Average {
                average_taps(a, xr, i, q0, qn)
            } else {
                convolution_taps(r, a, xr, i, q0, qn)
            };
            Taps {
                start: usize::try_from(first).unwrap_or(0),
                weights,
            }
        })
        .collect()
}

fn convolution_taps(r: Resampling, a: &Axis, xr: f64, i: usize, q0: i64, qn: i64) -> (i64, Vec<f64>) {
    let sw = if 1.0 / xr >= 1.0 { 1.0 } else { 1.0 / xr };
    let rad = radius(r) as f64 / sw;
    let c = a.off + (i as f64 + 0.5) * xr;
    let start = q0.max((c - rad + 0.5).floor() as i64);
    let stop = (q0 + qn).min((c + rad + 0.5) as i64);
    let mut x = sw * (start as f64 - c + 0.5);
    let mut w = Vec::with_capacity(usize::try_from(stop - start).unwrap_or(0));
    for _ in start..stop {
        w.push(kernel(r, x));
        x += sw;
    }
    (start, w)
}

fn average_taps(a: &Axis, xr: f64, i: usize, q0: i64, qn: i64) -> (i64, Vec<f64>) {
    let delta = a.off - a.int_off as f64;
    let (lo, hi) = (delta + i as f64 * xr, delta + (i + 1) as f64 * xr);
    let s0 = ((lo + 1e-8) as i64).max(q0 - a.int_off);
    let mut s1 = (hi - 1e-8).ceil() as i64;
    if s1 == s0 {
        s1 += 1;
    }
    let s1 = s1.min(q0 + qn - a.int_off);
    if s1 <= s0 {
        return (a.int_off + s0.max(0), Vec::new());
    }
    let mut w = vec![1.0; usize::try_from(s1 - s0).unwrap_or(0)];
    if s1 > s0 + 1 {
        if let Some(first) = w.first_mut() {
            *first = 1.0 - (lo - s0 as f64);
        }
        if let Some(last) = w.last_mut() {
            *last = 1.0 - (s1 as f64 - hi);
        }
    }
    (a.int_off + s0, w)
}

/// `taps` moved to a span of the source starting at `origin`.
pub fn relative(taps: &[Taps], origin: usize) -> Vec<Taps> {
    taps.iter()
        .map(|t| Taps {
            start: t.start.saturating_sub(origin),
            weights: t.weights.clone(),
        })
        .collect()
}

/// Resamples one band `src` (rows x cols of a source span, row-major) to
/// `ytaps.len() x xtaps.len()` with span-relative taps, as GDAL does:
/// separable convolution (horizontal, then vertical) or a 2-D area-weighted
/// mean for average. Without `valid` every pixel counts and the weights are
/// normalised. With it, only valid pixels count; an output whose valid
/// weight is not positive is invalid, and for cubic a row (and an output)
/// whose longest run of valid taps is shorter than half of them is too.
/// NaN samples are values like any other. Returns values and validity.
pub fn resample_band(
    r: Resampling,
    src: &[f64],
    valid: Option<&[bool]>,
    cols: usize,
    xtaps: &[Taps],
    ytaps: &[Taps],
) -> (Vec<f64>, Vec<bool>) {
    if r == Resampling::Average {
        return average_band(src, valid, cols, xtaps, ytaps);
    }
    let at = |i: usize| src.get(i).copied().unwrap_or(0.0);
    let ok = |i: usize| valid.is_none_or(|v| v.get(i).copied().unwrap_or(false));
    let cubic = r == Resampling::Cubic;
    let rows = src.len() / cols.max(1);
    let out_cols = xtaps.len();
    // Horizontal pass: (rows x out_cols) values and validity.
    let mut h = vec![0.0; rows * out_cols];
    let mut hv = vec![false; rows * out_cols];
    for row in 0..rows {
        for (c, t) in xtaps.iter().enumerate() {
            let idx = |k: usize| row * cols + t.start + k;
            if valid.is_some() && cubic && longest_run(t.weights.len(), |k| ok(idx(k))) < t.weights.len() / 2 {
                continue;
            }
            let (mut s, mut w) = (0.0, 0.0);
            for (k, &wk) in t.weights.iter().enumerate() {
                if ok(idx(k)) {
                    s += wk * at(idx(k));
                    w += wk;
                }
            }
            if let Some(v) = normalised(valid.is_some(), s, w) {
                (h[row * out_cols + c], hv[row * out_cols + c]) = (v, true);
            }
        }
    }
    let mut out = vec![0.0; ytaps.len() * out_cols];
    let mut out_ok = vec![false; ytaps.len() * out_cols];
    for (orow, t) in ytaps.iter().enumerate() {
        for c in 0..out_cols {
            let idx = |k: usize| (t.start + k) * out_cols + c;
            let hok = |k: usize| hv.get(idx(k)).copied().unwrap_or(false);
            if valid.is_some() && cubic && longest_run(t.weights.len(), hok) < t.weights.len() / 2 {
                continue;
            }
            let (mut s, mut w) = (0.0, 0.0);
            for (k, &wk) in t.weights.iter().enumerate() {
                if hok(k) {
                    s += wk * h.get(idx(k)).copied().unwrap_or(0.0);
                    w += wk;
                }
            }
            if let Some(v) = normalised(valid.is_some(), s, w) {
                (out[orow * out_cols + c], out_ok[orow * out_cols + c]) = (v, true);
            }
        }
    }
    (out, out_ok)
}

/// A weighted sum `s` divided by its weight `w`, as GDAL finishes a pass:
/// without a mask any sum is a value (not normalised when `w` is 0); with
/// one, only a positive weight makes a value.
fn normalised(masked: bool, s: f64, w: f64) -> Option<f64> {
    match (masked, w) {
        (false, w) if w != 0.0 => Some(s / w),
        (false, _) => Some(s),
        (true, w) if w > 0.0 => Some(s / w),
        (true, _) => None,
    }
}

/// The longest run of consecutive `ok` among `n` taps.
fn longest_run(n: usize, ok: impl Fn(usize) -> bool) -> usize {
    let (mut best, mut run) = (0, 0);
    for k in 0..n {
        run = if ok(k) { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// GDAL's average: the mean of the source pixels an output covers, each
/// weighted by its covered area, over valid pixels only (a true 2-D mean).
fn average_band(
    src: &[f64],
    valid: Option<&[bool]>,
    cols: usize,
    xtaps: &[Taps],
    ytaps: &[Taps],
) -> (Vec<f64>, Vec<bool>) {
    let n = xtaps.len() * ytaps.len();
    let (mut out, mut out_ok) = (vec![0.0; n], vec![false; n]);
    // GDAL's 2x fast path: when every output spans exactly two contiguous
    // source columns, no source pixel is masked, and an output row spans
    // two source rows, the four pixels are averaged with equal weights,
    // whatever fraction of the second row the output covers.
    let x_two = xtaps.iter().all(|t| t.weights.len() == 2) && xtaps.windows(2).all(|p| p[1].start == p[0].start + 2);
    let all_valid = valid.is_none_or(|v| v.iter().all(|&b| b));
    for (orow, ty) in ytaps.iter().enumerate() {
        let plain = x_two && all_valid && ty.weights.len() == 2;
        for (oc, tx) in xtaps.iter().enumerate() {
            let (mut s, mut w, mut count) = (0.0, 0.0, 0usize);
            for (ky, &wy) in ty.weights.iter().enumerate() {
                for (kx, &wx) in tx.weights.iter().enumerate() {
                    let (wx, wy) = if plain { (1.0, 1.0) } else { (wx, wy) };
                    let i = (ty.start + ky) * cols + tx.start + kx;
                    if valid.is_none_or(|v| v.get(i).copied().unwrap_or(false)) {
                        s += src.get(i).copied().unwrap_or(0.0) * wx * wy;
                        w += wx * wy;
                        count += 1;
                    }
                }
            }
            let o = orow * xtaps.len() + oc;
            if count > 0 && w != 0.0 {
                (out[o], out_ok[o]) = (s / w, true);
            }
        }
    }
    (out, out_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(off: f64, size: f64, out: usize, len: i64) -> Axis {
        Axis {
            off,
            size,
            int_off: off.trunc() as i64,
            out,
            len,
        }
    }

    #[test]
    fn average_of_a_two_to_one_reduction() {
        let src: Vec<f64> = (0..16).map(f64::from).collect();
        let a = axis(0.0, 4.0, 2, 4);
        let t = axis_taps(Resampling::Average, &a, 2, 1);
        let (out, ok) = resample_band(Resampling::Average, &src, None, 4, &t, &t);
        assert_eq!(out, [2.5, 4.5, 10.5, 12.5]);
        assert!(ok.iter().all(|&v| v));
    }

    #[test]
    fn average_is_a_two_dimensional_mean_of_valid_pixels() {
        // GDAL: (10 + 10 + 100) / 3 = 40, not the mean of row means (55).
        let src = [10.0, 10.0, 100.0, -1.0];
        let valid = [true, true, true, false];
        let t = axis_taps(Resampling::Average, &axis(0.0, 2.0, 1, 2), 1, 1);
        let (out, ok) = resample_band(Resampling::Average, &src, Some(&valid), 2, &t, &t);
        assert_eq!((out[0], ok[0]), (40.0, true));
    }

    #[test]
    fn bilinear_identity_at_scale_one_and_invalid_pixels_are_skipped() {
        let src = [1.0, 2.0, 3.0, 4.0];
        let t = axis_taps(Resampling::Bilinear, &axis(0.0, 4.0, 4, 4), 4, 1);
        let one = axis_taps(Resampling::Bilinear, &axis(0.0, 1.0, 1, 1), 1, 1);
        let (out, _) = resample_band(Resampling::Bilinear, &src, None, 4, &t, &one);
        assert_eq!(out, src);
        let valid = [true, false, true, true];
        let (out, ok) = resample_band(Resampling::Bilinear, &src, Some(&valid), 4, &t, &one);
        assert_eq!(
            ok,
            [true, false, true, true],
            "at scale 1 each output is its own source pixel"
        );
        assert_eq!((out[0], out[2]), (1.0, 3.0));
    }

    #[test]
    fn cubic_needs_a_run_of_valid_taps_half_as_long_as_the_kernel() {
        // 4 taps, valid at 0 and 2 only: the longest run is 1 < 4 / 2.
        let src = [1.0, 2.0, 3.0, 4.0];
        let t = Taps {
            start: 0,
            weights: vec![-0.0625, 0.5625, 0.5625, -0.0625],
        };
        let one = Taps {
            start: 0,
            weights: vec![1.0],
        };
        let (_, ok) = resample_band(
            Resampling::Cubic,
            &src,
            Some(&[true, false, true, false]),
            4,
            std::slice::from_ref(&t),
            std::slice::from_ref(&one),
        );
        assert_eq!(ok, [false]);
        let (_, ok) = resample_band(
            Resampling::Cubic,
            &src,
            Some(&[true, true, false, false]),
            4,
            &[t],
            &[one],
        );
        assert_eq!(ok, [true]);
    }
}
