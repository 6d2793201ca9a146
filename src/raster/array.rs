//! Typed arrays of shape (bands, rows, cols), and masked arrays.
//!
//! [`ArrayData`] holds an ndarray `Array3<T>` in the file's own sample type;
//! [`Sample`] gives typed access (`data.as_array::<u16>()`). [`MaskedArray`]
//! pairs it with a [`Mask`] of the same shape where `true` means invalid,
//! as in numpy.ma.

use ndarray::Array3;

use super::{DataType, Mask};

/// A sample type that an [`ArrayData`] can hold.
pub trait Sample: Copy + PartialEq + Default + Send + Sync + 'static {
    /// Its data type.
    const DTYPE: DataType;
    /// Borrows the array if `data` holds this type.
    fn view(data: &ArrayData) -> Option<&Array3<Self>>;
    /// Reads one value from native-order bytes.
    fn from_ne(bytes: &[u8]) -> Self;
    /// The value as f64 (for comparisons with nodata, and display).
    fn to_f64(self) -> f64;
    /// From f64: rounded to nearest and saturated for integers (NaN is 0),
    /// as GDAL converts resampled values.
    fn from_f64(v: f64) -> Self;
    /// The nodata value in this type, exactly; `None` when this type cannot
    /// hold it (an integer type and a fractional or out-of-range value).
    fn from_nodata(nd: super::Nodata) -> Option<Self>;
}

