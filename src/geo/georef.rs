//! The georeferencing of an image: its affine transform and CRS, read from
//! the model tags and GeoKeys the way GDAL's GTiff driver reads them.
//!
//! * ModelPixelScale + ModelTiepoint win over ModelTransformation. The
//!   transform is `a = ScaleX`, `e = -|ScaleY|` (GDAL takes a negative ScaleY
//!   to mean north-up unless `GTIFF_HONOUR_NEGATIVE_SCALEY` is set), and the
//!   origin is placed so that the first tiepoint's pixel maps to its model
//!   point.
//! * ModelTransformation is used only when it has exactly 16 values.
//! * Several tiepoints and no scale are ground control points: no transform.
//! * PixelIsPoint (GTRasterTypeGeoKey = 2) shifts the origin by half a pixel
//!   so that the transform maps pixel corners, as GDAL does by default
//!   (`GTIFF_POINT_GEO_IGNORE=NO`): `c -= (a + b) / 2`, `f -= (d + e) / 2`.

use super::affine::Affine;
use super::geokeys::{Crs, GeoKeyId, GeoKeys};
use crate::tiff::{Ifd, Tag};

/// How the model coordinates relate to a pixel (GTRasterTypeGeoKey).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RasterType {
    /// A pixel is an area; model points name its top-left corner (default).
    PixelIsArea,
    /// A pixel is a point; model points name its centre.
    PixelIsPoint,
}

/// Georeferencing of one image IFD.
#[derive(Debug, Clone, PartialEq)]
pub struct Georeference {
    /// The corner-based transform, when the file gives one.
    pub transform: Option<Affine>,
    /// The CRS, when the GeoKeys define one.
    pub crs: Option<Crs>,
    /// Area or point.
    pub raster_type: RasterType,
    /// Tiepoints `(i, j, k, x, y, z)` when they are ground control points.
    pub gcps: Vec<[f64; 6]>,
}

impl Georeference {
    /// Reads the georeferencing tags of `ifd`.
    pub fn from_ifd(ifd: &Ifd) -> Georeference {
        let keys = ifd
            .value(Tag::GeoKeyDirectory)
            .and_then(|v| v.to_u64_vec())
            .map(|v| {
                v.into_iter()
                    .map(|x| u16::try_from(x).unwrap_or(0))
                    .collect::<Vec<u16>>()
            })
            .and_then(|dir| {
                let doubles = ifd.f64s(Tag::GeoDoubleParams).unwrap_or_default();
                let ascii = ifd.str(Tag::GeoAsciiParams).unwrap_or_default();
                GeoKeys::parse(&dir, &doubles, ascii)
            });
        let raster_type = match keys.as_ref().and_then(|k| k.short(GeoKeyId::GTRasterTypeGeoKey)) {
            Some(2) => RasterType::PixelIsPoint,
            _ => RasterType::PixelIsArea,
        };
        let scale = ifd.f64s(Tag::ModelPixelScale).unwrap_or_default();
        let ties = ifd.f64s(Tag::ModelTiepoint).unwrap_or_default();
        let matrix = ifd.f64s(Tag::ModelTransformation).unwrap_or_default();
        let mut transform = None;
        if let ([sx, sy, ..], [i, j, _, x, y, ..]) = (scale.as_slice(), ties.as_slice()) {
            let (a, e) = (*sx, -sy.abs());
            transform = Some(Affine {
                a,
                b: 0.0,
                c: x - i * a,
                d: 0.0,
                e,
                f: y - j * e,
            });
        } else if let [m0, m1, _, m3, m4, m5, _, m7, ..] = matrix.as_slice()
            && matrix.len() == 16
        {
            transform = Some(Affine {
                a: *m0,
                b: *m1,
                c: *m3,
                d: *m4,
                e: *m5,
                f: *m7,
            });
        }
        let gcps = if transform.is_none() && ties.len() >= 6 {
            ties.chunks_exact(6)
                .map(|c| [c[0], c[1], c[2], c[3], c[4], c[5]])
                .collect()
        } else {
            Vec::new()
        };
        if raster_type == RasterType::PixelIsPoint
            && let Some(t) = transform.as_mut()
        {
            t.c -= (t.a + t.b) * 0.5;
            t.f -= (t.d + t.e) * 0.5;
        }
        Georeference {
            transform,
            crs: keys.as_ref().and_then(Crs::from_geokeys),
            raster_type,
            gcps,
        }
    }
}
