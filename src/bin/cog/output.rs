//! Writing arrays for people and for numpy: `.npy` (data in the file's own
//! type, shape (bands, rows, cols)), a `bool` `.npy` mask (true = invalid),
//! or an 8-bit `.png` to look at.
//!
//! PNG: as `picture` draws it (8-bit as is, other types stretched over
//! their valid range, invalid pixels transparent).

use std::path::Path;

use crate::npy::{mask_to_npy, to_npy};
use crate::picture::{Picture, Scale};
use async_cog::{Error, MaskedArray, Result};

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
        Some("png") => Picture::of(array, &Scale::Auto).png()?,
        _ => return Err(io_err(out, "the output must end in .npy or .png")),
    };
    std::fs::write(out, bytes).map_err(|e| io_err(out, e))?;
    if let Some(m) = mask_out {
        std::fs::write(m, mask_to_npy(&array.mask)).map_err(|e| io_err(m, e))?;
    }
    Ok(())
}
