//! NumPy `.npy` files (format version 1.0): writing arrays and masks, and
//! reading back the simple C-ordered arrays numpy writes.
//!
//! Format: the magic `\x93NUMPY`, version 1.0, a little-endian u16 header
//! length, then a Python dict literal (`descr`, `fortran_order`, `shape`)
//! padded with spaces to a multiple of 64 bytes and ended by `\n`, then the
//! raw data.

use async_cog::{ArrayData, DataType, Mask};

fn descr(dtype: DataType) -> String {
    match dtype {
        DataType::UInt8 => "|u1",
        DataType::Int8 => "|i1",
        DataType::UInt16 => "<u2",
        DataType::Int16 => "<i2",
        DataType::UInt32 => "<u4",
        DataType::Int32 => "<i4",
        DataType::UInt64 => "<u8",
        DataType::Int64 => "<i8",
        DataType::Float32 => "<f4",
        DataType::Float64 => "<f8",
        // A type added later: raw bytes (numpy's void) until it gets its own arm.
        other => return format!("|V{}", other.size()),
    }
    .to_string()
}

fn header(descr: &str, shape: (usize, usize, usize)) -> Vec<u8> {
    let dict = format!(
        "{{'descr': '{descr}', 'fortran_order': False, 'shape': ({}, {}, {}), }}",
        shape.0, shape.1, shape.2
    );
    let unpadded = 10 + dict.len() + 1;
    let total = unpadded.div_ceil(64) * 64;
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    h.extend_from_slice(&((total - 10) as u16).to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    h.resize(total - 1, b' ');
    h.push(b'\n');
    h
}

/// An array as `.npy` bytes (little-endian, C order).
pub fn to_npy(data: &ArrayData) -> Vec<u8> {
    let mut out = header(&descr(data.dtype()), data.shape());
    out.extend(data.to_le_bytes());
    out
}

/// A mask as a `bool` `.npy` (true = invalid).
pub fn mask_to_npy(mask: &Mask) -> Vec<u8> {
    let mut out = header("|b1", mask.shape());
    out.extend(mask.iter().map(|&b| u8::from(b)));
    out
}

/// Reads a 3-D little-endian C-ordered `.npy` of a supported type.
// Used by the tests (tests/support includes this file), not by the CLI.
#[allow(dead_code)]
pub fn from_npy(bytes: &[u8]) -> Option<ArrayData> {
    let rest = bytes.strip_prefix(b"\x93NUMPY")?;
    let len_size = match rest.first()? {
        1 => 2,
        2 | 3 => 4,
        _ => return None,
    };
    let len = if len_size == 2 {
        usize::from(u16::from_le_bytes([*rest.get(2)?, *rest.get(3)?]))
    } else {
        u32::from_le_bytes([*rest.get(2)?, *rest.get(3)?, *rest.get(4)?, *rest.get(5)?]) as usize
    };
    let start = 6 + 2 + len_size;
    let dict = std::str::from_utf8(bytes.get(start..start + len)?).ok()?;
    if dict.contains("'fortran_order': True") {
        return None;
    }
    let descr = dict.split("'descr':").nth(1)?.split('\'').nth(1)?;
    let dtype = [
        DataType::UInt8,
        DataType::Int8,
        DataType::UInt16,
        DataType::Int16,
        DataType::UInt32,
        DataType::Int32,
        DataType::UInt64,
        DataType::Int64,
        DataType::Float32,
        DataType::Float64,
    ]
    .into_iter()
    // Little-endian or byte-sized only ('>' never matches).
    .find(|&d| descr.trim_start_matches(['<', '|', '=']) == descr_tail(d))?;
    let shape_text = dict
        .split("'shape':")
        .nth(1)?
        .split(')')
        .next()?
        .trim_start_matches([' ', '(']);
    let dims: Vec<usize> = shape_text.split(',').filter_map(|d| d.trim().parse().ok()).collect();
    let shape = match dims.as_slice() {
        [a, b, c] => (*a, *b, *c),
        [a, b] => (1, *a, *b),
        _ => return None,
    };
    let data = bytes.get(start + len..)?;
    let native: Vec<u8> = if cfg!(target_endian = "little") {
        data.to_vec()
    } else {
        data.chunks_exact(dtype.size())
            .flat_map(|c| c.iter().rev().copied())
            .collect()
    };
    ArrayData::from_ne_bytes(dtype, shape, &native)
}

#[allow(dead_code)]
fn descr_tail(d: DataType) -> String {
    descr(d).trim_start_matches(['<', '|']).to_string()
}

#[cfg(test)]
mod tests {
    // Unused where a bench includes this file (its tests do not run there).
    #[allow(unused_imports)]
    use super::*;

    #[test]
    fn round_trip_and_header_alignment() {
        let bytes: Vec<u8> = [1.5f32, -2.0, 3.25, 4.0].iter().flat_map(|v| v.to_ne_bytes()).collect();
        let a = ArrayData::from_ne_bytes(DataType::Float32, (1, 2, 2), &bytes).unwrap();
        let npy = to_npy(&a);
        assert_eq!((npy.len() - 16) % 64, 0, "data starts on a 64-byte boundary");
        assert!(std::str::from_utf8(&npy[10..64]).unwrap().contains("'descr': '<f4'"));
        assert_eq!(from_npy(&npy).unwrap(), a);
        let m = mask_to_npy(&Mask::per_pixel(1, ndarray::Array2::from_elem((2, 2), true)));
        assert!(std::str::from_utf8(&m[10..64]).unwrap().contains("'|b1'"));
        assert_eq!(&m[m.len() - 4..], &[1, 1, 1, 1]);
        assert_eq!((m.len() - 4) % 64, 0);
    }
}
