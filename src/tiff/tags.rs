//! TIFF tag codes and field types, declared once.
//!
//! The parser, the error messages and `cog info` all take tag names from the
//! single [`Tag`] table here (declared with the same macro as the other TIFF
//! enumerations), so no name or code is ever spelled twice. Codes come from
//! TIFF 6.0 (section 8 and appendix A), TIFF Technical Note 1 (SubIFDs), the
//! GeoTIFF 1.1 standard (OGC 19-008r4) and GDAL's private tags.

use std::fmt;

use super::enums::tiff_enum;

tiff_enum! {
    /// A TIFF tag. Codes this crate has a name for are variants; any other
    /// code is kept as `Unknown(code)`, so every entry of a file has a `Tag`.
    #[allow(missing_docs)]
    Tag {
        NewSubfileType = 254,
        SubfileType = 255,
        ImageWidth = 256,
        ImageLength = 257,
        BitsPerSample = 258,
        Compression = 259,
        PhotometricInterpretation = 262,
        Threshholding = 263,
        FillOrder = 266,
        DocumentName = 269,
        ImageDescription = 270,
        Make = 271,
        Model = 272,
        StripOffsets = 273,
        Orientation = 274,
        SamplesPerPixel = 277,
        RowsPerStrip = 278,
        StripByteCounts = 279,
        MinSampleValue = 280,
        MaxSampleValue = 281,
        XResolution = 282,
        YResolution = 283,
        PlanarConfiguration = 284,
        PageName = 285,
        XPosition = 286,
        YPosition = 287,
        ResolutionUnit = 296,
        PageNumber = 297,
        TransferFunction = 301,
        Software = 305,
        DateTime = 306,
        Artist = 315,
        HostComputer = 316,
        Predictor = 317,
        WhitePoint = 318,
        PrimaryChromaticities = 319,
        ColorMap = 320,
        HalftoneHints = 321,
        TileWidth = 322,
        TileLength = 323,
        TileOffsets = 324,
        TileByteCounts = 325,
        SubIFDs = 330,
        InkSet = 332,
        ExtraSamples = 338,
        SampleFormat = 339,
        SMinSampleValue = 340,
        SMaxSampleValue = 341,
        JPEGTables = 347,
        YCbCrCoefficients = 529,
        YCbCrSubSampling = 530,
        YCbCrPositioning = 531,
        ReferenceBlackWhite = 532,
        XMP = 700,
        Copyright = 33432,
        ModelPixelScale = 33550,
        IPTC = 33723,
        ModelTiepoint = 33922,
        ModelTransformation = 34264,
        Photoshop = 34377,
        ExifIFD = 34665,
        ICCProfile = 34675,
        GeoKeyDirectory = 34735,
        GeoDoubleParams = 34736,
        GeoAsciiParams = 34737,
        GdalMetadata = 42112,
        GdalNodata = 42113,
        LercParameters = 50674,
        RPCCoefficient = 50844,
    }
}

/// TIFF field types (TIFF 6.0 section 2, plus BigTIFF's 16-18).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldType {
    /// 8-bit unsigned.
    Byte,
    /// 8-bit bytes holding 7-bit ASCII, NUL-terminated.
    Ascii,
    /// 16-bit unsigned.
    Short,
    /// 32-bit unsigned.
    Long,
    /// Two LONGs: numerator, denominator.
    Rational,
    /// 8-bit signed.
    SByte,
    /// 8-bit opaque bytes.
    Undefined,
    /// 16-bit signed.
    SShort,
    /// 32-bit signed.
    SLong,
    /// Two SLONGs: numerator, denominator.
    SRational,
    /// IEEE single.
    Float,
    /// IEEE double.
    Double,
    /// 32-bit IFD offset.
    Ifd,
    /// 64-bit unsigned (BigTIFF).
    Long8,
    /// 64-bit signed (BigTIFF).
    SLong8,
    /// 64-bit IFD offset (BigTIFF).
    Ifd8,
}

impl FieldType {
    /// The type for a TIFF type code, if known.
    pub fn from_code(code: u16) -> Option<Self> {
        Some(match code {
            1 => Self::Byte,
            2 => Self::Ascii,
            3 => Self::Short,
            4 => Self::Long,
            5 => Self::Rational,
            6 => Self::SByte,
            7 => Self::Undefined,
            8 => Self::SShort,
            9 => Self::SLong,
            10 => Self::SRational,
            11 => Self::Float,
            12 => Self::Double,
            13 => Self::Ifd,
            16 => Self::Long8,
            17 => Self::SLong8,
            18 => Self::Ifd8,
            _ => return None,
        })
    }

    /// Bytes one element takes.
    pub fn size(self) -> u64 {
        match self {
            Self::Byte | Self::Ascii | Self::SByte | Self::Undefined => 1,
            Self::Short | Self::SShort => 2,
            Self::Long | Self::SLong | Self::Float | Self::Ifd => 4,
            Self::Rational | Self::SRational | Self::Double | Self::Long8 | Self::SLong8 | Self::Ifd8 => 8,
        }
    }

    /// The type's name as the TIFF spec spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Byte => "BYTE",
            Self::Ascii => "ASCII",
            Self::Short => "SHORT",
            Self::Long => "LONG",
            Self::Rational => "RATIONAL",
            Self::SByte => "SBYTE",
            Self::Undefined => "UNDEFINED",
            Self::SShort => "SSHORT",
            Self::SLong => "SLONG",
            Self::SRational => "SRATIONAL",
            Self::Float => "FLOAT",
            Self::Double => "DOUBLE",
            Self::Ifd => "IFD",
            Self::Long8 => "LONG8",
            Self::SLong8 => "SLONG8",
            Self::Ifd8 => "IFD8",
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip_and_unknown_codes_are_kept() {
        assert!(
            Tag::ALL.windows(2).all(|w| w[0].code() < w[1].code()),
            "the table must be in code order"
        );
        for &t in Tag::ALL {
            assert_eq!(Tag::from_code(t.code()), t);
        }
        assert_eq!(Tag::from_code(324), Tag::TileOffsets);
        assert_eq!(Tag::TileOffsets.to_string(), "TileOffsets");
        assert_eq!(Tag::GdalNodata.name(), Some("GdalNodata"));
        assert!(matches!(Tag::from_code(1), Tag::Unknown(1)));
        assert_eq!(Tag::from_code(1).to_string(), "unknown(1)");
        assert_eq!(Tag::Unknown(324), Tag::TileOffsets, "tags compare by code");
    }
}
