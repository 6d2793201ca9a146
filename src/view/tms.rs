//! An OGC TileMatrixSet (2.0 JSON) for a COG's own grid, as aiocogeo's
//! `create-tms` lays it out and morecantile models it: one tile matrix per
//! level, coarsest first, ids "0" (coarsest) to "N-1" (full resolution),
//! each with the level's cell size, top-left corner, block size and block
//! counts. The scale denominator is morecantile's: cell size x metres per
//! CRS unit / 0.28 mm (aiocogeo leaves out the metres per unit, which is
//! wrong for geographic and feet-based CRSs).
//!
//! May use: `reader`, `geo`, `error`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::geo::{proj4_of_epsg, projected_metres_per_unit};
use crate::reader::CogReader;

/// One level of a [`TileMatrixSet`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TileMatrix {
    /// "0" for the coarsest level.
    pub id: String,
    /// Scale at 0.28 mm per pixel.
    pub scale_denominator: f64,
    /// Pixel size in CRS units.
    pub cell_size: f64,
    /// Always "topLeft".
    pub corner_of_origin: String,
    /// The grid's top-left corner.
    pub point_of_origin: [f64; 2],
    /// Block width in pixels.
    pub tile_width: u64,
    /// Block height in pixels.
    pub tile_height: u64,
    /// Blocks across.
    pub matrix_width: u64,
    /// Blocks down.
    pub matrix_height: u64,
}

/// An OGC TileMatrixSet 2.0 (what morecantile's `TileMatrixSet` dumps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TileMatrixSet {
    /// "Tile matrix for NAME".
    pub title: String,
    /// The set's id.
    pub id: String,
    /// `http://www.opengis.net/def/crs/EPSG/0/CODE`.
    pub crs: String,
    /// Coarsest level first.
    pub tile_matrices: Vec<TileMatrix>,
}

/// Semi-major axes of the ellipsoids PROJ.4 strings name.
const ELLIPSOIDS: [(&str, f64); 7] = [
    ("WGS84", 6_378_137.0),
    ("GRS80", 6_378_137.0),
    ("NAD83", 6_378_137.0),
    ("clrk66", 6_378_206.4),
    ("intl", 6_378_388.0),
    ("bessel", 6_377_397.155),
    ("airy", 6_377_563.396),
];

/// Metres per unit of EPSG `code`: a degree on the CRS's ellipsoid's
/// equator for geographic CRSs (as morecantile computes it), the axis
/// unit for projected ones.
fn metres_per_unit(code: u32, geographic: bool) -> Option<f64> {
    if !geographic {
        return projected_metres_per_unit(code);
    }
    let def = proj4_of_epsg(code)?;
    let a = def
        .split_whitespace()
        .find_map(|p| p.strip_prefix("+a=").and_then(|v| v.parse::<f64>().ok()))
        .or_else(|| {
            ELLIPSOIDS.iter().find_map(|(name, a)| {
                (def.contains(&format!("+ellps={name}")) || def.contains(&format!("+datum={name}"))).then_some(*a)
            })
        })?;
    Some(2.0 * std::f64::consts::PI * a / 360.0)
}

impl CogReader {
    /// The TileMatrixSet of the file's own grid, named `id` (see the
    /// module's documentation). Needs an EPSG code and a north-up grid.
    pub fn tile_matrix_set(&self, id: &str) -> Result<TileMatrixSet> {
        let p = self.profile();
        let invalid = |m: String| Error::InvalidRequest { message: m };
        let crs = p
            .crs
            .as_ref()
            .ok_or_else(|| invalid(format!("{} has no CRS", self.url())))?;
        let code = crs
            .epsg
            .ok_or_else(|| invalid(format!("{} has a CRS without an EPSG code", self.url())))?;
        if !p.transform.is_rectilinear() {
            return Err(invalid(format!(
                "{} is rotated: no tile matrix set fits it",
                self.url()
            )));
        }
        let geographic = crs.model_type == Some(2) || proj4_of_epsg(code).is_some_and(|d| d.contains("+proj=longlat"));
        let mpu = metres_per_unit(code, geographic).ok_or_else(|| invalid(format!("no unit known for EPSG:{code}")))?;
        let n = self.levels().len();
        let mut matrices: Vec<TileMatrix> = self
            .levels()
            .iter()
            .enumerate()
            .map(|(z, l)| {
                let t = p
                    .transform
                    .decimated(p.width as f64 / l.width() as f64, p.height as f64 / l.height() as f64);
                let (bw, bh) = (l.image.block_width.max(1), l.image.block_height.max(1));
                TileMatrix {
                    id: (n - 1 - z).to_string(),
                    scale_denominator: t.a * mpu / 0.28e-3,
                    cell_size: t.a,
                    corner_of_origin: "topLeft".into(),
                    point_of_origin: [t.c, t.f],
                    tile_width: bw,
                    tile_height: bh,
                    matrix_width: l.width().div_ceil(bw),
                    matrix_height: l.height().div_ceil(bh),
                }
            })
            .collect();
        matrices.reverse();
        let name = self.url().rsplit(['/', '\\']).next().unwrap_or(self.url());
        Ok(TileMatrixSet {
            title: format!("Tile matrix for {name}"),
            id: id.to_string(),
            crs: format!("http://www.opengis.net/def/crs/EPSG/0/{code}"),
            tile_matrices: matrices,
        })
    }
}
