//! Pixel data types, typed arrays and masks.
//!
//! [`DataType`] names follow numpy, as rasterio's profile does; arrays are
//! (bands, rows, cols), as in rasterio, and masks follow numpy.ma.

mod array;
mod mask;
mod nodata;

use std::fmt;

pub use array::{ArrayData, MaskedArray, Sample};
pub use mask::{Mask, MaskSource};
pub use nodata::Nodata;

/// Calls `$go!(T)` for the Rust type of `$dtype`.
macro_rules! dispatch {
    ($dtype:expr, $go:ident) => {
        match $dtype {
            $crate::raster::DataType::UInt8 => $go!(u8),
            $crate::raster::DataType::Int8 => $go!(i8),
            $crate::raster::DataType::UInt16 => $go!(u16),
            $crate::raster::DataType::Int16 => $go!(i16),
            $crate::raster::DataType::UInt32 => $go!(u32),
            $crate::raster::DataType::Int32 => $go!(i32),
            $crate::raster::DataType::UInt64 => $go!(u64),
            $crate::raster::DataType::Int64 => $go!(i64),
            $crate::raster::DataType::Float32 => $go!(f32),
            $crate::raster::DataType::Float64 => $go!(f64),
        }
    };
}
pub(crate) use dispatch;

/// The type of one sample, named as numpy names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DataType {
    /// `uint8`
    UInt8,
    /// `int8`
    Int8,
    /// `uint16`
    UInt16,
    /// `int16`
    Int16,
    /// `uint32`
    UInt32,
    /// `int32`
    Int32,
    /// `uint64`
    UInt64,
    /// `int64`
    Int64,
    /// `float32` (16-bit floats in the file are widened to this, as GDAL does)
    Float32,
    /// `float64`
    Float64,
}

impl DataType {
    /// The type GDAL exposes for a TIFF SampleFormat (1 unsigned, 2 signed,
    /// 3 float) and BitsPerSample. Unsigned depths below 8 read as uint8 and
    /// odd depths widen to the next type, as in GDAL; `None` when unsupported
    /// (complex samples, 24-bit floats, ...).
    pub fn from_tiff(sample_format: u16, bits: u16) -> Option<Self> {
        Some(match (sample_format, bits) {
            (1, 1..=8) => Self::UInt8,
            (1, 9..=16) => Self::UInt16,
            (1, 17..=32) => Self::UInt32,
            (1, 33..=64) => Self::UInt64,
            (2, 8) => Self::Int8,
            (2, 16) => Self::Int16,
            (2, 32) => Self::Int32,
            (2, 64) => Self::Int64,
            (3, 16 | 32) => Self::Float32,
            (3, 64) => Self::Float64,
            _ => return None,
        })
    }

    /// The numpy name, e.g. `"uint16"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::UInt8 => "uint8",
            Self::Int8 => "int8",
            Self::UInt16 => "uint16",
            Self::Int16 => "int16",
            Self::UInt32 => "uint32",
            Self::Int32 => "int32",
            Self::UInt64 => "uint64",
            Self::Int64 => "int64",
            Self::Float32 => "float32",
            Self::Float64 => "float64",
        }
    }

    /// Bytes per sample in memory.
    pub fn size(self) -> usize {
        match self {
            Self::UInt8 | Self::Int8 => 1,
            Self::UInt16 | Self::Int16 => 2,
            Self::UInt32 | Self::Int32 | Self::Float32 => 4,
            Self::UInt64 | Self::Int64 | Self::Float64 => 8,
        }
    }

    /// True for float32 and float64.
    pub fn is_float(self) -> bool {
        matches!(self, Self::Float32 | Self::Float64)
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