macro_rules! array_data {
    ($($variant:ident($t:ty) = $dt:ident,)*) => {
        /// An array of shape (bands, rows, cols) in one of the supported types.
        #[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
        pub enum ArrayData {
            $(
                #[doc = concat!("`", stringify!($t), "` samples.")]
                $variant(Array3<$t>),
            )*
        }

        $(
            impl From<Array3<$t>> for ArrayData {
                fn from(a: Array3<$t>) -> Self {
                    ArrayData::$variant(a)
                }
            }

            impl Sample for $t {
                const DTYPE: DataType = DataType::$dt;
                fn view(data: &ArrayData) -> Option<&Array3<Self>> {
                    match data {
                        ArrayData::$variant(a) => Some(a),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
                fn from_ne(bytes: &[u8]) -> Self {
                    let mut a = [0u8; std::mem::size_of::<$t>()];
                    a.copy_from_slice(bytes);
                    <$t>::from_ne_bytes(a)
                }
                fn to_f64(self) -> f64 {
                    self as f64
                }
                fn from_f64(v: f64) -> Self {
                    if Self::DTYPE.is_float() { v as $t } else { v.round() as $t }
                }
                fn from_nodata(nd: super::Nodata) -> Option<Self> {
                    if Self::DTYPE.is_float() {
                        return Some(nd.as_f64() as $t);
                    }
                    let i = nd.as_i128()?;
                    let v = i as $t;
                    (v as i128 == i).then_some(v)
                }
            }
        )*

        impl ArrayData {
            /// The sample type.
            pub fn dtype(&self) -> DataType {
                match self {
                    $(ArrayData::$variant(_) => DataType::$dt,)*
                }
            }

            /// (bands, rows, cols).
            pub fn shape(&self) -> (usize, usize, usize) {
                let s = match self {
                    $(ArrayData::$variant(a) => a.shape(),)*
                };
                (s[0], s[1], s[2])
            }

            /// Builds an array from native-order bytes laid out (bands, rows,
            /// cols); `None` when the length does not match.
            pub fn from_ne_bytes(dtype: DataType, shape: (usize, usize, usize), bytes: &[u8]) -> Option<ArrayData> {
                let n = shape.0 * shape.1 * shape.2;
                if bytes.len() != n * dtype.size() {
                    return None;
                }
                Some(match dtype {
                    $(DataType::$dt => ArrayData::$variant(
                        Array3::from_shape_vec(shape, bytes.chunks_exact(dtype.size()).map(<$t>::from_ne).collect()).ok()?,
                    ),)*
                })
            }

            /// Like [`ArrayData::from_ne_bytes`], taking the bytes: uint8 data
            /// is used as it is, without a copy.
            pub fn from_ne_vec(dtype: DataType, shape: (usize, usize, usize), bytes: Vec<u8>) -> Option<ArrayData> {
                if dtype == DataType::UInt8 {
                    return Array3::from_shape_vec(shape, bytes).ok().map(ArrayData::UInt8);
                }
                Self::from_ne_bytes(dtype, shape, &bytes)
            }

            /// The samples as little-endian bytes in (bands, rows, cols) order
            /// (what numpy writes for `<` dtypes).
            pub fn to_le_bytes(&self) -> Vec<u8> {
                match self {
                    $(ArrayData::$variant(a) => a.iter().flat_map(|v| v.to_le_bytes()).collect(),)*
                }
            }

            /// A copy with every sample `mask` marks invalid set to `value`
            /// (rounded and saturated when the type cannot hold it).
            fn filled_with(&self, mask: &Mask, value: super::Nodata) -> ArrayData {
                fn fill<T: Sample>(a: &Array3<T>, m: &Mask, v: super::Nodata) -> Array3<T> {
                    let v = T::from_nodata(v).unwrap_or_else(|| T::from_f64(v.as_f64()));
                    let mut out = a.clone();
                    if !m.is_all_valid() {
                        for (o, &bad) in out.iter_mut().zip(m.iter()) {
                            if bad {
                                *o = v;
                            }
                        }
                    }
                    out
                }
                match self {
                    $(ArrayData::$variant(a) => ArrayData::$variant(fill(a, mask, value)),)*
                }
            }

            /// An array of `shape` holding `value` everywhere (rounded and
            /// saturated when the type cannot hold it).
            pub fn full(dtype: DataType, shape: (usize, usize, usize), value: super::Nodata) -> ArrayData {
                match dtype {
                    $(DataType::$dt => {
                        let v = <$t>::from_nodata(value).unwrap_or_else(|| <$t>::from_f64(value.as_f64()));
                        ArrayData::$variant(Array3::from_elem(shape, v))
                    })*
                }
            }

            /// Every sample as f64, in (bands, rows, cols) order.
            pub fn to_f64_vec(&self) -> Vec<f64> {
                match self {
                    $(ArrayData::$variant(a) => a.iter().map(|v| v.to_f64()).collect(),)*
                }
            }
        }
    };
}

array_data! {
    UInt8(u8) = UInt8,
    Int8(i8) = Int8,
    UInt16(u16) = UInt16,
    Int16(i16) = Int16,
    UInt32(u32) = UInt32,
    Int32(i32) = Int32,
    UInt64(u64) = UInt64,
    Int64(i64) = Int64,
    Float32(f32) = Float32,
    Float64(f64) = Float64,
}

impl ArrayData {
    /// Typed access: `Some` when the array holds `T`.
    pub fn as_array<T: Sample>(&self) -> Option<&Array3<T>> {
        T::view(self)
    }
}

/// Data and its validity: `mask[b, r, c] == true` means invalid (numpy.ma).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MaskedArray {
    /// The samples, (bands, rows, cols).
    pub data: ArrayData,
    /// Same shape as `data`; true = invalid.
    pub mask: Mask,
}

impl MaskedArray {
    /// (bands, rows, cols).
    pub fn shape(&self) -> (usize, usize, usize) {
        self.data.shape()
    }

    /// Number of invalid samples.
    pub fn invalid_count(&self) -> usize {
        self.mask.invalid_count()
    }

    /// The data with every invalid sample replaced by `value` (numpy.ma's
    /// `filled(value)`), in the array's own type; a value the type cannot
    /// hold is rounded and saturated, as GDAL converts.
    pub fn filled(&self, value: super::Nodata) -> ArrayData {
        self.data.filled_with(&self.mask, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_access_and_byte_round_trip() {
        let bytes: Vec<u8> = [1u16, 2, 3, 4, 5, 6].iter().flat_map(|v| v.to_ne_bytes()).collect();
        let a = ArrayData::from_ne_bytes(DataType::UInt16, (1, 2, 3), &bytes).unwrap();
        assert_eq!(a.shape(), (1, 2, 3));
        assert_eq!(a.as_array::<u16>().unwrap()[[0, 1, 2]], 6);
        assert!(a.as_array::<f32>().is_none());
        assert_eq!(
            a.to_le_bytes(),
            [1u16, 2, 3, 4, 5, 6]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<_>>()
        );
        assert!(ArrayData::from_ne_bytes(DataType::UInt16, (1, 2, 2), &bytes).is_none());
    }
}
