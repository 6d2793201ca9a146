//! LERC tiles (compression 34887) with lerc-reader.
//!
//! GDAL writes one LERC2 blob per chunk, with depth = samples in the chunk.
//! The blob's header is checked against the layout before decoding, so a
//! lying header cannot make the decoder allocate more than the tile. Pixels
//! the blob's validity mask marks invalid are set to 0 (NaN for floats).

use lerc_core::PixelData;

use super::{ChunkSpec, CodecError, CodecResult, err};
use crate::raster::DataType;

/// Decodes one (already unwrapped) LERC blob.
pub fn decode(blob: &[u8], spec: &ChunkSpec) -> CodecResult<Vec<u8>> {
    let info = lerc_reader::get_blob_info(blob).map_err(|e| CodecError::Corrupt(format!("LERC: {e}")))?;
    if info.width as usize != spec.width || info.height as usize != spec.height || info.depth as usize != spec.samples {
        return err(format!(
            "LERC blob is {}x{}x{}, the layout says {}x{}x{}",
            info.width, info.height, info.depth, spec.width, spec.height, spec.samples
        ));
    }
    let decoded = lerc_reader::decode(blob).map_err(|e| CodecError::Corrupt(format!("LERC: {e}")))?;
    let mut out: Vec<u8> = match (decoded.pixels, spec.dtype) {
        (PixelData::U8(v), DataType::UInt8) => v,
        (PixelData::I8(v), DataType::Int8) => v.into_iter().map(|x| x as u8).collect(),
        (PixelData::U16(v), DataType::UInt16) => v.into_iter().flat_map(u16::to_ne_bytes).collect(),
        (PixelData::I16(v), DataType::Int16) => v.into_iter().flat_map(i16::to_ne_bytes).collect(),
        (PixelData::U32(v), DataType::UInt32) => v.into_iter().flat_map(u32::to_ne_bytes).collect(),
        (PixelData::I32(v), DataType::Int32) => v.into_iter().flat_map(i32::to_ne_bytes).collect(),
        (PixelData::F32(v), DataType::Float32) => v.into_iter().flat_map(f32::to_ne_bytes).collect(),
        (PixelData::F64(v), DataType::Float64) => v.into_iter().flat_map(f64::to_ne_bytes).collect(),
        (other, dtype) => {
            return err(format!(
                "LERC blob holds {:?} samples, the file says {dtype}",
                pixel_type(&other)
            ));
        }
    };
    if out.len() != spec.output_len() {
        return err(format!(
            "LERC decoded {} bytes, the chunk holds {}",
            out.len(),
            spec.output_len()
        ));
    }
    if let Some(mask) = decoded.mask {
        let size = spec.dtype.size();
        let fill: Vec<u8> = match spec.dtype {
            DataType::Float32 => f32::NAN.to_ne_bytes().to_vec(),
            DataType::Float64 => f64::NAN.to_ne_bytes().to_vec(),
            _ => vec![0; size],
        };
        let px = spec.samples * size;
        for (valid, pixel) in mask.iter().zip(out.chunks_exact_mut(px)) {
            if *valid == 0 {
                for s in pixel.chunks_exact_mut(size) {
                    s.copy_from_slice(&fill);
                }
            }
        }
    }
    Ok(out)
}

fn pixel_type(p: &PixelData) -> &'static str {
    match p {
        PixelData::I8(_) => "int8",
        PixelData::U8(_) => "uint8",
        PixelData::I16(_) => "int16",
        PixelData::U16(_) => "uint16",
        PixelData::I32(_) => "int32",
        PixelData::U32(_) => "uint32",
        PixelData::F32(_) => "float32",
        PixelData::F64(_) => "float64",
        #[allow(unreachable_patterns)]
        _ => "other",
    }
}
