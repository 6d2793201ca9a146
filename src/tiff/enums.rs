//! The TIFF enumerations a reader decides on, each declared once with its
//! code and its name: the parser types the fields with them, the codec
//! choice matches on [`Compression`], and `cog info` and the profile print
//! their names (GDAL's and rasterio's spellings). A code not in a table is
//! kept as `Unknown(code)`, never an error by itself. May use: nothing.

/// Declares a TIFF enumeration from one table of `Variant = code` lines
/// (each with an optional `=> "label"`; the label defaults to the variant's
/// name): the enum with `Unknown(u16)`, `from_code`, `code`, `name`, `ALL`
/// and `Display` (the label, or `unknown(code)`). Equality, order and hash
/// are the code's, so a hand-made `Unknown(code)` equals the named variant.
macro_rules! tiff_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal $(=> $label:literal)?,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
            /// A code this crate has no name for.
            Unknown(u16),
        }

        impl $name {
            /// Every named value, in table order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The value for a code (never `Unknown` for a code in the table).
            pub fn from_code(code: u16) -> Self {
                match code {
                    $($code => Self::$variant,)*
                    other => Self::Unknown(other),
                }
            }

            /// The code.
            pub fn code(self) -> u16 {
                match self {
                    $(Self::$variant => $code,)*
                    Self::Unknown(c) => c,
                }
            }

            /// The name (`None` for an unknown code).
            pub fn name(self) -> Option<&'static str> {
                match Self::from_code(self.code()) {
                    $(Self::$variant => Some($crate::tiff::tiff_enum!(@label $variant $($label)?)),)*
                    Self::Unknown(_) => None,
                }
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                match (self, other) {
                    // Two named variants: the same variant is the same code
                    // (a cheap test; lookups in IFDs make many).
                    (Self::Unknown(_), _) | (_, Self::Unknown(_)) => self.code() == other.code(),
                    _ => std::mem::discriminant(self) == std::mem::discriminant(other),
                }
            }
        }

        impl Eq for $name {}

        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.code().hash(state);
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.code().cmp(&other.code())
            }
        }

        impl From<u16> for $name {
            fn from(code: u16) -> Self {
                Self::from_code(code)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "unknown({})", self.code()),
                }
            }
        }
    };
    (@label $variant:ident $label:literal) => { $label };
    (@label $variant:ident) => { stringify!($variant) };
}

pub(crate) use tiff_enum;

tiff_enum! {
    /// Compression (tag 259); names are GDAL's `COMPRESSION` values, lowercase.
    Compression {
        /// 1.
        None = 1 => "none",
        /// 2: CCITT modified Huffman RLE.
        CcittRle = 2 => "ccittrle",
        /// 3: CCITT Group 3 fax.
        CcittFax3 = 3 => "ccittfax3",
        /// 4: CCITT Group 4 fax.
        CcittFax4 = 4 => "ccittfax4",
        /// 5.
        Lzw = 5 => "lzw",
        /// 6: old-style JPEG.
        OJpeg = 6 => "ojpeg",
        /// 7.
        Jpeg = 7 => "jpeg",
        /// 8.
        Deflate = 8 => "deflate",
        /// 32946: Deflate under Adobe's old code.
        AdobeDeflate = 32946 => "deflate",
        /// 32773.
        PackBits = 32773 => "packbits",
        /// 34712.
        Jpeg2000 = 34712 => "jpeg2000",
        /// 34887 (possibly wrapped: see `LercParameters`).
        Lerc = 34887 => "lerc",
        /// 34925.
        Lzma = 34925 => "lzma",
        /// 50000.
        Zstd = 50000 => "zstd",
        /// 50001.
        WebP = 50001 => "webp",
        /// 50002: JPEG XL.
        Jxl = 50002 => "jxl",
    }
}

