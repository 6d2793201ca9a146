//! Where a COG sits on a web map, as rio-tiler reports it for TileJSON:
//! its bounds in longitude and latitude (rasterio's `transform_bounds`
//! with 21 points along each edge) and the zoom range of its
//! GoogleMapsCompatible tiles (`minzoom` from the coarsest overview a
//! 256-pixel tile would need, `maxzoom` from the native resolution, both
//! through morecantile's `zoom_for_res`); and points given in longitude
//! and latitude.
//!
//! May use: `reader`, `geo`, `error`.

use crate::error::{Error, Result};
use crate::geo::{Bounds, CrsTransform};
use crate::reader::CogReader;

/// Points along each edge between corners, as rasterio's densify_pts.
const DENSIFY: usize = 21;
/// GoogleMapsCompatible's zoom-0 pixel size in metres.
const ZOOM0_RES: f64 = 2.0 * std::f64::consts::PI * 6_378_137.0 / 256.0;
/// morecantile's deepest WebMercatorQuad matrix.
const MAX_ZOOM: u8 = 24;

/// The corners and `DENSIFY` points along each edge of `b`.
fn edge_points(b: &Bounds) -> (Vec<f64>, Vec<f64>) {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    let steps = DENSIFY + 1;
    for i in 0..=steps {
        let t = i as f64 / steps as f64;
        let x = b.minx + (b.maxx - b.minx) * t;
        let y = b.miny + (b.maxy - b.miny) * t;
        for (px, py) in [(x, b.miny), (x, b.maxy), (b.minx, y), (b.maxx, y)] {
            xs.push(px);
            ys.push(py);
        }
    }
    (xs, ys)
}

/// The bounding box of the finite points; `None` if there are none.
fn envelope(xs: &[f64], ys: &[f64]) -> Option<Bounds> {
    let mut b = Bounds {
        minx: f64::INFINITY,
        miny: f64::INFINITY,
        maxx: f64::NEG_INFINITY,
        maxy: f64::NEG_INFINITY,
    };
    for (&x, &y) in xs.iter().zip(ys) {
        if x.is_finite() && y.is_finite() {
            b.minx = b.minx.min(x);
            b.maxx = b.maxx.max(x);
            b.miny = b.miny.min(y);
            b.maxy = b.maxy.max(y);
        }
    }
    (b.minx <= b.maxx && b.miny <= b.maxy).then_some(b)
}

/// morecantile's `zoom_for_res` ("auto"): the zoom whose pixel size is
/// nearest `res` on a log scale, never finer than needed.
fn zoom_for_res(res: f64) -> u8 {
    let matrix_res = |z: u8| ZOOM0_RES / 2f64.powi(i32::from(z));
    let close = |a: f64, b: f64| ((a - b) / b).abs() <= 1e-8;
    let mut z = 0;
    while z < MAX_ZOOM && !(res > matrix_res(z) || close(res, matrix_res(z))) {
        z += 1;
    }
    if z > 0 && !close(res, matrix_res(z)) && matrix_res(z - 1) / res < res / matrix_res(z) {
        z -= 1;
    }
    z
}

impl CogReader {
    /// EPSG `epsg` → the file's CRS; an error when the file has none or it
    /// cannot be reprojected.
    pub(super) fn to_crs(&self, epsg: u32) -> Result<CrsTransform> {
        let crs = self.profile().crs.as_ref().ok_or_else(|| Error::InvalidRequest {
            message: format!("{} has no CRS: it cannot be placed on a map", self.url()),
        })?;
        CrsTransform::new(epsg, crs).map_err(|message| Error::InvalidRequest { message })
    }

    /// The image's bounds in another CRS (`epsg`; 4326 gives longitudes
    /// and latitudes), through 21 points along each edge as rasterio's
    /// `transform_bounds` takes them.
    pub fn bounds_in(&self, epsg: u32) -> Result<Bounds> {
        let t = self.to_crs(epsg)?;
        let (mut xs, mut ys) = edge_points(&self.profile().bounds);
        t.inverse(&mut xs, &mut ys);
        envelope(&xs, &ys).ok_or_else(|| Error::InvalidRequest {
            message: format!("the bounds of {} do not project into EPSG:{epsg}", self.url()),
        })
    }

