//! Tag values: decoding a field's raw bytes into typed vectors.
//!
//! A TIFF entry holds `count` elements of one [`FieldType`], either inline in
//! the entry or at an offset. This module turns those bytes into a [`Value`]
//! in either byte order. Decoding never panics: the caller hands in exactly
//! `count * size` bytes, checked beforehand against the limits.

use super::tags::FieldType;

/// Byte order of a TIFF file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ByteOrder {
    /// `II`: little-endian.
    LittleEndian,
    /// `MM`: big-endian.
    BigEndian,
}

impl ByteOrder {
    /// Reads a u16 at `pos`, if the slice is long enough.
    pub fn u16(self, b: &[u8], pos: usize) -> Option<u16> {
        let a: [u8; 2] = b.get(pos..pos.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            Self::LittleEndian => u16::from_le_bytes(a),
            Self::BigEndian => u16::from_be_bytes(a),
        })
    }
    /// Reads a u32 at `pos`, if the slice is long enough.
    pub fn u32(self, b: &[u8], pos: usize) -> Option<u32> {
        let a: [u8; 4] = b.get(pos..pos.checked_add(4)?)?.try_into().ok()?;
        Some(match self {
            Self::LittleEndian => u32::from_le_bytes(a),
            Self::BigEndian => u32::from_be_bytes(a),
        })
    }
    /// Reads a u64 at `pos`, if the slice is long enough.
    pub fn u64(self, b: &[u8], pos: usize) -> Option<u64> {
        let a: [u8; 8] = b.get(pos..pos.checked_add(8)?)?.try_into().ok()?;
        Some(match self {
            Self::LittleEndian => u64::from_le_bytes(a),
            Self::BigEndian => u64::from_be_bytes(a),
        })
    }
}

/// A decoded tag value: one vector per field type.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// BYTE.
    Byte(Vec<u8>),
    /// ASCII, trailing NULs removed; inner NULs separate several strings.
    Ascii(String),
    /// SHORT.
    Short(Vec<u16>),
    /// LONG.
    Long(Vec<u32>),
    /// RATIONAL as (numerator, denominator).
    Rational(Vec<(u32, u32)>),
    /// SBYTE.
    SByte(Vec<i8>),
    /// UNDEFINED.
    Undefined(Vec<u8>),
    /// SSHORT.
    SShort(Vec<i16>),
    /// SLONG.
    SLong(Vec<i32>),
    /// SRATIONAL as (numerator, denominator).
    SRational(Vec<(i32, i32)>),
    /// FLOAT.
    Float(Vec<f32>),
    /// DOUBLE.
    Double(Vec<f64>),
    /// IFD (32-bit offsets).
    Ifd(Vec<u32>),
    /// LONG8.
    Long8(Vec<u64>),
    /// SLONG8.
    SLong8(Vec<i64>),
    /// IFD8.
    Ifd8(Vec<u64>),
}

impl Value {
    /// Decodes `bytes` (exactly `count * field_type.size()` of them) as `field_type`.
    pub fn decode(field_type: FieldType, bytes: &[u8], order: ByteOrder) -> Value {
        fn each<T>(bytes: &[u8], size: usize, f: impl Fn(&[u8]) -> Option<T>) -> Vec<T> {
            bytes.chunks_exact(size).filter_map(f).collect()
        }
        let o = order;
        match field_type {
            FieldType::Byte => Value::Byte(bytes.to_vec()),
            FieldType::Undefined => Value::Undefined(bytes.to_vec()),
            FieldType::SByte => Value::SByte(bytes.iter().map(|&b| b as i8).collect()),
            FieldType::Ascii => {
                let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
                Value::Ascii(String::from_utf8_lossy(bytes.get(..end).unwrap_or_default()).into_owned())
            }
            FieldType::Short => Value::Short(each(bytes, 2, |c| o.u16(c, 0))),
            FieldType::SShort => Value::SShort(each(bytes, 2, |c| o.u16(c, 0).map(|v| v as i16))),
            FieldType::Long => Value::Long(each(bytes, 4, |c| o.u32(c, 0))),
            FieldType::Ifd => Value::Ifd(each(bytes, 4, |c| o.u32(c, 0))),
            FieldType::SLong => Value::SLong(each(bytes, 4, |c| o.u32(c, 0).map(|v| v as i32))),
            FieldType::Float => Value::Float(each(bytes, 4, |c| o.u32(c, 0).map(f32::from_bits))),
            FieldType::Rational => Value::Rational(each(bytes, 8, |c| Some((o.u32(c, 0)?, o.u32(c, 4)?)))),
            FieldType::SRational => {
                Value::SRational(each(bytes, 8, |c| Some((o.u32(c, 0)? as i32, o.u32(c, 4)? as i32))))
            }
            FieldType::Double => Value::Double(each(bytes, 8, |c| o.u64(c, 0).map(f64::from_bits))),
            FieldType::Long8 => Value::Long8(each(bytes, 8, |c| o.u64(c, 0))),
            FieldType::Ifd8 => Value::Ifd8(each(bytes, 8, |c| o.u64(c, 0))),
            FieldType::SLong8 => Value::SLong8(each(bytes, 8, |c| o.u64(c, 0).map(|v| v as i64))),
        }
    }

