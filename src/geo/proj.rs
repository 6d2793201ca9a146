//! Reprojection of web-map coordinates (EPSG:3857, Web Mercator) and of
//! longitudes and latitudes (EPSG:4326) into a file's CRS and back, in pure Rust: proj4rs (a PROJ.4 port whose transverse
//! Mercator is PROJ's exact Poder/Engsager algorithm) with PROJ.4 strings
//! for EPSG codes, computed for the common ones (WGS 84, Web Mercator, the
//! WGS 84, NAD83 and ETRS89 UTM zones) and taken from PostGIS's table
//! (crs-definitions, 6,184 codes) for the rest.
//!
//! Web Mercator is built as `+proj=webmerc +datum=WGS84`, not with the
//! `+nadgrids=@null` of PROJ's EPSG:3857 string, which would make proj4rs
//! skip the datum shift into a target on another datum.
//!
//! Pure: numbers in, numbers out. May use: `geo::geokeys`.

use proj4rs::Proj;
use proj4rs::transform::{Transform, TransformClosure};

use super::geokeys::Crs;

/// The PROJ.4 string of EPSG `code`, or `None` when we know no definition.
pub fn proj4_of_epsg(code: u32) -> Option<String> {
    let utm = |zone: u32, south: bool, datum: &str| {
        format!(
            "+proj=utm +zone={zone}{} {datum} +units=m +no_defs",
            if south { " +south" } else { "" }
        )
    };
    Some(match code {
        4326 => "+proj=longlat +datum=WGS84 +no_defs".into(),
        3857 | 900913 => "+proj=webmerc +datum=WGS84 +units=m +no_defs".into(),
        32601..=32660 => utm(code - 32600, false, "+datum=WGS84"),
        32701..=32760 => utm(code - 32700, true, "+datum=WGS84"),
        26901..=26923 => utm(code - 26900, false, "+datum=NAD83"),
        25828..=25838 => utm(code - 25800, false, "+ellps=GRS80 +towgs84=0,0,0,0,0,0,0"),
        _ => {
            let def = crs_definitions::from_code(u16::try_from(code).ok()?)?;
            // Without NAD27's grids proj4rs refuses the datum; GDAL without
            // grids falls back to a Helmert shift (NAD27 to WGS 84 (4)),
            // within 2 m of this one.
            def.proj4.replace("+datum=NAD27", "+ellps=clrk66 +towgs84=-8,160,176")
        }
    })
}

/// Points that fail to project become NaN; NaN points are skipped.
struct NanOnError<'a> {
    xs: &'a mut [f64],
    ys: &'a mut [f64],
}

impl Transform for NanOnError<'_> {
    fn transform_coordinates<F: TransformClosure>(&mut self, f: &mut F) -> proj4rs::errors::Result<()> {
        for (x, y) in self.xs.iter_mut().zip(self.ys.iter_mut()) {
            if x.is_nan() || y.is_nan() {
                continue;
            }
            match f(*x, *y, 0.0) {
                Ok((a, b, _)) => (*x, *y) = (a, b),
                Err(_) => (*x, *y) = (f64::NAN, f64::NAN),
            }
        }
        Ok(())
    }
}

/// Points of a CRS named by its EPSG code (Web Mercator for web maps,
/// WGS 84 for longitudes and latitudes) → a file's CRS, and back.
#[derive(Debug, Clone)]
pub struct CrsTransform {
    /// `None` when both sides are the same CRS (no transform).
    pair: Option<(Proj, Proj)>,
    from_latlong: bool,
    to_latlong: bool,
}

/// The transform web-map tiles use: Web Mercator → a file's CRS.
pub type FromWebMercator = CrsTransform;

fn proj_of(code: u32) -> Result<Proj, String> {
    // Web Mercator without `+nadgrids=@null` (see the top of this file).
    let def = proj4_of_epsg(code).ok_or_else(|| format!("no definition of EPSG:{code}"))?;
    Proj::from_proj_string(&def).map_err(|e| format!("EPSG:{code} ({def}): {e}"))
}

impl CrsTransform {
    /// Web Mercator (EPSG:3857) → `crs`.
    pub fn web_mercator_to(crs: &Crs) -> Result<CrsTransform, String> {
        CrsTransform::new(3857, crs)
    }

    /// EPSG `from` → `crs`; an error says why there is none (no EPSG code,
    /// a code we have no definition for, a definition proj4rs cannot build).
    pub fn new(from: u32, crs: &Crs) -> Result<CrsTransform, String> {
        let code = crs.epsg.ok_or_else(|| {
            format!(
                "reprojecting into a CRS without an EPSG code ({})",
                crs.to_string_short()
            )
        })?;
        let same = |c: u32| if c == 900913 { 3857 } else { c };
        if same(code) == same(from) {
            return Ok(CrsTransform {
                pair: None,
                from_latlong: false,
                to_latlong: false,
            });
        }
        let (src, dst) = (proj_of(from)?, proj_of(code)?);
        Ok(CrsTransform {
            from_latlong: src.is_latlong(),
            to_latlong: dst.is_latlong(),
            pair: Some((src, dst)),
        })
    }

    /// The other way: points of the file's CRS (degrees for geographic
    /// CRSs) into the source CRS, in place; failures become NaN.
    pub fn inverse(&self, xs: &mut [f64], ys: &mut [f64]) {
        let Some((from, file)) = &self.pair else {
            return;
        };
        run(file, from, self.to_latlong, self.from_latlong, xs, ys);
    }

    /// Transforms the points (`xs[i]`, `ys[i]`) in place, into the CRS's
    /// own units (degrees for geographic CRSs); a point that cannot be
    /// projected becomes NaN.
    pub fn transform(&self, xs: &mut [f64], ys: &mut [f64]) {
        let Some((from, file)) = &self.pair else {
            return;
        };
        run(from, file, self.from_latlong, self.to_latlong, xs, ys);
    }
}

/// One proj4rs transform in place, in degrees where a side is geographic.
fn run(src: &Proj, dst: &Proj, src_deg: bool, dst_deg: bool, xs: &mut [f64], ys: &mut [f64]) {
    if src_deg {
        for v in xs.iter_mut().chain(ys.iter_mut()) {
            *v = v.to_radians();
        }
    }
    let mut pts = NanOnError { xs, ys };
    if proj4rs::transform::transform(src, dst, &mut pts).is_err() {
        pts.xs.fill(f64::NAN);
        pts.ys.fill(f64::NAN);
        return;
    }
    if dst_deg {
        for v in pts.xs.iter_mut().chain(pts.ys.iter_mut()) {
            *v = v.to_degrees();
        }
    }
}
