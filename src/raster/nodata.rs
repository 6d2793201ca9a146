//! The nodata value, kept exactly in the band's own kind of number.
//!
//! GDAL keeps 64-bit integer nodata as an integer (`GetNoDataValueAsInt64`,
//! `GetNoDataValueAsUInt64`): `9007199254740993` has no f64, so a float
//! would both misreport it and mask its neighbour `9007199254740992`. Masks
//! compare samples with the nodata value in the sample's own type.

use std::fmt;

use super::DataType;

/// A band's nodata value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Nodata {
    /// Any band but a 64-bit integer one (NaN and infinities allowed).
    Float(f64),
    /// An int64 band's nodata.
    Int(i64),
    /// A uint64 band's nodata.
    UInt(u64),
}

impl Nodata {
    /// Parses GDAL_NODATA as GDAL does for a band of `dtype`: 64-bit integer
    /// bands read an integer prefix as C's `strtoll`/`strtoull` do
    /// (saturating; a negative value wraps for uint64), other bands a float
    /// (`nan`, `inf` in any case), rounded to float32 for float32 bands.
    /// `None` when it holds no number.
    pub fn parse(s: &str, dtype: DataType) -> Option<Nodata> {
        let t = s.trim().trim_end_matches('\0').trim();
        match dtype {
            DataType::Int64 => {
                let (neg, digits) = int_prefix(t)?;
                let v = digits.parse::<i128>().unwrap_or(i128::MAX);
                let v = if neg { -v } else { v };
                Some(Nodata::Int(v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64))
            }
            DataType::UInt64 => {
                let (neg, digits) = int_prefix(t)?;
                let v = digits.parse::<u64>().unwrap_or(u64::MAX);
                Some(Nodata::UInt(if neg { v.wrapping_neg() } else { v }))
            }
            DataType::Float32 => parse_float(t).map(|v| Nodata::Float(to_float32(v))),
            _ => parse_float(t).map(Nodata::Float),
        }
    }

    /// The value as f64 (rounded for 64-bit integers beyond 2^53).
    pub fn as_f64(self) -> f64 {
        match self {
            Nodata::Float(v) => v,
            Nodata::Int(v) => v as f64,
            Nodata::UInt(v) => v as f64,
        }
    }

    /// The value as an integer, when it is a whole number.
    pub fn as_i128(self) -> Option<i128> {
        match self {
            Nodata::Int(v) => Some(i128::from(v)),
            Nodata::UInt(v) => Some(i128::from(v)),
            Nodata::Float(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e38 => Some(v as i128),
            Nodata::Float(_) => None,
        }
    }

    /// True for a NaN nodata.
    pub fn is_nan(self) -> bool {
        matches!(self, Nodata::Float(v) if v.is_nan())
    }
}

impl fmt::Display for Nodata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Nodata::Float(v) => write!(f, "{v}"),
            Nodata::Int(v) => write!(f, "{v}"),
            Nodata::UInt(v) => write!(f, "{v}"),
        }
    }
}

/// GDAL reports a float32 band's nodata as a float32 value; values just
/// past float32's range (written as e.g. `3.40282347e+38`) become its limit.
fn to_float32(v: f64) -> f64 {
    let max = f64::from(f32::MAX);
    if v.is_finite() && (v.abs() - max).abs() <= max * 1e-9 {
        return max.copysign(v);
    }
    f64::from(v as f32)
}

/// Sign and leading digits of `t`, as `strtoll` reads them.
fn int_prefix(t: &str) -> Option<(bool, &str)> {
    let (neg, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    (end > 0).then(|| (neg, &rest[..end]))
}

/// A float as GDAL reads GDAL_NODATA: `nan`/`inf` in any case and sign.
fn parse_float(t: &str) -> Option<f64> {
    let lower = t.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if unsigned.starts_with("nan") {
        return Some(f64::NAN);
    }
    if unsigned.starts_with("inf") {
        return Some(if lower.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    t.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixty_four_bit_nodata_stays_exact() {
        assert_eq!(
            Nodata::parse("9007199254740993", DataType::Int64),
            Some(Nodata::Int(9_007_199_254_740_993))
        );
        assert_eq!(
            Nodata::parse("18446744073709551557", DataType::UInt64),
            Some(Nodata::UInt(18_446_744_073_709_551_557))
        );
        assert_eq!(Nodata::parse("-1", DataType::UInt64), Some(Nodata::UInt(u64::MAX)));
        assert_eq!(Nodata::parse("-9999.5", DataType::Int64), Some(Nodata::Int(-9999)));
        assert_eq!(Nodata::parse("1e400", DataType::Int64), Some(Nodata::Int(1)));
        assert_eq!(Nodata::parse("none", DataType::Int64), None);
    }

    #[test]
    fn float_forms_gdal_writes() {
        assert_eq!(Nodata::parse("-9999", DataType::Int16), Some(Nodata::Float(-9999.0)));
        assert_eq!(Nodata::parse("255\0", DataType::UInt8), Some(Nodata::Float(255.0)));
        assert_eq!(
            Nodata::parse(" -3.4e+38 ", DataType::Float64),
            Some(Nodata::Float(-3.4e38))
        );
        assert!(Nodata::parse("-NaN", DataType::Float32).is_some_and(Nodata::is_nan));
        assert_eq!(
            Nodata::parse("-inf", DataType::Float64),
            Some(Nodata::Float(f64::NEG_INFINITY))
        );
        assert_eq!(
            Nodata::parse("0.1", DataType::Float32),
            Some(Nodata::Float(f64::from(0.1f32)))
        );
    }
}
