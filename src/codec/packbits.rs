//! PackBits (TIFF 6.0 section 9, compression 32773): a header byte n, then
//! n+1 literal bytes (n in 0..=127), or one byte repeated 1-n times
//! (n in -127..=-1); -128 is a no-op.

use super::{CodecResult, err};

/// Decodes exactly `expected` bytes.
pub fn decode(data: &[u8], expected: usize) -> CodecResult<Vec<u8>> {
    let mut out = Vec::with_capacity(expected);
    let mut i = 0;
    while out.len() < expected {
        let Some(&h) = data.get(i) else {
            return err(format!("PackBits stream ended at {} of {expected} bytes", out.len()));
        };
        i += 1;
        let n = h as i8;
        if n >= 0 {
            let len = n as usize + 1;
            let Some(lit) = data.get(i..i + len) else {
                return err("PackBits literal run past the end of the stream");
            };
            out.extend_from_slice(lit);
            i += len;
        } else if n != -128 {
            let Some(&b) = data.get(i) else {
                return err("PackBits repeat run past the end of the stream");
            };
            i += 1;
            out.resize(out.len() + (1 - isize::from(n)) as usize, b);
        }
    }
    out.truncate(expected);
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tiff_spec_example() {
        let packed = [
            0xfe, 0xaa, 0x02, 0x80, 0x00, 0x2a, 0xfd, 0xaa, 0x03, 0x80, 0x00, 0x2a, 0x22, 0xf7, 0xaa,
        ];
        let expect = [
            0xaa, 0xaa, 0xaa, 0x80, 0x00, 0x2a, 0xaa, 0xaa, 0xaa, 0xaa, 0x80, 0x00, 0x2a, 0x22, 0xaa, 0xaa, 0xaa, 0xaa,
            0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
        ];
        assert_eq!(super::decode(&packed, expect.len()).unwrap(), expect);
        assert!(super::decode(&packed, expect.len() + 1).is_err());
    }
}
