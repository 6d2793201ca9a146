//! 8-bit pictures of arrays, for people and for map viewers: PNG for
//! `cog tile|read|xyz|preview -o OUT.png` and PNG or lossless WebP tiles
//! for `cog serve`.
//!
//! Three or more bands show the first three as RGB, fewer the first as
//! gray. 8-bit samples are shown as they are; others are stretched per
//! band, over given ranges (`rescale=min,max`, as rio-tiler's
//! `linear_rescale`: clipped, scaled, truncated) or, without ranges, from
//! the array's own valid minimum to maximum. Invalid pixels are
//! transparent: those invalid in every shown band (a dataset mask, as
//! rasterio builds one).

use async_cog::{DataType, Error, MaskedArray, Result};

/// How samples become bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum Scale {
    /// 8-bit as it is, anything else stretched over the array's own range.
    Auto,
    /// Stretch each shown band over its range (the first range serves a
    /// band without one).
    Ranges(Vec<(f64, f64)>),
}

/// Interleaved 8-bit pixels: 1 (gray), 2 (gray, alpha), 3 (RGB) or 4
/// (RGBA) channels.
pub struct Picture {
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Samples per pixel, 1 to 4.
    pub channels: usize,
    /// Row-major, interleaved.
    pub pixels: Vec<u8>,
}

impl Picture {
    /// The picture of `array` (bands, rows, cols).
    pub fn of(array: &MaskedArray, scale: &Scale) -> Picture {
        let (bands, rows, cols) = array.shape();
        let shown = if bands >= 3 { 3 } else { bands.min(1) };
        let plane = rows * cols;
        let values = array.data.to_f64_vec();
        let mask: Vec<bool> = array.mask.iter().copied().collect();
        let mut channels: Vec<Vec<u8>> = Vec::with_capacity(shown);
        for b in 0..shown {
            let v = values.get(b * plane..(b + 1) * plane).unwrap_or(&[]);
            let m = mask.get(b * plane..(b + 1) * plane).unwrap_or(&[]);
            channels.push(match scale {
                Scale::Ranges(r) if !r.is_empty() => {
                    let (lo, hi) = r.get(b).or(r.first()).copied().unwrap_or((0.0, 255.0));
                    linear_rescale(v, lo, hi)
                }
                _ if array.data.dtype() == DataType::UInt8 => v.iter().map(|&x| x as u8).collect(),
                _ => stretch(v, m),
            });
        }
        let transparent: Vec<bool> = (0..plane)
            .map(|i| shown > 0 && (0..shown).all(|b| mask.get(b * plane + i).copied().unwrap_or(true)))
            .collect();
        let alpha = transparent.iter().any(|&t| t);
        let mut pixels = Vec::with_capacity(plane * (shown + usize::from(alpha)));
        for (i, &t) in transparent.iter().enumerate() {
            pixels.extend(channels.iter().map(|c| c.get(i).copied().unwrap_or(0)));
            if alpha {
                pixels.push(if t { 0 } else { 255 });
            }
        }
        Picture {
            width: cols as u32,
            height: rows as u32,
            channels: shown + usize::from(alpha),
            pixels,
        }
    }

    /// PNG bytes.
    pub fn png(&self) -> Result<Vec<u8>> {
        let color = match self.channels {
            4 => png::ColorType::Rgba,
            3 => png::ColorType::Rgb,
            2 => png::ColorType::GrayscaleAlpha,
            _ => png::ColorType::Grayscale,
        };
        let err = |e: png::EncodingError| Error::Internal(format!("PNG: {e}"));
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, self.width, self.height);
        enc.set_color(color);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(err)?;
        w.write_image_data(&self.pixels).map_err(err)?;
        w.finish().map_err(err)?;
        Ok(out)
    }

    /// Lossless WebP bytes.
    pub fn webp(&self) -> Result<Vec<u8>> {
        use image_webp::ColorType as C;
        let color = match self.channels {
            4 => C::Rgba8,
            3 => C::Rgb8,
            2 => C::La8,
            _ => C::L8,
        };
        if self.channels == 0 || self.pixels.len() != self.width as usize * self.height as usize * self.channels {
            return Err(Error::Internal("WebP: pixel buffer does not match its size".into()));
        }
        let mut out = Vec::new();
        image_webp::WebPEncoder::new(&mut out)
            .encode(&self.pixels, self.width, self.height, color)
            .map_err(|e| Error::Internal(format!("WebP: {e}")))?;
        Ok(out)
    }
}

/// rio-tiler's `linear_rescale` into 0..=255: clip to `lo..=hi`, scale,
/// truncate; NaN becomes 0.
fn linear_rescale(values: &[f64], lo: f64, hi: f64) -> Vec<u8> {
    let span = if hi > lo { hi - lo } else { 1.0 };
    values
        .iter()
        .map(|&v| {
            if v.is_nan() {
                0
            } else {
                ((v.max(lo).min(hi) - lo) / span * 255.0).clamp(0.0, 255.0) as u8
            }
        })
        .collect()
}

/// Linear stretch of the valid, finite values to 0..=255.
fn stretch(values: &[f64], invalid: &[bool]) -> Vec<u8> {
    let (lo, hi) = valid_range(values, invalid).unwrap_or((0.0, 1.0));
    let span = if hi > lo { hi - lo } else { 1.0 };
    values
        .iter()
        .map(|&v| {
            if v.is_finite() {
                ((v - lo) / span * 255.0).round().clamp(0.0, 255.0) as u8
            } else {
                0
            }
        })
        .collect()
}

/// The minimum and maximum of the valid, finite values; `None` if none.
pub fn valid_range(values: &[f64], invalid: &[bool]) -> Option<(f64, f64)> {
    let valid = values
        .iter()
        .zip(invalid)
        .filter(|(v, m)| !**m && v.is_finite())
        .map(|(v, _)| *v);
    let (lo, hi) = valid.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    (lo <= hi).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::linear_rescale;

    /// rio-tiler 9.4's linear_rescale((0,100)) of [-5, 0, 50, 99.9, 100, 200]
    /// cast to uint8 is [0, 0, 127, 254, 255, 255].
    #[test]
    fn rescale_clips_scales_and_truncates_like_rio_tiler() {
        assert_eq!(
            linear_rescale(&[-5.0, 0.0, 50.0, 99.9, 100.0, 200.0], 0.0, 100.0),
            vec![0, 0, 127, 254, 255, 255]
        );
    }
}