    /// The file's pixel size in the CRS `t` comes from (Web Mercator for
    /// web maps), as GDALSuggestedWarpOutput2 first estimates it: the
    /// transformed image diagonal over its diagonal in pixels. NaN when the
    /// corners do not project.
    pub(super) fn native_resolution(&self, t: &CrsTransform) -> f64 {
        let p = self.profile();
        let (w, h) = (p.width as f64, p.height as f64);
        let (x0, y0) = p.transform.apply(0.0, 0.0);
        let (x1, y1) = p.transform.apply(w, h);
        let (mut xs, mut ys) = ([x0, x1], [y0, y1]);
        t.inverse(&mut xs, &mut ys);
        (xs[1] - xs[0]).hypot(ys[1] - ys[0]) / w.hypot(h)
    }

    /// [`CogReader::point`] for a point given in EPSG `epsg` (4326:
    /// longitude, latitude), taken into the file's CRS first, as
    /// rio-tiler's `Reader.point(lon, lat, coord_crs=...)`.
    pub async fn point_in(&self, x: f64, y: f64, epsg: u32) -> Result<crate::request::Raster> {
        let (mut xs, mut ys) = ([x], [y]);
        self.to_crs(epsg)?.transform(&mut xs, &mut ys);
        self.point(xs[0], ys[0]).await
    }

    /// The GoogleMapsCompatible zoom range `(minzoom, maxzoom)` rio-tiler
    /// gives this file: `maxzoom` matches the native pixel size in Web
    /// Mercator (GDAL's suggested warp output: the transformed diagonal
    /// over the pixel diagonal), `minzoom` the coarsest overview a
    /// 256-pixel tile of that warped image would have.
    pub fn web_map_zooms(&self) -> Result<(u8, u8)> {
        let p = self.profile();
        let t = self.to_crs(3857)?;
        let res = self.native_resolution(&t);
        let (mut ex, mut ey) = edge_points(&p.bounds);
        t.inverse(&mut ex, &mut ey);
        let extent = envelope(&ex, &ey);
        let (Some(e), true) = (extent, res.is_finite() && res > 0.0) else {
            return Err(Error::InvalidRequest {
                message: format!("{} does not project into Web Mercator", self.url()),
            });
        };
        let width = ((e.maxx - e.minx) / res + 0.5).floor();
        let height = ((e.maxy - e.miny) / res + 0.5).floor();
        // rio-tiler's get_maximum_overview_level(width, height, 256).
        let mut factor = 1.0;
        let mut level = 0;
        while level < 64 && (width / factor).floor().min((height / factor).floor()) > 256.0 {
            factor *= 2.0;
            level += 1;
        }
        Ok((zoom_for_res(res * factor), zoom_for_res(res)))
    }
}

#[cfg(test)]
mod tests {
    use super::zoom_for_res;

    /// morecantile's zoom_for_res on GoogleMapsCompatible: exact matrix
    /// resolutions give their zoom, values between pick the nearer on a
    /// log scale (morecantile 7.1: 10 m → 14, 20 m → 13, 18 m → 13, 14 m → 13,
    /// 30 m → 12, 1e6 m → 0, 1 mm → 24, its deepest).
    #[test]
    fn zoom_for_res_matches_morecantile() {
        assert_eq!(zoom_for_res(156_543.033_928_041), 0);
        assert_eq!(zoom_for_res(1e6), 0);
        assert_eq!(zoom_for_res(10.0), 14);
        assert_eq!(zoom_for_res(20.0), 13);
        // Between matrices: the nearer one on a log scale.
        assert_eq!(zoom_for_res(18.0), 13);
        assert_eq!(zoom_for_res(14.0), 13);
        assert_eq!(zoom_for_res(30.0), 12);
        assert_eq!(zoom_for_res(0.001), 24);
    }
}
