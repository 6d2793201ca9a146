//! WebP tiles (compression 50001, as GDAL writes them) with image-webp.
//!
//! A tile is a whole WebP image, lossy or lossless, RGB or RGBA. GDAL
//! writes WebP only for 3 or 4 bands of 8-bit data; a 4-band tile decodes to
//! RGBA (alpha 255 where the image has none), a 3-band tile to RGB.

use std::io::Cursor;

use super::{ChunkSpec, CodecError, CodecResult, err};
use crate::raster::DataType;

/// Decodes one WebP chunk.
pub fn decode(data: &[u8], spec: &ChunkSpec) -> CodecResult<Vec<u8>> {
    if spec.dtype != DataType::UInt8 || !matches!(spec.samples, 3 | 4) {
        return super::unsupported(format!(
            "WebP with {} samples of {} is not supported",
            spec.samples, spec.dtype
        ));
    }
    let mut dec =
        image_webp::WebPDecoder::new(Cursor::new(data)).map_err(|e| CodecError::Corrupt(format!("WebP: {e}")))?;
    let (w, h) = dec.dimensions();
    if w as usize != spec.width || h as usize != spec.height {
        return err(format!(
            "WebP tile is {w}x{h}, the layout says {}x{}",
            spec.width, spec.height
        ));
    }
    let has_alpha = dec.has_alpha();
    let channels = if has_alpha { 4 } else { 3 };
    let mut buf = vec![0u8; spec.width * spec.height * channels];
    dec.read_image(&mut buf)
        .map_err(|e| CodecError::Corrupt(format!("WebP: {e}")))?;
    if channels == spec.samples {
        return Ok(buf);
    }
    let mut out = Vec::with_capacity(spec.output_len());
    for px in buf.chunks_exact(channels) {
        out.extend_from_slice(&px[..3]);
        if spec.samples == 4 {
            out.push(255);
        }
    }
    Ok(out)
}
