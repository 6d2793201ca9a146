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
    /// otherwise; GDAL adds 0.1 to the product (see [`crate::choose_level`]).
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
    /// First source index.
    pub start: usize,
    /// Weights of source `start..start + weights.len()`.
    pub weights: Vec<f64>,
}

fn kernel(r: Resampling, x: f64) -> f64 {
    let x = x.abs();
    match r {
        Resampling::Bilinear => (1.0 - x).max(0.0),
        Resampling::Cubic => {
            let a = -0.5;
            if x < 1.0 {
                ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
            } else if x < 2.0 {
                ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
            } else {
                0.0
            }
        }
        _ => 0.0,
    }
}

fn radius(r: Resampling) -> f64 {
    match r {
        Resampling::Cubic => 2.0,
        _ => 1.0,
    }
}

/// The taps of `out_len` output pixels over a source axis of `src_len`
/// pixels, for a window starting at `offset` and `ratio` source pixels per
/// output pixel (coordinates relative to the source buffer).
pub fn taps(r: Resampling, out_len: usize, src_len: usize, offset: f64, ratio: f64) -> Vec<Taps> {
    let n = src_len as i64;
    (0..out_len)
        .map(|i| {
            let (lo, weights) = if r == Resampling::Average {
                let a = i as f64 * ratio + offset;
                let b = a + ratio;
                let first = (a + 1e-8).floor() as i64;
                let last = (b - 1e-8).ceil() as i64;
                let w: Vec<f64> = (first..last.max(first + 1))
                    .map(|s| ((s + 1) as f64).min(b) - (s as f64).max(a))
                    .map(|w| w.max(0.0))
                    .collect();
                (first, w)
            } else {
                let scale = if ratio > 1.0 { 1.0 / ratio } else { 1.0 };
                let support = radius(r) / scale;
                let centre = (i as f64 + 0.5) * ratio + offset;
                let first = (centre - support + 0.5).floor() as i64;
                let last = (centre + support + 0.5) as i64;
                let w = (first..last.max(first + 1))
                    .map(|s| kernel(r, (s as f64 + 0.5 - centre) * scale))
                    .collect();
                (first, w)
            };
            // Clip to the source; the weights left are renormalised by the caller.
            let start = lo.clamp(0, n);
            let skip = (start - lo) as usize;
            let end = (lo + weights.len() as i64).clamp(start, n);
            let kept = weights.into_iter().skip(skip).take((end - start) as usize).collect();
            Taps {
                start: start as usize,
                weights: kept,
            }
        })
        .collect()
}

/// Resamples one band `src` (rows x cols, row-major) with validity `valid`
/// to `out_rows x out_cols`. Returns values and validity.
pub fn resample_band(
    src: &[f64],
    valid: &[bool],
    cols: usize,
    xtaps: &[Taps],
    ytaps: &[Taps],
) -> (Vec<f64>, Vec<bool>) {
    let rows = src.len() / cols.max(1);
    let out_cols = xtaps.len();
    // Horizontal pass: (rows x out_cols) weighted sums and weight totals.
    let mut hsum = vec![0.0; rows * out_cols];
    let mut hwt = vec![0.0; rows * out_cols];
    for r in 0..rows {
        let row = &src[r * cols..(r + 1) * cols];
        let vrow = &valid[r * cols..(r + 1) * cols];
        for (c, t) in xtaps.iter().enumerate() {
            let (mut s, mut w) = (0.0, 0.0);
            for (k, &wk) in t.weights.iter().enumerate() {
                let i = t.start + k;
                if vrow[i] && row[i].is_finite() {
                    s += wk * row[i];
                    w += wk;
                }
            }
            hsum[r * out_cols + c] = s;
            hwt[r * out_cols + c] = w;
        }
    }
    // Vertical pass over the normalised horizontal results.
    let mut out = vec![0.0; ytaps.len() * out_cols];
    let mut ok = vec![false; ytaps.len() * out_cols];
    for (orow, t) in ytaps.iter().enumerate() {
        for c in 0..out_cols {
            let (mut s, mut w) = (0.0, 0.0);
            for (k, &wk) in t.weights.iter().enumerate() {
                let i = (t.start + k) * out_cols + c;
                if hwt[i] != 0.0 {
                    s += wk * hsum[i] / hwt[i];
                    w += wk;
                }
            }
            if w != 0.0 {
                out[orow * out_cols + c] = s / w;
                ok[orow * out_cols + c] = true;
            }
        }
    }
    (out, ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_of_a_two_to_one_reduction() {
        let src: Vec<f64> = (0..16).map(f64::from).collect();
        let valid = vec![true; 16];
        let xt = taps(Resampling::Average, 2, 4, 0.0, 2.0);
        let yt = taps(Resampling::Average, 2, 4, 0.0, 2.0);
        let (out, ok) = resample_band(&src, &valid, 4, &xt, &yt);
        assert_eq!(out, [2.5, 4.5, 10.5, 12.5]);
        assert!(ok.iter().all(|&v| v));
    }

    #[test]
    fn bilinear_identity_at_scale_one_and_invalid_pixels_are_skipped() {
        let src = [1.0, 2.0, 3.0, 4.0];
        let t = taps(Resampling::Bilinear, 4, 4, 0.0, 1.0);
        let (out, _) = resample_band(&src, &[true; 4], 4, &t, &taps(Resampling::Bilinear, 1, 1, 0.0, 1.0));
        assert_eq!(out, src);
        let (out, ok) = resample_band(
            &src,
            &[true, false, true, true],
            4,
            &t,
            &taps(Resampling::Bilinear, 1, 1, 0.0, 1.0),
        );
        assert_eq!(
            ok,
            [true, false, true, true],
            "at scale 1 each output is its own source pixel"
        );
        assert_eq!((out[0], out[2]), (1.0, 3.0));
        let (_, ok) = resample_band(
            &[5.0],
            &[false],
            1,
            &taps(Resampling::Cubic, 1, 1, 0.0, 1.0),
            &taps(Resampling::Cubic, 1, 1, 0.0, 1.0),
        );
        assert_eq!(ok, [false]);
    }
}
