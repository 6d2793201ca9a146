//! Writing arrays for people and for numpy: `.npy` (data in the file's own
//! type, shape (bands, rows, cols)), a `bool` `.npy` mask (true = invalid),
//! or an 8-bit `.png` to look at.
//!
//! PNG: three or more bands show the first three as RGB, fewer show the
//! first as gray. Samples that are not 8-bit are stretched linearly from
//! their valid min to max per band. Invalid pixels are transparent: those
//! invalid in every shown band (a dataset mask, as rasterio builds one).

use std::path::Path;

use crate::npy::{mask_to_npy, to_npy};
use async_cog::{DataType, Error, MaskedArray, Result};

fn io_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::InvalidRequest {
        message: format!("cannot write {}: {e}", path.display()),
    }
}

/// Writes `array` to `out` (`.npy` or `.png`), and its mask to `mask_out`.
pub fn write(array: &MaskedArray, out: &Path, mask_out: Option<&Path>) -> Result<()> {
    let bytes = match out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("npy") => to_npy(&array.data),
        Some("png") => png_bytes(array)?,
        _ => return Err(io_err(out, "the output must end in .npy or .png")),
    };
    std::fs::write(out, bytes).map_err(|e| io_err(out, e))?;
    if let Some(m) = mask_out {
        std::fs::write(m, mask_to_npy(&array.mask)).map_err(|e| io_err(m, e))?;
    }
    Ok(())
}

fn png_bytes(array: &MaskedArray) -> Result<Vec<u8>> {
    let (bands, rows, cols) = array.shape();
    let shown = if bands >= 3 { 3 } else { 1 };
    let values = array.data.to_f64_vec();
    let plane = rows * cols;
    let mask: Vec<bool> = array.mask.iter().copied().collect();
    let mut channels: Vec<Vec<u8>> = Vec::with_capacity(shown);
    for b in 0..shown {
        let v = &values[b * plane..(b + 1) * plane];
        let m = &mask[b * plane..(b + 1) * plane];
        channels.push(if array.data.dtype() == DataType::UInt8 {
            v.iter().map(|&x| x as u8).collect()
        } else {
            stretch(v, m)
        });
    }
    let transparent: Vec<bool> = (0..plane).map(|i| (0..shown).all(|b| mask[b * plane + i])).collect();
    let alpha = transparent.iter().any(|&t| t);
    let color = match (shown, alpha) {
        (3, true) => png::ColorType::Rgba,
        (3, false) => png::ColorType::Rgb,
        (_, true) => png::ColorType::GrayscaleAlpha,
        (_, false) => png::ColorType::Grayscale,
    };
    let mut pixels = Vec::with_capacity(plane * (shown + usize::from(alpha)));
    for i in 0..plane {
        pixels.extend(channels.iter().map(|c| c[i]));
        if alpha {
            pixels.push(if transparent[i] { 0 } else { 255 });
        }
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, cols as u32, rows as u32);
    enc.set_color(color);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().map_err(|e| Error::Internal(format!("PNG: {e}")))?;
    w.write_image_data(&pixels)
        .map_err(|e| Error::Internal(format!("PNG: {e}")))?;
    w.finish().map_err(|e| Error::Internal(format!("PNG: {e}")))?;
    Ok(out)
}

/// Linear stretch of the valid, finite values to 0..=255.
fn stretch(values: &[f64], invalid: &[bool]) -> Vec<u8> {
    let valid = values
        .iter()
        .zip(invalid)
        .filter(|(v, m)| !**m && v.is_finite())
        .map(|(v, _)| *v);
    let (lo, hi) = valid.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
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
