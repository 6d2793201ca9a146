//! Where validity comes from, in GDAL's `GetMaskBand()` order. `true` in a
//! mask means invalid, as in numpy.ma.

/// Where a pixel's validity comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MaskSource {
    /// An internal mask IFD (GDAL's `GMF_PER_DATASET`).
    Internal,
    /// An alpha band (`GMF_ALPHA`); it is then not counted as a data band.
    Alpha,
    /// The nodata value (`GMF_NODATA`).
    Nodata,
}

impl MaskSource {
    /// `"internal"`, `"alpha"` or `"nodata"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Internal => "internal",
            Self::Alpha => "alpha",
            Self::Nodata => "nodata",
        }
    }
}
