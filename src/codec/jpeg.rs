//! JPEG in TIFF (TIFF Technical Note 2, compression 7) with zune-jpeg.
//!
//! Each tile is an abbreviated JPEG stream; the quantisation and Huffman
//! tables live once in the JPEGTables tag. The two are spliced as GDAL and
//! libtiff do: the tables stream without its EOI, then the tile without its
//! SOI. YCbCr data (PhotometricInterpretation 6, any subsampling) is
//! converted to RGB, as GDAL does with `JPEGCOLORMODE=RGB`; RGB and
//! grayscale JPEGs decode as they are. The decoder is told the tile size as
//! its maximum, so a lying header cannot make it allocate more, and runs in
//! strict mode: a truncated stream is an error, where libjpeg only warns and
//! fills the rest with gray.

use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use super::{ChunkSpec, CodecResult, err};
use crate::raster::DataType;

/// Decodes one JPEG chunk into `spec.samples` u8 samples per pixel.
pub fn decode(data: &[u8], tables: Option<&[u8]>, spec: &ChunkSpec) -> CodecResult<Vec<u8>> {
    if spec.dtype != DataType::UInt8 || spec.bits != 8 {
        return super::unsupported(format!("JPEG with {}-bit samples is not supported", spec.bits));
    }
    let stream = splice(data, tables);
    let out_colorspace = match spec.samples {
        1 => ColorSpace::Luma,
        3 => ColorSpace::RGB,
        n => return super::unsupported(format!("JPEG with {n} samples per pixel is not supported")),
    };
    let options = DecoderOptions::default()
        .set_max_width(spec.width)
        .set_max_height(spec.height)
        .set_strict_mode(true)
        .jpeg_set_out_colorspace(out_colorspace);
    let mut dec = JpegDecoder::new_with_options(zune_core::bytestream::ZCursor::new(&stream), options);
    dec.decode_headers()
        .map_err(|e| super::CodecError::Corrupt(format!("JPEG: {e:?}")))?;
    let Some(info) = dec.info() else {
        return err("JPEG: no image header");
    };
    if usize::from(info.width) != spec.width || usize::from(info.height) != spec.height {
        return err(format!(
            "JPEG tile is {}x{}, the layout says {}x{}",
            info.width, info.height, spec.width, spec.height
        ));
    }
    let mut out = super::scratch::zeroed(spec.output_len());
    dec.decode_into(&mut out)
        .map_err(|e| super::CodecError::Corrupt(format!("JPEG: {e:?}")))?;
    Ok(out)
}

/// Tables (without EOI) + tile (without SOI); the tile alone when there are
/// no tables.
fn splice(tile: &[u8], tables: Option<&[u8]>) -> Vec<u8> {
    const SOI: &[u8] = &[0xff, 0xd8];
    const EOI: &[u8] = &[0xff, 0xd9];
    match tables {
        Some(t) if t.len() > 4 => {
            let t = t.strip_suffix(EOI).unwrap_or(t);
            let body = tile.strip_prefix(SOI).unwrap_or(tile);
            let mut s = Vec::with_capacity(t.len() + body.len());
            s.extend_from_slice(t);
            s.extend_from_slice(body);
            s
        }
        _ => tile.to_vec(),
    }
}