    /// Number of elements (characters for ASCII).
    pub fn len(&self) -> usize {
        match self {
            Value::Byte(v) | Value::Undefined(v) => v.len(),
            Value::Ascii(s) => s.len(),
            Value::Short(v) => v.len(),
            Value::Long(v) | Value::Ifd(v) => v.len(),
            Value::Rational(v) => v.len(),
            Value::SByte(v) => v.len(),
            Value::SShort(v) => v.len(),
            Value::SLong(v) => v.len(),
            Value::SRational(v) => v.len(),
            Value::Float(v) => v.len(),
            Value::Double(v) => v.len(),
            Value::Long8(v) | Value::Ifd8(v) => v.len(),
            Value::SLong8(v) => v.len(),
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Unsigned integer elements widened to u64; `None` for other types or
    /// negative values.
    pub fn to_u64_vec(&self) -> Option<Vec<u64>> {
        Some(match self {
            Value::Byte(v) | Value::Undefined(v) => v.iter().map(|&x| u64::from(x)).collect(),
            Value::Short(v) => v.iter().map(|&x| u64::from(x)).collect(),
            Value::Long(v) | Value::Ifd(v) => v.iter().map(|&x| u64::from(x)).collect(),
            Value::Long8(v) | Value::Ifd8(v) => v.clone(),
            Value::SByte(v) => v.iter().map(|&x| u64::try_from(x).ok()).collect::<Option<_>>()?,
            Value::SShort(v) => v.iter().map(|&x| u64::try_from(x).ok()).collect::<Option<_>>()?,
            Value::SLong(v) => v.iter().map(|&x| u64::try_from(x).ok()).collect::<Option<_>>()?,
            Value::SLong8(v) => v.iter().map(|&x| u64::try_from(x).ok()).collect::<Option<_>>()?,
            _ => return None,
        })
    }

    /// The first element as u64, for integer types.
    pub fn first_u64(&self) -> Option<u64> {
        self.to_u64_vec()?.first().copied()
    }

    /// Numeric elements as f64 (rationals divided out); `None` for ASCII.
    pub fn to_f64_vec(&self) -> Option<Vec<f64>> {
        Some(match self {
            Value::Float(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Value::Double(v) => v.clone(),
            Value::Rational(v) => v.iter().map(|&(n, d)| f64::from(n) / f64::from(d)).collect(),
            Value::SRational(v) => v.iter().map(|&(n, d)| f64::from(n) / f64::from(d)).collect(),
            Value::SByte(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Value::SShort(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Value::SLong(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Value::SLong8(v) => v.iter().map(|&x| x as f64).collect(),
            Value::Ascii(_) => return None,
            other => other.to_u64_vec()?.into_iter().map(|x| x as f64).collect(),
        })
    }

    /// The string of an ASCII value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Ascii(s) => Some(s),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_both_byte_orders() {
        let le = Value::decode(FieldType::Short, &[1, 0, 0, 1], ByteOrder::LittleEndian);
        let be = Value::decode(FieldType::Short, &[1, 0, 0, 1], ByteOrder::BigEndian);
        assert_eq!(le, Value::Short(vec![1, 256]));
        assert_eq!(be, Value::Short(vec![256, 1]));
        let r = Value::decode(FieldType::Rational, &[0, 0, 0, 3, 0, 0, 0, 2], ByteOrder::BigEndian);
        assert_eq!(r.to_f64_vec(), Some(vec![1.5]));
        let s = Value::decode(
            FieldType::SRational,
            &[0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0],
            ByteOrder::LittleEndian,
        );
        assert_eq!(s.to_f64_vec(), Some(vec![-0.5]));
        let d = Value::decode(FieldType::Double, &2.5f64.to_be_bytes(), ByteOrder::BigEndian);
        assert_eq!(d.to_f64_vec(), Some(vec![2.5]));
        let f = Value::decode(FieldType::Float, &(-1.25f32).to_le_bytes(), ByteOrder::LittleEndian);
        assert_eq!(f.to_f64_vec(), Some(vec![-1.25]));
        let l8 = Value::decode(FieldType::Long8, &(5u64 << 33).to_le_bytes(), ByteOrder::LittleEndian);
        assert_eq!(l8.first_u64(), Some(5u64 << 33));
        let sl8 = Value::decode(FieldType::SLong8, &(-7i64).to_be_bytes(), ByteOrder::BigEndian);
        assert_eq!(sl8, Value::SLong8(vec![-7]));
        assert_eq!(sl8.to_u64_vec(), None, "negative values are not offsets");
        let sb = Value::decode(FieldType::SByte, &[0xfe], ByteOrder::BigEndian);
        assert_eq!(sb, Value::SByte(vec![-2]));
    }

    #[test]
    fn ascii_drops_trailing_nuls_only() {
        let v = Value::decode(FieldType::Ascii, b"a\0b\0\0", ByteOrder::LittleEndian);
        assert_eq!(v.as_str(), Some("a\0b"));
    }
}
