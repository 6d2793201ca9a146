//! Undoing TIFF predictors, in place, row by row.
//!
//! * Predictor 2, horizontal differencing (TIFF 6.0 section 14): each sample
//!   is stored as the difference from the same sample of the previous pixel,
//!   wrapping in the sample's width. Works on the file's byte order for
//!   8/16/32/64-bit samples with any number of samples per pixel.
//! * Predictor 3, floating point (Adobe Photoshop TIFF Technical Note 3):
//!   the bytes of a row are split into planes, most significant byte first,
//!   and differenced bytewise with a stride of the samples per pixel. Undoing
//!   it yields samples in *native* byte order whatever the file's order, as
//!   libtiff's `fpAcc` does.

use crate::tiff::ByteOrder;

/// Undoes predictor 2 on `data` (rows of `width * samples` samples of
/// `bytes` bytes each, in `order`).
pub fn undo_horizontal(data: &mut [u8], width: usize, samples: usize, bytes: usize, order: ByteOrder) {
    let row_len = width * samples * bytes;
    if row_len == 0 {
        return;
    }
    let stride = samples * bytes;
    for row in data.chunks_exact_mut(row_len) {
        match bytes {
            1 => {
                for i in samples..row.len() {
                    row[i] = row[i].wrapping_add(row[i - samples]);
                }
            }
            2 => accumulate::<2>(row, stride, order, |a, b| {
                (u16::from_ne_bytes(a).wrapping_add(u16::from_ne_bytes(b))).to_ne_bytes()
            }),
            4 => accumulate::<4>(row, stride, order, |a, b| {
                (u32::from_ne_bytes(a).wrapping_add(u32::from_ne_bytes(b))).to_ne_bytes()
            }),
            8 => accumulate::<8>(row, stride, order, |a, b| {
                (u64::from_ne_bytes(a).wrapping_add(u64::from_ne_bytes(b))).to_ne_bytes()
            }),
            _ => {}
        }
    }
}

/// Adds each `N`-byte sample to the one `stride` bytes before it, reading and
/// writing in `order`.
fn accumulate<const N: usize>(
    row: &mut [u8],
    stride: usize,
    order: ByteOrder,
    add: impl Fn([u8; N], [u8; N]) -> [u8; N],
) {
    let native = if cfg!(target_endian = "little") {
        ByteOrder::LittleEndian
    } else {
        ByteOrder::BigEndian
    };
    let swap = order != native;
    let load = |s: &[u8]| -> [u8; N] {
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        if swap {
            a.reverse();
        }
        a
    };
    let mut pos = stride;
    while pos + N <= row.len() {
        let prev = load(&row[pos - stride..pos - stride + N]);
        let cur = load(&row[pos..pos + N]);
        let mut sum = add(cur, prev);
        if swap {
            sum.reverse();
        }
        row[pos..pos + N].copy_from_slice(&sum);
        pos += N;
    }
}

/// Undoes predictor 3 on `data` (rows of `width * samples` floats of `bytes`
/// bytes each). The result is in native byte order.
pub fn undo_floating_point(data: &mut [u8], width: usize, samples: usize, bytes: usize) {
    let count = width * samples;
    let row_len = count * bytes;
    if row_len == 0 {
        return;
    }
    let mut planes = vec![0u8; row_len];
    for row in data.chunks_exact_mut(row_len) {
        for i in samples..row_len {
            row[i] = row[i].wrapping_add(row[i - samples]);
        }
        planes.copy_from_slice(row);
        for c in 0..count {
            for b in 0..bytes {
                // Plane 0 holds the most significant bytes.
                let byte = planes[b * count + c];
                let pos = if cfg!(target_endian = "little") {
                    bytes - 1 - b
                } else {
                    b
                };
                row[c * bytes + pos] = byte;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn horizontal_undoes_differences_in_both_orders() {
        // Two pixels of two u16 samples: (1000, 7), then (+5, -2).
        let mut le: Vec<u8> = [1000u16, 7, 5, 0xfffe].iter().flat_map(|v| v.to_le_bytes()).collect();
        undo_horizontal(&mut le, 2, 2, 2, ByteOrder::LittleEndian);
        let vals: Vec<u16> = le.chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        assert_eq!(vals, [1000, 7, 1005, 5]);
        let mut be: Vec<u8> = [1000u16, 7, 5, 0xfffe].iter().flat_map(|v| v.to_be_bytes()).collect();
        undo_horizontal(&mut be, 2, 2, 2, ByteOrder::BigEndian);
        let vals: Vec<u16> = be.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        assert_eq!(vals, [1000, 7, 1005, 5]);
        let mut b8 = vec![250u8, 10, 250];
        undo_horizontal(&mut b8, 3, 1, 1, ByteOrder::LittleEndian);
        assert_eq!(b8, [250, 4, 254], "wrapping");
    }

    #[test]
    fn floating_point_round_trip() {
        // Encode two f32s the way libtiff's fpDiff does, then undo.
        let vals = [1.5f32, -2.25];
        let count = vals.len();
        let mut planes = vec![0u8; count * 4];
        for (c, v) in vals.iter().enumerate() {
            for (b, byte) in v.to_be_bytes().iter().enumerate() {
                planes[b * count + c] = *byte;
            }
        }
        for i in (1..planes.len()).rev() {
            planes[i] = planes[i].wrapping_sub(planes[i - 1]);
        }
        undo_floating_point(&mut planes, 2, 1, 4);
        let out: Vec<f32> = planes
            .chunks(4)
            .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(out, vals);
    }
}