tiff_enum! {
    /// PhotometricInterpretation (tag 262); names as rasterio spells them.
    Photometric {
        /// 0: bilevel or grey, 0 is white.
        MinIsWhite = 0 => "miniswhite",
        /// 1: bilevel or grey, 0 is black.
        MinIsBlack = 1 => "minisblack",
        /// 2.
        Rgb = 2 => "rgb",
        /// 3: a colour map indexes the samples.
        Palette = 3 => "palette",
        /// 4: a transparency mask.
        Mask = 4 => "mask",
        /// 5.
        Cmyk = 5 => "cmyk",
        /// 6 (JPEG-compressed RGB).
        YCbCr = 6 => "ycbcr",
        /// 8.
        CieLab = 8 => "cielab",
        /// 9.
        IccLab = 9 => "icclab",
        /// 10.
        ItuLab = 10 => "itulab",
    }
}

tiff_enum! {
    /// PlanarConfiguration (tag 284).
    PlanarConfig {
        /// 1: the samples of a pixel together (pixel interleaved).
        Chunky = 1 => "chunky",
        /// 2: one plane per sample (band interleaved).
        Planar = 2 => "planar",
    }
}

tiff_enum! {
    /// Predictor (tag 317).
    Predictor {
        /// 1.
        None = 1 => "none",
        /// 2: horizontal differencing.
        Horizontal = 2 => "horizontal",
        /// 3: floating-point (byte planes, then differencing).
        FloatingPoint = 3 => "floating point",
    }
}

tiff_enum! {
    /// SampleFormat (tag 339).
    SampleFormat {
        /// 1: unsigned integer.
        Uint = 1 => "uint",
        /// 2: signed integer.
        Int = 2 => "int",
        /// 3: IEEE floating point.
        Float = 3 => "float",
        /// 4: undefined.
        Void = 4 => "void",
        /// 5: complex integer.
        ComplexInt = 5 => "complexint",
        /// 6: complex floating point.
        ComplexFloat = 6 => "complexfloat",
    }
}

tiff_enum! {
    /// ExtraSamples (tag 338): what a sample beyond the colour ones is.
    ExtraSamples {
        /// 0.
        Unspecified = 0 => "unspecified",
        /// 1: premultiplied alpha.
        AssociatedAlpha = 1 => "associated alpha",
        /// 2: plain alpha.
        UnassociatedAlpha = 2 => "unassociated alpha",
    }
}

impl Compression {
    /// GDAL's lowercase name for this compression, with the codec LERC
    /// wraps its blobs in (`LercParameters`), e.g. `lerc_deflate`.
    pub fn gdal_name(self, lerc_inner: Option<Compression>) -> String {
        match (self, lerc_inner) {
            (Compression::Lerc, Some(inner)) => format!("lerc_{inner}"),
            (c, _) => c.to_string(),
        }
    }
}

impl ExtraSamples {
    /// Either kind of alpha.
    pub fn is_alpha(self) -> bool {
        matches!(self, Self::AssociatedAlpha | Self::UnassociatedAlpha)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_are_kept() {
        assert_eq!(Compression::from_code(32946), Compression::AdobeDeflate);
        assert_eq!(Compression::AdobeDeflate.to_string(), "deflate");
        assert_eq!(Compression::from_code(50000).code(), 50000);
        assert_eq!(Compression::from_code(12345), Compression::Unknown(12345));
        assert_eq!(Compression::Unknown(12345).to_string(), "unknown(12345)");
        assert_eq!(Photometric::from_code(6).to_string(), "ycbcr");
        assert_eq!(Predictor::from_code(3), Predictor::FloatingPoint);
        assert!(ExtraSamples::from_code(2).is_alpha());
        assert_eq!(PlanarConfig::from_code(2), PlanarConfig::Planar);
        assert_eq!(Compression::Unknown(8), Compression::Deflate, "values compare by code");
        assert_ne!(Compression::Deflate, Compression::AdobeDeflate);
        assert_ne!(Compression::Unknown(5), Compression::Deflate);
        assert_eq!(Compression::Unknown(8).name(), Some("deflate"));
        assert!(Compression::ALL.iter().all(|&c| Compression::from_code(c.code()) == c));
    }
}
